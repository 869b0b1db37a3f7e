"""Mainland mobile numbers (docs/design.md §6): parsing to E.164, rejection as a 422, masking.

Pure domain tests: no AWS, no moto.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import Problem
from chalicelib.domain.phone import MobileNumber, parse_mobile

E164 = "+8613800138000"

SAME_NUMBER = [
    "+86 138 0013 8000",
    "13800138000",
    "0086 138-0013-8000",
    "+86-138-0013-8000",
    " 138 0013 8000 ",
    "+8613800138000",
    "008613800138000",
    "(+86) 138 0013 8000",
    "138-0013-8000",
    "\t13800138000\n",
]


def assert_rejected(raw: Any, field: str = "phone") -> Problem:
    with pytest.raises(Problem) as exc:
        parse_mobile(raw, field)
    problem = exc.value
    assert problem.status == 422
    assert problem.code == "validation_failed"
    assert [e.field for e in problem.errors] == [field]
    assert problem.errors[0].message
    return problem


@pytest.mark.parametrize("raw", SAME_NUMBER)
def test_formats_of_one_number_parse_to_one_e164(raw: str) -> None:
    assert parse_mobile(raw) == MobileNumber(E164)
    assert parse_mobile(raw).e164 == E164


def test_full_width_digits_from_a_chinese_ime() -> None:
    assert parse_mobile("１３８００１３８０００").e164 == E164


@pytest.mark.parametrize(
    "raw",
    ["13912345678", "15012345678", "18612345678", "19912345678", "17712345678", "+86 166 12345678"],
)
def test_other_mainland_mobile_ranges(raw: str) -> None:
    number = parse_mobile(raw)
    assert number.e164.startswith("+861") and len(number.e164) == 14
    assert number.national == number.e164.removeprefix("+86")


@pytest.mark.parametrize(
    "raw",
    [
        "+1 202 555 0123",  # United States
        "+12025550123",
        "+852 9123 4567",  # Hong Kong mobile
        "+853 6612 3456",  # Macau
        "+886 912 345 678",  # Taiwan
        "+44 7911 123456",  # United Kingdom mobile
        "010 1234 5678",  # Beijing fixed line
        "+86 10 1234 5678",
        "021-6123-4567",  # Shanghai fixed line
        "95017",  # service number
        "400-810-8888",
        "110",
    ],
)
def test_non_mainland_and_fixed_lines_are_rejected(raw: str) -> None:
    assert_rejected(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        " ",
        "1",
        "1380013800",  # 10 digits
        "138001380000",  # 12 digits
        "+86 138 0013 800",
        "+86",
        "+",
        "0086",
        "12345678901",  # no such range
        "0086 0086 13800138000",
    ],
)
def test_too_short_too_long_or_invalid(raw: str) -> None:
    assert_rejected(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "phone",
        "138OO138OOO",  # letter O for zero: keypad letters would map O to 6, another number
        "1380013800O",
        "1-800-FLOWERS",
        "13800138000 ext. 12",
        "13800138000;ext=5",
        "tel:+86-138-0013-8000",
        "一三八〇〇一三八〇〇〇",
    ],
)
def test_letters_are_rejected(raw: str) -> None:
    assert_rejected(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "1380013\x008000",
        "13800138000\x00",
        "138\x1b[0m00138000",
        "138\u200b00138000",  # zero-width space
        "138\u202e00138000",  # right-to-left override
        "13800\r\n138000",
        "138\x7f00138000",
    ],
)
def test_control_characters_are_rejected(raw: str) -> None:
    assert_rejected(raw)


@pytest.mark.parametrize(
    "raw", [13800138000, 8613800138000, None, ["13800138000"], {"phone": "1"}, 1.38e10, True, b"1"]
)
def test_non_strings_are_rejected(raw: Any) -> None:
    problem = assert_rejected(raw)
    assert "string" in problem.errors[0].message


def test_very_long_strings_are_rejected_quickly() -> None:
    assert_rejected("1" * 10_000)
    assert_rejected("13800138000" + " " * 10_000 + "1")
    assert_rejected("+86 " + "138 0013 8000 " * 700)


def test_field_name_is_the_callers() -> None:
    assert_rejected("nope", field="target_phone")


def test_mask_shows_prefix_and_last_four() -> None:
    number = parse_mobile("+86 138 0013 8000")
    assert number.masked == "138****8000"
    assert number.national == "13800138000"
    assert "13800138000" not in number.masked
    assert parse_mobile("18612345678").masked == "186****5678"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=64))
def test_arbitrary_text_only_ever_raises_problem(raw: str) -> None:
    try:
        number = parse_mobile(raw)
    except Problem as problem:
        assert problem.status == 422
        assert [e.field for e in problem.errors] == ["phone"]
    else:
        assert number.e164.startswith("+861") and len(number.e164) == 14
        assert number.e164[1:].isdigit()


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet="0123456789+-() .", max_size=40)
    | st.from_regex(r"\A(\+86|0086)?[ -]?1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4}\Z")
)
def test_phone_shaped_text_only_ever_raises_problem(raw: str) -> None:
    try:
        number = parse_mobile(raw)
    except Problem as problem:
        assert problem.status == 422
    else:
        digits = "".join(c for c in raw if c.isdigit())
        assert digits.endswith(number.national)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["13", "14", "15", "16", "17", "18", "19"]),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
    st.sampled_from(["{n}", "+86{n}", "+86 {n}", "0086{n}", "0086 {n}", " {n} ", "+86-{n}"]),
)
def test_valid_numbers_round_trip_through_every_format(prefix: str, rest: str, fmt: str) -> None:
    national = prefix + rest
    spaced = f"{national[:3]} {national[3:7]} {national[7:]}"
    try:
        bare = parse_mobile(national)
    except Problem:
        # Not an allocated range: no formatting of it may be accepted either.
        for text in (fmt.format(n=national), fmt.format(n=spaced)):
            with pytest.raises(Problem):
                parse_mobile(text)
        return
    assert bare.e164 == "+86" + national
    assert parse_mobile(fmt.format(n=national)) == bare
    assert parse_mobile(fmt.format(n=spaced)) == bare
