"""Keyed hashes and signed session tokens. Pure functions: keys are passed in.

A number is looked up by HMAC(pepper, e164) so no table holds it in plain text; the ID
digits are only ever compared as HMAC(pepper, e164 + id_last6) and never stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from chalicelib.domain.errors import FieldError, validation_failed

ID_LAST6 = re.compile(r"^[0-9]{5}[0-9X]$")


def phone_hmac(key: bytes, e164: str) -> str:
    return hmac.new(key, b"phone:" + e164.encode(), hashlib.sha256).hexdigest()


def holder_check_hmac(key: bytes, e164: str, id_last6: str) -> str:
    return hmac.new(key, f"holder:{e164}:{id_last6}".encode(), hashlib.sha256).hexdigest()


def normalise_id_last6(raw: object, field: str = "id_last6") -> str:
    if not isinstance(raw, str) or not ID_LAST6.match(raw.strip().upper()):
        raise validation_failed(
            [
                FieldError(
                    field, "must be the last 6 characters of the ID card: 5 digits + digit or X"
                )
            ]
        )
    return raw.strip().upper()


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def code_digest(key: bytes, phone_key: str, code: str) -> str:
    return hmac.new(key, f"code:{phone_key}:{code}".encode(), hashlib.sha256).hexdigest()


def secret_digest(secret: str) -> str:
    """Digest of a high-entropy secret (API keys): a plain hash is enough, no pepper needed."""
    return hashlib.sha256(secret.encode()).hexdigest()


# -- session tokens ------------------------------------------------------------------------
# A token is `v2.<key id>.<payload>.<signature>`: the key id names the signing key, so a new
# key can sign while the old one still verifies the tokens it signed (rotation signs no one
# out). The signature covers `v2.<key id>.<payload>` exactly as spelled.
TOKEN_VERSION = "v2"
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
MAX_TOKEN_LENGTH = 512


@dataclass(frozen=True)
class TokenKeys:
    """Signing keys by id: `current` signs; every key listed verifies."""

    current: str
    keys: Mapping[str, bytes]

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise ValueError(f"the current token key {self.current!r} is not among the keys")
        bad = [kid for kid in self.keys if not KEY_ID.match(kid)]
        if bad:
            raise ValueError(f"token key ids must match {KEY_ID.pattern}: {bad}")

    @property
    def signing_key(self) -> bytes:
        return self.keys[self.current]


@dataclass(frozen=True)
class Session:
    phone_key: str  # the number's HMAC: the only identity a token carries
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key: bytes, kid: str, payload: str) -> str:
    signed = f"{TOKEN_VERSION}.{kid}.{payload}".encode()
    return _b64(hmac.new(key, signed, hashlib.sha256).digest())


def issue_token(keys: TokenKeys, phone_key: str, expires_at: datetime) -> str:
    payload = _b64(json.dumps({"sub": phone_key, "exp": int(expires_at.timestamp())}).encode())
    sig = _signature(keys.signing_key, keys.current, payload)
    return f"{TOKEN_VERSION}.{keys.current}.{payload}.{sig}"


def verify_token(keys: TokenKeys, token: str, now: datetime) -> Session | None:
    """The session a token proves, or None if it is malformed, forged, expired or signed with
    a key that is no longer listed."""
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return None
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != TOKEN_VERSION:
        return None
    _, kid, payload, sig = parts
    key = keys.keys.get(kid)
    if key is None or not hmac.compare_digest(_signature(key, kid, payload), sig):
        return None
    try:
        claims = json.loads(_unb64(payload))
        # An `exp` past year 9999 or before 1970 overflows the platform's time: not a session.
        expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
        subject = str(claims["sub"])
    except (ValueError, KeyError, TypeError, OverflowError, OSError):
        return None
    if expires <= now:
        return None
    return Session(subject, expires)
