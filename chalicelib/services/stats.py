"""Statistics kept incrementally from the audit-event stream, and what is read from them:
the operators' figures, fraud hotspots, the public scorecard, the case export and directory
staleness. Never a Scan: counters are read by Query on their scope, cases by key.

Idempotency against stream redelivery: each event is counted in ONE TransactWriteItems that
also records its (case_id, version) in the case's marker item, conditioned on the marker
being as it was read (chalicelib.adapters.stats_store). A redelivered record finds its
version there and is skipped. The marker also holds the case's once-per-case flags (first
acknowledgement, response outcome, first response), which per-event counters alone could
not know.
"""

from __future__ import annotations

import csv
import io
import logging
import random
import time
from datetime import timedelta
from typing import Any, Literal, overload

from chalicelib.adapters import case_store, stats_store
from chalicelib.config import Settings
from chalicelib.domain import clock, insight, workdays
from chalicelib.domain.directory import load_directory
from chalicelib.domain.errors import FieldError, validation_failed
from chalicelib.domain.workflow import load_workflow
from chalicelib.services import paging, queues

log = logging.getLogger("recount.stats")

MAX_ATTEMPTS = 8
# A marker outlives its case's last event by far more than a stream keeps records (24 h):
# flags such as "first response seen" must hold for as long as the case can still move.
MARKER_RETENTION = timedelta(days=400)
INDEX_RETENTION = timedelta(days=400)


# -- aggregation ----------------------------------------------------------------------------
def aggregate_records(settings: Settings, records: list[dict[str, Any]]) -> int:
    """Folds audit-event stream records into the counters; returns how many were counted
    (a redelivered record counts 0). Unreadable records are logged and skipped so that one
    never blocks the shard; a store failure raises, and the batch is delivered again."""
    open_states = load_workflow().open_states()
    counted = 0
    for record in records:
        if record.get("eventName") != "INSERT":
            continue  # MODIFY (TTL set, erasure) and REMOVE (expiry) change no figure
        image = (record.get("dynamodb") or {}).get("NewImage")
        try:
            event = insight.AuditEvent.from_item(stats_store.plain(image or {}))
        except (KeyError, ValueError, TypeError, ArithmeticError):
            log.warning("audit_record_unreadable", extra={"event_id": record.get("eventID")})
            continue
        if count_event(settings, event, open_states):
            counted += 1
    return counted


def count_event(settings: Settings, event: insight.AuditEvent, open_states: list[str]) -> bool:
    """Counts one event once: True if it was counted now, False if it had been already (or
    changes no figure)."""
    for attempt in range(MAX_ATTEMPTS):
        marker = stats_store.read_marker(settings, event.case_id)
        if event.version in marker.versions:
            return False
        change = insight.effects(event, marker.flags, open_states)
        if not (change.counters or change.index or change.flags):
            return False  # reminders and follow-ups change no figure: nothing to write
        now = clock.now()
        outcome = stats_store.apply(
            settings,
            event.case_id,
            event.version,
            marker,
            flags=change.flags,
            counters=change.counters,
            index=change.index,
            marker_expires=now + MARKER_RETENTION,
            index_expires=now + INDEX_RETENTION,
        )
        if outcome == stats_store.APPLIED:
            return True
        if outcome == stats_store.CONFLICT:
            time.sleep(min(1.0, 0.02 * 2**attempt) * random.random())
    raise RuntimeError(f"could not count event {event.case_id} v{event.version}")


_readers: dict[tuple[str, str], stats_store.StreamReader] = {}


def pump_audit_stream(settings: Settings) -> int:
    """Stage local: `chalice local` runs no stream handlers, so make run's pump reads the
    events table's stream itself (iterators kept in memory) and feeds aggregate_records."""
    key = (settings.table_name("events"), settings.region)
    reader = _readers.get(key)
    if reader is None:
        reader = _readers[key] = stats_store.StreamReader(settings, "events")
    return aggregate_records(settings, reader.read())


def reset_pump() -> None:
    """Forget the stream readers (tests start each emulated AWS afresh)."""
    _readers.clear()


# -- the operators' figures -----------------------------------------------------------------
def _today() -> Any:
    return clock.now().astimezone(workdays.SHANGHAI).date()


def stale_directory() -> list[dict[str, Any]]:
    """Directory entries with facts unverified for longer than their threshold (90 days by
    default), for operators."""
    directory, today = load_directory(), _today()
    out = []
    for key, entry in directory.entries.items():
        stale = entry.stale_facts(today)
        if stale:
            out.append({"company": key, "type": entry.type, "stale_facts": stale})
    return out


def _company_figures(settings: Settings) -> list[tuple[Any, dict[str, Any], dict[str, int]]]:
    workflow, directory = load_workflow(), load_directory()
    open_states = workflow.open_states()
    settled = [s for s in workflow.states if s not in open_states]
    out = []
    for key, entry in directory.entries.items():
        raw = stats_store.figures(settings, insight.company_scope(key))
        out.append((entry, insight.company_figures(raw, open_states, settled), raw))
    return out


def admin_stats(settings: Settings) -> dict[str, Any]:
    workflow = load_workflow()
    open_states = workflow.open_states()
    settled = [s for s in workflow.states if s not in open_states]
    today = _today()
    companies, raws = [], []
    for entry, figures, raw in _company_figures(settings):
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


# -- the public scorecard -------------------------------------------------------------------
def scorecard(settings: Settings) -> dict[str, Any]:
    return {
        "generated_at": clock.iso(clock.now()),
        "min_cases": insight.MIN_PUBLIC_CASES,
        "companies": [
            {
                "company": entry.key,
                "type": entry.type,
                "name_zh": entry.name_zh,
                "name_en": entry.name_en,
                "figures": insight.scorecard_figures(figures),
            }
            for entry, figures, _ in _company_figures(settings)
        ],
    }


# -- hotspots -------------------------------------------------------------------------------
def _week(raw: str | None) -> str:
    if not raw:
        return insight.iso_week(clock.now())
    try:
        return insight.week_of(insight.parse_week(raw))
    except ValueError:
        raise validation_failed([FieldError("week", "must be an ISO week like 2026-W48")]) from None


@overload
def _company(raw: str | None, required: Literal[True]) -> str: ...
@overload
def _company(raw: str | None, required: bool = False) -> str | None: ...
def _company(raw: str | None, required: bool = False) -> str | None:
    if not raw:
        if required:
            raise validation_failed([FieldError("company", "is required")])
        return None
    if raw not in load_directory().entries:
        raise validation_failed([FieldError("company", "is not a company in the directory")])
    return raw


def _cells(settings: Settings, week: str) -> dict[tuple[str, str, str], int]:
    """(company, province, city) → filings in that week."""
    out = {}
    for cell, count in stats_store.figures(settings, insight.hot_scope(week)).items():
        company, province, city = [*cell.split("#"), "", ""][:3]
        if count:
            out[(company, province, city)] = count
    return out


def hotspots(settings: Settings, query: dict[str, str]) -> dict[str, Any]:
    """Filings by region × company in one ISO week against the 8 weeks before it."""
    week = _week(query.get("week"))
    company = _company(query.get("company"))
    spikes_only = paging.flag(query.get("spikes_only"), "spikes_only")
    baseline_weeks = insight.previous_weeks(week)
    current = _cells(settings, week)
    history = [_cells(settings, w) for w in baseline_weeks]
    cells: list[dict[str, Any]] = []
    for (co, province, city), count in current.items():
        if company and co != company:
            continue
        verdict = insight.assess(count, [h.get((co, province, city), 0) for h in history])
        if spikes_only and not verdict.spike:
            continue
        region = insight.region_label(province, city)
        cells.append(
            {
                "region": region,
                "province": province,
                "city": city,
                "company": co,
                "week": week,
                "count": count,
                "baseline_mean": verdict.baseline_mean,
                "threshold": verdict.threshold,
                "spike": verdict.spike,
                "drill": {"week": week, "region": region, "company": co},
            }
        )
    cells.sort(key=lambda c: (not c["spike"], -c["count"], c["region"], c["company"]))
    return {
        "week": week,
        "baseline_weeks": baseline_weeks,
        "rule": {
            "min_count": insight.SPIKE_MIN_COUNT,
            "factor": insight.SPIKE_FACTOR,
            "baseline_weeks": insight.BASELINE_WEEKS,
            "text": "spike when count ≥ 5 and count ≥ 3 × (mean weekly count of the same "
            "region × company over the 8 weeks before + 1)",
        },
        "spike_count": sum(c["spike"] for c in cells),
        "cells": cells,
    }


def hotspot_cases(settings: Settings, query: dict[str, str]) -> dict[str, Any]:
    """The masked cases behind one hotspot cell, a page at a time (index Query + BatchGet)."""
    if not query.get("week"):
        raise validation_failed([FieldError("week", "is required")])
    week = _week(query["week"])
    company = _company(query.get("company"), required=True)
    region = (query.get("region") or "").strip()
    if not region or len(region) > 40:
        raise validation_failed([FieldError("region", "is required (a cell's `region`)")])
    province, city = insight.split_region(region)
    limit = paging.limit(query.get("limit"))
    scope = insight.hot_index_scope(week, company, province, city)
    start = paging.decode(settings.token_key, scope, query.get("cursor"))
    ids, next_key = stats_store.index_page(settings, scope, limit, start)
    found = {c.case_id: c for c in case_store.get_cases(ids)}
    items = []
    for case_id in ids:
        case = found.get(case_id)
        if case is None:  # erased by the person since (or expired): nothing left to show
            items.append({"case_id": case_id, "state": "erased", "phone_masked": None})
            continue
        items.append(
            {
                "case_id": case.case_id,
                "phone_masked": case.phone_masked,
                "state": case.state,
                "company": case.company,
                "lane": case.lane,
                "reason": case.reason,
                "phone_region": case.phone_region,
                "created_at": case.created_at,
            }
        )
    return {
        "week": week,
        "region": insight.region_label(province, city),
        "company": company,
        "items": items,
        "next_cursor": paging.encode(settings.token_key, scope, next_key),
    }


# -- the operators' case export -------------------------------------------------------------
CSV_COLUMNS = (
    "case_id",
    "company",
    "kind",
    "lane",
    "reason",
    "state",
    "action_on",
    "reported_count",
    "expected_count",
    "phone_masked",
    "phone_region",
    "created_at",
    "updated_at",
    "due_at",
    "overdue",
    "version",
    "routed_from",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # A spreadsheet would run a cell that starts like a formula (CSV injection).
    return "'" + text if text.startswith(_FORMULA_START) else text


def cases_csv(settings: Settings, query: dict[str, str]) -> tuple[str, str | None]:
    """One page of the operators' case list as CSV (masked numbers, no free text: a person's
    note may hold a whole number), and the cursor of the next page."""
    page = queues.admin_cases(settings, query)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in page["items"]:
        writer.writerow([_cell(item.get(c)) for c in CSV_COLUMNS])
    return out.getvalue(), page["next_cursor"]


# -- directory staleness for a company's liaison -------------------------------------------
def directory_status(company: str) -> dict[str, Any]:
    entry = load_directory().get(company)
    today = _today()
    limit = entry.deadlines["stale_after_days"]
    stale = entry.stale_facts(today)
    facts = {}
    for name, fact in entry.facts().items():
        facts[name] = {
            "confidence": fact.confidence,
            "source_url": fact.source_url,
            "verified_at": fact.verified_at.isoformat() if fact.verified_at else None,
            "days_since_verified": (today - fact.verified_at).days if fact.verified_at else None,
            "stale": name in stale,
        }
    return {
        "company": entry.key,
        "name_zh": entry.name_zh,
        "as_of": today.isoformat(),
        "stale_after_days": limit,
        "stale": bool(stale),
        "stale_facts": stale,
        "facts": facts,
    }
