"""Numbers typed into free text are masked before storing (docs/design.md §8). Pure domain."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.actions import parse_params
from chalicelib.domain.redaction import CHINESE_DIGITS, mask_personal_numbers
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
        # Issue 15: any separators, any digits.
        ("138.0013.8000", "138****8000"),
        ("138  0013  8000", "138****8000"),
        ("(138)0013-8000", "138****8000"),  # the bracket the number closes goes with it
        ("号码（138）0013-8000。", "号码138****8000。"),
        ("138 0013 (8000)", "138****8000"),
        ("1 3 8 0 0 1 3 8 0 0 0", "138****8000"),
        ("138_0013_8000", "138****8000"),
        ("138/0013/8000", "138****8000"),
        ("138 -_0013. /8000", "138****8000"),  # mixed runs, up to three characters
        ("138\u30000013\u30008000", "138****8000"),  # ideographic space
        ("一三八零零一三八零零零", "138****8000"),
        ("号码是幺三八 零零幺三 八零零零", "号码是138****8000"),
        ("一三八〇〇一三八〇〇〇。", "138****8000。"),
        ("١٣٨٠٠١٣٨٠٠٠", "138****8000"),  # Arabic-Indic
        ("۱۳۸۰۰۱۳۸۰۰۰", "138****8000"),  # Extended Arabic-Indic (Persian)
        ("१३८००१३८०००", "138****8000"),  # Devanagari
        ("1\u03033\u03038\u03030\u03030\u030313800\u03030\u0303", "138****8000"),
        ("1\u200b38\u200d0013\u20608000", "138****8000"),  # format characters
        ("+86.138.0013.8000", "138****8000"),
        ("(+86) 138 0013 8000", "138****8000"),
        ("＋８６ １３８ ００１３ ８０００", "138****8000"),
        ("0086-138-0013-8000", "138****8000"),
        ("tel138-0013-8000", "tel138****8000"),
        ("13800138000x", "138****8000x"),
        ("13800138000一直被别人占用", "138****8000一直被别人占用"),  # one numeral is a word
        ("13800138000一二三", "138****8000一二三"),
        ("1380013800零", "138****8000"),  # two scripts in one number
        ("13800138000 13900139000", "138****8000 139****9000"),
        ("13800138000，共3个账号", "138****8000，共3个账号"),
        ("身份证110101.19800112.345X", "身份证******.********.****"),
        ("身份证110101-19800112-345x", "身份证******-********-****"),
        ("证件号１１０１０１１９８００１１２３４５Ｘ", "证件号" + "*" * 18),
        ("老身份证一一零一零一八零零一一二三四五", "老身份证" + "*" * 15),
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
        "95188",
        "客服95555，10086，12315，反诈96110",
        "400 670 0700",
        "400.670.0700",
        "座机0755-8888 8888",
        "座机(010)12345678",
        "3个账号",
        "一个账号，两张卡，一二三",
        "二〇二六年十二月一日",
        "2026-12-01",
        "2026.12.01 10:30",
        "2026-11-27T02:00:00.123456Z",
        "案件C7K78Y458S",
        "K0000012345",
        "D123456789",
        "金额¥1,380.50元",
        "138****8000 北京市",  # the masked form stays masked
        "请求5ab2da63-4454-4e30-aa98-98241573a786",
        "trace 1-5759e988-bd862e3fe1be46a994272793",
        "Ａｂｃ　全角文字，还有é和\u0301",  # no number: not even NFKC touches it
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


def _reads_as_digit_or_mark(c: str) -> bool:
    return unicodedata.category(c) in ("Cs", "Mn", "Mc", "Me", "Cf") or any(
        f.isdecimal() for f in unicodedata.normalize("NFKC", c)
    )


def _would_join(c: str) -> bool:
    """Glued to a number, this would make it part of something else: a longer run (a Chinese
    numeral) or an identifier (an ASCII letter next to a number split by separators); or a
    + or bracket that goes with the number."""
    return (
        c in CHINESE_DIGITS
        or c in "+＋(（[［)）]］"
        or any(f.isascii() and f.isalnum() for f in unicodedata.normalize("NFKC", c))
    )


# Text around the number: no character that reads as a digit (or is dropped when reading), and
# nothing at its edge that would join the number.
_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",)).filter(lambda c: not _reads_as_digit_or_mark(c)),
    max_size=30,
)
_BEFORE = _TEXT.filter(lambda t: not t or not _would_join(t[-1]))
_AFTER = _TEXT.filter(lambda t: not t or not _would_join(t[0]))


@settings(max_examples=200, deadline=None)
@given(_MOBILE, _FORMATS, _BEFORE, _AFTER)
def test_a_mobile_number_never_survives_in_any_format(number, form, before, after) -> None:
    masked = mask_personal_numbers(before + form(number) + after)
    digits = re.sub(
        r"\D", "", masked.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    )
    assert number not in digits
    assert f"{number[:3]}****{number[-4:]}" in masked
    assert masked.startswith(before) and masked.endswith(after)
    assert mask_personal_numbers(masked) == masked  # masking twice changes nothing


# Issue 15: any run of separators (up to three, mixed) between any of the eleven digits, each
# digit in any script, with or without a country prefix: always masked.
_SEPARATOR_RUN = st.text(
    st.sampled_from(" \u3000\t\n.-_/()（）[]［］－．＿／"), min_size=0, max_size=3
)
_SCRIPTS = (
    "0123456789",
    "０１２３４５６７８９",
    "٠١٢٣٤٥٦٧٨٩",
    "०१२३४५६७८९",
    "零一二三四五六七八九",
)


@settings(max_examples=300, deadline=None)
@given(
    _MOBILE,
    st.lists(_SEPARATOR_RUN, min_size=10, max_size=10),
    st.lists(st.sampled_from(_SCRIPTS), min_size=11, max_size=11),
    st.sampled_from(["", "+86", "+86 ", "0086-", "86.", "＋８６ "]),
    _BEFORE,
    _AFTER,
)
def test_a_mobile_number_split_by_any_separators_is_masked(
    number, separators, scripts, prefix, before, after
) -> None:
    typed = prefix + "".join(
        script[int(d)] + (separators[i] if i < 10 else "")
        for i, (d, script) in enumerate(zip(number, scripts, strict=True))
    )
    masked = mask_personal_numbers(before + typed + after)
    assert f"{number[:3]}****{number[-4:]}" in masked
    assert masked.startswith(before) and masked.endswith(after)
    rest = masked.removeprefix(before).removesuffix(after)
    assert not any(
        c.isdecimal() or c in CHINESE_DIGITS
        for c in rest.replace(f"{number[:3]}****{number[-4:]}", "").strip("()（）[]［］")
    )


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


def test_letters_glued_to_a_typed_number_do_not_hide_it():
    """Only logs spare hexadecimal tokens (trace ids); in what people write it is a number."""
    assert mask_personal_numbers("abc1 3800 138000") == "abc138****8000"
    assert mask_personal_numbers("c1 101 0 1200001 0 50389") == "c* *** * ******* * *****"


def test_a_letter_after_an_id_number_does_not_hide_it():
    """Found by the end-to-end property: an ID with an "x" typed after its last digit."""
    assert mask_personal_numbers("110101197302073002x") == "******************x"
    assert (
        mask_personal_numbers("x1一０1۰1١·九/٧۳（〇  ２０73۰〇۲x") == "x*******·*/**（*  *******x"
    )


def test_an_id_s_check_character_may_stand_apart():
    assert mask_personal_numbers("44030520000101097 X") == "***************** *"
    assert mask_personal_numbers("44030520000101097-x") == "*****************-*"
    assert mask_personal_numbers("13800138000 x") == "138****8000 x"
    assert mask_personal_numbers("a x b") == "a x b"
    assert mask_personal_numbers("31010420050127131Xa") == "******************a"
    assert mask_personal_numbers("11010120020101370 Xa") == "***************** *a"
