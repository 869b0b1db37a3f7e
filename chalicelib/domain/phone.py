"""Mainland mobile numbers: parse with libphonenumber, mask for display, locate by prefix."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from chalicelib.domain.errors import FieldError, validation_failed

MAX_RAW_LENGTH = 32
_ALLOWED = re.compile(r"[0-9 ()+\-.]+")
# The one refusal of a number the API's schema lets through: libphonenumber's numbering plan
# for +86 mobiles is more than a JSON Schema pattern can say.
NOT_A_MOBILE = "is not a mainland China mobile number"


@dataclass(frozen=True)
class MobileNumber:
    e164: str  # +8613800138000

    @property
    def national(self) -> str:
        return self.e164.removeprefix("+86")

    @property
    def masked(self) -> str:
        n = self.national
        return f"{n[:3]}****{n[-4:]}"

    def region(self) -> str:
        """Province/city of the number's prefix, zh-CN (e.g. 北京市); '' when unknown."""
        import phonenumbers
        from phonenumbers import geocoder  # imported here: its data is large and rarely needed

        return geocoder.description_for_number(phonenumbers.parse(self.e164), "zh") or ""

    def carrier_name(self) -> str:
        import phonenumbers
        from phonenumbers import carrier

        return carrier.name_for_number(phonenumbers.parse(self.e164), "en") or ""


def parse_mobile(raw: object, field: str = "phone") -> MobileNumber:
    """Accept '+86 138 0013 8000', '13800138000', '0086-138-0013-8000'; only CN mobiles."""
    import phonenumbers  # here, not at import: its metadata is large (cold start)

    if not isinstance(raw, str):
        raise validation_failed([FieldError(field, "must be a string")])
    # NFKC turns a Chinese IME's full-width digits and ＋ into ASCII.
    text = unicodedata.normalize("NFKC", raw).strip()
    # libphonenumber reads letters as keypad digits ("138OO…", "1-800-FLOWERS"): only
    # digits and the usual separators may reach it.
    if (
        not text
        or len(text) > MAX_RAW_LENGTH
        or not _ALLOWED.fullmatch(text)
        or text.count("+") > 1
    ):
        raise validation_failed([FieldError(field, NOT_A_MOBILE)])
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise validation_failed([FieldError(field, NOT_A_MOBILE)]) from None
    if (
        number.country_code != 86
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number)
        not in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )
    ):
        raise validation_failed([FieldError(field, NOT_A_MOBILE)])
    return MobileNumber(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
