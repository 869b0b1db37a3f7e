"""Each directory company's figures, read from the counters the audit stream keeps: by Query
on the company's scope, never a Scan. Shared by the operators' figures and the public
scorecard."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters import stats_store
from chalicelib.config import Settings
from chalicelib.domain import insight
from chalicelib.domain.directory import load_directory
from chalicelib.domain.workflow import load_workflow
from chalicelib.services import stats_summary


def read(
    settings: Settings, *, summary: bool = False
) -> list[tuple[Any, dict[str, Any], dict[str, int]]]:
    """(directory entry, its figures, its raw counters) for every company in the directory:
    live (one Query per company), or from the minute's summary (one request in all)."""
    workflow, directory = load_workflow(), load_directory()
    open_states = workflow.open_states()
    settled = [s for s in workflow.states if s not in open_states]
    counted = stats_summary.read(settings) if summary else None
    out = []
    for key, entry in directory.entries.items():
        scope = insight.company_scope(key)
        raw = counted.get(scope, {}) if counted else stats_store.figures(settings, scope)
        out.append((entry, insight.company_figures(raw, open_states, settled), raw))
    return out
