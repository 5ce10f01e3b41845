"""The slot finder (SPEC §3): the start times at which a service advisor's reception slot,
a fitting bay and a skilled technician are all free for a job's hours.

Each day is a grid of ``ScheduleSettings.slot_minutes`` steps from the opening time. Every
advisor, bay and technician gets two bit masks over the grid (a Python int each): when it
is available (shift or reception hours, absences cut out; bays all day) and when it is
busy (the bookings that hold capacity: requested and confirmed). A start ``i`` of a job of
``n`` steps is free for a resource when the ``n`` bits from ``i`` are available and not
busy — one AND per resource, so a two-week search is a few thousand integer operations.
Among the free ones the least-loaded advisor, bay and technician are suggested.

The bookings are read in one query for the whole range and the capacity in six
(``capacity.days_capacity``), whatever the range. Work of repair orders already in the
workshop is not counted here: the day plan puts it and the arriving bookings together.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from aftersales.appointments.capacity import DayCapacity, bay_fits, days_capacity, job_needs
from aftersales.appointments.choices import HOLDING

# Hours a booking stands for when it names no operation, by service type.
DEFAULT_HOURS = {
    "maintenance": Decimal("1.0"),
    "repair": Decimal("2.0"),
    "warranty": Decimal("2.0"),
    "campaign": Decimal("1.0"),
    "inspection": Decimal("0.5"),
}


@dataclass(frozen=True)
class Needs:
    """What a booking needs: a bay kind, operation categories, standard hours, and the
    operations with their hours for the vehicle."""

    bay_kind: str
    categories: frozenset[str]
    hours: Decimal
    operations: tuple = ()  # ((LabourOperation, hours), ...)


@dataclass(frozen=True)
class Slot:
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    advisor_id: int
    bay_id: int
    technician_id: int
    load: int  # minutes already booked that day on the suggested bay and technician


def needs_for(*, operations=(), service_type: str, package=None, vehicle=None) -> Needs:
    """The needs of a booking of ``operations`` (and the ``package``'s operations) on
    ``vehicle``: standard hours per the vehicle's variant (the catalogue's look-up), the
    bay kind and categories; with no operation, the service type's usual hours."""
    from aftersales.workorders.labour import standard_hours

    chosen = list(operations)
    if package is not None:
        seen = {op.pk for op in chosen}
        for entry in package.operations.select_related("operation"):
            if entry.operation_id not in seen:
                chosen.append(entry.operation)
                seen.add(entry.operation_id)
    variant = getattr(vehicle, "variant", None) if vehicle is not None else None
    timed = tuple(
        (op, standard_hours(op, variant) if variant is not None else op.default_hours)
        for op in chosen
    )
    hours = sum((h for _op, h in timed), Decimal("0")) or DEFAULT_HOURS.get(
        service_type, Decimal("1.0")
    )
    bay_kind, categories = job_needs(chosen, service_type)
    return Needs(bay_kind, frozenset(categories), hours, timed)


def steps_for(hours, step_minutes: int) -> int:
    return max(1, math.ceil(float(hours) * 60 / step_minutes))


def _mask(length: int, start: int) -> int:
    return ((1 << length) - 1) << start


class DayGrid:
    """One day's grid: availability and busy masks of every advisor, bay and technician."""

    def __init__(self, capacity: DayCapacity, bookings=()):
        self.capacity = capacity
        self.step = capacity.slot_minutes
        self.reception = steps_for(Decimal(capacity.reception_minutes) / 60, self.step)
        self.opens = capacity.opens
        self.size = 0
        self.advisors: dict[int, list[int]] = {}  # id -> [available, busy]
        self.bays: dict[int, list[int]] = {}
        self.technicians: dict[int, list[int]] = {}
        self.people = {p.user_id: p for p in capacity.technicians}
        self.bay_kind = {b.id: b.kind for b in capacity.bays}
        self._ranks: dict[str, dict[int, int]] = {}  # bay kind -> {bay: 0 exact, 1 fits}
        if not capacity.is_open:
            return
        self.size = int((capacity.closes - capacity.opens).total_seconds() // 60) // self.step
        full = _mask(self.size, 0)
        for person in capacity.advisors:
            self.advisors[person.user_id] = [self._windows(person.windows), 0]
        for person in capacity.technicians:
            self.technicians[person.user_id] = [self._windows(person.windows), 0]
        for bay in capacity.bays:
            self.bays[bay.id] = [full, 0]
        for advisor_id, bay_id, technician_id, starts_at, ends_at in bookings:
            self.occupy(advisor_id, bay_id, technician_id, starts_at, ends_at)

    def index(self, moment: datetime.datetime) -> float:
        return (moment - self.opens).total_seconds() / 60 / self.step

    def at(self, index: int) -> datetime.datetime:
        return self.opens + datetime.timedelta(minutes=index * self.step)

    def _span(self, start: datetime.datetime, end: datetime.datetime) -> int:
        first = max(0, math.floor(self.index(start)))
        last = min(self.size, math.ceil(self.index(end)))
        return _mask(last - first, first) if last > first else 0

    def _windows(self, windows) -> int:
        bits = 0
        for start, end in windows:
            # only whole steps inside the window count as available
            first = max(0, math.ceil(self.index(start) - 1e-9))
            last = min(self.size, math.floor(self.index(end) + 1e-9))
            if last > first:
                bits |= _mask(last - first, first)
        return bits

    def occupy(self, advisor_id, bay_id, technician_id, starts_at, ends_at) -> None:
        if not self.size:
            return
        span = self._span(starts_at, ends_at)
        # the advisor receives the car in the first steps (whole steps, as ``free_at``)
        first = max(0, math.floor(self.index(starts_at)))
        last = min(self.size, first + self.reception)
        reception = _mask(last - first, first) if last > first else 0
        for table, key, bits in (
            (self.advisors, advisor_id, reception),
            (self.bays, bay_id, span),
            (self.technicians, technician_id, span),
        ):
            if key in table:
                table[key][1] |= bits

    @staticmethod
    def _free(table: dict, candidates, need: int, rank=None) -> list[int]:
        """The candidates free for ``need``, least loaded first (then by id); with
        ``rank`` (id -> 0/1), the rank decides first."""
        free = [
            ((rank or {}).get(c, 0), table[c][1].bit_count(), c)
            for c in candidates
            if c in table and table[c][0] & need == need and not table[c][1] & need
        ]
        return [c for _rank, _load, c in sorted(free)]

    def fitting_bays(self, bay_kind: str) -> list[int]:
        return [b for b, kind in self.bay_kind.items() if bay_fits(bay_kind, kind)]

    def skilled(self, bay_kind: str, categories) -> list[int]:
        return [t for t, p in self.people.items() if p.can_do(bay_kind, categories)]

    def free_at(self, index: int, steps: int, bays, technicians, advisors=None, bay_kind=None):
        """(advisors, bays, technicians) free for a job of ``steps`` starting at ``index``,
        each least loaded first (bays of exactly ``bay_kind`` before the ones it only fits
        in, so a quick service leaves the general bays to repairs); empty lists when any
        kind has none."""
        if index < 0 or index + steps > self.size:
            return [], [], []
        need = _mask(steps, index)
        reception = _mask(min(self.reception, self.size - index), index)
        free_advisors = self._free(
            self.advisors, self.advisors if advisors is None else advisors, reception
        )
        if not free_advisors:
            return [], [], []
        rank = None
        if bay_kind is not None:
            rank = self._ranks.get(bay_kind)
            if rank is None:
                rank = self._ranks[bay_kind] = {
                    b: int(kind != bay_kind) for b, kind in self.bay_kind.items()
                }
        free_bays = self._free(self.bays, bays, need, rank)
        if not free_bays:
            return [], [], []
        return free_advisors, free_bays, self._free(self.technicians, technicians, need)

    def load_minutes(self, bay_id, technician_id) -> int:
        return (
            self.bays[bay_id][1].bit_count() + self.technicians[technician_id][1].bit_count()
        ) * (self.step)


def holding_bookings(dealer, start: datetime.datetime, end: datetime.datetime, exclude=None):
    """(advisor, bay, technician, starts_at, ends_at) of the bookings holding capacity
    between ``start`` and ``end``."""
    from aftersales.appointments.models import Booking

    rows = Booking.objects.filter(
        dealer_id=getattr(dealer, "pk", dealer),
        status__in=HOLDING,
        starts_at__lt=end,
        ends_at__gt=start,
    )
    if exclude is not None:
        rows = rows.exclude(pk=getattr(exclude, "pk", exclude))
    return list(rows.values_list("advisor_id", "bay_id", "technician_id", "starts_at", "ends_at"))


def day_grids(dealer, first: datetime.date, last: datetime.date, *, exclude_booking=None):
    """``{day: DayGrid}`` from ``first`` to ``last`` with the holding bookings on them."""
    capacities = days_capacity(dealer, first, last)
    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    end = timezone.make_aware(
        datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time.min)
    )
    zone = timezone.get_current_timezone()  # once, not per booking: it is a hot loop
    by_day: dict[datetime.date, list] = {}
    for row in holding_bookings(dealer, start, end, exclude=exclude_booking):
        by_day.setdefault(row[3].astimezone(zone).date(), []).append(row)
    return {day: DayGrid(cap, by_day.get(day, ())) for day, cap in capacities.items()}


def find_slots(
    *,
    dealer,
    first: datetime.date,
    last: datetime.date,
    bay_kind: str,
    categories=(),
    hours,
    exclude_booking=None,
    limit: int | None = None,
    now: datetime.datetime | None = None,
) -> list[Slot]:
    """Every start time from ``first`` to ``last`` at which an advisor, a bay fitting
    ``bay_kind`` and a technician skilled for it and ``categories`` are free for ``hours``,
    in time order, each with the least-loaded advisor, bay and technician. Times before
    ``now`` are not offered. ``exclude_booking`` (a reschedule) frees that booking's own
    capacity first."""
    now = now or timezone.now()
    slots: list[Slot] = []
    for _day, grid in sorted(
        day_grids(dealer, first, last, exclude_booking=exclude_booking).items()
    ):
        if not grid.size:
            continue
        steps = steps_for(hours, grid.step)
        bays = grid.fitting_bays(bay_kind)
        technicians = grid.skilled(bay_kind, categories)
        if not bays or not technicians:
            continue
        earliest = 0
        if grid.opens < now:
            earliest = max(0, math.ceil(grid.index(now) - 1e-9))
        for index in range(earliest, grid.size - steps + 1):
            advisors, free_bays, free_techs = grid.free_at(
                index, steps, bays, technicians, bay_kind=bay_kind
            )
            if not free_techs:
                continue
            starts_at = grid.at(index)
            slots.append(
                Slot(
                    starts_at=starts_at,
                    ends_at=grid.at(index + steps),
                    advisor_id=advisors[0],
                    bay_id=free_bays[0],
                    technician_id=free_techs[0],
                    load=grid.load_minutes(free_bays[0], free_techs[0]),
                )
            )
            if limit is not None and len(slots) >= limit:
                return slots
    return slots
