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

``solve`` uses Google OR-Tools CP-SAT, started from the best of a few list-scheduling
plans (``heuristic``); ``greedy`` is first come, first served (each job in arrival order
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
import time
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
    """The earliest time >= start at which [t, t+duration) misses every span."""
    t = start
    for s, e in sorted(spans):
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
            tech_spans.setdefault(tech, []).append((start, end))
            bay_spans.setdefault(bay, []).append((start, end))
            group_spans.setdefault(job.group, []).append((start, end))
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
                while t + job.duration <= min(w_end, problem.horizon):
                    t2 = _free_from(tech_spans[tech.id], t, job.duration)
                    t2 = _free_from(group_spans.get(job.group, []), t2, job.duration)
                    if t2 != t:
                        t = t2
                        continue
                    free_bays = [
                        b for b in bays if _free_from(bay_spans[b.id], t, job.duration) == t
                    ]
                    if free_bays:
                        if best is None or t < best[0]:
                            # a quick job takes a quick bay before a general one
                            bay = min(free_bays, key=lambda b: b.kind != job.bay_kind)
                            best = (t, tech.id, bay.id)
                        break
                    t = min(_free_from(bay_spans[b.id], t, job.duration) for b in bays)
        if best is None:
            solution.unplaced[job.key] = NO_ROOM
            continue
        start, tech, bay = best
        end = start + job.duration
        solution.assignments[job.key] = (tech, bay, start, end)
        tech_spans[tech].append((start, end))
        bay_spans[bay].append((start, end))
        group_spans.setdefault(job.group, []).append((start, end))
        ends[job.key] = end
    if not problem.jobs:
        solution.status = "empty"
    solution.seconds = time.perf_counter() - begun
    solution.objective = objective_of(problem, solution)
    return measure(problem, solution)


def heuristic(problem: Problem) -> Solution:
    """The best of the list-scheduling plans by first come, earliest due and least slack:
    CP-SAT's starting point."""
    plans = [greedy(problem, order) for order in (first_come, earliest_due, least_slack)]
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


def solve(
    problem: Problem,
    *,
    time_limit: float = 2.0,
    workers: int = 8,
    seed: int = 0,
    hint: Solution | None = None,
    parameters: dict | None = None,
) -> Solution:
    """The best plan CP-SAT finds within ``time_limit`` seconds, started from the best of
    the list-scheduling plans (``heuristic``). Jobs that cannot be placed at all are left
    out with their reason first; the rest may still be left out (``no_room``) when the day
    is full, never making the model infeasible."""
    from ortools.sat.python import cp_model
    from ortools.util.python.sorted_interval_list import Domain

    begun = time.perf_counter()
    if not problem.jobs:
        return Solution(status="empty")
    reasons = precheck(problem)
    jobs = [j for j in problem.jobs if j.key not in reasons]
    by_key = {j.key: j for j in jobs}
    lo, hi = _bounds(problem, by_key)
    hint = hint or heuristic(problem)
    horizon = problem.horizon
    fixed_techs = {j.fixed[0] for j in jobs if j.fixed is not None}
    fixed_bays = {j.fixed[1] for j in jobs if j.fixed is not None}
    tech_pools = _pools(
        problem.technicians,
        fixed_techs,
        lambda t: ("t", tuple(t.windows), t.bay_kinds, t.categories),
    )
    bay_pools = _pools(problem.bays, fixed_bays, lambda b: ("b", b.kind))
    tech_pool_of = {t.id: n for n, pool in enumerate(tech_pools) for t in pool}
    bay_pool_of = {b.id: n for n, pool in enumerate(bay_pools) for b in pool}

    model = cp_model.CpModel()
    present, start, late = {}, {}, {}
    tech_use: dict = {n: [] for n in range(len(tech_pools))}  # pool -> [(key, var)]
    bay_use: dict = {n: [] for n in range(len(bay_pools))}
    tech_intervals: dict = {n: [] for n in range(len(tech_pools))}
    bay_intervals: dict = {n: [] for n in range(len(bay_pools))}
    group_intervals: dict = {}
    objective = []
    for job in jobs:
        k, d = job.key, job.duration
        if job.fixed is not None:
            tech, bay, s = job.fixed
            present[k] = model.NewConstant(1)
            start[k] = model.NewConstant(s)
            interval = model.NewFixedSizeIntervalVar(s, d, f"i{k}")
            if tech in tech_pool_of:
                tech_intervals[tech_pool_of[tech]].append(interval)
            if bay in bay_pool_of:
                bay_intervals[bay_pool_of[bay]].append(interval)
            group_intervals.setdefault(job.group, []).append(interval)
        else:
            present[k] = model.NewBoolVar(f"p{k}")
            usable = []
            for n, pool in enumerate(tech_pools):
                if not pool[0].can_do(job):
                    continue
                spans = _start_domain(pool[0].windows, d, lo[k], hi[k], horizon)
                if spans:
                    usable.append((n, spans))
            starts = Domain.FromIntervals([span for _n, spans in usable for span in spans])
            start[k] = model.NewIntVarFromDomain(starts, f"s{k}")
            for n, spans in usable:
                x = model.NewBoolVar(f"x{k}_{n}")
                if len(usable) > 1:
                    own = Domain.FromIntervals(spans)
                    if own.size() < starts.size():
                        model.AddLinearExpressionInDomain(start[k], own).OnlyEnforceIf(x)
                tech_intervals[n].append(
                    model.NewOptionalFixedSizeIntervalVar(start[k], d, x, f"t{k}_{n}")
                )
                tech_use[n].append((k, x))
            xs = [x for n, _spans in usable for kk, x in tech_use[n] if kk == k]
            model.Add(sum(xs) == present[k])
            ys = []
            for n, pool in enumerate(bay_pools):
                if not bay_fits(job.bay_kind, pool[0].kind):
                    continue
                y = model.NewBoolVar(f"y{k}_{n}")
                bay_intervals[n].append(
                    model.NewOptionalFixedSizeIntervalVar(start[k], d, y, f"b{k}_{n}")
                )
                bay_use[n].append((k, y))
                ys.append(y)
            model.Add(sum(ys) == present[k])
            group_intervals.setdefault(job.group, []).append(
                model.NewOptionalFixedSizeIntervalVar(start[k], d, present[k], f"g{k}")
            )
            objective.append(UNPLACED * (1 - present[k]))
        if job.due is not None:
            least = max(0, lo[k] + d - job.due)
            most = max(least, hi[k] + d - job.due)
            late[k] = model.NewIntVar(least, most, f"l{k}")
            if job.fixed is None:
                model.Add(late[k] >= start[k] + d - job.due).OnlyEnforceIf(present[k])
            objective.append(LATE_WEIGHT * late[k])
        # the end of a job; an absent job's stays at its earliest (a constant then)
        objective.append(start[k] + d)
    for pools, intervals in ((tech_pools, tech_intervals), (bay_pools, bay_intervals)):
        for n, pool in enumerate(pools):
            items = intervals[n]
            if len(items) <= 1:
                continue
            if len(pool) == 1:
                model.AddNoOverlap(items)
            else:
                model.AddCumulative(items, [1] * len(items), len(pool))
    for group, items in group_intervals.items():
        if len(items) > 1:
            model.AddNoOverlap(items)
            members = [j for j in jobs if j.group == group]
            # one car's jobs one after the other: their ends add up at least as in
            # shortest-first order from the car's arrival (a bound the relaxation lacks)
            free = [j for j in members if j.fixed is None]
            if len(free) == len(members):
                durations = sorted(j.duration for j in members)
                arrival = min(lo[j.key] for j in members)
                least, t = 0, arrival
                for duration in durations:
                    t += duration
                    least += t
                model.Add(sum(start[j.key] + j.duration for j in members) >= least).OnlyEnforceIf(
                    [present[j.key] for j in members]
                )
    for job in jobs:
        for before in job.after:
            if before not in by_key:
                continue
            model.Add(start[job.key] >= start[before] + by_key[before].duration).OnlyEnforceIf(
                [present[job.key], present[before]]
            )
            if job.fixed is None:
                model.AddImplication(present[job.key], present[before])
    model.Minimize(sum(objective))

    # the heuristic plan as the starting point
    for job in jobs:
        if job.fixed is not None:
            continue
        k = job.key
        assigned = hint.assignments.get(k)
        model.AddHint(present[k], 1 if assigned else 0)
        s = assigned[2] if assigned else lo[k]
        model.AddHint(start[k], s)
        if k in late:
            model.AddHint(
                late[k],
                max(late_floor(job, lo[k]), s + job.duration - job.due)
                if assigned
                else late_floor(job, lo[k]),
            )
        tech_pool = tech_pool_of.get(assigned[0]) if assigned else None
        bay_pool = bay_pool_of.get(assigned[1]) if assigned else None
        for n, uses in tech_use.items():
            for kk, x in uses:
                if kk == k:
                    model.AddHint(x, 1 if n == tech_pool else 0)
        for n, uses in bay_use.items():
            for kk, y in uses:
                if kk == k:
                    model.AddHint(y, 1 if n == bay_pool else 0)

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    # the LP relaxation with the scheduling cuts: proves small days optimal fast and
    # tightens the bound of large ones
    solver.parameters.linearization_level = 2
    for name, value in (parameters or {}).items():
        setattr(solver.parameters, name, value)
    first: list[float] = []

    class _First(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self):
            if not first:
                first.append(time.perf_counter() - begun)

    status = solver.Solve(model, _First())
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        fallback = hint
        fallback.seconds = time.perf_counter() - begun
        return fallback
    solution = Solution(
        status="optimal" if status == cp_model.OPTIMAL else "feasible",
        unplaced=dict(reasons),
        objective=int(round(solver.ObjectiveValue())),
        bound=int(math.ceil(solver.BestObjectiveBound() - 1e-6)),
        first_seconds=first[0] if first else None,
    )
    placed = {}
    for job in jobs:
        k = job.key
        if job.fixed is not None:
            tech, bay, s = job.fixed
            solution.assignments[k] = (tech, bay, s, s + job.duration)
            continue
        if not solver.Value(present[k]):
            solution.unplaced[k] = NO_ROOM
            continue
        s = solver.Value(start[k])
        t_pool = next(
            n for n, uses in tech_use.items() for kk, x in uses if kk == k and solver.Value(x)
        )
        b_pool = next(
            n for n, uses in bay_use.items() for kk, y in uses if kk == k and solver.Value(y)
        )
        placed[k] = (t_pool, b_pool, s, s + job.duration)
    for pools, index in ((tech_pools, 0), (bay_pools, 1)):
        for n, pool in enumerate(pools):
            items = [(k, a[2], a[3]) for k, a in placed.items() if a[index] == n]
            if not items:
                continue
            dealt = _deal_out(pool, items)
            for k, member in dealt.items():
                entry = list(placed[k])
                entry[index] = ("member", member)
                placed[k] = tuple(entry)
    for k, (tech, bay, s, e) in placed.items():
        solution.assignments[k] = (tech[1], bay[1], s, e)
    # jobs only the precheck left out still count in the objective
    solution.objective += UNPLACED * len(reasons)
    solution.bound += UNPLACED * len(reasons)
    solution.seconds = time.perf_counter() - begun
    return measure(problem, solution)


def late_floor(job: Job, earliest: int) -> int:
    return max(0, earliest + job.duration - job.due) if job.due is not None else 0
