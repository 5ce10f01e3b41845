"""Dispatch and work: assigning jobs, clocking on and off, pausing, parts issued to the
order and returned, and the self-check guard."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from aftersales.core.errors import Conflict, PermissionDenied, ValidationFailed
from aftersales.org.models import Dealer
from aftersales.parts.choices import ReservationStatus
from aftersales.parts.models import StockItem, StockMove
from aftersales.workorders import workshop
from aftersales.workorders.choices import (
    Approval,
    ClockReason,
    EventKind,
    JobStatus,
    ROStatus,
)
from aftersales.workorders.models import ClockEntry, RepairOrder, RepairOrderEvent
from aftersales.workorders.testing import (
    add_labour_line,
    add_part_line,
    labour_line,
    make_bay,
    make_repair_order,
)
from aftersales.workorders.transitions import GuardRefused, repair_order_transition

S = ROStatus
D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    # the checks read the messages as written in the code
    with translation.override("en"):
        yield


@pytest.fixture
def bj01(demo_org):
    return Dealer.objects.get(code="BJ01")


@pytest.fixture
def people(demo_org):
    return {
        key: demo_org[f"bj01-{key}"] for key in ("foreman", "tech", "sa", "parts", "qc", "svcmgr")
    }


def assigned(order, people, line=None, *techs):
    line = line or labour_line(order)
    order.refresh_from_db()
    return workshop.job_assign(
        actor=people["foreman"],
        line=line,
        technicians=techs or [people["tech"]],
        version=order.version,
    )


# ---------------------------------------------------------------- dispatch


def test_foreman_assigns_technicians_and_a_bay(bj01, people):
    # given an approved order with one job and a bay
    order = make_repair_order(dealer=bj01, status=S.APPROVED)
    bay = make_bay(bj01)
    line = labour_line(order)
    # when the foreman assigns the technician and himself to the bay
    line = workshop.job_assign(
        actor=people["foreman"],
        line=line,
        technicians=[people["tech"], people["foreman"].pk],
        bay=bay,
        version=order.version,
    )
    # then the job is assigned to both, in that bay, and the timeline shows it
    assert line.job_status == JobStatus.ASSIGNED and line.bay == bay
    assert set(line.assignments.values_list("technician__username", flat=True)) == {
        "bj01-tech",
        "bj01-foreman",
    }
    event = RepairOrderEvent.objects.get(repair_order=order, kind=EventKind.DISPATCH)
    assert event.data["bay"] == bay.code
    assert RepairOrder.objects.get(pk=order.pk).version == order.version + 1


def test_assign_refuses_non_technicians_other_bays_and_unapproved_lines(bj01, people):
    order = make_repair_order(dealer=bj01, status=S.APPROVED)
    line = labour_line(order)
    # an advisor is not a technician
    with pytest.raises(ValidationFailed) as refused:
        workshop.job_assign(
            actor=people["foreman"], line=line, technicians=[people["sa"]], version=order.version
        )
    assert "technicians" in refused.value.fields
    # another dealer's bay
    other_bay = make_bay(Dealer.objects.get(code="TJ01"))
    with pytest.raises(ValidationFailed) as refused:
        workshop.job_assign(
            actor=people["foreman"],
            line=line,
            technicians=[people["tech"]],
            bay=other_bay,
            version=order.version,
        )
    assert "bay" in refused.value.fields
    # a proposed additional line
    proposed = add_labour_line(order, approval=Approval.PROPOSED)
    with pytest.raises(Conflict) as refused:
        workshop.job_assign(
            actor=people["foreman"],
            line=proposed,
            technicians=[people["tech"]],
            version=order.version,
        )
    assert refused.value.code == "not_approved"
    # a technician may not dispatch
    with pytest.raises(PermissionDenied):
        workshop.job_assign(
            actor=people["tech"], line=line, technicians=[people["tech"]], version=order.version
        )
    assert not line.assignments.exists()


def test_assign_on_a_stale_version_or_a_delivered_order_is_refused(bj01, people):
    order = make_repair_order(dealer=bj01, status=S.APPROVED)
    with pytest.raises(Conflict) as refused:
        workshop.job_assign(
            actor=people["foreman"],
            line=labour_line(order),
            technicians=[people["tech"]],
            version=order.version - 1 if order.version > 1 else order.version + 5,
        )
    assert refused.value.code == "stale"
    delivered = make_repair_order(dealer=bj01, status=S.DELIVERED)
    with pytest.raises(Conflict) as refused:
        assigned(delivered, people)
    assert refused.value.code == "not_dispatchable"


def test_a_technician_clocked_on_cannot_be_taken_off_the_job(bj01, people):
    order = make_repair_order(dealer=bj01, status=S.APPROVED)
    line = assigned(order, people, None, people["tech"], people["foreman"])
    workshop.clock_on(actor=people["tech"], line=line)
    order.refresh_from_db()
    with pytest.raises(Conflict) as refused:
        workshop.job_assign(
            actor=people["foreman"],
            line=line,
            technicians=[people["foreman"]],
            version=order.version,
        )
    assert refused.value.code == "clocked_on"
    assert line.assignments.filter(technician=people["tech"]).exists()
    # taking off the one who is not clocked on works, and the running job stays running
    line = workshop.job_assign(
        actor=people["foreman"], line=line, technicians=[people["tech"]], version=order.version
    )
    assert list(line.assignments.values_list("technician_id", flat=True)) == [people["tech"].pk]
    assert line.job_status == JobStatus.RUNNING


# ---------------------------------------------------------------- clocking


def test_first_clock_on_starts_the_order(bj01, people):
    # given an approved, signed order whose job is assigned to the technician
    order = make_repair_order(dealer=bj01, status=S.APPROVED, started_at=None)
    line = assigned(order, people)
    # when the technician clocks on
    entry = workshop.clock_on(actor=people["tech"], line=line)
    # then the order is in progress, the job running and the clock open
    order.refresh_from_db()
    line.refresh_from_db()
    assert order.status == S.IN_PROGRESS and order.started_at is not None
    assert line.job_status == JobStatus.RUNNING
    assert entry.ended_at is None and entry.technician == people["tech"]
    kinds = list(RepairOrderEvent.objects.filter(repair_order=order).values_list("kind", flat=True))
    assert EventKind.STATUS in kinds and EventKind.CLOCK in kinds


def test_no_clock_on_before_the_customer_signed(bj01, people):
    # given an approved order without a signature (data fixed by hand)
    order = make_repair_order(dealer=bj01, status=S.APPROVED)
    line = assigned(order, people)
    RepairOrder.objects.filter(pk=order.pk).update(signed_at=None, signature_kind="")
    # when the technician clocks on, then it is refused and nothing is clocked
    with pytest.raises(GuardRefused) as refused:
        workshop.clock_on(actor=people["tech"], line=line)
    assert refused.value.code == "not_authorized"
    order.refresh_from_db()
    assert order.status == S.APPROVED
    assert not ClockEntry.objects.filter(line=line).exists()


def test_clocking_on_a_second_job_is_refused_with_the_first_one_named(bj01, people):
    # given the technician clocked on a job of one order, and assigned to a job of another
    first = make_repair_order(dealer=bj01, status=S.APPROVED)
    second = make_repair_order(dealer=bj01, status=S.IN_PROGRESS)
    workshop.clock_on(actor=people["tech"], line=assigned(first, people))
    other_job = assigned(second, people)
    # when he clocks on the second one
    with pytest.raises(Conflict) as refused:
        workshop.clock_on(actor=people["tech"], line=other_job)
    # then it is refused (409) naming the order he is on
    assert refused.value.status == 409 and refused.value.code == "clocked_on"
    assert first.number in refused.value.message and "clock off first" in refused.value.message
    assert ClockEntry.objects.filter(technician=people["tech"]).count() == 1


def test_clock_on_refused_when_not_assigned_unapproved_or_paused(bj01, people):
    order = make_repair_order(dealer=bj01, status=S.IN_PROGRESS)
    line = labour_line(order)
    with pytest.raises(Conflict) as refused:
        workshop.clock_on(actor=people["tech"], line=line)
    assert refused.value.code == "not_assigned"
    declined = add_labour_line(order, approval=Approval.DECLINED)
    with pytest.raises(Conflict) as refused:
        workshop.clock_on(actor=people["tech"], line=declined)
    assert refused.value.code == "not_approved"
    line = assigned(order, people)
    order.refresh_from_db()
    workshop.repair_order_pause(
        actor=people["foreman"], repair_order=order, version=order.version, reason="午休"
    )
    with pytest.raises(Conflict) as refused:
        workshop.clock_on(actor=people["tech"], line=line)
    assert refused.value.code == "order_stopped" and "resume" in refused.value.message


def test_clock_off_finished_marks_the_job_done_and_adds_the_hours(bj01, people):
    # given the technician clocked on at 9:00
    order = make_repair_order(dealer=bj01, status=S.APPROVED)
    line = assigned(order, people)
    start = timezone.now() - datetime.timedelta(hours=2)
    workshop.clock_on(actor=people["tech"], line=line, now=start)
    # when he clocks off finished 1.5 hours later
    entry = workshop.clock_off(
        actor=people["tech"],
        line=line,
        reason=ClockReason.FINISHED,
        now=start + datetime.timedelta(minutes=90),
    )
    # then the entry is closed, the job done with 1.5 actual hours
    line.refresh_from_db()
    assert entry.reason == ClockReason.FINISHED and entry.hours == D("1.50")
    assert line.job_status == JobStatus.DONE and line.actual_hours == D("1.50")
    summary = workshop.job_hours(order)
    assert summary.standard == D("1.2") and summary.actual == D("1.50")
    assert summary.technicians == [(people["tech"], D("1.50"))]
    assert summary.jobs[0].variance == D("0.30")


def test_two_technicians_on_one_job_it_is_done_when_the_last_finishes(bj01, people):
    order = make_repair_order(dealer=bj01, status=S.APPROVED)
    line = assigned(order, people, None, people["tech"], people["foreman"])
    start = timezone.now() - datetime.timedelta(hours=3)
    workshop.clock_on(actor=people["tech"], line=line, now=start)
    workshop.clock_on(actor=people["foreman"], line=line, now=start)
    workshop.clock_off(
        actor=people["tech"],
        line=line,
        reason=ClockReason.FINISHED,
        now=start + datetime.timedelta(hours=1),
    )
    line.refresh_from_db()
    assert line.job_status == JobStatus.RUNNING
    workshop.clock_off(
        actor=people["foreman"],
        line=line,
        reason=ClockReason.FINISHED,
        now=start + datetime.timedelta(hours=2),
    )
    line.refresh_from_db()
    assert line.job_status == JobStatus.DONE and line.actual_hours == D("3.00")
    assert dict(workshop.job_hours(order).technicians) == {
        people["tech"]: D("1.00"),
        people["foreman"]: D("2.00"),
    }


def test_a_break_stops_the_job_and_a_foreman_clocks_off_a_forgotten_clock(bj01, people):
    order = make_repair_order(dealer=bj01, status=S.APPROVED)
    line = assigned(order, people)
    workshop.clock_on(actor=people["tech"], line=line)
    # a technician cannot clock off someone else
    with pytest.raises(PermissionDenied):
        workshop.clock_off(
            actor=people["tech"],
            line=line,
            reason=ClockReason.BREAK,
            technician=people["foreman"],
        )
    entry = workshop.clock_off(
        actor=people["foreman"],
        line=line,
        reason=ClockReason.END_OF_DAY,
        technician=people["tech"],
    )
    line.refresh_from_db()
    assert entry.ended_at is not None and line.job_status == JobStatus.STOPPED
    event = RepairOrderEvent.objects.filter(repair_order=order, kind=EventKind.CLOCK).last()
    assert event.actor == people["foreman"] and event.data["on_behalf"] is True
    # clocking off again: nothing open
    with pytest.raises(Conflict) as refused:
        workshop.clock_off(actor=people["tech"], line=line, reason=ClockReason.BREAK)
    assert refused.value.code == "not_clocked_on"


def test_clock_on_after_qc_failure_starts_the_rework(bj01, people):
    order = make_repair_order(dealer=bj01, status=S.QC_FAILED)
    line = assigned(order, people)
    workshop.clock_on(actor=people["tech"], line=line)
    order.refresh_from_db()
    assert order.status == S.REWORK


def test_pause_closes_the_open_clocks_and_resume_reopens_work(bj01, people):
    order = make_repair_order(dealer=bj01, status=S.APPROVED)
    line = assigned(order, people)
    workshop.clock_on(actor=people["tech"], line=line)
    order.refresh_from_db()
    order = workshop.repair_order_wait_for_parts(
        actor=people["tech"], repair_order=order, version=order.version, reason="缺刹车片"
    )
    assert order.status == S.WAITING_PARTS
    entry = ClockEntry.objects.get(line=line)
    assert entry.ended_at is not None and entry.reason == ClockReason.PARTS
    order = workshop.repair_order_resume(
        actor=people["tech"], repair_order=order, version=order.version
    )
    assert order.status == S.IN_PROGRESS
    workshop.clock_on(actor=people["tech"], line=line)
    assert ClockEntry.objects.filter(line=line, ended_at__isnull=True).count() == 1


def test_self_check_is_refused_while_a_job_is_open(bj01, people):
    # given an order in progress whose technician is still clocked on
    order = make_repair_order(dealer=bj01, status=S.APPROVED)
    line = assigned(order, people)
    workshop.clock_on(actor=people["tech"], line=line)
    # when he tries to self-check, then it is refused naming the open job and the clock
    with pytest.raises(GuardRefused) as refused:
        repair_order_transition(repair_order=order, to=S.SELF_CHECKED, actor=people["tech"])
    assert refused.value.code == "jobs_open"
    assert line.description in str(refused.value.fields["lines"])
    assert "clocked on" in " ".join(refused.value.fields["lines"]).lower()
    # and once the job is finished the step is allowed
    workshop.clock_off(actor=people["tech"], line=line, reason=ClockReason.FINISHED)
    order = repair_order_transition(repair_order=order, to=S.SELF_CHECKED, actor=people["tech"])
    assert order.status == S.SELF_CHECKED


# ---------------------------------------------------------------- parts


def test_parts_issue_consumes_the_reservation(bj01, people):
    # given an approved order with a part line of 2 reserved out of 10 on hand
    order = make_repair_order(dealer=bj01, status=S.IN_PROGRESS)
    line = add_part_line(order, quantity="2", on_hand="10")
    # when the parts clerk issues it (the default: what is not yet issued)
    line = workshop.parts_issue(actor=people["parts"], line=line, idempotency_key="k1")
    # then 2 left stock, the reservation is consumed and the line shows them issued
    item = StockItem.objects.get(warehouse=order.warehouse, part=line.part)
    assert (item.on_hand, item.reserved) == (D("8"), D("0"))
    line.reservation.refresh_from_db()
    assert line.reservation.status == ReservationStatus.CONSUMED
    assert line.issued_qty == D("2")
    move = StockMove.objects.get(posting_key=f"{line.key}:issue:k1")
    assert (move.doc_type, move.doc_id, move.doc_number) == ("repair_order", order.id, order.number)
    assert RepairOrderEvent.objects.filter(repair_order=order, kind=EventKind.PARTS).exists()


def test_a_retried_issue_books_once(bj01, people):
    order = make_repair_order(dealer=bj01, status=S.IN_PROGRESS)
    line = add_part_line(order, quantity="3")
    workshop.parts_issue(actor=people["parts"], line=line, quantity="1", idempotency_key="same")
    line = workshop.parts_issue(
        actor=people["parts"], line=line, quantity="1", idempotency_key="same"
    )
    assert line.issued_qty == D("1")
    assert StockMove.objects.filter(posting_key__startswith=f"{line.key}:issue:").count() == 1


def test_issue_to_a_closed_order_or_over_the_line_is_refused(bj01, people):
    order = make_repair_order(dealer=bj01, status=S.IN_PROGRESS)
    line = add_part_line(order, quantity="2")
    with pytest.raises(ValidationFailed):
        workshop.parts_issue(actor=people["parts"], line=line, quantity="3", idempotency_key="a")
    with pytest.raises(PermissionDenied):
        workshop.parts_issue(actor=people["tech"], line=line, idempotency_key="b")
    RepairOrder.objects.filter(pk=order.pk).update(status=S.CLOSED)
    with pytest.raises(Conflict) as refused:
        workshop.parts_issue(actor=people["parts"], line=line, idempotency_key="c")
    assert refused.value.code == "order_closed"
    assert f"Repair order {order.number} is closed" in refused.value.message
    line.refresh_from_db()
    assert line.issued_qty == 0
    assert not StockMove.objects.filter(posting_key__startswith=f"{line.key}:issue").exists()


def test_issue_beyond_the_reservation_takes_free_stock(bj01, people):
    order = make_repair_order(dealer=bj01, status=S.IN_PROGRESS)
    line = add_part_line(order, quantity="4", reserve=False)
    line = workshop.parts_issue(actor=people["parts"], line=line, idempotency_key="x")
    assert line.issued_qty == D("4")
    item = StockItem.objects.get(warehouse=order.warehouse, part=line.part)
    assert item.on_hand == D("6")


def test_unused_parts_return_to_stock_and_not_more_than_issued(bj01, people):
    order = make_repair_order(dealer=bj01, status=S.IN_PROGRESS)
    line = add_part_line(order, quantity="2")
    workshop.parts_issue(actor=people["parts"], line=line, idempotency_key="i")
    line = workshop.parts_return(
        actor=people["parts"], line=line, quantity="1", idempotency_key="r1"
    )
    line = workshop.parts_return(
        actor=people["parts"], line=line, quantity="1", idempotency_key="r1"
    )
    assert line.returned_qty == D("1")
    item = StockItem.objects.get(warehouse=order.warehouse, part=line.part)
    assert item.on_hand == D("9")
    with pytest.raises(ValidationFailed):
        workshop.parts_return(actor=people["parts"], line=line, quantity="2", idempotency_key="r2")
    # the unit issued again after the return
    line = workshop.parts_issue(actor=people["parts"], line=line, idempotency_key="i2")
    assert (line.issued_qty, line.returned_qty) == (D("3"), D("1"))
