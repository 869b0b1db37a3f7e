"""Arming, clearing, pausing and resuming case timers as a decision says. Pure: no AWS.

A case keeps `timers`: name → ISO due time when armed, or "paused:<n>" holding the working
days left on a company clock stopped while the case waits for the person.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from chalicelib.domain import clock, workdays
from chalicelib.domain.workflow import Decision, Duration, Workflow

PAUSED = "paused:"


def due_after(start: datetime, duration: Duration) -> datetime:
    if duration.unit == "working_days":
        return workdays.add_working_days(start, duration.amount)
    if duration.unit == "days":
        return start + timedelta(days=duration.amount)
    return start + timedelta(hours=duration.amount)


def arm(
    workflow: Workflow,
    names: tuple[str, ...],
    now: datetime,
    *,
    fraud_lane: bool,
    deadlines: Mapping[str, int],
) -> dict[str, str]:
    return {
        name: clock.iso(
            due_after(
                now, workflow.timers[name].duration(fraud_lane=fraud_lane, deadlines=deadlines)
            )
        )
        for name in names
    }


def apply(
    workflow: Workflow,
    decision: Decision,
    timers: Mapping[str, str],
    now: datetime,
    *,
    fraud_lane: bool,
    deadlines: Mapping[str, int],
    fired: str | None = None,
) -> dict[str, str]:
    """The case's timers after `decision` (and after the timer that fired, if any)."""
    result = dict(timers)
    if fired:
        result.pop(fired, None)
    for name in decision.clear:
        result.pop(name, None)
    for name in decision.pause:
        due = result.get(name)
        if due and not due.startswith(PAUSED):
            left = workdays.working_days_between(now, clock.parse_iso(due))
            result[name] = f"{PAUSED}{max(left, 1)}"
    for name in decision.resume:
        held = result.get(name, "")
        if held.startswith(PAUSED):
            days = int(held.removeprefix(PAUSED))
            result[name] = clock.iso(workdays.add_working_days(now, days))
    result.update(arm(workflow, decision.arm, now, fraud_lane=fraud_lane, deadlines=deadlines))
    return result


def next_due(timers: Mapping[str, str]) -> str | None:
    armed = [v for v in timers.values() if not v.startswith(PAUSED)]
    return min(armed) if armed else None


def is_overdue(due_at: str | None, now: datetime) -> bool:
    """Overdue from the deadline's own second on: the same instant the sweep fires it."""
    return bool(due_at and due_at <= clock.iso(now))


def company_due(workflow: Workflow, timers: Mapping[str, str]) -> str | None:
    """The deadline the company is held to now (paused clocks have none)."""
    armed = [
        v
        for k, v in timers.items()
        if workflow.timers[k].company_clock and not v.startswith(PAUSED)
    ]
    return min(armed) if armed else None


def party_due(
    workflow: Workflow,
    timers: Mapping[str, str],
    *,
    action_on: str,
    entering: bool,
    kept: str | None,
) -> str | None:
    """The deadline of whoever's move it is (`due_at`, what `overdue` means): the company's
    clock; for the operator, when its follow-up first falls due after the case came to them,
    kept while the case stays with them (a follow-up reminder does not move it), so an
    escalation left alone becomes overdue and stays so."""
    if action_on != "operator":
        return company_due(workflow, timers)
    if not entering:
        return kept
    armed = [v for v in timers.values() if not v.startswith(PAUSED)]
    return min(armed) if armed else None


def turn_due(workflow: Workflow, state: str, timers: Mapping[str, str]) -> str | None:
    """Until when the party whose move it is may make it: the earliest armed timer that moves
    the case on from `state` without them (a reminder, which leaves it where it is, is none)."""
    due = []
    for name, at in timers.items():
        spec = workflow.actions.get(workflow.timers[name].fires)
        if at.startswith(PAUSED) or spec is None or state not in spec.sources:
            continue
        if any(effect.to != state for effect in spec.effects.values()):
            due.append(at)
    return min(due) if due else None


def shard_for(case_id: str, shards: int) -> str:
    # Stable across processes (unlike hash()): spreads the due-timer index over partitions.
    return str(sum(case_id.encode()) % max(1, shards))
