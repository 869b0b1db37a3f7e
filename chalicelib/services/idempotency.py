"""Idempotency-Key (docs/design.md §6): a request sent again with the same key runs once.

The first request claims the key (a short lease); its retries meanwhile get 409
`request_in_flight` with Retry-After, and once it answered they get that answer again for
24 h. The same key with another request (method, path or body) is 422
`idempotency_key_reused`. A request that fails gives the key back, so a retry runs afresh.
A filing stores its answer in the transaction that files it; other requests store it right
after their own transaction (a crash between the two leaves the lease to lapse, and the
retry then meets the case's new version: 409 or 412, never a second change).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, overload

from chalicelib.adapters import guards
from chalicelib.domain.actors import Actor
from chalicelib.domain.errors import Problem
from chalicelib.domain.records import GuardRecord

WINDOW = timedelta(hours=24)
# Longer than any request may run (the Lambda timeout): a lapsed lease means it died.
LEASE = timedelta(seconds=60)
RETRY_AFTER_S = 1
MAX_KEY = 128
# Headers an answer is replayed with; the rest are the same on every response anyway.
REPLAYED_HEADERS = ("ETag", "Location")


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Claim:
    pk: str
    claim_id: str
    digest: str
    settled: bool = False  # the answer is stored (by the handler, with its change)

    def answer_item(self, answer: Answer, now: datetime) -> GuardRecord:
        """The record that stores `answer`, for the transaction that makes the change; the
        handler marks the claim settled once that transaction went through."""
        data = {"status": answer.status, "body": answer.body, "headers": answer.headers}
        return guards.answer_item(self.pk, self.claim_id, self.digest, data, now + WINDOW)


@overload
def check_key(raw: str) -> str: ...
@overload
def check_key(raw: None) -> None: ...
def check_key(raw: str | None) -> str | None:
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_KEY or not key.isprintable() or not key.isascii():
        raise Problem(
            422,
            "invalid_idempotency_key",
            "Invalid Idempotency-Key",
            f"Idempotency-Key must be 1–{MAX_KEY} printable ASCII characters",
        )
    return key


def _caller(actor: Actor | None) -> str:
    if actor is None:
        return "anonymous"
    return actor.phone_key or actor.key_id or actor.role


def _digest(method: str, path: str, body: Any) -> str:
    request = {"method": method, "path": path, "body": body}
    canonical = json.dumps(request, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def in_flight() -> Problem:
    return Problem(
        409,
        "request_in_flight",
        "Request in flight",
        "A request with this Idempotency-Key is still being processed; retry shortly",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def begin(
    actor: Actor | None, key: str, method: str, path: str, body: Any, now: datetime
) -> Claim | Answer:
    """Claims the key for this request, or the answer to give instead (a replay)."""
    pk = f"idem#{_caller(actor)}#{hashlib.sha256(key.encode()).hexdigest()}"
    digest = _digest(method, path, body)
    claim = Claim(pk, secrets.token_hex(8), digest)
    for _ in range(2):  # a record that lapses between our two looks: claim again
        if guards.claim(pk, claim.claim_id, digest, now, now + LEASE):
            return claim
        record = guards.get_live(pk, now)
        if record is None:
            continue
        if record.digest != digest:
            raise Problem(
                422,
                "idempotency_key_reused",
                "Idempotency-Key reused",
                "This Idempotency-Key was used with another request",
            )
        if record.data is None:
            raise in_flight()
        return Answer(int(record.data["status"]), record.data["body"], record.data["headers"])
    raise in_flight()


def finish(claim: Claim, answer: Answer, now: datetime) -> None:
    """Stores the answer for retries, unless the handler stored it with its change."""
    if not claim.settled:
        claim.settled = guards.settle(claim.answer_item(answer, now))


def abandon(claim: Claim) -> None:
    if not claim.settled:
        guards.release(claim.pk, claim.claim_id)
