"""Domain failures carry a stable snake_case code and the HTTP status the API maps them to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FieldError:
    field: str
    message: str


@dataclass
class Problem(Exception):
    status: int
    code: str
    title: str
    detail: str = ""
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.detail or self.title}"


def validation_failed(errors: list[FieldError], detail: str = "") -> Problem:
    return Problem(
        422,
        "validation_failed",
        "The request has invalid fields",
        detail or "; ".join(f"{e.field}: {e.message}" for e in errors),
        errors=errors,
    )


def not_found(what: str) -> Problem:
    return Problem(404, "not_found", "Not found", f"No such {what}")


def unauthenticated(detail: str = "A valid bearer token is required") -> Problem:
    return Problem(
        401,
        "unauthenticated",
        "Authentication required",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="recount"'},
    )


def too_many(code: str, detail: str, retry_after: int) -> Problem:
    return Problem(
        429, code, "Too many requests", detail, headers={"Retry-After": str(max(1, retry_after))}
    )


SERVICE_UNAVAILABLE_RETRY_AFTER = 5  # seconds: AWS throttling and blips pass in about that


def service_unavailable(retry_after: int = SERVICE_UNAVAILABLE_RETRY_AFTER) -> Problem:
    """AWS failed us (unreachable, too slow, throttled after retries, failing inside): the
    caller may send the same request again."""
    return Problem(
        503,
        "service_unavailable",
        "Service unavailable",
        "A service we depend on is unavailable or overloaded; try again shortly",
        headers={"Retry-After": str(retry_after)},
    )
