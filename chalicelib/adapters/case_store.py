"""Disputes, cases, audit events and outbox items: reads, and the one-transaction writes."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import faults, outbox_store, tables
from chalicelib.adapters.mapping import to_model, to_record
from chalicelib.adapters.tables import Case, Dispute, Event, Guard, OutboxMessage
from chalicelib.domain.records import (
    CaseRecord,
    DisputeRecord,
    EventRecord,
    GuardRecord,
    OutboxItem,
)

# A transaction holds at most 100 items: a settling case's latest events get their TTL in the
# settling transaction, any older ones (a long-neglected escalation) right after it.
MAX_EVENTS_EXPIRED_IN_TX = 80
EXPIRY_BATCH = 100

log = logging.getLogger("recount.case_store")


@dataclass(frozen=True)
class Conflict:
    """Which guarded item stopped a transaction: ('open', company) or ('idempotency', None)."""

    kind: str
    company: str | None = None


def _dispute_model(record: DisputeRecord) -> Dispute:
    return Dispute(
        record.dispute_id,
        phone_key=record.phone_key,
        phone_cipher=record.phone_cipher,
        phone_masked=record.phone_masked,
        phone_region=record.phone_region,
        kind=record.kind,
        created_at=record.created_at,
        case_ids=list(record.case_ids),
        expires_at=record.expires_at,
    )


def _dispute_record(model: Dispute) -> DisputeRecord:
    return DisputeRecord(
        dispute_id=model.dispute_id,
        phone_key=model.phone_key,
        phone_cipher=model.phone_cipher,
        phone_masked=model.phone_masked,
        phone_region=model.phone_region or "",
        kind=model.kind,
        created_at=model.created_at,
        case_ids=tuple(model.case_ids or ()),
        expires_at=model.expires_at,
    )


class _Transaction:
    """TransactWrite that remembers which guarded item each write is, so a cancellation can
    be traced to its cause. PynamoDB sends deletes, then puts, then updates: so does this."""

    _KINDS = ("delete", "save", "update")

    def __init__(self, tx: TransactWrite) -> None:
        self._tx = tx
        self._tags: dict[str, list[Conflict | None]] = {k: [] for k in self._KINDS}

    def save(self, item: Model, condition: Condition | None, tag: Conflict | None = None) -> None:
        self._tx.save(item, condition=condition)
        self._tags["save"].append(tag)

    def delete(self, item: Model, tag: Conflict | None = None) -> None:
        self._tx.delete(item)
        self._tags["delete"].append(tag)

    def update(
        self,
        item: Model,
        actions: list[Action],
        condition: Condition | None,
        tag: Conflict | None = None,
    ) -> None:
        self._tx.update(item, actions=actions, condition=condition)
        self._tags["update"].append(tag)

    def cause(self, exc: TransactWriteError) -> Conflict | None:
        order = [t for kind in self._KINDS for t in self._tags[kind]]
        for reason, tag in zip(exc.cancellation_reasons or [], order, strict=False):
            if reason is not None and reason.code == "ConditionalCheckFailed":
                return tag
        return None


def file_dispute(
    dispute: DisputeRecord,
    cases: list[CaseRecord],
    events: list[EventRecord],
    outbox: list[OutboxItem],
    open_locks: dict[str, GuardRecord],
    idempotency: GuardRecord | None,
) -> Conflict | None:
    """Writes a whole filing in ONE TransactWriteItems; returns the conflict that cancelled it."""
    try:
        with TransactWrite(connection=tables.connection()) as raw:
            tx = _Transaction(raw)
            tx.save(_dispute_model(dispute), Dispute.dispute_id.does_not_exist())
            for case in cases:
                tx.save(to_model(Case, case), Case.case_id.does_not_exist())
            for company, lock in open_locks.items():
                tx.save(to_model(Guard, lock), Guard.pk.does_not_exist(), Conflict("open", company))
            for event in events:
                tx.save(to_model(Event, event), Event.case_id.does_not_exist())
            for message in outbox:
                tx.save(outbox_store.to_model(message), OutboxMessage.message_id.does_not_exist())
            if idempotency is not None:
                # Settles the request's claim on its Idempotency-Key, if it still holds it.
                tx.save(
                    to_model(Guard, idempotency),
                    Guard.ref == idempotency.ref,
                    Conflict("idempotency"),
                )
    except TransactWriteError as exc:
        conflict = tx.cause(exc)
        if conflict is None:
            raise
        return conflict
    return None


def get_dispute(dispute_id: str) -> DisputeRecord | None:
    try:
        return _dispute_record(Dispute.get(dispute_id, consistent_read=True))
    except Dispute.DoesNotExist:
        return None


def get_cases(case_ids: Iterable[str]) -> list[CaseRecord]:
    ids = list(case_ids)
    found = {c.case_id: c for c in Case.batch_get(ids, consistent_read=True)}
    return [to_record(CaseRecord, found[i]) for i in ids if i in found]


def get_case(case_id: str) -> CaseRecord | None:
    try:
        return to_record(CaseRecord, Case.get(case_id, consistent_read=True))
    except Case.DoesNotExist:
        return None


def disputes_of(phone_key: str, limit: int = 50) -> list[DisputeRecord]:
    return [
        _dispute_record(d)
        for d in Dispute.by_phone.query(phone_key, scan_index_forward=False, limit=limit)
    ]


def events_of(case_id: str) -> list[EventRecord]:
    return [to_record(EventRecord, e) for e in Event.query(case_id, consistent_read=True)]


def apply_transition(
    case: CaseRecord,
    expected_version: int,
    expected_state: str,
    event: EventRecord,
    outbox: list[OutboxItem],
    *,
    release_lock: str | None = None,
    expire_events: tuple[int, datetime] | None = None,
    new_case: tuple[CaseRecord, EventRecord, GuardRecord] | None = None,
) -> Conflict | None:
    """Writes one transition in ONE TransactWriteItems: the case (conditioned on the version
    and state it was read at), its audit event, its outbox items, and what the effect needs.
    Returns the conflict that cancelled it: ('stale') or ('open', target company)."""
    stale = Conflict("stale")
    try:
        with TransactWrite(connection=tables.connection()) as raw:
            tx = _Transaction(raw)
            tx.save(
                to_model(Case, case),
                (Case.version == expected_version) & (Case.state == expected_state),
                stale,
            )
            tx.save(to_model(Event, event), Event.case_id.does_not_exist(), stale)
            for message in outbox:
                tx.save(
                    outbox_store.to_model(message), OutboxMessage.message_id.does_not_exist(), stale
                )
            if release_lock:
                tx.delete(Guard(release_lock))
            if expire_events:
                # Settled: every earlier event gets the case's TTL (versions 1..n all exist).
                upto, expires = expire_events
                for version in range(max(1, upto - MAX_EVENTS_EXPIRED_IN_TX), upto):
                    tx.update(
                        Event(case.case_id, version),
                        [Event.expires_at.set(expires)],
                        Event.case_id.exists(),
                    )
            if new_case:
                target, target_event, lock = new_case
                tx.save(to_model(Case, target), Case.case_id.does_not_exist())
                tx.save(to_model(Event, target_event), Event.case_id.does_not_exist())
                tx.save(
                    to_model(Guard, lock),
                    Guard.pk.does_not_exist(),
                    Conflict("open", target.company),
                )
                tx.update(
                    Dispute(target.dispute_id),
                    [Dispute.case_ids.set(Dispute.case_ids.append([target.case_id]))],
                    Dispute.dispute_id.exists(),
                )
    except TransactWriteError as exc:
        conflict = tx.cause(exc)
        if conflict is None:
            raise
        return conflict
    if expire_events:
        upto, expires = expire_events
        _expire_older_events(case.case_id, upto - MAX_EVENTS_EXPIRED_IN_TX, expires)
    return None


def _expire_older_events(case_id: str, below: int, expires: datetime) -> None:
    """The TTL on versions 1..below-1, for which the settling transaction had no room. The
    transition has happened whatever this does: a failure is logged, not raised."""
    versions = range(1, below)
    try:
        for start in range(0, len(versions), EXPIRY_BATCH):
            with TransactWrite(connection=tables.connection()) as tx:
                for version in versions[start : start + EXPIRY_BATCH]:
                    tx.update(
                        Event(case_id, version),
                        actions=[Event.expires_at.set(expires)],
                        condition=Event.case_id.exists(),
                    )
    except TransactWriteError:
        log.warning("event_expiry_incomplete", extra={"case_id": case_id, "below": below})


def _page(results, limit: int) -> tuple[list[CaseRecord], dict | None]:
    items = [to_record(CaseRecord, c) for c in results]
    return items, (results.last_evaluated_key if len(items) >= limit else None)


def _newest_page(
    index, key: str, clauses: list, limit: int, start: dict | None
) -> tuple[list[CaseRecord], dict | None]:
    """One page of an index partition, newest first, with the given filters all applied."""
    condition = None
    for clause in clauses:
        if clause is not None:
            condition = clause if condition is None else condition & clause
    results = index.query(
        key,
        filter_condition=condition,
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=start,
    )
    return _page(results, limit)


def company_queue(
    company: str,
    *,
    state: str | None,
    action_on: str | None,
    overdue_at: str | None,
    limit: int,
    start: dict | None,
) -> tuple[list[CaseRecord], dict | None]:
    """A company's cases, newest first, filtered; a page and the key to continue from."""
    clauses = [
        Case.state == state if state else None,
        Case.action_on == action_on if action_on else None,
        Case.due_at <= overdue_at if overdue_at else None,
    ]
    return _newest_page(Case.company_queue, company, clauses, limit, start)


def cases_in_state(
    state: str,
    *,
    company: str | None,
    overdue_at: str | None,
    limit: int,
    start: dict | None,
) -> tuple[list[CaseRecord], dict | None]:
    """Cases in one state across companies (the operators' view), newest first."""
    clauses = [
        Case.company == company if company else None,
        Case.due_at <= overdue_at if overdue_at else None,
    ]
    return _newest_page(Case.by_state, state, clauses, limit, start)


def erase_dispute(
    dispute: DisputeRecord,
    cases: list[CaseRecord],
    events: list[EventRecord],
    outbox: list[OutboxItem],
) -> None:
    """Erases a settled dispute: the dispute, its cases and its SMS (sent or not) go; each
    audit event keeps only what the law needs (who did what, when) without free text.
    Chunked under the 100-item transaction limit, the dispute last: if AWS fails between
    chunks, the dispute is still there to be erased again (every write here can be repeated),
    and nothing it leads to has been left unreachable."""
    writes: list[tuple[str, Model]] = [("strip", Event(e.case_id, e.version)) for e in events]
    writes += [("delete", OutboxMessage(m.message_id)) for m in outbox]
    writes += [("delete", Case(c.case_id)) for c in cases]
    writes.append(("delete", Dispute(dispute.dispute_id)))
    for start in range(0, len(writes), 90):
        with TransactWrite(connection=tables.connection()) as tx:
            for kind, item in writes[start : start + 90]:
                if kind == "delete":
                    tx.delete(item)
                else:
                    tx.update(
                        item,
                        actions=[
                            Event.message.remove(),
                            Event.statement.remove(),
                            Event.internal_note.remove(),
                        ],
                    )


def due_cases(shard: str, now_iso: str, limit: int) -> list[str]:
    """The ids of cases with a timer due in one shard of the sparse due-timer index."""
    query = Case.due_timers.query(shard, Case.next_due_at <= now_iso, limit=limit)
    return [hit.case_id for hit in query]


def drop_timer(case: CaseRecord, name: str, next_due: str | None, shard: str | None) -> bool:
    """Housekeeping, not a state change: forget a timer whose action no longer applies."""
    actions = [Case.timers[name].remove()]
    actions.append(Case.next_due_at.set(next_due) if next_due else Case.next_due_at.remove())
    actions.append(Case.timer_shard.set(shard) if shard else Case.timer_shard.remove())
    try:
        Case(case.case_id).update(actions=actions, condition=Case.version == case.version)
        return True
    except UpdateError as exc:
        if faults.condition_failed(exc):
            return False
        raise
