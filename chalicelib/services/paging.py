"""Opaque, signed pagination cursors: a client cannot point a query at another partition."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from chalicelib.domain.errors import FieldError, Problem, validation_failed

MAX_LIMIT = 100
DEFAULT_LIMIT = 25


def _bad(detail: str) -> Problem:
    return Problem(400, "invalid_cursor", "Invalid cursor", detail)


def encode(key: bytes, scope: str, start: dict[str, Any] | None) -> str | None:
    if start is None:
        return None
    payload = base64.urlsafe_b64encode(json.dumps(start, sort_keys=True).encode()).decode()
    sig = hmac.new(key, f"{scope}|{payload}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{payload}.{sig}"


def decode(key: bytes, scope: str, cursor: str | None) -> dict[str, Any] | None:
    """`scope` binds a cursor to the query it came from (e.g. the liaison's company)."""
    if not cursor:
        return None
    payload, _, sig = cursor.partition(".")
    expected = hmac.new(key, f"{scope}|{payload}".encode(), hashlib.sha256).hexdigest()[:32]
    if len(cursor) > 2048 or not hmac.compare_digest(sig, expected):
        raise _bad("The cursor was not issued for this query")
    try:
        start: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload.encode()))
        return start
    except ValueError:
        raise _bad("The cursor is malformed") from None


def limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise validation_failed([FieldError("limit", f"must be a whole number 1–{MAX_LIMIT}")])
    return int(raw)


def flag(raw: str | None, name: str) -> bool | None:
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise validation_failed([FieldError(name, "must be true or false")])
