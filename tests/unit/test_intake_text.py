"""Free text's refused characters are one table (domain/intake.py REFUSED_IN_TEXT) that both the
check and the API's document use: held here to what Unicode says they are."""

from __future__ import annotations

import re
import sys
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.intake import REFUSED_IN_TEXT, TEXT_PATTERN, clean_text


def refused(code: int) -> bool:
    return code != 0x0A and unicodedata.category(chr(code)) in ("Cc", "Cf", "Zl", "Zp")


def test_the_ranges_are_exactly_the_control_format_and_separator_characters():
    listed = {code for low, high in REFUSED_IN_TEXT for code in range(low, high + 1)}
    assert listed == {code for code in range(sys.maxunicode + 1) if refused(code)}


@given(st.text(max_size=30))
def test_the_documented_pattern_and_the_check_agree(text):
    errors: list = []
    clean_text(text, "note", 10_000, errors)
    by_check = not errors
    by_pattern = re.search(TEXT_PATTERN, text) is not None
    by_unicode = not any(refused(ord(c)) for c in text.replace("\r\n", ""))
    assert by_check == by_pattern == by_unicode, repr(text)
