"""The day plan on the database with a lunch break (the technician's daily break set up in
the capacity, or a short absence entered for it: both work alike): a job
may run over it — the car stays in its bay, the job ends an hour later — the foreman's
moves are checked the same way, a started job pauses over it, and a long absence is
never run over."""

import datetime

import pytest

from aftersales.appointments.dayplan import day_plan_build, planned_job_move
from aftersales.appointments.models import Absence, PlannedJob, Technician
from aftersales.appointments.tests.conftest import DAY, NOW, at
from aftersales.appointments.tests.test_dayplan import labour
from aftersales.core.errors import ServiceError
from aftersales.workorders.testing import make_repair_order, staff_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreman(bj01):
    return staff_of(bj01, "foreman")


@pytest.fixture(params=["daily break", "short absence"])
def away(request, bj01, workshop):
    """Technician 0 has lunch 12:00-13:00; technician 1 is away 10:00-13:00 (training)."""
    first, second = (t.user for t in workshop["technicians"])
    if request.param == "daily break":
        Technician.objects.filter(user=first).update(
            break_start=datetime.time(12), break_end=datetime.time(13)
        )
    else:
        Absence.objects.create(dealer=bj01, user=first, starts_at=at(12), ends_at=at(13))
    Absence.objects.create(dealer=bj01, user=second, starts_at=at(10), ends_at=at(13))
    return first, second


def test_a_long_job_runs_over_lunch_and_moves_keep_the_pause(bj01, workshop, away, foreman):
    lunch, training = away
    order = make_repair_order(
        dealer=bj01, now=NOW, status="approved", promised_at=at(17), lines=False
    )
    line = labour(order, "发动机大修", "4", "engine")

    plan = day_plan_build(actor=foreman, dealer=bj01, day=DAY, now=NOW, time_limit=5)

    # 3.5 hours before lunch is not enough for 4; starting at 08:30 and pausing over the
    # break ends at 13:30 (without the pause it would wait until 13:00 and end at 17:00)
    job = PlannedJob.objects.get(plan=plan, line=line)
    assert (job.technician_id, job.starts_at, job.ends_at) == (lunch.pk, at(8, 30), at(13, 30))
    bay = job.bay

    # moved to 11:00: one hour before lunch, three after
    moved = planned_job_move(actor=foreman, job=job, technician=lunch, bay=bay, starts_at=at(11))
    assert (moved.starts_at, moved.ends_at) == (at(11), at(16))
    # to the technician away for training from 10:00: not run over an absence
    with pytest.raises(ServiceError) as refused:
        planned_job_move(actor=foreman, job=moved, technician=training, bay=bay, starts_at=at(9))
    assert refused.value.code == "not_on_shift"
    # after the training, four hours of work straight
    back = planned_job_move(
        actor=foreman, job=moved, technician=training, bay=bay, starts_at=at(13)
    )
    assert (back.starts_at, back.ends_at) == (at(13), at(17))
    # and back over lunch: the work (4 hours) is kept, not the planned 13:00-17:00 span
    again = planned_job_move(actor=foreman, job=back, technician=lunch, bay=bay, starts_at=at(10))
    assert (again.starts_at, again.ends_at) == (at(10), at(15))


def test_a_job_started_before_lunch_is_planned_to_end_after_the_break(
    bj01, workshop, away, foreman
):
    from aftersales.workorders.models import ClockEntry

    lunch, _training = away
    order = make_repair_order(
        dealer=bj01, now=NOW, status="in_progress", promised_at=at(17), lines=False
    )
    line = labour(order, "更换变速箱油", "2", "engine")
    bay = workshop["bays"][0]
    line.bay = bay
    line.save(update_fields=["bay"])
    ClockEntry.objects.create(
        dealer=bj01, repair_order=order, line=line, technician=lunch, started_at=at(11)
    )

    plan = day_plan_build(actor=foreman, dealer=bj01, day=DAY, now=at(11, 30), time_limit=5)

    started = PlannedJob.objects.get(plan=plan, line=line)
    # one hour to 12:00, the lunch break, the second hour from 13:00
    assert (started.starts_at, started.ends_at) == (at(11), at(14))
    assert started.technician_id == lunch.pk and started.bay_id == bay.pk
