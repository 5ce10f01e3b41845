"""Booking statistics: exact figures on crafted bookings, scoped to what the user may see."""

import pytest
from django.urls import reverse

from aftersales.appointments.bookings import booking_cancel, booking_create, mark_no_shows
from aftersales.appointments.models import Booking
from aftersales.appointments.stats import booking_stats
from aftersales.appointments.tests.conftest import DAY, NOW, at
from aftersales.crm.testing import make_customer, make_vehicle
from aftersales.workorders.testing import staff_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def four_bookings(bj01, workshop, sa):
    """Four one-hour bookings on DAY: one checked in, one no-show, one cancelled, one open;
    two by phone, one by app, one through WeChat."""
    made = []
    for hour, channel in ((9, "phone"), (10, "phone"), (11, "app"), (14, "wechat")):
        vehicle = make_vehicle(owner=make_customer(dealer=bj01), dealer=bj01)
        made.append(
            booking_create(
                actor=sa,
                dealer=bj01,
                vehicle=vehicle,
                service_type="maintenance",
                channel=channel,
                starts_at=at(hour),
                now=NOW,
            )
        )
    Booking.objects.filter(pk=made[0].pk).update(status="checked_in")
    booking_cancel(actor=sa, booking=made[2], version=made[2].version, reason="改期")
    mark_no_shows(now=at(10, 45))  # the 9:00 one is checked in: only 10:00 is a no-show
    return made


def test_the_figures_count_each_booking_once(bj01, sa, four_bookings):
    stats = booking_stats(user=sa, first=DAY, last=DAY)

    assert (stats["bookings"], stats["checked_in"], stats["no_shows"], stats["cancelled"]) == (
        4,
        1,
        1,
        1,
    )
    assert (
        stats["show_rate"] == 50.0
        and stats["no_show_rate"] == 50.0
        and stats["cancel_rate"] == 25.0
    )
    assert {c["channel"]: c["bookings"] for c in stats["by_channel"]}["phone"] == 2
    # created at the real now, three days and more before DAY: the lead time is positive
    assert stats["lead_time_hours"] > 0
    # 9:00 (checked in) and 14:00 (open) take capacity: 2 h of the two bays' 9.5 h each
    kinds = {k["bay_kind"]: k for k in stats["per_bay_kind"]}
    assert sum(k["booked_hours"] for k in kinds.values()) == 2.0
    assert kinds["quick"]["available_hours"] == kinds["general"]["available_hours"] == 9.5
    assert sum(t["booked_hours"] for t in stats["per_technician"]) == 2.0
    assert sum(t["available_hours"] for t in stats["per_technician"]) == 19.0


def test_another_dealers_user_sees_nothing_and_the_region_manager_sees_the_dealer(
    bj01, tj01, four_bookings, demo_org
):
    outsider = booking_stats(user=staff_of(tj01), first=DAY, last=DAY)
    region = booking_stats(user=demo_org["north-rm"], first=DAY, last=DAY)

    assert outsider["bookings"] == 0 and outsider["per_dealer"] == []
    assert region["bookings"] == 4 and [d["dealer"] for d in region["per_dealer"]] == ["BJ01"]


def test_the_page_the_export_and_the_api(client, bj01, sa, four_bookings):
    client.force_login(sa)
    query = {"first": DAY.isoformat(), "last": DAY.isoformat()}

    page = client.get(reverse("appointment-stats"), query)
    export = client.get(reverse("appointment-stats"), {**query, "format": "xlsx"})
    api = client.get(reverse("api:booking-stats-list"), query)

    assert page.status_code == 200 and 'id="stat-bookings">4<' in page.content.decode()
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    assert api.json()["bookings"] == 4 and api.json()["no_show_rate"] == 50.0
