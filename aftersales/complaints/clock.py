"""Complaint time limits in Chinese working days (source document 001: 时限管理).

A limit of N working days runs from the filing (or the last reopening) to the close of
business (18:00) of the N-th working day after the day the clock started
(``core.workdays.deadline``: weekends and public holidays are off, make-up days are on).
Time the clock stood still waiting for the customer is measured in *working* time and
pushes the deadline out by as much working time. Beyond the years the published
holiday calendar covers, days count Monday to Friday and the deadline is marked
provisional; the clock job recomputes provisional deadlines.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from aftersales.core.workdays import (
    CALENDAR_TZ,
    DEFAULT_OPENING_HOURS,
    add_working_hours,
    deadline,
    weekdays_beyond_calendar,
    working_time_between,
)

HOURS = DEFAULT_OPENING_HOURS  # the customer-service centre's day: 08:30-18:00
DAY = datetime.timedelta(
    hours=HOURS.close.hour - HOURS.open.hour, minutes=HOURS.close.minute - HOURS.open.minute
)
ZERO = datetime.timedelta(0)


def limit_deadline(
    start: datetime.datetime, days: int, paused: datetime.timedelta | None = None
) -> tuple[datetime.datetime, bool]:
    """The deadline ``days`` working days after ``start``, pushed out by ``paused``
    working time; and whether it rests on guessed (beyond-calendar) days."""
    with weekdays_beyond_calendar() as guessed:
        due = deadline(start, days, HOURS)
        if paused and paused > ZERO:
            due = add_working_hours(due, paused, HOURS)
    return due, bool(guessed)


def add_working(start: datetime.datetime, span: datetime.timedelta) -> datetime.datetime:
    """The instant ``span`` of working time after ``start``."""
    with weekdays_beyond_calendar():
        return add_working_hours(start, span, HOURS)


def working_time(start: datetime.datetime, end: datetime.datetime) -> datetime.timedelta:
    with weekdays_beyond_calendar():
        return working_time_between(start, end, HOURS)


def working_days(span: datetime.timedelta) -> Decimal:
    """A span of working time in working days of 9.5 hours, to 0.01."""
    return (Decimal(span.total_seconds()) / Decimal(DAY.total_seconds())).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def paused_so_far(complaint, now=None) -> datetime.timedelta:
    """Working time the complaint's clock has stood still, including a running pause."""
    total = complaint.paused_total or ZERO
    if complaint.paused_since is not None:
        total += max(working_time(complaint.paused_since, now or timezone.now()), ZERO)
    return total


def used(complaint, now=None) -> datetime.timedelta:
    """Working time used since the clock started, pauses excluded."""
    if complaint.clock_started_at is None:
        return ZERO
    now = now or timezone.now()
    return max(working_time(complaint.clock_started_at, now) - paused_so_far(complaint, now), ZERO)


def budget(complaint) -> datetime.timedelta:
    """The working time the limit gives (clock start → the deadline without pauses)."""
    if complaint.clock_started_at is None or not complaint.limit_days:
        return ZERO
    due, _guessed = limit_deadline(complaint.clock_started_at, complaint.limit_days)
    return working_time(complaint.clock_started_at, due)


def share_used(complaint, now=None) -> int:
    """Per cent of the time limit used (100 and more: breached)."""
    total = budget(complaint)
    if total <= ZERO:
        return 0
    return int(used(complaint, now) * 100 // total)


def step_share_used(step, now=None) -> int:
    now = now or timezone.now()
    total = working_time(step.created_at, step.due_at)
    if total <= ZERO:
        return 100 if now >= step.due_at else 0
    return int(max(working_time(step.created_at, now), ZERO) * 100 // total)


def remaining(complaint, now=None) -> datetime.timedelta:
    """Working time left before the deadline (negative when overdue)."""
    if complaint.deadline_at is None:
        return ZERO
    now = now or timezone.now()
    return working_time(now, complaint.deadline_at)


class WorkCalendar:
    """The working time before every instant of a span of days, answered in O(1): the
    deadline sweep asks it about hundreds of thousands of complaints. Gives the same
    answers as ``limit_deadline`` and ``working_time`` (tested) for instants inside the
    span; callers fall back to those outside it."""

    def __init__(self, first: datetime.date, last: datetime.date):
        from aftersales.core.workdays import is_working_day

        self.tz = CALENDAR_TZ
        self.first, self.last = first, last
        count = (last - first).days + 1
        self.open_s = HOURS.open.hour * 3600 + HOURS.open.minute * 60
        self.close_s = HOURS.close.hour * 3600 + HOURS.close.minute * 60
        day_s = self.close_s - self.open_s
        with weekdays_beyond_calendar() as guessed:
            self.working = [is_working_day(first + datetime.timedelta(i)) for i in range(count)]
        self.guessed = {(d - first).days for d in guessed}
        self.prefix = [0] * (count + 1)  # working seconds before day i
        self.work_index = []  # day offsets of the working days, in order
        for i, on in enumerate(self.working):
            self.prefix[i + 1] = self.prefix[i] + (day_s if on else 0)
            if on:
                self.work_index.append(i)
        self.rank = {offset: n for n, offset in enumerate(self.work_index)}

    def covers(self, instant: datetime.datetime) -> bool:
        day = instant.astimezone(self.tz).date()
        return self.first <= day <= self.last

    def seconds(self, instant: datetime.datetime) -> int:
        """Working seconds from the start of the span to ``instant``."""
        local = instant.astimezone(self.tz)
        i = (local.date() - self.first).days
        total = self.prefix[i]
        if self.working[i]:
            t = local.hour * 3600 + local.minute * 60 + local.second
            total += min(max(t, self.open_s), self.close_s) - self.open_s
        return total

    def between(self, a: datetime.datetime, b: datetime.datetime) -> int:
        return self.seconds(b) - self.seconds(a)

    def deadline(self, start: datetime.datetime, days: int) -> tuple[datetime.datetime, bool]:
        """``core.workdays.deadline`` over the index: close of business of the ``days``-th
        working day after day 0; and whether a guessed day was used."""
        local = start.astimezone(self.tz)
        i = (local.date() - self.first).days
        t = local.hour * 3600 + local.minute * 60 + local.second
        if self.working[i] and t < self.close_s:
            n = self.rank[i]
        else:
            n = next(self.rank[j] for j in range(i + 1, len(self.working)) if self.working[j])
        day = self.work_index[n + days]
        guessed = any(j in self.guessed for j in range(i, day + 1))
        close = datetime.datetime.combine(
            self.first + datetime.timedelta(day), HOURS.close, tzinfo=self.tz
        )
        return close, guessed
