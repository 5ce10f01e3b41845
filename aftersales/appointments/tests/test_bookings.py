"""Bookings: taken within capacity, refused with the reason, moved with history, cancelled,
confirmed with a message, checked in as a repair order, no-shows and reminders."""

import datetime

import pytest
from django.utils import timezone

from aftersales.appointments.bookings import (
    SlotTaken,
    booking_cancel,
    booking_check_in,
    booking_confirm,
    booking_create,
    booking_reschedule,
    mark_no_shows,
    no_show_count,
    send_reminders,
    walk_in_slot,
)
from aftersales.appointments.choices import BookingStatus
from aftersales.appointments.models import Booking, ClosedDay
from aftersales.appointments.slots import find_slots
from aftersales.appointments.tests.conftest import DAY, NOW, at
from aftersales.core.errors import PermissionDenied, ServiceError, ValidationFailed
from aftersales.core.models import OutboxMessage
from aftersales.crm.testing import make_customer, make_vehicle
from aftersales.workorders.choices import ROStatus
from aftersales.workorders.testing import make_operation, make_rates, staff_of

pytestmark = pytest.mark.django_db


def book(sa, bj01, vehicle, when, **extra):
    extra.setdefault("service_type", "maintenance")
    extra.setdefault("channel", "phone")
    return booking_create(actor=sa, dealer=bj01, vehicle=vehicle, starts_at=when, now=NOW, **extra)


def test_a_booking_takes_the_least_loaded_advisor_bay_and_technician(
    workshop, sa, bj01, vehicle, oil_change
):
    booking = book(sa, bj01, vehicle, at(9), operations=[oil_change], confirm=True)

    assert booking.status == BookingStatus.CONFIRMED and booking.number.startswith("AP")
    assert (booking.starts_at, booking.ends_at) == (at(9), at(10))
    assert booking.bay_kind == "quick" and booking.hours == 1
    assert [e.kind for e in booking.events.all()] == ["created", "confirmed"]
    message = OutboxMessage.objects.get(payload__booking=booking.pk)
    assert message.channel == "sms" and booking.number in message.body
    # a second booking at the same time takes the other technician and bay
    other = book(
        sa,
        bj01,
        make_vehicle(owner=make_customer(dealer=bj01), dealer=bj01),
        at(9, 15),
        operations=[oil_change],
    )
    assert other.technician_id != booking.technician_id


def test_the_last_slot_is_taken_once_and_the_next_caller_hears_slot_taken(
    bj01, sa, vehicle, oil_change
):
    from aftersales.appointments.testing import make_capacity

    make_capacity(bj01, bays=("quick",), technicians=1, advisors=1)
    book(sa, bj01, vehicle, at(9), operations=[oil_change])
    second = make_vehicle(owner=make_customer(dealer=bj01), dealer=bj01)

    with pytest.raises(SlotTaken) as refused:
        book(sa, bj01, second, at(9, 30), operations=[oil_change])

    assert refused.value.code == "slot_taken"
    assert Booking.objects.filter(dealer=bj01).count() == 1
    starts = [
        s.starts_at
        for s in find_slots(dealer=bj01, first=DAY, last=DAY, bay_kind="quick", hours=1, now=NOW)
    ]
    assert at(9) not in starts and at(9, 30) not in starts and at(10) in starts


@pytest.mark.parametrize(
    "when, code",
    [
        (at(8), "outside_hours"),
        (at(17, 30), "outside_hours"),
        (at(9, 7), "off_grid"),
        (NOW - datetime.timedelta(hours=1), "in_the_past"),
        (at(9, day=DAY + datetime.timedelta(days=60)), "too_far_ahead"),
    ],
)
def test_bad_times_are_refused_with_the_reason(workshop, sa, bj01, vehicle, oil_change, when, code):
    with pytest.raises(ValidationFailed) as refused:
        book(sa, bj01, vehicle, when, operations=[oil_change])
    assert refused.value.code == code and refused.value.message
    assert not Booking.objects.exists()


def test_a_closed_day_and_a_missing_bay_kind_are_refused(workshop, sa, bj01, vehicle, oil_change):
    ClosedDay.objects.create(dealer=bj01, day=DAY, reason="盘点")
    paint = make_operation(code="APPAINT", name="喷漆", category="body", bay_kind="paint")

    with pytest.raises(ValidationFailed) as closed:
        book(sa, bj01, vehicle, at(9), operations=[oil_change])
    with pytest.raises(ValidationFailed) as no_bay:
        book(sa, bj01, vehicle, at(9, day=DAY + datetime.timedelta(days=1)), operations=[paint])

    assert closed.value.code == "closed_day" and "盘点" in closed.value.message
    assert no_bay.value.code == "no_bay_kind"


def test_a_user_without_the_role_or_of_another_dealer_cannot_book(workshop, bj01, tj01, vehicle):
    with pytest.raises(PermissionDenied):
        book(staff_of(bj01, "parts_clerk"), bj01, vehicle, at(9))
    with pytest.raises(PermissionDenied):
        book(staff_of(tj01, "service_advisor"), bj01, vehicle, at(9))


def test_a_retried_booking_is_made_once(workshop, sa, bj01, vehicle):
    first = book(sa, bj01, vehicle, at(9), idempotency_key="k-1")
    again = book(sa, bj01, vehicle, at(9), idempotency_key="k-1")
    assert first.pk == again.pk and Booking.objects.count() == 1


def test_a_reschedule_keeps_the_history_and_a_full_slot_is_refused(bj01, sa, vehicle, oil_change):
    from aftersales.appointments.testing import make_capacity

    make_capacity(bj01, bays=("quick",), technicians=1, advisors=1)
    moving = book(sa, bj01, vehicle, at(9), operations=[oil_change], confirm=True)
    other = book(
        sa,
        bj01,
        make_vehicle(owner=make_customer(dealer=bj01), dealer=bj01),
        at(14),
        operations=[oil_change],
    )

    with pytest.raises(SlotTaken):
        booking_reschedule(
            actor=sa, booking=moving, version=moving.version, starts_at=at(14), now=NOW
        )
    moved = booking_reschedule(
        actor=sa, booking=moving, version=moving.version, starts_at=at(11), now=NOW
    )
    # moving within its own time (overlapping itself) is fine
    again = booking_reschedule(
        actor=sa, booking=moved, version=moved.version, starts_at=at(11, 30), now=NOW
    )

    assert again.starts_at == at(11, 30) and again.reschedules == 2
    event = again.events.filter(kind="rescheduled").first()
    assert (event.from_starts_at, event.to_starts_at) == (at(9), at(11))
    assert (
        OutboxMessage.objects.filter(payload__booking=moving.pk).count() == 3
    )  # confirmed, 2 moves
    assert Booking.objects.get(pk=other.pk).starts_at == at(14)


def test_cancel_needs_a_reason_and_frees_the_slot(workshop, sa, bj01, vehicle):
    booking = book(sa, bj01, vehicle, at(9))
    with pytest.raises(ValidationFailed):
        booking_cancel(actor=sa, booking=booking, version=booking.version, reason=" ")

    cancelled = booking_cancel(
        actor=sa, booking=booking, version=booking.version, reason="客户有事"
    )

    assert cancelled.status == BookingStatus.CANCELLED
    with pytest.raises(Exception) as twice:
        booking_confirm(actor=sa, booking=cancelled, version=cancelled.version)
    assert getattr(twice.value, "code", "") == "illegal_transition"


def test_check_in_turns_the_booking_into_a_checked_in_repair_order(
    workshop, sa, bj01, vehicle, oil_change
):
    make_rates(bj01)
    booking = book(sa, bj01, vehicle, at(9), operations=[oil_change], concern="保养，顺便看下雨刮")

    order = booking_check_in(
        actor=sa, booking=booking, version=booking.version, odometer_km=12_345, fuel_level="50"
    )

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CHECKED_IN and booking.repair_order_id == order.pk
    assert order.status == ROStatus.CHECKED_IN and order.concern == "保养，顺便看下雨刮"
    assert order.service_advisor_id == booking.advisor_id
    assert [line.operation_id for line in order.lines.all()] == [oil_change.pk]


def test_a_failed_check_in_changes_nothing(workshop, sa, bj01, vehicle):
    booking = book(sa, bj01, vehicle, at(9))
    with pytest.raises(ServiceError):
        booking_check_in(
            actor=sa, booking=booking, version=booking.version, odometer_km=None, fuel_level=""
        )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.REQUESTED and booking.repair_order_id is None
    assert not vehicle.repair_orders.exists()


def test_no_shows_after_the_grace_time_once_and_counted_per_customer(workshop, sa, bj01, vehicle):
    booking = book(sa, bj01, vehicle, at(9))

    assert mark_no_shows(now=at(9, 29)) == 0
    assert mark_no_shows(now=at(9, 31)) == 1
    assert mark_no_shows(now=at(10)) == 0

    booking.refresh_from_db()
    assert booking.status == BookingStatus.NO_SHOW and no_show_count(vehicle.owner) == 1


def test_reminders_go_out_the_day_before_once(workshop, sa, bj01, vehicle):
    booking = book(sa, bj01, vehicle, at(9), confirm=True)
    day_before = DAY - datetime.timedelta(days=1)

    assert send_reminders(now=at(9, day=day_before)) == 0  # before the reminder hour
    assert send_reminders(now=at(10, 5, day=day_before)) == 1
    assert send_reminders(now=at(11, day=day_before)) == 0

    kinds = OutboxMessage.objects.filter(payload__booking=booking.pk).values_list(
        "payload__kind", flat=True
    )
    assert sorted(kinds) == ["confirmed", "reminder"]


def test_a_walk_in_gets_the_next_free_start(workshop, sa, bj01, vehicle):
    slot = walk_in_slot(dealer=bj01, service_type="repair", now=at(10, 7))
    assert slot.starts_at == at(10, 15)
    assert timezone.localdate(slot.ends_at) == DAY


def test_the_owners_link_carries_dealer_vehicle_service_and_package(bj01, vehicle):
    from aftersales.appointments.bookings import booking_link
    from aftersales.appointments.links import read_booking_link
    from aftersales.workorders.models import MaintenancePackage

    package = MaintenancePackage.objects.create(code="APLINK", name="1万公里保养")

    path = booking_link(dealer=bj01, vehicle=vehicle, service_type="maintenance", package=package)
    token = path.rstrip("/").rsplit("/", 1)[-1]
    link = read_booking_link(token)

    assert path.startswith("/") and path.endswith(f"/{token}/")
    assert (link.dealer, link.vehicle, link.service_type, link.package) == (
        bj01,
        vehicle,
        "maintenance",
        package,
    )
    assert vehicle.vin not in token and vehicle.plate not in token  # ids only


def test_a_tampered_expired_or_stale_link_is_refused(bj01, vehicle):
    from aftersales.appointments.links import booking_token, read_booking_link
    from aftersales.core.errors import NotFound
    from aftersales.workorders.models import MaintenancePackage

    package = MaintenancePackage.objects.create(code="APOLD", name="旧套餐")
    token = booking_token(dealer=bj01, vehicle=vehicle, service_type="repair", package=package)

    with pytest.raises(NotFound) as tampered:
        read_booking_link(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    with pytest.raises(ValidationFailed) as expired:
        read_booking_link(token, max_age=datetime.timedelta(seconds=-1))
    MaintenancePackage.objects.filter(pk=package.pk).update(active=False)
    with pytest.raises(NotFound) as gone:
        read_booking_link(token)
    with pytest.raises(ValidationFailed):
        booking_token(dealer=bj01, vehicle=vehicle, service_type="tyres")

    assert tampered.value.code == "link_invalid"
    assert expired.value.code == "link_expired" and str(expired.value.message)
    assert gone.value.code == "not_found"


def test_another_dealers_bay_or_technician_is_not_found(workshop, sa, bj01, tj01, vehicle):
    from aftersales.appointments.testing import make_capacity
    from aftersales.core.errors import NotFound

    theirs = make_capacity(tj01, technicians=1, advisors=0)

    with pytest.raises(NotFound):
        book(sa, bj01, vehicle, at(9), bay=theirs["bays"][0])
    with pytest.raises(NotFound):
        book(sa, bj01, vehicle, at(9), technician=theirs["technicians"][0].user)
    own = book(sa, bj01, vehicle, at(9), technician=workshop["technicians"][1].user)

    assert own.technician_id == workshop["technicians"][1].user_id
    assert Booking.objects.count() == 1
