"""The list schedules' board (one bit per minute of each calendar) against a search minute
by minute: the same start, technician and bay for every job on random half-filled days,
with shifts starting before opening, lunch breaks, pinned jobs and shared cars."""

import random

from aftersales.appointments import optimiser
from aftersales.appointments.optimiser import Bay, Job, Problem, Solution, Technician


def test_runs_are_the_starts_of_that_many_free_minutes_in_a_row():
    rng = random.Random(3)
    for _ in range(300):
        free = rng.getrandbits(60) | rng.getrandbits(60)  # mostly free
        width = rng.randint(1, 20)
        runs = optimiser._runs(free, width)
        for start in range(60):
            expected = all(free >> (start + i) & 1 for i in range(width))
            assert bool(runs >> start & 1) == expected, (bin(free), width, start)


def _busy(spans, start, end):
    return any(s < end and start < e for s, e in spans)


def _by_hand(board, job):
    """The earliest (start, technician, bay, end), minute by minute through the spans; a
    quick job in a quick bay when one is free within the wait."""
    everywhere = _by_hand_in(board, job, lambda kind: optimiser.bay_fits(job.bay_kind, kind))
    if everywhere is None or board.setup.kind[everywhere[2]] == job.bay_kind:
        return everywhere
    own = _by_hand_in(board, job, lambda kind: kind == job.bay_kind)
    if own is not None and own[0] <= everywhere[0] + optimiser.OWN_BAY_WAIT:
        return own
    return everywhere


def _by_hand_in(board, job, fits):
    problem = board.problem
    spans = {"t": {}, "b": {}, "g": {}}
    jobs = {j.key: j for j in problem.jobs}
    for key, (tech, bay, start, end) in board.solution.assignments.items():
        spans["t"].setdefault(tech, []).append((start, end))
        spans["b"].setdefault(bay, []).append((start, end))
        spans["g"].setdefault(jobs[key].group, []).append((start, end))
    earliest = max([job.release, *(board.ends[k] for k in job.after)])
    bays = [b for b in problem.bays if fits(b.kind)]
    best = None
    for tech in problem.technicians:
        if not tech.can_do(job):
            continue
        for first, last, pause in tech.segments(job.duration, problem.horizon):
            for start in range(max(earliest, first), last + 1):
                if best is not None and start >= best[0]:
                    break
                end = start + job.duration + pause
                if _busy(spans["t"].get(tech.id, ()), start, end):
                    continue
                if _busy(spans["g"].get(job.group, ()), start, end):
                    continue
                free = [b for b in bays if not _busy(spans["b"].get(b.id, ()), start, end)]
                if free:
                    bay = min(free, key=lambda b: b.kind != job.bay_kind)
                    best = (start, tech.id, bay.id, end)
                    break
    return best


def _day(rng) -> Problem:
    lunch = (240, 300)
    technicians = []
    for n in range(6):
        kinds = rng.choice([{"general", "quick"}, {"general", "alignment"}, {"quick"}])
        early = rng.choice([0, -30, 60])  # a shift may begin before opening
        windows = ((early, lunch[0]), (lunch[1], 540)) if n % 3 else ((early, 300),)
        breaks = (lunch,) if len(windows) > 1 and rng.random() < 0.7 else ()
        technicians.append(Technician(n + 1, windows, frozenset(kinds), frozenset(), breaks=breaks))
    bays = [Bay(10 + n, kind) for n, kind in enumerate(["general"] * 3 + ["quick", "alignment"])]
    jobs = []
    for n in range(40):
        kind = rng.choice(["general", "quick", "quick", "alignment"])
        fixed = None
        if n < 3:  # pinned, one of them before opening
            fixed = (n + 1, 10 + n, rng.choice([-20, 30, 200]))
        jobs.append(
            Job(
                f"j{n}",
                rng.choice([15, 20, 35, 60, 95, 130]),
                kind,
                release=rng.choice([0, 0, 45, 130, 310]),
                group=f"car{rng.randint(0, 14)}",
                fixed=fixed,
            )
        )
    return Problem(jobs, technicians, bays, horizon=540)


def test_the_board_finds_what_a_search_minute_by_minute_finds():
    compared = placed_over_lunch = waited = 0
    for seed in range(12):
        rng = random.Random(seed)
        problem = _day(rng)
        board = optimiser._Board(problem, Solution(status="test"))
        # each job's place on the board before it filled: no earlier start is free later
        # (``dispatch`` looks again from there)
        before = {job.key: board.earliest(job) for job in problem.jobs if job.fixed is None}
        for job in problem.jobs:
            if job.fixed is not None:
                continue
            found = board.earliest(job)
            assert found == _by_hand(board, job), (seed, job.key)
            if found is not None:
                assert board.earliest(job, before[job.key][0]) == found, (seed, job.key)
            anywhere = _by_hand_in(board, job, lambda k, j=job: optimiser.bay_fits(j.bay_kind, k))
            waited += found != anywhere
            compared += 1
            if found is not None:
                assert board.still_free(job, found)
                board.put(job, found)
                assert not board.still_free(job, found)  # now taken
                tech = next(t for t in problem.technicians if t.id == found[1])
                placed_over_lunch += found[3] - found[0] > job.duration
                assert found[3] == tech.finish(found[0], job.duration)
    assert compared == 12 * 37
    assert placed_over_lunch > 0  # the random days did exercise the breaks
    assert waited > 0  # and a quick job waiting for a quick bay
