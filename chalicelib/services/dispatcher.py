"""Sends the SMS outbox (docs/design.md §7): claim, send once, record — from its stream at once,
and from the scheduler as the backstop for anything due, deferred or whose claimer died.

At send time the dispatcher checks again what may have changed since the message was queued:
a follow-up that would go inside quiet hours is held until 08:00, and a message that is no
longer true (the workflow file's `true_while` for its template: the case moved on, the person
already acted) is dropped and counted (`SmsDropped`), never sent. The check reads each case
once (one GetItem); settled outcomes and dispute messages need no read.

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

from chalicelib.adapters import case_store, faults, guards, kms, outbox_store
from chalicelib.adapters.sms import sender
from chalicelib.config import Settings
from chalicelib.domain import clock, sms_rules, sms_text, timers
from chalicelib.domain.phone import MobileNumber
from chalicelib.domain.ports import SmsMessage, SmsRefused, SmsSender
from chalicelib.domain.records import CaseRecord, OutboxItem
from chalicelib.domain.workdays import SHANGHAI
from chalicelib.domain.workflow import STEPS, Workflow, load_workflow

log = logging.getLogger("recount.dispatcher")

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 5
SENT_RETENTION = timedelta(days=30)
DIGEST_TEMPLATE = "dispute_digest"


@dataclass(frozen=True)
class Outcome:
    status: str  # sent | deferred | held | dropped | retry | dead | skipped
    message_id: str
    merged: int = 0
    dropped: int = 0  # messages no longer true, dropped instead of sent


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes, capped at an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def _urgency(workflow: Workflow, item: OutboxItem) -> tuple[int, int, str, str]:
    """Sort key, most urgent first: the step (STEPS order), then a step that can be taken now
    before one with a time, then the oldest (its time, from the same timer, comes first)."""
    spec = workflow.sms_spec(item.template)
    due = item.variables.get("due")
    return (STEPS.index(spec.step), 0 if due is None else 1, item.created_at, item.case_id or "")


def _message(settings: Settings, workflow: Workflow, group: list[OutboxItem]) -> SmsMessage:
    lead = group[0]
    if len(group) == 1:
        return sms_text.message(lead.template, lead.variables, settings.sms_signature)
    # A digest keeps the most urgent instruction of what it carries, with that one's time.
    first = min(group, key=lambda m: _urgency(workflow, m))
    return sms_text.message(
        DIGEST_TEMPLATE,
        {
            "dispute_id": lead.dispute_id,
            "count": len(group),
            "case_id": first.case_id or lead.case_id,
            "step": workflow.sms_spec(first.template).step,
            "due": first.variables.get("due"),
        },
        settings.sms_signature,
    )


def stale_reason(workflow: Workflow, item: OutboxItem, case: CaseRecord | None) -> str | None:
    """Why a queued message is no longer true, or None while it is (its template's
    `true_while` in the workflow file)."""
    rule = workflow.sms_spec(item.template).true_while
    if rule == "always" or item.case_id is None or item.case_version is None:
        return None
    if case is None:
        return "case_gone"
    if rule == "version" and case.version != item.case_version:
        return f"case_changed:v{item.case_version}->v{case.version}:{case.state}"
    if case.state != item.case_state:
        return f"case_moved:{item.case_state}->{case.state}"
    return None


class _Cases:
    """The cases a dispatch reads to check its messages: each at most once."""

    def __init__(self) -> None:
        self._seen: dict[str, CaseRecord | None] = {}

    def get(self, case_id: str) -> CaseRecord | None:
        if case_id not in self._seen:
            self._seen[case_id] = case_store.get_case(case_id)
        return self._seen[case_id]


def _still_true(
    workflow: Workflow, item: OutboxItem, token: str, now: datetime, cases: _Cases
) -> bool:
    """True if the message may go; otherwise it is marked dropped (counted) and False."""
    case = None
    if workflow.sms_spec(item.template).true_while != "always" and item.case_id:
        case = cases.get(item.case_id)
    reason = stale_reason(workflow, item, case)
    if reason is None:
        return True
    outbox_store.mark_dropped(item, token, now + SENT_RETENTION, reason)
    log.info(
        "sms_dropped",
        extra={"message_id": item.message_id, "template": item.template, "reason": reason},
    )
    return False


def dispatch(settings: Settings, message_id: str, sms: SmsSender | None = None) -> Outcome:
    if outbox_store.is_webhook(message_id):  # a company webhook shares the outbox
        from chalicelib.services import webhooks

        return Outcome(webhooks.deliver(settings, message_id), message_id)
    now = clock.now()
    token = uuid.uuid4().hex
    lead = outbox_store.claim(message_id, now, now + LEASE, token)
    if lead is None:
        return Outcome("skipped", message_id)  # not due, or someone else has it
    # Quiet hours, again at send time: released before 21:00 but sent after, it waits.
    held = sms_rules.hold_until(now, lead.notify)
    if held is not None:
        outbox_store.release(lead, token, held, None)
        log.info("sms_held_quiet_hours", extra={"message_id": message_id})
        return Outcome("held", message_id)
    workflow, cases = load_workflow(), _Cases()
    if not _still_true(workflow, lead, token, now, cases):
        return Outcome("dropped", message_id, dropped=1)
    group = [lead]
    dropped = 0
    if lead.notify == "follow_up" and workflow.sms_spec(lead.template).wait != "never":
        for other in outbox_store.pending_follow_ups(lead.dispute_id):
            if (
                other.message_id != lead.message_id
                and other.phone_key == lead.phone_key
                and workflow.sms_spec(other.template).wait != "never"
            ):
                claimed = outbox_store.claim(other.message_id, now, now + LEASE, token, early=True)
                if claimed is None:
                    continue
                if _still_true(workflow, claimed, token, now, cases):
                    group.append(claimed)
                else:
                    dropped += 1

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
        return Outcome("deferred", message_id, dropped=dropped)

    chosen = sms or sender(settings)
    try:
        number = MobileNumber(kms.decrypt_number(settings, lead.phone_cipher))
        provider_id = chosen.send(
            number.e164,
            _message(settings, workflow, group),
            phone_key=lead.phone_key,
            masked=number.masked,
        )
    except Exception as exc:  # a provider or KMS failure: record, retry later, never raise
        guards.count_back(cap_key)  # nothing reached the person: the day's cap is not spent
        if isinstance(exc, SmsRefused):
            # The provider's own answer, as it documents it: dead at once when sending again
            # cannot help (bad number, blacklist, template not approved), else retried.
            error = f"{exc.provider}:{exc.code}"
            failed = _failed(group, token, now, error, dead_now=exc.permanent)
        else:
            error = type(exc).__name__
            code = faults.error_code(exc)  # None for a timeout: `response` is None, not a dict
            if code:
                error = f"{error}:{code}"
            failed = _failed(group, token, now, error)
        return Outcome(failed.status, failed.message_id, dropped=dropped)

    expires = now + SENT_RETENTION
    # A provider with pull delivery reports: the lead waits for its report (the merged ones
    # went in the same message).
    awaits = hasattr(chosen, "pull")
    outbox_store.mark_sent(
        lead,
        token,
        provider_id,
        now,
        expires,
        provider=chosen.provider,
        report_shard=timers.shard_for(lead.message_id, settings.timer_shards) if awaits else None,
    )
    for item in group[1:]:
        outbox_store.mark_sent(
            item,
            token,
            provider_id,
            now,
            expires,
            merged_into=lead.message_id,
            provider=chosen.provider,
        )
    return Outcome("sent", message_id, merged=len(group) - 1, dropped=dropped)


def _failed(
    group: list[OutboxItem], token: str, now: datetime, error: str, *, dead_now: bool = False
) -> Outcome:
    lead = group[0]
    attempts = lead.attempts + 1  # this failure included
    dead = dead_now or attempts >= MAX_ATTEMPTS
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
