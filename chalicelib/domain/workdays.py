"""China working days (holidays and 调休 make-up workdays) in Asia/Shanghai.

The `holidays` package knows the State Council's schedule for published years. For a year
whose schedule is not yet published it still knows the statutory dates but no make-up
workdays: we fall back to weekends + statutory dates and log a warning once per year.
"""

from __future__ import annotations

import functools
import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from holidays import HolidayBase

SHANGHAI = ZoneInfo("Asia/Shanghai")
log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=16)
def _calendar(year: int) -> tuple[HolidayBase, bool]:
    import holidays  # heavy-ish import: only when a deadline is computed

    # country_holidays("CN") builds holidays.China; unlike China() it is typed.
    cal = holidays.country_holidays("CN", years=year)
    published = any(d.year == year for d in cal.weekend_workdays)
    if not published:
        log.warning("china_calendar_unpublished", extra={"year": year})
    return cal, published


def schedule_published(year: int) -> bool:
    return _calendar(year)[1]


def is_working_day(day: date) -> bool:
    cal, published = _calendar(day.year)
    if published:
        return cal.is_working_day(day)
    return day.weekday() < 5 and day not in cal


def add_working_days(start: datetime, count: int) -> datetime:
    """End (23:59:59 Shanghai) of the `count`-th working day after the day of `start`."""
    day = start.astimezone(SHANGHAI).date()
    remaining = count
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    end = datetime.combine(day, time(23, 59, 59), tzinfo=SHANGHAI)
    return end.astimezone(UTC)


def working_days_before(deadline: datetime, count: int) -> datetime:
    """End (23:59:59 Shanghai) of the `count`-th working day before the deadline's day: from
    then on, at most `count` working days are left."""
    day = deadline.astimezone(SHANGHAI).date()
    remaining = count
    while remaining > 0:
        day -= timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return datetime.combine(day, time(23, 59, 59), tzinfo=SHANGHAI).astimezone(UTC)


def working_days_between(start: datetime, end: datetime) -> int:
    """Working days strictly after start's day up to and including end's day (≥ 0)."""
    a = start.astimezone(SHANGHAI).date()
    b = end.astimezone(SHANGHAI).date()
    count = 0
    while a < b:
        a += timedelta(days=1)
        if is_working_day(a):
            count += 1
    return count
