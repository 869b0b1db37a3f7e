"""When an SMS may go, and how many billed segments it costs. Pure: no AWS.

Quiet hours 21:00–08:00 Asia/Shanghai hold follow-ups caused by others or by timers; what
the person triggered themselves goes at once. Follow-ups wait a short digest window so that
several updates on one dispute merge into one message.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from chalicelib.domain.workdays import SHANGHAI

QUIET_START = time(21, 0)
QUIET_END = time(8, 0)
DIGEST_WINDOW = timedelta(minutes=5)
DAILY_CAP = 8  # follow-ups and receipts per number per day; codes have their own limits

# GSM 03.38 basic set plus the extension table (extension characters count twice).
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€")


def in_quiet_hours(moment: datetime) -> bool:
    local = moment.astimezone(SHANGHAI).time()
    return local >= QUIET_START or local < QUIET_END


def quiet_hours_end(moment: datetime) -> datetime:
    """The next 08:00 Shanghai at or after `moment`."""
    local = moment.astimezone(SHANGHAI)
    end = local.replace(hour=QUIET_END.hour, minute=0, second=0, microsecond=0)
    if local >= end:
        end += timedelta(days=1)
    return end


def release_at(now: datetime, notify: str) -> datetime:
    """When an outbox item may be sent: `self` at once; follow-ups after the digest window,
    and never inside quiet hours."""
    if notify == "self":
        return now
    release = now + DIGEST_WINDOW
    if in_quiet_hours(release):
        release = quiet_hours_end(release)
    return release


def next_day_release(now: datetime) -> datetime:
    """08:00 Shanghai tomorrow: where a message over the daily cap waits."""
    local = now.astimezone(SHANGHAI) + timedelta(days=1)
    return local.replace(hour=QUIET_END.hour, minute=0, second=0, microsecond=0)


def encoding(text: str) -> str:
    return "gsm7" if all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in text) else "ucs2"


def segments(text: str) -> int:
    """Billed segments: GSM-7 160/153 septets, UCS-2 70/67 characters (docs/design.md §7)."""
    if encoding(text) == "gsm7":
        units = sum(2 if c in _GSM_EXTENDED else 1 for c in text)
        single, multi = 160, 153
    else:
        # Characters outside the BMP take two UCS-2 code units.
        units = sum(2 if ord(c) > 0xFFFF else 1 for c in text)
        single, multi = 70, 67
    if units <= single:
        return 1
    return -(-units // multi)
