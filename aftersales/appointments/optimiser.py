"""The day-plan optimiser (SPEC §3): put a workshop day's jobs on technicians and bays.

Pure Python over whole minutes from the day's opening, no database: ``dayplan`` builds
the ``Problem`` from repair orders and bookings and writes the ``Solution`` back.

Rules every plan keeps: a job goes to one technician skilled for it (bay kind and
operation categories) within their working windows (shift minus breaks and absences) —
it may run over one of the technician's ``breaks`` (lunch): the technician pauses, the
car stays in its bay and the job ends the break's length later; other gaps are never run
over — and to one bay of a fitting kind (a quick-service job may use a general bay);
a technician, a bay and a car (the job's ``group``) do one job at a time, from its start
to its end, a break it runs over included; a job starts
after its ``release`` (the car is there) and after the jobs it comes ``after`` (e.g.
wheel alignment after suspension work of the same car); pinned and started jobs
(``fixed``) stay where they are; nothing runs past the ``horizon`` (the closing time).

Objective (minimised), in minutes:

    UNPLACED × (jobs left out) + LATE_WEIGHT × Σ lateness + Σ end times

where a job's lateness is ``max(0, end − due)``. A job is only left out when the day has
no room for it (the penalty dwarfs everything else). The sum of end times (total
completion time) packs the work early: technicians' gaps (idle time) stay small, cars
leave sooner and the afternoon is kept free for walk-ins. One minute late weighs as much
as moving twenty jobs one minute later.

Jobs that can never be placed (no fitting bay, no skilled technician on shift, longer
than any shift window, arriving too late to be done today, in a precedence cycle, or
waiting for such a job) are found before solving and reported with a reason code; the
rest is solved.

``solve`` uses Google OR-Tools CP-SAT in two stages (the most jobs placed, then the rest
of the objective with that many placed) — on a day small enough for it in the time
(``CP_SAT_JOBS_PER_SECOND``; a larger day's list schedule is only reworked) — started
from the best of a few
list-scheduling plans (``heuristic``: earliest start first, ``dispatch``, and jobs in
order, ``greedy``; the orders from a time-indexed LP of the day first, then promise,
arrival and slack); ``lp_bound`` is a second, independent lower bound (the time-indexed
relaxation, by GLOP or CP-SAT) for the figures; ``greedy`` is first come, first served
(each job in arrival order to the skilled technician and fitting bay where it can start
earliest; a quick job waits up to ``OWN_BAY_WAIT`` minutes for a quick bay, as in every
list schedule): the baseline the figures compare with, and the fallback when CP-SAT
finds nothing in time.

Measures: ``late_minutes``/``late_jobs`` as above; ``utilisation`` = worked minutes /
on-shift minutes of all technicians; ``idle_minutes`` = each technician's on-shift
minutes between the start of their first job and the end of their last one that they
spend not working (waiting between jobs; breaks and the time before and after their work
do not count).
"""

from __future__ import annotations

import math
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache

UNPLACED = 1_000_000
LATE_WEIGHT = 20
# the list schedules take the jobs in the order of a time-indexed LP up to this many jobs
# (150 jobs: ~0.3-0.6 s on 2 shared cores, bench/day_plan.py)
GUIDE_JOBS = 400
# of a solve's time, the LP and the list schedules (the LP takes 0.4-0.5 s of it for 150
# jobs); the rest CP-SAT and ``improve`` share, side by side (bench/day_plan.py: 0.3-0.45
# gave the same 2-s plans)
HEURISTIC_SHARE = 0.35
IMPROVE_SHARE = 0.3  # of ``heuristic``'s own time, when not called by ``solve``
IMPROVE_STEPS = 300  # changes ``improve`` tries without a time limit
# ``improve``: the share of changes that move a late (or left-out) job up to
# IMPROVE_EARLIER places earlier; the others move any job up to IMPROVE_EITHER places
# either way (bench/day_plan.py, 1.1 s of reworking, 2 × 10 seeds: 0.6 and 15/10 gave
# the busy day 4.3-4.6 % on average against 4.8-5.0 % with 0.8 and 25/10, seed 8
# 2.1-2.3 % against 2.5 %, seed 7 the same)
LATE_SHARE = 0.6
IMPROVE_EARLIER, IMPROVE_EITHER = 15, 10
# a job that also fits bays of other kinds (a quick job: quick or general bays) waits up to
# this many minutes for a bay of its own kind rather than take another kind's: an oil
# change does not hold a general bay that the longer jobs need when a quick bay frees up
# in a moment (bench/day_plan.py, the list schedule reworked 1.3 s with ten seeds, average
# gap: busy day 6.3 -> 5.7 %, seed 7 3.3 -> 2.0 %, seed 8 2.0 -> 2.6 %; 5 and 15 minutes
# did worse on the busy day)
OWN_BAY_WAIT = 10
# CP-SAT searches beside the reworking (``solve``) only on a day of at most this many
# placeable jobs per second of the time limit (80 in 2 s, 1,200 in 30 s): in 2 s it proved
# days of 20-60 jobs optimal and some of 80, but on days of 100-150 jobs it never improved
# on its starting plan, while the reworking beside it got through a fifth to a third fewer
# changes (bench/day_plan.py --jobs)
CP_SAT_JOBS_PER_SECOND = 40
# the LP's orders tried, best first on the bench days (None: the mean start)
ALPHAS = (None, 0.3, 0.8, 0.1, 0.5, 0.2, 0.6, 0.4, 0.7, 0.9)

# why a job cannot be placed at all (found before solving), or was left out
NO_BAY = "no_bay"  # the dealer has no bay the job fits in
NO_TECHNICIAN = "no_technician"  # nobody on shift has the skills
NO_WINDOW = "no_window"  # longer than every window of every skilled technician
NO_TIME = "no_time"  # arrives (or its earlier work ends) too late to finish today
CYCLE = "cycle"  # its "after" jobs wait for it in turn
WAITS_FOR_UNPLACED = "waits_for_unplaced"  # comes after a job that cannot be placed
NO_ROOM = "no_room"  # placeable alone, but the day is full

BAY_FITS = {"quick": ("quick", "general")}


def bay_fits(needed: str, kind: str) -> bool:
    """Same rule as ``capacity.bay_fits`` (kept here so the optimiser stays pure)."""
    return kind in BAY_FITS.get(needed, (needed,))


@dataclass(frozen=True)
class Job:
    key: str
    duration: int  # minutes
    bay_kind: str = "general"
    categories: frozenset = frozenset()
    release: int = 0  # earliest start: the car is there (checked in / booking arrival)
    due: int | None = None  # promised end
    group: str = ""  # the car: its jobs never overlap
    after: tuple = ()  # keys of jobs that must end first
    fixed: tuple | None = None  # (technician, bay, start): pinned by the foreman or started


@dataclass(frozen=True)
class Technician:
    id: int
    windows: tuple  # ((start, end), ...) minutes, sorted, not overlapping
    bay_kinds: frozenset = frozenset()
    categories: frozenset = frozenset()  # empty: every category
    # gaps between windows a job may run across (lunch): the technician pauses, the car
    # stays in its bay and the job's end moves by the break; other gaps (absences, the
    # end of a shift) are never spanned
    breaks: tuple = ()

    def can_do(self, job: Job) -> bool:
        if not any(bay_fits(job.bay_kind, kind) for kind in self.bay_kinds):
            return False
        return not self.categories or set(job.categories) <= self.categories

    def segments(self, duration: int, horizon: int) -> tuple:
        """The starts at which ``duration`` minutes of work fit this technician's day:
        ((first, last, pause), ...), the job then ending at start + duration + pause
        (pause: the breaks it runs across)."""
        return _segments(self.windows, self.breaks, duration, horizon)

    def finish(self, start: int, duration: int) -> int:
        """When ``duration`` minutes of work begun at ``start`` end, pausing over the
        breaks (also for a started job outside the windows)."""
        return finish(self.breaks, start, duration)


def finish(breaks, start: int, duration: int) -> int:
    t, left = start, duration
    for b_start, b_end in sorted(breaks):
        if b_start < t:
            continue
        if t + left <= b_start:
            break
        left -= b_start - t
        t = b_end
    return t + left


def work_minutes(breaks, start: int, end: int) -> int:
    """The minutes of ``start..end`` outside the breaks (the work of a planned job)."""
    return end - start - sum(max(0, min(end, e) - max(start, s)) for s, e in breaks)


@lru_cache(maxsize=65536)
def _segments(windows, breaks, duration, horizon) -> tuple:
    wins = [(s, min(e, horizon)) for s, e in windows if min(e, horizon) > s]

    def spans_gap(a, b):
        return any(s <= a and b <= e for s, e in breaks)

    out = []
    for i, (w_start, w_end) in enumerate(wins):
        if w_end - w_start >= duration:
            out.append((w_start, w_end - duration, 0))
        pause, work, j = 0, 0, i  # work: minutes in the windows after i up to j
        while j + 1 < len(wins) and spans_gap(wins[j][1], wins[j + 1][0]):
            pause += wins[j + 1][0] - wins[j][1]
            before = work
            work += wins[j + 1][1] - wins[j + 1][0]
            j += 1
            # some work before the break and the last part in window j
            first = max(w_start, w_end + before - duration + 1)
            last = min(w_end - 1, w_end + work - duration)
            if first <= last:
                out.append((first, last, pause))
            if w_end + before - duration + 1 > w_end - 1:
                break
    return tuple(sorted(out))


@dataclass(frozen=True)
class Bay:
    id: int
    kind: str


@dataclass
class Problem:
    jobs: list[Job]
    technicians: list[Technician]
    bays: list[Bay]
    horizon: int  # minutes the plan may reach (the day's closing)
    # the ends of pinned or started jobs where not their technician's breaks give them:
    # a day planned with no job over a break (``_list_plans``) keeps a started job's pause
    fixed_ends: dict = field(default_factory=dict)


@dataclass
class Solution:
    status: str  # optimal, feasible, greedy, empty
    assignments: dict = field(default_factory=dict)  # key -> (technician, bay, start, end)
    unplaced: dict = field(default_factory=dict)  # key -> reason code
    late_minutes: int = 0
    late_jobs: int = 0
    idle_minutes: int = 0
    utilisation: float = 0.0
    objective: int | None = None
    bound: int | None = None  # CP-SAT's proved lower bound of the objective
    seconds: float = 0.0
    first_seconds: float | None = None  # when CP-SAT had its first plan
    # a list schedule's jobs in the order it placed them: [(job, (start, technician, bay,
    # end) or None: no room)], to make it again up to any point (``improve``)
    placed: list = field(default_factory=list, repr=False, compare=False)


def _rank(plan: Solution) -> tuple:
    """What makes a plan better: fewer jobs left out, then a lower objective."""
    return (len(plan.unplaced), plan.objective)


def _cycles(jobs: dict) -> set:
    """Keys of the jobs on a precedence cycle."""
    state, on_cycle = {}, set()

    def visit(key, path):
        state[key] = 1
        path.append(key)
        for before in jobs[key].after:
            if before not in jobs:
                continue
            if state.get(before) == 1:
                on_cycle.update(path[path.index(before) :])
            elif before not in state:
                visit(before, path)
        path.pop()
        state[key] = 2

    for key in jobs:
        if key not in state:
            visit(key, [])
    return on_cycle


def precheck(problem: Problem) -> dict:
    """The jobs that cannot be placed whatever the others do, with the reason code."""
    reasons = {}
    for job in problem.jobs:
        if job.fixed is not None:
            continue
        if not any(bay_fits(job.bay_kind, bay.kind) for bay in problem.bays):
            reasons[job.key] = NO_BAY
            continue
        skilled = [t for t in problem.technicians if t.can_do(job)]
        if not skilled:
            reasons[job.key] = NO_TECHNICIAN
            continue
        if not any(t.segments(job.duration, problem.horizon) for t in skilled):
            reasons[job.key] = NO_WINDOW
    jobs = {job.key: job for job in problem.jobs}
    for key in _cycles(jobs):
        if jobs[key].fixed is None:
            reasons.setdefault(key, CYCLE)
    while True:
        _waits(problem, reasons)
        remaining = {j.key: j for j in problem.jobs if j.key not in reasons}
        before = len(reasons)
        lo, hi = _bounds(problem, remaining)
        for key, job in remaining.items():
            if job.fixed is None and not _usable_techs(problem, job, lo[key], hi[key]):
                reasons[key] = NO_TIME
        if len(reasons) == before:
            return reasons


def _waits(problem: Problem, reasons: dict) -> None:
    """A job waiting for one that cannot be placed cannot be placed either."""
    keys = {job.key for job in problem.jobs}
    changed = True
    while changed:
        changed = False
        for job in problem.jobs:
            if job.key in reasons or job.fixed is not None:
                continue
            if any(k in reasons or k not in keys for k in job.after):
                reasons[job.key] = WAITS_FOR_UNPLACED
                changed = True


def _bounds(problem: Problem, jobs: dict) -> tuple[dict, dict]:
    """Earliest and latest start of every job of ``jobs`` (no cycles): after its release
    and the jobs before it; early enough for the jobs after it to end by the horizon."""
    order = _topological(jobs)
    lo, hi = {}, {}
    successors: dict = {key: [] for key in jobs}
    for key in order:
        job = jobs[key]
        for before in job.after:
            if before in jobs:
                successors[before].append(key)
        if job.fixed is not None:
            lo[key] = hi[key] = job.fixed[2]
            continue
        lo[key] = max([job.release, *(lo[k] + jobs[k].duration for k in job.after if k in jobs)])
    for key in reversed(order):
        job = jobs[key]
        if job.fixed is None:
            hi[key] = min([problem.horizon, *(hi[k] for k in successors[key])]) - job.duration
    return lo, hi


def _topological(jobs: dict) -> list:
    """Keys with every job after the jobs it waits for (``jobs`` has no cycle)."""
    seen, order = set(), []

    def visit(key):
        seen.add(key)
        for before in jobs[key].after:
            if before in jobs and before not in seen:
                visit(before)
        order.append(key)

    for key in jobs:
        if key not in seen:
            visit(key)
    return order


def _start_spans(tech, duration, lo, hi, horizon) -> list:
    """The starts within ``lo..hi`` at which a job of ``duration`` fits ``tech``'s day, as
    [(first, last, pause), ...] (see ``Technician.segments``)."""
    spans = []
    for a, b, pause in tech.segments(duration, horizon):
        a, b = max(a, lo), min(b, hi)
        if a <= b:
            spans.append((a, b, pause))
    return spans


def _usable_techs(problem, job, lo, hi) -> list:
    return [
        t
        for t in problem.technicians
        if t.can_do(job) and _start_spans(t, job.duration, lo, hi, problem.horizon)
    ]


def measure(problem: Problem, solution: Solution) -> Solution:
    """Fill in lateness, idle time and utilisation from the assignments."""
    jobs = {job.key: job for job in problem.jobs}
    late = [
        max(0, end - jobs[key].due)
        for key, (_t, _b, _s, end) in solution.assignments.items()
        if jobs[key].due is not None
    ]
    solution.late_minutes = sum(late)
    solution.late_jobs = sum(1 for minutes in late if minutes > 0)
    worked: dict = {}  # technician -> [(start, end, minutes worked)]
    for key, (tech, _bay, start, end) in solution.assignments.items():
        # a job run across a break is worked for its duration, not start to end
        worked.setdefault(tech, []).append((start, end, jobs[key].duration))
    windows = {t.id: t.windows for t in problem.technicians}
    on_shift = sum(end - start for t in problem.technicians for start, end in t.windows)
    busy = sum(work for spans in worked.values() for _s, _e, work in spans)
    idle = 0
    for tech, spans in worked.items():
        first, last = min(s for s, _e, _w in spans), max(e for _s, e, _w in spans)
        present = sum(
            max(0, min(e, last) - max(s, first)) for s, e in windows.get(tech, ((first, last),))
        )
        idle += max(0, present - sum(work for _s, _e, work in spans))
    solution.idle_minutes = idle
    solution.utilisation = round(busy / on_shift, 4) if on_shift else 0.0
    return solution


# ---------------------------------------------------------------- list scheduling


def _runs(free: int, width: int) -> int:
    """The bits s of ``free`` from which ``width`` bits in a row are set (s .. s+width-1):
    where a job of ``width`` minutes fits a calendar whose free minutes are ``free``."""
    for step in _doubling(width):
        free &= free >> step
    return free


@lru_cache(maxsize=4096)
def _doubling(width: int) -> tuple:
    """The shifts that turn single free bits into runs of ``width``: runs of ``have``
    and of ``have`` shifted by ``step`` <= ``have`` overlap into runs of have + step."""
    steps, have = [], 1
    while have < width:
        step = min(have, width - have)
        steps.append(step)
        have += step
    return tuple(steps)


def fixed_end(problem: Problem, job: Job) -> int:
    """The end of a pinned or started job: its work from its start, pausing over its
    technician's breaks."""
    if job.key in problem.fixed_ends:
        return problem.fixed_ends[job.key]
    tech, _bay, start = job.fixed
    breaks = next((t.breaks for t in problem.technicians if t.id == tech), ())
    return finish(breaks, start, job.duration)


def first_come(job: Job):
    return (job.release, job.due if job.due is not None else 10**9, job.key)


def earliest_due(job: Job):
    return (job.due if job.due is not None else 10**9, job.release, job.key)


def least_slack(job: Job):
    slack = job.due - job.release - job.duration if job.due is not None else 10**9
    return (slack, job.release, job.key)


class _Day:
    """What every board of a day shares: bit 0's minute, the bays each kind of job fits,
    and the technicians who can do each kind of job — in their order, and in pools of the
    same shift and skills (where one of a pool can start, the first of them can)."""

    def __init__(self, problem: Problem):
        self.problem = problem
        # bit 0 is this minute: the earliest a window or a pinned job begins (0 mostly)
        self.base = min(
            [0]
            + [w[0] for t in problem.technicians for w in t.windows]
            + [j.fixed[2] for j in problem.jobs if j.fixed is not None]
        )
        self.day = (1 << max(0, problem.horizon - self.base)) - 1  # every minute free
        pools: dict = {}
        for tech in problem.technicians:
            same = (tech.windows, tech.breaks, tech.bay_kinds, tech.categories)
            pools.setdefault(same, []).append(tech)
        self.pools = list(pools.values())
        self.pool_of = {t.id: n for n, pool in enumerate(self.pools) for t in pool}
        self._bays: dict = {}
        self._own: dict = {}
        self.kind = {b.id: b.kind for b in problem.bays}
        self._skilled: dict = {}

    def bays(self, job: Job) -> list:
        """[(("b", id), id), ...] of the bays ``job`` fits, those of its kind first (a
        quick job takes a quick bay before a general one)."""
        found = self._bays.get(job.bay_kind)
        if found is None:
            fitting = [b for b in self.problem.bays if bay_fits(job.bay_kind, b.kind)]
            fitting.sort(key=lambda b: b.kind != job.bay_kind)
            found = self._bays[job.bay_kind] = [(("b", b.id), b.id) for b in fitting]
        return found

    def own_bays(self, job: Job):
        """([(("b", id), id), ...], {id, ...}) of the bays of ``job``'s own kind when it
        fits bays of other kinds too, else None."""
        if not OWN_BAY_WAIT:
            return None
        if job.bay_kind not in self._own:
            fitting = self.bays(job)
            own = [(key, bay) for key, bay in fitting if self.kind[bay] == job.bay_kind]
            mixed = own and len(own) < len(fitting)
            self._own[job.bay_kind] = (own, {bay for _k, bay in own}) if mixed else None
        return self._own[job.bay_kind]

    def skilled(self, job: Job) -> tuple:
        """([(technician, ("t", id)), ...] of those who can do ``job``, in order;
        [(one of a shift, [(pool number, [("t", id), ...]), ...]), ...]: the pools that can
        do it by shift (windows and breaks: where one of them may start, all of them may)."""
        found = self._skilled.get((job.bay_kind, job.categories))
        if found is None:
            techs = [(t, ("t", t.id)) for t in self.problem.technicians if t.can_do(job)]
            shifts: dict = {}
            for n, pool in enumerate(self.pools):
                if pool[0].can_do(job):
                    one = pool[0]
                    shift = shifts.setdefault((one.windows, one.breaks), (one, []))
                    shift[1].append((n, [("t", t.id) for t in pool]))
            found = self._skilled[(job.bay_kind, job.categories)] = (techs, list(shifts.values()))
        return found


class _Board:
    """A plan being built job by job. Each technician's, bay's and car's calendar is an
    integer with one bit per minute of the day (set: busy), so where a job fits is a few
    shifts and ANDs of whole days (``_runs``), not a walk through the spans."""

    def __init__(self, problem: Problem, solution: Solution, day: _Day | None = None):
        self.problem, self.solution = problem, solution
        self.setup = day if day is not None else _Day(problem)
        self.base, self.day = self.setup.base, self.setup.day
        self.busy: dict = {}  # ("t", id) | ("b", id) | ("g", car) -> busy bits
        self.fits: dict = {}  # the same -> {minutes: _runs of its free bits}
        self.pool_fits: dict = {}  # pool number -> {minutes: where one of it is free}
        self.ends: dict = {}
        for job in problem.jobs:
            if job.fixed is not None:
                tech, bay, start = job.fixed
                self.put(job, (start, tech, bay, fixed_end(problem, job)))

    def _fits(self, resource, minutes: int) -> int:
        """The starts (bits) at which ``resource`` is free for ``minutes``."""
        known = self.fits.get(resource)
        if known is None:
            known = self.fits[resource] = {}
        runs = known.get(minutes)
        if runs is None:
            free = self.day & ~self.busy.get(resource, 0)
            runs = known[minutes] = _runs(free, max(1, minutes))
        return runs

    def _pool_fits(self, number: int, members: list, minutes: int) -> int:
        known = self.pool_fits.get(number)
        if known is None:
            known = self.pool_fits[number] = {}
        runs = known.get(minutes)
        if runs is None:
            runs = 0
            for member in members:
                runs |= self._fits(member, minutes)
            known[minutes] = runs
        return runs

    def earliest(self, job: Job, not_before: int = 0):
        """(start, technician, bay, end) where ``job`` can start earliest, or None: the
        first skilled technician in order who can start then, and a bay of the kind needed
        before one it only fits. A job that also fits bays of other kinds (a quick job, in
        a general bay) takes one of its own kind instead when it can start there within
        ``OWN_BAY_WAIT`` minutes. ``not_before``: no earlier start is free (one found before
        the board filled)."""
        own = self.setup.own_bays(job)
        if own is not None:  # (its start may have been up to the wait later than elsewhere)
            not_before -= OWN_BAY_WAIT
        found = self._earliest(job, self.setup.bays(job), not_before)
        if found is None or own is None or found[2] in own[1]:
            return found
        waited = self._earliest(job, own[0], not_before, found[0] + OWN_BAY_WAIT)
        return found if waited is None else waited

    def _earliest(self, job: Job, bays: list, not_before: int, until: int | None = None):
        """``earliest`` in ``bays`` ([(("b", id), id), ...] in order), starting by
        ``until`` when given."""
        base, duration, horizon = self.base, job.duration, self.problem.horizon
        earliest = max([job.release, not_before, *(self.ends[k] for k in job.after)])
        techs, shifts = self.setup.skilled(job)
        fits, pool_fits, car = self._fits, self._pool_fits, ("g", job.group)
        shared: dict = {}  # minutes -> starts at which the car and a bay are free

        def both(wall):
            found = shared.get(wall)
            if found is None:
                in_a_bay = 0
                for key, _id in bays:
                    in_a_bay |= fits(key, wall)
                found = shared[wall] = in_a_bay & fits(car, wall)
            return found

        best = until  # the earliest start of any pool (or the latest wanted)
        started = False
        for one, pools in shifts:
            for first, last, pause in one.segments(duration, horizon):
                if first < earliest:
                    first = earliest
                if best is not None and best < last:  # only as early a start can do better
                    last = best
                if first > last:
                    continue
                wall = duration + pause
                free = 0  # where one of the shift's pools is free
                for number, members in pools:
                    free |= pool_fits(number, members, wall)
                starts = both(wall) & free
                starts &= ((1 << (last - first + 1)) - 1) << (first - base)
                if starts:  # (the segments do not overlap and come in order)
                    best, started = (starts & -starts).bit_length() - 1 + base, True
                    break
        if not started:
            return None
        bit = best - base
        for tech, key in techs:  # the first who can start then
            for first, last, pause in tech.segments(duration, horizon):
                if first <= best <= last:
                    wall = duration + pause
                    if both(wall) >> bit & 1 and fits(key, wall) >> bit & 1:
                        bay = next(i for k, i in bays if fits(k, wall) >> bit & 1)
                        return (best, tech.id, bay, best + wall)
                    break
        raise AssertionError("a pool can start but none of its technicians")

    def _span(self, start: int, end: int) -> int:
        return ((1 << (end - start)) - 1) << (start - self.base)

    def still_free(self, job: Job, placed) -> bool:
        """Whether ``placed`` (an ``earliest`` of ``job``) is free yet: then it is still
        the earliest, as the board only fills (and the same technician and bay are
        chosen)."""
        start, tech, bay, end = placed
        span = self._span(start, end)
        return not any(
            self.busy.get(resource, 0) & span
            for resource in (("t", tech), ("b", bay), ("g", job.group))
        )

    def place(self, job: Job, placed) -> None:
        """``job`` to ``placed`` (an ``earliest``), or left out when there is no room."""
        self.solution.placed.append((job, placed))
        if placed is None:
            self.solution.unplaced[job.key] = NO_ROOM
        else:
            self.put(job, placed)

    def put(self, job: Job, placed) -> None:
        start, tech, bay, end = placed
        self.solution.assignments[job.key] = (tech, bay, start, end)
        span = self._span(start, end)
        for resource in (("t", tech), ("b", bay), ("g", job.group)):
            self.busy[resource] = self.busy.get(resource, 0) | span
            self.fits.pop(resource, None)
        self.pool_fits.pop(self.setup.pool_of.get(tech), None)
        self.ends[job.key] = end

    def done(self, begun) -> Solution:
        solution = self.solution
        if not self.problem.jobs:
            solution.status = "empty"
        solution.seconds = time.perf_counter() - begun
        solution.objective = objective_of(self.problem, solution)
        return measure(self.problem, solution)


def greedy(problem: Problem, order=first_come, reasons: dict | None = None) -> Solution:
    """List scheduling: the jobs in ``order`` (first come, first served: by release, then
    due time), each — once the jobs it waits for are placed — to the skilled technician
    and fitting bay where it can start earliest. ``reasons``: the day's ``precheck``, when
    known."""
    begun = time.perf_counter()
    reasons = precheck(problem) if reasons is None else reasons
    pending = [j for j in problem.jobs if j.fixed is None and j.key not in reasons]
    pending.sort(key=order)
    return _in_order(problem, reasons, pending).done(begun)


def _in_order(problem: Problem, reasons: dict, jobs: list, again=(), day=None) -> _Board:
    """``greedy`` over ``jobs`` in that order; the first ``len(again)`` of them placed as
    in ``again`` (``Solution.placed`` of a plan made in the same order up to there: the
    board is then the same, and so is each place)."""
    board = _Board(problem, Solution(status="greedy", unplaced=dict(reasons)), day)
    for job, placed in again:
        board.place(job, placed)
    pending = list(jobs[len(again) :])
    while pending:
        ready = next((j for j in pending if all(k in board.ends for k in j.after)), None)
        if ready is None:  # the rest waits for jobs that found no room
            for job in pending:
                board.solution.unplaced[job.key] = WAITS_FOR_UNPLACED
            break
        pending.remove(ready)
        board.place(ready, board.earliest(ready))
    return board


def dispatch(
    problem: Problem, order=earliest_due, first=(), reasons: dict | None = None
) -> Solution:
    """Earliest start first: of the jobs whose earlier work is placed, the one that can
    start soonest (ties by ``order``) goes next, to where it starts; the jobs in
    ``first`` before all others. Packs the day tighter than taking the jobs in arrival
    order (a job that must wait does not hold back one that could start now).
    ``reasons``: the day's ``precheck``, when known."""
    import heapq

    begun = time.perf_counter()
    reasons = precheck(problem) if reasons is None else reasons
    board = _Board(problem, Solution(status="greedy", unplaced=dict(reasons)))
    pending = [j for j in problem.jobs if j.fixed is None and j.key not in reasons]
    waiting = {j.key: {k for k in j.after if k not in board.ends} for j in pending}
    followers: dict = {}
    for job in pending:
        for k in waiting[job.key]:
            followers.setdefault(k, []).append(job)
    heap = []

    def push(job):
        best = board.earliest(job)
        if best is None:
            board.place(job, None)
        else:
            heapq.heappush(heap, (job.key not in first, best[0], order(job), best, job))

    for job in pending:
        if not waiting[job.key]:
            push(job)
    while heap:
        _first, start, _order, best, job = heapq.heappop(heap)
        again = best if board.still_free(job, best) else board.earliest(job, start)
        if again != best:  # the board filled since: queue it again
            if again is None:
                board.place(job, None)
            else:
                heapq.heappush(heap, (job.key not in first, again[0], order(job), again, job))
            continue
        board.place(job, best)
        for follower in followers.get(job.key, ()):
            waiting[follower.key].discard(job.key)
            if not waiting[follower.key]:
                push(follower)
    for job in pending:
        if job.key not in board.ends and job.key not in board.solution.unplaced:
            board.solution.unplaced[job.key] = WAITS_FOR_UNPLACED
    return board.done(begun)


def heuristic(problem: Problem, *, repairs: int = 6, seconds: float | None = None) -> Solution:
    """The best list schedule (``_list_plans``) reworked by ``improve`` in the last
    ``IMPROVE_SHARE`` of ``seconds`` (or for ``IMPROVE_STEPS`` changes without)."""
    begun = time.perf_counter()
    share = None if seconds is None else seconds * (1 - IMPROVE_SHARE)
    plan, made_on, reasons = _list_plans(problem, repairs=repairs, seconds=share)
    left = None if seconds is None else seconds - (time.perf_counter() - begun)
    if left is None or left > 0:
        plan = improve(made_on, plan, reasons=reasons, seconds=left)
    return plan


def _list_plans(problem: Problem, *, repairs: int = 6, seconds: float | None = None) -> tuple:
    """(plan, the problem it was made on, its precheck): the best of a few
    list-scheduling plans — earliest start first (``dispatch``) and
    the jobs in order (``greedy``) — CP-SAT's starting point. The orders, best first
    (bench/day_plan.py):

    1. the time-indexed LP's (``lp_order``): each job at its mean start in the LP, or at
       the time by which 10-90 % of it has started ("α-points", ``ALPHAS``); the LP weighs
       every job's end and lateness against every other's at once, which packs the day
       far tighter than the simple orders;
    2. promised time, arrival and slack, each repaired when it leaves jobs out that fit
       alone (those jobs first, a few times, keeping the plan placing the most).

    A plan placing every job spares the solver its placing stage. With ``seconds``, no
    further plan or repair is begun after that time, or twice that for the LP's orders
    and while every plan leaves jobs out (at least one plan is made)."""
    begun = time.perf_counter()
    reasons = precheck(problem)
    checked = {id(problem): reasons}
    plans = []

    def out_of_time(leaving_out):
        # a plan leaving jobs out gets twice the time: a job left out costs far more
        # than the solver's search can win back in that time
        limit = None if seconds is None else seconds * (2 if leaving_out else 1)
        return limit is not None and time.perf_counter() - begun > limit

    # a plan that runs no job over a break keeps every rule too, and the list schedules
    # sometimes find a better one that way: both are tried
    variants = [problem]
    if any(t.breaks for t in problem.technicians):
        variants.append(
            Problem(
                problem.jobs,
                [replace(t, breaks=()) for t in problem.technicians],
                problem.bays,
                problem.horizon,
                {j.key: fixed_end(problem, j) for j in problem.jobs if j.fixed is not None},
            )
        )
    # (build, order, the problem, repair rounds, whether the LP's): the LP's orders
    # unrepaired — there are several of them, and a repair puts the jobs it moves ahead of
    # all others
    runs = []
    starts = lp_order(problem, seconds=seconds) if len(problem.jobs) <= GUIDE_JOBS else None
    orders = set()  # several α-points often give the jobs the same order: made once
    for alpha in ALPHAS if starts is not None else ():
        point = {key: alpha_point(spread, alpha) for key, spread in starts.items()}

        def by_lp(job, point=point):
            return (point.get(job.key, job.release), *earliest_due(job))

        same = tuple(job.key for job in sorted(problem.jobs, key=by_lp))
        if same not in orders:
            orders.add(same)
            runs += [(dispatch, by_lp, problem, 0, True), (greedy, by_lp, problem, 0, True)]
    runs += [
        (build, order, variant, repairs, False)
        for build, order in (
            (dispatch, earliest_due),
            (dispatch, first_come),
            (greedy, earliest_due),
            (dispatch, least_slack),
            (greedy, first_come),
            (greedy, least_slack),
        )
        for variant in variants
    ]
    for build, order, variant, rounds, guided in runs:
        # the LP's orders all get made within twice the time (they take ~15-25 ms each for
        # 150 jobs, and which of them does best differs from day to day)
        leaving_out = min(len(p[2].unplaced) for p in plans) > len(reasons) if plans else True
        if plans and out_of_time(leaving_out or guided):
            break

        def run(first, build=build, order=order, variant=variant):
            # the day's precheck once (the variant's own: some job may fit only over a break)
            if id(variant) not in checked:
                checked[id(variant)] = precheck(variant)
            known = checked[id(variant)]
            if build is dispatch:
                return dispatch(variant, order, first, known)
            return greedy(variant, lambda job: (job.key not in first, order(job)), known)

        plan, first = run(frozenset()), set()
        best = plan
        for _round in range(rounds):
            left = {k for k in plan.unplaced if k not in reasons}
            if not left or out_of_time(True):
                break
            # the jobs left out so far first (and the work they wait for): placing one
            # may leave out another, which then goes first as well
            first |= left
            while True:
                earlier = {k for j in problem.jobs if j.key in first for k in j.after} - first
                if not earlier:
                    break
                first |= earlier
            plan = run(frozenset(first))
            if _rank(plan) < _rank(best):
                best = plan
        plans.append((best.objective, len(plans), best, variant))
    _cost, _n, best, variant = min(plans)
    return best, variant, checked[id(variant)]


def improve(
    problem: Problem,
    plan: Solution,
    *,
    reasons: dict | None = None,
    seconds: float | None = None,
    steps: int = IMPROVE_STEPS,
    seed: int = 0,
    stop: threading.Event | None = None,
) -> Solution:
    """A better list schedule near ``plan`` (made by ``greedy`` or ``dispatch``; any
    other plan is returned as it is): the order it placed its jobs in, changed one job at
    a time, made again from the first place that changed on (``_in_order``: the board up
    to there is the same) and kept when it costs no more (so the search also crosses
    changes that cost the same). Mostly (``LATE_SHARE``) a late or left-out job moves up
    to ``IMPROVE_EARLIER`` places earlier, the more minutes late the likelier; else any
    job up to ``IMPROVE_EITHER`` places either way. Pinned and started jobs stay. For
    ``seconds`` or until ``stop`` is set; ``steps`` changes without a time limit."""
    begun = time.perf_counter()
    reasons = precheck(problem) if reasons is None else reasons
    order = [job for job, _placed in plan.placed]
    if not order:
        return plan
    seen = {job.key for job in order}
    seen |= set(reasons)
    order += [j for j in problem.jobs if j.fixed is None and j.key not in seen]
    jobs = {job.key: job for job in problem.jobs}
    rng = random.Random(seed)
    day = _Day(problem)

    def behind(made):
        """([late or left-out job], [how far behind]); pinned and started jobs stay."""
        late = [
            (key, end - jobs[key].due)
            for key, (_t, _b, _s, end) in made.assignments.items()
            if jobs[key].due is not None and end > jobs[key].due and jobs[key].fixed is None
        ]
        late += [(key, problem.horizon) for key in made.unplaced if key not in reasons]
        return [k for k, _m in late], [m for _k, m in late]

    best, cost = plan, _rank(plan)
    late_keys, late_by = behind(best)
    tried = 0
    while True:
        if seconds is None and tried >= steps:
            break
        if seconds is not None and time.perf_counter() - begun >= seconds:
            break
        if stop is not None and stop.is_set():
            break
        tried += 1
        if late_keys and rng.random() < LATE_SHARE:
            key = rng.choices(late_keys, weights=late_by)[0]
            at = next(n for n, job in enumerate(order) if job.key == key)
            to = max(0, at - rng.randint(1, IMPROVE_EARLIER))
        else:
            at = rng.randrange(len(order))
            to = min(len(order) - 1, max(0, at + rng.randint(-IMPROVE_EITHER, IMPROVE_EITHER)))
        if to == at:
            continue
        moved = order[:at] + order[at + 1 :]
        moved.insert(to, order[at])
        candidate = _in_order(problem, reasons, moved, best.placed[: min(at, to)], day).solution
        candidate.objective = objective_of(problem, candidate)
        if _rank(candidate) <= cost:
            best, cost = candidate, _rank(candidate)
            done = {job.key for job, _placed in best.placed}
            order = [job for job, _placed in best.placed] + [j for j in moved if j.key not in done]
            late_keys, late_by = behind(best)
    if best is not plan:
        best.seconds = time.perf_counter() - begun
        measure(problem, best)
    return best


def objective_of(problem: Problem, solution: Solution) -> int:
    jobs = {job.key: job for job in problem.jobs}
    total = UNPLACED * len(solution.unplaced)
    for key, (_t, _b, _s, end) in solution.assignments.items():
        due = jobs[key].due
        total += end + (LATE_WEIGHT * max(0, end - due) if due is not None else 0)
    return total


# ---------------------------------------------------------------- CP-SAT


def _pools(resources, owners_of_fixed, signature):
    """Interchangeable resources pooled: technicians with the same skills and windows, bays
    of the same kind. A resource holding a pinned or started job stays on its own. Any
    plan of a pool's jobs that never has more of them at once than the pool's size can be
    dealt out to its members (interval graphs colour with as many colours as their
    largest overlap), so the model counts per pool instead of choosing members: no
    symmetric choices to search through."""
    pools: dict = {}
    for resource in resources:
        key = ("own", resource.id) if resource.id in owners_of_fixed else signature(resource)
        pools.setdefault(key, []).append(resource)
    return list(pools.values())


def _deal_out(pool, items):
    """Members of ``pool`` for ``items`` [(key, start, end)] never overlapping on one
    member: by start time, each to the free member that became free last (keeps each
    member's work together)."""
    free_at = {member.id: -1 for member in pool}
    dealt = {}
    for key, s, e in sorted(items, key=lambda item: (item[1], item[2], item[0])):
        free = [m for m, t in free_at.items() if t <= s]
        member = max(free, key=lambda m: (free_at[m], -m if isinstance(m, int) else 0))
        dealt[key] = member
        free_at[member] = e
    return dealt


def _off_shift(technicians, horizon) -> list:
    """The spans of ``0..horizon`` in which none of ``technicians`` is on shift."""
    spans, t = [], 0
    for s, e in sorted(w for tech in technicians for w in tech.windows):
        s, e = max(0, s), min(e, horizon)
        if s > t:
            spans.append((t, s))
        t = max(t, e)
    if t < horizon:
        spans.append((t, horizon))
    return spans


class _Model:
    """The CP-SAT model of the day's placeable jobs (``jobs``, earliest and latest starts
    ``lo``/``hi``) over pooled technicians and bays.

    ``all_in``: every job is placed (no presence choice; the tighter model) — else each
    free job may be left out, and ``at_least`` of them must be placed. ``aim`` is
    ``"place"`` (fewest left out) or ``"cost"`` (the objective of the module docstring,
    without the precheck's jobs)."""

    def __init__(self, problem, jobs, lo, hi, tech_pools, bay_pools, *, all_in, at_least, aim):
        from ortools.sat.python import cp_model
        from ortools.util.python.sorted_interval_list import Domain

        self.jobs, self.tech_pools, self.bay_pools = jobs, tech_pools, bay_pools
        self.choosing = not all_in  # whether each free job may be left out
        self.tech_pool_of = {t.id: n for n, pool in enumerate(tech_pools) for t in pool}
        self.bay_pool_of = {b.id: n for n, pool in enumerate(bay_pools) for b in pool}
        horizon = problem.horizon
        model = self.model = cp_model.CpModel()
        self.present, self.start, self.late, self.end = {}, {}, {}, {}
        self.earliest: dict = {}  # key -> the first start in a window
        self.tech_use: dict = {}  # key -> [(pool, literal)]
        self.bay_use: dict = {}
        # key -> the job's intervals, one per way over the breaks (optional on presence)
        self.intervals: dict = {}
        # key -> [("t"/"b", pool, pause, way literal, literal of that pool that way)]
        self.way_use: dict = {}
        tech_intervals: dict = {n: [] for n in range(len(tech_pools))}
        bay_intervals: dict = {n: [] for n in range(len(bay_pools))}
        cost, left_out = [], []
        self.pause: dict = {}  # key -> [(pause, literal)] for a job that may run over a break
        self.wall: dict = {}  # key -> the job's start-to-end (an expression)
        self.finish_of: dict = {}  # key -> its end (an expression)
        for job in jobs:
            k, d = job.key, job.duration
            if job.fixed is not None:
                tech, bay, s = job.fixed
                wall = fixed_end(problem, job) - s
                self.present[k] = model.NewConstant(1)
                self.start[k] = model.NewConstant(s)
                self.intervals[k] = [model.NewFixedSizeIntervalVar(s, wall, f"i{k}")]
                self.wall[k], self.finish_of[k] = wall, s + wall
                if tech in self.tech_pool_of:
                    tech_intervals[self.tech_pool_of[tech]].append(self.intervals[k][0])
                if bay in self.bay_pool_of:
                    bay_intervals[self.bay_pool_of[bay]].append(self.intervals[k][0])
            else:
                usable = []
                for n, pool in enumerate(tech_pools):
                    if pool[0].can_do(job):
                        spans = _start_spans(pool[0], d, lo[k], hi[k], horizon)
                        if spans:
                            usable.append((n, spans))
                starts = Domain.FromIntervals([[a, b] for _n, sp in usable for a, b, _p in sp])
                self.start[k] = model.NewIntVarFromDomain(starts, f"s{k}")
                self.earliest[k] = starts.min()
                pauses = sorted({p for _n, sp in usable for _a, _b, p in sp})
                if all_in:
                    self.present[k] = model.NewConstant(1)
                else:
                    self.present[k] = model.NewBoolVar(f"p{k}")
                    left_out.append(1 - self.present[k])
                # the job's ways: (pause, literal); one way (no pause) needs no literal
                if pauses == [0]:
                    ways = [(0, None)]
                else:
                    ways = self.pause[k] = [(p, model.NewBoolVar(f"z{k}_{p}")) for p in pauses]
                    model.Add(sum(z for _p, z in ways) == self.present[k])
                    for p, z in ways:
                        own = [[a, b] for _n, sp in usable for a, b, q in sp if q == p]
                        model.AddLinearExpressionInDomain(
                            self.start[k], Domain.FromIntervals(own)
                        ).OnlyEnforceIf(z)
                self.wall[k] = d + sum(p * z for p, z in ways if p)
                self.finish_of[k] = self.start[k] + self.wall[k]

                def interval(present, size, name, k=k):
                    if present is None:
                        return model.NewFixedSizeIntervalVar(self.start[k], size, name)
                    return model.NewOptionalFixedSizeIntervalVar(self.start[k], size, present, name)

                # a job that may run over a break has an interval of fixed size per way
                # (fixed sizes propagate and relax better than one of variable size)
                self.intervals[k] = [
                    interval(z if z is not None else present_or_none, d + p, f"i{k}_{p}")
                    for p, z in ways
                    for present_or_none in [None if all_in else self.present[k]]
                ]
                self.way_use[k] = []

                def split(use, n, own_starts, resources, k=k, ways=ways, d=d):
                    """Intervals of ``use`` (pool ``n``) per way; their literals add up to
                    ``use`` and, over the pools, to the way's literal."""
                    if len(ways) == 1:
                        resources.append(interval(use, d, f"r{k}_{n}"))
                        return
                    parts = []
                    for p, z in ways:
                        mine = own_starts(p)
                        if mine is not None and not mine:
                            continue
                        u = model.NewBoolVar(f"u{k}_{n}_{p}")
                        if mine:
                            model.AddLinearExpressionInDomain(
                                self.start[k], Domain.FromIntervals(mine)
                            ).OnlyEnforceIf(u)
                        resources.append(interval(u, d + p, f"r{k}_{n}_{p}"))
                        parts.append(u)
                        self.way_use[k].append((*n, p, z, u))
                    model.Add(sum(parts) == use)

                self.tech_use[k] = []
                many = len(usable) > 1
                for n, spans in usable:
                    x = model.NewBoolVar(f"x{k}_{n}")
                    own = Domain.FromIntervals([[a, b] for a, b, _p in spans])
                    if many and own.size() < starts.size():
                        model.AddLinearExpressionInDomain(self.start[k], own).OnlyEnforceIf(x)

                    def own_starts(p, spans=spans, many=many):
                        mine = [[a, b] for a, b, q in spans if q == p]
                        return mine if many else (None if mine else [])

                    split(x, ("t", n), own_starts, tech_intervals[n])
                    self.tech_use[k].append((n, x))
                model.Add(sum(x for _n, x in self.tech_use[k]) == self.present[k])
                self.bay_use[k] = []
                for n, pool in enumerate(bay_pools):
                    if bay_fits(job.bay_kind, pool[0].kind):
                        y = model.NewBoolVar(f"y{k}_{n}")
                        split(y, ("b", n), lambda p: None, bay_intervals[n])
                        self.bay_use[k].append((n, y))
                model.Add(sum(y for _n, y in self.bay_use[k]) == self.present[k])
                for p, z in ways:
                    for side in ("t", "b") if z is not None else ():
                        model.Add(
                            sum(u for r, _n, q, _z, u in self.way_use[k] if r == side and q == p)
                            == z
                        )
            # a job left out costs only its penalty, as in ``objective_of``
            optional = self.choosing and job.fixed is None
            top = hi[k] + d + max((p for p, _z in self.pause.get(k, ())), default=0)
            if job.fixed is not None:
                top = self.finish_of[k]
            if job.due is not None:
                least = 0 if optional else late_floor(job, lo[k])
                if job.fixed is not None:
                    least = max(0, self.finish_of[k] - job.due)
                most = max(least, top - job.due)
                self.late[k] = model.NewIntVar(least, most, f"l{k}")
                if job.fixed is None and optional:
                    model.Add(self.late[k] >= self.finish_of[k] - job.due).OnlyEnforceIf(
                        self.present[k]
                    )
                elif job.fixed is None:
                    # exactly the lateness (not only at least it): a plan the
                    # neighbourhood search moves earlier costs less at once
                    model.AddMaxEquality(self.late[k], [0, self.finish_of[k] - job.due])
                cost.append(LATE_WEIGHT * self.late[k])
            if optional:
                self.end[k] = model.NewIntVar(0, top, f"e{k}")
                model.Add(self.end[k] >= self.finish_of[k]).OnlyEnforceIf(self.present[k])
                cost.append(self.end[k])
            else:
                cost.append(self.finish_of[k])
        for pools, intervals in ((tech_pools, tech_intervals), (bay_pools, bay_intervals)):
            for n, pool in enumerate(pools):
                if len(intervals[n]) <= 1:
                    continue
                if len(pool) == 1:
                    model.AddNoOverlap(intervals[n])
                else:
                    model.AddCumulative(intervals[n], [1] * len(intervals[n]), len(pool))
        groups = self._bay_energy(problem, bay_pools)
        if all_in:
            self._completion_cuts(groups, lo)
        self._cars(lo)
        by_key = {j.key: j for j in jobs}
        for job in jobs:
            for before in job.after:
                if before in by_key:
                    model.Add(self.start[job.key] >= self.finish_of[before]).OnlyEnforceIf(
                        [self.present[job.key], self.present[before]]
                    )
                    if job.fixed is None and not all_in:
                        model.AddImplication(self.present[job.key], self.present[before])
        if at_least is not None and not all_in:
            model.Add(sum(self.present[j.key] for j in jobs if j.fixed is None) >= at_least)
        if aim == "place":
            model.Minimize(sum(left_out))
        else:
            model.Minimize(sum(cost) + UNPLACED * sum(left_out))

    def _bay_energy(self, problem, bay_pools):
        """Redundant: the bays of kinds that share jobs (quick jobs go to quick or general
        bays) as one cumulative over those jobs, closed where no technician who could work
        in them is on shift (lunch): the solver then sees how much bay time the day really
        has, which the pools alone and the technicians' windows only show separately."""
        model = self.model
        kinds = {pool[0].kind for pool in bay_pools}
        linked: dict = {kind: {kind} for kind in kinds}
        for job in self.jobs:
            fitting = {kind for kind in kinds if bay_fits(job.bay_kind, kind)}
            merged = set().union(*(linked[kind] for kind in fitting)) if fitting else set()
            for kind in merged:
                linked[kind] = merged
        for group in {frozenset(g) for g in linked.values()}:
            size = sum(len(pool) for pool in bay_pools if pool[0].kind in group)
            items = [
                interval
                for j in self.jobs
                if any(bay_fits(j.bay_kind, kind) for kind in group)
                for interval in self.intervals[j.key]
            ]
            workers = [t for t in problem.technicians if any(k in group for k in t.bay_kinds)]
            closed, demands = [], []
            for s, e in _off_shift(workers, problem.horizon):
                # cars stay over a break only with a technician pausing on them
                pausing = sum(1 for t in workers if any(a <= s and e <= b for a, b in t.breaks))
                if pausing < size:
                    closed.append(model.NewFixedSizeIntervalVar(s, e - s, f"c{sorted(group)}{s}"))
                    demands.append(size - pausing)
            if len(items) > 1 and (closed or len(group) > 1):
                model.AddCumulative(items + closed, [1] * len(items) + demands, size)
        return {
            group: sum(len(pool) for pool in bay_pools if pool[0].kind in group)
            for group in {frozenset(g) for g in linked.values()}
        }

    def _completion_cuts(self, groups, lo):
        """Redundant, for the bound: the jobs of a bay group (``groups``: kinds -> bays), or
        of a set of technicians, that cannot start before a time ``r`` end, added up, at
        least as when its bays (people) took them shortest first from ``r`` (the least sum
        of ends on that many parallel machines); and the ones of them promised by a time
        are late, added up, at least that sum less their promised times. The solver's
        relaxation sees each job's earliest end and each resource's capacity, not the
        queue they form together."""
        model = self.model
        free = [j for j in self.jobs if j.fixed is None]
        sets = [
            (size, [j for j in free if any(bay_fits(j.bay_kind, kind) for kind in group)])
            for group, size in groups.items()
        ]
        # and the jobs only technicians of some pools can do (each job's pools, and any two
        # of those together), as many machines as they have people
        usable = {j.key: frozenset(n for n, _x in self.tech_use[j.key]) for j in free}
        kinds = set(usable.values())
        for pools in kinds | {a | b for a in kinds for b in kinds}:
            people = sum(len(self.tech_pools[n]) for n in pools)
            sets.append((people, [j for j in free if usable[j.key] <= pools]))
        for size, members in sets:
            for r in sorted({lo[j.key] for j in members}):
                queue = [j for j in members if lo[j.key] >= r]
                if len(queue) <= size:
                    continue
                least = _least_ends(r, [j.duration for j in queue], size)
                if least > sum(lo[j.key] + j.duration for j in queue):
                    model.Add(sum(self.finish_of[j.key] for j in queue) >= least)
                promised = sorted({j.due for j in queue if j.due is not None})
                for due in promised:
                    due_by = [j for j in queue if j.due is not None and j.due <= due]
                    if len(due_by) <= size:
                        continue
                    short = _least_ends(r, [j.duration for j in due_by], size)
                    floor = sum(late_floor(j, lo[j.key]) for j in due_by)
                    if short - sum(j.due for j in due_by) > floor:
                        model.Add(
                            sum(self.late[j.key] for j in due_by)
                            >= short - sum(j.due for j in due_by)
                        )

    def _cars(self, lo):
        """One job of a car at a time; the car's ends add up at least as in shortest-first
        order from its arrival (a bound the relaxation lacks)."""
        model, by_car = self.model, {}
        for job in self.jobs:
            by_car.setdefault(job.group, []).append(job)
        for members in by_car.values():
            if len(members) <= 1:
                continue
            model.AddNoOverlap([i for j in members for i in self.intervals[j.key]])
            if all(j.fixed is None for j in members):
                least, t = 0, min(lo[j.key] for j in members)
                for duration in sorted(j.duration for j in members):
                    t += duration
                    least += t
                model.Add(
                    sum(self.start[j.key] + j.duration for j in members) >= least
                ).OnlyEnforceIf([self.present[j.key] for j in members])

    def hint(self, plan: dict, lo) -> None:
        """Start the search from ``plan`` {key: (technician pool, bay pool, start)}."""
        for job in self.jobs:
            if job.fixed is not None:
                continue
            k = job.key
            placed = plan.get(k)
            if placed is None:
                self.model.AddHint(self.start[k], self.earliest[k])
                if self.choosing:  # a complete hint: the solver takes it as it is
                    self.model.AddHint(self.present[k], 0)
                    for _p, z in self.pause.get(k, ()):
                        self.model.AddHint(z, 0)
                    for *_way, u in self.way_use.get(k, ()):
                        self.model.AddHint(u, 0)
                    for var in (self.end.get(k), self.late.get(k)):
                        if var is not None:
                            self.model.AddHint(var, 0)
                    for _n, var in self.tech_use[k] + self.bay_use[k]:
                        self.model.AddHint(var, 0)
                continue
            tech_pool, bay_pool, s = placed
            if self.choosing:
                self.model.AddHint(self.present[k], 1)
            self.model.AddHint(self.start[k], s)
            end = self.tech_pools[tech_pool][0].finish(s, job.duration)
            pause = end - s - job.duration
            for p, z in self.pause.get(k, ()):
                self.model.AddHint(z, 1 if p == pause else 0)
            for side, n, p, _z, u in self.way_use.get(k, ()):
                pool = tech_pool if side == "t" else bay_pool
                self.model.AddHint(u, 1 if p == pause and n == pool else 0)
            if k in self.end:
                self.model.AddHint(self.end[k], end)
            if k in self.late:
                self.model.AddHint(self.late[k], max(late_floor(job, lo[k]), end - job.due))
            for n, x in self.tech_use[k]:
                self.model.AddHint(x, 1 if n == tech_pool else 0)
            for n, y in self.bay_use[k]:
                self.model.AddHint(y, 1 if n == bay_pool else 0)

    def pooled(self, solution: Solution) -> dict:
        """A plan of named technicians and bays as {key: (tech pool, bay pool, start)}."""
        return {
            k: (self.tech_pool_of.get(a[0]), self.bay_pool_of.get(a[1]), a[2])
            for k, a in solution.assignments.items()
        }

    def read(self, solver) -> dict:
        """The solver's plan as {key: (tech pool, bay pool, start)}, placed free jobs only."""
        plan = {}
        for job in self.jobs:
            k = job.key
            if job.fixed is not None or not solver.Value(self.present[k]):
                continue
            plan[k] = (
                next(n for n, x in self.tech_use[k] if solver.Value(x)),
                next(n for n, y in self.bay_use[k] if solver.Value(y)),
                solver.Value(self.start[k]),
            )
        return plan

    def named(self, plan: dict) -> dict:
        """``plan`` in pools dealt out to named technicians and bays, with the pinned and
        started jobs: {key: (technician, bay, start, end)}."""
        duration = {j.key: j.duration for j in self.jobs}
        named = {
            k: [None, None, s, self.tech_pools[t][0].finish(s, duration[k])]
            for k, (t, _b, s) in plan.items()
        }
        for pools, index in ((self.tech_pools, 0), (self.bay_pools, 1)):
            for n, pool in enumerate(pools):
                items = [(k, a[2], named[k][3]) for k, a in plan.items() if a[index] == n]
                if items:
                    for k, member in _deal_out(pool, items).items():
                        named[k][index] = member
        for job in self.jobs:
            if job.fixed is not None:
                tech, bay, s = job.fixed
                named[job.key] = [tech, bay, s, s + self.wall[job.key]]
        return {k: tuple(v) for k, v in named.items()}


def _workers(asked: int) -> int:
    """At most two workers a core: more only take turns on the cores, and on 2 vCPUs 8
    workers often left jobs out in the placing stage that 2-4 workers placed
    (bench/day_plan.py)."""
    return max(1, min(asked, 2 * (os.cpu_count() or 1)))


def _run(model: _Model, time_limit, workers, seed, parameters, on_first):
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, float(time_limit))
    solver.parameters.num_workers = _workers(workers)
    solver.parameters.random_seed = seed
    # the LP relaxation with the scheduling cuts: proves small days optimal fast and
    # tightens the bound of large ones
    solver.parameters.linearization_level = 2
    # one worker on the whole model (the bound), the others improving the plan in
    # neighbourhoods: on 2 cores the default three full-model workers starved the
    # neighbourhood search and the plan hardly moved from its start
    solver.parameters.num_full_subsolvers = 1
    if time_limit < 5:
        # presolve's probing took 0.3-1 s of a 2-s solve on 2 shared cores, and the
        # model over lunch breaks then often found no plan in time
        solver.parameters.cp_model_probing_level = 0
    for name, value in (parameters or {}).items():
        setattr(solver.parameters, name, value)

    class _First(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self):
            on_first()

    status = solver.Solve(model.model, _First())
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return solver, found, status == cp_model.OPTIMAL


def solve(
    problem: Problem,
    *,
    time_limit: float = 2.0,
    workers: int = 8,
    seed: int = 0,
    hint: Solution | None = None,
    parameters: dict | None = None,
    placing_share: float = 0.5,
) -> Solution:
    """The best plan CP-SAT finds within about ``time_limit`` seconds (all included),
    solved in two stages as the objective ranks them.

    1. Placing: the most jobs that fit. When the list-scheduling start (``heuristic``)
       places every job the precheck left in, that is proved already; else CP-SAT looks
       for a plan placing more (at most ``placing_share`` of the time, and it stops as
       soon as every job is in).
    2. Cost: lateness and end times with that many jobs placed. When every job is in, the
       model has no presence choices at all: every constraint holds unconditionally,
       which the solver's relaxation (and so the bound) and its search both profit from.

    Jobs that cannot be placed at all are left out with their reason first; the rest may
    still be left out (``no_room``) when the day is full, never making the model
    infeasible. The bound is valid for the whole objective: stage 2's bound plus the
    penalty of the jobs stage 1 proved cannot all be placed.

    While CP-SAT searches (in a thread), ``improve`` reworks the list schedule; the
    better plan is returned, with CP-SAT's bound (``first_seconds``: CP-SAT's first
    plan). A day of more than ``CP_SAT_JOBS_PER_SECOND`` placeable jobs per second of
    ``time_limit`` is only reworked (status "feasible", no bound): here, and with a second
    core in a child process (``_rework_aside``, its own random moves), the better plan of
    the two."""
    begun = time.perf_counter()
    if not problem.jobs:
        return Solution(status="empty")
    reasons = precheck(problem)
    jobs = [j for j in problem.jobs if j.key not in reasons]
    by_key = {j.key: j for j in jobs}
    lo, hi = _bounds(problem, by_key)
    # the LP and the list schedules first (HEURISTIC_SHARE of the time, one plan at least)
    made_on, known = problem, reasons
    if hint is None:
        hint, made_on, known = _list_plans(problem, seconds=time_limit * HEURISTIC_SHARE)
    if sum(1 for j in jobs if j.fixed is None) > CP_SAT_JOBS_PER_SECOND * time_limit:
        # a day too large for CP-SAT in the time: the reworking has it all, nothing proved;
        # with a second core, a second reworking (other random moves) in a child process
        deadline = begun + time_limit
        aside = _rework_aside(made_on, hint, known, deadline - time.perf_counter() - 0.05, seed + 1)
        try:
            reworked = improve(
                made_on, hint, reasons=known, seconds=deadline - time.perf_counter(), seed=seed
            )
        finally:  # (the child is waited for, or stopped, whatever happens here)
            theirs = aside(deadline + 0.1) if aside is not None else None
        solution = Solution(
            "feasible", reworked.assignments, reworked.unplaced, objective=reworked.objective
        )
        if theirs is not None:
            aside_plan = Solution("feasible", theirs[0], theirs[1], objective=theirs[2])
            if _rank(aside_plan) < _rank(solution):
                solution = aside_plan
        solution.seconds = time.perf_counter() - begun
        return measure(problem, solution)
    first: list[float] = []

    def on_first():
        if not first:
            first.append(time.perf_counter() - begun)

    def left():
        return time_limit - (time.perf_counter() - begun)

    # CP-SAT searches in a thread (it lets go of the interpreter while it solves) while
    # ``improve`` reworks the list schedule here, each on a core of its own: on the busy
    # bench day CP-SAT hardly moved the list schedule in the rest of a 2-s solve, the
    # reworking gained 1-3 % (bench/day_plan.py); it stops when CP-SAT does (a small
    # day is proved optimal long before its time is up)
    cores = os.cpu_count() or 1
    searching = max(1, min(workers, 2 * (cores - 1))) if cores > 2 else 1
    done = threading.Event()

    def search():
        try:
            return _cp_search(
                problem,
                hint,
                reasons,
                jobs,
                lo,
                hi,
                left,
                searching,
                seed,
                parameters,
                placing_share,
                on_first,
            )
        finally:
            done.set()

    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(search)
        reworked = improve(
            made_on, hint, reasons=known, seconds=left() - 0.02, seed=seed, stop=done
        )
        solution = running.result()
    if _rank(reworked) < _rank(solution):
        reworked.bound = solution.bound
        reworked.status = "optimal" if reworked.objective == solution.bound else "feasible"
        solution = reworked
    solution.first_seconds = first[0] if first else None
    solution.seconds = time.perf_counter() - begun
    return measure(problem, solution)


def _rework_aside(problem, plan, reasons, seconds, seed, steps=IMPROVE_STEPS):
    """``improve`` of ``plan`` with ``seed`` in a child process, on another core than the
    caller's own reworking (threads would share one interpreter): a function that waits
    until a ``time.perf_counter()`` deadline for its (assignments, unplaced, objective),
    or None then (the child is stopped). None when the machine has one core or cannot
    fork. ``seconds`` None: ``steps`` changes (tests)."""
    if (os.cpu_count() or 1) < 2 or not hasattr(os, "fork"):
        return None
    if seconds is not None and seconds < 0.1:
        return None
    import pickle
    import select
    import signal

    read, write = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        return None
    if pid == 0:  # the child: rework, send the plan, and leave without any clean-up of
        # the parent's (its database connections, servers and files stay the parent's)
        code = 1
        try:
            os.close(read)
            found = improve(problem, plan, reasons=reasons, seconds=seconds, steps=steps, seed=seed)
            data = memoryview(pickle.dumps((found.assignments, found.unplaced, found.objective)))
            while data:
                data = data[os.write(write, data) :]
            code = 0
        finally:
            os._exit(code)
    os.close(write)

    def collect(deadline):
        chunks = []
        try:
            while True:
                ready, _w, _x = select.select(
                    [read], [], [], max(0.0, deadline - time.perf_counter())
                )
                if not ready:  # late (a loaded machine): not waited for
                    os.kill(pid, signal.SIGKILL)
                    return None
                chunk = os.read(read, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
            return pickle.loads(b"".join(chunks)) if chunks else None
        finally:
            os.close(read)
            os.waitpid(pid, 0)

    return collect


def _cp_search(
    problem,
    hint,
    reasons,
    jobs,
    lo,
    hi,
    left,
    workers,
    seed,
    parameters,
    placing_share,
    on_first,
) -> Solution:
    """``solve``'s two CP-SAT stages from ``hint``, within ``left()`` seconds."""
    fixed_techs = {j.fixed[0] for j in jobs if j.fixed is not None}
    fixed_bays = {j.fixed[1] for j in jobs if j.fixed is not None}
    tech_pools = _pools(
        problem.technicians,
        fixed_techs,
        lambda t: ("t", tuple(t.windows), t.bay_kinds, t.categories, tuple(t.breaks)),
    )
    bay_pools = _pools(problem.bays, fixed_bays, lambda b: ("b", b.kind))
    free = [j for j in jobs if j.fixed is None]

    def build(**options):
        return _Model(problem, jobs, lo, hi, tech_pools, bay_pools, **options)

    # stage 1: how many jobs fit
    start_plan = None
    most = sum(1 for j in free if j.key in hint.assignments)
    upper = len(free)
    if most < len(free):
        placing = build(all_in=False, at_least=None, aim="place")
        placing.hint(placing.pooled(hint), lo)
        solver, found, proved = _run(
            placing, left() * placing_share, workers, seed, parameters, on_first
        )
        if found:
            plan = placing.read(solver)
            if len(plan) > most:
                most, start_plan = len(plan), plan
            upper = len(free) - int(math.ceil(solver.BestObjectiveBound() - 1e-6))
    # stage 2: the cost with that many jobs placed
    costing = build(all_in=most == len(free), at_least=most, aim="cost")
    costing.hint(start_plan if start_plan is not None else costing.pooled(hint), lo)
    solver, found, proved = _run(costing, left(), workers, seed, parameters, on_first)
    if not found:
        if start_plan is None:
            fallback = replace(hint)
            # what stage 1 proved (or only the jobs the precheck left out)
            fallback.bound = UNPLACED * (len(reasons) + len(free) - upper)
            return fallback
        solution = Solution(status="feasible", unplaced=dict(reasons))
        plan = start_plan
        bound = None
    else:
        plan = costing.read(solver)
        solution = Solution(
            status="optimal" if proved and most == upper else "feasible",
            unplaced=dict(reasons),
        )
        bound = int(math.ceil(solver.BestObjectiveBound() - 1e-6))
    for job in free:
        if job.key not in plan:
            solution.unplaced[job.key] = NO_ROOM
    solution.assignments = costing.named(plan)
    solution.objective = objective_of(problem, solution)
    if bound is not None and most == upper:
        # stage 2's bound counts its own jobs left out; add the precheck's
        solution.bound = bound + UNPLACED * len(reasons)
    else:
        solution.bound = UNPLACED * (len(reasons) + len(free) - upper)
    return solution


def _least_ends(start: int, durations, machines: int) -> int:
    """The least sum of ends of jobs of ``durations`` on ``machines`` parallel machines
    free from ``start``: shortest first, each to the machine free first."""
    free = [start] * machines
    total = 0
    for n, d in enumerate(sorted(durations)):
        free[n % machines] += d
        total += free[n % machines]
    return total


def late_floor(job: Job, earliest: int) -> int:
    return max(0, earliest + job.duration - job.due) if job.due is not None else 0


# ---------------------------------------------------------------- a second lower bound


def lp_bound(
    problem: Problem, *, max_slots: int = 200, solver: str = "GLOP", seconds: float = 30.0
) -> int | None:
    """A lower bound of the objective from the time-indexed relaxation, independent of
    the plan model (``bench/day_plan.py`` reports it): one variable per job and possible
    start on the grid of the day's data (the greatest common divisor of every time and
    duration — a plan whose jobs all start as early as they can starts on it, so some best
    plan does) and way over the breaks, each job started once, and in every grid step (a
    job over a break holds its bay and car through it, its technician not)

    - the jobs that fit only in bays of a set of kinds (and each pair of such sets) at most
      as many as those bays;
    - the jobs that only technicians of a set of pools can do at most as many as of them
      are on shift;
    - at most one job of a car;

    and each job's mean start after the mean end of the jobs it comes after. A job's cost
    at a start is its end plus the lateness weight, as in the objective. ``solver``:
    "GLOP" solves the linear relaxation; "CP-SAT" solves the relaxation with whole
    starts (each job starts once, at one time) for up to ``seconds`` and gives the bound
    it proves. None when the grid is finer than ``horizon / max_slots`` (the model would
    grow too large) or nothing was proved."""
    relaxed = _time_indexed(problem, max_slots=max_slots, solver=solver, seconds=seconds)
    return None if relaxed is None else relaxed[0]


def lp_order(problem: Problem, *, steps: int = 40, seconds: float | None = None) -> dict | None:
    """Each job's starts in the time-indexed LP (``lp_bound``) on a coarse grid (at most
    ``steps`` steps a day), as [(start, share), ...] (the LP may start a job partly at
    several times): the orders the list schedules take the jobs in first (``heuristic``,
    ``alpha_point``). None when the LP found nothing in ``seconds``."""
    grid = max(1, -(-problem.horizon // steps))
    grid = -(-grid // 5) * 5  # times are whole 5 minutes in practice
    relaxed = _time_indexed(problem, grid=grid, solver="GLOP", seconds=seconds)
    return None if relaxed is None else relaxed[1]


def alpha_point(spread, alpha: float | None) -> float:
    """A job's start from its spread over starts in the LP ([(start, share), ...]): the
    mean start (``alpha`` None) or the first start by which ``alpha`` of it has begun."""
    if not spread:
        return 0.0
    if alpha is None:
        return sum(s * share for s, share in spread) / max(1e-9, sum(v for _s, v in spread))
    begun = 0.0
    for start, share in sorted(spread):
        begun += share
        if begun >= alpha - 1e-9:
            return start
    return max(spread)[0]


def _time_indexed(problem, *, max_slots=200, grid=None, solver="GLOP", seconds=30.0):
    """(bound, {job: [(start, share), ...]}) of the time-indexed relaxation (see
    ``lp_bound``); with ``grid`` given, on that grid whatever the data's times (a guide,
    not a bound)."""
    from ortools.linear_solver import pywraplp

    reasons = precheck(problem)
    jobs = [j for j in problem.jobs if j.key not in reasons]
    by_key = {j.key: j for j in jobs}
    lo, hi = _bounds(problem, by_key)
    exact = grid is None
    if exact:
        times = [problem.horizon]
        times += [w for t in problem.technicians for window in t.windows for w in window]
        times += [b for t in problem.technicians for brk in t.breaks for b in brk]
        for job in jobs:
            times += [job.duration, job.release, lo[job.key], job.due or 0]
            times += [job.fixed[2]] if job.fixed is not None else []
        grid = math.gcd(*times)
        if grid == 0 or problem.horizon / grid > max_slots:
            return None
    tech_pools = _pools(
        problem.technicians,
        {j.fixed[0] for j in jobs if j.fixed is not None},
        lambda t: ("t", tuple(t.windows), t.bay_kinds, t.categories, tuple(t.breaks)),
    )
    kinds = sorted({b.kind for b in problem.bays})
    kind_of = {b.id: b.kind for b in problem.bays}
    whole = solver != "GLOP"
    lp = pywraplp.Solver.CreateSolver(solver)
    if seconds is not None:
        lp.SetTimeLimit(int(seconds * 1000))
    if not whole:  # a third faster than the primal simplex here (bench/day_plan.py)
        lp.SetSolverSpecificParametersAsString("use_dual_simplex: true")
    else:
        # one worker on the model as built, every row in its LP from the start: it
        # proves the LP's bound and more within seconds; presolve and lazily added rows
        # left it below the LP after 30 s (bench/day_plan.py)
        lp.SetSolverSpecificParametersAsString(
            "num_workers: 1 cp_model_presolve: false add_lp_constraints_lazily: false"
        )
    objective = lp.Objective()
    infinity = lp.infinity()
    running: dict = {}  # (resource, step) -> [variables]
    chosen: dict = {}  # job -> [(start, end, variable)]
    horizon = problem.horizon

    for job in jobs:
        d = job.duration
        # the ways to do the job: (start, end, steps the technician works or None: all)
        # -> the technician pools that can
        ways: dict = {}
        if job.fixed is not None:
            tech, bay, s = job.fixed
            # (a started job may run past its technician's shift: no technician counted)
            ways[(s, fixed_end(problem, job), None)] = frozenset()
            fits = frozenset({kind_of.get(bay)})
        else:
            for n, pool in enumerate(tech_pools):
                if not pool[0].can_do(job):
                    continue
                windows = pool[0].windows
                for a, b, pause in _start_spans(pool[0], d, lo[job.key], hi[job.key], horizon):
                    # on the grid (a guide's coarse grid may miss a short span: the step
                    # before it then)
                    on_grid = range(-(-a // grid) * grid, b + 1, grid)
                    for s in on_grid or ((a - a % grid,) if not exact else ()):
                        end, steps = s + d + pause, None
                        if pause:  # not over the break
                            steps = tuple(
                                t
                                for t in range(s, end, grid)
                                if any(w <= t < e for w, e in windows)
                            )
                        ways.setdefault((s, end, steps), set()).add(n)
            fits = frozenset(k for k in kinds if bay_fits(job.bay_kind, k))
        mine = chosen[job.key] = []
        once = lp.Constraint(1, 1)
        for (s, end, steps), usable in ways.items():
            x = lp.IntVar(0, 1, "") if whole else lp.NumVar(0, 1, "")
            late = LATE_WEIGHT * max(0, end - job.due) if job.due is not None else 0
            objective.SetCoefficient(x, end + late)
            once.SetCoefficient(x, 1)
            mine.append((s, end, x))
            usable = frozenset(usable)
            for step in range(s, end, grid):
                running.setdefault(("bay", fits, step), []).append(x)
                running.setdefault(("car", job.group, step), []).append(x)
            if usable:
                for step in steps if steps is not None else range(s, end, grid):
                    running.setdefault(("tech", usable, step), []).append(x)

    # a guide's coarse grid holds every job a little longer and starts it a little later
    # than it may: its day can overflow, which is allowed at a high price
    overflow = 10 * LATE_WEIGHT * grid

    def at_most(xs, size):
        if len(xs) > size:
            row = lp.Constraint(-infinity, size)
            for x in xs:
                row.SetCoefficient(x, 1)
            if not exact:
                over = lp.NumVar(0, infinity, "")
                row.SetCoefficient(over, -1)
                objective.SetCoefficient(over, overflow)

    for job in jobs:
        for before in job.after:
            if before in by_key:  # mean start after the mean end of the earlier job
                row = lp.Constraint(0, infinity)
                for s, _e, x in chosen[job.key]:
                    row.SetCoefficient(x, s)
                for _s, e, x in chosen[before]:
                    row.SetCoefficient(x, -e)
                if not exact:
                    over = lp.NumVar(0, infinity, "")
                    row.SetCoefficient(over, 1)
                    objective.SetCoefficient(over, overflow / grid)
    steps = range(0, problem.horizon, grid)
    bay_sets = {key[1] for key in running if key[0] == "bay"}
    # in a fixed order (sets of strings iterate by the process's hash seed): the LP's
    # rows, and so which of its optima the solver returns, are the same on every run
    for kinds_in in sorted(bay_sets | {a | b for a in bay_sets for b in bay_sets}, key=sorted):
        size = sum(1 for b in problem.bays if b.kind in kinds_in)
        for step in steps:
            at_most(
                [x for f in bay_sets if f <= kinds_in for x in running.get(("bay", f, step), ())],
                size,
            )
    tech_sets = {key[1] for key in running if key[0] == "tech"}
    for pools_in in tech_sets | {frozenset(range(len(tech_pools)))}:
        for step in steps:
            on_shift = sum(
                len(tech_pools[n])
                for n in pools_in
                if any(a <= step and step + grid <= b for a, b in tech_pools[n][0].windows)
            )
            at_most(
                [x for u in tech_sets if u <= pools_in for x in running.get(("tech", u, step), ())],
                on_shift,
            )
    for key, xs in running.items():
        if key[0] == "car":
            at_most(xs, 1)
    objective.SetMinimization()
    status = lp.Solve()
    if whole and status in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        bound = int(math.ceil(objective.BestBound() - 1e-6))
    elif not whole and status == pywraplp.Solver.OPTIMAL:
        # GLOP's optimum is within its tolerance: round down
        bound = int(math.floor(objective.Value() - 1e-4))
    else:
        return None
    starts = {
        key: [(s, x.solution_value()) for s, _e, x in ways if x.solution_value() > 1e-6]
        for key, ways in chosen.items()
    }
    return bound + UNPLACED * len(reasons), starts
