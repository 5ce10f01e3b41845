"""Jobs running over the technicians' lunch break: the technician pauses, the car stays in
its bay and the job ends the break's length later; other gaps (absences, the end of a
shift) are never run over. And the earliest-start-first list schedule the solver starts
from."""

import random
from functools import partial

from aftersales.appointments.optimiser import (
    NO_WINDOW,
    Bay,
    Job,
    Problem,
    Technician,
    _least_ends,
    dispatch,
    finish,
    greedy,
    heuristic,
    lp_bound,
    solve,
)
from aftersales.appointments.tests.optimiser_rules import check_rules as _check_rules

# a job clocked on before the shift stays where it was started
check_rules = partial(_check_rules, fixed_in_windows=False)
LUNCH = (210, 270)
DAY = ((0, 210), (270, 570))


def tech(id, kinds=("general", "quick"), cats=(), windows=DAY, breaks=(LUNCH,)):
    return Technician(id, windows, frozenset(kinds), frozenset(cats), breaks=breaks)


def test_a_job_that_does_not_fit_before_lunch_runs_over_it_instead_of_waiting():
    # 150 minutes of work arriving at 09:30 (minute 60): 150 minutes to lunch is enough
    # for one, the second (arriving at 10:30) would wait until 13:00 without the pause
    jobs = [
        Job("a", 150, group="a", release=0, due=200),
        Job("b", 150, group="b", release=120, due=330),
    ]
    bays = [Bay(10, "general"), Bay(11, "general")]
    pausing = Problem(jobs, [tech(1), tech(2)], bays, horizon=570)
    waiting = Problem(jobs, [tech(1, breaks=()), tech(2, breaks=())], bays, horizon=570)

    over = solve(pausing, time_limit=5, workers=1)
    before = solve(waiting, time_limit=5, workers=1)

    check_rules(pausing, over)
    check_rules(waiting, before)
    assert over.status == before.status == "optimal"
    # b starts at 120, works 90 minutes to lunch, pauses 60, works 60: ends at 330
    assert over.assignments["b"][2:] == (120, 330) and over.late_minutes == 0
    assert before.assignments["b"][2:] == (270, 420) and before.late_minutes == 90
    assert over.objective < before.objective
    # utilisation and idle time count the work, not the pause
    assert over.utilisation == round(300 / (2 * 510), 4)
    greedy_plan = greedy(pausing)
    check_rules(pausing, greedy_plan)
    assert greedy_plan.assignments["b"][2:] == (120, 330)


def test_the_car_keeps_its_bay_over_the_lunch_break():
    # one bay: the job over lunch holds it, so the job after it waits for its end
    problem = Problem(
        [
            Job("long", 100, group="a", release=150),
            Job("short", 30, group="b", release=150),
        ],
        [tech(1), tech(2)],
        [Bay(10, "general")],
        horizon=570,
    )

    plan = solve(problem, time_limit=5, workers=1)

    check_rules(problem, plan)
    assert plan.status == "optimal"
    # short first (150-180), then long over lunch: 180-210, pause, 270-340
    assert plan.assignments["short"][2:] == (150, 180)
    assert plan.assignments["long"][2:] == (180, 340)


def test_only_breaks_are_run_over_not_absences_or_the_end_of_a_shift():
    # technician 1 is away 10:00-13:00 (an absence, not a break); technician 2 works the
    # morning only; a 120-minute job arriving at 11:00 fits nobody's day before closing
    # but technician 1's afternoon
    problem = Problem(
        [Job("j", 120, group="a", release=150)],
        [
            tech(1, windows=((0, 90), (270, 570)), breaks=()),
            tech(2, windows=((0, 210),), breaks=()),
        ],
        [Bay(10, "general")],
        horizon=570,
    )

    plan = solve(problem, time_limit=5, workers=1)

    assert plan.assignments["j"] == (1, 10, 270, 390)
    assert finish((), 150, 120) == 270 and finish((LUNCH,), 150, 120) == 330


def test_a_job_longer_than_either_half_day_is_placed_over_the_lunch_break():
    job = Job("engine", 300, group="a")
    bays = [Bay(10, "general")]
    with_break = Problem([job], [tech(1)], bays, horizon=570)
    without = Problem([job], [tech(1, windows=((0, 210), (270, 480)), breaks=())], bays, 570)

    plan = solve(with_break, time_limit=5, workers=1)

    assert plan.assignments["engine"] == (1, 10, 0, 360)
    assert solve(without, time_limit=5, workers=1).unplaced == {"engine": NO_WINDOW}


def test_a_started_job_pauses_over_lunch_and_the_rest_is_planned_around_it():
    # started at 11:00 (minute 150) with 120 minutes of work on technician 1 in bay 10
    problem = Problem(
        [
            Job("started", 120, group="a", fixed=(1, 10, 150)),
            Job("next", 60, group="b", release=150, due=400),
        ],
        [tech(1)],
        [Bay(10, "general"), Bay(11, "general")],
        horizon=570,
    )

    plan = solve(problem, time_limit=5, workers=1)
    listed = heuristic(problem)

    for made in (plan, listed):
        check_rules(problem, made)
        assert made.assignments["started"] == (1, 10, 150, 330)
        assert made.assignments["next"][2] >= 330


def random_day(seed, jobs=40, breaks=(LUNCH,)):
    rng = random.Random(seed)
    half = ((0, 210),)
    late = ((120, 210), (270, 570))
    technicians = [
        tech(1, ("general", "quick", "alignment"), (), DAY, breaks),
        tech(2, ("general", "quick", "alignment"), (), DAY, breaks),
        tech(3, ("general", "quick"), ("maintenance", "engine"), DAY, breaks),
        tech(4, ("quick",), ("maintenance",), half, ()),
        tech(5, ("body", "paint"), ("body",), late, breaks),
    ]
    bays = [Bay(10, "general"), Bay(11, "general"), Bay(12, "quick"), Bay(13, "alignment")]
    bays += [Bay(14, "body"), Bay(15, "paint")]
    made = []
    for n in range(jobs):
        car = f"c{n // 2}"
        release = rng.choice([0, 0, 30, 60, 120, 180, 240])
        kind, category = rng.choice(
            [("quick", "maintenance"), ("general", "engine"), ("general", "chassis")]
            + [("body", "body")]
        )
        after = ()
        if n % 2 and made[-1].group == car and rng.random() < 0.3:
            kind, category, after = "alignment", "chassis", (made[-1].key,)
        made.append(
            Job(
                f"j{n}",
                rng.choice([30, 45, 60, 90, 120]),
                kind,
                frozenset({category}),
                release=release,
                due=release + rng.choice([90, 150, 240]),
                group=car,
                after=after,
            )
        )
    return Problem(made, technicians, bays, horizon=570)


def test_plans_over_lunch_keep_every_rule_and_the_bounds_stay_below_them():
    for seed in (1, 2, 3):
        problem = random_day(seed)

        start = heuristic(problem)
        plan = solve(problem, time_limit=2, workers=2, hint=start)

        check_rules(problem, start)
        check_rules(problem, plan)
        assert len(plan.unplaced) <= len(start.unplaced)
        assert plan.bound <= plan.objective <= start.objective
    small = random_day(4, jobs=14)
    best = solve(small, time_limit=10, workers=2)
    assert lp_bound(small) <= best.objective
    # pausing over lunch is a choice more: never worse than the same day without it
    waiting = random_day(4, jobs=14, breaks=())
    assert best.objective <= solve(waiting, time_limit=10, workers=2).objective or (
        best.status != "optimal"
    )


def test_earliest_start_first_does_not_hold_back_a_job_that_could_start_now():
    # in arrival order the general repair takes the general bay from 90 (when technician
    # 1 is free), and the oil change arriving at 60 cannot use it before and waits for the
    # quick bay; earliest start first gives the oil change the general bay at once
    problem = Problem(
        [
            Job("service", 90, "quick", release=0, due=120, group="a"),
            Job("repair", 60, "general", release=30, due=200, group="b"),
            Job("oil", 60, "quick", release=60, due=120, group="c"),
        ],
        [tech(1, ("general", "quick")), tech(2, ("quick",))],
        [Bay(10, "general"), Bay(11, "quick")],
        horizon=570,
    )

    in_order = greedy(problem)
    plan = dispatch(problem)

    check_rules(problem, in_order)
    check_rules(problem, plan)
    assert in_order.assignments["oil"][2:] == (90, 150) and in_order.late_minutes == 30
    assert plan.assignments["oil"] == (2, 10, 60, 120)
    assert plan.assignments["repair"][2:] == (120, 180) and plan.late_minutes == 0
    # the jobs to place first go before the others
    urgent = dispatch(problem, first=frozenset({"repair"}))
    check_rules(problem, urgent)
    assert urgent.assignments["repair"][2:] == (30, 90)


def test_the_queue_cuts_let_the_solver_prove_a_busy_bay_optimal():
    # eight jobs arriving together for two bays: the least sum of ends is shortest first
    # on both bays; the solver proves it (the bound meets the plan)
    durations = [30, 30, 45, 45, 60, 60, 90, 90]
    problem = Problem(
        [Job(f"j{n}", d, group=f"c{n}") for n, d in enumerate(durations)],
        [tech(n, windows=((0, 570),), breaks=()) for n in (1, 2, 3)],
        [Bay(10, "general"), Bay(11, "general")],
        horizon=570,
    )

    plan = solve(problem, time_limit=10, workers=2)

    assert _least_ends(0, durations, 2) == 30 + 30 + 75 + 75 + 135 + 135 + 225 + 225
    assert plan.status == "optimal" and plan.objective == plan.bound == 930
