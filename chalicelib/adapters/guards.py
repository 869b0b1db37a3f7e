"""Codes, counters, locks and idempotency records in the guards table.

moto and DynamoDB Local never expire TTL items, and real DynamoDB takes up to 48 h: every
read here treats an item past its `expires_at` as absent.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import faults, tables
from chalicelib.adapters.mapping import to_model, to_record
from chalicelib.adapters.tables import Guard
from chalicelib.domain.records import GuardRecord


def get_live(pk: str, now: datetime, *, consistent: bool = True) -> GuardRecord | None:
    try:
        item = Guard.get(pk, consistent_read=consistent)
    except Guard.DoesNotExist:
        return None
    if item.expires_at is not None and item.expires_at <= now:
        return None
    return to_record(GuardRecord, item)


def get_live_many(pks: list[str], now: datetime) -> dict[str, GuardRecord]:
    """The live records among `pks`, by key, in one BatchGetItem (none for no keys)."""
    if not pks:
        return {}
    found = Guard.batch_get(pks, consistent_read=True)
    return {
        item.pk: to_record(GuardRecord, item)
        for item in found
        if item.expires_at is None or item.expires_at > now
    }


def count_within(pk: str, limit: int, expires_at: datetime) -> bool:
    """Adds one to a windowed counter unless it already reached `limit` (atomic)."""
    try:
        Guard(pk).update(
            actions=[Guard.count.add(1), Guard.expires_at.set(expires_at)],
            condition=Guard.count.does_not_exist() | (Guard.count < limit),
        )
        return True
    except UpdateError as exc:
        if faults.condition_failed(exc):
            return False
        raise


def count_back(pk: str) -> None:
    """Gives back one unit of a counter (a send that failed did not use up the day's cap)."""
    Guard(pk).update(
        actions=[Guard.count.add(-1)], condition=Guard.count.exists() & (Guard.count > 0)
    )


def put(pk: str, expires_at: datetime, **fields: Any) -> None:
    Guard(pk, expires_at=expires_at, **fields).save()


# -- verification codes ------------------------------------------------------------------------
# A code record `code#<number>`: the digest of the live code (USED once spent or burned), when
# it was issued (`at`, which keeps the one-a-minute spacing even after it is used), until when
# it is valid, and `count`: the tries taken on it.
USED = "used"


def issue_code(
    pk: str,
    digest: str,
    at_iso: str,
    until: datetime,
    until_iso: str,
    *,
    last_before_iso: str,
    day_pk: str,
    per_day: int,
    day_end: datetime,
) -> str | None:
    """Writes a new code record — only if the last one was issued before `last_before_iso` —
    and counts it against the day's cap, in ONE transaction: parallel requests get one code.
    Returns None when written, else the rule that refused it: "too_soon" or "daily_limit"."""
    # This request's own mark: the token with which DynamoDB answers botocore's retry of it
    # (after a lost answer) as it answered the first attempt, and how the record shows it was
    # ours where an engine ignores tokens. Random: no other request, for this number or any
    # other, ever shares it.
    nonce = uuid.uuid4().hex
    code = Guard(
        pk, ref=nonce, digest=digest, at=at_iso, until=until_iso, count=0, expires_at=until
    )
    day = Guard(day_pk)
    try:
        with TransactWrite(connection=tables.connection(), client_request_token=nonce) as tx:
            tx.save(code, condition=Guard.pk.does_not_exist() | (Guard.at < last_before_iso))
            tx.update(
                day,
                actions=[Guard.count.add(1), Guard.expires_at.set(day_end)],
                condition=Guard.count.does_not_exist() | (Guard.count < per_day),
            )
    except TransactWriteError as exc:
        # PynamoDB sends puts before updates: the reasons are [code, day].
        reasons = [r.code if r else None for r in exc.cancellation_reasons or []]
        if reasons[:1] == ["ConditionalCheckFailed"]:
            stored = get_live(pk, datetime.fromisoformat(at_iso.replace("Z", "+00:00")))
            if stored is not None and stored.ref == nonce:
                return None  # our own write landed first (an engine that ignores the token)
            return "too_soon"
        if reasons[1:2] == ["ConditionalCheckFailed"]:
            return "daily_limit"
        raise
    return None


def take_try(pk: str, now_iso: str, max_tries: int) -> GuardRecord | None:
    """Takes one try on the live code, atomically before anyone checks it: the record with the
    try counted, or None when there is no live code (none, expired, spent, or out of tries)
    — and then nothing changes."""
    item = Guard(pk)
    try:
        item.update(
            actions=[Guard.count.add(1)],
            condition=Guard.pk.exists()
            & (Guard.until > now_iso)
            & (Guard.digest != USED)
            & (Guard.count.does_not_exist() | (Guard.count < max_tries)),
        )
    except UpdateError as exc:
        if faults.condition_failed(exc):
            return None
        raise
    return to_record(GuardRecord, item)  # as updated: DynamoDB answers with the new item


def spend_code(pk: str, digest: str) -> bool:
    """Marks the code used if it is still this one: of two right tries at once, one wins."""
    try:
        Guard(pk).update(actions=[Guard.digest.set(USED)], condition=Guard.digest == digest)
        return True
    except UpdateError as exc:
        if faults.condition_failed(exc):
            return False
        raise


def withdraw_code(pk: str, digest: str) -> None:
    """Removes a code that was never delivered (if it is still that one)."""
    try:
        Guard(pk).delete(condition=Guard.digest == digest)
    except DeleteError as exc:
        if not faults.condition_failed(exc):
            raise


# -- idempotency records ------------------------------------------------------------------------
# `idem#<caller>#<key digest>`: while the first request runs, a claim (`ref` = the claim's id,
# a short lease in `expires_at`); once it answered, `data` holds the answer for 24 h.


def claim(pk: str, claim_id: str, digest: str, now: datetime, lease_until: datetime) -> bool:
    """Claims the key for one request unless a live record holds it (atomic)."""
    try:
        Guard(pk, ref=claim_id, digest=digest, expires_at=lease_until).save(
            condition=Guard.pk.does_not_exist() | (Guard.expires_at < now)
        )
        return True
    except PutError as exc:
        if faults.condition_failed(exc):
            return False
        raise


def answer_item(pk: str, claim_id: str, digest: str, data: dict, until: datetime) -> GuardRecord:
    """The record that settles a claim, for a transaction that writes it with its change."""
    return GuardRecord(pk, ref=claim_id, digest=digest, data=data, expires_at=until)


def settle(record: GuardRecord) -> bool:
    """Stores the answer on the claim it settles; False if the claim was lost (lease over)."""
    try:
        to_model(Guard, record).save(condition=Guard.ref == record.ref)
        return True
    except PutError as exc:
        if faults.condition_failed(exc):
            return False
        raise


def release(pk: str, claim_id: str) -> None:
    """Gives the key back after a failed request, so a retry runs afresh."""
    try:
        Guard(pk).delete(condition=(Guard.ref == claim_id) & Guard.data.does_not_exist())
    except DeleteError as exc:
        if not faults.condition_failed(exc):
            raise
