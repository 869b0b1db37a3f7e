"""Filing and reading disputes (docs/design.md §3, §6): one filing, one DynamoDB write request."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from chalicelib.adapters import case_store, guards, outbox_store, stats_store
from chalicelib.config import Settings
from chalicelib.domain import clock, insight, timers
from chalicelib.domain.actors import Actor
from chalicelib.domain.directory import Directory, load_directory
from chalicelib.domain.errors import Problem, not_found, unauthenticated
from chalicelib.domain.ids import new_dispute_id
from chalicelib.domain.intake import DisputeItem, extra_advice, parse_dispute
from chalicelib.domain.records import CaseRecord, DisputeRecord, OutboxItem
from chalicelib.domain.webhooks import load_rules as load_webhook_rules
from chalicelib.domain.workflow import Workflow, load_workflow
from chalicelib.services import webhooks
from chalicelib.services.cases import open_case, person_history, resolved_key
from chalicelib.services.idempotency import Answer, Claim, in_flight
from chalicelib.services.views import case_view


def location(dispute_id: str) -> str:
    return f"/v1/disputes/{dispute_id}"


def _renewal_routes(directory: Directory, carrier_name: str) -> list[dict[str, Any]]:
    carriers = directory.carriers()
    match = [k for k in carriers if directory.get(k).name_en.lower() == carrier_name.lower()]
    return [directory.next_steps(k)["number_renewal"] for k in (match or carriers)]


def _next_steps(directory: Directory, company: str, reason: str, carrier: str) -> dict[str, Any]:
    """The same on filing and on every read: the company's steps, triage advice, and for a
    recycled number the carrier's 二次号码焕新 first (it unbinds every account made before the
    number was re-issued)."""
    steps = directory.next_steps(company)
    steps["advice"] = extra_advice(reason)
    if reason == "recycled_number":
        steps["number_renewal_first"] = _renewal_routes(directory, carrier)
    return steps


def _progress(workflow: Workflow, cases: list[CaseRecord]) -> dict[str, int]:
    """How far a dispute has come (e.g. 3 家中 2 家已解决)."""
    return {
        "cases": len(cases),
        "settled": sum(1 for c in cases if not workflow.is_open(c.state)),
        "resolved": sum(1 for c in cases if c.state == "resolved"),
    }


def _ruling(trail: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The anti-fraud centre's latest decision on the case, shown above its history."""
    decisions = [e for e in trail if e["actor"] == "operator"]
    if not decisions:
        return None
    last = decisions[-1]
    return {k: last[k] for k in ("action", "at", "to", "message", "statement") if k in last}


def file_dispute(
    settings: Settings, actor: Actor, body: dict[str, Any], claim: Claim | None
) -> dict[str, Any]:
    """Files in ONE transaction; with an Idempotency-Key `claim`, its answer is stored in the
    same transaction, so a retry replays it whatever happens after."""
    directory = load_directory()
    workflow = load_workflow()
    request = parse_dispute(body, directory)
    now = clock.now()
    holder_record = guards.get_live(f"holder#{actor.phone_key}", now)
    if holder_record is None or holder_record.data is None or actor.phone_key is None:
        raise unauthenticated("Your verification has lapsed; sign in again")
    holder = holder_record.data  # the number as KMS ciphertext, masked, region and carrier

    dispute_id = new_dispute_id()
    created = clock.iso(now)
    reopens = _recently_resolved(workflow, request.items, actor.phone_key, now)
    cases, events, locks, views = [], [], {}, []
    for item in request.items:
        case, event, lock = open_case(
            settings,
            workflow,
            directory,
            now,
            company=item.company,
            opened_by=("file", "user", item.reason),
            reopened_from=reopens.get(item.company),
            dispute_id=dispute_id,
            kind=request.kind,
            lane=item.lane,
            reason=item.reason,
            reported_count=item.reported_count,
            expected_count=item.expected_count,
            note=item.note,
            phone_key=actor.phone_key,
            phone_cipher=holder["cipher"],
            phone_masked=holder["masked"],
            phone_region=holder.get("region", ""),
            carrier=str(holder.get("carrier") or ""),
            answered_in=(claim.pk,) if claim is not None else (),
        )
        cases.append(case)
        events.append(event)
        locks[item.company] = lock
        views.append(
            case_view(
                case,
                workflow,
                now,
                "user",
                _next_steps(directory, item.company, item.reason, holder.get("carrier", "")),
            )
        )
    dispute = DisputeRecord(
        dispute_id,
        phone_key=actor.phone_key,
        phone_cipher=holder["cipher"],
        phone_masked=holder["masked"],
        phone_region=holder.get("region", ""),
        kind=request.kind,
        created_at=created,
        case_ids=tuple(c.case_id for c in cases),
        open_cases=len(cases),
    )
    opened = load_webhook_rules().for_opening("file")
    hooks = [h for case in cases for h in webhooks.event_items(settings, case, opened, now, "v1")]
    outbox = hooks + [
        OutboxItem(
            f"{dispute_id}:file:{template}",
            template=template,
            variables={"dispute_id": dispute_id, "case_count": len(cases)},
            phone_key=actor.phone_key,
            phone_cipher=holder["cipher"],
            dispute_id=dispute_id,
            notify="self",
            status="pending",
            created_at=created,
            send_after=created,
            pending_shard=timers.shard_for(dispute_id, settings.timer_shards),
        )
        for template in workflow.dispute_sms
    ]
    response = {
        "dispute_id": dispute_id,
        "kind": request.kind,
        "created_at": created,
        "phone_masked": dispute.phone_masked,
        "progress": _progress(workflow, cases),
        "cases": views,
    }
    answer = None
    if claim is not None:
        headers = {"Location": location(dispute_id)}
        answer = claim.answer_item(Answer(201, response, headers), now)
    conflict = case_store.file_dispute(
        dispute,
        cases,
        events,
        outbox,
        locks,
        answer,
        taken_up=[resolved_key(actor.phone_key, company) for company in reopens],
    )
    if conflict is None:
        if claim is not None:
            claim.settled = True
        return response
    if conflict.kind == "idempotency":
        raise in_flight()  # our claim lapsed and another request holds the key now
    held = guards.get_live(f"open#{actor.phone_key}#{conflict.company}", now)
    existing = held.ref if held else None
    raise Problem(
        409,
        "case_already_open",
        "A case is already open",
        f"You already have an open case with {conflict.company}: {existing}",
        extra={"company": conflict.company, "existing_case_id": existing},
    )


def _recently_resolved(
    workflow: Workflow, items: Iterable[DisputeItem], phone_key: str, now: datetime
) -> dict[str, str]:
    """company → the case resolved within the workflow's refiling window that a filing on its
    lane reopens (one read, and only when an item is on that lane)."""
    refiling = workflow.refiling
    companies = [i.company for i in items if refiling and i.lane == refiling.lane]
    found = guards.get_live_many([resolved_key(phone_key, c) for c in companies], now)
    return {
        company: record.ref
        for company in companies
        if (record := found.get(resolved_key(phone_key, company))) and record.ref
    }


def _owned_dispute(actor: Actor, dispute_id: str) -> DisputeRecord:
    dispute = case_store.get_dispute(dispute_id) if dispute_id.isalnum() else None
    if dispute is None or dispute.phone_key != actor.phone_key:
        raise not_found("dispute")  # another person's dispute is as absent as a missing one
    return dispute


def get_dispute(actor: Actor, dispute_id: str) -> dict[str, Any]:
    dispute = _owned_dispute(actor, dispute_id)
    workflow, directory, now = load_workflow(), load_directory(), clock.now()
    # Two requests whatever the number of cases: the dispute, then its cases in one batch,
    # each carrying its history and the number's carrier (docs/design.md §12).
    records = case_store.get_cases(dispute.case_ids)
    cases = []
    for case in records:
        steps = _next_steps(directory, case.company, case.reason, case.carrier)
        view = case_view(case, workflow, now, "user", steps)
        view["history"] = person_history(case)
        ruling = _ruling(view["history"])
        if ruling is not None:
            view["ruling"] = ruling
        cases.append(view)
    return {
        "dispute_id": dispute.dispute_id,
        "kind": dispute.kind,
        "created_at": dispute.created_at,
        "phone_masked": dispute.phone_masked,
        "progress": _progress(workflow, records),
        "cases": cases,
    }


def list_disputes(actor: Actor) -> dict[str, Any]:
    if actor.phone_key is None:
        raise AssertionError("only a signed-in person lists disputes")
    workflow, now = load_workflow(), clock.now()
    disputes = case_store.disputes_of(actor.phone_key)
    all_cases = {
        c.case_id: c for c in case_store.get_cases(i for d in disputes for i in d.case_ids)
    }
    return {
        "items": [
            {
                "dispute_id": d.dispute_id,
                "kind": d.kind,
                "created_at": d.created_at,
                "progress": _progress(
                    workflow, [all_cases[i] for i in d.case_ids if i in all_cases]
                ),
                "cases": [
                    case_view(all_cases[i], workflow, now, "user")
                    for i in d.case_ids
                    if i in all_cases
                ],
            }
            for d in disputes
        ]
    }


def erase_dispute(actor: Actor, dispute_id: str) -> None:
    """PIPL Art. 47: the person may erase a settled dispute at once (docs/design.md §8)."""
    dispute = _owned_dispute(actor, dispute_id)
    workflow = load_workflow()
    cases = case_store.get_cases(dispute.case_ids)
    still_open = [c.case_id for c in cases if workflow.is_open(c.state)]
    if still_open:
        raise Problem(
            409,
            "dispute_not_settled",
            "The dispute is not settled",
            "Withdraw or settle every case before erasing the dispute",
            extra={"open_case_ids": still_open},
        )
    events = [e for c in cases for e in case_store.events_of(c.case_id)]
    # Counts stay; the items that tie a case id (and its region) to them go.
    links = [stats_store.marker_key(c.case_id) for c in cases]
    links += [
        insight.hotspot_entry(c.case_id, c.company, c.phone_region, c.created_at)
        for c in cases
        if c.routed_from is None  # a rerouted case was never filed, never listed
    ]
    # A `resolved#` record of one of its cases would reopen it on a refiling: it goes too
    # (unless a later case has taken its place).
    after = workflow.refiling.after if workflow.refiling else None
    resolved = [resolved_key(c.phone_key, c.company) for c in cases if c.state == after]
    case_ids = set(dispute.case_ids)
    now = clock.now()
    remembered = [
        pk for pk, record in guards.get_live_many(resolved, now).items() if record.ref in case_ids
    ]
    case_store.erase_dispute(
        dispute,
        cases,
        events,
        outbox_store.of_dispute(dispute_id),
        stats_links=links,
        guard_links=remembered,
    )
