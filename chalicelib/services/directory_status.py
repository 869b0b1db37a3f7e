"""How fresh the directory's facts are: which are unverified for longer than their entry's
threshold (90 days by default), for a company's liaison and for operators."""

from __future__ import annotations

from typing import Any

from chalicelib.domain import clock, workdays
from chalicelib.domain.directory import load_directory


def shanghai_today() -> Any:
    """Today's date in Shanghai, the day staleness is counted to."""
    return clock.now().astimezone(workdays.SHANGHAI).date()


def stale_directory() -> list[dict[str, Any]]:
    """Directory entries with facts unverified for longer than their threshold (90 days by
    default), for operators."""
    directory, today = load_directory(), shanghai_today()
    out = []
    for key, entry in directory.entries.items():
        stale = entry.stale_facts(today)
        if stale:
            out.append({"company": key, "type": entry.type, "stale_facts": stale})
    return out


def directory_status(company: str) -> dict[str, Any]:
    entry = load_directory().get(company)
    today = shanghai_today()
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
