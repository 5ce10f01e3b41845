"""Chinese working-day calendar for SLA deadlines.

Complaint handling limits, callback promises and repair commitments in China are
expressed in *working days* (工作日) of the official State Council calendar: weekends
are off, statutory public holidays are off, and the make-up working days (调休) that
the State Council moves onto weekends are *on*. ``chinese_calendar`` carries that
published data, so this module never guesses from weekdays.

Two consequences callers must be aware of:

* The data only covers the years the installed ``chinese_calendar`` release knows
  (1.11.0: 2004-2026). Asking about any other year raises
  :class:`CalendarUnavailable` instead of silently treating the year as
  "Mon-Fri, no holidays", which would produce deadlines that look plausible but
  are wrong. Upgrade the package once the State Council publishes the next
  year's schedule (usually in November).
* Business days are Chinese calendar days, so every datetime function works in
  :data:`CALENDAR_TZ` (Asia/Shanghai) unless told otherwise. Aware datetimes in
  another zone (e.g. UTC values read back from the database) are converted first;
  naive datetimes are refused because their calendar day is ambiguous.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

import chinese_calendar
from django.utils import timezone

__all__ = [
    "CALENDAR_TZ",
    "DEFAULT_OPENING_HOURS",
    "MAX_CONSECUTIVE_DAYS_OFF",
    "CalendarUnavailable",
    "OpeningHours",
    "add_working_days",
    "add_working_hours",
    "weekdays_beyond_calendar",
    "deadline",
    "is_working_day",
    "working_days_between",
    "working_time_between",
]

#: Zone in which calendar days and opening hours are interpreted by default.
#: Deliberately not ``settings.TIME_ZONE``: the official calendar is Chinese even
#: if the servers run in UTC, and this keeps the module usable without settings.
CALENDAR_TZ = ZoneInfo("Asia/Shanghai")

#: Longest run of non-working days tolerated before we conclude the calendar
#: data is broken. The real maximum is 9 (Spring Festival 2026, Feb 15-23), so a
#: month leaves ample margin while still guaranteeing every scan terminates.
MAX_CONSECUTIVE_DAYS_OFF = 31

_ONE_DAY = timedelta(days=1)


class CalendarUnavailable(ValueError):
    """The official working-day calendar is unknown for the requested date(s).

    A ``ValueError`` subclass so that callers validating user input (e.g. a
    deadline far in the future) can treat it like any other invalid value.
    """


@dataclasses.dataclass(frozen=True)
class OpeningHours:
    """Daily business hours of a dealer, applied on every working day.

    Times are naive wall-clock times in the calendar time zone; a tz-aware
    ``time`` is rejected because combining it with a date in another zone would
    silently shift the hours. Overnight shifts (``close`` before ``open``) are not
    supported.
    """

    open: time = time(8, 30)
    close: time = time(18, 0)

    def __post_init__(self) -> None:
        for name in ("open", "close"):
            value = getattr(self, name)
            if not isinstance(value, time):
                raise TypeError(f"OpeningHours.{name} must be a datetime.time, got {value!r}")
            if value.tzinfo is not None:
                raise ValueError(f"OpeningHours.{name} must be a naive time, got {value!r}")
        if not self.open < self.close:
            raise ValueError(
                f"OpeningHours.open ({self.open}) must be earlier than close ({self.close})"
            )


DEFAULT_OPENING_HOURS = OpeningHours()

_BEYOND_CALENDAR: contextvars.ContextVar[set | None] = contextvars.ContextVar(
    "weekdays_beyond_calendar", default=None
)


@contextlib.contextmanager
def weekdays_beyond_calendar():
    """Inside this block, days of years the calendar data does not cover count Monday to
    Friday as working days instead of raising :class:`CalendarUnavailable`. Yields the
    set of days so guessed: a deadline computed over one of them is provisional and must
    be recomputed once the State Council publishes the year (and the package carries it).
    """
    guessed: set[date] = set()
    token = _BEYOND_CALENDAR.set(guessed)
    try:
        yield guessed
    finally:
        _BEYOND_CALENDAR.reset(token)


def is_working_day(d: date) -> bool:
    """Return whether ``d`` is a working day in the official Chinese calendar.

    Weekends and public holidays are off; make-up working days (调休), which fall
    on a Saturday or Sunday, are on.

    Raises :class:`CalendarUnavailable` for years ``chinese_calendar`` has no data
    for, and ``TypeError`` for a ``datetime``: its calendar day depends on a time
    zone, so callers must decide which day they mean (see :func:`deadline`).
    """
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"is_working_day() expects a datetime.date, got {d!r}")
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError as exc:
        guessed = _BEYOND_CALENDAR.get()
        if guessed is not None:
            guessed.add(d)
            return d.weekday() < 5
        raise CalendarUnavailable(
            f"No official Chinese working-day calendar for {d.isoformat()}: {exc}"
        ) from exc


def _step_to_working_day(d: date, step: timedelta) -> date:
    """First working day strictly after ``d`` in the direction of ``step``.

    The bound makes corrupt or incomplete calendar data fail loudly instead of
    hanging a request or a Celery worker.
    """
    current = d
    for _ in range(MAX_CONSECUTIVE_DAYS_OFF):
        current += step
        if is_working_day(current):
            return current
    raise CalendarUnavailable(
        f"No working day found within {MAX_CONSECUTIVE_DAYS_OFF} days "
        f"{'after' if step > timedelta(0) else 'before'} {d.isoformat()}"
    )


def add_working_days(start: date, n: int) -> date:
    """Return the date that is ``n`` working days after ``start``.

    ``start`` itself is never counted: ``n=1`` is the next working day after
    ``start`` whether or not ``start`` is a working day. ``n=0`` returns
    ``start`` if it is a working day, otherwise the next working day. Negative
    ``n`` counts backwards symmetrically (``n=-1`` is the previous working day).

    Raises :class:`CalendarUnavailable` when the walk leaves the years covered
    by the calendar data or finds no working day within
    :data:`MAX_CONSECUTIVE_DAYS_OFF` days.
    """
    if isinstance(start, datetime) or not isinstance(start, date):
        raise TypeError(f"add_working_days() expects a datetime.date, got {start!r}")
    if n == 0:
        return start if is_working_day(start) else _step_to_working_day(start, _ONE_DAY)
    step = _ONE_DAY if n > 0 else -_ONE_DAY
    current = start
    for _ in range(abs(n)):
        current = _step_to_working_day(current, step)
    return current


def working_days_between(start: date, end: date) -> int:
    """Count the working days in the half-open interval ``(start, end]``.

    This is the inverse of :func:`add_working_days`: for a working day ``end``
    after ``start``, ``add_working_days(start, working_days_between(start, end))
    == end``. The day the clock starts does not count, the day it stops does,
    matching how "within N working days" is read for complaints.

    If ``end < start`` the result is the negated count of ``(end, start]``;
    ``start == end`` gives 0.
    """
    for value in (start, end):
        if isinstance(value, datetime) or not isinstance(value, date):
            raise TypeError(f"working_days_between() expects datetime.date, got {value!r}")
    if end < start:
        return -working_days_between(end, start)
    count = 0
    current = start
    while current < end:
        current += _ONE_DAY
        if is_working_day(current):
            count += 1
    return count


# --- datetime helpers -------------------------------------------------------


def _localize(value: datetime, tz: tzinfo | None, func: str) -> tuple[datetime, tzinfo]:
    if not isinstance(value, datetime):
        raise TypeError(f"{func}() expects an aware datetime, got {value!r}")
    if timezone.is_naive(value):
        # A naive value could be UTC from a careless query or local wall-clock
        # time; guessing would move SLA deadlines by eight hours.
        raise ValueError(f"{func}() requires an aware datetime, got naive {value!r}")
    zone = tz or CALENDAR_TZ
    return value.astimezone(zone), zone


def _at(d: date, t: time, tz: tzinfo) -> datetime:
    return datetime.combine(d, t, tzinfo=tz)


def _elapsed(a: datetime, b: datetime) -> timedelta:
    # Python subtracts datetimes sharing a tzinfo as wall-clock times; going
    # through UTC keeps durations exact should a DST zone ever be passed as tz.
    return b.astimezone(UTC) - a.astimezone(UTC)


def _shift(a: datetime, delta: timedelta, tz: tzinfo) -> datetime:
    return (a.astimezone(UTC) + delta).astimezone(tz)


def _next_working_instant(local: datetime, opening: OpeningHours, tz: tzinfo) -> datetime:
    """Earliest instant at or after ``local`` that lies inside opening hours."""
    day = local.date()
    if is_working_day(day):
        if local.time() < opening.open:
            return _at(day, opening.open, tz)
        if local.time() < opening.close:
            return local
    return _at(_step_to_working_day(day, _ONE_DAY), opening.open, tz)


def _to_timedelta(hours: Decimal | float | int | timedelta) -> timedelta:
    if isinstance(hours, timedelta):
        return hours
    if isinstance(hours, bool) or not isinstance(hours, Decimal | float | int):
        raise TypeError(f"hours must be a number or timedelta, got {hours!r}")
    if isinstance(hours, Decimal):
        # Decimal is what model fields hand us; convert exactly instead of via
        # float so "0.1" hours is 6 minutes on the dot.
        if not hours.is_finite():
            raise ValueError(f"hours must be finite, got {hours!r}")
        return timedelta(microseconds=int((hours * 3_600_000_000).to_integral_value()))
    return timedelta(hours=hours)


# --- public datetime API ----------------------------------------------------


def deadline(
    start: datetime,
    working_days: int,
    hours: OpeningHours | None = None,
    *,
    tz: tzinfo | None = None,
) -> datetime:
    """Return the SLA deadline ``working_days`` working days after ``start``.

    Rule, evaluated in ``tz`` (default :data:`CALENDAR_TZ`, Asia/Shanghai):

    1. Determine *day 0*, the business day on which the clock starts:

       * ``start`` on a working day before its closing time (including before
         opening): day 0 is that day;
       * ``start`` on a working day at or after closing time, or on a
         non-working day: day 0 is the next working day (the clock starts at its
         opening).

    2. The deadline is closing time (``hours.close``) on the working day that is
       ``working_days`` working days after day 0 (see :func:`add_working_days`),
       so ``working_days=0`` means "by close of business on day 0".

    Example: raised 2025-09-30 10:00 with 3 working days -> Oct 1-8 are the
    National Day holiday, Oct 9 is day 1, Oct 10 day 2, Saturday Oct 11 (make-up
    working day) day 3 -> deadline 2025-10-11 18:00+08:00.

    ``start`` must be aware (``ValueError`` otherwise); the result is aware in
    ``tz``. ``working_days`` must not be negative. Raises
    :class:`CalendarUnavailable` when the calendar data does not reach the
    deadline.
    """
    if working_days < 0:
        raise ValueError(f"working_days must not be negative, got {working_days}")
    opening = hours or DEFAULT_OPENING_HOURS
    local, zone = _localize(start, tz, "deadline")
    day = local.date()
    if is_working_day(day) and local.time() < opening.close:
        day_zero = day
    else:
        day_zero = _step_to_working_day(day, _ONE_DAY)
    return _at(add_working_days(day_zero, working_days), opening.close, zone)


def add_working_hours(
    start: datetime,
    hours: Decimal | float | int | timedelta,
    opening: OpeningHours | None = None,
    *,
    tz: tzinfo | None = None,
) -> datetime:
    """Return the instant after ``start`` once ``hours`` of working time have run.

    Only time inside ``opening`` hours (default 08:30-18:00) on working days
    counts; nights, weekends and holidays are skipped, make-up working days are
    used. Useful for promised completion times and for resuming a paused SLA
    clock with its remaining working time.

    The result is the *earliest* instant ``t`` with
    ``working_time_between(start, t) == hours``; hence a budget that runs out
    exactly at closing time returns that closing time (not the next opening),
    and ``hours=0`` returns ``start`` unchanged (converted to ``tz``).

    ``hours`` may be a ``Decimal`` (converted exactly), ``float``, ``int`` or
    ``timedelta``; it must not be negative. ``start`` must be aware; the result
    is aware in ``tz`` (default Asia/Shanghai).
    """
    opening = opening or DEFAULT_OPENING_HOURS
    remaining = _to_timedelta(hours)
    if remaining < timedelta(0):
        raise ValueError(f"hours must not be negative, got {hours!r}")
    local, zone = _localize(start, tz, "add_working_hours")
    if not remaining:
        return local
    cursor = _next_working_instant(local, opening, zone)
    while True:
        closing = _at(cursor.date(), opening.close, zone)
        available = _elapsed(cursor, closing)
        if remaining <= available:
            return _shift(cursor, remaining, zone)
        remaining -= available
        cursor = _at(_step_to_working_day(cursor.date(), _ONE_DAY), opening.open, zone)


def working_time_between(
    start: datetime,
    end: datetime,
    opening: OpeningHours | None = None,
    *,
    tz: tzinfo | None = None,
) -> timedelta:
    """Return the working time elapsed between two aware instants.

    Sums the overlap of ``[start, end]`` with the opening hours (default
    08:30-18:00) of every working day, e.g. to measure how much SLA time a
    paused ticket consumed. Make-up working days count, weekends and holidays do
    not. If ``end < start`` the result is negative.

    Raises :class:`CalendarUnavailable` if any day in the range is outside the
    calendar data.
    """
    opening = opening or DEFAULT_OPENING_HOURS
    local_start, zone = _localize(start, tz, "working_time_between")
    local_end, _ = _localize(end, zone, "working_time_between")
    if local_end < local_start:
        return -working_time_between(end, start, opening, tz=zone)
    total = timedelta(0)
    day = local_start.date()
    while day <= local_end.date():
        if is_working_day(day):
            window_start = max(local_start, _at(day, opening.open, zone))
            window_end = min(local_end, _at(day, opening.close, zone))
            if window_end > window_start:
                total += _elapsed(window_start, window_end)
        day += _ONE_DAY
    return total
