"""Giving and voiding coupons: permission at the issuing dealer (the OEM's coupons at OEM
level), the terms and the window checked, the code unguessable and typed either way."""

import datetime
from decimal import Decimal

import pytest

from aftersales.care.choices import CouponState
from aftersales.care.models import Coupon
from aftersales.care.services import ALPHABET, clean_code, coupon_issue, coupon_void
from aftersales.care.testing import make_coupon
from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from aftersales.core.models import AuditLog
from aftersales.crm.testing import make_customer

pytestmark = pytest.mark.django_db


def in_days(n):
    return datetime.date.today() + datetime.timedelta(days=n)


@pytest.fixture
def bj01(demo_org):
    return demo_org["bj01-sa"].dealer


def test_an_advisor_gives_a_coupon_of_the_dealer(demo_org, bj01):
    customer = make_customer(dealer=bj01)
    coupon = coupon_issue(
        actor=demo_org["bj01-sa"],
        customer=customer,
        dealer=bj01,
        percent="15",
        min_spend="300",
        valid_until=in_days(10),
        note="等待过久致歉",
    )
    assert (coupon.state, coupon.percent, coupon.amount) == ("issued", Decimal("15"), None)
    assert len(coupon.code) == 12 and set(coupon.code) <= set(ALPHABET)
    assert clean_code(coupon.display_code.lower()) == coupon.code
    assert AuditLog.objects.filter(object_id=str(coupon.pk), action="create").exists()


def test_giving_is_refused_out_of_scope_or_with_wrong_terms(demo_org, bj01):
    advisor = demo_org["bj01-sa"]
    customer = make_customer(dealer=bj01)
    with pytest.raises(PermissionDenied):  # an OEM coupon needs the OEM level
        coupon_issue(actor=advisor, customer=customer, amount="10", valid_until=in_days(5))
    with pytest.raises(NotFound):  # another dealer's customer
        coupon_issue(
            actor=advisor,
            customer=make_customer(dealer=demo_org["sh01-sa"].dealer),
            dealer=bj01,
            amount="10",
            valid_until=in_days(5),
        )
    for terms, code in [
        ({}, "amount_or_percent"),
        ({"amount": "10", "percent": "5"}, "amount_or_percent"),
        ({"amount": "-3"}, "invalid"),
        ({"percent": "120"}, "invalid"),
        ({"amount": "10.555"}, "invalid"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            coupon_issue(
                actor=advisor, customer=customer, dealer=bj01, valid_until=in_days(5), **terms
            )
        assert refused.value.code == code, terms
    with pytest.raises(ValidationFailed) as refused:
        coupon_issue(
            actor=advisor, customer=customer, dealer=bj01, amount="10", valid_until=in_days(-1)
        )
    assert refused.value.code == "window"
    assert not Coupon.objects.exists()


def test_voiding_only_issued_coupons_by_whoever_may(demo_org, bj01):
    coupon = make_coupon(dealer=bj01)
    with pytest.raises(PermissionDenied):  # the advisor gives but does not void
        coupon_void(actor=demo_org["bj01-sa"], coupon=coupon, reason="x")
    with pytest.raises(NotFound):  # another dealer's coupon
        coupon_void(actor=demo_org["sh01-dcrcmgr"], coupon=coupon, reason="x")
    voided = coupon_void(actor=demo_org["bj01-dcrcmgr"], coupon=coupon, reason="发错客户")
    assert voided.state == CouponState.VOID and voided.voided_by == demo_org["bj01-dcrcmgr"]
    with pytest.raises(Conflict):
        coupon_void(actor=demo_org["bj01-dcrcmgr"], coupon=coupon, reason="again")
