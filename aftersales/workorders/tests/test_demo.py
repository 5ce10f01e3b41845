"""The demo repair orders: every status, data consistent with each status, idempotent,
fast."""

import time

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from aftersales.core.models import NumberSequence
from aftersales.workorders.choices import (
    Approval,
    CheckKind,
    EventKind,
    FollowUpStatus,
    JobStatus,
    LineKind,
    ROStatus,
)
from aftersales.workorders.models import (
    ClockEntry,
    FollowUp,
    JobAssignment,
    LabourOperation,
    LabourRate,
    MaintenancePackage,
    QualityCheck,
    RepairOrder,
    RepairOrderEvent,
    RepairOrderLine,
    ServiceSettings,
    WorkshopBay,
)

S = ROStatus
SIGNED = {
    S.APPROVED,
    S.IN_PROGRESS,
    S.WAITING_PARTS,
    S.PAUSED,
    S.SELF_CHECKED,
    S.QC_PASSED,
    S.QC_FAILED,
    S.REWORK,
    S.READY,
    S.DELIVERED,
    S.CLOSED,
}
STARTED = SIGNED - {S.APPROVED}
MODELS = (RepairOrder, RepairOrderLine, RepairOrderEvent, ClockEntry, QualityCheck, FollowUp)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The whole demo, loaded once for this module inside a transaction that is rolled
    back afterwards (each test runs in a savepoint of it)."""
    from django.db import transaction

    from aftersales.appointments.demo import load_workshop_team_demo
    from aftersales.catalogue.demo import load_catalogue_demo
    from aftersales.crm.demo import load_crm_demo
    from aftersales.org.demo import load_org_demo
    from aftersales.parts.demo import load_parts_demo
    from aftersales.workorders.demo import load_workorders_demo
    from aftersales.workorders.demo_catalogue import load_workorders_catalogue_demo

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        load_org_demo()
        load_catalogue_demo()
        load_crm_demo()
        load_parts_demo()
        started, cpu = time.perf_counter(), time.process_time()
        catalogue = load_workorders_catalogue_demo()
        load_workshop_team_demo()
        orders = load_workorders_demo()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(f"\nworkorders demo: {seconds:.1f} s ({cpu:.1f} s CPU); {catalogue}; {orders}")
        counts = {m: m.objects.count() for m in MODELS}
        again = load_workorders_catalogue_demo(), load_workorders_demo()
        recounted = {m: m.objects.count() for m in MODELS}
        yield {
            "seconds": seconds,
            "cpu": cpu,
            "catalogue": catalogue,
            "orders": orders,
            "counts": counts,
            "again": again,
            "recounted": recounted,
        }
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def loaded(demo, db):
    return demo


def test_demo_is_sized(loaded):
    # (its load time is printed; `make demo` reports the whole demo's)
    assert loaded["orders"]["dealers"] == 6
    assert 300 <= RepairOrder.objects.count() <= 400
    assert LabourOperation.objects.count() >= 40
    assert MaintenancePackage.objects.filter(interval_km=5_000).exists()
    assert MaintenancePackage.objects.filter(interval_km=40_000, parts__isnull=False).exists()
    for code in ("BJ01", "TJ01", "SH01", "HZ01", "GZ01", "SZ01"):
        assert LabourRate.objects.filter(dealer__code=code).count() == 4
        assert 8 <= WorkshopBay.objects.filter(dealer__code=code).count() <= 10  # with the team's
        assert ServiceSettings.objects.filter(dealer__code=code).exists()


def test_a_second_run_adds_nothing(loaded):
    catalogue, orders = loaded["again"]
    assert loaded["recounted"] == loaded["counts"]
    assert orders["orders"] == 0
    assert all(v == 0 for k, v in catalogue.items() if k != "seconds")


def test_every_status_appears_at_every_dealer(loaded):
    for code in ("BJ01", "SH01", "GZ01"):
        seen = set(RepairOrder.objects.filter(dealer__code=code).values_list("status", flat=True))
        assert seen == set(S)


def test_numbers_follow_the_sequence(loaded):
    for sequence in NumberSequence.objects.filter(doc_type="RO"):
        numbers = RepairOrder.objects.filter(
            dealer=sequence.dealer, number__startswith=f"RO-{sequence.dealer.code}-{sequence.year}-"
        )
        assert numbers.count() == sequence.last_value
        assert numbers.filter(number__endswith=f"{sequence.last_value:06d}").exists()


def test_orders_are_consistent_with_their_status(loaded):
    now = timezone.now()
    orders = RepairOrder.objects.annotate(
        n_lines=Count("lines", distinct=True),
        n_clock=Count("clock", distinct=True),
        n_failed=Count(
            "checks", filter=Q(checks__kind=CheckKind.QC, checks__passed=False), distinct=True
        ),
        n_passed=Count(
            "checks", filter=Q(checks__kind=CheckKind.QC, checks__passed=True), distinct=True
        ),
        n_status_events=Count("events", filter=Q(events__kind=EventKind.STATUS), distinct=True),
    )
    for order in orders:
        signed = order.status in SIGNED
        assert bool(order.signature_kind and order.signed_at) == signed, order.number
        if order.status in STARTED:
            assert order.n_clock > 0 and order.started_at, order.number
        else:
            assert order.n_clock == 0, order.number
        if order.status in (S.QC_FAILED, S.REWORK):
            assert order.n_failed == 1 and order.rework_count == 1, order.number
        assert order.rework_count == order.n_failed, order.number
        if order.status in (S.QC_PASSED, S.READY, S.DELIVERED, S.CLOSED):
            assert order.n_passed >= 1 and order.qc_passed_at, order.number
        if order.status in (S.DRAFT, S.CHECKED_IN, S.DIAGNOSING):
            assert order.n_lines == 0, order.number
        if order.status in (S.DELIVERED, S.CLOSED):
            assert order.delivered_at and order.delivery_checks, order.number
            assert FollowUp.objects.filter(repair_order=order).exists(), order.number
        if order.status == S.CLOSED:
            assert order.closed_at, order.number
        assert order.n_status_events >= 1 or order.status == S.DRAFT, order.number
        assert order.created_at <= now
        # the last status event leads to the order's status
        last = order.events.filter(kind=EventKind.STATUS).order_by("at", "id").last()
        if last is not None:
            assert last.to_status == order.status, order.number


def test_lines_follow_the_customer_decisions(loaded):
    proposed_when_signed = RepairOrderLine.objects.filter(
        repair_order__status__in=SIGNED, approval=Approval.PROPOSED
    )
    assert not proposed_when_signed.exists()
    assert RepairOrderLine.objects.filter(approval=Approval.DECLINED, additional=True).exists()
    assert RepairOrderLine.objects.filter(pay_type="warranty").exists()
    assert RepairOrderLine.objects.filter(kind=LineKind.SUBLET).exists()
    assert RepairOrderLine.objects.filter(kind=LineKind.FEE).exists()
    # an order's estimate total is the sum of its lines not declined
    for order in RepairOrder.objects.filter(status=S.CLOSED)[:30]:
        total = sum(x.amount for x in order.lines.all() if x.approval != Approval.DECLINED)
        assert order.estimate_total == total


def test_workshop_data(loaded):
    # every running job has its open clock entry; a technician has at most one
    running = RepairOrderLine.objects.filter(job_status=JobStatus.RUNNING)
    assert running.exists()
    for line in running:
        assert line.clock.filter(ended_at__isnull=True).count() == 1
    assert not RepairOrderLine.objects.filter(
        job_status=JobStatus.DONE, repair_order__status__in=STARTED, actual_hours=0
    ).exists()
    # the boards see late and on-time cars
    open_orders = RepairOrder.objects.exclude(status__in=[S.CLOSED, S.CANCELLED, S.DELIVERED])
    assert open_orders.filter(promised_at__lt=timezone.now()).exists()
    assert open_orders.filter(promised_at__gt=timezone.now()).exists()


def test_jobs_go_to_a_skilled_technician_and_a_fitting_bay_spread_over_the_workshop(loaded):
    from collections import Counter

    from aftersales.appointments.capacity import bay_fits, job_needs
    from aftersales.appointments.models import Technician
    from aftersales.org.models import User

    for code in ("BJ01", "SH01", "GZ01"):
        team = {t.user_id: t for t in Technician.objects.filter(dealer__code=code)}
        jobs = JobAssignment.objects.filter(line__repair_order__dealer__code=code).select_related(
            "line__operation", "line__bay", "line__repair_order"
        )
        orders = Counter()
        by_order = {}
        for job in jobs:
            by_order.setdefault(job.line.repair_order_id, []).append(job)
        for assigned in by_order.values():
            lines = [job.line for job in assigned]
            planned = [x.operation for x in lines if x.operation and not x.additional]
            # one technician per car, as a foreman dispatches it, skilled for its work;
            # every job in a bay that fits it, the car moved only for a job that needs
            # another kind of bay (paint after body work, an alignment found during work)
            assert len({job.technician_id for job in assigned}) == 1
            tech = team[assigned[0].technician_id]
            kind, _categories = job_needs(planned, "")
            assert any(bay_fits(kind, k) for k in tech.bay_kinds), (kind, tech.bay_kinds)
            for x in lines:
                assert not x.operation or bay_fits(x.operation.needs_bay, x.bay.kind)
            needs = {x.operation.needs_bay for x in lines if x.operation}
            assert len({x.bay_id for x in lines}) <= len(needs)
            orders[tech.user_id] += 1
        # the work is spread: no technician has more than half of the cars, most have some
        assert len(orders) >= 4 and max(orders.values()) <= len(by_order) / 2, orders
        # the one who did the work checks it, the inspector is someone else
        self_checks = QualityCheck.objects.filter(
            repair_order__dealer__code=code, kind=CheckKind.SELF
        ).select_related("repair_order")
        for check in self_checks:
            assert check.checked_by_id == by_order[check.repair_order_id][0].technician_id
        # a car in the workshop now shares its bay with another only when every bay of
        # the kind it needs holds one
        in_bay = {S.IN_PROGRESS, S.PAUSED, S.SELF_CHECKED, S.QC_FAILED, S.REWORK}
        cars = {}
        for order_id, assigned in by_order.items():
            planned = [job.line for job in assigned if not job.line.additional]
            if planned and planned[0].repair_order.status in in_bay:
                kind = job_needs([x.operation for x in planned if x.operation], "")[0]
                main = next(x.bay_id for x in planned if bay_fits(kind, x.bay.kind))
                cars[order_id] = (main, kind)
        bays = list(WorkshopBay.objects.filter(dealer__code=code))
        held = Counter(bay for bay, _kind in cars.values())
        for bay, kind in cars.values():
            if held[bay] > 1:
                assert all(held[b.pk] for b in bays if bay_fits(kind, b.kind)), (code, kind)
        assert len(cars) >= 5
        foreman = User.objects.get(username=f"{code.lower()}-foreman")
        assert foreman.pk not in orders  # the foreman dispatches, the team works


def test_parts_are_reserved_for_estimates_and_issued_to_cars_in_the_workshop(loaded):
    from aftersales.parts.choices import ReservationStatus
    from aftersales.parts.models import StockMove
    from aftersales.parts.stock import ledger_mismatches

    parts = RepairOrderLine.objects.filter(kind=LineKind.PART).exclude(approval=Approval.DECLINED)
    reserved = parts.filter(
        repair_order__status__in=[S.ESTIMATED, S.AWAITING_APPROVAL, S.APPROVED],
        reservation__status=ReservationStatus.ACTIVE,
    )
    in_workshop = [S.IN_PROGRESS, S.PAUSED, S.SELF_CHECKED, S.QC_FAILED, S.REWORK, S.READY]
    issued = parts.filter(repair_order__status__in=in_workshop)
    assert reserved.count() >= 12 and issued.count() >= 60, (reserved.count(), issued.count())
    for line in reserved.select_related("reservation"):
        assert line.reservation.quantity <= line.quantity and line.issued_qty == 0
    # a car in the workshop has all its parts: what stock lacked was ordered and received
    for line in issued.select_related("reservation", "repair_order"):
        assert line.issued_qty == line.quantity, line.repair_order.number
        assert line.reservation.status == ReservationStatus.CONSUMED
        move = StockMove.objects.get(posting_key=f"{line.key}:issue:demo")
        assert -move.quantity == line.issued_qty and move.doc_number == line.repair_order.number
    # history is not booked: handed-over orders issued nothing
    assert not parts.filter(repair_order__status__in=[S.DELIVERED, S.CLOSED], issued_qty__gt=0)
    assert ledger_mismatches() == []


def test_cars_come_in_while_the_dealer_is_open(loaded):
    # an order's visit begins after the dealer opened that day (the comebacks' first
    # visits and the orders whose calls are due now are moved, so they are left out)
    moved = set(
        RepairOrder.objects.filter(comeback_of__isnull=False).values_list("comeback_of", flat=True)
    )
    moved |= set(
        FollowUp.objects.filter(
            opens_at__lte=timezone.now(), status=FollowUpStatus.OPEN
        ).values_list("repair_order", flat=True)
    )
    orders = RepairOrder.objects.exclude(pk__in=moved).select_related("dealer")
    waiting = {S.DRAFT, S.CHECKED_IN, S.DIAGNOSING, S.ESTIMATED, S.AWAITING_APPROVAL}
    waiting |= {S.APPROVED, S.SELF_CHECKED, S.QC_PASSED, S.READY}
    checked = 0
    for order in orders:
        opened = timezone.localtime(order.created_at)
        if order.status in waiting | {S.DELIVERED, S.CLOSED, S.CANCELLED}:
            assert opened.time() >= order.dealer.opens_at, (order.number, opened)
            checked += 1
    assert checked >= 250


def test_follow_ups_and_comebacks(loaded):
    statuses = set(FollowUp.objects.values_list("status", flat=True))
    assert {FollowUpStatus.DONE, FollowUpStatus.UNREACHABLE} <= statuses
    done = FollowUp.objects.filter(status=FollowUpStatus.DONE)
    assert all(1 <= s <= 5 for f in done for s in f.scores.values())
    # the DCRC agent of every dealer has calls to make when the demo starts
    now = timezone.now()
    for code in ("BJ01", "TJ01", "SH01", "HZ01", "GZ01", "SZ01"):
        due = FollowUp.objects.filter(
            dealer__code=code, status=FollowUpStatus.OPEN, opens_at__lte=now, due_at__gt=now
        )
        assert due.count() >= 3, code
    comebacks = RepairOrder.objects.filter(comeback_of__isnull=False).select_related("comeback_of")
    assert comebacks.count() >= 6
    for order in comebacks:
        first = order.comeback_of
        assert first.vehicle_id == order.vehicle_id
        assert first.delivered_at < order.created_at
        assert (order.created_at - first.delivered_at).days <= 30


PAGES = (
    "repair-order-detail",
    "ro-reception-panel",
    "ro-estimate-panel",
    "ro-work-panel",
    "ro-quality-panel",
    "ro-timeline-panel",
)


@pytest.mark.parametrize(
    "username", ["bj01-sa", "bj01-foreman", "bj01-tech", "bj01-qc", "bj01-cashier", "north-rm"]
)
def test_every_screen_of_an_order_in_every_status_opens_for_the_people_who_use_it(
    loaded, client, username
):
    # given the demo orders of BJ01, one per status
    from django.urls import reverse

    from aftersales.org.models import User

    client.force_login(User.objects.get(username=username))
    orders = {}
    for order in RepairOrder.objects.filter(dealer__code="BJ01").order_by("id"):
        orders.setdefault(order.status, order)
    assert set(orders) == set(S)
    # when the user opens the order page and its panels (the advisor prints a few too)
    printed = {S.DRAFT, S.APPROVED, S.CLOSED} if username == "bj01-sa" else set()
    for status, order in orders.items():
        for name in PAGES + (("ro-print",) if status in printed else ()):
            response = client.get(reverse(name, args=[order.pk]), HTTP_HX_REQUEST="true")
            # then each answers (the PDF too)
            assert response.status_code == 200, (username, status, name, response.content[:300])
    # and the boards and queues the user has open without error
    for name in ("repair-order-list", "workshop-board", "my-jobs", "qc-queue", "follow-up-list"):
        response = client.get(reverse(name))
        assert response.status_code in (200, 403), (username, name)
