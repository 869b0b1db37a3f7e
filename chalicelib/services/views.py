"""How a case looks to each role. One shape, with what each role may see added on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.domain import advice, timers
from chalicelib.domain.records import CaseRecord
from chalicelib.domain.workflow import Workflow

# The person's own free text and the company's answer, shown to every role.
_OPTIONAL = ("note", "response", "routed_from", "reopened_from")


def case_view(
    case: CaseRecord,
    workflow: Workflow,
    now: datetime,
    role: str,
    next_steps: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`role` is user, liaison or operator. Staff see the number masked, with its region only;
    the person sees where to turn next once a case is escalated."""
    view: dict[str, Any] = {
        "case_id": case.case_id,
        "dispute_id": case.dispute_id,
        "company": case.company,
        "kind": case.kind,
        "lane": case.lane,
        "reason": case.reason,
        "reported_count": case.reported_count,
        "expected_count": case.expected_count,
        "state": case.state,
        "action_on": case.action_on,
        "version": case.version,
        "due_at": case.due_at,
        "overdue": timers.is_overdue(case.due_at, now),
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "allowed_actions": workflow.actions_for(role, case.state),
    }
    for name in _OPTIONAL:
        if getattr(case, name):
            view[name] = getattr(case, name)
    if role == "user":
        if case.action_on == "user":
            view["your_due_at"] = timers.turn_due(workflow, case.state, case.timers)
        if case.state in ("escalated", "disputed_closed"):
            step = workflow.outside_step(case.kind, case.lane)
            if step:
                view["outside_step"] = advice.item(step)
    else:
        view["phone_masked"] = case.phone_masked
        view["phone_region"] = case.phone_region
    if next_steps is not None:
        view["next_steps"] = next_steps
    return view
