"""The workshop's capacity on a day (SPEC §3): when the dealer is open, who works when
(technicians with their skills, advisors with their reception hours, daily breaks and
absences taken off)
and which bays there are. The slot finder (``slots``) and the day plan (``dayplan``)
both read it; neither writes it.

Windows are aware datetimes in the current time zone, cut to the opening hours. The data
of a date range is read in a fixed number of queries (``days_capacity``), whatever its
length.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import chinese_calendar
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.workorders.choices import BayKind, OperationCategory

Window = tuple[datetime.datetime, datetime.datetime]

# A job needing the bay kind on the left may also be done in these bays.
BAY_FITS: dict[str, tuple[str, ...]] = {
    BayKind.QUICK: (BayKind.QUICK, BayKind.GENERAL),
}

# The operation category a booking without planned operations stands for.
SERVICE_CATEGORY = {
    "maintenance": OperationCategory.MAINTENANCE,
    "repair": OperationCategory.DIAGNOSIS,
    "warranty": OperationCategory.DIAGNOSIS,
    "campaign": OperationCategory.OTHER,
    "inspection": OperationCategory.DIAGNOSIS,
}


# A gap of at most this long between two working windows of a technician (a lunch break,
# a short absence) may be run across: the technician pauses, the car stays in its bay
# and the job ends that much later. Longer gaps (leave, training) are not. A break set
# up in the shift may not be longer.
BREAK_MINUTES = 120


def bay_fits(needed: str, bay_kind: str) -> bool:
    """Whether a job needing a ``needed`` bay can be done in a bay of ``bay_kind``."""
    return bay_kind in BAY_FITS.get(needed, (needed,))


@dataclass(frozen=True)
class Bay:
    id: int
    code: str
    name: str
    kind: str


@dataclass(frozen=True)
class Person:
    """A technician or advisor on one day: their working windows (shift or reception
    hours within the opening hours, absences cut out). ``bay_kinds``/``categories`` are the
    technician's skills (empty for advisors)."""

    user_id: int
    name: str
    windows: tuple[Window, ...]
    bay_kinds: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    rest: Window | None = None  # the daily break set up (lunch), if any that day

    def can_do(self, bay_kind: str, categories) -> bool:
        """Skilled for a job needing ``bay_kind`` with operations of ``categories``: a bay
        kind the technician works in (or one the job fits, e.g. quick service in a general
        bay) and every category. No categories recorded means any category."""
        if not any(bay_fits(bay_kind, kind) for kind in self.bay_kinds):
            return False
        return not self.categories or set(categories) <= self.categories

    @property
    def breaks(self) -> tuple[Window, ...]:
        """The gaps between the windows a job may run across (``BREAK_MINUTES``)."""
        limit = datetime.timedelta(minutes=BREAK_MINUTES)
        return tuple(
            (end, start)
            for (_s, end), (start, _e) in zip(self.windows, self.windows[1:], strict=False)
            if end < start and start - end <= limit
        )

    @property
    def rest_breaks(self) -> tuple[Window, ...]:
        """The ``breaks`` holding the daily break set up: the ones a booking may run
        over (a short absence is not offered to run a booking across)."""
        rest = self.rest
        if rest is None:
            return ()
        return tuple(b for b in self.breaks if b[0] <= rest[0] and rest[1] <= b[1])


@dataclass
class DayCapacity:
    """What a dealer has on ``day``. ``opens``/``closes`` are None and ``closed_reason``
    says why when the dealer is closed."""

    dealer_id: int
    day: datetime.date
    opens: datetime.datetime | None
    closes: datetime.datetime | None
    closed_reason: str = ""
    slot_minutes: int = 15
    reception_minutes: int = 15
    bays: list[Bay] = field(default_factory=list)
    technicians: list[Person] = field(default_factory=list)
    advisors: list[Person] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.opens is not None

    def bay_kinds(self) -> set[str]:
        return {bay.kind for bay in self.bays}


def _at(day: datetime.date, at) -> datetime.datetime:
    if isinstance(at, str):  # a default not read back from the database ("08:30")
        at = datetime.time.fromisoformat(at)
    # zoneinfo zones resolve the offset on use: no make_aware per technician per day
    return datetime.datetime.combine(day, at, tzinfo=timezone.get_current_timezone())


def _public_holiday(day: datetime.date) -> str:
    """The name of the official public holiday on ``day`` ("" if none or unknown)."""
    try:
        holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:  # a year the installed calendar does not know
        return ""
    return str(name) if holiday and name else ""


def closed_reason(settings, day: datetime.date, closed_days: dict) -> str:
    """Why the dealer is closed on ``day`` ("" when open)."""
    if day in closed_days:
        return closed_days[day]
    if day.weekday() not in (settings.open_weekdays or []):
        return _("closed on this weekday")
    if settings.closed_on_public_holidays:
        name = _public_holiday(day)
        if name:
            return _("public holiday (%(name)s)") % {"name": name}
    return ""


def _cut(windows: list[Window], absences: list[Window]) -> list[Window]:
    """``windows`` with the ``absences`` taken out."""
    for away_start, away_end in absences:
        kept = []
        for start, end in windows:
            if away_end <= start or away_start >= end:
                kept.append((start, end))
                continue
            if start < away_start:
                kept.append((start, away_start))
            if away_end < end:
                kept.append((away_end, end))
        windows = kept
    return windows


def _person(day, row, start, end, hours, absences, **skills) -> Person | None:
    """A technician's or advisor's ``row`` on ``day`` (``start``/``end``: their shift or
    reception hours): None when they do not work that day, else their windows within the
    opening ``hours``, without their daily break and absences."""
    if day.weekday() not in (row.weekdays or []):
        return None
    opens, closes = hours
    first, last = max(_at(day, start), opens), min(_at(day, end), closes)
    if first >= last:
        return None
    rest = None
    away = list(absences.get(row.user_id, ()))
    if row.break_start is not None and row.break_end is not None:
        rest = _at(day, row.break_start), _at(day, row.break_end)
        away.append(rest)
    windows = _cut([(first, last)], away)
    if not windows:
        return None
    name = str(row.user)
    return Person(row.user_id, name, tuple(windows), rest=rest, **skills)


def days_capacity(dealer, first: datetime.date, last: datetime.date) -> dict:
    """``{day: DayCapacity}`` for every day from ``first`` to ``last`` (inclusive), in six
    queries whatever the range."""
    from aftersales.appointments.models import (
        Absence,
        Advisor,
        ClosedDay,
        ScheduleSettings,
        Technician,
    )
    from aftersales.workorders.models import ServiceSettings, WorkshopBay

    dealer_id = getattr(dealer, "pk", dealer)
    schedule = ScheduleSettings.for_dealer(dealer_id)
    service = ServiceSettings.for_dealer(dealer_id)
    closed = dict(
        ClosedDay.objects.filter(dealer_id=dealer_id, day__range=(first, last)).values_list(
            "day", "reason"
        )
    )
    bays = [
        Bay(b.pk, b.code, b.name, b.kind)
        for b in WorkshopBay.objects.filter(dealer_id=dealer_id, active=True).order_by("code")
    ]
    technicians = list(
        Technician.objects.filter(dealer_id=dealer_id, active=True, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    )
    advisors = list(
        Advisor.objects.filter(dealer_id=dealer_id, active=True, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    )
    range_start = _at(first, datetime.time.min)
    range_end = _at(last + datetime.timedelta(days=1), datetime.time.min)
    absences: dict[int, list[Window]] = {}
    for user_id, starts_at, ends_at in Absence.objects.filter(
        dealer_id=dealer_id, starts_at__lt=range_end, ends_at__gt=range_start
    ).values_list("user_id", "starts_at", "ends_at"):
        absences.setdefault(user_id, []).append((starts_at, ends_at))

    result = {}
    day = first
    while day <= last:
        reason = closed_reason(schedule, day, closed)
        capacity = DayCapacity(
            dealer_id=dealer_id,
            day=day,
            opens=None,
            closes=None,
            closed_reason=reason,
            slot_minutes=schedule.slot_minutes,
            reception_minutes=schedule.reception_minutes,
            bays=bays,
        )
        if not reason:
            opens, closes = _at(day, service.workday_start), _at(day, service.workday_end)
            capacity.opens, capacity.closes = opens, closes
            for tech in technicians:
                person = _person(
                    day,
                    tech,
                    tech.shift_start,
                    tech.shift_end,
                    (opens, closes),
                    absences,
                    bay_kinds=frozenset(tech.bay_kinds or []),
                    categories=frozenset(tech.categories or []),
                )
                if person is not None:
                    capacity.technicians.append(person)
            for advisor in advisors:
                person = _person(
                    day,
                    advisor,
                    advisor.reception_start,
                    advisor.reception_end,
                    (opens, closes),
                    absences,
                )
                if person is not None:
                    capacity.advisors.append(person)
        result[day] = capacity
        day += datetime.timedelta(days=1)
    return result


def day_capacity(dealer, day: datetime.date) -> DayCapacity:
    return days_capacity(dealer, day, day)[day]


def job_needs(operations, service_type: str) -> tuple[str, set[str]]:
    """The bay kind and operation categories a job of ``operations`` (LabourOperation
    rows) needs; with no operations, what the service type usually needs. The bay kind
    is the most demanding one among the operations (a body job with a wash needs the body
    bay)."""
    if not operations:
        category = SERVICE_CATEGORY.get(service_type, OperationCategory.OTHER)
        from aftersales.workorders.choices import CATEGORY_BAY

        return CATEGORY_BAY.get(category, BayKind.GENERAL), {category}
    kinds = [op.needs_bay for op in operations]
    special = [k for k in kinds if k not in (BayKind.GENERAL, BayKind.QUICK)]
    if special:
        kind = special[0]
    elif BayKind.GENERAL in kinds:
        kind = BayKind.GENERAL
    else:
        kind = BayKind.QUICK
    return kind, {op.category for op in operations}
