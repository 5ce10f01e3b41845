"""Messages to registered owners about their reminders (SPEC 2-12): a WeChat template
message with a booking link (and SMS where chosen), consent for birthday care, quiet hours,
idempotent re-runs, and delivery status that follows the outbox through real provider
servers; a provider error never loses a reminder."""

import datetime
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.utils import timezone

from aftersales.appointments.links import read_booking_link
from aftersales.core.models import OutboxMessage, OutboxStatus
from aftersales.core.outbox import outbox_drain
from aftersales.core.wechat_views import wechat_push
from aftersales.crm.models import Customer
from aftersales.reminders import tasks
from aftersales.reminders.messages import reminder_messages_queue, reminder_messages_sync
from aftersales.reminders.models import Reminder, ReminderMessage
from aftersales.reminders.testing import make_reminder
from aftersales.testing.fake_wechat import fake_wechat  # noqa: F401

pytestmark = pytest.mark.django_db
MONTH = timezone.localdate().replace(day=1)


@pytest.fixture
def bj(demo_org):
    from aftersales.org.models import Dealer

    return Dealer.objects.get(code="BJ01")


def reminder(dealer, *, kind="maintenance", registered=True, **customer_fields):
    row = make_reminder(dealer, kind=kind, registered=registered)
    Customer.objects.filter(pk=row.customer_id).update(**customer_fields)
    return Reminder.objects.select_related("customer", "vehicle").get(pk=row.pk)


def wechat_owner(dealer, openid="o-owner-1", **kwargs):
    return reminder(dealer, wechat_openid=openid, contact_channel="wechat", **kwargs)


def messages(row):
    return list(ReminderMessage.objects.filter(reminder=row).order_by("channel"))


def drain_now():
    OutboxMessage.objects.filter(status=OutboxStatus.PENDING).update(next_attempt_at=timezone.now())
    return outbox_drain()


def test_a_registered_owner_gets_the_reminder_on_wechat_with_a_booking_link(bj):
    # Given a registered owner bound to WeChat and an unregistered one
    row = wechat_owner(bj)
    unregistered = reminder(bj, registered=False, wechat_openid="o-x", contact_channel="wechat")

    # When the month's messages are queued
    counts = reminder_messages_queue(MONTH)

    # Then the registered owner's WeChat message is queued with the content and a link
    [message] = messages(row)
    assert (message.channel, message.status, counts) == (
        "wechat",
        "queued",
        {"queued": 1, "skipped": 0},
    )
    outbox = message.outbox
    assert outbox.recipient == "o-owner-1"
    assert row.vehicle.plate in outbox.body and row.customer.name in outbox.body
    link = read_booking_link(urlsplit(outbox.payload["url"]).path.rstrip("/").rsplit("/", 1)[-1])
    assert (link.vehicle.pk, link.dealer.pk, link.service_type) == (
        row.vehicle_id,
        bj.pk,
        "maintenance",
    )
    # and the unregistered owner gets a phone call from the DCRC instead
    assert messages(unregistered) == []


def test_a_rerun_queues_nothing_twice(bj):
    # Given the month's messages already queued
    wechat_owner(bj)
    reminder_messages_queue(MONTH)

    # When the job runs again
    counts = reminder_messages_queue(MONTH)

    # Then nothing new
    assert counts == {"queued": 0, "skipped": 0}
    assert (ReminderMessage.objects.count(), OutboxMessage.objects.count()) == (1, 1)


def test_sms_where_the_owner_chose_it_or_has_no_wechat(bj):
    # Given an owner on WeChat who chose SMS and one without WeChat
    both = reminder(bj, wechat_openid="o-2", contact_channel="sms")
    sms_only = reminder(bj, contact_channel="phone")

    # When the messages are queued
    reminder_messages_queue(MONTH)

    # Then each gets what they chose
    assert [m.channel for m in messages(both)] == ["sms", "wechat"]
    assert [m.channel for m in messages(sms_only)] == ["sms"]


def test_birthday_care_is_left_to_the_greeting_on_the_day(bj):
    # Given a birthday reminder and a maintenance reminder of registered owners
    birthday = wechat_owner(bj, kind="birthday", marketing_consent=True)
    service = wechat_owner(bj, openid="o-3")

    # When the messages are queued
    counts = reminder_messages_queue(MONTH)

    # Then only the service reminder is messaged (aftersales.care greets on the birthday)
    assert messages(birthday) == [] and [m.status for m in messages(service)] == ["queued"]
    assert counts == {"queued": 1, "skipped": 0}


def test_quiet_hours_delay_but_do_not_skip(bj):
    # Given an owner whose quiet hours started a minute ago and end in almost a day
    now = timezone.localtime()
    start = (now - datetime.timedelta(minutes=1)).time().replace(second=0, microsecond=0)
    end = (now - datetime.timedelta(minutes=2)).time().replace(second=0, microsecond=0)
    row = wechat_owner(bj, quiet_from=start, quiet_until=end)

    # When the messages are queued
    reminder_messages_queue(MONTH)

    # Then the message is queued but waits for the end of the quiet hours
    [message] = messages(row)
    assert message.status == "queued"
    assert message.outbox.next_attempt_at > timezone.now() + datetime.timedelta(hours=23)


def test_a_worked_reminder_gets_no_message(bj):
    # Given a reminder the DCRC already booked
    row = wechat_owner(bj)
    Reminder.objects.filter(pk=row.pk).update(status="booked")

    # When the messages are queued
    # Then none
    assert reminder_messages_queue(MONTH) == {"queued": 0, "skipped": 0}


def test_delivery_status_follows_the_outbox_and_a_provider_error_loses_nothing(bj, fake_wechat):  # noqa: F811
    # Given a queued reminder message and WeChat busy at first
    row = wechat_owner(bj)
    fake_wechat.follow("o-owner-1")
    fake_wechat.answer_error(-1, "system error")
    reminder_messages_queue(MONTH)

    # When the outbox tries, fails, and the status is synchronised
    assert drain_now()["retry"] == 1
    reminder_messages_sync()

    # Then the message is still queued (waiting for the retry)
    [message] = messages(row)
    assert message.status == "queued"

    # When the retry goes through
    assert drain_now()["sent"] == 1
    assert reminder_messages_sync() == {"sent": 1, "failed": 0}

    # Then it is sent, with WeChat's msgid and the time
    message.refresh_from_db()
    assert message.status == "sent"
    assert message.provider_msgid == str(fake_wechat.messages[0]["msgid"])
    assert message.sent_at is not None

    # When WeChat reports that the owner blocked it
    query, xml = fake_wechat.delivery_push(message.provider_msgid, status="failed:user block")
    from django.test import RequestFactory

    request = RequestFactory().post(
        "/wechat/push/?" + "&".join(f"{k}={v}" for k, v in query.items()),
        data=xml,
        content_type="text/xml",
    )
    assert wechat_push(request).status_code == 200
    reminder_messages_sync()

    # Then the message counts as failed, with WeChat's reason
    message.refresh_from_db()
    assert (message.status, message.error) == ("failed", "WeChat: failed:user block")


def test_an_unfollowed_owner_fails_for_good(bj, fake_wechat):  # noqa: F811
    # Given an owner who unfollowed the account
    row = wechat_owner(bj)
    fake_wechat.unfollow("o-owner-1")
    reminder_messages_queue(MONTH)

    # When the outbox tries and the status is synchronised
    drain_now()
    reminder_messages_sync()

    # Then the message failed with WeChat's reason, and the reminder is still the DCRC's
    [message] = messages(row)
    assert message.status == "failed"
    assert "43004" in message.error
    row.refresh_from_db()
    assert row.status == "open"


def test_the_job_and_the_command(bj):
    # Given two registered owners' reminders of this month
    wechat_owner(bj)
    reminder(bj, contact_channel="phone")

    # When the scheduled job runs, and the command after it
    counts = tasks.send_messages()
    out = StringIO()
    call_command(
        "reminders_messages", "--month", MONTH.strftime("%Y-%m"), "--dealer", "bj01", stdout=out
    )

    # Then the job queued both and the command found nothing left
    assert counts == {"queued": 2, "skipped": 0}
    assert "0 messages queued" in out.getvalue()


# ---------------------------------------------------------------- the API


def test_the_dcrc_sees_a_reminders_messages(bj, demo_org, client):
    # Given a reminder with its message
    row = wechat_owner(bj)
    reminder_messages_queue(MONTH)

    # When the dealer's DCRC agent lists its messages
    client.force_login(demo_org["bj01-dcrc"])
    response = client.get(f"/api/reminder-messages/?reminder={row.pk}")

    # Then they see the channel and status
    assert response.status_code == 200
    [item] = response.json()["results"]
    assert (item["channel"], item["status"], item["reminder"]) == ("wechat", "queued", row.pk)


def test_a_template_missing_a_variable_is_refused_by_the_api(demo_org, client):
    # Given the OEM administrator
    client.force_login(demo_org["oem-admin"])

    # When they save a text template that leaves out the due date
    response = client.post(
        "/api/message-templates/",
        {
            "event": "reminders.service",
            "channel": "sms",
            "language": "zh-hans",
            "text": "{customer_name}，您的爱车{plate}该{kind}了。{dealer_name}",
        },
        content_type="application/json",
    )

    # Then it is refused with the reason, and a complete one is saved
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "template_invalid"
    assert "{due_date}" in body["fields"]["text"][0]
    response = client.post(
        "/api/message-templates/",
        {
            "event": "reminders.service",
            "channel": "sms",
            "language": "zh-hans",
            "text": "{customer_name}，您的爱车{plate}约{due_date}该{kind}了。{dealer_name}",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["variables"] == [
        "customer_name",
        "plate",
        "kind",
        "due_date",
        "dealer_name",
    ]
