"""Two advisors book the workshop's last free time at the same moment: one booking is
made, the other is told the slot is taken; the capacity is never overbooked."""

import threading

import pytest
from django.db import connection

from aftersales.appointments.bookings import booking_create
from aftersales.appointments.models import Booking
from aftersales.appointments.testing import make_advisor, make_capacity
from aftersales.appointments.tests.conftest import NOW, at
from aftersales.crm.testing import make_customer, make_vehicle
from aftersales.org.models import Dealer


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
