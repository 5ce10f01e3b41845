"""Booking statistics: exact figures on crafted bookings, scoped to what the user may see."""

import datetime

import pytest
from django.urls import reverse

from aftersales.appointments.bookings import booking_cancel, booking_create, mark_no_shows
from aftersales.appointments.models import Booking, DayPlan, PlannedJob
from aftersales.appointments.stats import booking_stats
from aftersales.appointments.testing import make_capacity
from aftersales.appointments.tests.conftest import DAY, NOW, at
from aftersales.crm.testing import make_customer, make_vehicle
from aftersales.org.models import Region
from aftersales.workorders.choices import BayKind
from aftersales.workorders.testing import staff_of

pytestmark = pytest.mark.django_db
H = datetime.timedelta(hours=1)


def make_four_bookings(bj01, sa):
    """Four one-hour maintenance bookings at BJ01 on DAY: 9:00 checked in, 10:00 no-show,
    11:00 cancelled, 14:00 still open; two by phone, one by app, one through WeChat;
    booked 24, 48, 12 and 36 hours ahead."""
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
    for booking, ahead in zip(made, (24, 48, 12, 36), strict=True):
        Booking.objects.filter(pk=booking.pk).update(created_at=booking.starts_at - ahead * H)
    return made


@pytest.fixture
def four_bookings(bj01, workshop, sa):
    return make_four_bookings(bj01, sa)


def test_the_figures_count_each_booking_once(bj01, sa, four_bookings):
    stats = booking_stats(user=sa, first=DAY, last=DAY)

    counts = (stats["bookings"], stats["checked_in"], stats["no_shows"], stats["cancelled"])
    assert counts == (4, 1, 1, 1) and stats["open"] == 1
    # due and final: the checked-in one and the no-show; the cancelled one is in neither
    assert (stats["show_rate"], stats["no_show_rate"], stats["cancel_rate"]) == (50.0, 50.0, 25.0)
    channels = {c["channel"]: (c["bookings"], c["share"]) for c in stats["by_channel"]}
    assert channels["phone"] == (2, 50.0) and channels["app"] == (1, 25.0)
    assert channels["walk_in"] == (0, 0.0) and len(channels) == 7
    assert stats["lead_time_hours"] == 30.0  # (24 + 48 + 12 + 36) / 4


def test_utilisation_is_booked_hours_over_the_hours_there_were(bj01, sa, four_bookings):
    stats = booking_stats(user=sa, first=DAY, last=DAY)

    # 9:00 (checked in) and 14:00 (open) take capacity; the no-show and the cancelled not.
    # Two bays and two technicians, each 08:30-18:00 = 9.5 h
    kinds = {k["bay_kind"]: k for k in stats["per_bay_kind"]}
    assert set(kinds) == {BayKind.GENERAL, BayKind.QUICK}
    assert [k["available_hours"] for k in kinds.values()] == [9.5, 9.5]
    assert sum(k["booked_hours"] for k in kinds.values()) == 2.0
    techs = stats["per_technician"]
    assert [t["available_hours"] for t in techs] == [9.5, 9.5]
    assert sum(t["booked_hours"] for t in techs) == 2.0
    booked = {four_bookings[0].technician_id, four_bookings[3].technician_id}
    for t in techs:
        hours = sum(
            1.0 for b in (four_bookings[0], four_bookings[3]) if b.technician_id == t["technician"]
        )
        assert t["booked_hours"] == hours and t["utilisation"] == round(100 * hours / 9.5, 1)
    assert booked <= {t["technician"] for t in techs}
    assert (stats["booked_hours"], stats["available_hours"], stats["utilisation"]) == (
        2.0,
        19.0,
        10.5,
    )
    assert stats["per_dealer"][0]["utilisation"] == 10.5


def test_the_day_plans_hours_are_shown_beside_the_booked_ones(bj01, sa, four_bookings):
    later = four_bookings[3]
    plan = DayPlan.objects.create(dealer=bj01, day=DAY, status="feasible")
    PlannedJob.objects.create(
        plan=plan,
        booking=later,
        technician_id=later.technician_id,
        bay_id=later.bay_id,
        starts_at=at(14),
        ends_at=at(16, 30),
    )

    stats = booking_stats(user=sa, first=DAY, last=DAY)

    tech = next(t for t in stats["per_technician"] if t["technician"] == later.technician_id)
    kind = next(k for k in stats["per_bay_kind"] if k["bay_kind"] == later.bay.kind)
    assert (tech["planned_hours"], tech["planned_utilisation"]) == (2.5, 26.3)
    assert kind["planned_hours"] == 2.5
    assert sum(t["planned_hours"] for t in stats["per_technician"]) == 2.5


def test_another_dealers_user_sees_nothing_and_the_region_manager_sees_the_dealer(
    bj01, tj01, four_bookings, demo_org
):
    outsider = booking_stats(user=staff_of(tj01), first=DAY, last=DAY)
    region = booking_stats(user=demo_org["north-rm"], first=DAY, last=DAY)

    assert outsider["bookings"] == 0 and outsider["per_dealer"] == []
    assert outsider["per_technician"] == [] and outsider["show_rate"] is None
    assert region["bookings"] == 4 and [d["dealer"] for d in region["per_dealer"]] == ["BJ01"]


def test_a_dealers_staff_never_count_their_region_neighbours_capacity(
    bj01, tj01, sa, four_bookings, demo_org
):
    make_capacity(tj01, bays=(BayKind.GENERAL,), technicians=1)

    own = booking_stats(user=sa, first=DAY, last=DAY)
    region = booking_stats(user=demo_org["north-rm"], first=DAY, last=DAY)
    east = booking_stats(
        user=demo_org["admin"], first=DAY, last=DAY, region=Region.objects.get(code="EAST")
    )
    tj01_only = booking_stats(user=demo_org["north-rm"], first=DAY, last=DAY, dealer=tj01)

    assert own["available_hours"] == 19.0 and [d["dealer"] for d in own["per_dealer"]] == ["BJ01"]
    assert region["available_hours"] == 28.5
    assert [(d["dealer"], d["bookings"]) for d in region["per_dealer"]] == [
        ("BJ01", 4),
        ("TJ01", 0),
    ]
    general = next(k for k in region["per_bay_kind"] if k["bay_kind"] == BayKind.GENERAL)
    assert general["available_hours"] == 19.0
    assert east["bookings"] == 0 and east["available_hours"] == 0
    assert tj01_only["bookings"] == 0 and tj01_only["available_hours"] == 9.5


def test_an_empty_period_has_no_rates(bj01, sa, workshop):
    stats = booking_stats(user=sa, first=DAY, last=DAY + datetime.timedelta(days=1))

    assert stats["bookings"] == 0
    assert stats["show_rate"] is stats["no_show_rate"] is stats["lead_time_hours"] is None
    assert stats["available_hours"] == 38.0 and stats["utilisation"] == 0.0


def test_the_page_the_export_and_the_api(client, bj01, sa, four_bookings):
    client.force_login(sa)
    query = {"first": DAY.isoformat(), "last": DAY.isoformat()}

    page = client.get(reverse("appointment-stats"), query)
    export = client.get(reverse("appointment-stats"), {**query, "format": "xlsx"})
    api = client.get(reverse("api:booking-stats-list"), query)

    assert page.status_code == 200 and 'id="stat-bookings">4<' in page.content.decode()
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    assert api.json()["bookings"] == 4 and api.json()["no_show_rate"] == 50.0
