"""The cashier API: payments, refunds, deposits, cash closing and reports; every money
POST needs an Idempotency-Key and a retry answers 200 with the first result."""

from decimal import Decimal

import pytest
from django.urls import reverse

from aftersales.billing.models import Invoice, Payment
from aftersales.billing.testing import make_invoice
from aftersales.workorders.testing import make_repair_order

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def cashier(demo_org):
    return demo_org["bj01-cashier"]


@pytest.fixture
def api(client, cashier):
    client.force_login(cashier)
    return client


def pay(api, invoice, key="k1", **body):
    body = {"method": "card", "amount": "100.00", **body}
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post(
        reverse("api:cashier-invoice-pay", args=[invoice.pk]),
        body,
        content_type="application/json",
        **headers,
    )


def test_a_payment_is_201_and_its_retry_200_with_the_same_payment(api, cashier):
    invoice = make_invoice(dealer=cashier.dealer, gross="300.00")
    first = pay(api, invoice, method="cash", amount="100.00", tendered="150")
    again = pay(api, invoice, method="cash", amount="100.00", tendered="150")
    assert first.status_code == 201, first.json()
    assert again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["change"] == "50.00" and first.json()["invoice_due"] == "200.00"
    assert Payment.objects.count() == 1


def test_a_payment_without_a_key_is_refused(api, cashier):
    invoice = make_invoice(dealer=cashier.dealer)
    response = pay(api, invoice, key=None)
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_required"
    assert not Payment.objects.exists()


def test_bad_payments_answer_with_codes(api, demo_org, cashier):
    invoice = make_invoice(dealer=cashier.dealer, gross="100.00")
    over = pay(api, invoice, amount="100.01", key="a")
    assert (over.status_code, over.json()["code"]) == (409, "over_due")
    assert "amount" in over.json()["fields"]
    draft = make_invoice(dealer=cashier.dealer, status="draft")
    refused = pay(api, draft, key="b")
    assert (refused.status_code, refused.json()["code"]) == (409, "not_issued")
    foreign = make_invoice(dealer=demo_org["tj01-cashier"].dealer)
    assert pay(api, foreign, key="c").status_code == 404
    bad = pay(api, invoice, amount="12.345", key="d")
    assert bad.status_code == 400 and "amount" in bad.json()["fields"]
    assert Invoice.objects.get(pk=foreign.pk).paid_amount == D("0")
    assert not Payment.objects.exists()


def test_refund_over_what_the_payment_holds_is_refused_and_a_refund_is_recorded_once(api, cashier):
    invoice = make_invoice(dealer=cashier.dealer, gross="300.00")
    payment_id = pay(api, invoice, amount="200.00").json()["id"]
    url = reverse("api:payment-refund", args=[payment_id])
    over = api.post(
        url,
        {"amount": "200.01", "reason": "退"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="r1",
    )
    assert (over.status_code, over.json()["code"]) == (409, "refund_over")
    body = {"amount": "50", "reason": "退", "idempotency_key": "r2"}
    first = api.post(url, body, content_type="application/json")
    again = api.post(url, body, content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["kind"] == "refund" and first.json()["invoice_due"] == "150.00"


def test_the_invoice_list_finds_by_plate_and_shows_what_is_due(api, cashier):
    invoice = make_invoice(dealer=cashier.dealer, gross="300.00")
    make_invoice(dealer=cashier.dealer, gross="100.00")
    plate = invoice.repair_order.vehicle.plate
    rows = api.get(reverse("api:cashier-invoice-list"), {"q": plate}).json()["results"]
    assert [(r["id"], r["due_amount"]) for r in rows] == [(invoice.pk, "300.00")]
    detail = api.get(reverse("api:cashier-invoice-detail", args=[invoice.pk])).json()
    assert detail["payments"] == [] and detail["due_amount"] == "300.00"


def test_the_invoice_list_keeps_a_fixed_number_of_queries(
    api, cashier, django_assert_max_num_queries
):
    for _n in range(5):
        make_invoice(dealer=cashier.dealer)
    with django_assert_max_num_queries(8):
        response = api.get(reverse("api:cashier-invoice-list"), {"page_size": 50})
    assert response.json()["count"] == 5


def test_deposits_and_cash_closing_over_the_api(api, demo_org, cashier):
    order = make_repair_order(dealer=cashier.dealer, status="checked_in")
    body = {"repair_order": order.pk, "method": "cash", "amount": "200"}
    first = api.post(
        reverse("api:deposit-list"), body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="d"
    )
    again = api.post(
        reverse("api:deposit-list"), body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="d"
    )
    assert (first.status_code, again.status_code) == (201, 200)
    foreign = make_repair_order(dealer=demo_org["tj01-cashier"].dealer, status="checked_in")
    body["repair_order"] = foreign.pk
    assert (
        api.post(
            reverse("api:deposit-list"),
            body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="e",
        ).status_code
        == 404
    )
    summary = api.get(reverse("api:cash-closing-summary")).json()
    assert summary["expected_cash"] == "200.00" and summary["closed"] is False
    short = api.post(
        reverse("api:cash-closing-list"), {"counted_cash": "190"}, content_type="application/json"
    )
    assert (short.status_code, short.json()["code"]) == (400, "reason_required")
    closed = api.post(
        reverse("api:cash-closing-list"),
        {"counted_cash": "190", "reason": "少了一张"},
        content_type="application/json",
    )
    assert closed.status_code == 201 and closed.json()["difference"] == "-10.00"
    invoice = make_invoice(dealer=cashier.dealer)
    late = pay(api, invoice, key="late")
    assert (late.status_code, late.json()["code"]) == (409, "day_closed")


def test_a_deposit_refund_over_the_api_needs_a_reason(api, cashier):
    # given a deposit of 150 in cash
    order = make_repair_order(dealer=cashier.dealer, status="checked_in")
    taken = api.post(
        reverse("api:deposit-list"),
        {"repair_order": order.pk, "method": "cash", "amount": "150"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="d",
    ).json()
    url = reverse("api:deposit-refund", args=[taken["id"]])
    # when it is refunded without a reason, it is refused
    bare = api.post(url, {}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="r1")
    assert bare.status_code == 400 and "reason" in bare.json()["fields"]
    # and with one, the refund records who, when and why
    done = api.post(
        url, {"reason": "客户取消维修"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="r2"
    )
    assert done.status_code == 201
    body = done.json()
    assert (body["refunded_amount"], body["refund_reason"]) == ("150.00", "客户取消维修")
    assert body["refunded_by"] == cashier.pk and body["refund_day"] is not None
    # the expected cash of the day is back to zero: 150 in, 150 out
    assert api.get(reverse("api:cash-closing-summary")).json()["expected_cash"] == "0.00"


def test_reports_answer_json_and_excel(api, cashier):
    invoice = make_invoice(dealer=cashier.dealer, gross="300.00")
    pay(api, invoice, amount="120.00")
    url = reverse("api:billing-report-detail", args=["revenue-method"])
    data = api.get(url).json()
    assert data["rows"][0]["card"] == "120.00"
    excel = api.get(url, {"export": "xlsx"})
    assert excel["Content-Type"].startswith("application/vnd.openxmlformats")
    assert api.get(reverse("api:billing-report-detail", args=["nope"])).status_code == 404
    assert api.get(url, {"since": "2026-01-10", "until": "2026-01-01"}).status_code == 400


@pytest.mark.parametrize("count", [1, 6])
def test_payment_deposit_and_closing_lists_keep_a_fixed_number_of_queries(
    api, cashier, django_assert_max_num_queries, count
):
    from aftersales.billing.deposits import deposit_take
    from aftersales.billing.payments import payment_take

    for n in range(count):
        invoice = make_invoice(dealer=cashier.dealer, gross="100.00")
        payment_take(actor=cashier, invoice=invoice, method="card", amount="10", key=f"p{n}")
        deposit_take(
            actor=cashier,
            repair_order=invoice.repair_order,
            method="cash",
            amount="5",
            key=f"d{n}",
        )
    for name in ("api:payment-list", "api:deposit-list", "api:cash-closing-list"):
        with django_assert_max_num_queries(6):
            response = api.get(reverse(name), {"page_size": 50})
        assert response.status_code == 200
