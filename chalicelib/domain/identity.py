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
@dataclass(frozen=True)
class Session:
    phone_key: str  # the number's HMAC: the only identity a token carries
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(key: bytes, phone_key: str, expires_at: datetime) -> str:
    payload = _b64(json.dumps({"sub": phone_key, "exp": int(expires_at.timestamp())}).encode())
    sig = _b64(hmac.new(key, b"v1." + payload.encode(), hashlib.sha256).digest())
    return f"v1.{payload}.{sig}"


def verify_token(key: bytes, token: str, now: datetime) -> Session | None:
    """The session a token proves, or None if it is malformed, forged or expired."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != "v1" or len(token) > 512 or not token.isascii():
        return None
    expected = _b64(hmac.new(key, b"v1." + parts[1].encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, parts[2]):
        return None
    try:
        claims = json.loads(_unb64(parts[1]))
        expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
        subject = str(claims["sub"])
    except (ValueError, KeyError, TypeError):
        return None
    if expires <= now:
        return None
    return Session(subject, expires)
