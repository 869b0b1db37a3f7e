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
