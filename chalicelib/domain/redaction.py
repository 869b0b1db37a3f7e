"""Personal numbers typed into free text (notes, statements, liaison messages) are masked before
the text is stored or shown: docs/design.md §8 allows no plain number or ID digits in any table.

People write "我的号码138 0013 8000被别人注册了" into a note; a liaison pastes a number into a
reply. The text keeps its meaning ("138****8000") and loses the digits that identify someone:
- mainland mobile numbers (1[3-9] and 9 more digits, with or without +86/0086/86, in groups
  split by spaces, hyphens or a line break) become the masked form shown everywhere else;
- ID card numbers (18 characters, or the old 15 digits, with a region and a birth date)
  lose every digit.
Company hotlines (95188, 400-670-0700), landlines, counts, QQ and ticket numbers stay as written.
"""

from __future__ import annotations

import re
from datetime import date

from chalicelib.domain.phone import MobileNumber

# \d also matches the full-width digits a Chinese IME types (and int() reads them); the
# literal digits, + and X below get their full-width forms too.
_SEP = r"[\s-]?"
_PREFIX = rf"(?:(?:[+＋]|00|００)?(?:86|８６){_SEP})?"
_MOBILE = re.compile(rf"(?<!\d){_PREFIX}([1１][3-9３-９]\d(?:{_SEP}\d){{8}})(?!\d)")
_CHECK = "[XxＸｘ]"
_ID_NUMBER = re.compile(
    rf"(?<!\d)(?:\d(?:{_SEP}\d){{16}}{_SEP}(?:\d|{_CHECK})|\d{{15}})(?!\d|{_CHECK})"
)


def _looks_like_an_id(digits: str) -> bool:
    # 18: region(6) YYYYMMDD sequence(3) check; 15: region(6) YYMMDD sequence(3). Regions
    # start with 1-8 (province codes 11-82).
    if int(digits[0]) not in range(1, 9):
        return False
    digits = digits[6:14] if len(digits) >= 17 else "19" + digits[6:12]
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return False
    return 1900 <= born.year < 2100


def _blank_id_number(match: re.Match[str]) -> str:
    found = match.group(0)
    if not _looks_like_an_id(re.sub(r"\D", "", found)):
        return found  # a ticket or order number of the same length
    return re.sub(rf"\d|{_CHECK}", "*", found)


def _masked_mobile(match: re.Match[str]) -> str:
    national = "".join(str(int(c)) for c in match.group(1) if c.isdecimal())
    return MobileNumber("+86" + national).masked


def mask_personal_numbers(text: str) -> str:
    """The text with mobile numbers masked and ID numbers blanked."""
    # IDs first: spaced as people group them, an ID's last 11 digits can read as a mobile.
    # ("0086" and a mobile is as long as an old ID, but no region code starts with 0.)
    return _MOBILE.sub(_masked_mobile, _ID_NUMBER.sub(_blank_id_number, text))
