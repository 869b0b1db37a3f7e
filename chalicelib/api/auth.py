"""Who is calling: a person's session token, or a liaison/operator key.

Keys are checked in the handler rather than by an API Gateway authorizer so that every
refusal is a problem+json answer. A checked key is remembered in this container for a
minute: a warm liaison request costs no key read. Revoking clears this container's memory at
once; other containers forget within KEY_CACHE_SECONDS.
"""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING

from chalicelib import config
from chalicelib.domain import clock
from chalicelib.domain.actors import Actor
from chalicelib.domain.errors import Problem, unauthenticated
from chalicelib.domain.identity import verify_token

if TYPE_CHECKING:
    from chalicelib.services.keys import Principal

KEY_CACHE_SECONDS = 60
_cache: dict[str, tuple[Principal, float]] = {}


def bearer(headers: dict[str, str]) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def person(headers: dict[str, str]) -> Actor:
    token = bearer(headers)
    if token is None:
        raise unauthenticated()
    session = verify_token(config.settings().token_keys, token, clock.now())
    if session is None:
        raise unauthenticated("The token is invalid or has expired; sign in again")
    return Actor("user", phone_key=session.phone_key)


def _principal(headers: dict[str, str]) -> Principal:
    from chalicelib.services import keys

    presented = bearer(headers)
    if presented is None or len(presented) > 200:
        raise unauthenticated("An API key is required")
    digest = hashlib.sha256(presented.encode()).hexdigest()
    hit = _cache.get(digest)
    if hit and hit[1] > time.monotonic():
        return hit[0]
    principal = keys.authenticate(presented)
    if principal is None:
        raise unauthenticated("The API key is unknown or revoked")
    keys.record_use(principal.key_id)
    _cache[digest] = (principal, time.monotonic() + KEY_CACHE_SECONDS)
    return principal


def forget(key_id: str) -> None:
    for digest, (principal, _) in list(_cache.items()):
        if principal.key_id == key_id:
            del _cache[digest]


def liaison(headers: dict[str, str]) -> Actor:
    p = _principal(headers)
    if p.role != "liaison":
        raise Problem(403, "forbidden", "Forbidden", "This route is for company liaisons")
    return Actor("liaison", company=p.company, key_id=p.key_id)


def operator(headers: dict[str, str]) -> Actor:
    p = _principal(headers)
    if p.role != "operator":
        raise Problem(403, "forbidden", "Forbidden", "This route is for operators")
    return Actor("operator", key_id=p.key_id)


AUTHENTICATORS = {"person": person, "liaison": liaison, "operator": operator}
