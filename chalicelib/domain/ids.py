"""Short, unambiguous identifiers a person can read out on the phone or find in an SMS."""

from __future__ import annotations

import secrets

# Crockford base32 without I, L, O, U: nothing to confuse with 1, 0 or V.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _random(n: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(n))


def new_dispute_id() -> str:
    return "D" + _random(9)


def new_case_id() -> str:
    return "C" + _random(9)


def new_key_id() -> str:
    return "K" + _random(9)


def looks_like(kind: str, value: str) -> bool:
    return (
        isinstance(value, str)
        and len(value) == 10
        and value[0] == kind
        and all(c in _ALPHABET for c in value[1:])
    )
