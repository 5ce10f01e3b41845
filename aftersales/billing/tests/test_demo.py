"""The demo settlement data: loaded for every demo dealer, idempotent, amounts exact and
consistent, receivables aged, cash closings matching their payments, pages open."""

import random
import re
import time
from decimal import Decimal

import pytest
from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils import timezone
from stdnum.cn import uscc

from aftersales.billing import reports
from aftersales.billing.choices import BuyerType, InvoiceStatus, PaymentKind, PaymentMethod
from aftersales.billing.closing import closing_totals
from aftersales.billing.demo import DEMO_DEALERS, make_uscc
from aftersales.billing.models import (
    CashClosing,
    CreditNote,
    CreditNoteLine,
    Deposit,
    Invoice,
    InvoiceLine,
    Payment,
)
from aftersales.billing.money import vat_split
from aftersales.core.models import NumberSequence
from aftersales.org.models import User
from aftersales.workorders.choices import PayType, ROStatus
from aftersales.workorders.models import RepairOrder

S = ROStatus
MODELS = (Invoice, InvoiceLine, Payment, CreditNote, CreditNoteLine, Deposit, CashClosing)
ZERO = Decimal("0")


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo up to settlement, loaded once for this module inside a transaction that
    is rolled back afterwards (each test runs in a savepoint of it)."""
    from django.db import transaction

    from aftersales.billing.demo import load_billing_demo
    from aftersales.catalogue.demo import load_catalogue_demo
    from aftersales.crm.demo import load_crm_demo
    from aftersales.org.demo import load_org_demo
    from aftersales.parts.demo import load_parts_demo
    from aftersales.workorders.demo import load_workorders_demo
    from aftersales.workorders.demo_catalogue import load_workorders_catalogue_demo

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        load_org_demo()
        load_catalogue_demo()
        load_crm_demo()
        load_parts_demo()
        load_workorders_catalogue_demo()
        load_workorders_demo()
        started = time.perf_counter()
        result = load_billing_demo()
        seconds = time.perf_counter() - started
        print(f"\nbilling demo: {seconds:.2f} s; {result}")
        counts = {m: m.objects.count() for m in MODELS}
        again = load_billing_demo()
        yield {
            "seconds": seconds,
            "result": result,
            "counts": counts,
            "again": again,
            "recounted": {m: m.objects.count() for m in MODELS},
        }
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def loaded(demo, db):
    return demo


def test_it_loads_for_every_demo_dealer_and_completes(loaded):
    # (a generous bound: this is no benchmark, the load time is printed)
    assert loaded["seconds"] < 60
    assert loaded["result"]["dealers"] == 6
    assert set(Invoice.objects.values_list("dealer__code", flat=True).distinct()) == set(
        DEMO_DEALERS
    )


def test_a_second_run_adds_nothing(loaded):
    assert loaded["again"]["dealers"] == 0
    assert loaded["recounted"] == loaded["counts"]


def test_every_closed_order_is_invoiced_per_payer_and_its_customer_part_paid(loaded):
    closed = RepairOrder.objects.filter(status=S.CLOSED, dealer__code__in=DEMO_DEALERS)
    assert closed.count() == 6 * 18
    for order in closed.prefetch_related("lines", "invoices"):
        billed = {line.pay_type for line in order.lines.all() if line.approval == "approved"}
        invoices = list(order.invoices.all())
        assert {i.pay_type for i in invoices} == billed, order.number
        assert all(i.status == InvoiceStatus.ISSUED for i in invoices)
        for invoice in invoices:
            assert timezone.localdate(invoice.issued_at) <= timezone.localdate(order.closed_at)
            if invoice.pay_type == PayType.CUSTOMER:
                assert invoice.due_amount == 0, invoice.number
                assert invoice.paid_amount == invoice.gross_amount - invoice.credited_amount
                days = set(
                    invoice.payments.filter(kind=PaymentKind.PAYMENT).values_list(
                        "business_day", flat=True
                    )
                )
                assert days == {timezone.localdate(order.closed_at)}


def test_amounts_are_exact_and_consistent(loaded):
    rate = Decimal("0.13")
    for invoice in Invoice.objects.prefetch_related("lines__ro_line", "payments", "credit_notes"):
        lines = list(invoice.lines.all())
        assert lines
        assert invoice.gross_amount == sum((x.gross_amount for x in lines), ZERO)
        assert invoice.net_amount == sum((x.net_amount for x in lines), ZERO)
        assert invoice.tax_amount == sum((x.tax_amount for x in lines), ZERO)
        assert invoice.net_amount + invoice.tax_amount == invoice.gross_amount
        assert invoice.vat_rate == rate
        for line in lines:
            assert line.gross_amount == line.ro_line.amount
            assert line.ro_line.pay_type == invoice.pay_type
            assert (line.net_amount, line.tax_amount) == vat_split(line.gross_amount, rate)
        payments = list(invoice.payments.all())
        assert invoice.paid_amount == sum((p.signed_amount for p in payments), ZERO)
        assert invoice.credited_amount == sum(
            (n.gross_amount for n in invoice.credit_notes.all()), ZERO
        )
        assert invoice.due_amount >= 0
    for payment in Payment.objects.filter(method=PaymentMethod.CASH, kind=PaymentKind.PAYMENT):
        assert payment.tendered >= payment.amount
        assert payment.change == payment.tendered - payment.amount


def test_numbers_follow_the_sequences(loaded):
    pattern = re.compile(r"^INV-[A-Z0-9]+-\d{4}-\d{6}$")
    assert all(pattern.match(n) for n in Invoice.objects.values_list("number", flat=True))
    for doc_type, model in (("INV", Invoice), ("CN", CreditNote), ("DP", Deposit)):
        sequences = NumberSequence.objects.filter(doc_type=doc_type, dealer__code__in=DEMO_DEALERS)
        assert sequences.count() >= 6
        for sequence in sequences:
            prefix = f"{doc_type}-{sequence.dealer.code}-{sequence.year}-"
            numbers = model.objects.filter(dealer=sequence.dealer, number__startswith=prefix)
            assert numbers.count() == sequence.last_value
            assert numbers.filter(number=f"{prefix}{sequence.last_value:06d}").exists()


def test_the_cashier_has_cars_waiting_and_an_open_deposit(loaded):
    for code in DEMO_DEALERS:
        waiting = Invoice.objects.filter(
            dealer__code=code, pay_type=PayType.CUSTOMER, repair_order__status=S.DELIVERED
        )
        assert waiting.count() >= 2
        assert all(i.due_amount > 0 for i in waiting)
        deposits = Deposit.objects.filter(dealer__code=code)
        assert deposits.count() == 1
        deposit = deposits.get()
        assert deposit.repair_order.status == S.IN_PROGRESS
        assert deposit.available == deposit.amount > 0
    assert Invoice.objects.filter(repair_order__status=S.DELIVERED, paid_amount__gt=0).exists()


def test_methods_are_mixed_and_some_payments_split(loaded):
    methods = set(Payment.objects.values_list("method", flat=True))
    assert {"cash", "wechat", "alipay", "card", "transfer"} <= methods
    assert Payment.objects.filter(method=PaymentMethod.CASH, change__gt=0).exists()
    split = Invoice.objects.annotate(n=Count("payments", filter=Q(payments__kind="payment")))
    assert split.filter(n=2).count() >= 6
    wallets = Payment.objects.filter(method__in=[PaymentMethod.WECHAT, PaymentMethod.ALIPAY])
    assert not wallets.filter(reference="").exists()
    transfers = Payment.objects.filter(method=PaymentMethod.TRANSFER)
    assert set(transfers.values_list("invoice__pay_type", flat=True)) <= {"warranty", "insurance"}


def test_a_partial_credit_note_per_dealer_is_refunded(loaded):
    for code in DEMO_DEALERS:
        note = CreditNote.objects.get(dealer__code=code)
        invoice = note.invoice
        assert note.reason
        assert invoice.repair_order.status == S.CLOSED
        assert 0 < note.gross_amount < invoice.gross_amount
        assert note.gross_amount == note.lines.aggregate(s=Sum("gross_amount"))["s"]
        refund = note.refunds.get()
        assert refund.kind == PaymentKind.REFUND and refund.amount == note.gross_amount
        assert refund.refund_of.invoice_id == invoice.pk
        assert invoice.due_amount == 0


def test_company_buyers_have_valid_unified_social_credit_codes(loaded):
    companies = Invoice.objects.filter(pay_type=PayType.CUSTOMER, buyer_type=BuyerType.COMPANY)
    assert companies.count() >= 6
    for invoice in companies:
        assert invoice.title and uscc.is_valid(invoice.taxpayer_id)
    for invoice in Invoice.objects.filter(pay_type=PayType.INSURANCE):
        assert invoice.insurer and invoice.insurance_claim_number
        assert uscc.is_valid(invoice.taxpayer_id)
    assert all(uscc.is_valid(make_uscc(random.Random(n))) for n in range(50))


def test_receivables_show_outstanding_warranty_and_insurance_in_age_buckets(loaded):
    oem = User.objects.get(username="admin")
    report = reports.receivables(oem)
    kinds = {row["pay_type"] for row in report.rows}
    assert {str(PayType.WARRANTY.label), str(PayType.INSURANCE.label)} <= kinds
    buckets = {key: ZERO for key, *_rest in reports.AGE_BUCKETS}
    for name, value in report.totals.items():
        for key in buckets:
            if name.endswith(key):
                buckets[key] += value
    assert buckets["age_0_30"] > 0 and buckets["age_31_60"] > 0 and buckets["age_over_90"] > 0
    ages = {row["age"] for row in report.rows}
    assert {40, 95} <= ages
    # most warranty/insurance invoices of closed orders are paid by transfer
    closed = Invoice.objects.filter(
        repair_order__status=S.CLOSED, pay_type__in=[PayType.WARRANTY, PayType.INSURANCE]
    )
    assert closed.filter(paid_amount=ZERO).count() < closed.count()


def test_cash_closings_match_their_payments_and_today_stays_open(loaded):
    today = timezone.localdate()
    closings = CashClosing.objects.all()
    assert closings.count() >= 6 * 5
    assert not closings.filter(business_day__gte=today).exists()
    for closing in closings:
        totals = closing_totals(
            dealer_id=closing.dealer_id, cashier_id=closing.cashier_id, day=closing.business_day
        )
        assert closing.totals == {method: str(value) for method, value in totals.items()}
        assert closing.expected_cash == totals[PaymentMethod.CASH]
        assert closing.difference == closing.counted_cash - closing.expected_cash
        assert closing.counted_cash >= 0
        assert closing.cashier.username == f"{closing.dealer.code.lower()}-cashier"
    for code in DEMO_DEALERS:
        off = closings.filter(dealer__code=code).exclude(difference=0)
        assert off.count() == 1 and off.get().reason
    # every past day with a payment of a demo cashier is closed
    paid_days = set(
        Payment.objects.filter(business_day__lt=today).values_list("dealer_id", "business_day")
    )
    assert paid_days <= set(closings.values_list("dealer_id", "business_day"))


@pytest.mark.parametrize(
    "name,query",
    [
        ("billing-cashier", ""),
        ("billing-closing", ""),
        ("billing-reports", ""),
        ("billing-reports", "?report=receivables"),
        ("billing-reports", "?report=revenue-pay-type"),
    ],
)
def test_the_cashier_pages_open_with_the_demo_data(loaded, client, name, query):
    client.force_login(User.objects.get(username="bj01-cashier"))
    response = client.get(reverse(name) + query)
    assert response.status_code == 200
    if name == "billing-cashier":
        waiting = RepairOrder.objects.filter(dealer__code="BJ01", status=S.DELIVERED)
        assert any(order.number in response.content.decode() for order in waiting)
    if "receivables" in query:
        rows = reports.receivables(response.wsgi_request.user).rows
        assert rows and {row["dealer"] for row in rows} == {"BJ01"}
        assert rows[0]["number"] in response.content.decode()
