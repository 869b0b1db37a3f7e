"""Stage `local` only: what the embedded AWS "sent" to a number (the /dev/sms route, /inbox)."""

from __future__ import annotations

from chalicelib.adapters.sms import dev_sent_to
from chalicelib.config import Settings
from chalicelib.domain.identity import phone_hmac


def sent_to(settings: Settings, e164: str, *, newest_first: bool = False) -> list[dict[str, str]]:
    return dev_sent_to(phone_hmac(settings.hmac_key, e164), newest_first=newest_first)
