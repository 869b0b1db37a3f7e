"""GET /openapi.json truly describes every route; health and /dev/sms (docs/design.md §6, §9)."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from tests.integration.helpers import (
    ACTIVE_PHONE,
    SECOND_PHONE,
    assert_problem,
    media_type,
    request_code,
)
from tests.support import Api, sent_sms

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _app_routes() -> set[tuple[str, str]]:
    from app import app

    return {(path, method.lower()) for path, methods in app.routes.items() for method in methods}


# Commands on a resource that take no body (their path says it all), and the demo receiver,
# which takes a webhook's raw body to verify its signature over the exact bytes.
BODILESS_POSTS = {
    ("/v1/liaison/webhook/rotate-secret", "post"),
    ("/v1/liaison/webhook/test", "post"),
    ("/v1/liaison/webhook/deliveries/{delivery_id}/resend", "post"),
    ("/v1/admin/webhooks/{company}/disable", "post"),
    ("/dev/webhooks/{company}", "post"),
}


def test_openapi_describes_exactly_the_routes_that_exist(client):
    api = Api(client)
    r = api.call("GET", "/openapi.json")
    assert r.status_code == 200, r.body
    assert media_type(r) == "application/json"
    doc = r.data
    validate(doc)  # a valid OpenAPI document by the 3.1 schema
    assert doc["openapi"].startswith("3.1")
    assert doc["info"]["title"] and doc["info"]["version"]

    documented = {
        (path, method)
        for path, ops in doc["paths"].items()
        for method in ops
        if method in HTTP_METHODS
    }
    routes = _app_routes()
    # Blueprint routes are included in app.routes, and the ones the spec names are there.
    for expected in (
        ("/v1/healthz", "get"),
        ("/openapi.json", "get"),
        ("/v1/verification-codes", "post"),
        ("/v1/sessions", "post"),
        ("/v1/disputes", "post"),
        ("/v1/disputes", "get"),
        ("/v1/disputes/{dispute_id}", "get"),
    ):
        assert expected in routes, expected
    assert routes - documented == set(), "routes missing from /openapi.json"
    assert documented - routes == set(), "documented paths that are not routes"

    operation_ids = []
    for path, ops in doc["paths"].items():
        params_in_path = set(re.findall(r"{([^}]+)}", path))
        for method, op in ops.items():
            if method not in HTTP_METHODS:
                continue
            operation_ids.append(op["operationId"])
            assert op.get("responses"), (path, method)
            assert any(code.startswith("2") for code in op["responses"]), (path, method)
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == params_in_path, (path, method, declared)
            if method == "post" and (path, method) not in BODILESS_POSTS:
                body = op.get("requestBody")
                assert body and body.get("required") is True, (path, method)
                schema = body["content"]["application/json"]["schema"]
                assert schema["type"] == "object" and schema["properties"], (path, schema)
                assert schema.get("additionalProperties") is False, (path, schema)
                # Every body route documents its body problems.
                for status in ("400", "413", "415", "422"):
                    assert status in op["responses"], (path, status)
            for status, response in op["responses"].items():
                if int(status) >= 400:
                    content = response["content"]["application/problem+json"]
                    assert content["schema"]["$ref"] == "#/components/schemas/Problem"
            if op.get("security"):
                for requirement in op["security"]:
                    for scheme in requirement:
                        assert scheme in doc["components"]["securitySchemes"], scheme
                assert "401" in op["responses"], (path, method)
    assert len(operation_ids) == len(set(operation_ids)), operation_ids
    problem = doc["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code"}

    # The person's routes are guarded, the public ones are not.
    assert doc["paths"]["/v1/disputes"]["post"]["security"] == [{"person": []}]
    assert "security" not in doc["paths"]["/v1/verification-codes"]["post"]
    assert "Idempotency-Key" in {
        p["name"] for p in doc["paths"]["/v1/disputes"]["post"].get("parameters", [])
    }


def test_healthz(client):
    r = Api(client).call("GET", "/v1/healthz")
    assert r.status_code == 200
    assert r.data == {"status": "ok"}
    assert media_type(r) == "application/json"


def test_dev_sms_shows_what_was_sent_in_the_local_stage(client, frozen_clock):
    api = Api(client, frozen_clock)
    code = request_code(api, ACTIVE_PHONE)
    r = api.call("GET", f"/dev/sms?phone={ACTIVE_PHONE}")
    assert r.status_code == 200, r.body
    assert r.data["phone"] == "138****8000"
    messages = r.data["messages"]
    assert len(messages) == 1
    assert code in messages[0]["body"]
    assert messages[0]["body"] == sent_sms()[0][1]
    assert messages[0]["message_id"]

    # Any format of the number; another number's inbox is its own.
    r = api.call("GET", "/dev/sms?phone=%2B86%20138%200013%208000")
    assert r.status_code == 200 and len(r.data["messages"]) == 1, r.body
    r = api.call("GET", f"/dev/sms?phone={SECOND_PHONE}")
    assert r.status_code == 200 and r.data["messages"] == []
    assert_problem(api.call("GET", "/dev/sms"), 422, "validation_failed", field="phone")
    assert_problem(api.call("GET", "/dev/sms?phone=12345"), 422, "validation_failed")


def test_dev_sms_is_absent_outside_the_local_stage(world):
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="dev") as dev:
        r = Api(dev).call("GET", f"/dev/sms?phone={ACTIVE_PHONE}")
    assert_problem(r, 404, "not_found")
