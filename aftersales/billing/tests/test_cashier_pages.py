"""The cashier's pages: find the order, take payments (cash shows the change), refunds,
deposits, the receipt PDF, the cash closing and the reports with their Excel export."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from aftersales.billing import settlement  # noqa: F401  (registers the close guard)
from aftersales.billing.closing import cash_closing_create
from aftersales.billing.forms_cashier import new_key
from aftersales.billing.models import Invoice, Payment
from aftersales.billing.money import capital_amount
from aftersales.billing.payments import payment_take
from aftersales.billing.testing import make_invoice
from aftersales.workorders.choices import ROStatus

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def cashier(demo_org):
    return demo_org["bj01-cashier"]


@pytest.fixture
def page(client, cashier):
    client.force_login(cashier)
    return client


def _pay(page, invoice, key=None, **fields):
    prefix = f"p{invoice.pk}-"
    data = {"method": "card", "amount": "100.00", "idempotency_key": key or new_key(), **fields}
    return page.post(
        reverse("billing-cashier-pay", args=[invoice.pk]), {prefix + k: v for k, v in data.items()}
    )


def test_the_waiting_list_and_the_search_find_the_order(page, demo_org, cashier):
    invoice = make_invoice(dealer=cashier.dealer)
    foreign = make_invoice(dealer=demo_org["tj01-cashier"].dealer)
    home = page.get(reverse("billing-cashier"))
    assert invoice.repair_order in home.context["object_list"]
    assert foreign.repair_order not in home.context["object_list"]
    found = page.get(reverse("billing-cashier"), {"q": invoice.repair_order.vehicle.plate})
    assert found.status_code == 302
    assert found["Location"] == reverse("billing-cashier-order", args=[invoice.repair_order_id])
    nothing = page.get(reverse("billing-cashier"), {"q": foreign.repair_order.number})
    assert nothing.context["object_list"] == []


def test_the_waiting_list_shows_what_each_customer_still_owes(page, cashier):
    invoice = make_invoice(dealer=cashier.dealer, gross="300.00")
    _pay(page, invoice, amount="120.00")

    home = page.get(reverse("billing-cashier"))

    row = home.text.split(f"{invoice.repair_order.number}</td>")[1].split("</tr>")[0]
    assert "<th" in home.text and "待收" in home.text
    assert "¥180.00" in row


def test_the_order_screen_shows_what_is_due_and_takes_a_cash_payment_with_change(page, cashier):
    invoice = make_invoice(dealer=cashier.dealer, gross="188.50")
    screen = page.get(reverse("billing-cashier-order", args=[invoice.repair_order_id]))
    assert 'data-due="188.50"' in screen.text
    assert "data-change" in screen.text
    response = _pay(page, invoice, method="cash", amount="188.50", tendered="200")
    assert response.status_code == 302
    payment = Payment.objects.get(invoice=invoice)
    assert response["Location"].endswith(f"?receipt={payment.pk}")
    assert payment.change == D("11.50")
    after = page.get(response["Location"])
    assert "11.50" in after.text  # the message tells the change
    assert reverse("billing-receipt", args=[payment.pk]) in after.text
    assert 'data-settled="yes"' in after.text  # the delivered order closed
    invoice.repair_order.refresh_from_db()
    assert invoice.repair_order.status == ROStatus.CLOSED


def test_a_double_submitted_payment_form_is_recorded_once(page, cashier):
    invoice = make_invoice(dealer=cashier.dealer, gross="300.00")
    key = new_key()
    _pay(page, invoice, key=key)
    _pay(page, invoice, key=key)
    assert Invoice.objects.get(pk=invoice.pk).paid_amount == D("100.00")


def test_an_over_payment_shows_the_error_and_changes_nothing(page, cashier):
    invoice = make_invoice(dealer=cashier.dealer, gross="50.00")
    response = _pay(page, invoice, amount="60.00")
    assert response.status_code == 200
    assert "50.00" in response.context["rows"][0]["pay_form"].errors["amount"][0]
    assert not Payment.objects.exists()


def test_a_refund_from_the_screen(page, cashier):
    invoice = make_invoice(dealer=cashier.dealer, gross="300.00")
    payment = payment_take(actor=cashier, invoice=invoice, method="card", amount="100", key="p")
    prefix = f"r{payment.pk}-"
    url = reverse("billing-cashier-refund", args=[payment.pk])
    over = page.post(
        url, {prefix + "amount": "100.01", prefix + "reason": "退", prefix + "idempotency_key": "a"}
    )
    assert over.status_code == 200 and Payment.objects.count() == 1
    done = page.post(
        url, {prefix + "amount": "30", prefix + "reason": "退", prefix + "idempotency_key": "b"}
    )
    assert done.status_code == 302
    assert Invoice.objects.get(pk=invoice.pk).paid_amount == D("70.00")


def test_a_deposit_taken_and_refunded_from_the_screen(page, cashier):
    invoice = make_invoice(dealer=cashier.dealer, gross="300.00")
    order = invoice.repair_order
    url = reverse("billing-cashier-deposit", args=[order.pk])
    page.post(url, {"d-method": "cash", "d-amount": "100", "d-idempotency_key": "k"})
    deposit = order.deposits.get()
    assert deposit.amount == D("100.00")
    refund_url = reverse("billing-cashier-deposit-refund", args=[deposit.pk])
    # without a reason nothing is refunded
    page.post(refund_url, {"idempotency_key": "x"})
    deposit.refresh_from_db()
    assert deposit.available == D("100.00") and deposit.refunded_by is None
    page.post(refund_url, {"idempotency_key": "y", "reason": "客户取消维修"})
    deposit.refresh_from_db()
    assert deposit.available == D("0.00")
    assert (deposit.refunded_by, deposit.refund_reason) == (cashier, "客户取消维修")
    assert "客户取消维修" in page.get(reverse("billing-cashier-order", args=[order.pk])).text


def test_the_receipt_is_a_pdf_and_amounts_are_written_in_chinese_capitals(page, cashier):
    invoice = make_invoice(dealer=cashier.dealer, gross="1130.05")
    payment = payment_take(actor=cashier, invoice=invoice, method="card", amount="1130.05", key="p")
    response = page.get(reverse("billing-receipt", args=[payment.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert capital_amount(D("1130.05")) == "壹仟壹佰叁拾元零伍分"
    assert capital_amount(D("10010")) == "壹万零壹拾元整"
    assert capital_amount(D("100000")) == "壹拾万元整"
    assert capital_amount(D("205.50")) == "贰佰零伍元伍角整"
    assert capital_amount(D("0.07")) == "柒分"
    assert capital_amount(D("0")) == "零元整"


def test_another_dealers_records_answer_404(page, demo_org):
    foreign = make_invoice(dealer=demo_org["tj01-cashier"].dealer)
    assert (
        page.get(reverse("billing-cashier-order", args=[foreign.repair_order_id])).status_code
        == 404
    )
    assert _pay(page, foreign).status_code == 404
    assert Invoice.objects.get(pk=foreign.pk).paid_amount == D("0")


def test_the_closing_page_closes_the_day_and_needs_a_reason_for_a_difference(page, cashier):
    invoice = make_invoice(dealer=cashier.dealer, gross="300.00")
    payment_take(actor=cashier, invoice=invoice, method="cash", amount="120", key="c")
    url = reverse("billing-closing")
    shown = page.get(url)
    assert "¥120.00" in shown.text
    refused = page.post(url, {"counted_cash": "100"})
    assert refused.status_code == 200 and "reason" in refused.context["form"].errors
    done = page.post(url, {"counted_cash": "100", "reason": "假币一张"})
    assert done.status_code == 302
    closed = page.get(url)
    assert 'data-closed="yes"' in closed.text


def test_the_order_screen_says_when_the_cashiers_day_is_closed(page, cashier):
    invoice = make_invoice(dealer=cashier.dealer)
    cash_closing_create(actor=cashier, counted_cash="0")
    screen = page.get(reverse("billing-cashier-order", args=[invoice.repair_order_id]))
    assert screen.context["day_closed"] is True


def test_the_reports_page_and_its_excel_export(page, cashier, django_assert_max_num_queries):
    invoice = make_invoice(dealer=cashier.dealer, gross="300.00")
    payment_take(actor=cashier, invoice=invoice, method="card", amount="120", key="c")
    shown = page.get(reverse("billing-reports"))
    assert shown.status_code == 200 and "120.00" in shown.text
    receivables = page.get(reverse("billing-reports"), {"report": "receivables"})
    assert receivables.context["ageing"]
    export = page.get(reverse("billing-reports-export"), {"report": "revenue-pay-type"})
    book = load_workbook(io.BytesIO(export.content))
    assert book.sheetnames == ["revenue-pay-type"]
    bad = page.get(
        reverse("billing-reports"),
        {"report": "revenue-method", "since": "2026-02-01", "until": "2026-01-01"},
    )
    assert bad.status_code == 200 and "since" in bad.context["form"].errors


@pytest.mark.parametrize("count", [1, 6])
def test_the_cashier_pages_keep_a_fixed_number_of_queries(
    page, cashier, django_assert_max_num_queries, count
):
    order = None
    for n in range(count):
        invoice = make_invoice(dealer=cashier.dealer, gross="100.00")
        payment_take(actor=cashier, invoice=invoice, method="card", amount="10", key=f"p{n}")
        order = order or invoice.repair_order
        if n:  # more invoices and payments on the first order too
            extra = make_invoice(dealer=cashier.dealer, gross="50.00", repair_order=order)
            payment_take(actor=cashier, invoice=extra, method="card", amount="5", key=f"x{n}")
    # the same count for 1 and 6 orders, invoices and payments
    with django_assert_max_num_queries(5):
        assert page.get(reverse("billing-cashier")).status_code == 200
    with django_assert_max_num_queries(11):
        assert page.get(reverse("billing-cashier-order", args=[order.pk])).status_code == 200
    with django_assert_max_num_queries(9):
        assert page.get(reverse("billing-closing")).status_code == 200
