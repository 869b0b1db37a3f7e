"""Reading the result SMS of the national check, pasted by the person into the filing form, to
pre-fill the count each company reported (docs/design.md §3).

The official wording is not published and changes, so this is tolerant and humble: it looks for
the names the directory knows (companies, their apps, carriers; Chinese or English) each
followed closely by a count ("微信：2个", "腾讯（微信、QQ）3个", "中国移动 2张", "京东两个"),
sums the counts of one company's apps, and proposes the result for the person to confirm or
correct. Anything it cannot read gives nothing, never an error: no names with counts, names of
both companies and carriers, a count beyond the form's limit, or a text too long to be an SMS.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from chalicelib.domain.directory import Directory
from chalicelib.domain.intake import MAX_COUNT

MAX_TEXT = 1000  # a long SMS is ~300 characters; anything longer is not one
_CHINESE = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6}
_CHINESE |= {"七": 7, "八": 8, "九": 9}
# Between a name and its count: brackets listing apps, a colon, a few linking words.
_LINKING = "已|共|有|注册|绑定|了|的|互联网|账号|帐号|账户|数量|为|是"
_FILLER = rf"[\s:：,，、()（）\[\]【】]*(?:{_LINKING}|\s|:|：)*"
_NUMERAL = r"\d+|[一二两三四五六七八九]?十[一二三四五六七八九]?|[零〇一二两三四五六七八九]"
# A number followed by a unit of time, a decimal point or "号" is not a count ("3天内", "1号").
_COUNT = re.compile(rf"{_FILLER}({_NUMERAL})(?!\s*[天日周月年时分秒号%.\d])\s*(?:个|户|张|条)?")


@dataclass(frozen=True)
class ReportedCount:
    company: str  # directory key
    reported_count: int
    matched: str  # the words it was read from, for the person to check


@dataclass(frozen=True)
class Reading:
    kind: str | None  # accounts | sim_cards; None when nothing was understood
    items: tuple[ReportedCount, ...]


NOTHING = Reading(None, ())


def _number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _CHINESE.get(tens, 1) * 10 + (_CHINESE[ones] if ones else 0)
    return _CHINESE[text]


def _narrow(ch: str) -> str:
    folded = unicodedata.normalize("NFKC", ch)
    return folded if len(folded) == 1 else ch


def _names(directory: Directory) -> list[tuple[str, str]]:
    """(name as written, entry key), longest first so 中国移动 wins over 移动."""
    names: dict[str, str] = {}
    for key, entry in directory.entries.items():
        written = [entry.name_zh, entry.name_en, *(n for app in entry.apps for n in app)]
        if entry.type == "carrier":
            written.append(entry.name_zh.removeprefix("中国"))  # 移动, 联通, …
        for name in written:
            if name:
                names.setdefault(name.casefold(), key)
    return sorted(names.items(), key=lambda pair: -len(pair[0]))


def _mentions(text: str, directory: Directory) -> list[tuple[int, int, str]]:
    folded = text.casefold()
    taken = [False] * len(folded)
    found = []
    for name, key in _names(directory):
        for m in re.finditer(re.escape(name), folded):
            if any(taken[m.start() : m.end()]):
                continue  # inside a longer name already found
            # A Latin name must stand alone: "qq" in "qqq" or "jd" in "jdk" is not one.
            if name.isascii() and name.isalpha():
                before = folded[m.start() - 1 : m.start()]
                after = folded[m.end() : m.end() + 1]
                if (before.isascii() and before.isalpha()) or (after.isascii() and after.isalpha()):
                    continue
            taken[m.start() : m.end()] = [True] * (m.end() - m.start())
            found.append((m.start(), m.end(), key))
    return sorted(found)


def read_result(text: str, directory: Directory) -> Reading:
    """What the pasted text says each company (or carrier) counted; NOTHING when unsure."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        return NOTHING
    original = text
    text = "".join(_narrow(ch) for ch in text)  # full-width digits and letters, same length
    mentions = _mentions(text, directory)
    counts: dict[str, int] = {}
    matched: dict[str, list[str]] = {}
    start = 0  # where the current mention's words began (a company before its bracketed apps)
    counted_last = True
    for i, (begin, end, key) in enumerate(mentions):
        following = mentions[i + 1][0] if i + 1 < len(mentions) else len(text)
        if i == 0 or mentions[i - 1][2] != key or counted_last:
            start = begin
        m = _COUNT.match(text, end, following)
        counted_last = m is not None
        if m is None:
            continue
        value = _number(m.group(1))
        if value > MAX_COUNT:
            return NOTHING  # a phone number or an order number, not a count
        counts[key] = counts.get(key, 0) + value
        matched.setdefault(key, []).append(original[start : m.end()].strip())
    if not counts:
        return NOTHING
    types = {directory.get(k).type for k in counts}
    if len(types) != 1:
        return NOTHING  # accounts and SIM cards in one text: not a result we know
    kind = "accounts" if types == {"company"} else "sim_cards"
    items = tuple(ReportedCount(k, counts[k], "、".join(matched[k])) for k in counts)
    return Reading(kind, items)
