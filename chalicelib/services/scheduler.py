"""The scheduler tick (every minute): fire due case timers, then send due SMS.

Due timers sit in a sparse GSI sharded by `timer_shard` and are queried `next_due_at <= now`:
a sweep costs in proportion to what is due, never to the table. Each timer fires as a
conditional transition (the version read must still match), so overlapping sweeps or a stale
index read never fire a timer twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chalicelib.adapters import case_store
from chalicelib.config import Settings
from chalicelib.domain import clock, timers
from chalicelib.domain.actors import Actor
from chalicelib.domain.errors import Problem
from chalicelib.domain.workflow import load_workflow
from chalicelib.services import delivery_reports, dispatcher, stats_summary, webhooks
from chalicelib.services.cases import take_action

log = logging.getLogger("recount.scheduler")

SCHEDULER = Actor("scheduler")
PER_SHARD = 200


@dataclass(frozen=True)
class Fired:
    case_id: str
    timer: str
    action: str
    outcome: str  # fired | skipped | dropped


def fire_due_timers(settings: Settings) -> list[Fired]:
    workflow = load_workflow()
    now = clock.now()
    now_iso = clock.iso(now)
    fired: list[Fired] = []
    for shard in range(settings.timer_shards):
        for case_id in case_store.due_cases(str(shard), now_iso, PER_SHARD):
            case = case_store.get_case(case_id)
            while case is not None:
                due = sorted(
                    (at, name)
                    for name, at in case.timers.items()
                    if not at.startswith(timers.PAUSED) and at <= now_iso
                )
                if not due:
                    break
                name = due[0][1]
                action = workflow.timers[name].fires
                if action not in workflow.actions_for("scheduler", case.state):
                    remaining = {k: v for k, v in case.timers.items() if k != name}
                    nxt = timers.next_due(remaining)
                    case_store.drop_timer(
                        case,
                        name,
                        nxt,
                        timers.shard_for(case.case_id, settings.timer_shards) if nxt else None,
                    )
                    fired.append(Fired(case.case_id, name, action, "dropped"))
                    break
                try:
                    case = take_action(
                        settings,
                        SCHEDULER,
                        case.case_id,
                        {"action": action},
                        case.version,
                        fired_timer=name,
                        case=case,
                    )
                    fired.append(Fired(case.case_id, name, action, "fired"))
                except Problem as problem:
                    # Another sweep or a person got there first: theirs stands.
                    log.info(
                        "timer_skipped",
                        extra={"case_id": case.case_id, "timer": name, "code": problem.code},
                    )
                    fired.append(Fired(case.case_id, name, action, "skipped"))
                    break
    return fired


def tick(settings: Settings) -> dict[str, int]:
    fired = fire_due_timers(settings)
    sent = dispatcher.dispatch_due(settings)
    reports = delivery_reports.pull(settings)
    notices = webhooks.notify_near_deadlines(settings)
    stats_summary.refresh(settings)
    return {
        "timers_fired": sum(f.outcome == "fired" for f in fired),
        "sms_sent": sum(o.status == "sent" for o in sent),
        "sms_merged": sum(o.merged for o in sent),
        "sms_deferred": sum(o.status == "deferred" for o in sent),
        "sms_retry": sum(o.status == "retry" for o in sent),
        "sms_dead": sum(o.status == "dead" for o in sent),
        "webhooks_delivered": sum(o.status == "webhook_delivered" for o in sent),
        "deadline_notices": notices,
        "webhooks_failed": sum(o.status in ("webhook_retry", "webhook_dead") for o in sent),
        "sms_delivered": reports["delivered"],
        "sms_undelivered": reports["failed"],
    }
