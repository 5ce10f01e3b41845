"""The day plan on the database: open repair orders and bookings planned together,
promised times moved with a note, pinned jobs kept, moves checked, impossible jobs
reported, access checked."""

import datetime

import pytest
from django.utils.dateparse import parse_datetime

from aftersales.appointments.bookings import booking_create
from aftersales.appointments.dayplan import day_plan_build, planned_job_move, planned_job_pin
from aftersales.appointments.models import ClosedDay, PlannedJob
from aftersales.appointments.tests.conftest import DAY, NOW, at
from aftersales.core.errors import PermissionDenied, ServiceError, ValidationFailed
from aftersales.workorders.models import RepairOrderEvent
from aftersales.workorders.testing import (
    make_operation,
    make_repair_order,
    staff_of,
)

pytestmark = pytest.mark.django_db


def labour(order, name, hours, category, bay_kind=""):
    """An approved labour line of an operation of ``category`` on ``order``."""
    from decimal import Decimal

    from aftersales.workorders.models import RepairOrderLine

    op = make_operation(name=name, hours=hours, category=category, bay_kind=bay_kind)
    return RepairOrderLine.objects.create(
        repair_order=order,
        kind="labour",
        operation=op,
        description=name,
        quantity=Decimal(hours),
        standard_hours=Decimal(hours),
        approval="approved",
        job_status="pending",
    )


@pytest.fixture
def foreman(bj01):
    return staff_of(bj01, "foreman")


@pytest.fixture
def order(bj01, workshop):
    order = make_repair_order(dealer=bj01, now=NOW, status="approved", promised_at=at(12))
    labour(order, "更换减震器", "1.5", "chassis")
    return order


def test_open_orders_and_bookings_are_planned_together_without_clashes(
    bj01, workshop, order, sa, vehicle, foreman
):
    booking = booking_create(
        actor=sa,
        dealer=bj01,
        vehicle=vehicle,
        service_type="maintenance",
        channel="app",
        starts_at=at(10),
        now=NOW,
    )

    plan = day_plan_build(actor=foreman, dealer=bj01, day=DAY, now=NOW, time_limit=5)

    jobs = list(PlannedJob.objects.filter(plan=plan))
    assert plan.status in ("optimal", "feasible") and plan.revision == 1 and not plan.unplaced
    assert {j.key for j in jobs} == {
        *(f"line:{line.pk}" for line in order.lines.filter(kind="labour")),
        f"booking:{booking.pk}",
    }
    booked = next(j for j in jobs if j.booking_id)
    assert booked.starts_at >= at(10, 15)  # after the advisor's reception
    for a in jobs:
        for b in jobs:
            if a.pk < b.pk and a.starts_at < b.ends_at and b.starts_at < a.ends_at:
                assert a.technician_id != b.technician_id and a.bay_id != b.bay_id
    ro_jobs = sorted((j for j in jobs if j.line_id), key=lambda j: j.starts_at)
    assert ro_jobs[0].ends_at <= ro_jobs[1].starts_at  # one car, one job at a time


def test_a_promised_time_the_plan_cannot_meet_moves_and_the_advisor_sees_why(
    bj01, workshop, foreman
):
    order = make_repair_order(dealer=bj01, now=NOW, status="approved", promised_at=at(8, 45))
    labour(order, "发动机检修", "2", "engine")

    day_plan_build(actor=foreman, dealer=bj01, day=DAY, now=NOW, time_limit=5)

    order.refresh_from_db()
    assert order.promised_at > at(8, 45)
    last = PlannedJob.objects.filter(line__repair_order=order).order_by("-ends_at").first()
    assert order.promised_at == last.ends_at
    note = RepairOrderEvent.objects.filter(repair_order=order, kind="note").last()
    assert parse_datetime(note.data["promised_to"]) == last.ends_at


def test_a_pinned_job_stays_when_the_rest_is_optimised_again(bj01, workshop, order, foreman):
    plan = day_plan_build(actor=foreman, dealer=bj01, day=DAY, now=NOW, time_limit=5)
    job = PlannedJob.objects.filter(plan=plan).order_by("starts_at").first()
    tech, bay = workshop["technicians"][1].user, workshop["bays"][0]
    moved = planned_job_move(actor=foreman, job=job, technician=tech, bay=bay, starts_at=at(15))
    assert moved.pinned and moved.starts_at == at(15)

    again = day_plan_build(actor=foreman, dealer=bj01, day=DAY, now=NOW, time_limit=5)

    kept = PlannedJob.objects.get(plan=again, line_id=job.line_id)
    assert again.revision == 2 and kept.pinned
    assert (kept.technician_id, kept.bay_id, kept.starts_at) == (tech.pk, bay.pk, at(15))
    unpinned = planned_job_pin(actor=foreman, job=kept, pinned=False)
    assert not unpinned.pinned


def test_moves_that_break_a_rule_are_refused_and_change_nothing(bj01, workshop, order, foreman):
    plan = day_plan_build(actor=foreman, dealer=bj01, day=DAY, now=NOW, time_limit=5)
    jobs = PlannedJob.objects.filter(plan=plan).order_by("starts_at")
    first = jobs.get(line__operation__category="chassis")  # needs a general bay
    second = jobs.exclude(pk=first.pk).first()
    quick_bay = next(b for b in workshop["bays"] if b.kind == "quick")

    with pytest.raises(ServiceError) as wrong_bay:
        planned_job_move(
            actor=foreman, job=first, technician=first.technician, bay=quick_bay, starts_at=at(9)
        )
    with pytest.raises(ServiceError) as off_shift:
        planned_job_move(
            actor=foreman,
            job=first,
            technician=first.technician,
            bay=first.bay,
            starts_at=at(17, 45),
        )
    with pytest.raises(ServiceError) as clash:
        planned_job_move(
            actor=foreman,
            job=first,
            technician=second.technician,
            bay=first.bay,
            starts_at=second.starts_at,
        )

    assert (wrong_bay.value.code, off_shift.value.code, clash.value.code) == (
        "bay_kind",
        "not_on_shift",
        "clash",
    )
    first.refresh_from_db()
    assert not first.pinned


def test_jobs_the_day_cannot_take_are_listed_with_the_reason(bj01, workshop, foreman):
    order = make_repair_order(dealer=bj01, now=NOW, status="approved", promised_at=at(17))
    labour(order, "高压电池检测", "1", "hv", bay_kind="ev")

    plan = day_plan_build(actor=foreman, dealer=bj01, day=DAY, now=NOW, time_limit=5)

    (left_out,) = plan.unplaced
    assert left_out["code"] == "no_bay" and left_out["reason"] and order.number in left_out["label"]


def test_a_closed_day_and_a_user_without_the_role_are_refused(bj01, tj01, workshop, foreman):
    ClosedDay.objects.create(dealer=bj01, day=DAY, reason="盘点")
    with pytest.raises(ValidationFailed):
        day_plan_build(actor=foreman, dealer=bj01, day=DAY, now=NOW)
    with pytest.raises(PermissionDenied):
        day_plan_build(
            actor=staff_of(bj01, "technician"), dealer=bj01, day=DAY + datetime.timedelta(1)
        )
    with pytest.raises(PermissionDenied):
        day_plan_build(
            actor=staff_of(tj01, "foreman"), dealer=bj01, day=DAY + datetime.timedelta(1)
        )


def test_a_job_running_over_its_planned_end_re_plans_the_day_once(bj01, workshop, foreman):
    from aftersales.appointments.dayplan import replan_on_delays
    from aftersales.workorders.models import ClockEntry

    order = make_repair_order(dealer=bj01, now=NOW, status="in_progress", promised_at=at(17))
    line = labour(order, "更换减震器", "1", "chassis")
    tech, bay = workshop["technicians"][0].user, workshop["bays"][0]
    line.bay = bay
    line.save(update_fields=["bay"])
    ClockEntry.objects.create(
        dealer=bj01, repair_order=order, line=line, technician=tech, started_at=at(9)
    )
    plan = day_plan_build(actor=foreman, dealer=bj01, day=DAY, now=at(9), time_limit=5)
    started = PlannedJob.objects.get(plan=plan, line=line)
    assert (started.technician_id, started.bay_id, started.starts_at) == (tech.pk, bay.pk, at(9))
    assert started.ends_at == at(10)

    rebuilt = replan_on_delays(now=at(10, 30), time_limit=5)
    again = replan_on_delays(now=at(10, 35), time_limit=5)

    plan.refresh_from_db()
    running = PlannedJob.objects.get(plan=plan, line=line)
    assert (rebuilt, again, plan.revision) == (1, 0, 2)
    assert running.starts_at == at(9) and running.ends_at > at(10, 30)
    assert running.technician_id == tech.pk
