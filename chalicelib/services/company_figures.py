"""Each directory company's figures, from the counters the audit stream keeps (read by
stats_summary: the minute's summary, or live). Shared by the operators' figures and the public
scorecard."""

from __future__ import annotations

from typing import Any

from chalicelib.domain import insight
from chalicelib.domain.directory import load_directory
from chalicelib.domain.workflow import load_workflow


def read(
    counted: dict[str, dict[str, int]],
) -> list[tuple[Any, dict[str, Any], dict[str, int]]]:
    """(directory entry, its figures, its raw counters) for every company in the directory,
    from every scope's counters (stats_summary.read)."""
    workflow, directory = load_workflow(), load_directory()
    open_states = workflow.open_states()
    settled = [s for s in workflow.states if s not in open_states]
    out = []
    for key, entry in directory.entries.items():
        raw = counted.get(insight.company_scope(key), {})
        out.append((entry, insight.company_figures(raw, open_states, settled), raw))
    return out
