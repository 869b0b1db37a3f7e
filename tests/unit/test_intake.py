"""Dispute intake (docs/design.md §3): what a filing may hold, and triage, with the real directory.

Pure domain tests: no AWS, no moto.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.directory import Directory, load_directory
from chalicelib.domain.errors import Problem
from chalicelib.domain.intake import (
    MAX_NOTE,
    REASONS,
    DisputeItem,
    DisputeRequest,
    extra_advice,
    parse_dispute,
)
from chalicelib.domain.redaction import mask_personal_numbers

COMPANIES = ["tencent", "alibaba", "alipay", "baidu", "kuaishou", "douyin", "jd", "meituan"]
CARRIERS = ["china_mobile", "china_unicom", "china_telecom", "china_broadnet"]


@pytest.fixture(scope="module")
def directory() -> Directory:
    return load_directory()


def item(company: str = "tencent", **over: Any) -> dict[str, Any]:
    return {
        "company": company,
        "reported_count": 5,
        "expected_count": 2,
        "reason": "not_mine",
        **over,
    }


def rejected(body: dict[str, Any], directory: Directory) -> Problem:
    with pytest.raises(Problem) as exc:
        parse_dispute(body, directory)
    assert exc.value.status == 422
    return exc.value


def fields(problem: Problem) -> list[str]:
    return [e.field for e in problem.errors]


def test_the_spec_reasons() -> None:
    assert set(REASONS) == {
        "not_mine",
        "recycled_number",
        "fraud_suspected",
        "count_too_low",
        "family_use",
        "forgot_own",
        "other",
    }


def test_a_plain_filing(directory: Directory) -> None:
    request = parse_dispute({"items": [item(), item("jd", note=" 不是我注册的 ")]}, directory)
    assert request == DisputeRequest(
        "accounts",
        (
            DisputeItem("tencent", 5, 2, "not_mine", None),
            DisputeItem("jd", 5, 2, "not_mine", "不是我注册的"),
        ),
    )
    assert [i.lane for i in request.items] == ["standard", "standard"]


@pytest.mark.parametrize("company", COMPANIES)
def test_accounts_accept_every_company(directory: Directory, company: str) -> None:
    request = parse_dispute({"kind": "accounts", "items": [item(company)]}, directory)
    assert request.kind == "accounts" and request.items[0].company == company


@pytest.mark.parametrize("carrier", CARRIERS)
def test_accounts_refuse_carriers(directory: Directory, carrier: str) -> None:
    problem = rejected({"items": [item(carrier)]}, directory)
    assert problem.code == "validation_failed"
    assert fields(problem) == ["items[0].company"]


@pytest.mark.parametrize("carrier", CARRIERS)
def test_sim_cards_accept_every_carrier(directory: Directory, carrier: str) -> None:
    request = parse_dispute({"kind": "sim_cards", "items": [item(carrier)]}, directory)
    assert request.kind == "sim_cards" and request.items[0].company == carrier


@pytest.mark.parametrize("company", COMPANIES)
def test_sim_cards_refuse_companies(directory: Directory, company: str) -> None:
    problem = rejected({"kind": "sim_cards", "items": [item(company)]}, directory)
    assert fields(problem) == ["items[0].company"]
    # The message tells the person what they may name instead.
    assert "china_mobile" in problem.errors[0].message


@pytest.mark.parametrize("company", ["", "Tencent", "wechat", "tencent ", "unknown", "微信"])
def test_unknown_companies(directory: Directory, company: str) -> None:
    assert fields(rejected({"items": [item(company)]}, directory)) == ["items[0].company"]


def test_unknown_kind_is_a_field_error_not_a_crash(directory: Directory) -> None:
    problem = rejected({"kind": "phones", "items": [item()]}, directory)
    assert fields(problem) == ["items[0].company"]


def test_duplicate_company(directory: Directory) -> None:
    body = {"items": [item("tencent"), item("jd"), item("tencent", reason="other")]}
    problem = rejected(body, directory)
    assert problem.code == "validation_failed"
    assert fields(problem) == ["items[2].company"]
    assert "more than once" in problem.errors[0].message


def test_no_discrepancy(directory: Directory) -> None:
    body = {"items": [item("tencent"), item("jd", reported_count=3, expected_count=3)]}
    problem = rejected(body, directory)
    assert problem.code == "no_discrepancy"
    assert fields(problem) == ["items[1].expected_count"]


def test_no_discrepancy_at_zero(directory: Directory) -> None:
    problem = rejected({"items": [item(reported_count=0, expected_count=0)]}, directory)
    assert problem.code == "no_discrepancy"


def test_count_too_low_is_a_discrepancy_upwards(directory: Directory) -> None:
    request = parse_dispute(
        {"items": [item(reported_count=0, expected_count=2, reason="count_too_low")]}, directory
    )
    assert request.items[0].expected_count == 2


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("reported_count", -1),
        ("reported_count", 1000),
        ("reported_count", True),
        ("reported_count", 1.5),
        ("reported_count", "5"),
        ("expected_count", None),
        ("expected_count", 10**6),
    ],
)
def test_bad_counts(directory: Directory, key: str, value: Any) -> None:
    problem = rejected({"items": [item(**{key: value})]}, directory)
    assert problem.code == "validation_failed"
    assert fields(problem) == [f"items[0].{key}"]


def test_every_bad_field_is_reported_at_once(directory: Directory) -> None:
    body = {
        "items": [
            item("nobody", reported_count=-1),
            item("jd", note="a\x00b"),
        ]
    }
    problem = rejected(body, directory)
    assert fields(problem) == ["items[0].company", "items[0].reported_count", "items[1].note"]


# --- the note ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "note",
    [
        "tab\there",
        "nul\x00",
        "bell\x07",
        "esc\x1b[31m",
        "del\x7f",
        "c1\x85mid",
        "c1\x9bmid",
        "sep\u2028mid",
        "sep\u2029mid",
    ],
)
def test_note_with_control_characters(directory: Directory, note: str) -> None:
    problem = rejected({"items": [item(note=note)]}, directory)
    assert fields(problem) == ["items[0].note"]
    assert "control" in problem.errors[0].message


def test_note_keeps_line_breaks_from_a_text_area(directory: Directory) -> None:
    ok = parse_dispute({"items": [item(note="line one\r\nline two")]}, directory)
    assert ok.items[0].note == "line one\nline two"


@pytest.mark.parametrize("note", ["rtl\u202eevil", "zero\u200bwidth", "bom\ufeffmid"])
def test_note_with_format_characters(directory: Directory, note: str) -> None:
    problem = rejected({"items": [item(note=note)]}, directory)
    assert fields(problem) == ["items[0].note"]


def test_note_length_limit(directory: Directory) -> None:
    assert MAX_NOTE == 200
    ok = parse_dispute({"items": [item(note="字" * 200)]}, directory)
    assert ok.items[0].note == "字" * 200
    problem = rejected({"items": [item(note="字" * 201)]}, directory)
    assert fields(problem) == ["items[0].note"]
    assert "200" in problem.errors[0].message


def test_note_is_trimmed_before_the_limit(directory: Directory) -> None:
    padded = "  \r\n" + "a" * 200 + " \u3000\n "
    assert parse_dispute({"items": [item(note=padded)]}, directory).items[0].note == "a" * 200


def test_a_control_character_is_refused_at_the_ends_too(directory: Directory) -> None:
    """As the document's pattern says (domain/intake.py TEXT_PATTERN): a tab is a control
    character wherever it is, not whitespace to trim."""
    for note in ("a\t", "\ta", "a\r", "\x1fa"):
        assert fields(rejected({"items": [item(note=note)]}, directory)) == ["items[0].note"]


@pytest.mark.parametrize("note", [None, "", "   ", "\n\u3000 "])
def test_empty_note_is_none(directory: Directory, note: str | None) -> None:
    assert parse_dispute({"items": [item(note=note)]}, directory).items[0].note is None


def test_note_must_be_text(directory: Directory) -> None:
    problem = rejected({"items": [item(note=42)]}, directory)
    assert fields(problem) == ["items[0].note"]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=260))
def test_any_note_is_clean_or_a_field_error(note: str) -> None:
    directory = load_directory()
    try:
        request = parse_dispute({"items": [item(note=note)]}, directory)
    except Problem as problem:
        assert problem.status == 422
        assert fields(problem) == ["items[0].note"]
    else:
        kept = request.items[0].note
        if kept is not None:
            # As typed, but for a mobile or ID number in it (tests/unit/test_redaction.py).
            assert kept == mask_personal_numbers(note.strip().replace("\r\n", "\n"))
            assert len(kept) <= MAX_NOTE
            # Only a text area's line break survives among control characters.
            assert all(c == "\n" or (ord(c) >= 32 and not 0x7F <= ord(c) < 0xA0) for c in kept)


# --- triage -----------------------------------------------------------------------------------


def test_fraud_suspected_takes_the_fraud_lane_with_advice(directory: Directory) -> None:
    request = parse_dispute(
        {"items": [item("jd", reason="fraud_suspected"), item("tencent")]}, directory
    )
    fraud, plain = request.items
    assert fraud.lane == "fraud"
    assert plain.lane == "standard"
    advice = extra_advice(fraud.reason)
    assert [a["code"] for a in advice] == ["report_fraud"]
    assert "96110" in advice[0]["text"]
    assert "公安" in advice[0]["text"]
    assert extra_advice(plain.reason) == []


@pytest.mark.parametrize("reason", [r for r in REASONS if r != "fraud_suspected"])
def test_other_reasons_stay_in_the_standard_lane(directory: Directory, reason: str) -> None:
    request = parse_dispute({"items": [item(reason=reason)]}, directory)
    assert request.items[0].lane == "standard"
    assert not any("96110" in a["text"] for a in extra_advice(request.items[0].reason))
