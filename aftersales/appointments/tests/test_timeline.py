"""Bookings in the customer 360 timeline, for those who may see them."""

import datetime

import pytest
from django.urls import reverse

from aftersales.appointments.models import Booking
from aftersales.appointments.testing import make_booking
from aftersales.crm.services import relationship_ensure
from aftersales.crm.timeline import customer_timeline
from aftersales.org.models import Dealer
from aftersales.workorders.testing import staff_of

pytestmark = pytest.mark.django_db
KIND = "appointments.booking"


def _bookings(customer, user, **kwargs):
    return [e for e in customer_timeline(customer, user, **kwargs) if e.kind == KIND]


def test_the_customers_bookings_are_in_their_timeline_for_their_dealer_only(bj01, tj01, vehicle):
    booking = make_booking(bj01, vehicle=vehicle, confirm=True)
    customer = vehicle.owner

    mine = _bookings(customer, staff_of(bj01))
    theirs = _bookings(customer, staff_of(tj01))

    assert len(mine) == 1 and booking.number in mine[0].title
    assert mine[0].url == reverse("booking-detail", args=[booking.pk])
    assert mine[0].at == booking.created_at
    assert theirs == []


def test_each_dealer_sees_its_own_booking_of_a_shared_customer_newest_first(
    bj01, vehicle, demo_org
):
    """The customer's car booked at BJ01 and, two days later, at SH01 (another region)."""
    sh01 = Dealer.objects.get(code="SH01")
    relationship_ensure(dealer=sh01, vehicle=vehicle)
    ours = make_booking(bj01, vehicle=vehicle)
    theirs = make_booking(sh01, vehicle=vehicle, channel="wechat")
    Booking.objects.filter(pk=ours.pk).update(
        created_at=theirs.created_at - datetime.timedelta(days=2)
    )
    customer = vehicle.owner

    at_bj01 = _bookings(customer, staff_of(bj01))
    at_sh01 = _bookings(customer, staff_of(sh01))
    north = _bookings(customer, demo_org["north-rm"])
    oem = _bookings(customer, demo_org["oem-analyst"])

    assert [e.url for e in at_bj01] == [reverse("booking-detail", args=[ours.pk])]
    assert [e.url for e in at_sh01] == [reverse("booking-detail", args=[theirs.pk])]
    assert [e.url for e in north] == [reverse("booking-detail", args=[ours.pk])]
    # the OEM sees both, newest first; paging before the newest leaves the older one
    assert [e.url for e in oem] == [
        reverse("booking-detail", args=[theirs.pk]),
        reverse("booking-detail", args=[ours.pk]),
    ]
    assert bj01.name in oem[1].detail and sh01.name in oem[0].detail
    older = _bookings(customer, demo_org["oem-analyst"], before=theirs.created_at)
    assert [e.url for e in older] == [reverse("booking-detail", args=[ours.pk])]


def test_the_customer_360_api_lists_the_visible_bookings(client, bj01, tj01, vehicle):
    booking = make_booking(bj01, vehicle=vehicle)
    client.force_login(staff_of(bj01))

    response = client.get(f"/api/crm/customers/{vehicle.owner_id}/360/")

    rows = [row for row in response.json()["timeline"] if row["kind"] == KIND]
    assert [row["url"] for row in rows] == [reverse("booking-detail", args=[booking.pk])]
