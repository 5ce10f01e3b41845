"""The demo appointments: loaded for every demo dealer, idempotent, never overbooked,
within the opening hours, linked to the repair orders they became, pages open."""

from collections import defaultdict

import pytest
from django.urls import reverse
from django.utils import timezone

from aftersales.appointments.choices import HOLDING, BookingStatus
from aftersales.appointments.models import Booking, BookingEvent, Technician
from aftersales.billing.demo import DEMO_DEALERS
from aftersales.workorders.models import ServiceSettings

B = BookingStatus


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
        again = DEMO_STEPS[-1]()
        yield {"result": results["aftersales.appointments.demo"], "count": count, "again": again}
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def loaded(demo, db):
    return demo


def test_every_demo_dealer_gets_staff_and_weeks_of_bookings_once(loaded):
    assert loaded["result"]["dealers"] == 6 and loaded["again"]["dealers"] == 0
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
