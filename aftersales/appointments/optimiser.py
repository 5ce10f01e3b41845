"""The day-plan optimiser (SPEC §3): put a workshop day's jobs on technicians and bays.

Pure Python over minutes from the day's opening, no database: ``dayplan`` builds the
``Problem`` from repair orders and bookings and writes the ``Solution`` back.

Rules every plan keeps: a job goes to one technician skilled for it (bay kind and
operation categories) within one of their working windows, and to one bay of a fitting
kind (a quick-service job may use a general bay); a technician, a bay and a car (the
``group``) do one job at a time; a job starts after its ``release`` (the car is there) and
after the jobs it comes ``after`` (e.g. wheel alignment after suspension work); pinned and
started jobs stay where they are.

Objective (minimised): ``UNPLACED`` per job left out (only when the day cannot take it),
plus ``LATE_WEIGHT`` × the minutes each job ends after its due time, plus the sum of the
jobs' end times (total completion time: it packs the work early, which keeps technicians'
gaps — idle time — small and leaves the afternoon free for walk-ins).

``solve`` uses Google OR-Tools CP-SAT, hinted with the ``greedy`` plan (first come, first
served: each job in arrival order to the earliest free skilled technician and bay), which
is also the baseline the figures compare with.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

UNPLACED = 1_000_000
LATE_WEIGHT = 20

# why a job cannot be placed at all (checked before solving)
NO_BAY = "no_bay"
NO_TECHNICIAN = "no_technician"
NO_WINDOW = "no_window"
WAITS_FOR_UNPLACED = "waits_for_unplaced"
NO_ROOM = "no_room"  # placeable alone, but the day is full

BAY_FITS = {"quick": ("quick", "general")}


def bay_fits(needed: str, kind: str) -> bool:
    return kind in BAY_FITS.get(needed, (needed,))


@dataclass(frozen=True)
class Job:
    key: str
    duration: int  # minutes
    bay_kind: str = "general"
    categories: frozenset = frozenset()
    release: int = 0  # earliest start
    due: int | None = None  # promised end
    group: str = ""  # the car: its jobs never overlap
    after: tuple = ()  # keys of jobs that must end first
    fixed: tuple | None = None  # (technician, bay, start): pinned or already started


@dataclass(frozen=True)
class Technician:
    id: int
    windows: tuple  # ((start, end), ...) minutes
    bay_kinds: frozenset = frozenset()
    categories: frozenset = frozenset()

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
    horizon: int  # minutes the plan may reach (the day's closing, or later for overtime)


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
    bound: int | None = None
    seconds: float = 0.0
    first_seconds: float | None = None  # when CP-SAT found its first plan


def _fits(window, job, start_from=0) -> bool:
    start, end = window
    return end - max(start, job.release, start_from) >= job.duration


def precheck(problem: Problem) -> dict:
    """The jobs that cannot be placed whatever the others do, with the reason."""
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
        if not any(_fits(w, job) and w[1] <= problem.horizon for t in skilled for w in t.windows):
            reasons[job.key] = NO_WINDOW
    keys = {job.key for job in problem.jobs}
    changed = True
    while changed:  # a job waiting for an unplaceable one cannot be placed either
        changed = False
        for job in problem.jobs:
            if job.key in reasons or job.fixed is not None:
                continue
            if any(k in reasons or k not in keys for k in job.after):
                reasons[job.key] = WAITS_FOR_UNPLACED
                changed = True
    return reasons


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
    on_shift = sum(end - start for t in problem.technicians for start, end in t.windows)
    busy = sum(end - start for spans in worked.values() for start, end in spans)
    idle = 0
    for spans in worked.values():
        spans.sort()
        idle += (spans[-1][1] - spans[0][0]) - sum(end - start for start, end in spans)
    solution.idle_minutes = idle
    solution.utilisation = round(busy / on_shift, 4) if on_shift else 0.0
    return solution


# ---------------------------------------------------------------- greedy baseline


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


def greedy(problem: Problem) -> Solution:
    """First come, first served: jobs in order of release (then due time), each to the
    skilled technician and fitting bay where it can start earliest."""
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
    pending.sort(key=lambda j: (j.release, j.due if j.due is not None else 10**9, j.key))
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
                            best = (t, tech.id, free_bays[0].id)
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


def objective_of(problem: Problem, solution: Solution) -> int:
    jobs = {job.key: job for job in problem.jobs}
    total = UNPLACED * len(solution.unplaced)
    for key, (_t, _b, _s, end) in solution.assignments.items():
        due = jobs[key].due
        total += end + (LATE_WEIGHT * max(0, end - due) if due is not None else 0)
    return total


# ---------------------------------------------------------------- CP-SAT


def solve(
    problem: Problem,
    *,
    time_limit: float = 2.0,
    workers: int = 8,
    seed: int = 0,
    hint: Solution | None = None,
) -> Solution:
    """The best plan CP-SAT finds within ``time_limit`` seconds (hinted with the greedy
    plan). Jobs that cannot be placed at all are left out with their reason first; the
    rest may still be left out (``no_room``) when the day is full, never making the model
    infeasible."""
    from ortools.sat.python import cp_model

    begun = time.perf_counter()
    if not problem.jobs:
        return Solution(status="empty")
    reasons = precheck(problem)
    hint = hint or greedy(problem)
    model = cp_model.CpModel()
    horizon = problem.horizon
    jobs = [j for j in problem.jobs if j.key not in reasons]
    present, start, end, late = {}, {}, {}, {}
    tech_intervals: dict = {t.id: [] for t in problem.technicians}
    bay_intervals: dict = {b.id: [] for b in problem.bays}
    group_intervals: dict = {}
    tech_choice: dict = {}
    bay_choice: dict = {}
    objective = []
    for job in jobs:
        k = job.key
        if job.fixed is not None:
            tech, bay, s = job.fixed
            present[k] = model.NewBoolVar(f"p{k}")
            model.Add(present[k] == 1)
            start[k] = model.NewConstant(s)
            end[k] = model.NewConstant(s + job.duration)
            interval = model.NewFixedSizeIntervalVar(s, job.duration, f"i{k}")
            tech_intervals.setdefault(tech, []).append(interval)
            bay_intervals.setdefault(bay, []).append(interval)
            group_intervals.setdefault(job.group, []).append(interval)
            tech_choice[k] = {tech: present[k]}
            bay_choice[k] = {bay: present[k]}
        else:
            lo = job.release
            hi = max(lo, horizon - job.duration)
            present[k] = model.NewBoolVar(f"p{k}")
            start[k] = model.NewIntVar(lo, hi, f"s{k}")
            end[k] = model.NewIntVar(lo + job.duration, hi + job.duration, f"e{k}")
            interval = model.NewOptionalIntervalVar(
                start[k], job.duration, end[k], present[k], f"i{k}"
            )
            group_intervals.setdefault(job.group, []).append(interval)
            choices = {}
            for tech in problem.technicians:
                if not tech.can_do(job):
                    continue
                for w, window in enumerate(tech.windows):
                    if not _fits(window, job) or window[0] >= horizon:
                        continue
                    x = model.NewBoolVar(f"x{k}_{tech.id}_{w}")
                    model.Add(start[k] >= window[0]).OnlyEnforceIf(x)
                    model.Add(end[k] <= min(window[1], horizon)).OnlyEnforceIf(x)
                    tech_intervals[tech.id].append(
                        model.NewOptionalFixedSizeIntervalVar(
                            start[k], job.duration, x, f"t{k}_{tech.id}_{w}"
                        )
                    )
                    choices.setdefault(tech.id, []).append(x)
            flat = [x for xs in choices.values() for x in xs]
            model.Add(sum(flat) == present[k])
            tech_choice[k] = choices
            bays = {}
            for bay in problem.bays:
                if not bay_fits(job.bay_kind, bay.kind):
                    continue
                y = model.NewBoolVar(f"y{k}_{bay.id}")
                bay_intervals[bay.id].append(
                    model.NewOptionalFixedSizeIntervalVar(
                        start[k], job.duration, y, f"b{k}_{bay.id}"
                    )
                )
                bays[bay.id] = y
            model.Add(sum(bays.values()) == present[k])
            bay_choice[k] = bays
            objective.append(UNPLACED * (1 - present[k]))
        if job.due is not None:
            late[k] = model.NewIntVar(0, horizon + job.duration, f"l{k}")
            model.Add(late[k] >= end[k] - job.due).OnlyEnforceIf(present[k])
            objective.append(LATE_WEIGHT * late[k])
        # an absent job's end is free: count it at its earliest to keep the sum tight
        objective.append(end[k])
    for intervals in (*tech_intervals.values(), *bay_intervals.values(), *group_intervals.values()):
        if len(intervals) > 1:
            model.AddNoOverlap(intervals)
    placed = {j.key for j in jobs}
    for job in jobs:
        for before in job.after:
            if before not in placed:
                continue
            model.Add(start[job.key] >= end[before]).OnlyEnforceIf(
                [present[job.key], present[before]]
            )
            model.AddImplication(present[job.key], present[before])
    model.Minimize(sum(objective))
    # the greedy plan as the starting point
    for job in jobs:
        if job.fixed is not None:
            continue
        k = job.key
        assigned = hint.assignments.get(k)
        model.AddHint(present[k], 1 if assigned else 0)
        s = assigned[2] if assigned else job.release
        model.AddHint(start[k], s)
        model.AddHint(end[k], s + job.duration)
        if k in late:
            model.AddHint(late[k], max(0, s + job.duration - job.due) if assigned else 0)
        if not assigned:
            for xs in tech_choice[k].values():
                for x in xs:
                    model.AddHint(x, 0)
            for y in bay_choice[k].values():
                model.AddHint(y, 0)
        else:
            tech, bay, s, _e = assigned
            for t_id, xs in tech_choice[k].items():
                for w_index, x in enumerate(xs):
                    model.AddHint(
                        x,
                        1
                        if (t_id == tech and w_index == _window_index(problem, t_id, job, s, xs))
                        else 0,
                    )
            for b_id, y in bay_choice[k].items():
                model.AddHint(y, 1 if b_id == bay else 0)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    # presolve costs seconds on a day's model (thousands of optional intervals) and gains
    # little here: without it the hinted plan is there at once and search starts from it
    solver.parameters.cp_model_presolve = False
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
        objective=int(solver.ObjectiveValue()),
        bound=int(solver.BestObjectiveBound()),
        first_seconds=first[0] if first else None,
    )
    for job in jobs:
        k = job.key
        if not solver.Value(present[k]):
            solution.unplaced[k] = NO_ROOM
            continue
        tech = next(
            t
            for t, xs in tech_choice[k].items()
            if any(solver.Value(x) for x in (xs if isinstance(xs, list) else [xs]))
        )
        bay = next(b for b, y in bay_choice[k].items() if solver.Value(y))
        s = solver.Value(start[k])
        solution.assignments[k] = (tech, bay, s, s + job.duration)
    # jobs only the precheck left out still count in the objective the solver reported
    solution.objective += UNPLACED * len(reasons)
    solution.bound += UNPLACED * len(reasons)
    solution.seconds = time.perf_counter() - begun
    return measure(problem, solution)


def _window_index(problem, tech_id, job, start, xs) -> int:
    """Which of the technician's usable windows (in the order their choice variables were
    made) holds ``start``."""
    tech = next(t for t in problem.technicians if t.id == tech_id)
    usable = [w for w in tech.windows if _fits(w, job) and w[0] < problem.horizon]
    for index, (w_start, w_end) in enumerate(usable):
        if w_start <= start and start + job.duration <= w_end:
            return index
    return -1
