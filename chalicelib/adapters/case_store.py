"""Disputes, cases, audit events and outbox items: reads, and the one-transaction writes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import tables
from chalicelib.adapters.tables import Case, Dispute, Event, Guard, OutboxMessage


@dataclass(frozen=True)
class Conflict:
    """Which guarded item stopped a transaction: ('open', company) or ('idempotency', None)."""

    kind: str
    company: str | None = None


def file_dispute(
    dispute: Dispute,
    cases: list[Case],
    events: list[Event],
    outbox: list[OutboxMessage],
    open_locks: dict[str, Guard],
    idempotency: Guard | None,
    now: datetime,
) -> Conflict | None:
    """Writes a whole filing in ONE TransactWriteItems; returns the conflict that cancelled it."""
    order: list[Conflict | None] = []
    with_conn = tables.connection()
    try:
        with TransactWrite(connection=with_conn) as tx:
            tx.save(dispute, condition=Dispute.dispute_id.does_not_exist())
            order.append(None)
            for case in cases:
                tx.save(case, condition=Case.case_id.does_not_exist())
                order.append(None)
            for company, lock in open_locks.items():
                tx.save(lock, condition=Guard.pk.does_not_exist())
                order.append(Conflict("open", company))
            for event in events:
                tx.save(event, condition=Event.case_id.does_not_exist())
                order.append(None)
            for message in outbox:
                tx.save(message, condition=OutboxMessage.message_id.does_not_exist())
                order.append(None)
            if idempotency is not None:
                tx.save(
                    idempotency,
                    condition=Guard.pk.does_not_exist() | (Guard.expires_at < now),
                )
                order.append(Conflict("idempotency"))
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons or []
        for reason, conflict in zip(reasons, order, strict=False):
            if reason is not None and reason.code == "ConditionalCheckFailed" and conflict:
                return conflict
        raise
    return None


def get_dispute(dispute_id: str) -> Dispute | None:
    try:
        return Dispute.get(dispute_id, consistent_read=True)
    except Dispute.DoesNotExist:
        return None


def get_cases(case_ids: Iterable[str]) -> list[Case]:
    ids = list(case_ids)
    found = {c.case_id: c for c in Case.batch_get(ids, consistent_read=True)}
    return [found[i] for i in ids if i in found]


def get_case(case_id: str) -> Case | None:
    try:
        return Case.get(case_id, consistent_read=True)
    except Case.DoesNotExist:
        return None


def disputes_of(phone_key: str, limit: int = 50) -> list[Dispute]:
    return list(Dispute.by_phone.query(phone_key, scan_index_forward=False, limit=limit))


def events_of(case_id: str) -> list[Event]:
    return list(Event.query(case_id, consistent_read=True))
