"""When an SMS may go, and how many billed segments it costs. Pure: no AWS.

Quiet hours 21:00–08:00 Asia/Shanghai hold follow-ups caused by others or by timers; what
the person triggered themselves goes at once. Follow-ups wait a short digest window so that
several updates on one dispute merge into one message; news whose next step cannot be taken
before a later time (a result: re-query 24 h on) may wait for the next 08:00 digest, never past
that time. Quiet hours are checked again when a message is sent (`hold_until`).
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


def release_at(
    now: datetime, notify: str, wait: str = "window", due: datetime | None = None
) -> datetime:
    """When an outbox item may be sent: `self` at once; follow-ups after the digest window,
    and never inside quiet hours; `wait="morning"` (the workflow file's `sms` section) at the
    next 08:00 digest, but never after `due` (the time its next step can be taken)."""
    if notify == "self":
        return now
    release = now + DIGEST_WINDOW
    if wait == "morning":
        morning = quiet_hours_end(release)
        release = max(release, min(morning, due)) if due is not None else morning
    if in_quiet_hours(release):
        release = quiet_hours_end(release)
    return release


def hold_until(now: datetime, notify: str) -> datetime | None:
    """At send time: when a message that would go now must wait for the end of quiet hours
    (a follow-up released before 21:00 but sent after), else None. `self` is never held."""
    if notify == "self" or not in_quiet_hours(now):
        return None
    return quiet_hours_end(now)


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
