"""The slot finder (SPEC §3): the start times at which a service advisor's reception slot,
a fitting bay and a skilled technician are all free for a job's hours.

Each day is a grid of ``ScheduleSettings.slot_minutes`` steps from the opening time. Every
advisor, bay and technician gets two bit masks over the grid (a Python int each): when it
is available (shift or reception hours, absences cut out; bays all day) and when it is
busy (the bookings that hold capacity: requested and confirmed). A start ``i`` of a job of
``n`` steps is free for a resource when the ``n`` bits from ``i`` are available and not
busy; the starts of every resource come out of its free mask in log2(n) shifts and ANDs
(``_runs``), the day's offer is the AND of "some fitting bay", "some skilled technician"
and "some advisor", and only at the offered starts the least-loaded advisor, bay (of
exactly the kind needed first) and technician are picked. A two-week search is a few
thousand integer operations; reading the data is most of its time.

A technician's daily break (lunch, set up in the capacity) may fall inside a job: the
technician pauses, the bay stays taken and the job ends that much later (a short absence
is not run across here, though the day plan may do so). Such starts come from a second
mask per break (the break counted as free, the job longer by the break) cut to the
starts before the break whose work runs past it; a slot then takes ``steps`` plus the
break on the grid.

The bookings are read in one query for the whole range and the capacity in six
(``capacity.days_capacity``), whatever the range. Work of repair orders already in the
workshop is not counted here: the day plan puts it and the arriving bookings together.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

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


class Needs(NamedTuple):
    """What a booking needs: a bay kind, operation categories, standard hours, and the
    operations with their hours for the vehicle (a tuple: ``kind, cats, hours, ops =``)."""

    bay_kind: str
    categories: frozenset[str]
    hours: Decimal
    operations: tuple = ()  # ((LabourOperation, hours), ...)


class Free(NamedTuple):
    """Who is free for a job starting at a grid step (``DayGrid.free_at``), least loaded
    first, and the grid steps the job then takes (its work plus a technician's break it
    runs over); empty lists when any kind has none."""

    advisors: list
    bays: list
    technicians: list
    steps: int = 0


NONE_FREE = Free([], [], [])


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


def _runs(free: int, steps: int) -> int:
    """Bit ``i`` set when bits ``i`` to ``i + steps - 1`` of ``free`` are all set (the
    starts of a job of ``steps``): log2(steps) shifts and ANDs."""
    covered = 1
    while covered < steps:
        shift = min(covered, steps - covered)
        free &= free >> shift
        covered += shift
    return free


def _least(starts: dict, bit: int, loads: dict, rank=None):
    """The candidate whose start mask has ``bit``, lowest (rank, load, id)."""
    best = None
    for c, bits in starts.items():
        if bits & bit:
            key = ((rank or {}).get(c, 0), loads[c], c)
            if best is None or key < best:
                best = key
    return best[2]


class DayGrid:
    """One day's grid: availability and busy masks of every advisor, bay and technician."""

    def __init__(self, capacity: DayCapacity, bookings=()):
        self.capacity = capacity
        self.step = capacity.slot_minutes
        self.reception = steps_for(Decimal(capacity.reception_minutes) / 60, self.step)
        self.opens = capacity.opens
        self._opens_ts = capacity.opens.timestamp() if capacity.opens else 0.0
        self._step_seconds = self.step * 60
        self.size = 0
        self.advisors: dict[int, list[int]] = {}  # id -> [available, busy]
        self.bays: dict[int, list[int]] = {}
        self.technicians: dict[int, list[int]] = {}
        self.people = {p.user_id: p for p in capacity.technicians}
        # technician -> their breaks on the grid, (first step, first step after), in order
        self.breaks: dict[int, tuple[tuple[int, int], ...]] = {}
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
            steps = tuple(
                (
                    max(0, math.floor(self.index(s) + 1e-9)),
                    min(self.size, math.ceil(self.index(e) - 1e-9)),
                )
                for s, e in person.rest_breaks
            )
            if steps:
                self.breaks[person.user_id] = steps
        for bay in capacity.bays:
            self.bays[bay.id] = [full, 0]
        for advisor_id, bay_id, technician_id, starts_at, ends_at in bookings:
            self.occupy(advisor_id, bay_id, technician_id, starts_at, ends_at)

    def index(self, moment: datetime.datetime) -> float:
        # timestamps: plain float arithmetic (this runs for every booking of the range)
        return (moment.timestamp() - self._opens_ts) / self._step_seconds

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

    def span(self, technician: int, index: int, steps: int) -> int:
        """The grid steps a job of ``steps`` takes when ``technician`` starts it at
        ``index`` (its work plus the breaks it runs over); 0 when the technician is not
        available or busy for it, or it would run past closing time."""
        available, busy = self.technicians[technician]
        end, paused = index + steps, 0
        for first, after in self.breaks.get(technician, ()):
            if index < first < end:
                end += after - first
                paused |= _mask(after - first, first)
        if index < 0 or end > self.size:
            return 0
        need = _mask(end - index, index)
        work = need & ~paused
        return end - index if available & work == work and not busy & need else 0

    def free_at(
        self, index: int, steps: int, bays, technicians, advisors=None, bay_kind=None
    ) -> Free:
        """Who is free for a job of ``steps`` starting at ``index``: advisors, bays (of
        exactly ``bay_kind`` before the ones it only fits in, so a quick service leaves the
        general bays to repairs) and technicians, each least loaded first. Technicians
        whose break the job would run over come only when no one can do it without."""
        if index < 0 or index + steps > self.size:
            return NONE_FREE
        reception = _mask(min(self.reception, self.size - index), index)
        free_advisors = self._free(
            self.advisors, self.advisors if advisors is None else advisors, reception
        )
        if not free_advisors:
            return NONE_FREE
        spans = {t: self.span(t, index, steps) for t in technicians if t in self.technicians}
        length = min((n for n in spans.values() if n), default=0)
        if not length:
            return NONE_FREE
        rank = None
        if bay_kind is not None:
            rank = self._ranks.get(bay_kind)
            if rank is None:
                rank = self._ranks[bay_kind] = {
                    b: int(kind != bay_kind) for b, kind in self.bay_kind.items()
                }
        free_bays = self._free(self.bays, bays, _mask(length, index), rank)
        if not free_bays:
            return NONE_FREE
        free_techs = sorted(
            (t for t, n in spans.items() if n == length),
            key=lambda t: (self.technicians[t][1].bit_count(), t),
        )
        return Free(free_advisors, free_bays, free_techs, length)

    def starts(self, table: dict, candidates, steps: int, *, to_closing=False) -> dict:
        """``{id: mask}`` of the candidates: bit ``i`` set when the candidate is available
        and not busy for ``steps`` steps from ``i``. ``to_closing``: steps past closing
        count as free (an advisor's reception near closing time is cut short, as in
        ``free_at``)."""
        beyond = _mask(steps, self.size) if to_closing else 0
        inside = _mask(self.size, 0)
        found = {}
        for c in candidates:
            row = table.get(c)
            if row is None:
                continue
            bits = _runs((row[0] & ~row[1]) | beyond, steps) & inside
            if bits:
                found[c] = bits
        return found

    def technician_starts(self, candidates, steps: int) -> dict:
        """``{grid steps taken: {technician: mask}}``: bit ``i`` set when the technician
        can do a job of ``steps`` from ``i``, taking ``steps`` (no break inside) or
        ``steps`` plus the breaks it runs over (the break counted free, the start before
        the first break it crosses and the work running past the last)."""
        found = {steps: self.starts(self.technicians, candidates, steps)}
        for c in candidates:
            breaks = self.breaks.get(c)
            if not breaks or c not in self.technicians:
                continue
            available, busy = self.technicians[c]
            paused = 0
            for first, after in breaks:
                paused |= _mask(after - first, first)
            free = available & ~busy
            over = (available | paused) & ~busy
            for j, (first, _after) in enumerate(breaks):
                pause = 0
                for k in range(j, len(breaks)):
                    pause += breaks[k][1] - breaks[k][0]
                    length = steps + pause
                    following = breaks[k + 1][0] if k + 1 < len(breaks) else self.size
                    # starts after the break before, ahead of this one; work past the last
                    low = max(breaks[j - 1][1] if j else 0, breaks[k][1] - length + 1)
                    high = min(first - 1, following - length)
                    if low > high:
                        continue
                    bits = _runs(over, length) & free & _mask(high - low + 1, low)
                    if bits:
                        row = found.setdefault(length, {})
                        row[c] = row.get(c, 0) | bits
        return found

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


def _any(starts: dict) -> int:
    bits = 0
    for mask in starts.values():
        bits |= mask
    return bits


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
        if steps > grid.size:
            continue
        # per resource, a mask of the starts it could take; their AND per kind is the
        # day's offer, then the least-loaded resource is picked only at the offered starts.
        # A start may be offered taking different lengths (a technician's break inside):
        # the shortest wins.
        fitting = grid.fitting_bays(bay_kind)
        advisors = grid.starts(grid.advisors, grid.advisors, grid.reception, to_closing=True)
        allowed = _any(advisors)
        if grid.opens < now:
            allowed &= ~_mask(max(0, math.ceil(grid.index(now) - 1e-9)), 0)
        offers = []  # (length, offer, bays, technicians), shortest first
        taken = 0
        by_length = grid.technician_starts(grid.skilled(bay_kind, categories), steps)
        for length, technicians in sorted(by_length.items()):
            if not technicians or length > grid.size:
                continue
            bays = grid.starts(grid.bays, fitting, length)
            offer = _any(bays) & _any(technicians) & allowed & ~taken
            if offer:
                offers.append((length, offer, bays, technicians))
                taken |= offer
        if not taken:
            continue
        bay_load, tech_load, advisor_load = (
            {key: busy.bit_count() for key, (_avail, busy) in table.items()}
            for table in (grid.bays, grid.technicians, grid.advisors)
        )
        rank = {b: int(grid.bay_kind[b] != bay_kind) for b in fitting}
        while taken:
            bit = taken & -taken
            taken ^= bit
            index = bit.bit_length() - 1
            length, _offer, bays, technicians = next(o for o in offers if o[1] & bit)
            bay_id = _least(bays, bit, bay_load, rank)
            technician_id = _least(technicians, bit, tech_load)
            slots.append(
                Slot(
                    starts_at=grid.at(index),
                    ends_at=grid.at(index + length),
                    advisor_id=_least(advisors, bit, advisor_load),
                    bay_id=bay_id,
                    technician_id=technician_id,
                    load=(bay_load[bay_id] + tech_load[technician_id]) * grid.step,
                )
            )
            if limit is not None and len(slots) >= limit:
                return slots
    return slots
