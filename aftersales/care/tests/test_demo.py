"""The demo customer care: coupons in every state and for every reason, a holiday
greeting sent through the outbox with its coupons; loading twice adds nothing."""

import pytest

from aftersales.care.choices import CouponReason, CouponState, HolidayStatus
from aftersales.care.demo import load
from aftersales.care.models import Coupon, HolidayGreeting
from aftersales.core.models import OutboxMessage
from aftersales.crm.models import Customer
from aftersales.crm.testing import make_customer

pytestmark = pytest.mark.django_db


def test_the_demo_has_every_state_and_a_sent_greeting(demo_org):
    bj01 = demo_org["bj01-cashier"].dealer
    customers = [make_customer(dealer=bj01) for _ in range(4)]
    make_customer(dealer=demo_org["sh01-cashier"].dealer)
    Customer.objects.filter(pk__in=[c.pk for c in customers[:3]]).update(marketing_consent=True)
    first = load()
    again = load()
    assert first["added"] == 400 and again["added"] == 0
    assert set(Coupon.objects.values_list("state", flat=True)) == set(CouponState.values)
    assert set(Coupon.objects.values_list("reason", flat=True)) == set(CouponReason.values)
    assert Coupon.objects.filter(dealer__isnull=True).exists()
    redeemed = Coupon.objects.filter(state=CouponState.REDEEMED)
    assert not redeemed.filter(redeemed_at__isnull=True).exists()
    sent = HolidayGreeting.objects.get(status=HolidayStatus.SENT)
    assert (sent.dealer, sent.sent_count) == (bj01, 3)
    assert Coupon.objects.filter(holiday=sent).count() == 3
    assert OutboxMessage.objects.filter(dedup_key__startswith="care.greeting_holiday").count() == 3
    assert HolidayGreeting.objects.filter(status=HolidayStatus.PLANNED, dealer=None).exists()
