"""Birthday and holiday greetings through the outbox: who gets them (marketing consent,
the holiday's dealer), the coupon of the settings, and idempotency — the day's job run
again sends nothing twice and issues no second coupon."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from aftersales.care.choices import CouponKind, CouponReason, HolidayStatus
from aftersales.care.greetings import birthday_greetings, daily_greetings, holiday_greetings
from aftersales.care.messages import BIRTHDAY_EVENT, HOLIDAY_EVENT
from aftersales.care.models import Coupon, GreetingSettings, HolidayGreeting
from aftersales.care.services import greeting_settings_update, holiday_create
from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.models import OutboxMessage
from aftersales.crm.models import Customer
from aftersales.crm.testing import make_customer

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 5, 20)


@pytest.fixture
def bj01(demo_org):
    return demo_org["bj01-admin"].dealer


def customer(dealer, *, birthday=None, consent=True, name="张伟"):
    row = make_customer(dealer=dealer, name=name)
    Customer.objects.filter(pk=row.pk).update(birthday=birthday, marketing_consent=consent)
    return Customer.objects.get(pk=row.pk)


def messages_to(customer, event):
    return OutboxMessage.objects.filter(recipient=customer.mobile, dedup_key__startswith=event)


def test_birthday_greetings_go_once_with_the_dealers_coupon(demo_org, bj01):
    # given the dealer's own settings (a 10 % coupon for 60 days) and three customers:
    # a birthday today with consent, a birthday today without consent, another day
    admin = demo_org["bj01-admin"]
    greeting_settings_update(
        actor=admin,
        dealer=bj01,
        coupon_kind=CouponKind.PERCENT,
        coupon_percent="10",
        coupon_valid_days=60,
    )
    glad = customer(bj01, birthday=datetime.date(1985, 5, 20), name="李娜")
    private = customer(bj01, birthday=datetime.date(1990, 5, 20), consent=False)
    other = customer(bj01, birthday=datetime.date(1990, 5, 21))
    # when the day's job runs twice
    first = birthday_greetings(today=TODAY)
    second = birthday_greetings(today=TODAY)
    # then only the consenting birthday customer is greeted, once, with one coupon
    assert (first["greeted"], first["coupons"]) == (1, 1)
    assert second["greeted"] == 1  # it finds the same message, and queues none
    sent = messages_to(glad, BIRTHDAY_EVENT)
    assert sent.count() == 1
    coupon = Coupon.objects.get(customer=glad)
    assert (coupon.reason, coupon.dealer, coupon.percent) == (
        CouponReason.BIRTHDAY,
        bj01,
        Decimal("10.00"),
    )
    assert coupon.valid_until == TODAY + datetime.timedelta(days=59)
    # the message names the customer, the dealer and the coupon's code
    body = sent.get().body
    assert "李娜" in body and bj01.name in body and coupon.display_code in body
    assert not messages_to(private, BIRTHDAY_EVENT).exists()
    assert not messages_to(other, BIRTHDAY_EVENT).exists()
    assert Coupon.objects.count() == 1


def test_the_oems_settings_give_an_oem_coupon_and_can_switch_greetings_off(demo_org, bj01):
    oem = demo_org["oem-admin"]
    greeting_settings_update(actor=oem, coupon_kind="amount", coupon_amount="50")
    glad = customer(bj01, birthday=datetime.date(1985, 5, 20))
    birthday_greetings(today=TODAY)
    assert Coupon.objects.get(customer=glad).dealer is None  # valid at every dealer
    # when the OEM switches birthday greetings off, next year's birthday gets nothing
    greeting_settings_update(actor=oem, birthday_enabled=False)
    counts = birthday_greetings(today=TODAY.replace(year=2027))
    assert (counts["greeted"], counts["skipped"]) == (0, 1)


def test_a_29_february_birthday_is_greeted_on_28_february(bj01):
    leap = customer(bj01, birthday=datetime.date(1992, 2, 29))
    counts = birthday_greetings(today=datetime.date(2027, 2, 28))
    assert counts["greeted"] == 1 and messages_to(leap, BIRTHDAY_EVENT).exists()


def test_a_dealers_holiday_greeting_reaches_its_customers_once(demo_org, bj01):
    # given a greeting with a 30-yuan coupon for bj01's customers, and customers of
    # bj01 (with and without consent) and of another dealer
    sh01 = demo_org["sh01-admin"].dealer
    ours = customer(bj01)
    silent = customer(bj01, consent=False)
    theirs = customer(sh01)
    holiday = HolidayGreeting.objects.create(
        name="端午节",
        date=TODAY,
        text="端午安康！",
        dealer=bj01,
        coupon_kind=CouponKind.AMOUNT,
        coupon_amount=Decimal("30"),
        created_by=demo_org["bj01-admin"],
    )
    # when the day's job runs, and runs again
    first = holiday_greetings(today=TODAY)
    again = holiday_greetings(today=TODAY)
    # then bj01's consenting customer got one message and one coupon; nobody else
    assert (first["holidays"], first["greeted"], first["coupons"]) == (1, 1, 1)
    assert again == {"holidays": 0, "greeted": 0, "coupons": 0}
    assert "端午安康" in messages_to(ours, HOLIDAY_EVENT).get().body
    assert not messages_to(silent, HOLIDAY_EVENT).exists()
    assert not messages_to(theirs, HOLIDAY_EVENT).exists()
    coupon = Coupon.objects.get(customer=ours)
    assert (coupon.holiday, coupon.dealer, coupon.amount) == (holiday, bj01, Decimal("30.00"))
    holiday.refresh_from_db()
    assert (holiday.status, holiday.sent_count, holiday.coupon_count) == (HolidayStatus.SENT, 1, 1)


def test_a_crashed_run_resumes_without_duplicates(demo_org, bj01):
    # given a national greeting half sent (the job died after the first customer)
    first, second = customer(bj01), customer(bj01)
    holiday = HolidayGreeting.objects.create(
        name="中秋节",
        date=TODAY,
        text="中秋快乐",
        coupon_kind=CouponKind.AMOUNT,
        coupon_amount=Decimal("20"),
        created_by=demo_org["oem-admin"],
    )
    from aftersales.care.greetings import holiday_send

    holiday_send(holiday, today=TODAY, batch=1)
    HolidayGreeting.objects.filter(pk=holiday.pk).update(status=HolidayStatus.PLANNED)
    OutboxMessage.objects.filter(recipient=second.mobile).delete()  # "not reached yet"
    # when the day's job runs
    holiday_greetings(today=TODAY)
    # then each customer has exactly one message and one coupon
    for person in (first, second):
        assert messages_to(person, HOLIDAY_EVENT).count() == 1
        assert Coupon.objects.filter(customer=person, holiday=holiday).count() == 1


def test_the_command_runs_the_day_and_expires_old_coupons(bj01, capsys):
    from aftersales.care.testing import make_coupon

    old = make_coupon(
        customer=customer(bj01),
        dealer=bj01,
        valid_from=datetime.date(2026, 1, 1),
        valid_until=datetime.date(2026, 5, 19),
    )
    call_command("care_greetings", "--date", "2026-05-20")
    assert "1 coupons expired" in capsys.readouterr().out
    old.refresh_from_db()
    assert old.state == "expired"
    assert daily_greetings(today=TODAY)["expired"] == 0


def test_planning_a_greeting_checks_the_input_and_the_level(demo_org, bj01):
    admin = demo_org["bj01-admin"]
    with pytest.raises(PermissionDenied):  # a national greeting is the OEM's
        holiday_create(actor=admin, name="春节", date=TODAY, text="新春快乐")
    with pytest.raises(ValidationFailed) as refused:
        holiday_create(
            actor=admin,
            name="",
            date=datetime.date(2000, 1, 1),
            text="x" * 301,
            dealer=bj01,
            coupon_kind="amount",
        )
    assert set(refused.value.fields) == {"name", "text", "date"}
    with pytest.raises(ValidationFailed):  # an amount coupon without its amount
        holiday_create(
            actor=admin,
            name="春节",
            date=datetime.date(2099, 1, 1),
            text="新春快乐",
            dealer=bj01,
            coupon_kind="amount",
        )
    assert not HolidayGreeting.objects.exists() and not GreetingSettings.objects.exists()
