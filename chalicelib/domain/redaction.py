"""The one definition of a personal number in text, and the one way to take it out
(docs/design.md §8): free text before it is stored (notes, statements, liaison messages, key
labels), log records (api/observability.py), CSV cells and error details all go through here.

People write "我的号码138 0013 8000被别人注册了" into a note; a liaison pastes a number into a
reply. Stored text keeps its meaning ("138****8000") and loses the digits that identify someone:
- mainland mobile numbers (1[3-9] and 9 more digits, with or without +86/0086/86) become the
  masked form shown everywhere else;
- ID card numbers (18 characters, or the old 15 digits, with a region and a birth date) lose
  every digit.
Company hotlines (95188, 400-670-0700, 10086), landlines, counts, dates, QQ and ticket numbers
stay as written.

How a number is found. A normalised copy of the text is searched, never stored: each character
goes through NFKC (full-width digits, ＋, Ｘ), every Unicode decimal digit becomes its ASCII digit
(Arabic-Indic ١٣٨, Devanagari, ...), combining marks and format characters (zero-width space,
bidi marks) are dropped, and Chinese numerals (〇一二三四五六七八九零幺) read as digits: in one
reading only in runs (at least three, separators allowed between, so "13800138000一直" ends in a
word), in another each on its own ("1380013800零"), in a third not at all; a number in any
reading is a number, and "一个账号" holds none in any.

In the copy, digit groups joined by short runs of separators (up to three of: any space, . - _ /
( ) [ ] and their full-width forms, mixed) form a stretch. A number is a sequence of whole groups
of a stretch whose digits read as a mobile (optionally after 86 / 0086, and a + before that) or
as a plausible ID. In logs only, a number made of several groups must not be glued to
hexadecimal letters ("aa98-98241573a786"): that is a request or trace id; in what people write,
letters glued on change nothing ("abc1 3800 138000" is a number). Each number found is replaced
in the original text, so text without a number comes back exactly as written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from chalicelib.domain.phone import MobileNumber

CHINESE_DIGITS = {
    "〇": "0",
    "零": "0",
    "一": "1",
    "幺": "1",
    "二": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
}
MIN_CHINESE_RUN = 3  # numerals in a row (separators between allowed) that read as digits
MAX_SEPARATOR_RUN = 3
# After NFKC: （）［］．－＿／ are ( ) [ ] . - _ / already. Whitespace (incl. U+3000) counts too.
SEPARATORS = frozenset(".-_/()[]{}【】〔〕·・‐‑‒–—―−")
_DROPPED = ("Mn", "Mc", "Me", "Cf")  # combining marks and format characters
_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_HEX = frozenset("0123456789ABCDEFabcdef")
_BRACKETS = {")": "(", "]": "[", "}": "{", "】": "【", "〕": "〔"}  # closer: opener

Kind = Literal["mobile", "id"]


@dataclass(frozen=True)
class Normalised:
    """The search copy of a text: `text[i]` came from `original[spans[i][0]:spans[i][1]]`
    (a dropped mark or format character belongs to the character before it)."""

    original: str
    text: str
    spans: tuple[tuple[int, int], ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original characters behind copy characters [start, end)."""
        return self.spans[start][0], self.spans[end - 1][1]


@dataclass(frozen=True)
class Found:
    """A personal number: its place in the original text, and what it is."""

    start: int
    end: int
    kind: Kind
    digits: str  # a mobile's 11 national digits; an ID's 15 or 18 characters


def _is_separator(c: str) -> bool:
    return c in SEPARATORS or c.isspace()


def normalise(text: str, numeral_run: int = MIN_CHINESE_RUN) -> Normalised:
    """The search copy; Chinese numerals read as digits in runs of at least `numeral_run`."""
    if text.isascii():  # nothing to fold, drop or read as a numeral
        return Normalised(text, text, tuple((i, i + 1) for i in range(len(text))))
    chars: list[str] = []
    spans: list[list[int]] = []
    for i, original in enumerate(text):
        if unicodedata.category(original) in _DROPPED:
            if spans:
                spans[-1][1] = i + 1
            else:  # nothing before it to belong to: it stands for itself, as a blank
                chars.append(" ")
                spans.append([i, i + 1])
            continue
        folded = unicodedata.normalize("NFKC", original) if not original.isascii() else original
        for c in folded:
            if not c.isascii() and unicodedata.category(c) in _DROPPED:
                continue
            value = unicodedata.decimal(c, None) if not c.isascii() else None
            chars.append(str(value) if value is not None else c)
            spans.append([i, i + 1])
    _read_chinese_numerals(chars, numeral_run)
    return Normalised(text, "".join(chars), tuple((s, e) for s, e in spans))


def _read_chinese_numerals(chars: list[str], numeral_run: int) -> None:
    """Turns runs of at least `numeral_run` Chinese numerals into digits, in place."""
    i = 0
    while i < len(chars):
        if chars[i] not in CHINESE_DIGITS:
            i += 1
            continue
        numerals = [i]
        j = i + 1
        while j < len(chars):
            if chars[j] in CHINESE_DIGITS:
                numerals.append(j)
                j += 1
                continue
            k = j
            while k < len(chars) and k - j < MAX_SEPARATOR_RUN and _is_separator(chars[k]):
                k += 1
            if k > j and k < len(chars) and chars[k] in CHINESE_DIGITS:
                j = k
                continue
            break
        if len(numerals) >= numeral_run:
            for n in numerals:
                chars[n] = CHINESE_DIGITS[chars[n]]
        i = j


# A group: ASCII digits, perhaps ending in an ID's check character X. Groups join across at most
# MAX_SEPARATOR_RUN separators.
# An ID's check character may also stand apart ("44030520000101097 X"), ending a stretch.
_GROUP = re.compile(r"[0-9]+(?:[Xx](?![0-9]))?|(?<![0-9A-Za-z])[Xx](?![0-9])")
_SEPARATOR_RUN = re.compile(
    rf"[\s{re.escape(''.join(sorted(SEPARATORS)))}]{{1,{MAX_SEPARATOR_RUN}}}"
)
_MOBILE = re.compile(r"(?:0086|86)?(1[3-9][0-9]{9})")
_ID_18 = re.compile(r"[0-9]{17}[0-9Xx]")
_ID_15 = re.compile(r"[0-9]{15}")


def looks_like_an_id(number: str) -> bool:
    """18: region(6) YYYYMMDD sequence(3) check; 15: region(6) YYMMDD sequence(3). Regions
    start with 1-8 (province codes 11-82)."""
    if not (_ID_18.fullmatch(number) or _ID_15.fullmatch(number)):
        return False
    if number[0] not in "12345678":
        return False
    born = number[6:14] if len(number) == 18 else "19" + number[6:12]
    try:
        when = date(int(born[:4]), int(born[4:6]), int(born[6:8]))
    except ValueError:
        return False
    return 1900 <= when.year < 2100


def _stretches(copy: str) -> list[list[tuple[int, int]]]:
    """Groups of digits in the copy, as (start, end), joined into stretches by separators."""
    stretches: list[list[tuple[int, int]]] = []
    for match in _GROUP.finditer(copy):
        start = match.start()
        previous = stretches[-1][-1] if stretches else None
        between = copy[previous[1] : start] if previous else ""
        if (
            previous is not None
            and copy[previous[1] - 1] in "0123456789"  # an X ends a stretch
            and _SEPARATOR_RUN.fullmatch(between)
        ):
            stretches[-1].append((start, match.end()))
        else:
            stretches.append([(start, match.end())])
    return stretches


def _read(digits: str) -> tuple[Kind, str] | None:
    mobile = _MOBILE.fullmatch(digits)
    if mobile:
        return "mobile", mobile.group(1)
    if looks_like_an_id(digits):
        return "id", digits.upper()
    return None


def _in_a_hex_token(copy: str, start: int, end: int) -> bool:
    """Whether letters glued to either end make it part of a hexadecimal token ("aa98-9824",
    a request or trace id), not a number someone typed ("tel138-0013-8000" is one)."""
    left = start
    while left > 0 and copy[left - 1] in _ALNUM:
        left -= 1
    right = end
    while right < len(copy) and copy[right] in _ALNUM:
        right += 1
    return any(
        token and all(c in _HEX for c in token) for token in (copy[left:start], copy[end:right])
    )


def _numbers_in(
    copy: str, groups: list[tuple[int, int]], spare_hex_tokens: bool
) -> Iterable[tuple[int, int, Kind, str]]:
    """The numbers among a stretch's groups: from each group on, the longest run of whole
    groups that reads as a number; the search goes on after it."""
    i = 0
    while i < len(groups):
        best: tuple[int, int, int, Kind, str] | None = None  # (last group, start, end, ...)
        digits = ""
        for j in range(i, len(groups)):
            digits += copy[groups[j][0] : groups[j][1]]
            if len(digits) > (19 if digits[-1] in "Xx" else 18):  # 18 and a letter after
                break
            start, end = groups[i][0], groups[j][1]
            read = _read(digits)
            if read is None and digits[-1] in "Xx":
                # "13800138000x", "110101199003071234 x": a number and a letter after it
                read = _read(digits[:-1])
                alone = j > i and copy[groups[j][0]] in "Xx"
                end = groups[j - 1][1] if alone else end - 1
            if read is None or (spare_hex_tokens and j > i and _in_a_hex_token(copy, start, end)):
                continue
            prefixed = read[0] == "mobile" and read[1] != digits  # 86 / 0086 before it
            if prefixed and start > 0 and copy[start - 1] == "+":
                start -= 1
            best = (j, start, end, read[0], read[1])
        if best is None:
            i += 1
            continue
        yield best[1:]
        i = best[0] + 1


def find_personal_numbers(
    text: str, normalised: Normalised | None = None, *, spare_hex_tokens: bool = False
) -> list[Found]:
    """Every mobile and ID number in the text, in order, as spans of the original text.
    `spare_hex_tokens` (logs): groups glued to hexadecimal letters are a request or trace id,
    not a number; in what people write ("abc1 3800 138000") they are a number all the same.

    Chinese numerals are read three ways: in runs only ("13800138000一直": a number, then a
    word), each on its own ("1380013800零": one number, typed in two scripts), and not at all
    ("13800138000一二三"); what any reading finds is a number."""
    copies = [normalised or normalise(text)]
    if any(c in CHINESE_DIGITS for c in text):
        copies += [normalise(text, numeral_run=1), normalise(text, numeral_run=len(text) + 1)]
    candidates: list[Found] = []
    for copy in copies:
        for groups in _stretches(copy.text):
            for start, end, kind, digits in _numbers_in(copy.text, groups, spare_hex_tokens):
                o_start, o_end = copy.original_span(start, end)
                # "(138)0013-8000": the bracket the number closes (or opens) goes with it.
                o_start, o_end = _with_brackets(text, o_start, o_end)
                candidates.append(Found(o_start, o_end, kind, digits))
    found: list[Found] = []
    for number in sorted(candidates, key=lambda f: (f.start, f.start - f.end)):
        if not found or number.start >= found[-1].end:
            found.append(number)
    return found


def _with_brackets(text: str, start: int, end: int) -> tuple[int, int]:
    inside = unicodedata.normalize("NFKC", text[start:end])
    before = unicodedata.normalize("NFKC", text[start - 1]) if start > 0 else ""
    after = unicodedata.normalize("NFKC", text[end]) if end < len(text) else ""
    for close, open_ in _BRACKETS.items():
        if before == open_ and inside.count(close) > inside.count(open_):
            start -= 1
        if after == close and inside.count(open_) > inside.count(close):
            end += 1
    return start, end


Replacement = Callable[[Found, str], str]  # the number and the original text it spans


def replace_numbers(
    text: str,
    mobile: Replacement,
    id_number: Replacement,
    also: Iterable[tuple[re.Pattern[str], str]] = (),
    *,
    spare_hex_tokens: bool = False,
) -> str:
    """The text with each personal number replaced. `also` (pattern, replacement): more shapes
    to take out, searched in the normalised copy (ASCII digits) where no number was found."""
    if text.isascii() and not any(c in "0123456789" for c in text):
        return text  # the common case in logs: nothing that could be a number
    copy = normalise(text)
    found = find_personal_numbers(text, copy, spare_hex_tokens=spare_hex_tokens)
    edits: list[tuple[int, int, str]] = []
    for number in found:
        span = text[number.start : number.end]
        make = mobile if number.kind == "mobile" else id_number
        edits.append((number.start, number.end, make(number, span)))
    for pattern, replacement in also:
        for match in pattern.finditer(copy.text):
            if match.end() == match.start():
                continue
            start, end = copy.original_span(match.start(), match.end())
            if not any(start < e and s < end for s, e, _ in edits):
                edits.append((start, end, replacement))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def masked_mobile(number: Found, span: str) -> str:
    return MobileNumber("+86" + number.digits).masked


def blanked_id(number: Found, span: str) -> str:
    """Every character that reads as a digit or the check X becomes *; separators stay, marks
    and format characters go."""
    out = []
    for c in span:
        if unicodedata.category(c) in _DROPPED:
            continue
        folded = unicodedata.normalize("NFKC", c)
        if (
            c in CHINESE_DIGITS
            or folded in ("X", "x")
            or any(unicodedata.decimal(f, None) is not None for f in folded)
        ):
            out.append("*")
        else:
            out.append(c)
    return "".join(out)


def mask_personal_numbers(text: str) -> str:
    """The text with mobile numbers masked (138****8000) and ID numbers blanked; everything
    else exactly as written."""
    return replace_numbers(text, masked_mobile, blanked_id)
