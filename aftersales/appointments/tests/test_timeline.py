"""Bookings in the customer 360 timeline, for those who may see them."""

import pytest

from aftersales.appointments.testing import make_booking
from aftersales.crm.timeline import customer_timeline
from aftersales.workorders.testing import staff_of

pytestmark = pytest.mark.django_db


def test_the_customers_bookings_are_in_their_timeline_for_their_dealer_only(bj01, tj01, vehicle):
    booking = make_booking(bj01, vehicle=vehicle, confirm=True)
    customer = vehicle.owner

    mine = [
        e for e in customer_timeline(customer, staff_of(bj01)) if e.kind == "appointments.booking"
    ]
    theirs = [
        e for e in customer_timeline(customer, staff_of(tj01)) if e.kind == "appointments.booking"
    ]

    assert len(mine) == 1 and booking.number in mine[0].title
    assert mine[0].url.endswith(f"/appointments/{booking.pk}/")
    assert theirs == []
