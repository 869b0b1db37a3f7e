"""Statistics kept incrementally from the audit-event stream (issue 8 fills this in)."""

from __future__ import annotations

from chalicelib.config import Settings


def aggregate_records(settings: Settings, records: list[dict]) -> int:
    """Folds audit-event stream records into the counters; returns how many were counted."""
    return 0
