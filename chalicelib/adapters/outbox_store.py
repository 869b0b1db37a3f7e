"""The SMS outbox: claim, mark sent/merged/failed/deferred — each a conditional update, so
two dispatchers (the stream and the scheduler) never both own one message."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import faults, tables
from chalicelib.adapters.tables import OutboxMessage, Stat
from chalicelib.domain import clock
from chalicelib.domain.records import OutboxItem

CLAIMABLE = ("pending", "sending")  # `sending` past its lease: the claimer died


def to_model(item: OutboxItem) -> OutboxMessage:
    """The storage model of a record: every field, nulls left unset (as PynamoDB stores them)."""
    return OutboxMessage(
        item.message_id,
        template=item.template,
        variables=item.variables,
        phone_key=item.phone_key,
        phone_cipher=item.phone_cipher,
        dispute_id=item.dispute_id,
        case_id=item.case_id,
        case_version=item.case_version,
        case_state=item.case_state,
        notify=item.notify,
        status=item.status,
        created_at=item.created_at,
        send_after=item.send_after,
        pending_shard=item.pending_shard,
        attempts=item.attempts,
        claim_token=item.claim_token,
        provider_message_id=item.provider_message_id,
        merged_into=item.merged_into,
        sent_at=item.sent_at,
        deferrals=item.deferrals,
        last_error=item.last_error,
        provider=item.provider,
        delivery=item.delivery,
        delivery_code=item.delivery_code,
        delivered_at=item.delivered_at,
        report_shard=item.report_shard,
        company=item.company,
        last_status=item.last_status,
        latency_ms=item.latency_ms,
        expires_at=item.expires_at,
    )


def to_record(model: OutboxMessage) -> OutboxItem:
    return OutboxItem(
        message_id=model.message_id,
        template=model.template,
        variables=model.variables,
        phone_key=model.phone_key,
        phone_cipher=model.phone_cipher,
        dispute_id=model.dispute_id,
        case_id=model.case_id,
        case_version=None if model.case_version is None else int(model.case_version),
        case_state=model.case_state,
        notify=model.notify,
        status=model.status,
        created_at=model.created_at,
        send_after=model.send_after,
        pending_shard=model.pending_shard,
        attempts=int(model.attempts or 0),
        claim_token=model.claim_token,
        provider_message_id=model.provider_message_id,
        merged_into=model.merged_into,
        sent_at=model.sent_at,
        deferrals=int(model.deferrals or 0),
        last_error=model.last_error,
        provider=model.provider,
        delivery=model.delivery,
        delivery_code=model.delivery_code,
        delivered_at=model.delivered_at,
        report_shard=model.report_shard,
        company=model.company,
        last_status=None if model.last_status is None else int(model.last_status),
        latency_ms=None if model.latency_ms is None else int(model.latency_ms),
        expires_at=model.expires_at,
    )


def _key(item: OutboxItem) -> OutboxMessage:
    """The model an update or delete needs: its key alone (nothing else is sent)."""
    return OutboxMessage(item.message_id)


def _conditional(item: OutboxMessage, actions: list[Action], condition: Condition) -> bool:
    try:
        item.update(actions=actions, condition=condition)
        return True
    except UpdateError as exc:
        if faults.condition_failed(exc):
            return False
        raise


def claim(
    message_id: str, now: datetime, lease_until: datetime, token: str, *, early: bool = False
) -> OutboxItem | None:
    """Takes a message that is due (or, `early`, any pending one: digest merging); the item
    as it stands once claimed."""
    item = OutboxMessage(message_id)
    if early:
        condition = OutboxMessage.status == "pending"
    else:
        condition = OutboxMessage.status.is_in(*CLAIMABLE) & (
            OutboxMessage.send_after <= clock.iso(now)
        )
    ok = _conditional(
        item,
        [
            OutboxMessage.status.set("sending"),
            OutboxMessage.send_after.set(clock.iso(lease_until)),
            OutboxMessage.claim_token.set(token),
        ],
        condition & OutboxMessage.message_id.exists(),
    )
    return to_record(item) if ok else None


def mark_sent(
    item: OutboxItem,
    token: str,
    provider_id: str,
    now: datetime,
    expires: datetime,
    merged_into: str | None = None,
    *,
    provider: str = "sns",
    report_shard: str | None = None,
) -> bool:
    """`report_shard`: the provider has delivery reports to pull for it (docs/design.md §11)."""
    return _conditional(
        _key(item),
        [
            OutboxMessage.status.set("merged" if merged_into else "sent"),
            OutboxMessage.provider_message_id.set(provider_id),
            OutboxMessage.provider.set(provider),
            OutboxMessage.sent_at.set(clock.iso(now)),
            OutboxMessage.pending_shard.remove(),
            OutboxMessage.send_after.remove(),
            OutboxMessage.expires_at.set(expires),
            *([OutboxMessage.merged_into.set(merged_into)] if merged_into else []),
            *([OutboxMessage.report_shard.set(report_shard)] if report_shard else []),
        ],
        OutboxMessage.claim_token == token,
    )


def awaiting_reports(shard: str, limit: int = 100) -> list[OutboxItem]:
    """Messages whose delivery report is still awaited, oldest first (the index's projection:
    ids, the provider's id, the number's ciphertext and the time it was sent)."""
    return [
        OutboxItem(
            message_id=m.message_id,
            template=m.template,
            variables={},
            phone_key="",
            phone_cipher=m.phone_cipher,
            dispute_id="",
            notify="",
            status="sent",
            created_at="",
            provider_message_id=m.provider_message_id,
            provider=m.provider,
            sent_at=m.sent_at,
            report_shard=shard,
        )
        for m in OutboxMessage.awaiting_report.query(shard, limit=limit)
    ]


DELIVERY_SCOPE = "sms"  # the statistics' counters of delivery reports, per template


def delivery_counter(template: str, delivery: str, shard: str) -> tuple[str, str]:
    """The stats counter (pk, sk) one report of `template` adds to: figure
    `<template>.<delivery>`, sharded like every counter (stats_store)."""
    return DELIVERY_SCOPE, f"{template}.{delivery}@{shard}"


def record_delivery(item: OutboxItem, delivery: str, code: str, at: str | None) -> bool:
    """The carrier's answer for a sent message, once: the message (its awaited mark goes) and
    the per-template counter in ONE transaction, so a report is counted exactly once."""
    pk, sk = delivery_counter(item.template or "unknown", delivery, item.report_shard or "0")
    try:
        with TransactWrite(connection=tables.connection()) as tx:
            tx.update(
                OutboxMessage(item.message_id),
                actions=[
                    OutboxMessage.delivery.set(delivery),
                    OutboxMessage.delivery_code.set(code[:64]),
                    *([OutboxMessage.delivered_at.set(at)] if at else []),
                    OutboxMessage.report_shard.remove(),
                ],
                condition=OutboxMessage.report_shard.exists(),
            )
            tx.update(Stat(pk, sk), actions=[Stat.value.add(1)])
    except TransactWriteError as exc:
        reasons = [r.code for r in exc.cancellation_reasons or [] if r is not None]
        if reasons == ["ConditionalCheckFailed"]:
            return False  # recorded already (another tick got there first)
        raise
    return True


def of_case(dispute_id: str, case_id: str) -> list[OutboxItem]:
    """The messages about one case, oldest first (what staff see of whether the person was
    reached)."""
    return [
        to_record(m)
        for m in OutboxMessage.by_dispute.query(
            dispute_id, filter_condition=OutboxMessage.case_id == case_id
        )
    ]


def mark_dropped(item: OutboxItem, token: str, expires: datetime, reason: str) -> bool:
    """Never sends a claimed message that is no longer true (docs/design.md §7)."""
    return _conditional(
        _key(item),
        [
            OutboxMessage.status.set("dropped"),
            OutboxMessage.last_error.set(reason[:200]),
            OutboxMessage.claim_token.remove(),
            OutboxMessage.pending_shard.remove(),
            OutboxMessage.send_after.remove(),
            OutboxMessage.expires_at.set(expires),
        ],
        OutboxMessage.claim_token == token,
    )


def release(
    item: OutboxItem,
    token: str,
    retry_at: datetime | None,
    error: str | None,
    *,
    dead: bool = False,
    deferred: bool = False,
    expires: datetime | None = None,
) -> bool:
    """Gives a claimed message back: to retry at `retry_at`, or dead for good."""
    actions: list[Action] = [OutboxMessage.claim_token.remove()]
    if error is not None and not deferred:
        # Only real send failures spend the retry budget (not deferrals or merges).
        actions.append(OutboxMessage.attempts.add(1))
    if error is not None:
        actions.append(OutboxMessage.last_error.set(error[:200]))
    if deferred:
        actions.append(OutboxMessage.deferrals.add(1))
    if dead:
        actions += [
            OutboxMessage.status.set("dead"),
            OutboxMessage.pending_shard.remove(),
            OutboxMessage.send_after.remove(),
        ]
        if expires is not None:
            actions.append(OutboxMessage.expires_at.set(expires))
    else:
        if retry_at is None:
            raise ValueError("a message given back to retry needs retry_at")
        actions += [
            OutboxMessage.status.set("pending"),
            OutboxMessage.send_after.set(clock.iso(retry_at)),
        ]
    return _conditional(_key(item), actions, OutboxMessage.claim_token == token)


def pending_follow_ups(dispute_id: str) -> list[OutboxItem]:
    return [
        to_record(m)
        for m in OutboxMessage.by_dispute.query(
            dispute_id,
            filter_condition=(OutboxMessage.status == "pending")
            & (OutboxMessage.notify == "follow_up"),
        )
    ]


def of_dispute(dispute_id: str) -> list[OutboxItem]:
    """Every message about one dispute, whatever its status (erasure)."""
    return [to_record(m) for m in OutboxMessage.by_dispute.query(dispute_id)]


def due(shard: str, now: datetime, limit: int = 100) -> list[str]:
    """The ids of messages whose time has come (or whose claim lapsed), oldest first. Ids
    only: the sparse `pending` index projects keys, status and attempts, not whole items
    (a claim reads the whole item)."""
    return [
        m.message_id
        for m in OutboxMessage.pending.query(
            shard, OutboxMessage.send_after <= clock.iso(now), limit=limit
        )
    ]


# -- company webhook deliveries (message ids `wh:…`) ---------------------------------------------
WEBHOOK_PREFIX = "wh:"


def is_webhook(message_id: str) -> bool:
    return message_id.startswith(WEBHOOK_PREFIX)


def put(item: OutboxItem) -> None:
    """A delivery written on its own (a liaison's test ping), never over an existing one."""
    to_model(item).save(condition=OutboxMessage.message_id.does_not_exist())


def get(message_id: str) -> OutboxItem | None:
    try:
        return to_record(OutboxMessage.get(message_id, consistent_read=True))
    except OutboxMessage.DoesNotExist:
        return None


def mark_attempt(
    item: OutboxItem,
    token: str,
    now: datetime,
    *,
    status: int | None,
    latency_ms: int,
    error: str | None,
    retry_at: datetime | None,
    delivered: bool,
) -> bool:
    """One webhook attempt's outcome: delivered (sent), retried at `retry_at` (pending), or
    dead (no `retry_at`); each with its HTTP status, time taken and error."""
    actions: list[Action] = [
        OutboxMessage.attempts.add(1),
        OutboxMessage.sent_at.set(clock.iso(now)),
        OutboxMessage.latency_ms.set(latency_ms),
        OutboxMessage.claim_token.remove(),
        OutboxMessage.last_status.set(status)
        if status is not None
        else OutboxMessage.last_status.remove(),
        OutboxMessage.last_error.set(error[:200]) if error else OutboxMessage.last_error.remove(),
    ]
    if delivered:
        actions += [
            OutboxMessage.status.set("sent"),
            OutboxMessage.provider.set("webhook"),
            OutboxMessage.pending_shard.remove(),
            OutboxMessage.send_after.remove(),
        ]
    elif retry_at is not None:
        actions += [
            OutboxMessage.status.set("pending"),
            OutboxMessage.send_after.set(clock.iso(retry_at)),
        ]
    else:
        actions += [
            OutboxMessage.status.set("dead"),
            OutboxMessage.pending_shard.remove(),
            OutboxMessage.send_after.remove(),
        ]
    return _conditional(_key(item), actions, OutboxMessage.claim_token == token)


def requeue(item: OutboxItem, now: datetime, shard: str) -> bool:
    """Resend: the same delivery (the same webhook-id) goes again now, from a fresh count."""
    return _conditional(
        _key(item),
        [
            OutboxMessage.status.set("pending"),
            OutboxMessage.attempts.set(0),
            OutboxMessage.send_after.set(clock.iso(now)),
            OutboxMessage.pending_shard.set(shard),
            OutboxMessage.claim_token.remove(),
        ],
        OutboxMessage.status.is_in("sent", "dead", "dropped"),
    )


def webhook_log(company: str, since: datetime, limit: int = 100) -> list[OutboxItem]:
    """A company's deliveries since `since`, newest first."""
    return [
        to_record(m)
        for m in OutboxMessage.webhook_log.query(
            company,
            OutboxMessage.created_at >= clock.iso(since),
            scan_index_forward=False,
            limit=limit,
            filter_condition=OutboxMessage.expires_at.does_not_exist()
            | (OutboxMessage.expires_at > clock.now()),
        )
    ]
