"""Service reminders in the customer 360 timeline: written, called (the outcome) and
returned, only for users who may see the reminder, paged with ``before``."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from aftersales.appointments.testing import make_user
from aftersales.crm.timeline import customer_timeline
from aftersales.reminders import services
from aftersales.reminders.models import Reminder
from aftersales.reminders.testing import make_reminder

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def reminder_entries(customer, user, **options):
    return [
        e for e in customer_timeline(customer, user, **options) if e.kind == "reminders.reminder"
    ]


def test_reminders_their_outcome_and_the_return_are_on_the_timeline(client, bj):
    # given a reminder written ten days ago, declined on the phone three days ago, and
    # another one that came back with a repair order yesterday
    agent = make_user(bj, "dcrc_agent")
    now = timezone.now()
    declined = make_reminder(bj, kind="insurance")
    Reminder.objects.filter(pk=declined.pk).update(created_at=now - datetime.timedelta(days=10))
    services.reminder_call(
        actor=agent,
        reminder=declined,
        outcome="declined",
        note="已在别处续保",
        now=now - datetime.timedelta(days=3),
    )
    returned = make_reminder(bj, vehicle=declined.vehicle, kind="maintenance")
    Reminder.objects.filter(pk=returned.pk).update(
        created_at=now - datetime.timedelta(days=9),
        returned_at=now - datetime.timedelta(days=1),
    )
    customer = declined.customer

    # when the agent reads the customer's timeline
    entries = reminder_entries(customer, agent)

    # then newest first: the return, the call's outcome with its note, the two reminders
    titles = [e.title for e in entries]
    assert titles == [
        "Returned after the reminder: Maintenance (保养)",
        "Reminder call (Insurance renewal (保险)): Declined",
        f"Reminder: Maintenance (保养) due {returned.due_date.isoformat()}",
        f"Reminder: Insurance renewal (保险) due {declined.due_date.isoformat()}",
    ]
    call = entries[1]
    assert "已在别处续保" in call.detail and "1 call ·" in call.detail
    assert call.url == reverse("reminder-call", args=[declined.pk])
    assert entries[3].url == reverse("reminder-vehicle-sheet", args=[declined.vehicle_id])
    assert "Phone reminder" in entries[3].detail

    # and the customer 360 page shows them
    client.force_login(agent)
    page = client.get(reverse("customer-detail", args=[customer.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "已在别处续保" in page.content.decode()

    # when the timeline is paged before the call, only the older entries come
    older = reminder_entries(customer, agent, before=call.at)
    assert [e.title for e in older] == titles[2:]


def test_another_dealers_user_sees_no_reminder(bj, tj):
    # given a reminder of BJ01 whose customer also deals with TJ01
    reminder = make_reminder(bj)
    from aftersales.crm.services import relationship_ensure

    relationship_ensure(dealer=tj, vehicle=reminder.vehicle)
    outsider = make_user(tj, "dcrc_agent")
    # when TJ01's agent reads the customer's timeline, no reminder of BJ01 is on it
    assert reminder_entries(reminder.customer, outsider) == []
    # while BJ01's agent sees it
    assert len(reminder_entries(reminder.customer, make_user(bj, "dcrc_agent"))) == 1
