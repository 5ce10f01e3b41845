"""Day-plan optimiser figures (issue 7): a synthetic workshop day of 150 jobs, 30
technicians and 20 bays. Prints the CP-SAT plan at 2 s (time to the first plan, objective,
lateness, utilisation, idle), the best bound CP-SAT proves in 30 s — on the plan model and
on the time-indexed relaxation of the day (``lp_bound(solver="CP-SAT")``), whose optimum
no plan can undercut — and the gap, the time-indexed LP bound (GLOP) and the gap to the
best bound known, and the first-come-first-served greedy plan on the same day.

Each solve gets its whole time (the list schedules it starts from included, and the
reworking of the best of them that runs beside CP-SAT); OR-Tools is imported before, as in
a running server. "best list schedule" is ``heuristic`` without a time limit: every list
schedule, then ``IMPROVE_STEPS`` changes of the best.

    .venv/bin/python bench/day_plan.py [--jobs 150] [--seed 7] [--long 30] [--busy]
        [--no-lunch-span] [--repeat 5]

``--repeat N``: N more short solves with the solver's random seeds 1..N (the reworking's
moves are drawn at random, so one solve is one draw of a spread), each gap printed with
the mean and the worst.

Jobs may run over the technicians' lunch break (the car stays in its bay, the job ends an
hour later); ``--no-lunch-span`` plans the same day with the rule before (a job waits
until after lunch when it does not fit before it).

Pure optimiser: no database. Machine details are printed with the figures.
"""

import argparse
import os
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aftersales.appointments.optimiser import (  # noqa: E402
    Bay,
    Job,
    Problem,
    Technician,
    greedy,
    heuristic,
    lp_bound,
    solve,
)

DAY = 570  # 08:30-18:00
LUNCH = (210, 270)  # 12:00-13:00
BAYS = ["general"] * 10 + ["quick"] * 4 + ["alignment"] + ["body"] * 2 + ["paint"] + ["ev"] * 2
# arrival times (minutes after opening): most cars by appointment through the morning and
# early afternoon, a few waiting at the door; --busy brings them all in the morning
ARRIVALS = [0, 0, 15, 30, 45, 60, 90, 120, 150, 180, 210, 240, 270, 300, 330]
BUSY_ARRIVALS = [0, 0, 0, 15, 30, 30, 45, 60, 60, 90, 120, 150, 180, 240, 270, 300]
CATEGORIES = {
    "quick": ["maintenance"],
    "general": ["diagnosis", "engine", "chassis", "electrical"],
    "alignment": ["chassis"],
    "body": ["body"],
    "paint": ["body"],
    "ev": ["hv"],
}


def day(jobs: int, seed: int, busy: bool = False, over_lunch: bool = True) -> Problem:
    rng = random.Random(seed)
    technicians = []
    for t in range(30):
        if t < 10:  # quick-service and general mechanics
            kinds, cats = {"quick", "general"}, {"maintenance", "diagnosis", "engine"}
        elif t < 18:
            kinds = {"general", "alignment"}
            cats = {"diagnosis", "engine", "chassis", "electrical", "maintenance"}
        elif t < 22:
            kinds, cats = {"body", "paint"}, {"body"}
        elif t < 25:
            kinds, cats = {"ev", "general"}, {"hv", "electrical", "diagnosis"}
        else:  # all-round masters
            kinds, cats = set(CATEGORIES), set()
        if t % 7 == 3:  # a half shift
            windows = ((0, LUNCH[0]),)
        elif t % 11 == 5:  # starts late
            windows = ((120, LUNCH[0]), (LUNCH[1], DAY))
        else:
            windows = ((0, LUNCH[0]), (LUNCH[1], DAY))
        # a job may run over the lunch break (the car stays in its bay); --no-lunch-span:
        # it may not (the rule before)
        breaks = (LUNCH,) if over_lunch and len(windows) > 1 else ()
        technicians.append(
            Technician(t + 1, windows, frozenset(kinds), frozenset(cats), breaks=breaks)
        )
    bays = [Bay(100 + i, kind) for i, kind in enumerate(BAYS)]
    made = []
    car = 0
    while len(made) < jobs:
        car += 1
        release = rng.choice(BUSY_ARRIVALS if busy else ARRIVALS)
        count = min(jobs - len(made), rng.choice([1, 1, 2, 2, 2, 3]))
        previous = []
        total = 0
        for n in range(count):
            kind = rng.choices(
                ["quick", "general", "alignment", "body", "paint", "ev"],
                weights=[36, 38, 12, 6, 3, 5],
            )[0]
            if kind == "alignment" and not previous:
                kind = "general"
            duration = {
                "quick": rng.choice([20, 30, 30, 45]),
                "general": rng.choice([30, 45, 60, 60, 90]),
                "alignment": 40,
                "body": rng.choice([60, 90, 120]),
                "paint": rng.choice([60, 90]),
                "ev": rng.choice([45, 60, 90]),
            }[kind]
            total += duration
            after = tuple(previous[-1:]) if kind in ("alignment", "paint") and previous else ()
            key = f"c{car}j{n}"
            made.append(
                Job(
                    key=key,
                    duration=duration,
                    bay_kind=kind,
                    categories=frozenset([rng.choice(CATEGORIES[kind])]),
                    release=release,
                    group=f"c{car}",
                    after=after,
                    due=None,  # set below from the car's total work
                )
            )
            previous.append(key)
        # the advisor promises the work plus a buffer, and takes no car that cannot be
        # done by closing: a late arrival is received earlier in the day's list
        release = max(0, min(release, DAY - total - 60))
        due = min(DAY, release + total + rng.choice([60, 90, 120, 180, 240]))
        made[-count:] = [
            Job(**{**j.__dict__, "release": release, "due": due}) for j in made[-count:]
        ]
    return Problem(made, technicians, bays, horizon=DAY)


def cpu() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def line(name, s):
    print(
        f"{name:<22} placed {len(s.assignments):>3}  unplaced {len(s.unplaced):>2}  "
        f"late {s.late_minutes:>5} min ({s.late_jobs:>2} jobs)  utilisation {s.utilisation:6.1%}  "
        f"idle {s.idle_minutes:>5} min  objective {s.objective}  "
        f"bound {s.bound}  {s.seconds:5.2f} s"
    )


def load() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=150)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--short", type=float, default=2.0)
    parser.add_argument("--long", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--busy", action="store_true", help="all cars arrive in the morning")
    parser.add_argument("--repeat", type=int, default=5, help="more short solves, other seeds")
    parser.add_argument(
        "--no-lunch-span",
        action="store_true",
        help="jobs may not run over the technicians' lunch break (the rule before)",
    )
    args = parser.parse_args()
    problem = day(args.jobs, args.seed, busy=args.busy, over_lunch=not args.no_lunch_span)
    print(
        f"machine: {os.cpu_count()} CPUs, {cpu()}, Python {platform.python_version()}; "
        f"data: {len(problem.jobs)} jobs ({len({j.group for j in problem.jobs})} cars), "
        f"{len(problem.technicians)} technicians, {len(problem.bays)} bays, "
        f"day {problem.horizon} min"
    )
    import ortools.sat.python.cp_model  # noqa: F401  (loaded in a running server)

    print(f"load average before: {load()}")
    base = greedy(problem)
    line("greedy (FCFS)", base)
    begun = time.perf_counter()
    start = heuristic(problem)
    start.seconds = time.perf_counter() - begun  # all the list schedules, not the best one
    line("best list schedule", start)
    short = solve(problem, time_limit=args.short, workers=args.workers)
    line(f"solve {args.short:g} s", short)
    if short.first_seconds is not None:
        print(f"  CP-SAT's first plan after {short.first_seconds:.2f} s")
    long = solve(problem, time_limit=args.long, workers=args.workers)
    line(f"solve {args.long:g} s", long)
    model_bound = max(b for b in (long.bound, short.bound, 1) if b is not None)
    gap = (short.objective - model_bound) / model_bound
    print(f"gap of the {args.short:g}-s plan to the plan model's {args.long:g}-s bound: {gap:.2%}")
    # CP-SAT on a second model of the same day: the time-indexed relaxation with whole
    # starts; the bound it proves holds for every plan of the day, like the plan model's
    begun = time.perf_counter()
    relaxed = lp_bound(problem, solver="CP-SAT", seconds=args.long)
    print(
        f"CP-SAT {args.long:g} s on the time-indexed relaxation: bound {relaxed} "
        f"({time.perf_counter() - begun:.1f} s, model built and solved)"
    )
    best_bound = max(b for b in (model_bound, relaxed, 1) if b is not None)
    gap = (short.objective - best_bound) / best_bound
    print(
        f"gap of the {args.short:g}-s plan to the best bound CP-SAT proves in "
        f"{args.long:g} s ({best_bound}): {gap:.2%}"
    )
    if args.repeat:
        gaps = [gap]
        for seed in range(1, args.repeat + 1):
            again = solve(problem, time_limit=args.short, workers=args.workers, seed=seed)
            gaps.append((again.objective - best_bound) / best_bound)
            print(
                f"  seed {seed}: objective {again.objective}, {len(again.unplaced)} left out, "
                f"{again.seconds:.2f} s, gap {gaps[-1]:.2%}"
            )
        print(
            f"gap of the {args.short:g}-s plans over seeds 0-{args.repeat}: "
            f"mean {sum(gaps) / len(gaps):.2%}, worst {max(gaps):.2%}, best {min(gaps):.2%}"
        )
    best = min(short.objective, long.objective)
    print(
        f"gap of the {args.short:g}-s plan to the best plan found ({args.long:g} s): "
        f"{(short.objective - best) / best:.2%}; "
        f"{args.long:g}-s plan to its own bound: {(long.objective - best_bound) / best_bound:.2%}"
    )
    lp = lp_bound(problem)
    if lp is not None:
        known = max(lp, best_bound)
        print(
            f"time-indexed LP bound: {lp}; gap to the best bound known ({known}): "
            f"{args.short:g}-s plan {(short.objective - known) / known:.2%}, "
            f"{args.long:g}-s plan {(long.objective - known) / known:.2%}"
        )
    print(
        f"vs greedy: placed {len(base.assignments)} -> {len(short.assignments)}, "
        f"lateness {base.late_minutes} -> {short.late_minutes} min, "
        f"utilisation {base.utilisation:.1%} -> {short.utilisation:.1%}, "
        f"idle {base.idle_minutes} -> {short.idle_minutes} min"
    )
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
