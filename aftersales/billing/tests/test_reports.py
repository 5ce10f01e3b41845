"""Settlement reports: revenue by method and pay type, receivables with their age,
scoped to the reader, aggregated in a fixed number of queries, exported to Excel."""

import datetime
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from aftersales.billing import reports
from aftersales.billing.deposits import deposit_refund, deposit_take
from aftersales.billing.models import Invoice
from aftersales.billing.payments import business_day, payment_refund, payment_take
from aftersales.billing.testing import make_invoice
from aftersales.workorders.choices import PayType
from aftersales.workorders.testing import make_repair_order

pytestmark = pytest.mark.django_db
D = Decimal


def _takings(demo_org):
    cashier = demo_org["bj01-cashier"]
    invoice = make_invoice(dealer=cashier.dealer, gross="1000.00")
    cash = payment_take(actor=cashier, invoice=invoice, method="cash", amount="300", key="1")
    payment_take(actor=cashier, invoice=invoice, method="card", amount="200", key="2")
    payment_refund(actor=cashier, payment=cash, amount="50", reason="x", key="3")
    order = make_repair_order(dealer=cashier.dealer, status="checked_in")
    deposit = deposit_take(
        actor=cashier, repair_order=order, method="wechat", amount="80", reference="42", key="4"
    )
    own = make_invoice(
        dealer=cashier.dealer, gross="80.00", repair_order=order, pay_type=PayType.INTERNAL
    )
    payment_take(
        actor=cashier, invoice=own, method="deposit", amount="80", deposit=deposit, key="5"
    )
    tj = demo_org["tj01-cashier"]
    other = make_invoice(dealer=tj.dealer, gross="999.00")
    payment_take(actor=tj, invoice=other, method="cash", amount="999", key="6")


def test_revenue_by_method_is_money_taken_less_refunds_per_day(demo_org):
    _takings(demo_org)
    today = business_day()
    report = reports.revenue_by_method(
        demo_org["bj01-cashier"], since=today - datetime.timedelta(days=1), until=today
    )
    row = report.rows[0]
    assert row["day"] == today
    assert (row["cash"], row["card"], row["wechat"]) == (D("250.00"), D("200.00"), D("80.00"))
    assert (row["deposit"], row["deposits_taken"], row["total"]) == (
        D("80.00"),
        D("80.00"),
        D("530.00"),
    )
    assert report.rows[1]["total"] == D("0.00")
    assert report.totals["total"] == D("530.00")


def test_a_refunded_deposit_is_money_out_on_the_day_of_its_refund(demo_org):
    # given a cash deposit of 120 taken and refunded today
    cashier = demo_org["bj01-cashier"]
    order = make_repair_order(dealer=cashier.dealer, status="checked_in")
    deposit = deposit_take(actor=cashier, repair_order=order, method="cash", amount="120", key="1")
    deposit_refund(actor=cashier, deposit=deposit, reason="客户取消维修", key="2")
    # when the revenue by method is reported
    today = business_day()
    row = reports.revenue_by_method(cashier, since=today, until=today).rows[0]
    # then the deposit is in and out again: no money taken in cash
    assert (row["deposits_taken"], row["deposits_refunded"]) == (D("120.00"), D("120.00"))
    assert (row["cash"], row["total"]) == (D("0.00"), D("0.00"))


def test_the_region_manager_sees_the_regions_dealers_and_the_oem_everything(demo_org):
    _takings(demo_org)
    today = business_day()
    region = reports.revenue_by_method(demo_org["north-rm"], since=today, until=today)
    assert region.rows[0]["cash"] == D("1249.00")  # BJ01 and TJ01
    only_tj = reports.revenue_by_method(
        demo_org["north-rm"], since=today, until=today, dealer=demo_org["tj01-cashier"].dealer
    )
    assert only_tj.rows[0]["total"] == D("999.00")
    nobody = reports.revenue_by_method(demo_org["sh01-cashier"], since=today, until=today)
    assert nobody.totals["total"] == D("0")


def test_revenue_by_pay_type(demo_org):
    _takings(demo_org)
    today = business_day()
    report = reports.revenue_by_pay_type(demo_org["bj01-cashier"], since=today, until=today)
    row = report.rows[0]
    assert (row["customer"], row["internal"], row["total"]) == (
        D("450.00"),
        D("80.00"),
        D("530.00"),
    )


def test_receivables_list_outstanding_insurance_and_warranty_invoices_with_their_age(demo_org):
    dealer = demo_org["bj01-cashier"].dealer
    old = make_invoice(
        dealer=dealer, gross="5000.00", pay_type=PayType.INSURANCE, insurer="平安保险"
    )
    Invoice.objects.filter(pk=old.pk).update(issued_at=timezone.now() - datetime.timedelta(days=45))
    make_invoice(dealer=dealer, gross="800.00", pay_type=PayType.WARRANTY)
    paid = make_invoice(dealer=dealer, gross="100.00", pay_type=PayType.WARRANTY)
    Invoice.objects.filter(pk=paid.pk).update(paid_amount=D("100.00"))
    make_invoice(dealer=dealer, gross="300.00")  # customer: not a receivable here
    make_invoice(dealer=demo_org["sh01-cashier"].dealer, gross="1.00", pay_type=PayType.WARRANTY)
    report = reports.receivables(demo_org["bj01-cashier"])
    assert [(r["payer"], r["age"], r["due"]) for r in report.rows] == [
        ("平安保险", 45, D("5000.00")),
        ("", 0, D("800.00")),
    ]
    assert report.totals["insurance_age_31_60"] == D("5000.00")
    assert report.totals["warranty_age_0_30"] == D("800.00")
    assert report.totals["due"] == D("5800.00")


@pytest.mark.parametrize("invoices", [1, 6])
def test_reports_take_a_fixed_number_of_queries(demo_org, django_assert_max_num_queries, invoices):
    dealer = demo_org["bj01-cashier"].dealer
    for _n in range(invoices):
        make_invoice(dealer=dealer, gross="10.00", pay_type=PayType.WARRANTY)
    user = demo_org["oem-admin"]
    today = business_day()
    with django_assert_max_num_queries(7):
        reports.revenue_by_method(user, since=today - datetime.timedelta(days=30), until=today)
        reports.revenue_by_pay_type(user, since=today, until=today)
        reports.receivables(user)


def test_the_excel_export_has_a_sheet_per_report_with_exact_amounts(demo_org):
    _takings(demo_org)
    user = demo_org["bj01-cashier"]
    content = reports.to_excel([reports.run(name, user) for name in reports.REPORTS])
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["revenue-method", "revenue-pay-type", "receivables"]
    values = [c.value for row in book["revenue-method"].iter_rows() for c in row]
    assert 530 in values or D("530.00") in values
