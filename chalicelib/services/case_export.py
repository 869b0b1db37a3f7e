"""The operators' case export: one page of the case list as CSV, with masked numbers, no free
text, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from typing import Any

from chalicelib.config import Settings
from chalicelib.domain.redaction import mask_personal_numbers
from chalicelib.services import queues

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
    "reopened_from",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    # Every cell is a code, a date or a masked number; masked again anyway, in case a column
    # ever carries text (docs/design.md §8: the one redaction for storage, logs and exports).
    text = mask_personal_numbers(str(value))
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
