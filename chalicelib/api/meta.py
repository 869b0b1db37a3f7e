"""Health and the OpenAPI description built from the routes that really exist."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.http import REGISTRY, ApiRequest, route

bp = Blueprint(__name__)

PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


def _openapi_schema(schema: dict) -> dict:
    """Our schema subset is JSON Schema; OpenAPI 3.1 takes it as is."""
    return schema


def openapi_document() -> dict:
    paths: dict = {}
    for ep in REGISTRY:
        op: dict = {
            "summary": ep.summary,
            "operationId": _operation_id(ep.method, ep.path),
            "tags": [ep.tag],
            "responses": {str(ep.status): {"description": "Success"}},
        }
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _path_params(ep.path)
        ]
        params += [{"name": q, "in": "query", "schema": {"type": "string"}} for q in ep.query]
        params += [{"name": h, "in": "header", "schema": {"type": "string"}} for h in ep.headers]
        if params:
            op["parameters"] = params
        if ep.auth:
            op["security"] = [{ep.auth: []}]
        if ep.body is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _openapi_schema(ep.body)}},
            }
        for status in ep.errors:
            op["responses"][str(status)] = {
                "description": "Problem",
                "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            }
        paths.setdefault(ep.path, {})[ep.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "recount",
            "version": "1.0.0",
            "description": "Dispute workflow for One-ID (一证通查) account counts",
        },
        "paths": paths,
        "components": {
            "schemas": {"Problem": PROBLEM_SCHEMA},
            "securitySchemes": {
                "person": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Session token from POST /v1/sessions",
                },
                "liaison": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A company liaison's API key",
                },
                "operator": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An operator's API key",
                },
            },
        },
    }


def _operation_id(method: str, path: str) -> str:
    words = [p.strip("{}").replace("-", "_").replace(".", "_") for p in path.split("/") if p]
    return "_".join([method.lower(), *words])


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


@route(bp, "/v1/healthz", "GET", summary="Liveness", tag="meta")
def healthz(req: ApiRequest):
    return {"status": "ok"}


@route(bp, "/openapi.json", "GET", summary="This API's OpenAPI 3.1 description", tag="meta")
def openapi(req: ApiRequest):
    return openapi_document()
