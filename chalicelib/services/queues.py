"""Work queues: a liaison's company queue and the operators' cross-company view. GSI queries
only, never a Scan."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters import case_store
from chalicelib.config import Settings
from chalicelib.domain import clock, timers
from chalicelib.domain.actors import Actor
from chalicelib.domain.directory import load_directory
from chalicelib.domain.errors import FieldError, validation_failed
from chalicelib.domain.workflow import ACTION_ON, load_workflow
from chalicelib.services import paging
from chalicelib.services.views import case_view


def _choice(value: str | None, name: str, options: list[str] | tuple[str, ...]) -> str | None:
    if value in (None, ""):
        return None
    if value not in options:
        raise validation_failed([FieldError(name, f"must be one of {', '.join(options)}")])
    return value


def liaison_queue(settings: Settings, actor: Actor, query: dict[str, str]) -> dict[str, Any]:
    if actor.company is None:
        raise AssertionError("only a liaison has a queue")
    workflow, now = load_workflow(), clock.now()
    state = _choice(query.get("state"), "state", list(workflow.states))
    action_on = _choice(query.get("action_on"), "action_on", ACTION_ON)
    overdue = paging.flag(query.get("overdue"), "overdue")
    limit = paging.limit(query.get("limit"))
    scope = f"liaison:{actor.company}:{state}:{action_on}:{overdue}"
    start = paging.decode(settings.token_key, scope, query.get("cursor"))
    items, next_key = case_store.company_queue(
        actor.company,
        state=state,
        action_on=action_on,
        overdue_at=clock.iso(now) if overdue else None,
        limit=limit,
        start=start,
    )
    if overdue is False:
        items = [c for c in items if not timers.is_overdue(c.due_at, now)]
    return {
        "items": [case_view(c, workflow, now, "liaison") for c in items],
        "next_cursor": paging.encode(settings.token_key, scope, next_key),
    }


def admin_cases(settings: Settings, query: dict[str, str]) -> dict[str, Any]:
    """Cases in one state (escalated by default), optionally for one company."""
    workflow, now = load_workflow(), clock.now()
    state = _choice(query.get("state"), "state", list(workflow.states)) or "escalated"
    company = _choice(query.get("company"), "company", list(load_directory().entries))
    overdue = paging.flag(query.get("overdue"), "overdue")
    limit = paging.limit(query.get("limit"))
    scope = f"admin:{state}:{company}:{overdue}"
    start = paging.decode(settings.token_key, scope, query.get("cursor"))
    items, next_key = case_store.cases_in_state(
        state,
        company=company,
        overdue_at=clock.iso(now) if overdue else None,
        limit=limit,
        start=start,
    )
    if overdue is False:
        items = [c for c in items if not timers.is_overdue(c.due_at, now)]
    return {
        "items": [case_view(c, workflow, now, "operator") for c in items],
        "next_cursor": paging.encode(settings.token_key, scope, next_key),
    }
