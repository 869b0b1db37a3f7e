"""Every company's counters in one item, rewritten by the scheduler's minute (docs/design.md
§12): the public scorecard reads it in one request (and then from a 60 s in-process cache)
instead of one Query per company; the counters themselves stay sharded per company scope, so
no write contends for one key."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.adapters import outbox_store, stats_store
from chalicelib.config import Settings
from chalicelib.domain import clock, insight
from chalicelib.domain.directory import load_directory

# Older than this (the scheduler stopped?), the summary is not trusted: read the counters.
MAX_AGE = timedelta(minutes=5)


def scopes() -> list[str]:
    return [insight.company_scope(key) for key in load_directory().entries] + [
        outbox_store.DELIVERY_SCOPE
    ]


def refresh(settings: Settings) -> None:
    """One Query per scope, one PutItem: a fixed cost per minute, whatever the traffic."""
    stats_store.put_summary(
        settings,
        {scope: stats_store.figures(settings, scope) for scope in scopes()},
        clock.iso(clock.now()),
    )


def read(settings: Settings) -> tuple[dict[str, dict[str, int]], str]:
    """Every scope's counters and the time they were counted: the summary if it is recent
    (one request), else read live (one Query per scope) as of now."""
    summary = stats_store.get_summary(settings)
    if summary is not None:
        data, at = summary
        if at and clock.now() - clock.parse_iso(at) <= MAX_AGE and set(scopes()) <= set(data):
            return data, at
    live = {scope: stats_store.figures(settings, scope) for scope in scopes()}
    return live, clock.iso(clock.now())
