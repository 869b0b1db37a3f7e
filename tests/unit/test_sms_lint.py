"""The SMS template linter (docs/design.md §7) and the segment counter it relies on.

Every template in templates/sms/ passes with the longest legal variables and the longest stage
signature; each rule is shown to catch a bad template written inline. Pure: no AWS, no moto.
"""

from __future__ import annotations

import pytest

from chalicelib.domain import sms_rules, sms_text
from chalicelib.domain.directory import load_directory
from tests import sms_lint
from tests.sms_lint import lint_template

NAMES = sms_text.template_names()
LONGEST = sms_lint.longest_variables()
SIGNATURE = sms_lint.longest_signature()


def problems(source: str, name: str = "case_sample") -> list[str]:
    return lint_template(name, source)


def assert_caught(source: str, fragment: str, name: str = "case_sample") -> None:
    found = problems(source, name)
    assert any(fragment in p for p in found), (fragment, found)


# -- segments() ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, 1),  # GSM-7: 160 septets in one message
        ("a" * 161, 2),  # …then 153 per segment
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension characters count two septets
        ("€" * 80 + "a", 2),
        ("{" + "a" * 158, 1),
        ("{" + "a" * 159, 2),
        ("中" * 70, 1),  # UCS-2: 70 characters in one message
        ("中" * 71, 2),  # …then 67 per segment
        ("中" * 134, 2),
        ("中" * 135, 3),
        ("a" * 69 + "中", 1),  # one Chinese character makes the whole text UCS-2
        ("a" * 70 + "中", 2),
        ("😀" * 35, 1),  # a character outside the BMP is two UCS-2 units
        ("😀" * 35 + "中", 2),
        ("中" * 69 + "😀", 2),
        ("", 1),
    ],
)
def test_segments(text: str, expected: int) -> None:
    assert sms_rules.segments(text) == expected


def test_encoding() -> None:
    assert sms_rules.encoding("Code 123456 @£$") == "gsm7"
    assert sms_rules.encoding("验证码123456") == "ucs2"
    assert sms_rules.encoding("【recount】") == "ucs2"


# -- the real templates -------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_every_template_passes(name: str) -> None:
    assert lint_template(name, sms_lint.template_sources()[name]) == []


@pytest.mark.parametrize("name", NAMES)
def test_every_template_is_one_segment_with_the_longest_variables(name: str) -> None:
    # Through the service's own renderer, for every stage's signature.
    for signature in sms_lint.stage_signatures().values():
        variables = {k: LONGEST[k] for k in sms_lint.template_variables(_source(name))}
        text = sms_text.render(name, variables, signature)
        assert sms_rules.segments(text) == 1, (name, len(text), text)


def test_lint_all_finds_nothing() -> None:
    assert sms_lint.lint_all() == []


@pytest.mark.parametrize("name", NAMES)
def test_the_linter_renders_as_the_service_does(name: str) -> None:
    variables = {k: LONGEST[k] for k in sms_lint.template_variables(_source(name))}
    assert sms_lint.render_source(_source(name), variables, SIGNATURE) == sms_text.render(
        name, variables, SIGNATURE
    )


def test_the_longest_variables_are_the_longest() -> None:
    directory = load_directory()
    entries = [directory.get(k) for k in (*directory.companies(), *directory.carriers())]
    assert all(len(e.name_zh) <= len(LONGEST["company"]) for e in entries)
    assert all(len(e.hotline.number or "") <= len(LONGEST["hotline"]) for e in entries)
    assert len(LONGEST["case_id"]) == len(LONGEST["dispute_id"]) == 10
    assert LONGEST["case_count"] == LONGEST["count"] == 999
    assert len(LONGEST["code"]) == 6
    assert all(len(s) <= len(SIGNATURE) for s in sms_lint.stage_signatures().values())
    assert set(sms_lint.stage_signatures()) >= {"local", "dev", "prod"}


def test_the_workflow_templates_are_all_linted() -> None:
    from chalicelib.domain.workflow import load_workflow

    assert load_workflow().all_templates() | {sms_lint.CODE_TEMPLATE} <= set(NAMES)


def test_no_hotline_falls_back_to_the_longest_service_number_form() -> None:
    assert len(sms_lint.FALLBACK_HOTLINE) == 12
    assert sms_lint.phone_number_kind(sms_lint.FALLBACK_HOTLINE) == "service"


# -- each rule catches a bad template ------------------------------------------------------
def test_too_long_for_one_segment() -> None:
    source = "案件{{ case_id }}：{{ company }}已答复，" + "请您" * 20 + "查看。"
    assert_caught(source, "2 segments")


def test_one_segment_is_judged_with_the_longest_values_not_typical_ones() -> None:
    # 70 characters with a 2-character company name, 72 with the longest one.
    body = "案件{{ case_id }}：{{ company }}已答复。" + "请" * 40
    short = sms_lint.render_source(body, {**LONGEST, "company": "腾讯"}, SIGNATURE)
    assert sms_rules.segments(short) == 1
    assert_caught(body, "2 segments")


@pytest.mark.parametrize(
    "source",
    [
        "案件{{ case_id }}详情见http://x.cn",
        "案件{{ case_id }}详情见 https://recount.example",
        "案件{{ case_id }}详情请访问www.example",
        "案件{{ case_id }}详情见recount.cn查看",
        "案件{{ case_id }}详情见 example.com",
        "案件{{ case_id }}详情见ｒｅｃｏｕｎｔ．ｃｏｍ",
        "案件{{ case_id }}详情见 .net",
    ],
)
def test_links_and_domains(source: str) -> None:
    assert_caught(source, "link or domain")


def test_more_than_two_phone_numbers() -> None:
    assert_caught("案件{{ case_id }}可拨打95017、10086或12315咨询。", "3 phone numbers")
    assert_caught("案件{{ case_id }}可拨打95017、10086或{{ hotline }}咨询。", "3 phone numbers")
    assert (
        problems("案件{{ case_id }}可拨打95017{% if hotline %}或{{ hotline }}{% endif %}咨询。")
        == []
    )


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        ("13800138000", "mobile"),
        ("138 0013 8000", "mobile"),
        ("+86 138-0013-8000", "mobile"),
        ("10699000", "sms_port"),
        ("1234567", "service"),  # a 1xxxx short code of seven digits
        ("123456789", "unknown"),
        ("8888888", "unknown"),
    ],
)
def test_numbers_that_are_not_service_numbers(number: str, kind: str) -> None:
    assert sms_lint.phone_number_kind(number) == kind
    if kind != "service":
        assert_caught(f"案件{{{{ case_id }}}}请联系{number}。", "not a service number")


@pytest.mark.parametrize(
    "number",
    ["95017", "95188", "950618", "96110", "10086", "12300", "400-626-8888", "010-12345678"],
)
def test_service_numbers_pass(number: str) -> None:
    assert sms_lint.phone_number_kind(number) == "service"
    assert problems(f"案件{{{{ case_id }}}}可拨打{number}咨询。") == []


def test_a_mobile_in_the_rendering_is_caught() -> None:
    found = sms_lint.lint(
        "case_sample",
        "案件{{ case_id }}请联系{{ hotline }}。",
        f"{SIGNATURE}案件CZZZZZZZZZ请联系13800138000。",
        is_code_message=False,
    )
    assert any("mobile number appears" in p for p in found), found


@pytest.mark.parametrize(
    "source",
    [
        "案件{{ case_id }}{{ company }}已答复。",
        "案件{{ case_id }} {{ company }}已答复。",
        "案件{{ case_id }}\n{{ company }}已答复。",
        "案件{{ case_id }}{% if hotline %}{{ hotline }}{% endif %}已答复。",
    ],
)
def test_adjacent_variables(source: str) -> None:
    assert_caught(source, "adjacent variables")


def test_brackets_in_the_body() -> None:
    assert_caught("【recount】案件{{ case_id }}已答复。", "【】 in the template body")
    assert_caught("案件{{ case_id }}已答复。【recount】", "【】 in the template body")


def test_the_rendering_starts_with_one_signature() -> None:
    found = sms_lint.lint(
        "case_sample", "案件{{ case_id }}已答复。", "案件CZZZZZZZZZ已答复。", is_code_message=False
    )
    assert any("signature" in p for p in found), found


@pytest.mark.parametrize(
    "source",
    [
        "案件{{ case_id }}：请把收到的验证码告诉工作人员。",
        "案件{{ case_id }}：请回复校验码完成核验。",
        "案件{{ case_id }}：请提供动态码。",
    ],
)
def test_no_request_for_a_code_outside_the_code_message(source: str) -> None:
    assert_caught(source, "outside the code message")


def test_only_the_code_message_carries_a_code() -> None:
    assert_caught("案件{{ case_id }}：{{ code }}为您的编号。", "only the code message")


@pytest.mark.parametrize(
    "source",
    [
        "验证码{{ code }}，5分钟内有效。",
        "验证码{{ code }}，5分钟内有效，请勿告诉他人。",
        "验证码{{ code }}，5分钟内有效，任何人索要验证码都是诈骗。",  # staff not named
    ],
)
def test_the_code_message_must_warn_that_no_one_may_ask(source: str) -> None:
    assert_caught(source, "no one, staff included", name="verification_code")


def test_the_code_message_must_carry_the_code() -> None:
    assert_caught(
        "任何人包括工作人员索要验证码都是诈骗。", "must carry {{ code }}", name="verification_code"
    )


@pytest.mark.parametrize(
    "word",
    [
        "优惠",
        "免费",
        "点击",
        "抽奖",
        "红包",
        "领取",
        "回复TD退订",
        "退订",
        "维权",
        "调解",
        "工信部",
        "信通院",
        "身份证",
        "银行卡",
        "转账",
    ],
)
def test_banned_words(word: str) -> None:
    assert_caught(f"案件{{{{ case_id }}}}已答复，{word}。", "banned word")


def test_banned_words_in_full_width_are_caught_too() -> None:
    assert_caught("案件{{ case_id }}已答复，回复ＴＤ退订。", "banned word '回复td'")


def test_every_follow_up_carries_the_case_number() -> None:
    assert_caught("{{ company }}已答复，请查看。", "must carry {{ case_id }}")
    assert_caught("争议{{ dispute_id }}有新进展。", "must carry {{ case_id }}", name="case_x")
    # A dispute message carries the dispute number instead.
    assert problems("争议{{ dispute_id }}已登记。", name="dispute_receipt") == []
    assert_caught("已登记{{ case_count }}家。", "{{ dispute_id }}", name="dispute_receipt")


@pytest.mark.parametrize("variable", ["note", "message", "statement", "internal_note"])
def test_user_text_is_never_a_template_variable(variable: str) -> None:
    assert_caught(f"案件{{{{ case_id }}}}：{{{{ {variable} }}}}。", "user text")


def test_unknown_variables() -> None:
    assert_caught("案件{{ case_id }}：{{ phone }}已答复。", "unknown variable 'phone'")


def test_a_template_that_does_not_parse() -> None:
    assert_caught("案件{{ case_id 已答复。", "does not parse")


# -- the values and the signatures themselves ---------------------------------------------
def test_the_directory_hotlines_are_service_numbers() -> None:
    assert sms_lint.lint_hotlines() == []


def test_long_variables_are_caught() -> None:
    assert sms_lint.lint_variables(LONGEST) == []
    assert sms_lint.lint_variables({"company": "公" * 36}) != []


@pytest.mark.parametrize("signature", sms_lint.stage_signatures().values())
def test_stage_signatures_pass(signature: str) -> None:
    assert sms_lint.lint_signature(signature) == []


@pytest.mark.parametrize(
    ("signature", "fragment"),
    [
        ("recount", "one 【…】"),
        ("【r】", "1 characters"),
        ("【recount号码绑定争议服务平台】", "17 characters"),
        ("【工信部】", "must not name"),
        ("【中国移动】", "must not name"),
        ("【Tencent核验】", "must not name"),
    ],
)
def test_bad_signatures(signature: str, fragment: str) -> None:
    found = sms_lint.lint_signature(signature)
    assert any(fragment in p for p in found), found


def _source(name: str) -> str:
    return sms_lint.template_sources()[name]
