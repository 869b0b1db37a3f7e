"""The fields a case action carries: which it needs, which it may carry, and their values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import FieldError, validation_failed
from chalicelib.domain.intake import MAX_COUNT, clean_text
from chalicelib.domain.workflow import Action

RESPONSE_CODES = (
    "accounts_unbound",
    "accounts_cancelled",
    "count_confirmed",  # the accounts are the person's own
    "count_corrected",
    "fraud_closed",
    "no_match",
)
TEXT_LIMITS = {"message": 200, "statement": 200, "note": 200, "internal_note": 500}


@dataclass(frozen=True)
class ActionParams:
    message: str | None = None
    statement: str | None = None
    note: str | None = None
    internal_note: str | None = None
    response_code: str | None = None
    accounts_affected: int | None = None
    new_count: int | None = None
    target_company: str | None = None


def parse_params(action: Action, body: dict[str, Any], companies: list[str]) -> ActionParams:
    """Checks one action's fields; `body` already passed the route's schema (no unknown keys)."""
    errors: list[FieldError] = []
    allowed = set(action.requires) | set(action.optional)
    given = {k: v for k, v in body.items() if k not in ("action", "if_match", "case_id")}
    for name in sorted(given):
        if given[name] is not None and name not in allowed:
            errors.append(FieldError(name, f"is not used by action '{action.name}'"))
    values: dict[str, Any] = {}
    for name in allowed:
        raw = given.get(name)
        if name in TEXT_LIMITS:
            values[name] = clean_text(raw, name, TEXT_LIMITS[name], errors)
        elif name in ("accounts_affected", "new_count") and raw is not None:
            if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_COUNT:
                errors.append(FieldError(name, f"must be a whole number from 0 to {MAX_COUNT}"))
            else:
                values[name] = raw
        elif name == "response_code" and raw is not None:
            if raw not in RESPONSE_CODES:
                errors.append(FieldError(name, f"must be one of {', '.join(RESPONSE_CODES)}"))
            else:
                values[name] = raw
        elif name == "target_company" and raw is not None:
            if raw not in companies:
                errors.append(FieldError(name, f"must be one of {', '.join(companies)}"))
            else:
                values[name] = raw
    for name in action.requires:
        if values.get(name) is None and not any(e.field == name for e in errors):
            errors.append(FieldError(name, f"is required for action '{action.name}'"))
    if errors:
        raise validation_failed(errors)
    return ActionParams(**values)
