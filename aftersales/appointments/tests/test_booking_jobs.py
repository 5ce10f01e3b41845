"""The two booking jobs: no-shows after each dealer's grace time, and the day-before
reminder once, by the customer's channel, out of their quiet hours, again after a move.
Re-running a job never does anything twice."""

import datetime

import pytest

from aftersales.appointments import tasks
from aftersales.appointments.bookings import (
    booking_cancel,
    booking_confirm,
    booking_create,
    booking_reschedule,
    mark_no_shows,
    no_show_count,
    send_reminders,
)
from aftersales.appointments.choices import BookingStatus
from aftersales.appointments.messages import in_quiet_hours
from aftersales.appointments.models import Booking, BookingEvent, ScheduleSettings
from aftersales.appointments.testing import make_capacity
from aftersales.appointments.tests.conftest import DAY, NOW, at
from aftersales.core.models import OutboxMessage
from aftersales.crm.testing import make_customer, make_vehicle
from aftersales.workorders.testing import advisor_of

pytestmark = pytest.mark.django_db
DAY_BEFORE = DAY - datetime.timedelta(days=1)


def book(dealer, when, *, vehicle=None, confirm=False, **customer):
    vehicle = vehicle or make_vehicle(owner=make_customer(dealer=dealer, **customer), dealer=dealer)
    return booking_create(
        actor=advisor_of(dealer),
        dealer=dealer,
        vehicle=vehicle,
        service_type="maintenance",
        channel="phone",
        starts_at=when,
        confirm=confirm,
        now=NOW,
    )


def reminders(booking):
    return OutboxMessage.objects.filter(payload__booking=booking.pk, payload__kind="reminder")


def test_no_shows_follow_each_dealers_grace_time_and_leave_final_bookings_alone(
    workshop, bj01, tj01
):
    make_capacity(tj01)
    ScheduleSettings.objects.filter(dealer=tj01).update(no_show_grace_minutes=60)
    late_bj = book(bj01, at(9))
    late_tj = book(tj01, at(9), confirm=True)
    cancelled = book(bj01, at(9, 15))
    booking_cancel(
        actor=advisor_of(bj01), booking=cancelled, version=cancelled.version, reason="改天"
    )

    assert mark_no_shows(now=at(9, 45)) == 1  # BJ01 waits 30 minutes, TJ01 an hour
    assert mark_no_shows(now=at(10, 1)) == 1
    assert mark_no_shows(now=at(11)) == 0

    statuses = dict(Booking.objects.values_list("pk", "status"))
    assert statuses[late_bj.pk] == statuses[late_tj.pk] == BookingStatus.NO_SHOW
    assert statuses[cancelled.pk] == BookingStatus.CANCELLED
    event = BookingEvent.objects.get(booking=late_bj, kind="no_show")
    assert event.actor is None and event.actor_label
    assert Booking.objects.get(pk=late_bj.pk).version == late_bj.version + 1


def test_no_shows_are_counted_per_customer_across_dealers(workshop, bj01, tj01):
    make_capacity(tj01)
    customer = make_customer(dealer=bj01)
    car = make_vehicle(owner=customer, dealer=bj01)
    book(bj01, at(9), vehicle=car)
    book(tj01, at(9, day=DAY + datetime.timedelta(days=1)), vehicle=car)
    book(bj01, at(9, day=DAY + datetime.timedelta(days=2)), vehicle=car)

    mark_no_shows(now=at(12, day=DAY + datetime.timedelta(days=1)))

    assert no_show_count(customer) == 2 and no_show_count(None) == 0


def test_only_confirmed_bookings_get_a_reminder_once_the_reminder_hour_has_come(workshop, bj01):
    ScheduleSettings.objects.filter(dealer=bj01).update(reminder_hour=16)
    confirmed = book(bj01, at(9), confirm=True)
    requested = book(bj01, at(10))
    later = book(bj01, at(9, day=DAY + datetime.timedelta(days=1)), confirm=True)

    assert send_reminders(now=at(15, 59, day=DAY_BEFORE)) == 0
    assert send_reminders(now=at(16, day=DAY_BEFORE)) == 1
    assert send_reminders(now=at(17, day=DAY_BEFORE)) == 0

    assert reminders(confirmed).count() == 1 and not reminders(requested).exists()
    assert not reminders(later).exists()
    confirmed.refresh_from_db()
    assert confirmed.reminded_at == at(16, day=DAY_BEFORE)
    assert confirmed.events.filter(kind="message").count() == 1


def test_the_reminder_waits_for_the_end_of_the_customers_quiet_hours(workshop, bj01):
    quiet = book(
        bj01,
        at(9),
        confirm=True,
        quiet_from=datetime.time(9, 0),
        quiet_until=datetime.time(12, 0),
    )
    loud = book(bj01, at(9, 15), confirm=True)

    assert send_reminders(now=at(10, day=DAY_BEFORE)) == 1
    assert not reminders(quiet).exists() and reminders(loud).exists()
    assert send_reminders(now=at(12, day=DAY_BEFORE)) == 1
    assert reminders(quiet).count() == 1


@pytest.mark.parametrize(
    "quiet_from, quiet_until, hour, inside",
    [
        (datetime.time(22), datetime.time(8), 23, True),
        (datetime.time(22), datetime.time(8), 7, True),
        (datetime.time(22), datetime.time(8), 8, False),
        (datetime.time(12), datetime.time(14), 13, True),
        (None, None, 13, False),
    ],
)
def test_quiet_hours_may_run_over_midnight(quiet_from, quiet_until, hour, inside):
    assert in_quiet_hours(quiet_from, quiet_until, at(hour)) is inside


def test_a_moved_booking_is_reminded_again_for_its_new_day(workshop, bj01):
    booking = book(bj01, at(9), confirm=True)
    send_reminders(now=at(10, day=DAY_BEFORE))

    moved = booking_reschedule(
        actor=advisor_of(bj01),
        booking=booking,
        version=Booking.objects.get(pk=booking.pk).version,
        starts_at=at(9, day=DAY + datetime.timedelta(days=2)),
        now=NOW,
    )
    assert moved.reminded_at is None
    assert send_reminders(now=at(10, day=DAY + datetime.timedelta(days=1))) == 1
    assert reminders(booking).count() == 2


def test_email_customers_get_email_and_the_rest_a_text(workshop, bj01):
    by_mail = book(bj01, at(9), confirm=True, contact_channel="email", email="wang@example.com")
    wechat = book(bj01, at(9, 15), contact_channel="wechat")
    booking_confirm(actor=advisor_of(bj01), booking=wechat, version=wechat.version)

    mail = OutboxMessage.objects.get(payload__booking=by_mail.pk)
    text = OutboxMessage.objects.get(payload__booking=wechat.pk)
    assert (mail.channel, mail.recipient) == ("email", "wang@example.com") and mail.subject
    assert text.channel == "sms" and text.recipient == wechat.contact_mobile
    assert wechat.number in text.body


def test_the_scheduled_tasks_run_the_jobs(workshop, bj01):
    # the Celery wrappers call the services with the real clock: nothing is due
    assert tasks.mark_no_shows() == 0
    assert tasks.send_reminders() == 0
