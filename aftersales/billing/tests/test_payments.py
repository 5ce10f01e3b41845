"""Payments and refunds: amounts checked against what is due under the invoice lock,
cash change, splits and partial payments, refunds bounded by the payment, retries
recorded once, closed cash days refused."""

from decimal import Decimal

import pytest

from aftersales.billing import settlement  # noqa: F401  (registers the close guard)
from aftersales.billing.choices import InvoiceStatus, PaymentKind, PaymentMethod
from aftersales.billing.closing import cash_closing_create
from aftersales.billing.models import Invoice, Payment
from aftersales.billing.payments import payment_refund, payment_take
from aftersales.billing.testing import make_invoice
from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from aftersales.core.models import AuditLog

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def bj01(demo_org):
    return demo_org["bj01-cashier"].dealer


@pytest.fixture
def cashier(demo_org):
    return demo_org["bj01-cashier"]


def paid(invoice):
    return Invoice.objects.get(pk=invoice.pk).paid_amount


def test_split_and_partial_payments_leave_the_balance_due(bj01, cashier):
    # given an issued invoice of 1130.00
    invoice = make_invoice(dealer=bj01, gross="1130.00")
    # when the customer pays 500 by card and 300 by WeChat
    card = payment_take(actor=cashier, invoice=invoice, method="card", amount="500", key="k1")
    wechat = payment_take(
        actor=cashier,
        invoice=invoice,
        method=PaymentMethod.WECHAT,
        amount=D("300.00"),
        reference="4200001234202611260001",
        key="k2",
    )
    # then both are recorded and 330.00 is still due
    invoice.refresh_from_db()
    assert invoice.paid_amount == D("800.00")
    assert invoice.due_amount == D("330.00")
    assert (card.replayed, wechat.replayed) == (False, False)
    assert wechat.reference == "4200001234202611260001"
    assert card.cashier == cashier and card.business_day is not None
    assert AuditLog.objects.filter(object_id=str(card.pk)).exists()


def test_cash_with_change_records_the_tendered_cash_and_the_change(bj01, cashier):
    invoice = make_invoice(dealer=bj01, gross="188.50")
    payment = payment_take(
        actor=cashier, invoice=invoice, method="cash", amount="188.50", tendered="200", key="c"
    )
    assert (payment.tendered, payment.change) == (D("200.00"), D("11.50"))
    assert paid(invoice) == D("188.50")


def test_paying_more_than_due_is_refused_and_changes_nothing(bj01, cashier):
    invoice = make_invoice(dealer=bj01, gross="100.00")
    payment_take(actor=cashier, invoice=invoice, method="card", amount="60", key="a")
    with pytest.raises(Conflict) as refused:
        payment_take(actor=cashier, invoice=invoice, method="card", amount="40.01", key="b")
    assert refused.value.code == "over_due"
    assert "40.00" in str(refused.value.message)
    # cash above the due amount is refused too: the excess is change, not payment
    with pytest.raises(Conflict):
        payment_take(actor=cashier, invoice=invoice, method="cash", amount="50", key="c")
    assert paid(invoice) == D("60.00")
    assert Payment.objects.filter(invoice=invoice).count() == 1


@pytest.mark.parametrize(
    ("method", "amount", "tendered", "reference", "field"),
    [
        ("cash", "10", "5", "", "tendered"),  # less cash than the amount
        ("card", "10", "20", "", "tendered"),  # change only for cash
        ("alipay", "10", None, "", "reference"),  # trade number required
        ("bitcoin", "10", None, "", "method"),
        ("card", "0", None, "", "amount"),
        ("card", "-5", None, "", "amount"),
        ("card", "1.234", None, "", "amount"),
        ("card", "abc", None, "", "amount"),
    ],
)
def test_bad_payment_input_is_refused_with_the_field_named(
    bj01, cashier, method, amount, tendered, reference, field
):
    invoice = make_invoice(dealer=bj01, gross="100.00")
    with pytest.raises(ValidationFailed) as refused:
        payment_take(
            actor=cashier,
            invoice=invoice,
            method=method,
            amount=amount,
            tendered=tendered,
            reference=reference,
            key="x",
        )
    assert field in refused.value.fields
    assert not Payment.objects.exists()


def test_a_payment_needs_a_key(bj01, cashier):
    invoice = make_invoice(dealer=bj01)
    with pytest.raises(ValidationFailed) as refused:
        payment_take(actor=cashier, invoice=invoice, method="card", amount="1", key="")
    assert refused.value.code == "idempotency_key_required"


def test_a_draft_invoice_cannot_be_paid(bj01, cashier):
    invoice = make_invoice(dealer=bj01, status=InvoiceStatus.DRAFT)
    with pytest.raises(Conflict) as refused:
        payment_take(actor=cashier, invoice=invoice, method="card", amount="10", key="k")
    assert refused.value.code == "not_issued"
    assert not Payment.objects.exists()


def test_another_dealers_invoice_is_not_found(demo_org, cashier):
    foreign = make_invoice(dealer=demo_org["tj01-cashier"].dealer)
    with pytest.raises(NotFound):
        payment_take(actor=cashier, invoice=foreign, method="card", amount="10", key="k")
    assert paid(foreign) == D("0")


def test_a_user_who_sees_invoices_but_may_not_take_payments_is_refused(demo_org, bj01):
    invoice = make_invoice(dealer=bj01)
    with pytest.raises(PermissionDenied):
        payment_take(
            actor=demo_org["bj01-sa"], invoice=invoice, method="card", amount="10", key="k"
        )


def test_a_retried_payment_is_recorded_once(bj01, cashier):
    invoice = make_invoice(dealer=bj01, gross="300.00")
    first = payment_take(actor=cashier, invoice=invoice, method="card", amount="100", key="r1")
    again = payment_take(actor=cashier, invoice=invoice, method="card", amount="100", key="r1")
    assert again.pk == first.pk and again.replayed
    assert paid(invoice) == D("100.00")
    assert Payment.objects.filter(invoice=invoice).count() == 1


def test_a_retry_under_another_user_is_recorded_once(demo_org, bj01, cashier):
    # the database's unique request key catches what the per-user key rows cannot
    invoice = make_invoice(dealer=bj01, gross="300.00")
    first = payment_take(actor=cashier, invoice=invoice, method="card", amount="100", key="r")
    again = payment_take(
        actor=demo_org["bj01-svcmgr"], invoice=invoice, method="card", amount="100", key="r"
    )
    assert again.pk == first.pk and again.replayed
    assert paid(invoice) == D("100.00")


def test_a_key_reused_for_another_amount_is_refused(bj01, cashier):
    invoice = make_invoice(dealer=bj01, gross="300.00")
    payment_take(actor=cashier, invoice=invoice, method="card", amount="100", key="r")
    with pytest.raises(Conflict) as refused:
        payment_take(actor=cashier, invoice=invoice, method="card", amount="120", key="r")
    assert refused.value.code == "key_reused"
    assert paid(invoice) == D("100.00")


def test_refunds_never_exceed_what_the_payment_still_holds(bj01, cashier):
    invoice = make_invoice(dealer=bj01, gross="300.00")
    payment = payment_take(actor=cashier, invoice=invoice, method="card", amount="200", key="p")
    refund = payment_refund(actor=cashier, payment=payment, amount="150", reason="多收", key="f1")
    assert (refund.kind, refund.method, refund.refund_of_id) == (
        PaymentKind.REFUND,
        "card",
        payment.pk,
    )
    with pytest.raises(Conflict) as refused:
        payment_refund(actor=cashier, payment=payment, amount="50.01", reason="再退", key="f2")
    assert refused.value.code == "refund_over"
    assert paid(invoice) == D("50.00")
    # the rest may still go back, once
    payment_refund(actor=cashier, payment=payment, amount="50", reason="再退", key="f3")
    again = payment_refund(actor=cashier, payment=payment, amount="50", reason="再退", key="f3")
    assert again.replayed
    assert paid(invoice) == D("0.00")
    assert Payment.objects.filter(kind=PaymentKind.REFUND).count() == 2


def test_a_refund_needs_a_reason_and_the_refund_permission(demo_org, bj01, cashier):
    invoice = make_invoice(dealer=bj01, gross="300.00")
    payment = payment_take(actor=cashier, invoice=invoice, method="card", amount="200", key="p")
    with pytest.raises(ValidationFailed) as refused:
        payment_refund(actor=cashier, payment=payment, amount="10", reason=" ", key="f")
    assert "reason" in refused.value.fields
    with pytest.raises(PermissionDenied):
        payment_refund(actor=demo_org["bj01-sa"], payment=payment, amount="10", reason="x", key="g")
    with pytest.raises(NotFound):
        payment_refund(
            actor=demo_org["tj01-cashier"], payment=payment, amount="10", reason="x", key="h"
        )
    assert paid(invoice) == D("200.00")


def test_no_payment_or_refund_after_the_cashiers_day_is_closed(demo_org, bj01, cashier):
    invoice = make_invoice(dealer=bj01, gross="300.00")
    payment = payment_take(actor=cashier, invoice=invoice, method="card", amount="100", key="p")
    cash_closing_create(actor=cashier, counted_cash="0")
    with pytest.raises(Conflict) as refused:
        payment_take(actor=cashier, invoice=invoice, method="card", amount="10", key="q")
    assert refused.value.code == "day_closed"
    with pytest.raises(Conflict):
        payment_refund(actor=cashier, payment=payment, amount="10", reason="x", key="r")
    # another cashier of the dealer still may
    other = payment_take(
        actor=demo_org["bj01-svcmgr"], invoice=invoice, method="card", amount="10", key="s"
    )
    assert not other.replayed
    assert paid(invoice) == D("110.00")


def test_a_credit_note_lowers_what_may_be_paid(bj01, cashier):
    invoice = make_invoice(dealer=bj01, gross="300.00")
    Invoice.objects.filter(pk=invoice.pk).update(credited_amount=D("100.00"))
    with pytest.raises(Conflict):
        payment_take(actor=cashier, invoice=invoice, method="card", amount="200.01", key="a")
    payment_take(actor=cashier, invoice=invoice, method="card", amount="200", key="b")
    invoice.refresh_from_db()
    assert invoice.due_amount == D("0.00")
