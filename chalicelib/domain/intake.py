"""Dispute intake rules: what a filing may contain, and triage before routing. No AWS here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from chalicelib.domain import advice
from chalicelib.domain.directory import Directory
from chalicelib.domain.errors import FieldError, Problem, validation_failed
from chalicelib.domain.redaction import mask_personal_numbers

REASONS = (
    "not_mine",
    "recycled_number",
    "fraud_suspected",
    "count_too_low",
    "family_use",
    "forgot_own",
    "other",
)
KINDS = ("accounts", "sim_cards")
MAX_COUNT = 999
MAX_NOTE = 200
MAX_ITEMS = 12

# Control and format characters (bidi overrides, zero-width) and line or paragraph separators
# can disguise what a liaison or the person reads: free text refuses them, but for the line
# breaks of a form's text area (LF, CRLF). The Unicode categories Cc, Cf, Zl and Zp as ranges,
# so that the API's document states the very rule that is applied (TEXT_PATTERN);
# tests/unit/test_intake_text.py holds them to unicodedata.
REFUSED_IN_TEXT = (
    (0x0, 0x9),
    (0xB, 0x1F),
    (0x7F, 0x9F),
    (0xAD, 0xAD),
    (0x600, 0x605),
    (0x61C, 0x61C),
    (0x6DD, 0x6DD),
    (0x70F, 0x70F),
    (0x890, 0x891),
    (0x8E2, 0x8E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)


def _char(code: int) -> str:
    # \uXXXX reads the same in Python's and ECMA-262's regular expressions; beyond the BMP
    # the character itself (ECMA-262 has no escape for it without the u flag).
    return f"\\u{code:04x}" if code <= 0xFFFF else chr(code)


TEXT_PATTERN = (
    "^(?:[^"
    + "".join(_char(a) + (f"-{_char(b)}" if b > a else "") for a, b in REFUSED_IN_TEXT)
    + "]|\\r\\n)*$"
)
_TEXT_ALLOWED = re.compile(TEXT_PATTERN)
TEXT_REFUSED = "must not contain control or formatting characters"


@dataclass(frozen=True)
class DisputeItem:
    company: str
    reported_count: int
    expected_count: int
    reason: str
    note: str | None

    @property
    def lane(self) -> str:
        """fraud_suspected takes the fraud lane: shorter deadlines, advice to report."""
        return "fraud" if self.reason == "fraud_suspected" else "standard"


@dataclass(frozen=True)
class DisputeRequest:
    kind: str
    items: tuple[DisputeItem, ...]


def clean_text(value: Any, field: str, max_len: int, errors: list[FieldError]) -> str | None:
    """Free text shown to people: a string, trimmed, no control characters, bounded, and with
    any mobile or ID number in it masked (it is stored and shown to liaisons)."""
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append(FieldError(field, "must be a string"))
        return None
    if not _TEXT_ALLOWED.search(value):  # REFUSED_IN_TEXT, anywhere: as the document says
        errors.append(FieldError(field, TEXT_REFUSED))
        return None
    text = value.replace("\r\n", "\n").strip()
    if len(text) > max_len:
        errors.append(FieldError(field, f"must be at most {max_len} characters"))
        return None
    return mask_personal_numbers(text) or None


def _count(value: Any, field: str, errors: list[FieldError]) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append(FieldError(field, "must be a whole number"))
        return 0
    if not 0 <= value <= MAX_COUNT:
        errors.append(FieldError(field, f"must be between 0 and {MAX_COUNT}"))
        return 0
    return value


def parse_dispute(body: dict[str, Any], directory: Directory) -> DisputeRequest:
    """Validates a filing that already passed the schema (types, unknown fields)."""
    errors: list[FieldError] = []
    kind = body.get("kind", "accounts")
    allowed = directory.keys_for_kind(kind) if kind in KINDS else []
    items: list[DisputeItem] = []
    seen: set[str] = set()
    for i, raw in enumerate(body["items"]):
        at = f"items[{i}]"
        company = raw["company"]
        if company not in allowed:
            errors.append(
                FieldError(f"{at}.company", f"must be one of {', '.join(allowed)} for kind {kind}")
            )
        elif company in seen:
            errors.append(FieldError(f"{at}.company", "appears more than once"))
        seen.add(company)
        reported = _count(raw["reported_count"], f"{at}.reported_count", errors)
        expected = _count(raw["expected_count"], f"{at}.expected_count", errors)
        note = clean_text(raw.get("note"), f"{at}.note", MAX_NOTE, errors)
        items.append(DisputeItem(company, reported, expected, raw["reason"], note))
    if errors:
        raise validation_failed(errors)
    same = [i for i, item in enumerate(items) if item.reported_count == item.expected_count]
    if same:
        raise Problem(
            422,
            "no_discrepancy",
            "Nothing to dispute",
            "The expected count equals the reported count; a case needs a difference",
            errors=[
                FieldError(f"items[{i}].expected_count", "equals reported_count") for i in same
            ],
        )
    return DisputeRequest(kind, tuple(items))


def extra_advice(reason: str) -> list[dict[str, str]]:
    """Triage advice that comes before the company's own steps."""
    return [advice.item("report_fraud")] if reason == "fraud_suspected" else []
