"""Sending something to a customer: the channels chosen, marketing consent, quiet hours,
templates per event/channel/language (and the refusal of one that does not fit its event),
de-duplication, the WeChat binding, and the whole way out through real provider servers."""

import datetime

import pytest
from django.utils import timezone

from aftersales.core.contact import (
    contact_plan,
    customer_bind_wechat,
    customer_send,
    may_market,
    message_template_save,
    next_send_time,
    register_event,
)
from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.models import MessageTemplate, OutboxMessage
from aftersales.core.outbox import outbox_drain
from aftersales.crm.models import Customer
from aftersales.crm.testing import make_customer
from aftersales.org.models import Dealer
from aftersales.reminders.models import ReminderSettings
from aftersales.testing.fake_sms import TEMPLATE_REGISTRATION, fake_sms  # noqa: F401
from aftersales.testing.fake_wechat import fake_wechat  # noqa: F401

NOTICE = "test.notice"
OFFER = "test.offer"
register_event(
    NOTICE,
    variables=("customer_name", "plate"),
    default_text="{customer_name}: {plate} is due.",
    marketing=False,
    label="Test notice",
)
register_event(
    OFFER,
    variables=("customer_name",),
    default_text="{customer_name}, 20% off this week.",
    marketing=True,
    label="Test offer",
)
LOCAL = timezone.get_default_timezone()


def at(day, hour, minute=0):
    """An instant in December of a year the real clock will not reach while these tests
    live: a message held back until it stays held back (the outbox never sends before
    the real now either)."""
    return datetime.datetime(2099, 12, day, hour, minute, tzinfo=LOCAL)


@pytest.fixture
def dealer(demo_org):
    return Dealer.objects.get(code="BJ01")


@pytest.fixture
def oem_admin(demo_org):
    return demo_org["oem-admin"]


def customer(dealer, **fields):
    made = make_customer(dealer=dealer)
    Customer.objects.filter(pk=made.pk).update(**fields)
    made.refresh_from_db()
    return made


def send(who, *, event=NOTICE, key="k1", now=None, **kwargs):
    return customer_send(
        customer=who,
        event=event,
        params={"customer_name": who.name, "plate": "京A·12345"},
        dedup_key=key,
        now=now or at(15, 10),
        **kwargs,
    )


# ---------------------------------------------------------------- channels and consent


@pytest.mark.django_db
def test_a_wechat_owner_gets_a_template_message_only(dealer):
    # Given an owner bound to WeChat who prefers WeChat
    owner = customer(dealer, wechat_openid="o-1", contact_channel="wechat")

    # When a notice is sent with a link
    [message] = send(owner, link="https://svc/b/1/")

    # Then one WeChat message to the openid carries the text and the link
    assert (message.channel, message.recipient) == ("wechat", "o-1")
    assert message.body == f"{owner.name}: 京A·12345 is due."
    assert message.payload["url"] == "https://svc/b/1/"


@pytest.mark.django_db
def test_an_owner_who_chose_sms_gets_both(dealer):
    # Given an owner bound to WeChat who chose SMS
    owner = customer(dealer, wechat_openid="o-2", contact_channel="sms")

    # When a notice is sent
    messages = send(owner)

    # Then WeChat and SMS both carry it
    assert sorted(m.channel for m in messages) == ["sms", "wechat"]
    sms = next(m for m in messages if m.channel == "sms")
    assert sms.recipient == owner.mobile
    assert sms.payload == {
        "template": "test_notice",
        "params": {"customer_name": owner.name, "plate": "京A·12345"},
    }


@pytest.mark.django_db
def test_without_wechat_a_text_message_goes(dealer):
    # Given an owner without WeChat who prefers phone calls
    owner = customer(dealer, contact_channel="phone")

    # When a notice is sent
    [message] = send(owner)

    # Then it is a text message
    assert message.channel == "sms"


@pytest.mark.django_db
def test_marketing_needs_consent(dealer):
    # Given two WeChat owners, one who agreed to marketing
    refused = customer(dealer, wechat_openid="o-3", contact_channel="wechat")
    agreed = customer(dealer, wechat_openid="o-4", contact_channel="wechat", marketing_consent=True)

    # When an offer is sent to both
    # Then only the one who agreed gets it; the other is skipped with the reason
    assert send(refused, event=OFFER) == []
    assert contact_plan(refused, OFFER).skip_reason == "no_consent"
    assert not may_market(refused) and may_market(agreed)
    assert [m.channel for m in send(agreed, event=OFFER)] == ["wechat"]
    # and service messages need no consent
    assert [m.channel for m in send(refused, key="k2")] == ["wechat"]


@pytest.mark.django_db
def test_a_second_send_with_the_same_key_queues_nothing(dealer):
    # Given a notice already sent to an owner
    owner = customer(dealer, wechat_openid="o-5", contact_channel="sms")
    first = send(owner)

    # When it is sent again with the same key (a re-run)
    again = send(owner)

    # Then the same messages come back and nothing new is queued
    assert {m.pk for m in again} == {m.pk for m in first}
    assert OutboxMessage.objects.count() == 2


# ---------------------------------------------------------------- quiet hours


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("customer_quiet", "oem_quiet", "now", "expected"),
    [
        # the customer's night 21:00-08:00: 22:30 waits for 08:00 the next morning
        ((21, 8), None, at(15, 22, 30), at(16, 8)),
        # in the early morning part of the same window: 06:00 waits for 08:00 that day
        ((21, 8), None, at(15, 6), at(15, 8)),
        # outside every window: now
        ((21, 8), (12, 14), at(15, 10), at(15, 10)),
        # the OEM's lunch break
        (None, (12, 14), at(15, 12, 30), at(15, 14)),
        # windows that chain: the customer's night ends inside the OEM's 07:30-09:00
        ((21, 8), ((7, 30), 9), at(15, 23), at(16, 9)),
    ],
)
def test_quiet_hours_hold_a_message_back(dealer, customer_quiet, oem_quiet, now, expected):
    # Given the customer's and the OEM's quiet hours
    def t(value):
        hour, minute = value if isinstance(value, tuple) else (value, 0)
        return datetime.time(hour, minute)

    fields = {}
    if customer_quiet:
        fields = {"quiet_from": t(customer_quiet[0]), "quiet_until": t(customer_quiet[1])}
    owner = customer(dealer, wechat_openid="o-q", contact_channel="wechat", **fields)
    if oem_quiet:
        ReminderSettings.objects.create(quiet_from=t(oem_quiet[0]), quiet_until=t(oem_quiet[1]))

    # When a notice is sent at ``now``
    [message] = send(owner, now=now)

    # Then it waits until the quiet hours are over (a delay, never a skip)
    assert next_send_time(now, customer=owner) == expected
    assert message.next_attempt_at == expected


# ---------------------------------------------------------------- templates


@pytest.mark.django_db
def test_the_oem_template_is_used_for_the_channel(dealer, oem_admin):
    # Given the OEM's WeChat template for the notice
    message_template_save(
        actor=oem_admin,
        event=NOTICE,
        channel="wechat",
        language="zh-hans",
        text="{customer_name}，您的爱车{plate}该保养了",
        wechat_template_id="TPL-REMINDER",
        wechat_fields={"thing1": "{customer_name}", "thing2": "{plate}", "time3": "本月"},
    )
    owner = customer(dealer, wechat_openid="o-6", contact_channel="wechat", name="王芳")

    # When the notice is sent
    [message] = send(owner)

    # Then its template id and fields are filled in
    assert message.body == "王芳，您的爱车京A·12345该保养了"
    assert message.payload["template_id"] == "TPL-REMINDER"
    assert message.payload["data"] == {"thing1": "王芳", "thing2": "京A·12345", "time3": "本月"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"channel": "sms", "text": "{customer_name}: due."}, "text", "{plate}"),
        ({"channel": "sms", "text": "{customer_name} {plate} {mileage}"}, "text", "{mileage}"),
        ({"channel": "sms", "text": "{customer_name {plate}"}, "text", "大括号"),
        (
            {"channel": "wechat", "text": "{customer_name} {plate}", "wechat_fields": {"a": "x"}},
            "wechat_template_id",
            "template id",
        ),
        (
            {
                "channel": "wechat",
                "text": "x",
                "wechat_template_id": "T",
                "wechat_fields": {"thing1": "{customer_name}"},
            },
            "wechat_fields",
            "{plate}",
        ),
    ],
)
def test_a_template_that_does_not_fit_its_event_is_refused(oem_admin, values, field, words):
    # Given a template missing a variable, using an unknown one, or incomplete
    # When the OEM saves it
    with pytest.raises(ValidationFailed) as refused:
        message_template_save(actor=oem_admin, event=NOTICE, language="zh-hans", **values)

    # Then it is refused with the reason on the field, and nothing is saved
    assert refused.value.code == "template_invalid"
    assert words in str(refused.value.fields[field])
    assert words in str(refused.value.message)
    assert not MessageTemplate.objects.exists()


@pytest.mark.django_db
def test_a_dealer_may_not_change_the_templates(demo_org):
    # Given a dealer's manager
    # When they save a template
    # Then it is refused
    with pytest.raises(PermissionDenied):
        message_template_save(
            actor=demo_org["bj01-dcrcmgr"],
            event=NOTICE,
            channel="sms",
            language="zh-hans",
            text="{customer_name} {plate}",
        )


# ---------------------------------------------------------------- WeChat binding and delivery


@pytest.mark.django_db
def test_the_oauth_code_binds_the_owners_openid(dealer, fake_wechat):  # noqa: F811
    # Given an owner who opened the owner site from WeChat (and one with that openid before)
    owner, before = customer(dealer), customer(dealer, wechat_openid="o-bound")
    code = fake_wechat.oauth_code("o-bound")

    # When the code comes back to us
    openid = customer_bind_wechat(customer=owner, code=code)

    # Then the openid is the owner's (and only theirs); the code cannot be used twice
    owner.refresh_from_db()
    before.refresh_from_db()
    assert (openid, owner.wechat_openid, before.wechat_openid) == ("o-bound", "o-bound", "")
    with pytest.raises(ValidationFailed) as refused:
        customer_bind_wechat(customer=before, code=code)
    assert refused.value.code == "wechat_code_invalid"


@pytest.mark.django_db
def test_a_message_reaches_wechat_and_sms_providers(dealer, fake_wechat, fake_sms, settings):  # noqa: F811
    # Given an owner on both channels and the providers' templates
    settings.SMS_TEMPLATE_TEST_NOTICE = TEMPLATE_REGISTRATION
    owner = customer(dealer, wechat_openid="o-7", contact_channel="sms", mobile="13912340007")
    fake_wechat.follow("o-7")
    send(owner, now=timezone.now(), link="https://svc/b/7/")

    # When the outbox is drained
    counts = outbox_drain()

    # Then both providers have the message
    assert counts["sent"] == 2
    [wechat] = fake_wechat.messages
    assert wechat["touser"] == "o-7"
    assert wechat["data"] == {"thing1": {"value": f"{owner.name}: 京A·12345 is due."}}
    [sms] = fake_sms.messages
    assert sms["PhoneNumbers"] == "13912340007"
    assert sms["TemplateParam"] == {"customer_name": owner.name, "plate": "京A·12345"}
