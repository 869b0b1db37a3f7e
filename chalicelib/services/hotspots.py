"""Fraud hotspots: filings by region × company in one ISO week against the weeks before it,
and the masked cases behind one cell (the hotspot index by Query, the cases by key)."""

from __future__ import annotations

from typing import Any, Literal, overload

from chalicelib.adapters import case_store, stats_store
from chalicelib.config import Settings
from chalicelib.domain import clock, insight
from chalicelib.domain.directory import load_directory
from chalicelib.domain.errors import FieldError, validation_failed
from chalicelib.services import paging


def _week(raw: str | None) -> str:
    if not raw:
        return insight.iso_week(clock.now())
    try:
        return insight.week_of(insight.parse_week(raw))
    except ValueError as exc:  # parse_week says which: the shape, or the calendar's ends
        raise validation_failed([FieldError("week", str(exc))]) from None


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
