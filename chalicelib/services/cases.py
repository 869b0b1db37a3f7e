"""Taking actions on cases (docs/design.md §4): one engine decision, one transaction, any actor."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib.adapters import case_store, outbox_store
from chalicelib.config import Settings
from chalicelib.domain import clock, sms_rules, sms_text, timers
from chalicelib.domain.actions import ActionParams, parse_params
from chalicelib.domain.actors import Actor
from chalicelib.domain.directory import Directory, load_directory
from chalicelib.domain.errors import FieldError, Problem, not_found, validation_failed
from chalicelib.domain.ids import looks_like, new_case_id
from chalicelib.domain.records import CaseRecord, EventRecord, GuardRecord, OutboxItem
from chalicelib.domain.webhooks import load_rules as load_webhook_rules
from chalicelib.domain.workflow import Decision, Workflow, load_workflow
from chalicelib.services import webhooks

# A case remembers the idempotency records whose answers show it, for erasure; a record
# lives 24 h, so the latest few are all that can still be live.
ANSWERS_REMEMBERED = 8


def audit_event(case: CaseRecord, version: int, **fields: Any) -> EventRecord:
    """An audit event carrying the case's context (company, lane, region, deadline in force)."""
    return EventRecord(
        case.case_id,
        version,
        company=case.company,
        kind=case.kind,
        lane=case.lane,
        region=case.phone_region,
        case_created_at=case.created_at,
        due_at=case.due_at,
        **fields,
    )


def load_case(actor: Actor, case_id: str) -> CaseRecord:
    """The case if this actor may see it; another person's or company's case is 404."""
    case = case_store.get_case(case_id) if looks_like("C", case_id) else None
    if case is None:
        raise not_found("case")
    if actor.role == "user" and case.phone_key != actor.phone_key:
        raise not_found("case")
    if actor.role == "liaison" and case.company != actor.company:
        raise not_found("case")
    return case


# A version no case has: what a weak If-Match tag stands for, since it never compares strongly.
NEVER_MATCHES = -1


def parse_if_match(raw: str | None) -> int | None:
    """The version If-Match names, None for `*` or no header. Compared strongly (RFC 9110
    §13.1.1): a weak tag W/"3" matches no version (412). A bare 3 is read as "3"."""
    if raw is None or raw.strip() == "*":
        return None  # RFC 9110: `*` matches any current version
    text = raw.strip()
    weak = text.startswith("W/")
    text = text.removeprefix("W/").strip('"')
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise Problem(
            400, "invalid_if_match", "Invalid If-Match", 'If-Match must be an ETag like "3"'
        )
    return NEVER_MATCHES if weak else int(text)


def etag(case: CaseRecord) -> str:
    return f'"{case.version}"'


def _variables(
    case: CaseRecord, directory: Directory, company: str | None = None
) -> dict[str, Any]:
    entry = directory.get(company or case.company)
    return {
        "case_id": case.case_id,
        "dispute_id": case.dispute_id,
        "company": entry.name_zh,
        # An SMS names only a hotline we are sure of: a wrong number in a message about
        # fraud is worse than none (the page shows the rest with their confidence).
        "hotline": entry.hotline.number
        if entry.hotline.fact.confidence in ("confirmed", "well_known")
        else None,
    }


def _outbox(
    workflow: Workflow,
    updated: CaseRecord,
    decision: Decision,
    now: datetime,
    directory: Directory,
    settings: Settings,
    company: str | None = None,
    new_case_id: str | None = None,
) -> list[OutboxItem]:
    """The SMS a transition queues, each remembering the case version and state it leaves
    (the dispatcher drops it if no longer true) and showing any time from its timer."""
    created = clock.iso(now)
    items = []
    for template in decision.sms:
        spec = workflow.sms_spec(template)
        variables = _variables(updated, directory, company)
        if new_case_id is not None:
            variables["new_case_id"] = new_case_id
        raw_due = updated.timers.get(spec.due) if spec.due else None
        due = None
        if raw_due is not None and not raw_due.startswith(timers.PAUSED):
            due = clock.parse_iso(raw_due)
            # The time a text shows comes from the timer that sets it, never the template.
            variables["due"] = sms_text.due_text(due)
        items.append(
            OutboxItem(
                # Derived from (case, transition, template): a retried write never sends twice.
                f"{updated.case_id}:v{updated.version}:{template}",
                template=template,
                variables=variables,
                phone_key=updated.phone_key,
                phone_cipher=updated.phone_cipher,
                dispute_id=updated.dispute_id,
                case_id=updated.case_id,
                case_version=updated.version,
                case_state=updated.state,
                notify=decision.notify,
                status="pending",
                created_at=created,
                send_after=clock.iso(sms_rules.release_at(now, decision.notify, spec.wait, due)),
                pending_shard=timers.shard_for(updated.case_id, settings.timer_shards),
            )
        )
    return items


def _outcome(workflow: Workflow, case: CaseRecord, action: str, params: ActionParams) -> str | None:
    spec = workflow.actions.get(action)
    if spec is None or len(spec.effects) <= 1:
        return None
    matches = params.new_count is not None and params.new_count == case.expected_count
    return "count_matches" if matches else "count_differs"


def take_action(
    settings: Settings,
    actor: Actor,
    case_id: str,
    body: dict[str, Any],
    if_match: int | None = None,
    *,
    fired_timer: str | None = None,
    case: CaseRecord | None = None,
    answered_in: str | None = None,
) -> CaseRecord:
    """Applies `body['action']` for `actor`; returns the case as stored after the change.
    `answered_in`: the idempotency record that will hold the answer, if the request has one."""
    workflow, directory = load_workflow(), load_directory()
    case = case or load_case(actor, case_id)
    if if_match is not None and if_match != case.version:
        raise Problem(
            412,
            "precondition_failed",
            "The case has changed",
            f"The case is at version {case.version}, not {if_match}; reload it and retry"
            if if_match != NEVER_MATCHES
            else f'A weak ETag never matches If-Match; send the strong one, "{case.version}"',
            extra={"current_version": case.version},
        )
    action = body.get("action")
    spec = workflow.actions.get(action) if isinstance(action, str) else None
    if not isinstance(action, str) or spec is None or spec.actor != actor.role:
        workflow.decide(case.state, str(action)[:40], actor.role)  # raises unknown_action
        raise AssertionError("decide() accepted an action this actor does not have")
    params = parse_params(
        spec, body, directory.companies() if case.kind == "accounts" else directory.carriers()
    )
    if params.target_company == case.company:
        raise validation_failed([FieldError("target_company", "is this case's own company")])
    decision = workflow.decide(
        case.state, action, actor.role, outcome=_outcome(workflow, case, action, params)
    )
    now = clock.now()
    created = clock.iso(now)
    old_version, old_state = case.version, case.state
    version = old_version + 1
    entry = directory.get(case.company)
    new_timers = timers.apply(
        workflow,
        decision,
        case.timers,
        now,
        fraud_lane=case.lane == "fraud",
        deadlines=entry.deadlines,
        fired=fired_timer,
    )
    next_due = timers.next_due(new_timers)
    settled = decision.terminal and workflow.state(decision.to_state).settled
    expires = now + settings.retention if settled else None
    response = case.response
    if action == "respond":
        response = {
            "code": params.response_code,
            "accounts_affected": params.accounts_affected,
            "message": params.message,
            "at": created,
        }
    updated = replace(
        case,
        state=decision.to_state,
        action_on=decision.action_on,
        version=version,
        updated_at=created,
        timers=new_timers,
        next_due_at=next_due,
        timer_shard=timers.shard_for(case.case_id, settings.timer_shards) if next_due else None,
        due_at=timers.party_due(
            workflow,
            new_timers,
            action_on=decision.action_on,
            entering=decision.to_state != case.state,
            kept=case.due_at,
        ),
        response=response,
        answered_in=remember_answer(case.answered_in, answered_in),
        expires_at=expires,
        write_id=uuid.uuid4().hex,
    )
    updated = replace(updated, near_at=webhooks.near_at(case, updated.due_at, updated.action_on))
    event = audit_event(
        case,
        version,
        action=action,
        actor=actor.role,
        from_state=old_state,
        to_state=decision.to_state,
        at=created,
        code=params.response_code,
        message=params.message or params.note,
        statement=params.statement,
        internal_note=params.internal_note,
        new_count=params.new_count,
        expires_at=expires,
    )
    updated = with_trail(updated, event)
    new_case = None
    company_for_sms = None
    if decision.effect == "open_case_at_target":
        if params.target_company is None:  # parse_params requires it for this action
            raise AssertionError(f"'{action}' opened a case without a target company")
        new_case = _reroute(settings, workflow, directory, case, params.target_company, now)
        company_for_sms = params.target_company
    # The companies' webhooks ride in the same transaction (docs/design.md §10).
    hook_rules = load_webhook_rules()
    hooks = webhooks.event_items(
        settings,
        updated,
        hook_rules.for_transition(action, old_state, decision.to_state),
        now,
        f"v{version}",
    )
    if new_case:
        hooks += webhooks.event_items(
            settings, new_case[0], hook_rules.for_opening("rerouted_in"), now, "v1"
        )
    conflict = case_store.apply_transition(
        updated,
        old_version,
        old_state,
        event,
        _outbox(
            workflow,
            updated,
            decision,
            now,
            directory,
            settings,
            company_for_sms,
            new_case[0].case_id if new_case else None,
        )
        + hooks,
        release_lock=f"open#{case.phone_key}#{case.company}" if decision.terminal else None,
        expire_events=(version, expires) if expires else None,
        new_case=new_case,
        remember=resolved_record(workflow, updated, now)
        if decision.to_state != old_state
        else None,
    )
    if conflict is None:
        return updated
    if conflict.kind == "open":
        raise Problem(
            409,
            "case_already_open",
            "A case is already open",
            f"The person already has an open case with {conflict.company}",
            extra={"company": conflict.company},
        )
    current = case_store.get_case(case.case_id)
    if current is not None and current.write_id == updated.write_id:
        # Our own write landed before a timeout and the client's retry met it (an engine
        # that ignores the request token): the change is made, once.
        return current
    raise Problem(
        412,
        "precondition_failed",
        "The case has changed",
        "Someone else changed the case first; reload it and retry",
        extra={"current_version": current.version if current else None},
    )


def resolved_key(phone_key: str, company: str) -> str:
    return f"resolved#{phone_key}#{company}"


def resolved_record(workflow: Workflow, case: CaseRecord, now: datetime) -> GuardRecord | None:
    """What a later refiling against the same company finds while it would reopen this case
    (workflow `refiling`): the case id, kept for the refiling window."""
    refiling = workflow.refiling
    if refiling is None or case.state != refiling.after:
        return None
    return GuardRecord(
        resolved_key(case.phone_key, case.company),
        ref=case.case_id,
        at=clock.iso(now),
        expires_at=timers.due_after(now, refiling.within),
    )


def remember_answer(known: tuple[str, ...], record: str | None) -> tuple[str, ...]:
    if record is None or record in known:
        return known
    return (*known, record)[-ANSWERS_REMEMBERED:]


# The case fields a new case takes from what opened it (a filing, or the misrouted case).
CARRIED_FIELDS = (
    "dispute_id",
    "kind",
    "lane",
    "reason",
    "reported_count",
    "expected_count",
    "note",
    "phone_key",
    "phone_cipher",
    "phone_masked",
    "phone_region",
    "carrier",
)


def open_case(
    settings: Settings,
    workflow: Workflow,
    directory: Directory,
    now: datetime,
    *,
    company: str,
    opened_by: tuple[str, str, str | None],
    reopened_from: str | None = None,
    **fields: Any,
) -> tuple[CaseRecord, EventRecord, GuardRecord]:
    """A new case in the workflow's initial state with its timers armed, its opening audit
    event (`opened_by` = action, actor, code) and the lock that keeps it the only open case
    per number × company. `reopened_from`: the recently resolved case a refiling takes up
    again; the new case opens where the workflow's `refiling` says."""
    case_id = new_case_id()
    created = clock.iso(now)
    refiling = workflow.refiling if reopened_from else None
    armed = timers.arm(
        workflow,
        refiling.arm if refiling else workflow.initial_arm,
        now,
        fraud_lane=fields["lane"] == "fraud",
        deadlines=directory.get(company).deadlines,
    )
    state = workflow.state(refiling.opens_in if refiling else workflow.initial_state)
    next_due = timers.next_due(armed)
    case = CaseRecord(
        case_id,
        company=company,
        state=state.name,
        action_on=state.action_on,
        version=1,
        created_at=created,
        updated_at=created,
        timers=armed,
        next_due_at=next_due,
        timer_shard=timers.shard_for(case_id, settings.timer_shards) if next_due else None,
        due_at=timers.party_due(
            workflow, armed, action_on=state.action_on, entering=True, kept=None
        ),
        reopened_from=reopened_from,
        **fields,
    )
    case = replace(case, near_at=webhooks.near_at(None, case.due_at, case.action_on))
    action, actor, code = opened_by
    event = audit_event(
        case,
        1,
        action=action,
        actor=actor,
        from_state=None,
        to_state=state.name,
        at=created,
        code=code,
    )
    return (
        with_trail(case, event),
        event,
        GuardRecord(f"open#{case.phone_key}#{company}", ref=case_id),
    )


def _reroute(
    settings: Settings,
    workflow: Workflow,
    directory: Directory,
    case: CaseRecord,
    target: str,
    now: datetime,
) -> tuple[CaseRecord, EventRecord, GuardRecord]:
    """The case that opens at the right company when a liaison says it was misrouted."""
    return open_case(
        settings,
        workflow,
        directory,
        now,
        company=target,
        opened_by=("rerouted_in", "liaison", case.company),
        routed_from=case.case_id,
        **{name: getattr(case, name) for name in CARRIED_FIELDS},
    )


# -- what each role sees ------------------------------------------------------------------
def messages(actor: Actor, case_id: str) -> dict[str, Any]:
    """Staff: the SMS about a case and whether each reached the person (docs/design.md §11):
    what was queued, sent, merged into a digest, dropped or dead, and the carrier's report.
    Templates and statuses only: never a number, never a text."""
    case = load_case(actor, case_id)
    everything = outbox_store.of_dispute(case.dispute_id)
    leads = {m.message_id: m for m in everything}
    items = []
    for m in everything:
        if m.case_id not in (case.case_id, None):  # None: about the whole dispute (receipt)
            continue
        # A merged message went out inside its digest: that one's report is its report.
        carrier = leads.get(m.merged_into or "", m)
        item: dict[str, Any] = {
            "template": m.template,
            "status": m.status,
            "queued_at": m.created_at,
            "sent_at": m.sent_at,
            "provider": m.provider,
            "delivery": carrier.delivery,
            "delivery_code": carrier.delivery_code,
            "delivered_at": carrier.delivered_at,
        }
        if m.merged_into:
            item["merged_into_digest"] = True
        if m.status in ("dropped", "dead") and m.last_error:
            item["reason"] = m.last_error
        items.append(item)
    return {"case_id": case.case_id, "items": items}


def history(case_id: str, role: str) -> list[dict[str, Any]]:
    """The audit trail for a role: the person never sees internal notes."""
    return [history_entry(e, role) for e in case_store.events_of(case_id)]


def history_entry(e: EventRecord, role: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "version": e.version,
        "action": e.action,
        "actor": e.actor,
        "from": e.from_state,
        "to": e.to_state,
        "at": e.at,
    }
    for name in ("code", "message", "statement"):
        if getattr(e, name):
            item[name] = getattr(e, name)
    if e.new_count is not None:
        item["new_count"] = e.new_count
    if role != "user" and e.internal_note:
        item["internal_note"] = e.internal_note
    return item


def person_history(case: CaseRecord) -> list[dict[str, Any]]:
    """The person's view of a case's history: the trail the case carries (read with it), or
    the audit events for a case written before it carried one."""
    if case.trail:
        return [dict(entry) for entry in case.trail]
    return history(case.case_id, "user")


def with_trail(case: CaseRecord, event: EventRecord) -> CaseRecord:
    """The case carrying the person's view of its new event too, so a dispute reads its cases'
    histories with the cases (docs/design.md §12: a dispute in 2 requests)."""
    if not case.trail and event.version != 1:
        return case  # written before cases carried a trail: its history stays in the events
    return replace(case, trail=(*case.trail, history_entry(event, "user")))
