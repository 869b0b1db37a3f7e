"""The public scorecard: each company's figures, each shown only where enough cases stand
behind it (insight.MIN_PUBLIC_CASES). The route sets how long a copy may be cached."""

from __future__ import annotations

from typing import Any

from chalicelib.config import Settings
from chalicelib.domain import clock, insight
from chalicelib.services import company_figures


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
            for entry, figures, _ in company_figures.read(settings)
        ],
    }
