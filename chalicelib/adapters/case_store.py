"""Disputes, cases, audit events and outbox items: reads, and the one-transaction writes."""

from __future__ import annotations

import heapq
import itertools
import logging
import uuid
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
from chalicelib.adapters.tables import Case, Dispute, Event, Guard, OutboxMessage, Stat
from chalicelib.domain import clock, timers
from chalicelib.domain.errors import Problem
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
# Rounds of (last, not last) a settling transition tries while sibling cases settle meanwhile.
COUNT_OFF_TRIES = 4

# The list indexes (a company's queue, the cases in a state) spread each key over this many
# partitions, `<key>#<n>` by case id, so one company's or one state's peak is no hot key
# (docs/scale.md); a page reads every shard and merges them. Changing it re-keys every case.
LIST_SHARDS = 4

log = logging.getLogger("recount.case_store")


def list_keys(case_id: str, company: str, state: str) -> dict[str, str]:
    """A case's keys in the list indexes: its company's queue and its state's cases."""
    shard = timers.shard_for(case_id, LIST_SHARDS)
    return {"queue_key": f"{company}#{shard}", "state_key": f"{state}#{shard}"}


def _case_model(case: CaseRecord) -> Case:
    """The stored case, with its list-index keys derived from what it is."""
    item = to_model(Case, case)
    for name, value in list_keys(case.case_id, case.company, case.state).items():
        setattr(item, name, value)
    return item


@dataclass(frozen=True)
class Conflict:
    """Which guarded item stopped a transaction: ('open', company) or ('idempotency', None)."""

    kind: str
    company: str | None = None


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
    taken_up: Iterable[str] = (),
) -> Conflict | None:
    """Writes a whole filing in ONE TransactWriteItems; returns the conflict that cancelled it.
    `taken_up`: the `resolved#` records of the resolved cases this filing reopens (used once)."""
    try:
        # The token makes a retry of this very request (botocore's, after a timeout whose
        # write had landed) succeed instead of failing every condition it set itself.
        token = f"file:{dispute.dispute_id}"
        with TransactWrite(connection=tables.connection(), client_request_token=token) as raw:
            tx = _Transaction(raw)
            for pk in taken_up:
                tx.delete(Guard(pk))
            tx.save(to_model(Dispute, dispute), Dispute.dispute_id.does_not_exist())
            for case in cases:
                tx.save(_case_model(case), Case.case_id.does_not_exist())
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
            if _filed_already(dispute):
                return None  # our own first attempt landed (an engine that ignores the token)
            raise
        return conflict
    return None


def _filed_already(dispute: DisputeRecord) -> bool:
    """Whether this filing's dispute is stored: its id is random, so only this request wrote
    it (a retry after a timeout meets its own first attempt's items)."""
    try:
        stored = Dispute.get(dispute.dispute_id, consistent_read=True)
    except Dispute.DoesNotExist:
        return False
    return stored.phone_key == dispute.phone_key and stored.created_at == dispute.created_at


# -- reads: an item past its expires_at is absent ---------------------------------------------
# DynamoDB deletes expired items within about 48 h, and moto and DynamoDB Local never do:
# every read in a request path filters them itself (docs/design.md §8).


def _live(item: Dispute | Case | Event) -> bool:
    return item.expires_at is None or item.expires_at > clock.now()


def _unexpired(model: type[Dispute] | type[Case] | type[Event]) -> Condition:
    return model.expires_at.does_not_exist() | (model.expires_at > clock.now())


def get_dispute(dispute_id: str) -> DisputeRecord | None:
    try:
        item = Dispute.get(dispute_id, consistent_read=True)
    except Dispute.DoesNotExist:
        return None
    return to_record(DisputeRecord, item) if _live(item) else None


def get_cases(case_ids: Iterable[str]) -> list[CaseRecord]:
    ids = list(case_ids)
    found = {c.case_id: c for c in Case.batch_get(ids, consistent_read=True) if _live(c)}
    return [to_record(CaseRecord, found[i]) for i in ids if i in found]


def get_case(case_id: str) -> CaseRecord | None:
    try:
        item = Case.get(case_id, consistent_read=True)
    except Case.DoesNotExist:
        return None
    return to_record(CaseRecord, item) if _live(item) else None


def disputes_of(phone_key: str, limit: int = 50) -> list[DisputeRecord]:
    query = Dispute.by_phone.query(
        phone_key,
        filter_condition=_unexpired(Dispute),
        scan_index_forward=False,
        limit=limit,
    )
    return [to_record(DisputeRecord, d) for d in query]


def events_of(case_id: str) -> list[EventRecord]:
    query = Event.query(case_id, filter_condition=_unexpired(Event), consistent_read=True)
    return [to_record(EventRecord, e) for e in query]


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
    remember: GuardRecord | None = None,
) -> Conflict | None:
    """Writes one transition in ONE TransactWriteItems: the case (conditioned on the version
    and state it was read at), its audit event, its outbox items, and what the effect needs.
    A transition that settles the case (`expire_events`) counts it off its dispute, and the
    last one to settle gives the dispute its TTL; `remember` is written over any earlier one
    (the `resolved#` record of a case resolved now). Returns the conflict that cancelled it:
    ('stale') or ('open', target company)."""
    # Which of the dispute's two updates applies is decided by DynamoDB (a condition on its
    # count of open cases), so of cases settling at once exactly one is last: try "last" first
    # (most disputes name one company), then the other, again while others settle meanwhile.
    counts_off = expire_events is not None and new_case is None
    guesses = [True, False] * COUNT_OFF_TRIES if counts_off else [False]
    for attempt, last in enumerate(guesses):
        try:
            # Unique to this attempt (a rival's transition to the same version must not share
            # it), and the same on botocore's retries of it.
            token = uuid.uuid4().hex
            with TransactWrite(connection=tables.connection(), client_request_token=token) as raw:
                tx = _Transaction(raw)
                _transition_writes(tx, case, expected_version, expected_state, event, outbox)
                if release_lock:
                    tx.delete(Guard(release_lock))
                if remember:
                    tx.save(to_model(Guard, remember), None)
                if expire_events:
                    _expire_latest_events(tx, case.case_id, *expire_events)
                    if counts_off:
                        _count_off(tx, case.dispute_id, expire_events[1], last=last)
                if new_case:
                    _open_rerouted(tx, *new_case)
        except TransactWriteError as exc:
            conflict = tx.cause(exc)
            if conflict is None:
                raise
            if conflict.kind in ("last", "not_last") and attempt + 1 < len(guesses):
                continue  # the count moved: the other update applies now
            return conflict
        break
    if expire_events:
        upto, expires = expire_events
        _expire_older_events(case.case_id, upto - MAX_EVENTS_EXPIRED_IN_TX, expires)
    return None


def _transition_writes(
    tx: _Transaction,
    case: CaseRecord,
    expected_version: int,
    expected_state: str,
    event: EventRecord,
    outbox: list[OutboxItem],
) -> None:
    stale = Conflict("stale")
    tx.save(
        _case_model(case),
        (Case.version == expected_version) & (Case.state == expected_state),
        stale,
    )
    tx.save(to_model(Event, event), Event.case_id.does_not_exist(), stale)
    for message in outbox:
        tx.save(outbox_store.to_model(message), OutboxMessage.message_id.does_not_exist(), stale)


def _expire_latest_events(tx: _Transaction, case_id: str, upto: int, expires: datetime) -> None:
    """Settled: every earlier event gets the case's TTL (versions 1..n all exist)."""
    for version in range(max(1, upto - MAX_EVENTS_EXPIRED_IN_TX), upto):
        tx.update(Event(case_id, version), [Event.expires_at.set(expires)], Event.case_id.exists())


def _count_off(tx: _Transaction, dispute_id: str, expires: datetime, *, last: bool) -> None:
    """One case of the dispute settled; if it was the last open one, the dispute ends with it."""
    if last:
        # A dispute filed before the count existed ends with its first settled case.
        condition = (Dispute.open_cases <= 1) | Dispute.open_cases.does_not_exist()
        actions: list[Action] = [Dispute.open_cases.add(-1), Dispute.expires_at.set(expires)]
    else:
        condition = Dispute.open_cases > 1
        actions = [Dispute.open_cases.add(-1)]
    tx.update(Dispute(dispute_id), actions, condition, Conflict("not_last" if last else "last"))


def _open_rerouted(
    tx: _Transaction, target: CaseRecord, target_event: EventRecord, lock: GuardRecord
) -> None:
    """The case opened at the right company: the dispute's count of open cases is unchanged
    (the misrouted one settled), its list of cases grows."""
    tx.save(_case_model(target), Case.case_id.does_not_exist())
    tx.save(to_model(Event, target_event), Event.case_id.does_not_exist())
    tx.save(to_model(Guard, lock), Guard.pk.does_not_exist(), Conflict("open", target.company))
    tx.update(
        Dispute(target.dispute_id),
        [Dispute.case_ids.set(Dispute.case_ids.append([target.case_id]))],
        Dispute.dispute_id.exists(),
    )


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


def _newest_page(
    index, key: str, order: str, clauses: list, limit: int, start: dict | None
) -> tuple[list[CaseRecord], dict | None]:
    """One page of `key`'s items, newest first by `order`, the filters applied, read as if the
    shards were one partition: each shard gives at most `limit` items from where the cursor
    left it, and the page is the newest `limit` of their merge, so no shard's item is skipped.
    The cursor holds each unfinished shard's own position (None: not read yet)."""
    condition = _unexpired(Case)
    for clause in clauses:
        if clause is not None:
            condition = condition & clause
    shards = [str(n) for n in range(LIST_SHARDS)]
    positions = dict.fromkeys(shards) if start is None else start
    if not set(positions) <= set(shards) or not all(
        p is None or isinstance(p, dict) for p in positions.values()
    ):
        raise Problem(400, "invalid_cursor", "Invalid cursor", "The cursor is from another version")
    runs = []
    for shard in sorted(positions, key=int):
        results = index.query(
            f"{key}#{shard}",
            filter_condition=condition,
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=positions[shard],
        )
        runs.append((shard, list(results), results.last_evaluated_key))
    # heapq.merge keeps each shard's own order (ties go to the lower shard): a page always
    # takes a prefix of each shard's items, which is what makes the positions below right.
    merged = heapq.merge(
        *([(getattr(item, order), shard, item) for item in items] for shard, items, _ in runs),
        key=lambda entry: entry[0],
        reverse=True,
    )
    page = list(itertools.islice(merged, limit))
    taken: dict[str, list[Case]] = {}
    for _, shard, item in page:
        taken.setdefault(shard, []).append(item)
    following: dict[str, dict | None] = {}
    for shard, items, last_key in runs:
        used = taken.get(shard, [])
        if len(used) < len(items):  # this shard's turn comes again from its last item shown
            following[shard] = _index_key(index, used[-1], order) if used else positions[shard]
        elif last_key is not None:
            following[shard] = last_key
    return [to_record(CaseRecord, item) for _, _, item in page], following or None


def _index_key(index, item: Case, order: str) -> dict:
    """The key DynamoDB hands back after `item` in `index`: the table's key and the index's."""
    names = ("case_id", index._hash_key_attribute().attr_name, order)
    return {name: {"S": getattr(item, name)} for name in names}


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
    return _newest_page(Case.company_queue, company, "created_at", clauses, limit, start)


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
    return _newest_page(Case.by_state, state, "updated_at", clauses, limit, start)


def erase_dispute(
    dispute: DisputeRecord,
    cases: list[CaseRecord],
    events: list[EventRecord],
    outbox: list[OutboxItem],
    *,
    stats_links: Iterable[tuple[str, str]] = (),
    guard_links: Iterable[str] = (),
) -> None:
    """Erases a settled dispute: the dispute, its cases, its SMS (sent or not), the stored
    answers that show its cases (idempotency records) and the statistics items that name its
    cases (`stats_links`: markers, hotspot index entries) go, and the guard records that name
    them (`guard_links`); counters stay. Each audit event
    keeps only what the law needs (who did what, when): no free text, no region.
    Chunked under the 100-item transaction limit, the dispute last: if AWS fails between
    chunks, the dispute is still there to be erased again (every write here can be repeated),
    and nothing it leads to has been left unreachable."""
    writes: list[tuple[str, Model]] = [("strip", Event(e.case_id, e.version)) for e in events]
    writes += [("delete", OutboxMessage(m.message_id)) for m in outbox]
    writes += [("delete", Stat(pk, sk)) for pk, sk in stats_links]
    answers = sorted({pk for c in cases for pk in c.answered_in} | set(guard_links))
    writes += [("delete", Guard(pk)) for pk in answers]
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
                            Event.region.remove(),
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


# -- deadline notices (company webhooks' case.deadline_near) ------------------------------------
def near_deadlines(shard: str, now_iso: str, limit: int = 100) -> list[tuple[str, str]]:
    """(case id, near_at) of the cases in a shard whose company deadline is near by now."""
    return [
        (c.case_id, str(c.near_at))
        for c in Case.near_deadlines.query(shard, Case.near_at <= now_iso, limit=limit)
    ]


def clear_near(case_id: str, near_at: str, outbox: list[OutboxItem]) -> bool:
    """The notice given: `near_at` goes (if it is still this one) with the deliveries it makes,
    in ONE transaction. A delivery already written (a transition that read the case before
    and wrote near_at back) is not written twice: then only the mark goes. False when the mark
    had changed (nothing to do)."""
    for deliveries in (outbox, []):
        try:
            with TransactWrite(connection=tables.connection()) as tx:
                tx.update(
                    Case(case_id),
                    actions=[Case.near_at.remove()],
                    condition=Case.near_at == near_at,
                )
                for message in deliveries:
                    tx.save(
                        outbox_store.to_model(message),
                        condition=OutboxMessage.message_id.does_not_exist(),
                    )
        except TransactWriteError as exc:
            # PynamoDB sends the puts before the update: the case's reason comes last.
            reasons = [r.code if r else None for r in exc.cancellation_reasons or []]
            if reasons and reasons[-1] == "ConditionalCheckFailed":
                return False  # the case moved on: its new deadline has its own mark
            if "ConditionalCheckFailed" in reasons[:-1]:
                continue  # told already: take the mark away alone
            raise
        return True
    return False
