"""Reworking a list schedule (``improve``): a plan made again from any point of the order
it was made in is the same plan up to there; the reworked plan keeps every rule, never
costs more, leaves pinned and started jobs where they are; and a 2-s solve returns the
better of CP-SAT's plan and the reworked one, with CP-SAT's bound (a day too large for
CP-SAT in the time: the reworked plan alone)."""

import os
import time
from functools import partial

import pytest

from aftersales.appointments import optimiser
from aftersales.appointments.optimiser import (
    Bay,
    Job,
    Problem,
    dispatch,
    greedy,
    improve,
    precheck,
    solve,
)
from aftersales.appointments.tests.optimiser_rules import check_rules as _check_rules
from aftersales.appointments.tests.test_optimiser_lunch import random_day, tech

check_rules = partial(_check_rules, fixed_in_windows=False)


def test_a_plan_made_again_from_any_point_of_its_order_is_the_same_plan():
    for seed in (1, 2):
        problem = random_day(seed)
        reasons = precheck(problem)
        for made in (dispatch(problem, reasons=reasons), greedy(problem, reasons=reasons)):
            order = [job for job, _placed in made.placed]
            no_room = {k for k, why in made.unplaced.items() if why == optimiser.NO_ROOM}
            assert {job.key for job in order} == set(made.assignments) | no_room
            # (and last, as ``improve`` has them, those waiting for a job left out)
            order += [
                j
                for j in problem.jobs
                if j.key in made.unplaced and j.key not in reasons and j not in order
            ]
            for point in (0, 7, len(order) // 2, len(order)):
                again = optimiser._in_order(problem, reasons, order, made.placed[:point])
                assert again.solution.assignments == made.assignments
                assert again.solution.unplaced == made.unplaced


def test_a_reworked_plan_keeps_every_rule_and_never_costs_more():
    gained = 0
    for seed in (1, 2, 3):
        problem = random_day(seed)
        start = greedy(problem)  # first come, first served: room to gain

        reworked = improve(problem, start, steps=150)

        check_rules(problem, reworked)
        assert (len(reworked.unplaced), reworked.objective) <= (
            len(start.unplaced),
            start.objective,
        )
        assert reworked.objective == optimiser.objective_of(problem, reworked)
        gained += reworked.objective < start.objective
    assert gained == 3


def test_pinned_and_started_jobs_stay_where_they_are_even_when_late():
    problem = Problem(
        [
            Job("started", 120, group="a", due=100, fixed=(1, 10, 30)),  # late already
            Job("pinned", 60, group="b", due=200, fixed=(2, 11, 150)),
            *(Job(f"j{n}", 45, group=f"c{n}", due=120 + 30 * n) for n in range(6)),
        ],
        [tech(1), tech(2)],
        [Bay(10, "general"), Bay(11, "general")],
        horizon=570,
    )
    start = greedy(problem, optimiser.first_come)

    reworked = improve(problem, start, steps=200)

    check_rules(problem, reworked)
    assert reworked.assignments["started"] == (1, 10, 30, 150)
    assert reworked.assignments["pinned"] == (2, 11, 150, 210)
    assert reworked.objective <= start.objective


def test_a_solve_returns_the_better_plan_with_cp_sats_bound():
    problem = random_day(2)

    plan = solve(problem, time_limit=2, workers=2)

    check_rules(problem, plan)
    assert plan.bound is not None and plan.bound <= plan.objective
    assert plan.status in ("optimal", "feasible")
    assert plan.seconds < 3


def test_a_day_too_large_for_cp_sat_in_the_time_is_only_reworked(monkeypatch):
    def no_cp_sat(*args, **kwargs):
        raise AssertionError("CP-SAT searched a day too large for it")

    monkeypatch.setattr(optimiser, "_cp_search", no_cp_sat)
    monkeypatch.setattr(optimiser, "CP_SAT_JOBS_PER_SECOND", 10)  # 40 jobs > 10 in 1 s
    problem = random_day(3)
    start = dispatch(problem, reasons=precheck(problem))

    plan = solve(problem, time_limit=1, workers=2, hint=start)

    check_rules(problem, plan)
    assert plan.status == "feasible" and plan.bound is None and plan.first_seconds is None
    assert (len(plan.unplaced), plan.objective) <= (len(start.unplaced), start.objective)
    assert plan.seconds < 1.5


needs_two_cores = pytest.mark.skipif(
    (os.cpu_count() or 1) < 2 or not hasattr(os, "fork"), reason="one core or no fork"
)


@needs_two_cores
def test_a_reworking_in_a_child_process_sends_back_the_plan_it_found():
    problem = random_day(2)
    reasons = precheck(problem)
    start = dispatch(problem, reasons=reasons)

    collect = optimiser._rework_aside(problem, start, reasons, None, seed=1, steps=60)
    assignments, unplaced, objective = collect(time.perf_counter() + 30)

    here = improve(problem, start, reasons=reasons, steps=60, seed=1)
    assert (assignments, unplaced, objective) == (here.assignments, here.unplaced, here.objective)
    assert objective < start.objective  # it did rework


@needs_two_cores
def test_a_child_late_for_its_deadline_is_stopped_and_not_waited_for():
    problem = random_day(2)
    reasons = precheck(problem)
    start = dispatch(problem, reasons=reasons)

    collect = optimiser._rework_aside(problem, start, reasons, None, seed=1, steps=10**6)
    asked = time.perf_counter()
    assert collect(asked + 0.2) is None
    assert time.perf_counter() - asked < 2


def test_a_large_day_returns_the_better_of_the_two_reworkings(monkeypatch):
    problem = random_day(3)
    reasons = precheck(problem)
    start = dispatch(problem, reasons=reasons)
    better = improve(problem, start, reasons=reasons, steps=100, seed=5)
    assert better.objective < start.objective
    monkeypatch.setattr(optimiser, "CP_SAT_JOBS_PER_SECOND", 10)
    # this process's reworking finds nothing; the other one finds ``better``
    monkeypatch.setattr(optimiser, "improve", lambda problem, plan, **options: plan)
    monkeypatch.setattr(
        optimiser,
        "_rework_aside",
        lambda *args: lambda deadline: (better.assignments, better.unplaced, better.objective),
    )

    plan = solve(problem, time_limit=1, hint=start)

    assert plan.assignments == better.assignments and plan.objective == better.objective
    assert plan.status == "feasible" and plan.bound is None
    check_rules(problem, plan)
