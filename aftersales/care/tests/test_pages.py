"""The customer-care pages: the coupon list (filters, scope, a fixed number of queries),
giving and voiding a coupon, the cashier's redemption with its htmx check, planning a
holiday greeting, the greeting settings, and coupons on the customer 360 timeline."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from aftersales.billing.models import Invoice
from aftersales.care.choices import CouponState
from aftersales.care.models import Coupon, GreetingSettings, HolidayGreeting
from aftersales.care.redeem import coupon_redeem
from aftersales.care.testing import invoice_for, make_coupon
from aftersales.crm.testing import make_customer
from aftersales.crm.timeline import customer_timeline

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(demo_org):
    return {**demo_org, "BJ01": demo_org["bj01-cashier"].dealer}


def test_the_list_filters_and_reads_a_fixed_number_of_queries(
    client, org, django_assert_max_num_queries
):
    bj01 = org["BJ01"]
    customer = make_customer(dealer=bj01, name="陈静")
    issued = make_coupon(customer=customer, dealer=bj01)
    make_coupon(customer=customer, dealer=bj01, state=CouponState.VOID, void_reason="重复")
    client.force_login(org["bj01-dcrcmgr"])
    page = client.get(reverse("care-coupon-list") + "?state=issued")
    assert page.status_code == 200
    assert [c.pk for c in page.context["object_list"]] == [issued.pk]
    assert issued.display_code in page.content.decode()
    assert 'data-action="void"' in page.content.decode()
    by_phone = client.get(reverse("care-coupon-list") + f"?q={customer.mobile}")
    assert len(by_phone.context["object_list"]) == 2
    for _n in range(20):
        make_coupon(customer=customer, dealer=bj01)
    with django_assert_max_num_queries(14):
        client.get(reverse("care-coupon-list"))


def test_giving_and_voiding_a_coupon_on_the_pages(client, org):
    bj01 = org["BJ01"]
    customer = make_customer(dealer=bj01, name="赵磊")
    client.force_login(org["bj01-dcrcmgr"])
    form = client.get(reverse("care-coupon-new"))
    key = form.context["form"].initial["idempotency_key"]
    data = {
        "mobile": customer.mobile,
        "issuer": str(bj01.pk),
        "amount": "66",
        "valid_until": (datetime.date.today() + datetime.timedelta(days=30)).isoformat(),
        "reason": "goodwill",
        "note": "返修补偿",
        "idempotency_key": key,
    }
    first = client.post(reverse("care-coupon-new"), data)
    client.post(reverse("care-coupon-new"), data)  # a double submit
    assert first.status_code == 302
    coupon = Coupon.objects.get()
    assert (coupon.customer, coupon.dealer, coupon.amount) == (customer, bj01, Decimal("66.00"))
    # an unknown number is shown next to the field
    page = client.post(reverse("care-coupon-new"), {**data, "mobile": "13900000000"})
    assert "您的客户中没有这个手机号。" in page.content.decode()
    # voiding from the list
    url = reverse("care-coupon-void", args=[coupon.pk])
    client.post(url, {"reason": "发错客户"})
    coupon.refresh_from_db()
    assert (coupon.state, coupon.void_reason) == (CouponState.VOID, "发错客户")


def test_the_cashier_checks_and_redeems_a_code(client, org):
    bj01 = org["BJ01"]
    customer = make_customer(dealer=bj01)
    coupon = make_coupon(customer=customer, dealer=bj01, amount="50")
    invoice = invoice_for(customer, dealer=bj01)
    order = invoice.repair_order
    client.force_login(org["bj01-cashier"])
    # the htmx check as the code is typed
    partial = client.get(
        reverse("care-redeem") + f"?order={order.number}&code={coupon.code}",
        HTTP_HX_REQUEST="true",
    )
    assert 'data-discount="50.00"' in partial.content.decode()
    wrong = client.get(
        reverse("care-redeem") + f"?order={order.number}&code=AAAA", HTTP_HX_REQUEST="true"
    )
    assert 'data-refusal="coupon_unknown"' in wrong.content.decode()
    # redeeming goes back to the cashier's screen of the order
    page = client.get(reverse("care-redeem"))
    key = page.context["form"].initial["idempotency_key"]
    done = client.post(
        reverse("care-redeem"),
        {"order": order.number, "code": coupon.display_code, "idempotency_key": key},
    )
    assert done.status_code == 302
    assert done["Location"] == reverse("billing-cashier-order", args=[order.pk])
    assert Invoice.objects.get(pk=invoice.pk).due_amount == Decimal("1080.00")
    # a second try is refused with the reason on the page
    again = client.post(reverse("care-redeem"), {"order": order.number, "code": coupon.code})
    assert "已于" in again.content.decode() and "核销" in again.content.decode()


def test_planning_a_holiday_greeting_and_the_settings(client, org):
    client.force_login(org["oem-pr"])
    page = client.get(reverse("care-holiday-new"))
    data = {
        "name": "国庆节",
        "date": (datetime.date.today() + datetime.timedelta(days=20)).isoformat(),
        "text": "国庆快乐！",
        "target": "oem",
        "coupon_kind": "amount",
        "coupon_amount": "40",
        "coupon_valid_days": "30",
        "idempotency_key": page.context["form"].initial["idempotency_key"],
    }
    assert client.post(reverse("care-holiday-new"), data).status_code == 302
    holiday = HolidayGreeting.objects.get()
    assert (holiday.dealer, holiday.coupon_amount) == (None, Decimal("40.00"))
    assert "国庆节" in client.get(reverse("care-holiday-list")).content.decode()
    # the dealer administrator sets the dealer's own birthday coupon
    client.force_login(org["bj01-admin"])
    response = client.post(
        reverse("care-settings"),
        {
            "birthday_enabled": "on",
            "coupon_kind": "percent",
            "coupon_percent": "12",
            "coupon_valid_days": "45",
        },
    )
    assert response.status_code == 302
    own = GreetingSettings.objects.get(dealer=org["BJ01"])
    assert (own.coupon_percent, own.coupon_valid_days) == (Decimal("12.00"), 45)
    # the analyst reads the settings without a form and may not save
    client.force_login(org["oem-analyst"])
    assert client.get(reverse("care-settings")).context["form"] is None
    assert client.post(reverse("care-settings"), {}).status_code == 403


def test_coupons_given_and_redeemed_are_on_the_customer_timeline(org):
    bj01 = org["BJ01"]
    customer = make_customer(dealer=bj01)
    coupon = make_coupon(customer=customer, dealer=bj01)
    coupon_redeem(
        actor=org["bj01-cashier"], code=coupon.code, invoice=invoice_for(customer, dealer=bj01)
    )
    kinds = [e.kind for e in customer_timeline(customer, org["bj01-dcrcmgr"])]
    assert "care.coupon" in kinds and "care.coupon_redeemed" in kinds
    assert not [
        e for e in customer_timeline(customer, org["sh01-dcrcmgr"]) if e.kind.startswith("care.")
    ]
