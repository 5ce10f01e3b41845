"""The demo appointments: loaded for every demo dealer, idempotent, never overbooked,
within the opening hours, linked to the repair orders they became, pages open."""

import datetime
from collections import defaultdict

import pytest
from django.urls import reverse
from django.utils import timezone

from aftersales.appointments.choices import HOLDING, BookingStatus
from aftersales.appointments.demo import load_appointments_demo
from aftersales.appointments.models import (
    Absence,
    Advisor,
    Booking,
    BookingEvent,
    ClosedDay,
    ScheduleSettings,
    Technician,
)
from aftersales.billing.demo import DEMO_DEALERS
from aftersales.workorders.choices import BayKind
from aftersales.workorders.models import LabourOperation, ServiceSettings, WorkshopBay

B = BookingStatus
SETUP = (Absence, Advisor, ClosedDay, ScheduleSettings, Technician, WorkshopBay)


def _setup_counts():
    from aftersales.org.models import RoleAssignment, User

    return {m.__name__: m.objects.count() for m in (*SETUP, User, RoleAssignment)}


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The whole demo, loaded once for this module inside a transaction rolled back after."""
    from django.db import transaction

    from aftersales.core.management.commands.demo_data import DEMO_STEPS

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        results = {step.__module__: step() for step in DEMO_STEPS}
        count = Booking.objects.count()
        before = _setup_counts()
        # run again three days later: nothing is added, not even "relative" closed days
        again = load_appointments_demo(now=timezone.now() + datetime.timedelta(days=3))
        yield {
            "result": results["aftersales.appointments.demo"],
            "count": count,
            "again": again,
            "setup": before,
            "setup_again": _setup_counts(),
        }
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def loaded(demo, db):
    return demo


def test_every_demo_dealer_gets_staff_and_weeks_of_bookings_once(loaded):
    assert loaded["result"]["dealers"] == 6 and loaded["again"]["dealers"] == 0
    assert loaded["again"]["bays"] == 0 and loaded["setup_again"] == loaded["setup"]
    assert loaded["result"]["seconds"] < 30  # (no benchmark: about a second here)
    assert Booking.objects.count() == loaded["count"] > 600
    for code in DEMO_DEALERS:
        rows = Booking.objects.filter(dealer__code=code)
        assert rows.filter(starts_at__gt=timezone.now()).exists()
        assert rows.filter(status=B.CHECKED_IN).exists() and rows.filter(status=B.NO_SHOW).exists()
        assert Technician.objects.filter(dealer__code=code).count() == 6
    channels = set(Booking.objects.values_list("channel", flat=True))
    assert len(channels) == 7


def test_no_bay_technician_or_advisor_is_overbooked_and_all_is_within_opening_hours(loaded):
    spans = defaultdict(list)
    hours = {s.dealer_id: s for s in ServiceSettings.objects.all()}
    for b in Booking.objects.filter(status__in=[*HOLDING, B.CHECKED_IN]):
        spans[("bay", b.bay_id)].append((b.starts_at, b.ends_at))
        spans[("tech", b.technician_id)].append((b.starts_at, b.ends_at))
        local = timezone.localtime(b.starts_at)
        end = timezone.localtime(b.ends_at)
        assert local.time() >= hours[b.dealer_id].workday_start
        assert end.time() <= hours[b.dealer_id].workday_end and end.date() == local.date()
    for key, items in spans.items():
        items.sort()
        for (_s1, e1), (s2, _e2) in zip(items, items[1:], strict=False):
            assert e1 <= s2, key


def test_checked_in_bookings_are_the_repair_orders_they_became(loaded):
    checked = Booking.objects.filter(status=B.CHECKED_IN).select_related("repair_order")
    assert checked.exists()
    for b in checked:
        assert b.repair_order.vehicle_id == b.vehicle_id
        assert timezone.localdate(b.repair_order.checked_in_at) == timezone.localdate(b.starts_at)
    # every booking has its history, from the booking on
    assert not Booking.objects.exclude(
        pk__in=BookingEvent.objects.filter(kind="created").values("booking_id")
    ).exists()


def test_the_demo_pages_open(loaded, client):
    from aftersales.org.models import User

    client.force_login(User.objects.get(username="bj01-sa"))
    booking = Booking.objects.filter(dealer__code="BJ01", status=B.CONFIRMED).first()
    for url in (
        reverse("appointment-calendar"),
        reverse("booking-detail", args=[booking.pk]),
        reverse("day-plan"),
        reverse("appointment-stats"),
        reverse("booking-new") + f"?q={booking.vehicle.plate}",
    ):
        assert client.get(url).status_code == 200, url


def test_every_dealer_has_about_nine_bays_of_every_kind_and_operations_say_their_bay(loaded):
    for code in DEMO_DEALERS:
        bays = WorkshopBay.objects.filter(dealer__code=code)
        assert 8 <= bays.count() <= 10, code
        assert set(bays.values_list("kind", flat=True)) == set(BayKind.values), code
    kinds = dict(LabourOperation.objects.values_list("code", "bay_kind"))
    assert kinds["C0104"] == BayKind.ALIGNMENT and kinds["B0102"] == BayKind.PAINT
    assert kinds["C0101"] == ""  # the usual bay of its category


def test_the_new_technicians_can_sign_in_with_the_demo_password(loaded):
    from aftersales.org.demo import DEMO_PASSWORD
    from aftersales.org.models import RoleAssignment, User

    for username in ("bj01-tech2", "sz01-tech6", "gz01-sa2"):
        user = User.objects.get(username=username)
        assert user.check_password(DEMO_PASSWORD), username
        assert RoleAssignment.objects.filter(user=user, dealer=user.dealer).exists()
    for code in DEMO_DEALERS:
        assert Advisor.objects.filter(dealer__code=code).count() == 2
        skills = Technician.objects.filter(dealer__code=code).values_list("bay_kinds", flat=True)
        assert set().union(*map(set, skills)) == set(BayKind.values), code


def test_the_statistics_of_the_demo_have_every_figure(loaded):
    from aftersales.appointments.stats import booking_stats, default_range
    from aftersales.org.models import User

    first, last = default_range(timezone.localdate())
    stats = booking_stats(user=User.objects.get(username="admin"), first=first, last=last)

    assert len(stats["per_dealer"]) == 6
    assert all(c["bookings"] > 0 for c in stats["by_channel"])
    assert 50 < stats["show_rate"] < 100 and 0 < stats["no_show_rate"] < 50
    assert stats["lead_time_hours"] > 0 and 0 < stats["utilisation"] < 100
    assert all(k["available_hours"] > 0 for k in stats["per_bay_kind"])
