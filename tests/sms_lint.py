"""The SMS template linter (docs/design.md §7; BACKGROUND "SMS in mainland China"). Pure: no AWS.
Test tooling, not shipped in the Lambda: tests/unit/test_sms_lint.py runs it.

Every template is rendered with the LONGEST legal variables (the longest company name in the
directory, full-length case and dispute ids, three-digit counts, the longest hotline) behind
the LONGEST stage signature, and must then be ONE billed segment. The template source and that
rendering are also checked against the platforms' template rules and our own anti-fraud
practice: no links, at most two phone numbers and only service numbers, no adjacent
variables, no 【】 in the body, no request for a code outside the code message (which says that
no one, staff included, may ask for it), no marketing or restricted topics, the case number in
every follow-up, and only known variables — never the person's or a liaison's own text.

    problems = lint_template("company_responded", source)   # [] when the template is fine
    problems = lint(name, source, rendered, is_code_message=False)   # the checks alone
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta

from chalicelib.domain import ids, sms_rules, sms_text, workflow
from chalicelib.domain.directory import Directory, load_directory
from chalicelib.domain.identity import new_code
from scripts.stage_config import stage_names, stage_variables

TEMPLATE_DIR, SUFFIX = sms_text.TEMPLATE_DIR, sms_text.SUFFIX

CODE_TEMPLATE = "verification_code"
# Messages about a whole dispute: they carry the dispute id (the digest names a case too).
DISPUTE_TEMPLATES = frozenset({"dispute_receipt", "dispute_digest"})

MAX_SEGMENTS = 1
MAX_PHONE_NUMBERS = 2
MAX_VARIABLE_CHARS = 35  # Aliyun's default limit for one variable
SIGNATURE_CHARS = (2, 12)  # between 【 and 】
MAX_COUNT = 999  # counts are at most three digits
FALLBACK_HOTLINE = "400-000-0000"  # the longest service-number form, if the directory has none

# Every variable a template may use, and the ones that are phone numbers.
VARIABLES = frozenset(
    {
        "case_id",
        "new_case_id",
        "dispute_id",
        "company",
        "hotline",
        "case_count",
        "count",
        "code",
        "due",
        "step",
    }
)
# Variables that may be absent (None) or take one of a few values: every template is linted
# in every combination of them, so no branch of an `{% if %}` escapes the one-segment rule.
ALTERNATIVES: Mapping[str, tuple[Any, ...]] = {
    "hotline": (None,),
    "step": workflow.STEPS,
}
# The longest time a timer's due time renders as (sms_text.due_text): 12月31日23:59.
LONGEST_DUE = "12月31日23:59"
PHONE_VARIABLES = frozenset({"hotline"})
# Free text written by the person or a liaison: never a template variable (docs/design.md §7).
USER_TEXT = frozenset(
    {"note", "message", "statement", "internal_note", "response", "reason", "text", "body"}
)

BANNED: Mapping[str, tuple[str, ...]] = {
    # Notification templates carry no marketing and no opt-out wording (Aliyun).
    "marketing": (
        "优惠",
        "免费",
        "点击",
        "抽奖",
        "中奖",
        "红包",
        "领取",
        "促销",
        "折扣",
        "福利",
        "返现",
        "限时",
        "回复td",
        "回td",
        "回t退订",
        "退订",
    ),
    # Restricted topics on the SMS platforms: legal rights and mediation.
    "restricted topic": ("维权", "调解", "律师", "起诉", "诉讼", "仲裁", "法院"),
    # Never speak as MIIT or CAICT, nor imitate the national service's port.
    "impersonation": (
        "工信部",
        "工业和信息化部",
        "信通院",
        "中国信息通信研究院",
        "10699000",
    ),
    # Anti-fraud practice: never ask for ID digits, passwords, cards or money.
    "personal data or money": (
        "身份证",
        "证件号",
        "银行卡",
        "卡号",
        "密码",
        "转账",
        "汇款",
        "付款",
        "缴费",
    ),
}
CODE_WORDS = ("验证码", "校验码", "动态码", "确认码", "短信码")
# The code message must say no one may ask for it, staff included.
NO_ONE = ("任何人",)
STAFF = ("工作人员", "客服", "员工")
ASKING = ("索要", "索取", "询问", "要求提供", "要求您提供")

_TAG = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.S)
_ANY_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_ADJACENT = re.compile(r"\}\}\s*\{\{")
_OUTPUT = re.compile(r"\{\{-?\s*([A-Za-z_][A-Za-z0-9_]*)")
_LINK = re.compile(
    r"https?|www|://|[a-z0-9-]+\s*\.\s*[a-z]{2,}(?![a-z])|\.\s*(?:com|cn|net|org|top|xyz|vip|cc|io)(?![a-z])"
)
# A digit run of 5+ digits, maybe grouped by '-' or spaces, not inside a word or id.
_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d[\d\- ]{3,}\d(?![0-9A-Za-z])")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_SERVICE = (
    re.compile(r"95\d{3,6}"),  # 95xxx national service numbers
    re.compile(r"96\d{3}"),  # 96110 and other 96xxx public numbers
    re.compile(r"(?:400|800)\d{7}"),  # 400-xxx-xxxx
    re.compile(r"0\d{2,3}\d{7,8}"),  # fixed line with its area code
    re.compile(r"1\d{4,7}"),  # short codes: 10086, 12300, 10107888 (never 11 digits)
)


# -- the longest legal variables --------------------------------------------------------------
def stage_signatures() -> dict[str, str]:
    """Each stage's 【signature】, as .chalice/config.json gives the stage."""
    return {stage: stage_variables(stage)["RECOUNT_SMS_SIGNATURE"] for stage in stage_names()}


def _units(text: str) -> int:
    """UCS-2 code units: what the segment counter counts for Chinese text."""
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


def longest_signature() -> str:
    return max(stage_signatures().values(), key=_units)


def longest_variables(directory: Directory | None = None) -> dict[str, Any]:
    """The longest value each variable can take, companies and carriers alike."""
    directory = directory or load_directory()
    entries = [directory.get(k) for k in (*directory.companies(), *directory.carriers())]
    hotlines = [e.hotline.number for e in entries if e.hotline.number]
    return {
        "case_id": "C" + "Z" * (len(ids.new_case_id()) - 1),
        "new_case_id": "C" + "Y" * (len(ids.new_case_id()) - 1),
        "dispute_id": "D" + "Z" * (len(ids.new_dispute_id()) - 1),
        "company": max((e.name_zh for e in entries), key=_units),
        "hotline": max(hotlines, key=len) if hotlines else FALLBACK_HOTLINE,
        "case_count": MAX_COUNT,
        "count": MAX_COUNT,
        "code": "9" * len(new_code()),
        "due": LONGEST_DUE,
        "step": workflow.STEPS[0],
    }


def variable_combinations(
    used: Iterable[str], variables: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """`variables` with every combination of the alternatives of the variables a template
    uses: the longest value and None for an optional one, each value for an enumerated one."""
    names = sorted(n for n in used if n in ALTERNATIVES)
    choices = [
        tuple(
            dict.fromkeys((variables[n], *ALTERNATIVES[n]) if n in variables else ALTERNATIVES[n])
        )
        for n in names
    ]
    return [
        {**variables, **dict(zip(names, combo, strict=True))}
        for combo in itertools.product(*choices)
    ]


# -- rendering ----------------------------------------------------------------------------
render_source = sms_text.render_source


def template_variables(source: str) -> set[str]:
    return set(jinja2.meta.find_undeclared_variables(sms_text.environment().parse(source)))


# -- the checks ---------------------------------------------------------------------------
def _normal(text: str) -> str:
    """Full-width letters and digits folded to ASCII, lower case: ｗｗｗ．ｘ is a link too."""
    return unicodedata.normalize("NFKC", text).lower()


def _static_text(source: str) -> str:
    """The template's own words: every {{ }}, {% %} and {# #} replaced by a boundary."""
    return _ANY_TAG.sub("\x00", source)


def phone_number_kind(number: str) -> str:
    """'mobile', 'service', 'sms_port' or 'unknown' for one written number."""
    digits = re.sub(r"\D", "", number)
    if digits.startswith("86") and _MOBILE.fullmatch(digits[2:]):
        digits = digits[2:]
    if _MOBILE.fullmatch(digits):
        return "mobile"
    if digits.startswith("106"):
        return "sms_port"  # 106xxxx is where SMS come from, e.g. the national 10699000
    if any(p.fullmatch(digits) for p in _SERVICE):
        return "service"
    return "unknown"


def _numbers(text: str) -> list[str]:
    return [m.group().strip() for m in _NUMBER.finditer(_normal(text))]


def lint(name: str, source: str, rendered: str, *, is_code_message: bool) -> list[str]:
    """Every rule broken by one template: `source` is its Jinja2 text, `rendered` its
    rendering with the longest legal variables behind the longest signature. [] = fine."""
    problems: list[str] = []
    try:
        used = template_variables(source)
    except jinja2.TemplateSyntaxError as exc:
        return [f"{name}: does not parse: {exc.message}"]
    static = _static_text(source)
    seen = _normal(static) + "\x00" + _normal(rendered)

    # One segment, with the longest variables and the longest signature.
    count = sms_rules.segments(rendered)
    if count > MAX_SEGMENTS:
        problems.append(
            f"{name}: {count} segments: {_units(rendered)} characters with the longest "
            f"variables and signature (one segment is 70 UCS-2 or 160 GSM-7 characters)"
        )

    # Variables: only known ones, never free text, never two side by side.
    for var in sorted(used & USER_TEXT):
        problems.append(f"{name}: user text '{var}' must never be a template variable")
    for var in sorted(used - VARIABLES - USER_TEXT):
        problems.append(f"{name}: unknown variable '{var}'")
    if _ADJACENT.search(_TAG.sub("", source)):
        problems.append(f"{name}: adjacent variables (put words between them)")

    # An absent optional value must not show: guard it with {% if %}.
    if "None" in rendered:
        problems.append(f"{name}: renders 'None' (an absent value needs an {{% if %}})")

    # The signature is the renderer's: no 【】 in the body.
    if "【" in source or "】" in source:
        problems.append(f"{name}: 【】 in the template body (the renderer adds the signature)")
    if rendered.count("【") != 1 or rendered.count("】") != 1 or not rendered.startswith("【"):
        problems.append(f"{name}: the rendering must start with the one 【signature】")

    # No link or domain, not even a constant one.
    link = _LINK.search(seen)
    if link:
        problems.append(f"{name}: link or domain '{link.group().strip()}'")

    # Phone numbers: at most two, service numbers only, never a mobile.
    numbers = _numbers(static)
    refs = [v for v in _OUTPUT.findall(source) if v in PHONE_VARIABLES]
    if len(numbers) + len(refs) > MAX_PHONE_NUMBERS:
        problems.append(
            f"{name}: {len(numbers) + len(refs)} phone numbers (at most {MAX_PHONE_NUMBERS})"
        )
    for number in numbers:
        kind = phone_number_kind(number)
        if kind != "service":
            problems.append(f"{name}: '{number}' is not a service number ({kind})")
    if any(phone_number_kind(n) == "mobile" for n in _numbers(rendered)):
        problems.append(f"{name}: a mobile number appears in the rendering")

    # Codes: only the code message speaks of one, and it warns that no one may ask for it.
    if is_code_message:
        if "code" not in used:
            problems.append(f"{name}: the code message must carry {{{{ code }}}}")
        if not (
            any(w in static for w in NO_ONE)
            and any(w in static for w in STAFF)
            and any(w in static for w in ASKING)
        ):
            problems.append(
                f"{name}: the code message must say that no one, staff included, may ask for it"
            )
    else:
        if "code" in used:
            problems.append(f"{name}: only the code message may carry a code")
        asked = [w for w in CODE_WORDS if w in seen]
        if asked:
            problems.append(f"{name}: speaks of a code ('{asked[0]}') outside the code message")

    # Banned words: marketing, restricted topics, impersonation, personal data.
    for topic, words in BANNED.items():
        for word in words:
            if word in seen:
                problems.append(f"{name}: banned word '{word}' ({topic})")

    # Every follow-up carries the case number; dispute messages carry the dispute number.
    if not is_code_message:
        if name in DISPUTE_TEMPLATES:
            if "dispute_id" not in used:
                problems.append(f"{name}: a dispute message must carry {{{{ dispute_id }}}}")
        elif "case_id" not in used:
            problems.append(f"{name}: a follow-up must carry {{{{ case_id }}}}")
    return problems


def lint_variables(variables: Mapping[str, Any]) -> list[str]:
    """The longest values themselves: short enough, and every hotline a service number."""
    problems = []
    for var, value in sorted(variables.items()):
        if _units(str(value)) > MAX_VARIABLE_CHARS:
            problems.append(f"variable '{var}' can be {_units(str(value))} characters")
    return problems


def lint_hotlines(directory: Directory | None = None) -> list[str]:
    """Every hotline an SMS may carry is a service number."""
    directory = directory or load_directory()
    problems = []
    for key in (*directory.companies(), *directory.carriers()):
        number = directory.get(key).hotline.number
        if number and phone_number_kind(number) != "service":
            problems.append(f"{key}: hotline '{number}' is not a service number")
    return problems


def lint_signature(signature: str, directory: Directory | None = None) -> list[str]:
    """A stage signature: 【2–12 characters】 naming the real sender, never MIIT, CAICT or a
    company, and nothing that imitates the national service's port."""
    directory = directory or load_directory()
    problems = []
    inner = signature.removeprefix("【").removesuffix("】")
    if (
        not (signature.startswith("【") and signature.endswith("】"))
        or "【" in inner
        or "】" in inner
    ):
        problems.append(f"signature {signature!r}: must be one 【…】")
    low, high = SIGNATURE_CHARS
    if not low <= len(inner) <= high:
        problems.append(f"signature {signature!r}: {len(inner)} characters (allowed {low}–{high})")
    names = list(BANNED["impersonation"])
    for key in (*directory.companies(), *directory.carriers()):
        entry = directory.get(key)
        names += [entry.name_zh, entry.name_en]
    for word in names:
        if word and _normal(word) in _normal(inner):
            problems.append(f"signature {signature!r}: must not name {word}")
    return problems


def lint_template(
    name: str,
    source: str,
    *,
    variables: Mapping[str, Any] | None = None,
    signature: str | None = None,
) -> list[str]:
    """Renders `source` with the longest legal variables and signature, then lints it."""
    variables = dict(variables or longest_variables())
    signature = signature if signature is not None else longest_signature()
    is_code = name == CODE_TEMPLATE
    try:
        used = template_variables(source)
    except jinja2.TemplateSyntaxError as exc:
        return [f"{name}: does not parse: {exc.message}"]
    problems: list[str] = []
    for combination in variable_combinations(used, variables):
        try:
            rendered = render_source(source, combination, signature)
        except jinja2.UndefinedError as exc:
            rendered = signature
            problems.append(f"{name}: does not render with the known variables: {exc.message}")
        except jinja2.TemplateSyntaxError as exc:
            return [f"{name}: does not parse: {exc.message}"]
        problems += [
            p for p in lint(name, source, rendered, is_code_message=is_code) if p not in problems
        ]
    return problems


def template_sources(template_dir: Path = TEMPLATE_DIR) -> dict[str, str]:
    return {
        p.name.removesuffix(SUFFIX): p.read_text(encoding="utf-8")
        for p in sorted(template_dir.glob(f"*{SUFFIX}"))
    }


def lint_all(template_dir: Path = TEMPLATE_DIR, names: Iterable[str] | None = None) -> list[str]:
    """Every problem in every template, the longest variables and the stage signatures."""
    directory = load_directory()
    variables = longest_variables(directory)
    signature = longest_signature()
    problems = lint_variables(variables) + lint_hotlines(directory)
    for sig in stage_signatures().values():
        problems += lint_signature(sig, directory)
    sources = template_sources(template_dir)
    for name in names if names is not None else sources:
        problems += lint_template(name, sources[name], variables=variables, signature=signature)
    return problems
