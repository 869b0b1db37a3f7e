"""Sends the SMS outbox (docs/design.md §7): claim, send once, record — from its stream at once,
and from the scheduler as the backstop for anything due, deferred or whose claimer died.

The one window where a duplicate is unavoidable: the provider accepted a message and the
process died before `mark_sent`. The claim's lease (LEASE) then lapses and the backstop sends
again — at most once more per crash, never sooner than LEASE after the first send.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters import faults, guards, kms, outbox_store
from chalicelib.adapters.sms import sender
from chalicelib.config import Settings
from chalicelib.domain import clock, sms_rules, sms_text
from chalicelib.domain.phone import MobileNumber
from chalicelib.domain.ports import SmsSender
from chalicelib.domain.records import OutboxItem
from chalicelib.domain.workdays import SHANGHAI

log = logging.getLogger("recount.dispatcher")

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 5
SENT_RETENTION = timedelta(days=30)
DIGEST_TEMPLATE = "dispute_digest"
# A request to act must reach the person in its own words, never folded into a digest.
NEVER_MERGED = frozenset({"user_action_requested", "user_action_reminder"})


@dataclass(frozen=True)
class Outcome:
    status: str  # sent | merged | deferred | retry | dead | skipped
    message_id: str
    merged: int = 0


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes, capped at an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def _text(settings: Settings, group: list[OutboxItem]) -> str:
    lead = group[0]
    if len(group) == 1:
        return sms_text.render(lead.template, lead.variables, settings.sms_signature)
    case_ids = sorted({m.case_id for m in group if m.case_id})
    return sms_text.render(
        DIGEST_TEMPLATE,
        {"dispute_id": lead.dispute_id, "count": len(group), "case_id": case_ids[0]},
        settings.sms_signature,
    )


def dispatch(settings: Settings, message_id: str, sms: SmsSender | None = None) -> Outcome:
    now = clock.now()
    token = uuid.uuid4().hex
    lead = outbox_store.claim(message_id, now, now + LEASE, token)
    if lead is None:
        return Outcome("skipped", message_id)  # not due, or someone else has it
    group = [lead]
    if lead.notify == "follow_up" and lead.template not in NEVER_MERGED:
        for other in outbox_store.pending_follow_ups(lead.dispute_id):
            if (
                other.message_id != lead.message_id
                and other.phone_key == lead.phone_key
                and other.template not in NEVER_MERGED
            ):
                claimed = outbox_store.claim(other.message_id, now, now + LEASE, token, early=True)
                if claimed is not None:
                    group.append(claimed)

    cap_key = f"rate#sms#{lead.phone_key}#{now.astimezone(SHANGHAI):%Y%m%d}"
    if not guards.count_within(
        cap_key,
        sms_rules.DAILY_CAP,
        sms_rules.next_day_release(now) + timedelta(days=1),
    ):
        for item in group:
            outbox_store.release(
                item, token, sms_rules.next_day_release(now), "daily_cap", deferred=True
            )
        log.warning("sms_deferred_daily_cap", extra={"message_id": message_id})
        return Outcome("deferred", message_id)

    try:
        number = MobileNumber(kms.decrypt_number(settings, lead.phone_cipher))
        provider_id = (sms or sender(settings)).send(
            number.e164, _text(settings, group), phone_key=lead.phone_key, masked=number.masked
        )
    except Exception as exc:  # a provider or KMS failure: record, retry later, never raise
        error = type(exc).__name__
        code = faults.error_code(exc)  # None for a timeout: its `response` is None, not a dict
        if code:
            error = f"{error}:{code}"
        guards.count_back(cap_key)  # nothing reached the person: the day's cap is not spent
        return _failed(group, token, now, error)

    expires = now + SENT_RETENTION
    outbox_store.mark_sent(lead, token, provider_id, now, expires)
    for item in group[1:]:
        outbox_store.mark_sent(item, token, provider_id, now, expires, merged_into=lead.message_id)
    return Outcome("sent", message_id, merged=len(group) - 1)


def _failed(group: list[OutboxItem], token: str, now: datetime, error: str) -> Outcome:
    lead = group[0]
    attempts = lead.attempts + 1  # this failure included
    dead = attempts >= MAX_ATTEMPTS
    retry_at = now + backoff(attempts)
    if lead.notify == "follow_up" and sms_rules.in_quiet_hours(retry_at):
        retry_at = sms_rules.quiet_hours_end(retry_at)
    for item in group:
        outbox_store.release(item, token, retry_at, error, dead=dead, expires=now + SENT_RETENTION)
    log.warning(
        "sms_dead" if dead else "sms_failed",
        extra={"message_id": lead.message_id, "attempts": attempts, "error": error},
    )
    return Outcome("dead" if dead else "retry", lead.message_id)


def dispatch_due(settings: Settings, sms: SmsSender | None = None) -> list[Outcome]:
    """The scheduler's backstop: every shard's due messages, oldest first."""
    now = clock.now()
    outcomes = []
    for shard in range(settings.timer_shards):
        for message_id in outbox_store.due(str(shard), now):
            try:
                outcomes.append(dispatch(settings, message_id, sms))
            except Exception:  # one message's storage fault must not stop the sweep
                log.exception("sms_dispatch_error", extra={"message_id": message_id})
    return outcomes


def dispatch_stream_records(
    settings: Settings, records: list[dict[str, Any]], sms: SmsSender | None = None
) -> list[Outcome]:
    """Outbox stream: try each newly written message that is due now; a failure is recorded
    on the item and never raised, so one bad message never blocks the shard."""
    outcomes = []
    for record in records:
        if record.get("eventName") != "INSERT":
            continue  # retries and deferrals are the scheduler's: they are not due yet
        image = record.get("dynamodb", {}).get("NewImage", {})
        if image.get("status", {}).get("S") != "pending":
            continue
        message_id = image.get("message_id", {}).get("S")
        if not message_id:
            continue
        try:
            outcomes.append(dispatch(settings, message_id, sms))
        except Exception:
            log.exception("sms_dispatch_error", extra={"message_id": message_id})
    return outcomes
