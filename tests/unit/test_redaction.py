"""Numbers typed into free text are masked before storing (docs/design.md §8). Pure domain."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.actions import parse_params
from chalicelib.domain.redaction import mask_personal_numbers
from chalicelib.domain.workflow import load_workflow

FULL_WIDTH = str.maketrans("0123456789+X", "０１２３４５６７８９＋Ｘ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的号码13800138000被别人注册了", "我的号码138****8000被别人注册了"),
        ("138 0013 8000", "138****8000"),
        ("138-0013-8000。", "138****8000。"),
        ("+86 138 0013 8000", "138****8000"),
        ("0086-13800138000", "138****8000"),
        ("8613800138000", "138****8000"),
        ("137 0013\n7000", "137****7000"),  # a text area's line break inside the number
        ("两个号13800138000和19912345678", "两个号138****8000和199****5678"),
        ("１３８００１３８０００", "138****8000"),  # full-width, from a Chinese IME
        ("身份证11010119800112345X", "身份证" + "*" * 18),
        ("身份证 110101 19800112 345x", "身份证 ****** ******** ****"),
        ("老身份证110101800112345", "老身份证" + "*" * 15),
    ],
)
def test_personal_numbers_are_masked(text: str, expected: str) -> None:
    assert mask_personal_numbers(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "客服电话95188，或拨打400-670-0700",  # company hotlines
        "座机010-12345678",
        "QQ号123456789不是我的",
        "工单号202611271234567890",  # 18 digits, but no birth date where an ID has one
        "订单 202611271234567",  # 15 digits, likewise
        "数量从3变成12个，2026年11月27日",
        "号码138001380001",  # 12 digits: not a mobile number
        "",
    ],
)
def test_other_numbers_stay_as_written(text: str) -> None:
    assert mask_personal_numbers(text) == text


def test_full_width_digits_outside_a_number_are_left_alone() -> None:
    assert mask_personal_numbers("数量从３变成１２个") == "数量从３变成１２个"


_MOBILE = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
_FORMATS = st.sampled_from(
    [
        lambda n: n,
        lambda n: f"{n[:3]} {n[3:7]} {n[7:]}",
        lambda n: f"{n[:3]}-{n[3:7]}-{n[7:]}",
        lambda n: f"+86 {n}",
        lambda n: f"0086{n}",
        lambda n: n.translate(FULL_WIDTH),
    ]
)
# Text around the number that does not itself end or start with a digit.
_AROUND = st.text(st.characters(blacklist_categories=("Nd", "Cs")), max_size=30)


@settings(max_examples=200, deadline=None)
@given(_MOBILE, _FORMATS, _AROUND, _AROUND)
def test_a_mobile_number_never_survives_in_any_format(number, form, before, after) -> None:
    masked = mask_personal_numbers(before + form(number) + after)
    digits = re.sub(
        r"\D", "", masked.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    )
    assert number not in digits
    assert f"{number[:3]}****{number[-4:]}" in masked
    assert masked.startswith(before) and masked.endswith(after)
    assert mask_personal_numbers(masked) == masked  # masking twice changes nothing


def test_a_liaisons_message_and_internal_note_are_masked_too() -> None:
    respond = load_workflow().actions["respond"]
    params = parse_params(
        respond,
        {
            "response_code": "accounts_unbound",
            "message": "已核实13800138000名下账号",
            "internal_note": "证件11010119800112345X",
        },
        ["tencent"],
    )
    assert params.message == "已核实138****8000名下账号"
    assert params.internal_note == "证件" + "*" * 18
