"""The day-plan optimiser (SPEC §3): put a workshop day's jobs on technicians and bays.

Pure Python over whole minutes from the day's opening, no database: ``dayplan`` builds
the ``Problem`` from repair orders and bookings and writes the ``Solution`` back.

Rules every plan keeps: a job goes to one technician skilled for it (bay kind and
operation categories) within one of their working windows (shift minus breaks and
absences), and to one bay of a fitting kind (a quick-service job may use a general bay);
a technician, a bay and a car (the job's ``group``) do one job at a time; a job starts
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
of the objective with that many placed), started from the best of a few repaired
list-scheduling plans (``heuristic``); ``lp_bound`` is a second, independent lower bound
(time-indexed LP) for the figures; ``greedy`` is first come, first served (each job in arrival order
to the skilled technician and fitting bay where it can start earliest): the baseline the
figures compare with, and the fallback when CP-SAT finds nothing in time.

Measures: ``late_minutes``/``late_jobs`` as above; ``utilisation`` = worked minutes /
on-shift minutes of all technicians; ``idle_minutes`` = each technician's on-shift
minutes between the start of their first job and the end of their last one that they
spend not working (waiting between jobs; breaks and the time before and after their work
do not count).
"""

from __future__ import annotations

import math
import os
import time
from bisect import insort
from dataclasses import dataclass, field

UNPLACED = 1_000_000
LATE_WEIGHT = 20

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

    def can_do(self, job: Job) -> bool:
        if not any(bay_fits(job.bay_kind, kind) for kind in self.bay_kinds):
            return False
        return not self.categories or set(job.categories) <= self.categories


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


def _fits(window, job, start_from=0) -> bool:
    start, end = window
    return end - max(start, job.release, start_from) >= job.duration


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
        windows = [(s, min(e, problem.horizon)) for t in skilled for s, e in t.windows]
        if not any(e - s >= job.duration for s, e in windows):
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


def _start_domain(windows, duration, lo, hi, horizon) -> list:
    """The starts within ``lo..hi`` at which a job of ``duration`` lies inside a window,
    as [[first, last], ...]."""
    spans = []
    for w_start, w_end in windows:
        a, b = max(w_start, lo), min(w_end, horizon, hi + duration) - duration
        if a <= b:
            spans.append([a, b])
    return spans


def _usable_techs(problem, job, lo, hi) -> list:
    return [
        t
        for t in problem.technicians
        if t.can_do(job) and _start_domain(t.windows, job.duration, lo, hi, problem.horizon)
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
    worked: dict = {}
    for tech, _bay, start, end in solution.assignments.values():
        worked.setdefault(tech, []).append((start, end))
    windows = {t.id: t.windows for t in problem.technicians}
    on_shift = sum(end - start for t in problem.technicians for start, end in t.windows)
    busy = sum(end - start for spans in worked.values() for start, end in spans)
    idle = 0
    for tech, spans in worked.items():
        first, last = min(s for s, _e in spans), max(e for _s, e in spans)
        present = sum(
            max(0, min(e, last) - max(s, first)) for s, e in windows.get(tech, ((first, last),))
        )
        idle += max(0, present - sum(e - s for s, e in spans))
    solution.idle_minutes = idle
    solution.utilisation = round(busy / on_shift, 4) if on_shift else 0.0
    return solution


# ---------------------------------------------------------------- list scheduling


def _free_from(spans, start, duration):
    """The earliest time >= start at which [t, t+duration) misses every span (sorted)."""
    t = start
    for s, e in spans:
        if e <= t:
            continue
        if s >= t + duration:
            break
        t = max(t, e)
    return t


def first_come(job: Job):
    return (job.release, job.due if job.due is not None else 10**9, job.key)


def earliest_due(job: Job):
    return (job.due if job.due is not None else 10**9, job.release, job.key)


def least_slack(job: Job):
    slack = job.due - job.release - job.duration if job.due is not None else 10**9
    return (slack, job.release, job.key)


def greedy(problem: Problem, order=first_come) -> Solution:
    """List scheduling: the jobs in ``order`` (first come, first served: by release, then
    due time), each — once the jobs it waits for are placed — to the skilled technician
    and fitting bay where it can start earliest."""
    begun = time.perf_counter()
    reasons = precheck(problem)
    solution = Solution(status="greedy", unplaced=dict(reasons))
    tech_spans: dict = {t.id: [] for t in problem.technicians}
    bay_spans: dict = {b.id: [] for b in problem.bays}
    group_spans: dict = {}
    ends: dict = {}
    for job in problem.jobs:
        if job.fixed is not None:
            tech, bay, start = job.fixed
            end = start + job.duration
            solution.assignments[job.key] = (tech, bay, start, end)
            insort(tech_spans.setdefault(tech, []), (start, end))
            insort(bay_spans.setdefault(bay, []), (start, end))
            insort(group_spans.setdefault(job.group, []), (start, end))
            ends[job.key] = end
    pending = [j for j in problem.jobs if j.fixed is None and j.key not in reasons]
    pending.sort(key=order)
    while pending:
        ready = next((j for j in pending if all(k in ends for k in j.after)), None)
        if ready is None:  # the rest waits for jobs that found no room
            for job in pending:
                solution.unplaced[job.key] = WAITS_FOR_UNPLACED
            break
        pending.remove(ready)
        job = ready
        earliest = max([job.release, *(ends[k] for k in job.after)])
        best = None
        bays = [b for b in problem.bays if bay_fits(job.bay_kind, b.kind)]
        for tech in problem.technicians:
            if not tech.can_do(job):
                continue
            for w_start, w_end in tech.windows:
                t = max(earliest, w_start)
                last = min(w_end, problem.horizon) - job.duration
                if best is not None:  # only an earlier start can do better
                    last = min(last, best[0] - 1)
                while t <= last:
                    t2 = _free_from(tech_spans[tech.id], t, job.duration)
                    t2 = _free_from(group_spans.get(job.group, ()), t2, job.duration)
                    if t2 == t:
                        t2 = min(_free_from(bay_spans[b.id], t, job.duration) for b in bays)
                    if t2 == t:
                        free_bays = [
                            b for b in bays if _free_from(bay_spans[b.id], t, job.duration) == t
                        ]
                        # a quick job takes a quick bay before a general one
                        bay = min(free_bays, key=lambda b: b.kind != job.bay_kind)
                        best = (t, tech.id, bay.id)
                        break
                    t = t2
        if best is None:
            solution.unplaced[job.key] = NO_ROOM
            continue
        start, tech, bay = best
        end = start + job.duration
        solution.assignments[job.key] = (tech, bay, start, end)
        insort(tech_spans[tech], (start, end))
        insort(bay_spans[bay], (start, end))
        insort(group_spans.setdefault(job.group, []), (start, end))
        ends[job.key] = end
    if not problem.jobs:
        solution.status = "empty"
    solution.seconds = time.perf_counter() - begun
    solution.objective = objective_of(problem, solution)
    return measure(problem, solution)


def heuristic(problem: Problem, *, repairs: int = 3) -> Solution:
    """The best of the list-scheduling plans by first come, earliest due and least slack,
    each repaired when it leaves jobs out that fit alone (those jobs first, then the
    order, a few times while that places more): CP-SAT's starting point. A plan placing
    every job spares the solver its placing stage."""
    reasons = precheck(problem)
    plans = []
    for order in (first_come, earliest_due, least_slack):
        plan, first = greedy(problem, order), set()
        for _round in range(repairs):
            left = {k for k in plan.unplaced if k not in reasons}
            if not left:
                break
            first |= left
            again = greedy(
                problem, lambda job, first=first, order=order: (job.key not in first, order(job))
            )
            if len(again.unplaced) >= len(plan.unplaced):
                break
            plan = again
        plans.append(plan)
    return min(plans, key=lambda plan: plan.objective)


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
        self.interval: dict = {}  # key -> the job's interval (optional on presence)
        tech_intervals: dict = {n: [] for n in range(len(tech_pools))}
        bay_intervals: dict = {n: [] for n in range(len(bay_pools))}
        cost, left_out = [], []
        for job in jobs:
            k, d = job.key, job.duration
            if job.fixed is not None:
                tech, bay, s = job.fixed
                self.present[k] = model.NewConstant(1)
                self.start[k] = model.NewConstant(s)
                self.interval[k] = model.NewFixedSizeIntervalVar(s, d, f"i{k}")
                if tech in self.tech_pool_of:
                    tech_intervals[self.tech_pool_of[tech]].append(self.interval[k])
                if bay in self.bay_pool_of:
                    bay_intervals[self.bay_pool_of[bay]].append(self.interval[k])
            else:
                usable = []
                for n, pool in enumerate(tech_pools):
                    if pool[0].can_do(job):
                        spans = _start_domain(pool[0].windows, d, lo[k], hi[k], horizon)
                        if spans:
                            usable.append((n, spans))
                starts = Domain.FromIntervals([span for _n, spans in usable for span in spans])
                self.start[k] = model.NewIntVarFromDomain(starts, f"s{k}")
                self.earliest[k] = starts.min()
                if all_in:
                    self.present[k] = model.NewConstant(1)
                    self.interval[k] = model.NewFixedSizeIntervalVar(self.start[k], d, f"i{k}")
                else:
                    self.present[k] = model.NewBoolVar(f"p{k}")
                    self.interval[k] = model.NewOptionalFixedSizeIntervalVar(
                        self.start[k], d, self.present[k], f"i{k}"
                    )
                    left_out.append(1 - self.present[k])
                self.tech_use[k] = []
                for n, spans in usable:
                    x = model.NewBoolVar(f"x{k}_{n}")
                    if len(usable) > 1:
                        own = Domain.FromIntervals(spans)
                        if own.size() < starts.size():
                            model.AddLinearExpressionInDomain(self.start[k], own).OnlyEnforceIf(x)
                    tech_intervals[n].append(
                        model.NewOptionalFixedSizeIntervalVar(self.start[k], d, x, f"t{k}_{n}")
                    )
                    self.tech_use[k].append((n, x))
                model.Add(sum(x for _n, x in self.tech_use[k]) == self.present[k])
                self.bay_use[k] = []
                for n, pool in enumerate(bay_pools):
                    if bay_fits(job.bay_kind, pool[0].kind):
                        y = model.NewBoolVar(f"y{k}_{n}")
                        bay_intervals[n].append(
                            model.NewOptionalFixedSizeIntervalVar(self.start[k], d, y, f"b{k}_{n}")
                        )
                        self.bay_use[k].append((n, y))
                model.Add(sum(y for _n, y in self.bay_use[k]) == self.present[k])
            # a job left out costs only its penalty, as in ``objective_of``
            optional = self.choosing and job.fixed is None
            if job.due is not None:
                least = 0 if optional else late_floor(job, lo[k])
                most = max(least, hi[k] + d - job.due)
                self.late[k] = model.NewIntVar(least, most, f"l{k}")
                if job.fixed is None:
                    model.Add(self.late[k] >= self.start[k] + d - job.due).OnlyEnforceIf(
                        self.present[k]
                    )
                cost.append(LATE_WEIGHT * self.late[k])
            if optional:
                self.end[k] = model.NewIntVar(0, hi[k] + d, f"e{k}")
                model.Add(self.end[k] >= self.start[k] + d).OnlyEnforceIf(self.present[k])
                cost.append(self.end[k])
            else:
                cost.append(self.start[k] + d)
        for pools, intervals in ((tech_pools, tech_intervals), (bay_pools, bay_intervals)):
            for n, pool in enumerate(pools):
                if len(intervals[n]) <= 1:
                    continue
                if len(pool) == 1:
                    model.AddNoOverlap(intervals[n])
                else:
                    model.AddCumulative(intervals[n], [1] * len(intervals[n]), len(pool))
        self._bay_energy(problem, bay_pools)
        self._cars(lo)
        by_key = {j.key: j for j in jobs}
        for job in jobs:
            for before in job.after:
                if before in by_key:
                    model.Add(
                        self.start[job.key] >= self.start[before] + by_key[before].duration
                    ).OnlyEnforceIf([self.present[job.key], self.present[before]])
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
                self.interval[j.key]
                for j in self.jobs
                if any(bay_fits(j.bay_kind, kind) for kind in group)
            ]
            workers = [t for t in problem.technicians if any(k in group for k in t.bay_kinds)]
            closed = [
                model.NewFixedSizeIntervalVar(s, e - s, f"closed{sorted(group)}{s}")
                for s, e in _off_shift(workers, problem.horizon)
            ]
            if len(items) > 1 and (closed or len(group) > 1):
                model.AddCumulative(items + closed, [1] * len(items) + [size] * len(closed), size)

    def _cars(self, lo):
        """One job of a car at a time; the car's ends add up at least as in shortest-first
        order from its arrival (a bound the relaxation lacks)."""
        model, by_car = self.model, {}
        for job in self.jobs:
            by_car.setdefault(job.group, []).append(job)
        for members in by_car.values():
            if len(members) <= 1:
                continue
            model.AddNoOverlap([self.interval[j.key] for j in members])
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
            if k in self.end:
                self.model.AddHint(self.end[k], s + job.duration)
            if k in self.late:
                self.model.AddHint(
                    self.late[k], max(late_floor(job, lo[k]), s + job.duration - job.due)
                )
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
        named = {k: [None, None, s, s + duration[k]] for k, (_t, _b, s) in plan.items()}
        for pools, index in ((self.tech_pools, 0), (self.bay_pools, 1)):
            for n, pool in enumerate(pools):
                items = [(k, a[2], a[2] + duration[k]) for k, a in plan.items() if a[index] == n]
                if items:
                    for k, member in _deal_out(pool, items).items():
                        named[k][index] = member
        for job in self.jobs:
            if job.fixed is not None:
                tech, bay, s = job.fixed
                named[job.key] = [tech, bay, s, s + job.duration]
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
    penalty of the jobs stage 1 proved cannot all be placed."""
    begun = time.perf_counter()
    if not problem.jobs:
        return Solution(status="empty")
    reasons = precheck(problem)
    jobs = [j for j in problem.jobs if j.key not in reasons]
    by_key = {j.key: j for j in jobs}
    lo, hi = _bounds(problem, by_key)
    hint = hint or heuristic(problem)
    fixed_techs = {j.fixed[0] for j in jobs if j.fixed is not None}
    fixed_bays = {j.fixed[1] for j in jobs if j.fixed is not None}
    tech_pools = _pools(
        problem.technicians,
        fixed_techs,
        lambda t: ("t", tuple(t.windows), t.bay_kinds, t.categories),
    )
    bay_pools = _pools(problem.bays, fixed_bays, lambda b: ("b", b.kind))
    free = [j for j in jobs if j.fixed is None]
    first: list[float] = []

    def on_first():
        if not first:
            first.append(time.perf_counter() - begun)

    def left():
        return time_limit - (time.perf_counter() - begun)

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
            fallback = hint
            fallback.seconds = time.perf_counter() - begun
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
    solution.first_seconds = first[0] if first else None
    solution.seconds = time.perf_counter() - begun
    return measure(problem, solution)


def late_floor(job: Job, earliest: int) -> int:
    return max(0, earliest + job.duration - job.due) if job.due is not None else 0


# ---------------------------------------------------------------- a second lower bound


def lp_bound(problem: Problem, *, max_slots: int = 200) -> int | None:
    """A lower bound of the objective from the time-indexed LP relaxation, independent of
    CP-SAT (``bench/day_plan.py`` reports both): one variable per job and possible start on
    the grid of the day's data (the greatest common divisor of every time and duration —
    a plan whose jobs all start as early as they can starts on it, so some best plan does),
    each job started once, and in every grid step

    - the jobs that fit only in bays of a set of kinds (and each pair of such sets) at most
      as many as those bays;
    - the jobs that only technicians of a set of pools can do at most as many as of them
      are on shift;
    - at most one job of a car;

    and each job's mean start after the mean end of the jobs it comes after. A job's cost
    at a start is its end plus the lateness weight, as in the objective. None when the
    grid is finer than ``horizon / max_slots`` (the LP would grow too large)."""
    from ortools.linear_solver import pywraplp

    reasons = precheck(problem)
    jobs = [j for j in problem.jobs if j.key not in reasons]
    by_key = {j.key: j for j in jobs}
    lo, hi = _bounds(problem, by_key)
    times = [problem.horizon]
    times += [w for t in problem.technicians for window in t.windows for w in window]
    for job in jobs:
        times += [job.duration, job.release, lo[job.key], job.due or 0]
        times += [job.fixed[2]] if job.fixed is not None else []
    grid = math.gcd(*times)
    if grid == 0 or problem.horizon / grid > max_slots:
        return None
    tech_pools = _pools(
        problem.technicians,
        {j.fixed[0] for j in jobs if j.fixed is not None},
        lambda t: ("t", tuple(t.windows), t.bay_kinds, t.categories),
    )
    kinds = sorted({b.kind for b in problem.bays})
    kind_of = {b.id: b.kind for b in problem.bays}
    lp = pywraplp.Solver.CreateSolver("GLOP")
    running: dict = {}  # (resource, step) -> [variables]
    cost, mean_end = [], {}
    for job in jobs:
        d = job.duration
        if job.fixed is not None:
            tech, bay, s = job.fixed
            starts = [s]
            fits = frozenset({kind_of.get(bay)})
            usable = frozenset()  # (a started job may run past its technician's shift)
        else:
            usable, starts = set(), set()
            for n, pool in enumerate(tech_pools):
                if pool[0].can_do(job):
                    for a, b in _start_domain(
                        pool[0].windows, d, lo[job.key], hi[job.key], problem.horizon
                    ):
                        usable.add(n)
                        starts.update(range(a, b + 1, grid))
            starts, usable = sorted(starts), frozenset(usable)
            fits = frozenset(k for k in kinds if bay_fits(job.bay_kind, k))
        chosen = []
        for s in starts:
            x = lp.NumVar(0, 1, "")
            end = s + d
            late = LATE_WEIGHT * max(0, end - job.due) if job.due is not None else 0
            cost.append((end + late) * x)
            chosen.append((s, x))
            for step in range(s, end, grid):
                running.setdefault(("bay", fits, step), []).append(x)
                if usable:
                    running.setdefault(("tech", usable, step), []).append(x)
                running.setdefault(("car", job.group, step), []).append(x)
        lp.Add(sum(x for _s, x in chosen) == 1)
        mean_end[job.key] = sum((s + d) * x for s, x in chosen)
    for job in jobs:
        for before in job.after:
            if before in by_key:
                lp.Add(mean_end[job.key] - job.duration >= mean_end[before])
    steps = range(0, problem.horizon, grid)
    bay_sets = {key[1] for key in running if key[0] == "bay"}
    for kinds_in in bay_sets | {a | b for a in bay_sets for b in bay_sets}:
        size = sum(1 for b in problem.bays if b.kind in kinds_in)
        for step in steps:
            xs = [x for f in bay_sets if f <= kinds_in for x in running.get(("bay", f, step), ())]
            if len(xs) > size:
                lp.Add(sum(xs) <= size)
    tech_sets = {key[1] for key in running if key[0] == "tech"}
    for pools_in in tech_sets | {frozenset(range(len(tech_pools)))}:
        for step in steps:
            on_shift = sum(
                len(tech_pools[n])
                for n in pools_in
                if any(a <= step and step + grid <= b for a, b in tech_pools[n][0].windows)
            )
            xs = [x for u in tech_sets if u <= pools_in for x in running.get(("tech", u, step), ())]
            if len(xs) > on_shift:
                lp.Add(sum(xs) <= on_shift)
    for key, xs in running.items():
        if key[0] == "car" and len(xs) > 1:
            lp.Add(sum(xs) <= 1)
    lp.Minimize(sum(cost))
    if lp.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    # GLOP's optimum is within its tolerance: round down
    return int(math.floor(lp.Objective().Value() - 1e-4)) + UNPLACED * len(reasons)
