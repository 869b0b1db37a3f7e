"""Issuing, checking and revoking liaison and operator keys (shown once, stored hashed)."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from chalicelib.adapters import key_store
from chalicelib.domain import clock, ids
from chalicelib.domain.actors import KEY_ROLES
from chalicelib.domain.directory import load_directory
from chalicelib.domain.errors import FieldError, validation_failed
from chalicelib.domain.identity import secret_digest
from chalicelib.domain.redaction import mask_personal_numbers

PREFIX = "rk"


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: str
    company: str | None


def issue(role: str, company: str | None, label: str | None = None) -> dict[str, Any]:
    if role not in KEY_ROLES:
        raise validation_failed([FieldError("role", f"must be one of {', '.join(KEY_ROLES)}")])
    if role == "liaison":
        directory = load_directory()
        if company not in directory.entries:
            raise validation_failed(
                [FieldError("company", f"must be one of {', '.join(directory.entries)}")]
            )
    elif company is not None:
        raise validation_failed([FieldError("company", "operators are not bound to a company")])
    if label is not None:  # an operator's note of whom the key is for: no number in it (§8)
        label = mask_personal_numbers(label)
    key_id = ids.new_key_id()
    secret = secrets.token_urlsafe(32)
    created = clock.iso(clock.now())
    key_store.create(key_id, role, company, secret_digest(secret), label, created)
    return {
        "key_id": key_id,
        "key": f"{PREFIX}_{key_id}_{secret}",
        "role": role,
        "company": company,
        "created_at": created,
    }


def authenticate(presented: str) -> Principal | None:
    """The principal behind a presented key, or None (unknown, malformed or revoked)."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not ids.looks_like("K", parts[1]):
        return None
    item = key_store.get(parts[1])
    if item is None or item.revoked_at is not None:
        return None
    if not hmac.compare_digest(item.secret_digest, secret_digest(parts[2])):
        return None
    return Principal(item.key_id, item.role, item.company)


def record_use(key_id: str) -> None:
    key_store.touch(key_id, clock.iso(clock.now()))


def revoke(key_id: str) -> bool:
    return ids.looks_like("K", key_id) and key_store.revoke(key_id, clock.iso(clock.now()))
