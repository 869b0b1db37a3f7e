"""The operators' statistics: every company's figures, their totals and the directory's
stale facts, with the definition of each figure."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters import outbox_store
from chalicelib.config import Settings
from chalicelib.domain import clock, insight
from chalicelib.domain.workflow import load_workflow
from chalicelib.services import company_figures, stats_summary
from chalicelib.services.directory_status import shanghai_today, stale_directory


def admin_stats(settings: Settings) -> dict[str, Any]:
    """From the minute's summary (one request; `as_of` says when it was counted), or live
    when the scheduler has not written one lately."""
    workflow = load_workflow()
    open_states = workflow.open_states()
    settled = [s for s in workflow.states if s not in open_states]
    today = shanghai_today()
    counted, as_of = stats_summary.read(settings)
    companies, raws = [], []
    for entry, figures, raw in company_figures.read(counted):
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
        "as_of": as_of,
        "definitions": DEFINITIONS,
        "companies": companies,
        "totals": insight.company_figures(insight.merge_counters(raws), open_states, settled),
        "stale_directory": stale_directory(),
        "sms_delivery": sms_delivery(counted.get(outbox_store.DELIVERY_SCOPE, {})),
    }


def sms_delivery(counters: dict[str, int]) -> list[dict[str, Any]]:
    """Per template, what the carriers reported for the messages sent through a provider with
    delivery reports (docs/design.md §11): delivered, failed, unreported and the rate of
    delivered among those reported. Empty on SNS, which reports nothing."""
    by_template: dict[str, dict[str, int]] = {}
    for figure, value in counters.items():
        template, _, outcome = figure.rpartition(".")
        counts = by_template.setdefault(template, {"delivered": 0, "failed": 0, "unreported": 0})
        if outcome in counts:
            counts[outcome] += value
    rows = []
    for template, counts in sorted(by_template.items()):
        reported = counts["delivered"] + counts["failed"]
        rate = round(counts["delivered"] / reported, 4) if reported else None
        rows.append({"template": template, **counts, "delivery_rate": rate})
    return rows


DEFINITIONS = {
    "received": "cases opened at the company (filed, or rerouted to it)",
    "open": "cases now in each open state",
    "acknowledgement": "first answer to a submitted case by its deadline; an SLA breach "
    "out of submitted is late; no deadline in force (clock paused) is on time",
    "response": "first response by the company's deadline, before any escalation",
    "days_to_respond": "China working days from filing to the first response",
    "reopen": "reopened or re-queried-and-still-wrong, per response",
    "escalations": "cases entering escalated, by cause",
    "sms_delivery": "per SMS template, the carriers' delivery reports pulled from the "
    "provider: delivered / (delivered + failed); unreported: no report within a day",
}
