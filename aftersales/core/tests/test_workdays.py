"""Tests for the Chinese working-day calendar against the official 2025/2026 schedules.

Expected dates come from the State Council holiday notices (国务院办公厅关于2025年/2026年
部分节假日安排的通知), not from chinese_calendar, so a wrong library release fails here.
"""

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from aftersales.core import workdays
from aftersales.core.workdays import (
    CalendarUnavailable,
    OpeningHours,
    add_working_days,
    add_working_hours,
    deadline,
    is_working_day,
    working_days_between,
    working_time_between,
)

SH = ZoneInfo("Asia/Shanghai")


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def days(start: str, end: str) -> list[date]:
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    return [first + timedelta(n) for n in range((last - first).days + 1)]


HOLIDAYS_2025 = [
    date(2025, 1, 1),  # New Year
    *days("2025-01-28", "2025-02-04"),  # Spring Festival
    *days("2025-04-04", "2025-04-06"),  # Qingming
    *days("2025-05-01", "2025-05-05"),  # Labour Day
    *days("2025-05-31", "2025-06-02"),  # Dragon Boat
    *days("2025-10-01", "2025-10-08"),  # National Day + Mid-Autumn
]
MAKEUP_DAYS_2025 = [
    date(2025, 1, 26),  # Sun, Spring Festival
    date(2025, 2, 8),  # Sat, Spring Festival
    date(2025, 4, 27),  # Sun, Labour Day
    date(2025, 9, 28),  # Sun, National Day
    date(2025, 10, 11),  # Sat, National Day
]
HOLIDAYS_2026 = [
    *days("2026-01-01", "2026-01-03"),  # New Year
    *days("2026-02-15", "2026-02-23"),  # Spring Festival
    *days("2026-04-04", "2026-04-06"),  # Qingming
    *days("2026-05-01", "2026-05-05"),  # Labour Day
    *days("2026-06-19", "2026-06-21"),  # Dragon Boat
    *days("2026-09-25", "2026-09-27"),  # Mid-Autumn
    *days("2026-10-01", "2026-10-07"),  # National Day
]
MAKEUP_DAYS_2026 = [
    date(2026, 1, 4),  # Sun, New Year
    date(2026, 2, 14),  # Sat, Spring Festival
    date(2026, 2, 28),  # Sat, Spring Festival
    date(2026, 5, 9),  # Sat, Labour Day
    date(2026, 9, 20),  # Sun, National Day
    date(2026, 10, 10),  # Sat, National Day
]


# --- is_working_day ---------------------------------------------------------


@pytest.mark.parametrize("day", HOLIDAYS_2025 + HOLIDAYS_2026, ids=str)
def test_official_public_holidays_are_not_working_days(day):
    # given a day inside an official holiday block
    # when / then it is not a working day, even if it is a Monday-Friday
    assert is_working_day(day) is False


@pytest.mark.parametrize("day", MAKEUP_DAYS_2025 + MAKEUP_DAYS_2026, ids=str)
def test_make_up_weekend_days_are_working_days(day):
    # given a make-up working day (调休), which always falls on a weekend
    assert day.weekday() >= 5
    # when / then it counts as a working day
    assert is_working_day(day) is True


def test_whole_year_matches_official_schedule():
    # given the official off/on exceptions to the Mon-Fri rule for 2025 and 2026
    holidays = set(HOLIDAYS_2025 + HOLIDAYS_2026)
    makeup = set(MAKEUP_DAYS_2025 + MAKEUP_DAYS_2026)
    # when every day of both years is checked
    mismatches = [
        day
        for day in days("2025-01-01", "2026-12-31")
        if is_working_day(day) != ((day.weekday() < 5 and day not in holidays) or day in makeup)
    ]
    # then there are no other exceptions
    assert mismatches == []


def test_plain_saturday_and_sunday_are_not_working_days():
    # given an ordinary weekend with no make-up arrangement
    saturday, sunday = date(2025, 3, 8), date(2025, 3, 9)
    # when / then neither is a working day, while the following Monday is
    assert is_working_day(saturday) is False
    assert is_working_day(sunday) is False
    assert is_working_day(date(2025, 3, 10)) is True


def test_is_working_day_raises_calendar_unavailable_for_unknown_year():
    # given a year chinese_calendar has no data for
    # when / then a CalendarUnavailable (a ValueError) is raised, naming the date
    with pytest.raises(CalendarUnavailable, match="2100-01-01") as excinfo:
        is_working_day(date(2100, 1, 1))
    assert isinstance(excinfo.value, ValueError)
    with pytest.raises(CalendarUnavailable):
        is_working_day(date(2003, 12, 31))


def test_is_working_day_rejects_datetime():
    # given a datetime, whose calendar day depends on a time zone
    # when / then it is refused rather than silently truncated
    with pytest.raises(TypeError):
        is_working_day(datetime(2025, 10, 9, 12, tzinfo=UTC))


# --- add_working_days -------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # Sep 30 | Oct 1-8 off | Oct 9 Thu=1, Oct 10 Fri=2, Oct 11 make-up Sat=3
        (date(2025, 9, 30), 3, date(2025, 10, 11)),
        # Sep 30 | Oct 1-7 off | Oct 8 Thu=1, Oct 9 Fri=2, Oct 10 make-up Sat=3
        (date(2026, 9, 30), 3, date(2026, 10, 10)),
        # Fri Feb 13 | Feb 14 make-up Sat=1 | Feb 15-23 off | Feb 24=2, Feb 25=3
        (date(2026, 2, 13), 3, date(2026, 2, 25)),
        # Mon Jan 27 2025 | Jan 28-Feb 4 off | Wed Feb 5=1
        (date(2025, 1, 27), 1, date(2025, 2, 5)),
        # Wed Dec 31 2025 | Jan 1-3 off | Jan 4 make-up Sun=1, Mon Jan 5=2
        (date(2025, 12, 31), 2, date(2026, 1, 5)),
        # Fri Apr 30 2026 | May 1-5 off | Wed May 6..Fri May 8 | make-up Sat May 9=4
        (date(2026, 4, 30), 4, date(2026, 5, 9)),
        # plain week: Fri Mar 7 2025 + 1 skips the weekend
        (date(2025, 3, 7), 1, date(2025, 3, 10)),
        # start on a holiday is not counted: Oct 3 2025 + 1 = Oct 9
        (date(2025, 10, 3), 1, date(2025, 10, 9)),
    ],
    ids=str,
)
def test_add_working_days_forward(start, n, expected):
    # given a start date and a number of working days
    # when the working days are added
    result = add_working_days(start, n)
    # then the official calendar is followed
    assert result == expected


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (date(2025, 9, 30), date(2025, 9, 30)),  # working day: itself
        (date(2025, 10, 1), date(2025, 10, 9)),  # holiday: first day after it
        (date(2025, 3, 8), date(2025, 3, 10)),  # plain Saturday: Monday
        (date(2025, 10, 11), date(2025, 10, 11)),  # make-up Saturday: itself
    ],
    ids=str,
)
def test_add_zero_working_days_returns_start_or_next_working_day(start, expected):
    # given n=0
    # when / then start is returned if it is a working day, else the next one
    assert add_working_days(start, 0) == expected


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2025, 10, 9), -1, date(2025, 9, 30)),  # back over National Day
        (date(2025, 10, 13), -3, date(2025, 10, 9)),  # Sat Oct 11 counts
        (date(2026, 2, 24), -1, date(2026, 2, 14)),  # back to make-up Saturday
        (date(2026, 1, 5), -1, date(2026, 1, 4)),  # make-up Sunday
        (date(2026, 1, 5), -2, date(2025, 12, 31)),  # across year and New Year
        (date(2025, 10, 5), -1, date(2025, 9, 30)),  # start on a holiday
    ],
    ids=str,
)
def test_add_negative_working_days_counts_backwards(start, n, expected):
    # given a negative n
    # when / then working days are counted backwards, start not included
    assert add_working_days(start, n) == expected


def test_add_working_days_refuses_to_run_past_calendar_data():
    # given the last working day of 2026, the last year in the installed data
    # when adding days that would need the 2027 calendar
    # then CalendarUnavailable is raised instead of guessing from weekdays
    assert add_working_days(date(2026, 12, 30), 1) == date(2026, 12, 31)
    with pytest.raises(CalendarUnavailable):
        add_working_days(date(2026, 12, 30), 5)
    with pytest.raises(CalendarUnavailable):
        add_working_days(date(2100, 1, 1), 1)


def test_add_working_days_is_bounded_if_calendar_has_no_working_days(monkeypatch):
    # given calendar data that (wrongly) has no working days at all
    monkeypatch.setattr(chinese_calendar, "is_workday", lambda d: False)
    # when looking for a working day, forwards, backwards or for n=0
    # then the search stops with CalendarUnavailable instead of looping
    for n in (0, 1, -1):
        with pytest.raises(CalendarUnavailable, match="No working day found"):
            add_working_days(date(2025, 6, 3), n)


# --- working_days_between ---------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2025, 9, 30), date(2025, 10, 11), 3),
        (date(2025, 10, 11), date(2025, 9, 30), -3),
        (date(2025, 9, 30), date(2025, 9, 30), 0),
        (date(2025, 10, 1), date(2025, 10, 8), 0),  # entirely inside the holiday
        (date(2026, 2, 13), date(2026, 2, 25), 3),
        (date(2025, 3, 7), date(2025, 3, 10), 1),  # (Fri, Mon]: only Monday
        (date(2025, 3, 8), date(2025, 3, 9), 0),  # plain weekend
        # all of 2025: 261 Mon-Fri - 18 weekday holidays + 5 make-up days
        (date(2024, 12, 31), date(2025, 12, 31), 248),
    ],
    ids=str,
)
def test_working_days_between_counts_half_open_interval(start, end, expected):
    # given two dates
    # when / then the working days in (start, end] are counted, negated if reversed
    assert working_days_between(start, end) == expected


@pytest.mark.parametrize(
    "end",
    [date(2025, 10, 11), date(2026, 2, 24), date(2026, 1, 4), date(2026, 5, 9)],
    ids=str,
)
def test_working_days_between_is_inverse_of_add_working_days(end):
    # given a start and a later working day
    start = date(2025, 9, 1)
    # when the distance is added back to start
    # then the working day is reached exactly
    assert add_working_days(start, working_days_between(start, end)) == end


# --- OpeningHours -----------------------------------------------------------


def test_opening_hours_defaults_and_validation():
    # given the default opening hours
    hours = OpeningHours()
    # then they are 08:30-18:00 and immutable
    assert (hours.open, hours.close) == (time(8, 30), time(18, 0))
    with pytest.raises(dataclasses.FrozenInstanceError):
        hours.open = time(9)  # type: ignore[misc]
    # and open must be strictly before close
    with pytest.raises(ValueError, match="earlier than close"):
        OpeningHours(open=time(18), close=time(9))
    with pytest.raises(ValueError):
        OpeningHours(open=time(9), close=time(9))
    with pytest.raises(ValueError, match="naive"):
        OpeningHours(open=time(9, tzinfo=UTC), close=time(17))
    with pytest.raises(TypeError):
        OpeningHours(open="09:00", close=time(17))  # type: ignore[arg-type]


# --- deadline ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # during business hours: day 0 is Sep 30, day 3 is make-up Sat Oct 11
        (sh(2025, 9, 30, 10, 0), 3, sh(2025, 10, 11, 18, 0)),
        # before opening still counts that day as day 0
        (sh(2025, 9, 30, 7, 0), 3, sh(2025, 10, 11, 18, 0)),
        # after closing: day 0 is Thu Oct 9, then Oct 10, Sat Oct 11, Mon Oct 13
        (sh(2025, 9, 30, 19, 0), 3, sh(2025, 10, 13, 18, 0)),
        # exactly at closing time counts as after closing
        (sh(2025, 9, 30, 18, 0), 3, sh(2025, 10, 13, 18, 0)),
        # raised on a holiday: day 0 is Oct 9, day 1 is Oct 10
        (sh(2025, 10, 3, 10, 0), 1, sh(2025, 10, 10, 18, 0)),
        # 2026 National Day: Oct 8=1, Oct 9=2, make-up Sat Oct 10=3
        (sh(2026, 9, 30, 10, 0), 3, sh(2026, 10, 10, 18, 0)),
        # 2026 Spring Festival: Sat Feb 14=1, Feb 24=2, Feb 25=3
        (sh(2026, 2, 13, 10, 0), 3, sh(2026, 2, 25, 18, 0)),
        # raised on make-up Saturday Feb 14 after closing: day 0 is Feb 24
        (sh(2026, 2, 14, 20, 0), 1, sh(2026, 2, 25, 18, 0)),
        # 0 working days: close of business on day 0
        (sh(2025, 9, 30, 10, 0), 0, sh(2025, 9, 30, 18, 0)),
        (sh(2025, 10, 5, 10, 0), 0, sh(2025, 10, 9, 18, 0)),
        # plain Saturday: day 0 is Monday
        (sh(2025, 3, 8, 10, 0), 2, sh(2025, 3, 12, 18, 0)),
    ],
    ids=str,
)
def test_deadline_follows_official_calendar(start, n, expected):
    # given a ticket raised at `start` with an n-working-day limit
    # when the deadline is computed with default opening hours
    result = deadline(start, n)
    # then it is closing time on the expected working day, in Shanghai time
    assert result == expected
    assert result.tzinfo == SH
    assert result.time() == time(18, 0)


def test_deadline_converts_utc_input_to_china_calendar_day():
    # given UTC instants as read back from the database
    during_hours = datetime(2025, 9, 30, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    after_close = datetime(2025, 9, 30, 11, 0, tzinfo=UTC)  # 19:00 in Shanghai
    next_day = datetime(2025, 9, 30, 17, 0, tzinfo=UTC)  # Oct 1 01:00 in Shanghai
    # when / then the Shanghai calendar day and opening hours decide day 0
    assert deadline(during_hours, 3) == sh(2025, 10, 11, 18, 0)
    assert deadline(after_close, 3) == sh(2025, 10, 13, 18, 0)
    assert deadline(next_day, 3) == sh(2025, 10, 13, 18, 0)
    assert deadline(during_hours, 3).tzinfo == SH


def test_deadline_with_custom_opening_hours_and_timezone():
    # given a dealer closing at 17:00
    hours = OpeningHours(open=time(9, 0), close=time(17, 0))
    # when a ticket arrives at 17:30 on Tue Sep 30 2025 (after their close)
    result = deadline(sh(2025, 9, 30, 17, 30), 1, hours)
    # then day 0 is Oct 9 and the deadline is 17:00 on Oct 10
    assert result == sh(2025, 10, 10, 17, 0)
    # and an explicit tz interprets the calendar in that zone instead
    utc_result = deadline(sh(2025, 9, 30, 10, 0), 0, tz=UTC)
    assert utc_result == datetime(2025, 9, 30, 18, 0, tzinfo=UTC)
    assert utc_result.tzinfo is UTC


def test_deadline_rejects_naive_and_negative_input():
    # given a naive datetime / a negative limit
    # when / then a ValueError is raised
    with pytest.raises(ValueError, match="aware"):
        deadline(datetime(2025, 9, 30, 10, 0), 3)
    with pytest.raises(ValueError, match="negative"):
        deadline(sh(2025, 9, 30, 10, 0), -1)


def test_deadline_past_calendar_data_raises():
    # given a ticket late in the last year the calendar knows
    # when the deadline would land in the next, unpublished year
    # then CalendarUnavailable is raised
    with pytest.raises(CalendarUnavailable):
        deadline(sh(2026, 12, 28, 10, 0), 10)


# --- add_working_hours ------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        # within one day
        (sh(2025, 3, 10, 9, 0), 2, sh(2025, 3, 10, 11, 0)),
        # across a night: 1h Mon evening + 1h Tue morning
        (sh(2025, 3, 10, 17, 0), 2, sh(2025, 3, 11, 9, 30)),
        # across the 2025 National Day holiday: 1h Sep 30 + 1h Oct 9
        (sh(2025, 9, 30, 17, 0), Decimal("2"), sh(2025, 10, 9, 9, 30)),
        # before opening starts at opening
        (sh(2025, 3, 10, 7, 0), 1, sh(2025, 3, 10, 9, 30)),
        # on a plain Sunday starts Monday
        (sh(2025, 3, 9, 12, 0), 1.5, sh(2025, 3, 10, 10, 0)),
        # Decimal fractions are exact: 0.1 h = 6 min
        (sh(2025, 3, 10, 9, 0), Decimal("0.1"), sh(2025, 3, 10, 9, 6)),
        # 1h Fri Feb 13 + 9.5h make-up Sat Feb 14 = 10.5h: ends at that close
        (sh(2026, 2, 13, 17, 0), Decimal("10.5"), sh(2026, 2, 14, 18, 0)),
        # half an hour more jumps the Spring Festival to Feb 24
        (sh(2026, 2, 13, 17, 0), Decimal("11"), sh(2026, 2, 24, 9, 0)),
        # timedelta is accepted as well
        (sh(2025, 3, 10, 17, 0), timedelta(minutes=90), sh(2025, 3, 11, 9, 0)),
    ],
    ids=str,
)
def test_add_working_hours_skips_nights_weekends_and_holidays(start, hours, expected):
    # given a start instant and an amount of working time
    # when the working time is added with default 08:30-18:00 opening hours
    result = add_working_hours(start, hours, OpeningHours())
    # then only opening hours on working days were consumed
    assert result == expected
    assert result.tzinfo == SH


def test_add_working_hours_zero_returns_start_and_negative_is_refused():
    # given a start outside opening hours
    start = sh(2025, 10, 3, 12, 0)
    # when adding nothing, then the start instant comes back unchanged
    assert add_working_hours(start, 0, OpeningHours()) == start
    # and negative amounts and naive datetimes are refused
    with pytest.raises(ValueError):
        add_working_hours(start, -1, OpeningHours())
    with pytest.raises(ValueError, match="aware"):
        add_working_hours(datetime(2025, 3, 10, 9), 1, OpeningHours())


def test_add_working_hours_with_utc_input():
    # given a UTC instant: 2025-09-30 09:00 UTC is 17:00 in Shanghai
    start = datetime(2025, 9, 30, 9, 0, tzinfo=UTC)
    # when two working hours are added
    result = add_working_hours(start, 2, OpeningHours())
    # then the Shanghai calendar is used and the answer is in Shanghai time
    assert result == sh(2025, 10, 9, 9, 30)
    assert result.tzinfo == SH


# --- working_time_between ---------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # same day
        (sh(2025, 3, 10, 10, 0), sh(2025, 3, 10, 12, 0), timedelta(hours=2)),
        # across a plain weekend: 1h Fri + 1h Mon
        (sh(2025, 3, 7, 17, 0), sh(2025, 3, 10, 9, 30), timedelta(hours=2)),
        # across the 2025 National Day holiday: 1h Sep 30 + 1h Oct 9
        (sh(2025, 9, 30, 17, 0), sh(2025, 10, 9, 9, 30), timedelta(hours=2)),
        # make-up Saturday counts fully: 1h Fri + 9.5h Sat Oct 11 + 1h Mon
        (sh(2025, 10, 10, 17, 0), sh(2025, 10, 13, 9, 30), timedelta(hours=11.5)),
        # only outside opening hours
        (sh(2025, 3, 10, 19, 0), sh(2025, 3, 11, 8, 0), timedelta(0)),
        # whole holiday week
        (sh(2026, 2, 15, 0, 0), sh(2026, 2, 23, 23, 59), timedelta(0)),
        # reversed interval is negative
        (sh(2025, 3, 10, 9, 30), sh(2025, 3, 7, 17, 0), -timedelta(hours=2)),
        # full plain week Mon 00:00 to Sun 24:00: 5 x 9.5h
        (sh(2025, 3, 10, 0, 0), sh(2025, 3, 17, 0, 0), timedelta(hours=47.5)),
    ],
    ids=str,
)
def test_working_time_between(start, end, expected):
    # given two instants
    # when / then only opening hours on working days are counted
    assert working_time_between(start, end, OpeningHours()) == expected


def test_working_time_between_mixed_timezones_and_custom_hours():
    # given a UTC start (Fri 2025-03-07 16:00 Shanghai) and a Shanghai end
    start = datetime(2025, 3, 7, 8, 0, tzinfo=UTC)
    end = sh(2025, 3, 10, 10, 0)
    # when measured with 09:00-17:00 opening hours
    result = working_time_between(start, end, OpeningHours(open=time(9), close=time(17)))
    # then 1h on Friday and 1h on Monday elapsed
    assert result == timedelta(hours=2)


@pytest.mark.parametrize(
    ("start", "hours"),
    [
        (sh(2025, 9, 30, 17, 0), Decimal("2")),
        (sh(2026, 2, 13, 17, 0), Decimal("10.5")),
        (sh(2026, 2, 13, 17, 0), Decimal("30.25")),
        (sh(2025, 12, 31, 12, 0), Decimal("12")),
        (sh(2025, 3, 8, 3, 0), Decimal("0.5")),
    ],
    ids=str,
)
def test_working_time_between_inverts_add_working_hours(start, hours):
    # given a start and an amount of working time
    opening = OpeningHours()
    # when the time is added and then measured
    end = add_working_hours(start, hours, opening)
    # then exactly that working time has elapsed
    assert working_time_between(start, end, opening) == timedelta(hours=float(hours))


def test_default_opening_hours_are_used_when_omitted():
    # given no opening hours argument
    # when / then the 08:30-18:00 defaults apply
    assert workdays.DEFAULT_OPENING_HOURS == OpeningHours()
    assert add_working_hours(sh(2025, 3, 10, 17, 0), 2) == sh(2025, 3, 11, 9, 30)
    assert working_time_between(sh(2025, 3, 7, 17, 0), sh(2025, 3, 10, 9, 30)) == timedelta(hours=2)
