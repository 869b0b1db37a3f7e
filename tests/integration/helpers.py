"""Helpers the integration tests share: dispute items, problem checks, and reading every table
of the emulated DynamoDB (scans are fine in tests; the service itself never scans)."""

from __future__ import annotations

import json
import re
from typing import Any

import boto3

from tests.conftest import DEMO
from tests.support import Api, last_code, sent_sms

PROBLEM_FIELDS = ("type", "title", "status", "detail", "code")
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

ACTIVE_PHONE, ACTIVE_ID, _ = DEMO["active"]
SECOND_PHONE, SECOND_ID, _ = DEMO["second"]
UNICOM_PHONE, UNICOM_ID, _ = DEMO["unicom"]
CANCELLED_PHONE, CANCELLED_ID, _ = DEMO["cancelled"]
# Valid mainland mobiles that the registry does not know.
UNKNOWN_PHONE = "13912345678"


def item(
    company: str,
    reported: int = 3,
    expected: int = 1,
    reason: str = "not_mine",
    note: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "company": company,
        "reported_count": reported,
        "expected_count": expected,
        "reason": reason,
    }
    if note is not None:
        body["note"] = note
    return body


def header(response, name: str) -> str | None:
    for key, value in (response.headers or {}).items():
        if key.lower() == name.lower():
            return value
    return None


def media_type(response) -> str:
    return (header(response, "Content-Type") or "").split(";")[0].strip().lower()


def assert_problem(
    response, status: int, code: str | None = None, field: str | None = None
) -> dict[str, Any]:
    """An RFC 9457 problem: status, media type, the five members, errors[] on validation."""
    assert response.status_code == status, (response.status_code, response.body)
    assert media_type(response) == "application/problem+json", (
        response.headers,
        response.body,
    )
    body = json.loads(response.body)
    assert isinstance(body, dict), body
    for name in PROBLEM_FIELDS:
        assert name in body, (name, body)
    assert body["status"] == status, body
    for name in ("type", "title", "detail", "code"):
        assert isinstance(body[name], str) and body[name], (name, body)
    assert re.fullmatch(r"[a-z][a-z0-9_]*", body["code"]), body["code"]
    if code is not None:
        assert body["code"] == code, body
    if body["code"] == "validation_failed" or field is not None:
        errors = body.get("errors")
        assert isinstance(errors, list) and errors, body
        for error in errors:
            assert isinstance(error.get("field"), str), error  # "" when the key itself is ""
            assert isinstance(error.get("message"), str) and error["message"], error
    if field is not None:
        fields = [e["field"] for e in body["errors"]]
        assert field in fields, (field, fields)
    return body


def assert_retry_after(response, low: int, high: int) -> int:
    value = header(response, "Retry-After")
    assert value is not None and value.isdigit(), response.headers
    assert low <= int(value) <= high, (value, low, high)
    return int(value)


def sms_to(phone: str) -> list[str]:
    e164 = "+86" + phone[-11:]
    return [text for number, text in sent_sms() if number == e164]


def request_code(api: Api, phone: str, advance: bool = True) -> str:
    r = api.call("POST", "/v1/verification-codes", {"phone": phone})
    assert r.status_code == 202, r.body
    code = last_code(phone)
    if advance and api.clock is not None:
        api.clock.advance(seconds=61)
    return code


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def dynamodb(settings):
    return boto3.client("dynamodb", region_name=settings.region)


def scan(settings, base: str) -> list[dict[str, Any]]:
    """Every item of one table (by its base name), in wire format."""
    ddb = dynamodb(settings)
    items: list[dict[str, Any]] = []
    for page in ddb.get_paginator("scan").paginate(
        TableName=settings.table_name(base), ConsistentRead=True
    ):
        items.extend(page["Items"])
    return items


def count(settings, base: str) -> int:
    return len(scan(settings, base))


def all_tables(settings) -> dict[str, list[dict[str, Any]]]:
    """Every item of every table that exists in the emulated account."""
    ddb = dynamodb(settings)
    names: list[str] = []
    for page in ddb.get_paginator("list_tables").paginate():
        names.extend(page["TableNames"])
    dump: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        items: list[dict[str, Any]] = []
        for page in ddb.get_paginator("scan").paginate(TableName=name, ConsistentRead=True):
            items.extend(page["Items"])
        dump[name] = items
    return dump


def snapshot(settings, bases=("disputes", "cases", "events", "outbox")) -> dict[str, list]:
    """A comparable picture of the dispute tables (sorted, serialised)."""
    return {
        base: sorted(json.dumps(i, sort_keys=True, default=str) for i in scan(settings, base))
        for base in bases
    }


# -- the document holds the responses to the truth (docs/design.md §6) ---------------------
class ResponseContract:
    """Checks a response against its operation in the stage's /openapi.json: a documented
    status, a documented media type, and a JSON body valid against the schema documented for
    that status. Closed schemas (`additionalProperties: false`) make an undocumented field fail.

    500 is no contract (a bug), and a path or method that is no operation (Chalice's own 404 and
    405) has none."""

    def __init__(self) -> None:
        self._documents: dict[str, dict[str, Any]] = {}
        self._validators: dict[tuple[str, str], Any] = {}

    def document(self, stage: str) -> dict[str, Any]:
        if stage not in self._documents:
            from chalicelib.api.meta import openapi_document

            self._documents[stage] = openapi_document(stage)
        return self._documents[stage]

    def operation(self, stage: str, method: str, raw_path: str) -> tuple[str, dict] | None:
        """The documented (path template, operation) a request went to, if any."""
        from urllib.parse import unquote

        path = unquote(raw_path.split("?", 1)[0])
        paths = self.document(stage)["paths"]
        # Literal paths first: /v1/liaison/cases:batch is not /v1/liaison/cases/{case_id}.
        for template in sorted(paths, key=lambda t: (t.count("{"), t)):
            pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            if re.match(pattern, path) and method.lower() in paths[template]:
                return template, paths[template][method.lower()]
        return None

    def check(
        self, stage: str, method: str, raw_path: str, status: int, headers: dict, body: bytes
    ) -> None:
        found = self.operation(stage, method, raw_path)
        if found is None or status == 500:
            return
        template, op = found
        where = f"{method.upper()} {template} → {status}"
        documented = op["responses"].get(str(status))
        assert documented is not None, f"{where}: status not in /openapi.json ({body[:300]!r})"
        kind = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        media = kind.split(";")[0].strip().lower()
        content = documented.get("content", {})
        if status == 204 or not body:
            assert not content or not body, f"{where}: documented with a body, sent none"
            return
        assert media in content, f"{where}: {media!r} is not documented ({sorted(content)})"
        if "json" not in media:
            return
        pointer = "/".join(
            part.replace("~", "~0").replace("/", "~1")
            for part in ("#", "paths", template, method.lower(), "responses", str(status))
        )
        pointer += "/content/" + media.replace("~", "~0").replace("/", "~1") + "/schema"
        errors = self._errors(stage, pointer, json.loads(body))
        assert not errors, f"{where}: the body does not match its schema:\n" + "\n".join(errors)

    def _errors(self, stage: str, pointer: str, value: Any) -> list[str]:
        from jsonschema import Draft202012Validator

        key = (stage, pointer)
        if key not in self._validators:
            # The document is the root, so its #/components/schemas/... references resolve.
            root = {**self.document(stage), "$ref": pointer}
            self._validators[key] = Draft202012Validator(root)
        found = sorted(self._validators[key].iter_errors(value), key=lambda e: list(e.path))
        return [f"  at {'/'.join(map(str, e.path)) or '(body)'}: {e.message[:300]}" for e in found]


CONTRACT = ResponseContract()


def checked_request(original):
    """Chalice's TestHTTPClient.request, with every response held to /openapi.json."""

    def request(self, method, path, headers=None, body=b""):
        response = original(self, method, path, headers=headers, body=body)
        stage = self._config.chalice_stage
        CONTRACT.check(
            stage, method, path, response.status_code, response.headers or {}, response.body
        )
        return response

    return request
