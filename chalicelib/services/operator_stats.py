"""The operators' statistics: every company's figures, their totals and the directory's
stale facts, with the definition of each figure."""

from __future__ import annotations

from typing import Any

from chalicelib.config import Settings
from chalicelib.domain import clock, insight
from chalicelib.domain.workflow import load_workflow
from chalicelib.services import company_figures
from chalicelib.services.directory_status import shanghai_today, stale_directory


def admin_stats(settings: Settings) -> dict[str, Any]:
    workflow = load_workflow()
    open_states = workflow.open_states()
    settled = [s for s in workflow.states if s not in open_states]
    today = shanghai_today()
    companies, raws = [], []
    for entry, figures, raw in company_figures.read(settings):
        stale = entry.stale_facts(today)
        raws.append(raw)
        companies.append(
            {
                "company": entry.key,
                "type": entry.type,
                "name_zh": entry.name_zh,
                "name_en": entry.name_en,
                **figures,
                "directory": {"stale": bool(stale), "stale_facts": stale},
            }
        )
    return {
        "generated_at": clock.iso(clock.now()),
        "definitions": DEFINITIONS,
        "companies": companies,
        "totals": insight.company_figures(insight.merge_counters(raws), open_states, settled),
        "stale_directory": stale_directory(),
    }


DEFINITIONS = {
    "received": "cases opened at the company (filed, or rerouted to it)",
    "open": "cases now in each open state",
    "acknowledgement": "first answer to a submitted case by its deadline; an SLA breach "
    "out of submitted is late; no deadline in force (clock paused) is on time",
    "response": "first response by the company's deadline, before any escalation",
    "days_to_respond": "China working days from filing to the first response",
    "reopen": "reopened or re-queried-and-still-wrong, per response",
    "escalations": "cases entering escalated, by cause",
}
