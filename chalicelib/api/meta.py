"""Health and the OpenAPI description built from the routes that really exist: each route's
registration (api/http.py `route`) carries its body, parameters, success schema
(api/resources.py), response headers and problem codes, so the document is the real list."""

from __future__ import annotations

import re
from typing import Any

from chalice import Blueprint

from chalicelib import config
from chalicelib.api import resources
from chalicelib.api.http import REGISTRY, ApiRequest, Endpoint, route

bp = Blueprint(__name__)

Schema = dict[str, Any]

# Request headers routes read, with the schema the services hold them to.
REQUEST_HEADERS: dict[str, Schema] = {
    "If-Match": {
        "type": "string",
        # The services' parse (services/cases.py parse_if_match): a bare version is read as
        # its quoted form; a weak tag is well-formed but never matches (412).
        "pattern": '^(\\*|(W/)?"[0-9]{1,9}"|[0-9]{1,9})$',
        "description": 'The ETag the change is based on ("3"), or *; compared strongly: a weak '
        'tag (W/"3") never matches (412)',
    },
    "Idempotency-Key": {
        "type": "string",
        "minLength": 1,
        "maxLength": 128,
        "pattern": "^[ -~]*[!-~][ -~]*$",
        "description": "1-128 printable ASCII characters: a retry with the same key and body "
        "gets the first answer again for 24 h",
    },
}
MEDIA_SCHEMAS: dict[str, Schema] = {
    "text/html": {"type": "string", "description": "A zh-CN page"},
    "text/csv": {"type": "string", "description": "UTF-8 CSV with a header row"},
    "text/css": {"type": "string"},
    "text/javascript": {"type": "string"},
}


def openapi_document(stage: str | None = None) -> dict:
    """The document for one stage: a route registered for another stage is left out."""
    return _document(stage)


def _document(stage: str | None) -> dict:
    paths: dict = {}
    for ep in REGISTRY:
        if ep.stage is not None and ep.stage != stage:
            continue
        paths.setdefault(ep.path, {})[ep.method.lower()] = _operation(ep)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "recount",
            "version": "1.0.0",
            "description": "Dispute workflow for One-ID (一证通查) account counts",
        },
        "paths": paths,
        "components": {
            "schemas": {**resources.problem_components(), **resources.components()},
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


def _operation(ep: Endpoint) -> dict:
    op: dict = {
        "summary": ep.summary,
        "operationId": _operation_id(ep.method, ep.path),
        "tags": [ep.tag],
        "responses": {str(s): _success(ep, s) for s in (ep.status, *ep.also)},
    }
    params: list[dict] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _path_params(ep.path)
    ]
    for name, param in ep.query.items():
        spec: dict = {"name": name, "in": "query", "schema": param.resolved()}
        if param.required:
            spec["required"] = True
        if param.description:
            spec["description"] = param.description
        params.append(spec)
    params += [{"name": h, "in": "header", "schema": REQUEST_HEADERS[h]} for h in ep.headers]
    if params:
        op["parameters"] = params
    if ep.auth:
        op["security"] = [{ep.auth: []}]
    if ep.body_schema is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ep.body_schema}},
        }
    by_status: dict[int, list[str]] = {}
    for code in ep.problems:
        by_status.setdefault(resources.PROBLEMS[code].status, []).append(code)
    for status, codes in sorted(by_status.items()):
        op["responses"][str(status)] = _problem_response(tuple(codes))
    return op


def _success(ep: Endpoint, status: int) -> dict:
    out: dict = {"description": "Success" if status != 204 else "Done; no body"}
    if ep.response_headers:
        out["headers"] = {h: resources.response_header(h) for h in ep.response_headers}
    if status == 204:
        return out
    if ep.media == ("application/json",):
        schema = ep.response.ref if ep.response is not None else {}
        out["content"] = {"application/json": {"schema": schema}}
    else:
        out["content"] = {m: {"schema": MEDIA_SCHEMAS[m]} for m in ep.media}
    return out


def _problem_response(codes: tuple[str, ...]) -> dict:
    kinds = [(code, resources.PROBLEMS[code]) for code in codes]
    lines = [
        f"- `{code}`: {kind.when}"
        + (f" (adds {', '.join(n for n, _ in kind.extra)})" if kind.extra else "")
        for code, kind in kinds
    ]
    out: dict = {
        "description": "Problem (RFC 9457):\n" + "\n".join(lines),
        "content": {"application/problem+json": {"schema": resources.problem_schema(codes)}},
    }
    headers = sorted({h for _, kind in kinds for h in kind.headers})
    if headers:
        out["headers"] = {h: resources.response_header(h) for h in headers}
    return out


def _operation_id(method: str, path: str) -> str:
    # A Python identifier for generated clients: cases:batch → cases_batch
    words = [re.sub(r"[^0-9A-Za-z_]", "_", p.strip("{}")) for p in path.split("/") if p]
    return "_".join([method.lower(), *words])


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


@route(
    bp,
    "/v1/healthz",
    "GET",
    summary="Liveness",
    tag="meta",
    response=resources.HEALTH,
    aws=False,
)
def healthz(req: ApiRequest):
    return {"status": "ok"}


@route(
    bp,
    "/openapi.json",
    "GET",
    summary="This API's OpenAPI 3.1 description",
    tag="meta",
    response=resources.OPENAPI,
    aws=False,
)
def openapi(req: ApiRequest):
    return openapi_document(config.settings().stage)
