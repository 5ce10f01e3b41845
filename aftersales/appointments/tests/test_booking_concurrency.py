"""Bookings racing for the last slot under a real race: threads, each with its own
database connection, book or move cars into a workshop with room for one at that time, at
the same moment. Exactly one wins; the others are told ``slot_taken``, and the capacity is
never overbooked. The dealer's booking lock (its ``ScheduleSettings`` row: ``SELECT … FOR
UPDATE`` on PostgreSQL, the IMMEDIATE transaction on SQLite) serialises them, so the second
sees the first. Runs on SQLite and, with ``AFTERSALES_TEST_DATABASE=postgresql``, on
PostgreSQL."""

import threading

import pytest
from django.db import connection

from aftersales.appointments.bookings import booking_create, booking_reschedule
from aftersales.appointments.models import Booking, ScheduleSettings
from aftersales.appointments.testing import make_advisor, make_capacity
from aftersales.appointments.tests.conftest import NOW, at
from aftersales.core.errors import ServiceError
from aftersales.crm.testing import make_customer, make_vehicle
from aftersales.org.demo import load_org_demo
from aftersales.org.models import Dealer, User
from aftersales.workorders.testing import make_operation

THREADS = 4


@pytest.mark.django_db(transaction=True)
def test_two_bookings_racing_for_the_last_slot_one_wins(demo_org):
    dealer = Dealer.objects.get(code="BJ01")
    made = make_capacity(dealer, bays=("quick",), technicians=1, advisors=1)
    make_advisor(dealer)  # two advisors: the bay and the technician are the last slot
    advisors = [a.user for a in made["advisors"]] + [demo_org["bj01-sa"]]
    vehicles = [make_vehicle(owner=make_customer(dealer=dealer), dealer=dealer) for _ in range(4)]
    barrier = threading.Barrier(4)
    made_ids, errors = [], []

    def attempt(n):
        try:
            barrier.wait()
            booking = booking_create(
                actor=advisors[n % 2],
                dealer=dealer,
                vehicle=vehicles[n],
                service_type="maintenance",
                channel="phone",
                starts_at=at(9),
                now=NOW,
            )
            made_ids.append(booking.pk)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(made_ids) == 1, errors
    assert [getattr(e, "code", repr(e)) for e in errors] == ["slot_taken"] * 3
    assert Booking.objects.filter(dealer=dealer).count() == 1


def race(calls):
    """Run ``calls`` at the same moment, each in its own thread and connection; the
    outcome of each: "ok" or the error code."""
    start = threading.Barrier(len(calls))
    outcomes, lock = [], threading.Lock()

    def worker(call):
        try:
            start.wait(timeout=30)
            try:
                call()
                result = "ok"
            except ServiceError as exc:
                result = exc.code
            with lock:
                outcomes.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    return sorted(outcomes)


@pytest.fixture
def one_bay():
    """BJ01 with one quick-service bay, one technician, one advisor (committed), and no
    settings row yet: the racers also race to make the lock row."""
    load_org_demo()
    dealer = Dealer.objects.get(code="BJ01")
    make_capacity(dealer, bays=("quick",), technicians=1, advisors=1)
    ScheduleSettings.objects.filter(dealer=dealer).delete()
    oil = make_operation(code="APRACE", hours="1.0", category="maintenance")
    return dealer, User.objects.get(username="bj01-sa"), oil


def cars(dealer, n):
    return [make_vehicle(owner=make_customer(dealer=dealer), dealer=dealer) for _ in range(n)]


@pytest.mark.django_db(transaction=True)
def test_four_cars_racing_for_the_last_slot_make_one_booking(one_bay):
    dealer, sa, oil = one_bay
    # overlapping starts: whichever wins, the others no longer fit
    starts = [at(9), at(9), at(9, 15), at(9, 30)]

    def booking_of(vehicle, when):
        return lambda: booking_create(
            actor=User.objects.get(pk=sa.pk),
            dealer=dealer,
            vehicle=vehicle,
            service_type="maintenance",
            channel="phone",
            starts_at=when,
            operations=[oil],
            now=NOW,
        )

    outcomes = race([booking_of(v, w) for v, w in zip(cars(dealer, THREADS), starts, strict=True)])

    assert outcomes == ["ok"] + ["slot_taken"] * (THREADS - 1), outcomes
    assert Booking.objects.filter(dealer=dealer).count() == 1
    assert ScheduleSettings.objects.filter(dealer=dealer).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_bookings_moved_into_the_same_free_hour_at_once_leave_one_there(one_bay):
    dealer, sa, oil = one_bay
    first, second = (
        booking_create(
            actor=sa,
            dealer=dealer,
            vehicle=car,
            service_type="maintenance",
            channel="phone",
            starts_at=when,
            operations=[oil],
            now=NOW,
        )
        for car, when in zip(cars(dealer, 2), [at(9), at(11)], strict=True)
    )

    def move(booking):
        return lambda: booking_reschedule(
            actor=User.objects.get(pk=sa.pk),
            booking=booking.pk,
            version=booking.version,
            starts_at=at(14),
            now=NOW,
        )

    outcomes = race([move(first), move(second)])

    assert outcomes == ["ok", "slot_taken"], outcomes
    at_two = Booking.objects.filter(dealer=dealer, starts_at=at(14))
    assert at_two.count() == 1
    stayed = Booking.objects.exclude(pk=at_two.get().pk).get(dealer=dealer)
    assert stayed.starts_at in (at(9), at(11)) and stayed.reschedules == 0
