"""Codes, counters, locks and idempotency records in the guards table.

moto and DynamoDB Local never expire TTL items, and real DynamoDB takes up to 48 h: every
read here treats an item past its `expires_at` as absent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import DeleteError, UpdateError

from chalicelib.adapters.tables import Guard


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def get_live(pk: str, now: datetime, *, consistent: bool = True) -> Guard | None:
    try:
        item = Guard.get(pk, consistent_read=consistent)
    except Guard.DoesNotExist:
        return None
    if item.expires_at is not None and item.expires_at <= now:
        return None
    return item


def count_within(pk: str, limit: int, expires_at: datetime) -> bool:
    """Adds one to a windowed counter unless it already reached `limit` (atomic)."""
    try:
        Guard(pk).update(
            actions=[Guard.count.add(1), Guard.expires_at.set(expires_at)],
            condition=Guard.count.does_not_exist() | (Guard.count < limit),
        )
        return True
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def count_back(pk: str) -> None:
    """Gives back one unit of a counter (a send that failed did not use up the day's cap)."""
    Guard(pk).update(
        actions=[Guard.count.add(-1)], condition=Guard.count.exists() & (Guard.count > 0)
    )


def put(pk: str, expires_at: datetime, **fields: Any) -> None:
    Guard(pk, expires_at=expires_at, **fields).save()


def delete(pk: str) -> None:
    Guard(pk).delete()


def take_once(pk: str, digest: str, now_iso: str) -> bool:
    """Deletes the record only if its digest matches and it is still valid: single use."""
    try:
        Guard(pk).delete(condition=(Guard.digest == digest) & (Guard.until > now_iso))
        return True
    except DeleteError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


def add_failure(pk: str, now_iso: str, until: datetime, until_iso: str) -> int:
    """Counts one failure in a window that slides to `until`; returns the new count."""
    item = Guard(pk)
    try:
        item.update(
            actions=[Guard.count.add(1), Guard.expires_at.set(until), Guard.until.set(until_iso)],
            condition=Guard.pk.does_not_exist() | (Guard.until > now_iso),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        # The old window lapsed but the item outlived its TTL: start a new window.
        Guard(pk, count=1, expires_at=until, until=until_iso).save()
        return 1
    return int(item.count or 0)
