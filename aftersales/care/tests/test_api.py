"""The coupon and greeting API end to end: a goodwill coupon given (a retry acting once),
checked and redeemed at the cashier, refusals with their codes, voiding, the scoping of the
list and the holiday greetings."""

import datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from aftersales.care.models import Coupon, HolidayGreeting
from aftersales.care.testing import invoice_for, make_coupon
from aftersales.crm.testing import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(demo_org):
    bj01 = demo_org["bj01-cashier"].dealer
    return {**demo_org, "BJ01": bj01, "SH01": demo_org["sh01-cashier"].dealer}


def _as(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def in_days(n):
    return (datetime.date.today() + datetime.timedelta(days=n)).isoformat()


def test_a_goodwill_coupon_given_checked_and_redeemed(org):
    bj01 = org["BJ01"]
    customer = make_customer(dealer=bj01, name="周敏")
    manager, cashier = _as(org["bj01-dcrcmgr"]), _as(org["bj01-cashier"])
    # the DCRC manager gives a 100-yuan coupon (sent twice with one key: one coupon)
    body = {"customer": customer.pk, "dealer": bj01.pk, "amount": "100", "valid_until": in_days(30)}
    first = manager.post("/api/care/coupons/", body, format="json", HTTP_IDEMPOTENCY_KEY="gw-1")
    again = manager.post("/api/care/coupons/", body, format="json", HTTP_IDEMPOTENCY_KEY="gw-1")
    assert first.status_code == 201, first.content
    assert again.json()["id"] == first.json()["id"] and Coupon.objects.count() == 1
    code = first.json()["display_code"]
    assert first.json()["state"] == "issued" and first.json()["reason"] == "goodwill"
    # the cashier checks it against the customer's invoice, then redeems it
    invoice = invoice_for(customer, dealer=bj01)
    check = cashier.get(f"/api/care/coupons/check/?code={code}&invoice={invoice.pk}").json()
    assert (check["valid"], check["discount"]) == (True, "100.00")
    r = cashier.post(
        "/api/care/coupons/redeem/",
        {"code": code, "invoice": invoice.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="rd-1",
    )
    assert r.status_code == 200, r.content
    assert (r.json()["state"], r.json()["discount"]) == ("redeemed", "100.00")
    assert r.json()["invoice_number"] == invoice.number
    # a retry of that request answers the same; a new request is refused with the reason
    retry = cashier.post(
        "/api/care/coupons/redeem/",
        {"code": code, "invoice": invoice.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="rd-1",
    )
    assert retry.status_code == 200
    other = invoice_for(customer, dealer=bj01)
    refused = cashier.post(
        "/api/care/coupons/redeem/", {"code": code, "invoice": other.pk}, format="json"
    )
    assert refused.status_code == 409 and refused.json()["code"] == "coupon_redeemed"
    check = cashier.get(f"/api/care/coupons/check/?code={code}").json()
    assert (check["valid"], check["refusal"]) == (False, "coupon_redeemed")


def test_refusals_and_voiding(org):
    bj01 = org["BJ01"]
    customer = make_customer(dealer=bj01)
    stranger = make_customer(dealer=bj01)
    coupon = make_coupon(customer=customer, dealer=bj01, min_spend="5000")
    cashier, manager = _as(org["bj01-cashier"]), _as(org["bj01-dcrcmgr"])
    invoice = invoice_for(customer, dealer=bj01)
    r = cashier.post(
        "/api/care/coupons/redeem/", {"code": coupon.code, "invoice": invoice.pk}, format="json"
    )
    assert r.status_code == 409 and r.json()["code"] == "coupon_below_minimum"
    assert "5000" in r.json()["message"]
    their = invoice_for(stranger, dealer=bj01)
    r = cashier.post(
        "/api/care/coupons/redeem/", {"code": coupon.code, "invoice": their.pk}, format="json"
    )
    assert r.json()["code"] == "coupon_other_customer"
    # both a coupon with both an amount and a percentage and one without are refused
    r = manager.post(
        "/api/care/coupons/",
        {
            "customer": customer.pk,
            "dealer": bj01.pk,
            "amount": "10",
            "percent": "5",
            "valid_until": in_days(9),
        },
        format="json",
    )
    assert r.status_code == 400 and r.json()["code"] == "amount_or_percent"
    # voiding needs a reason; a voided coupon is refused at the cashier
    url = f"/api/care/coupons/{coupon.pk}/void/"
    assert manager.post(url, {"reason": ""}, format="json").json()["code"] == "reason"
    r = manager.post(url, {"reason": "发错客户"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "void"
    assert manager.post(url, {"reason": "再次"}, format="json").status_code == 409
    r = cashier.post(
        "/api/care/coupons/redeem/", {"code": coupon.code, "invoice": invoice.pk}, format="json"
    )
    assert r.json()["code"] == "coupon_void"


def test_the_list_is_scoped_and_filtered(org):
    bj01, sh01 = org["BJ01"], org["SH01"]
    ours = make_coupon(dealer=bj01)
    theirs = make_coupon(dealer=sh01)
    oem_for_ours = make_coupon(customer=ours.customer, dealer=None)
    oem_for_theirs = make_coupon(customer=theirs.customer, dealer=None)
    listed = {
        row["id"] for row in _as(org["bj01-dcrcmgr"]).get("/api/care/coupons/").json()["results"]
    }
    assert listed == {ours.pk, oem_for_ours.pk}
    assert _as(org["bj01-dcrcmgr"]).get(f"/api/care/coupons/{theirs.pk}/").status_code == 404
    everything = _as(org["oem-analyst"]).get("/api/care/coupons/?state=issued").json()
    assert {r["id"] for r in everything["results"]} == {
        ours.pk,
        theirs.pk,
        oem_for_ours.pk,
        oem_for_theirs.pk,
    }
    by_code = _as(org["oem-analyst"]).get(f"/api/care/coupons/?code={ours.display_code}").json()
    assert [r["id"] for r in by_code["results"]] == [ours.pk]
    # the analyst reads only
    r = _as(org["oem-analyst"]).post(
        f"/api/care/coupons/{ours.pk}/void/", {"reason": "x"}, format="json"
    )
    assert r.status_code == 403


def test_holiday_greetings_through_the_api(org):
    marketing = _as(org["oem-pr"])
    body = {
        "name": "春节",
        "date": in_days(40),
        "text": "新春快乐，阖家幸福！",
        "coupon_kind": "percent",
        "coupon_percent": "8",
        "coupon_valid_days": 45,
    }
    r = marketing.post("/api/care/holidays/", body, format="json", HTTP_IDEMPOTENCY_KEY="h-1")
    assert r.status_code == 201, r.content
    assert (r.json()["dealer"], r.json()["coupon_percent"]) == (None, "8.00")
    assert HolidayGreeting.objects.count() == 1
    # the dealers see the national greeting; it can be cancelled before its day
    listed = _as(org["bj01-admin"]).get("/api/care/holidays/").json()["results"]
    assert [h["id"] for h in listed] == [r.json()["id"]]
    cancelled = marketing.post(f"/api/care/holidays/{r.json()['id']}/cancel/", format="json")
    assert cancelled.json()["status"] == "cancelled"
    bad = marketing.post("/api/care/holidays/", {**body, "text": ""}, format="json")
    assert bad.status_code == 400 and "text" in bad.json()["fields"]
    assert HolidayGreeting.objects.get().coupon_percent == Decimal("8.00")
