"""The workshop boards: the right rows, another dealer's hidden, fixed query counts."""

import datetime

import pytest
from django.utils import timezone

from aftersales.org.models import Dealer
from aftersales.workorders import boards, workshop
from aftersales.workorders.choices import ROStatus
from aftersales.workorders.testing import (
    add_labour_line,
    labour_line,
    make_bay,
    make_repair_order,
)

S = ROStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def bj01(demo_org):
    return Dealer.objects.get(code="BJ01")


@pytest.fixture
def tj01(demo_org):
    return Dealer.objects.get(code="TJ01")


def assign(order, foreman, *techs, line=None, bay=None):
    order.refresh_from_db()
    return workshop.job_assign(
        actor=foreman,
        line=line or labour_line(order),
        technicians=techs,
        bay=bay,
        version=order.version,
    )


def test_sa_board_lists_open_orders_late_first_and_hides_other_dealers(bj01, tj01, demo_org):
    # given BJ01 orders: one late, one on time, one closed; and a TJ01 order
    now = timezone.now()
    late = make_repair_order(
        dealer=bj01, status=S.IN_PROGRESS, promised_at=now - datetime.timedelta(hours=1)
    )
    on_time = make_repair_order(dealer=bj01, status=S.APPROVED)
    ready_late = make_repair_order(
        dealer=bj01, status=S.READY, promised_at=now - datetime.timedelta(hours=1)
    )
    closed = make_repair_order(dealer=bj01, status=S.CLOSED)
    elsewhere = make_repair_order(dealer=tj01, status=S.IN_PROGRESS)
    # when BJ01's advisor opens the board
    rows = list(boards.sa_board(demo_org["bj01-sa"], now=now))
    # then the open BJ01 orders show, the late one first, a ready car is never late
    ids = [o.pk for o in rows]
    assert ids[0] == late.pk and rows[0].late is True
    assert {on_time.pk, ready_late.pk} <= set(ids)
    assert closed.pk not in ids and elsewhere.pk not in ids
    assert next(o for o in rows if o.pk == ready_late.pk).late is False
    counts = boards.status_counts(demo_org["bj01-sa"])
    assert counts[S.IN_PROGRESS] == 1 and S.CLOSED not in counts


def test_sa_board_search_by_number_plate_and_vin_tail(bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.APPROVED)
    other = make_repair_order(dealer=bj01, status=S.APPROVED)
    user = demo_org["bj01-sa"]
    assert [o.pk for o in boards.sa_board(user, q=order.number)] == [order.pk]
    assert order.pk in [o.pk for o in boards.sa_board(user, q=order.vehicle.vin[-6:].lower())]
    assert other.pk not in [o.pk for o in boards.sa_board(user, q=order.vehicle.vin[-6:])]
    if order.vehicle.plate:
        assert order.pk in [o.pk for o in boards.sa_board(user, q=order.vehicle.plate[2:])]
    # a closed order is found by search though not on the open board
    closed = make_repair_order(dealer=bj01, status=S.CLOSED)
    assert [o.pk for o in boards.sa_board(user, q=closed.number)] == [closed.pk]
    assert [o.pk for o in boards.sa_board(user, mine=True, q=closed.number)] == [closed.pk]
    assert list(boards.sa_board(demo_org["bj01-foreman"], mine=True, q=closed.number)) == []


def test_foreman_board_columns_queue_bays_and_clocks(bj01, tj01, demo_org):
    foreman, tech = demo_org["bj01-foreman"], demo_org["bj01-tech"]
    bay = make_bay(bj01)
    # given a running job of the technician, an unassigned job, and TJ01 work
    running = make_repair_order(dealer=bj01, status=S.APPROVED)
    job = assign(running, foreman, tech, bay=bay)
    workshop.clock_on(actor=tech, line=job)
    waiting = make_repair_order(dealer=bj01, status=S.APPROVED)
    queued = labour_line(waiting)
    make_repair_order(dealer=tj01, status=S.APPROVED)
    # when the foreman opens the board
    board = boards.foreman_board(foreman)
    # then the technician's column holds his running job and his clock
    column = next(c for c in board.columns if c.technician == tech)
    assert [j.pk for j in column.jobs] == [job.pk] and column.jobs[0].running
    assert column.clock is not None and column.clock.line_id == job.pk
    assert [j.pk for j in board.queue] == [queued.pk]
    assert board.bays == [(bay, [column.jobs[0]])]
    assert [e.technician for e in board.clocked] == [tech]
    assert {j.repair_order.dealer_id for j in board.jobs} == {bj01.pk}


def test_technician_sees_his_jobs_not_done_and_his_clock(bj01, demo_org):
    foreman, tech = demo_org["bj01-foreman"], demo_org["bj01-tech"]
    order = make_repair_order(dealer=bj01, status=S.APPROVED)
    mine = assign(order, foreman, tech)
    second = add_labour_line(order)
    assign(order, foreman, foreman, line=second)  # someone else's job
    workshop.clock_on(actor=tech, line=mine)
    result = boards.technician_jobs(tech)
    assert [j.pk for j in result.jobs] == [mine.pk] and result.jobs[0].running
    assert result.clock.line_id == mine.pk
    workshop.clock_off(actor=tech, line=mine, reason="finished")
    result = boards.technician_jobs(tech)
    assert result.jobs == [] and result.clock is None


def test_the_job_the_technician_is_clocked_on_comes_first(bj01, demo_org):
    foreman, tech = demo_org["bj01-foreman"], demo_org["bj01-tech"]
    now = timezone.now()
    soon, later = (
        make_repair_order(
            dealer=bj01, status=S.APPROVED, promised_at=now + datetime.timedelta(hours=h)
        )
        for h in (1, 5)
    )
    urgent = assign(soon, foreman, tech)
    running = assign(later, foreman, tech)

    assert [j.pk for j in boards.technician_jobs(tech).jobs] == [urgent.pk, running.pk]
    workshop.clock_on(actor=tech, line=running)
    # then the running job is on top, the others by promised time below it
    assert [j.pk for j in boards.technician_jobs(tech).jobs] == [running.pk, urgent.pk]


def _fill(dealer, foreman, tech, n):
    bay = make_bay(dealer)
    for _ in range(n):
        order = make_repair_order(dealer=dealer, status=S.APPROVED)
        assign(order, foreman, tech, bay=bay)
        add_labour_line(order)


def test_board_queries_do_not_grow_with_the_rows(
    bj01, demo_org, django_assert_num_queries, django_assert_max_num_queries
):
    foreman, tech, sa = demo_org["bj01-foreman"], demo_org["bj01-tech"], demo_org["bj01-sa"]
    _fill(bj01, foreman, tech, 2)

    def count(fn):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        for user in (foreman, tech, sa):
            for attr in ("_role_assignment_cache", "_scope_cache"):
                user.__dict__.pop(attr, None)
        with CaptureQueriesContext(connection) as ctx:
            fn()
        return len(ctx.captured_queries)

    def measure():
        return (
            count(lambda: boards.foreman_board(foreman)),
            count(lambda: boards.technician_jobs(tech)),
            count(lambda: list(boards.sa_board(sa)[:50])),
        )

    few = measure()
    _fill(bj01, foreman, tech, 6)
    many = measure()
    assert few == many
    assert many[0] <= 8 and many[1] <= 4 and many[2] <= 3
