"""The SMS outbox: claim, mark sent/merged/failed/deferred — each a conditional update, so
two dispatchers (the stream and the scheduler) never both own one message."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib.adapters import faults
from chalicelib.adapters.tables import OutboxMessage
from chalicelib.domain import clock

CLAIMABLE = ("pending", "sending")  # `sending` past its lease: the claimer died


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
) -> OutboxMessage | None:
    """Takes a message that is due (or, `early`, any pending one: digest merging)."""
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
    return item if ok else None


def mark_sent(
    item: OutboxMessage,
    token: str,
    provider_id: str,
    now: datetime,
    expires: datetime,
    merged_into: str | None = None,
) -> bool:
    return _conditional(
        item,
        [
            OutboxMessage.status.set("merged" if merged_into else "sent"),
            OutboxMessage.provider_message_id.set(provider_id),
            OutboxMessage.sent_at.set(clock.iso(now)),
            OutboxMessage.pending_shard.remove(),
            OutboxMessage.send_after.remove(),
            OutboxMessage.expires_at.set(expires),
            *([OutboxMessage.merged_into.set(merged_into)] if merged_into else []),
        ],
        OutboxMessage.claim_token == token,
    )


def release(
    item: OutboxMessage,
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
    return _conditional(item, actions, OutboxMessage.claim_token == token)


def pending_follow_ups(dispute_id: str) -> list[OutboxMessage]:
    return list(
        OutboxMessage.by_dispute.query(
            dispute_id,
            filter_condition=(OutboxMessage.status == "pending")
            & (OutboxMessage.notify == "follow_up"),
        )
    )


def of_dispute(dispute_id: str) -> list[OutboxMessage]:
    """Every message about one dispute, whatever its status (erasure)."""
    return list(OutboxMessage.by_dispute.query(dispute_id))


def due(shard: str, now: datetime, limit: int = 100) -> list[OutboxMessage]:
    """Messages whose time has come (or whose claim lapsed), oldest first."""
    return list(
        OutboxMessage.pending.query(shard, OutboxMessage.send_after <= clock.iso(now), limit=limit)
    )
