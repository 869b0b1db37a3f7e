"""China working days (docs/design.md §4): holidays and 调休 make-up workdays, Asia/Shanghai.

Pure domain tests: no AWS, no moto.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import workdays

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


def shanghai_day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def test_2026_schedule_is_published() -> None:
    assert workdays.schedule_published(2026) is True


@pytest.mark.parametrize("day", [date(2026, 10, d) for d in range(1, 8)])
def test_national_day_2026_is_a_holiday(day: date) -> None:
    assert workdays.is_working_day(day) is False


def test_around_national_day_2026() -> None:
    assert workdays.is_working_day(date(2026, 9, 30)) is True  # Wednesday
    assert workdays.is_working_day(date(2026, 10, 8)) is True  # Thursday after the week off


def test_make_up_weekend_workdays_2026_are_working_days() -> None:
    makeup = sorted(d for d in holidays.China(years=2026).weekend_workdays if d.year == 2026)
    assert makeup, "the holidays package lists no 2026 调休 days"
    for day in makeup:
        assert day.weekday() >= 5, day
        assert workdays.is_working_day(day) is True, day
    # Concretely: Saturday 10 Oct 2026 is worked to make up for National Day.
    assert date(2026, 10, 10) in makeup


def test_ordinary_weekends_and_weekdays_2026() -> None:
    assert workdays.is_working_day(date(2026, 11, 28)) is False  # Saturday
    assert workdays.is_working_day(date(2026, 11, 29)) is False  # Sunday
    assert workdays.is_working_day(date(2026, 11, 30)) is True  # Monday
    assert workdays.is_working_day(date(2026, 2, 17)) is False  # Spring Festival, Tuesday
    assert workdays.is_working_day(date(2026, 1, 1)) is False  # New Year, Thursday


def test_add_working_days_across_national_day() -> None:
    start = at(date(2026, 9, 30))
    # Oct 1–7 off; Thu 8, Fri 9, Sat 10 (调休) are the next three working days.
    assert shanghai_day(workdays.add_working_days(start, 1)) == date(2026, 10, 8)
    assert shanghai_day(workdays.add_working_days(start, 2)) == date(2026, 10, 9)
    assert shanghai_day(workdays.add_working_days(start, 3)) == date(2026, 10, 10)
    assert shanghai_day(workdays.add_working_days(start, 4)) == date(2026, 10, 12)


def test_a_filing_during_the_holiday_counts_from_the_first_working_day() -> None:
    assert shanghai_day(workdays.add_working_days(at(date(2026, 10, 3)), 1)) == date(2026, 10, 8)


def test_deadline_ends_at_235959_shanghai_and_is_utc() -> None:
    due = workdays.add_working_days(at(date(2026, 11, 27)), 2)
    assert due.tzinfo is not None and due.utcoffset() == timedelta(0)
    local = due.astimezone(SHANGHAI)
    assert (local.date(), local.time()) == (date(2026, 12, 1), time(23, 59, 59))
    assert due == datetime(2026, 12, 1, 15, 59, 59, tzinfo=UTC)


def test_the_day_is_the_shanghai_day_not_the_utc_day() -> None:
    # 17:00 UTC Thu 26 Nov is 01:00 Fri 27 Nov in Shanghai: one working day → Mon 30 Nov.
    start = datetime(2026, 11, 26, 17, 0, tzinfo=UTC)
    assert shanghai_day(workdays.add_working_days(start, 1)) == date(2026, 11, 30)
    # Just before midnight Shanghai on Thursday: one working day → Friday.
    start = datetime(2026, 11, 26, 15, 59, 59, tzinfo=UTC)
    assert shanghai_day(workdays.add_working_days(start, 1)) == date(2026, 11, 27)


def test_zero_working_days_is_the_end_of_today() -> None:
    due = workdays.add_working_days(at(date(2026, 11, 28)), 0)
    assert due.astimezone(SHANGHAI) == datetime(2026, 11, 28, 23, 59, 59, tzinfo=SHANGHAI)


def test_working_days_between() -> None:
    assert workdays.working_days_between(at(date(2026, 9, 30)), at(date(2026, 10, 10))) == 3
    assert workdays.working_days_between(at(date(2026, 11, 27)), at(date(2026, 11, 27), 20)) == 0
    assert workdays.working_days_between(at(date(2026, 11, 27)), at(date(2026, 11, 29))) == 0
    assert workdays.working_days_between(at(date(2026, 11, 27)), at(date(2026, 11, 30))) == 1
    # An end before the start is never negative.
    assert workdays.working_days_between(at(date(2026, 12, 1)), at(date(2026, 11, 1))) == 0


@settings(max_examples=60, deadline=None)
@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)),
    st.integers(min_value=0, max_value=15),
)
def test_add_then_count_round_trips(naive: datetime, n: int) -> None:
    start = naive.replace(tzinfo=SHANGHAI)
    due = workdays.add_working_days(start, n)
    assert due > start
    assert due.astimezone(SHANGHAI).time() == time(23, 59, 59)
    assert workdays.working_days_between(start, due) == n
    if n:
        assert workdays.is_working_day(shanghai_day(due))


# --- a year with no published schedule --------------------------------------------------------


def test_unpublished_year_falls_back_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    workdays._calendar.cache_clear()  # the warning is logged once per year per process
    with caplog.at_level(logging.WARNING, logger=workdays.__name__):
        assert workdays.schedule_published(2031) is False
        assert workdays.is_working_day(date(2031, 10, 2)) is False  # National Day (statutory)
    warnings = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and r.getMessage() == "china_calendar_unpublished"
    ]
    assert len(warnings) == 1
    assert getattr(warnings[0], "year", None) == 2031

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=workdays.__name__):
        workdays.is_working_day(date(2031, 3, 3))
    assert not [r for r in caplog.records if r.getMessage() == "china_calendar_unpublished"]


def test_unpublished_year_uses_weekends_and_statutory_dates() -> None:
    assert workdays.schedule_published(2031) is False
    for d in (1, 2, 3):
        assert workdays.is_working_day(date(2031, 10, d)) is False, d
    assert workdays.is_working_day(date(2031, 1, 1)) is False  # New Year
    assert workdays.is_working_day(date(2031, 5, 1)) is False  # Labour Day
    assert workdays.is_working_day(date(2031, 10, 4)) is False  # Saturday
    assert workdays.is_working_day(date(2031, 10, 5)) is False  # Sunday
    assert workdays.is_working_day(date(2031, 10, 6)) is True  # Monday: no 调休 known
    assert workdays.is_working_day(date(2031, 3, 3)) is True  # ordinary Monday
    # No make-up weekend workday exists in the fallback.
    saturdays = [date(2031, 1, 4) + timedelta(weeks=w) for w in range(52)]
    assert not any(workdays.is_working_day(d) for d in saturdays)


def test_add_working_days_across_an_unpublished_national_day() -> None:
    # Tue 30 Sep 2031; Oct 1–3 statutory (Wed–Fri), weekend → Mon 6 Oct.
    assert shanghai_day(workdays.add_working_days(at(date(2031, 9, 30)), 1)) == date(2031, 10, 6)


def test_add_working_days_into_the_next_year() -> None:
    # Thu 31 Dec 2026 → the first working day of 2027 after New Year's Day.
    due = shanghai_day(workdays.add_working_days(at(date(2026, 12, 31)), 1))
    assert due.year == 2027 and due > date(2027, 1, 1)
    assert workdays.is_working_day(due)
