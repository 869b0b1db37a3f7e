"""GET /openapi.json truly describes every route; health and /dev/sms (docs/design.md §6, §9)."""

from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from tests.integration.helpers import (
    ACTIVE_ID,
    ACTIVE_PHONE,
    SECOND_PHONE,
    assert_problem,
    media_type,
    request_code,
)
from tests.support import Api, sent_sms

REF = "#/components/schemas/"
JSON_MEDIA = ("application/json",)
PAGES = {"/", "/console", "/dashboard", "/scorecard", "/dev/inbox"}


def _resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].removeprefix(REF)]
    return schema


def _assert_problems_documented(doc: dict, status: int, response: dict) -> None:
    """Each error status names its problem codes, each a closed schema with its extras."""
    schema = response["content"]["application/problem+json"]["schema"]
    refs = [schema["$ref"]] if "$ref" in schema else [s["$ref"] for s in schema["oneOf"]]
    if "oneOf" in schema:
        assert schema["discriminator"]["propertyName"] == "code"
        assert sorted(schema["discriminator"]["mapping"].values()) == sorted(refs)
    for ref in refs:
        problem = _resolve(doc, {"$ref": ref})
        assert problem["properties"]["status"]["const"] == status, (ref, status)
        code = problem["properties"]["code"]["const"]
        assert f"`{code}`" in response["description"], (code, response["description"])
        assert problem["additionalProperties"] is False


def _assert_success_documented(doc: dict, path: str, response: dict) -> None:
    """A JSON success body is a named, closed resource; a page is text/html."""
    content = response.get("content")
    if content is None:
        return  # 204
    if path in PAGES:
        assert list(content) == ["text/html"], (path, content)
        return
    if "application/json" not in content:
        assert all(media.startswith("text/") for media in content), (path, content)
        return
    ref = content["application/json"]["schema"].get("$ref", "")
    assert ref.startswith(REF), (path, "a JSON success body needs a named schema")
    schema = _resolve(doc, {"$ref": ref})
    if ref != REF + "OpenAPI":
        assert schema["type"] == "object" and schema["additionalProperties"] is False, ref


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
                    _assert_problems_documented(doc, int(status), response)
                else:
                    _assert_success_documented(doc, path, response)
            if op.get("security"):
                for requirement in op["security"]:
                    for scheme in requirement:
                        assert scheme in doc["components"]["securitySchemes"], scheme
                assert "401" in op["responses"], (path, method)
    assert len(operation_ids) == len(set(operation_ids)), operation_ids
    problem = doc["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code"}
    for name, schema in doc["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)  # each a valid JSON Schema
        if name.startswith("Problem") and name != "Problem":
            assert schema["additionalProperties"] is False, name

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


# -- the document is built from the code's own data ------------------------------------------
def _doc(client) -> dict:
    r = Api(client).call("GET", "/openapi.json")
    assert r.status_code == 200, r.body
    return r.data


def _body_schema(doc: dict, path: str, method: str = "post") -> dict:
    return doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]


def test_closed_sets_are_enums_from_the_workflow_and_the_directory(client):
    from chalicelib.domain.actors import KEY_ROLES
    from chalicelib.domain.directory import load_directory
    from chalicelib.domain.intake import REASONS
    from chalicelib.domain.workflow import load_workflow

    doc = _doc(client)
    schemas = doc["components"]["schemas"]
    workflow, directory = load_workflow(), load_directory()
    mine = {
        role: sorted(a.name for a in workflow.actions.values() if a.actor == role)
        for role in ("user", "liaison", "operator")
    }
    for path, role in (
        ("/v1/cases/{case_id}/actions", "user"),
        ("/v1/liaison/cases/{case_id}/transitions", "liaison"),
        ("/v1/admin/cases/{case_id}/transitions", "operator"),
    ):
        assert sorted(_body_schema(doc, path)["properties"]["action"]["enum"]) == mine[role]
    batch_item = _body_schema(doc, "/v1/liaison/cases:batch")["properties"]["items"]["items"]
    assert sorted(batch_item["properties"]["action"]["enum"]) == mine["liaison"]
    case = schemas["LiaisonCase"]["properties"]
    assert case["state"]["enum"] == list(workflow.states)
    assert sorted(case["allowed_actions"]["items"]["enum"]) == mine["liaison"]
    assert case["company"]["enum"] == list(directory.entries)
    assert case["reason"]["enum"] == list(REASONS)
    history = schemas["StaffHistoryEntry"]["properties"]
    assert set(history["action"]["enum"]) == {*workflow.actions, "file", "rerouted_in"}
    dispute = _body_schema(doc, "/v1/disputes")
    assert dispute["then"]["properties"]["items"]["items"]["properties"]["company"]["enum"] == (
        directory.carriers()
    )
    assert dispute["else"]["properties"]["items"]["items"]["properties"]["company"]["enum"] == (
        directory.companies()
    )
    key = _body_schema(doc, "/v1/admin/liaison-keys")
    assert key["properties"]["role"]["enum"] == list(KEY_ROLES)
    assert schemas["IssuedKey"]["properties"]["role"]["enum"] == list(KEY_ROLES)


def test_query_parameters_are_typed(client):
    doc = _doc(client)
    params = {p["name"]: p for p in doc["paths"]["/v1/liaison/cases"]["get"]["parameters"]}
    assert params["limit"]["schema"]["type"] == "integer"
    assert (params["limit"]["schema"]["minimum"], params["limit"]["schema"]["maximum"]) == (1, 100)
    assert params["overdue"]["schema"] == {"type": "boolean"}
    assert params["state"]["schema"]["enum"]
    assert params["action_on"]["schema"]["enum"]
    cells = {p["name"]: p for p in doc["paths"]["/v1/admin/hotspots/cases"]["get"]["parameters"]}
    assert all(cells[name]["required"] for name in ("week", "region", "company"))


def test_response_headers_and_problem_extras_are_documented(client):
    doc = _doc(client)
    paths = doc["paths"]
    filing = paths["/v1/disputes"]["post"]["responses"]
    assert {"Location", "Idempotent-Replayed"} <= set(filing["201"]["headers"])
    transition = paths["/v1/liaison/cases/{case_id}/transitions"]["post"]["responses"]
    assert "ETag" in transition["200"]["headers"]
    assert "Retry-After" in transition["409"]["headers"]  # request_in_flight
    assert "Retry-After" in transition["503"]["headers"]
    assert "Retry-After" in paths["/v1/verification-codes"]["post"]["responses"]["429"]["headers"]
    assert "X-Next-Cursor" in paths["/v1/admin/cases.csv"]["get"]["responses"]["200"]["headers"]
    schemas = doc["components"]["schemas"]
    for name, extra in (
        ("ProblemPreconditionFailed", "current_version"),
        ("ProblemCaseAlreadyOpen", "existing_case_id"),
        ("ProblemVerificationFailed", "attempts_left"),
        ("ProblemDisputeNotSettled", "open_case_ids"),
        ("ProblemInvalidTransition", "state"),
        ("ProblemValidationFailed", "errors"),
    ):
        assert extra in schemas[name]["properties"], name
    if_match = {p["name"]: p for p in paths["/v1/cases/{case_id}/actions"]["post"]["parameters"]}[
        "If-Match"
    ]
    assert if_match["schema"]["pattern"].startswith("^")


def test_dev_routes_are_documented_only_in_stage_local(client, world):
    from chalice.test import Client

    from app import app

    assert {p for p in _doc(client)["paths"] if p.startswith("/dev/")} == {
        "/dev/sms",
        "/dev/inbox",
        "/dev/webhooks/{company}",
    }
    with Client(app, stage_name="dev") as dev:
        r = Api(dev).call("GET", "/openapi.json")
    assert r.status_code == 200, r.body
    assert not [p for p in r.data["paths"] if p.startswith("/dev/")]


def test_every_pattern_is_anchored(client):
    doc = _doc(client)
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                found.append(node["pattern"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    assert found
    for pattern in found:
        assert pattern.startswith("^") and pattern.endswith("$"), pattern


# -- the hook on the test client holds every response to the document ------------------------
def test_a_response_field_the_schema_lacks_fails_the_hook(client, world, monkeypatch):
    from chalicelib.services import disputes
    from tests.integration.helpers import ACTIVE_ID

    api = Api(client)
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    assert api.call("GET", "/v1/disputes", token=token).status_code == 200

    real = disputes.list_disputes
    monkeypatch.setattr(
        disputes, "list_disputes", lambda actor: {**real(actor), "surprise": "a new field"}
    )
    with pytest.raises(AssertionError, match=r"(?s)GET /v1/disputes → 200.*surprise"):
        api.call("GET", "/v1/disputes", token=token)

    # A renamed field fails as well: the schema's required one is missing.
    monkeypatch.setattr(disputes, "list_disputes", lambda actor: {"disputes": []})
    with pytest.raises(AssertionError, match="items"):
        api.call("GET", "/v1/disputes", token=token)


def test_an_undocumented_status_or_media_type_fails_the_hook():
    from tests.integration.helpers import CONTRACT

    json_type = {"Content-Type": "application/json"}
    CONTRACT.check("local", "GET", "/v1/healthz", 200, json_type, b'{"status": "ok"}')
    with pytest.raises(AssertionError, match=r"not in /openapi\.json"):
        CONTRACT.check("local", "GET", "/v1/healthz", 418, json_type, b"{}")
    with pytest.raises(AssertionError, match="not documented"):
        CONTRACT.check("local", "GET", "/v1/healthz", 200, {"Content-Type": "text/html"}, b"<p>")
    with pytest.raises(AssertionError, match="does not match"):
        CONTRACT.check("local", "GET", "/v1/healthz", 200, json_type, b'{"status": "ko"}')


# -- what the schema accepts, the API accepts, and the reverse ---------------------------------
def _accepts(doc: dict, path: str, body: dict) -> bool:
    root = {
        **doc,
        "$ref": "#/paths/" + path.replace("/", "~1") + "/post/requestBody/content/"
        "application~1json/schema",
    }
    return Draft202012Validator(root).is_valid(body)


def test_empty_strings_the_api_refuses_are_invalid_by_the_schema(client, frozen_clock):
    from chalicelib.services import keys
    from tests.integration.helpers import ACTIVE_ID, item

    api = Api(client, frozen_clock)
    doc = _doc(client)
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    operator = keys.issue("operator", None, "openapi")["key"]

    refused = [
        ("/v1/verification-codes", {"phone": ""}, None, "validation_failed"),
        ("/v1/disputes", {"items": [item("")]}, token, "validation_failed"),
        ("/v1/admin/liaison-keys", {"company": ""}, operator, "validation_failed"),
        ("/v1/cases/{case_id}/actions", {"action": ""}, token, "unknown_action"),
    ]
    for path, body, caller, code in refused:
        assert not _accepts(doc, path, body), (path, body)
        r = api.call("POST", path.replace("{case_id}", "C000000000"), body, token=caller)
        assert_problem(r, 422, code)
    for path, body in (
        ("/v1/verification-codes", {"phone": "+86 138 0013 8000"}),
        ("/v1/disputes", {"items": [item("tencent")]}),
        ("/v1/disputes", {"kind": "sim_cards", "items": [item("china_mobile")]}),
        ("/v1/admin/liaison-keys", {"company": "jd"}),
        ("/v1/admin/liaison-keys", {"company": None, "role": "operator"}),
    ):
        assert _accepts(doc, path, body), (path, body)
    assert not _accepts(doc, "/v1/disputes", {"kind": "sim_cards", "items": [item("tencent")]})
    assert not _accepts(doc, "/v1/admin/liaison-keys", {"company": "jd", "role": "operator"})


def test_query_values_are_held_to_their_schemas_empty_ones_too(client):
    from chalicelib.services import keys

    api = Api(client)
    doc = _doc(client)
    schemas = {
        p["name"]: p["schema"] for p in doc["paths"]["/v1/liaison/cases"]["get"]["parameters"]
    }
    liaison = keys.issue("liaison", "tencent", "openapi")["key"]
    for query in ("limit=5&overdue=true&state=submitted", "cursor=", "action_on=company"):
        r = api.call("GET", f"/v1/liaison/cases?{query}", token=liaison)
        assert r.status_code == 200, (query, r.body)
    for query, field, value in (
        ("limit=", "limit", ""),
        ("limit=0", "limit", 0),
        ("limit=101", "limit", 101),
        ("limit=x", "limit", "x"),
        ("overdue=", "overdue", ""),
        ("overdue=yes", "overdue", "yes"),
        ("state=", "state", ""),
        ("state=nope", "state", "nope"),
    ):
        assert not Draft202012Validator(schemas[field]).is_valid(value), (field, value)
        r = api.call("GET", f"/v1/liaison/cases?{query}", token=liaison)
        assert_problem(r, 422, "validation_failed", field=field)


def test_if_match_compares_strongly(client, frozen_clock):
    """RFC 9110 §13.1.1: If-Match uses the strong comparison, so a weak tag never matches."""
    from chalicelib.services import keys
    from tests.integration.helpers import ACTIVE_ID, item

    api = Api(client, frozen_clock)
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    liaison = keys.issue("liaison", "tencent", "openapi")["key"]
    r = api.call("POST", "/v1/disputes", {"items": [item("tencent")]}, token=token)
    assert r.status_code == 201, r.body
    case_id = r.data["cases"][0]["case_id"]
    path = f"/v1/liaison/cases/{case_id}/transitions"

    for weak in ('W/"1"', ' W/"1" '):
        r = api.call(
            "POST", path, {"action": "acknowledge"}, token=liaison, headers={"If-Match": weak}
        )
        body = assert_problem(r, 412, "precondition_failed")
        assert body["current_version"] == 1, body
    r = api.call(
        "POST", path, {"action": "acknowledge"}, token=liaison, headers={"If-Match": '"1"'}
    )
    assert r.status_code == 200 and r.data["version"] == 2, r.body


@pytest.mark.parametrize("kind", ["accounts", "sim_cards"])
def test_every_directory_entrys_next_steps_fit_the_schema(client, frozen_clock, kind):
    """A filing shows each company's or carrier's steps from the directory (nulls where a fact
    is unknown): one filing naming every entry of the kind, held to the schema by the hook.
    Found by the fuzzer: a carrier whose renewal timing is unknown answered a null the
    schema did not allow."""
    from chalicelib.domain.directory import load_directory

    api = Api(client, frozen_clock)
    token = api.sign_in(ACTIVE_PHONE, ACTIVE_ID)
    keys = load_directory().keys_for_kind(kind)
    body = {
        "kind": kind,
        "items": [
            {"company": k, "reported_count": 3, "expected_count": 1, "reason": "recycled_number"}
            for k in keys
        ],
    }
    r = api.call("POST", "/v1/disputes", body, token=token)
    assert r.status_code == 201, r.body
    assert sorted(c["company"] for c in r.data["cases"]) == sorted(keys)
