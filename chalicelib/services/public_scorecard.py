"""The public scorecard: each company's figures, each shown only where enough cases stand
behind it (insight.MIN_PUBLIC_CASES). Public, so anyone may ask for it as often as they like:
it is read from the minute's summary (one request) and then served from this process's copy
for `scorecard_cache_seconds` (60 by default), so a flood of requests costs no DynamoDB
request after the first. The route lets API Gateway or a CDN cache it too."""

from __future__ import annotations

import threading
import time
from typing import Any

from chalicelib.config import Settings
from chalicelib.domain import clock, insight
from chalicelib.services import company_figures, stats_summary

_copy: dict[str, Any] = {}
_lock = threading.Lock()


def scorecard(settings: Settings) -> dict[str, Any]:
    now = time.monotonic()
    with _lock:
        fresh = now - _copy.get("at", now) < settings.scorecard_cache_seconds
        if _copy.get("prefix") == settings.table_prefix and fresh:
            return dict(_copy["card"])
    card = _build(settings)
    with _lock:
        _copy.update(prefix=settings.table_prefix, at=now, card=card)
    return dict(card)


def reset() -> None:
    """Tests start each emulated AWS afresh."""
    with _lock:
        _copy.clear()


def _build(settings: Settings) -> dict[str, Any]:
    counted, as_of = stats_summary.read(settings)
    return {
        "generated_at": clock.iso(clock.now()),
        "as_of": as_of,
        "min_cases": insight.MIN_PUBLIC_CASES,
        "companies": [
            {
                "company": entry.key,
                "type": entry.type,
                "name_zh": entry.name_zh,
                "name_en": entry.name_en,
                "figures": insight.scorecard_figures(figures),
            }
            for entry, figures, _ in company_figures.read(counted)
        ],
    }
