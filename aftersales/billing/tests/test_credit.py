"""Credit notes: the only correction of an issued invoice (aftersales/billing/credit.py)."""

from decimal import Decimal

import pytest

from aftersales.billing.credit import NotIssued, OverCredit, credit_note_create, refund_due
from aftersales.billing.invoices import invoice_issue, invoice_prepare
from aftersales.billing.models import CreditNote, Invoice
from aftersales.core.errors import PermissionDenied, ValidationFailed

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(mixed_order, demo_org):
    """The customer invoice of the mixed order (144.00 labour + 226.00 for 2 parts), issued."""
    sa = demo_org["bj01-sa"]
    invoice = next(
        i for i in invoice_prepare(actor=sa, repair_order=mixed_order) if i.pay_type == "customer"
    )
    return invoice_issue(actor=sa, invoice=invoice)


def test_credit_one_part_of_two_by_quantity(issued, demo_org):
    part_line = issued.lines.get(description="机油滤清器")
    note = credit_note_create(
        actor=demo_org["bj01-cashier"],
        invoice=issued,
        lines=[{"invoice_line": part_line.pk, "quantity": "1"}],
        reason="退回一个未使用的滤清器",
    )
    assert note.number.startswith("CN-BJ01-") and note.number.endswith("-000001")
    assert note.gross_amount == D("113.00")
    assert (note.net_amount, note.tax_amount) == (D("100.00"), D("13.00"))
    issued.refresh_from_db()
    assert issued.credited_amount == D("113.00") and issued.due_amount == D("257.00")
    # the invoice itself is unchanged
    assert issued.gross_amount == D("370.00") and issued.status == "issued"
    assert note.refund_due == 0


def test_crediting_the_rest_of_a_line_takes_exactly_what_remains(issued, demo_org):
    cashier = demo_org["bj01-cashier"]
    labour = issued.lines.get(description="更换前刹车片")  # 144.00, 1.2 h
    credit_note_create(
        actor=cashier,
        invoice=issued,
        lines=[{"invoice_line": labour, "amount": "44.44"}],
        reason="x",
    )
    note = credit_note_create(actor=cashier, invoice=issued, full=True, reason="全部冲红")
    # the second note takes what is left of both lines
    assert note.gross_amount == D("370.00") - D("44.44")
    issued.refresh_from_db()
    assert issued.credited_amount == issued.gross_amount
    total_net = sum(n.net_amount for n in CreditNote.objects.filter(invoice=issued))
    total_tax = sum(n.tax_amount for n in CreditNote.objects.filter(invoice=issued))
    assert (total_net, total_tax) == (issued.net_amount, issued.tax_amount)
    # nothing is left: another full credit is refused
    with pytest.raises(ValidationFailed):
        credit_note_create(actor=cashier, invoice=issued, full=True, reason="again")


def test_a_credit_larger_than_what_remains_is_refused(issued, demo_org):
    cashier = demo_org["bj01-cashier"]
    part_line = issued.lines.get(description="机油滤清器")
    credit_note_create(
        actor=cashier,
        invoice=issued,
        lines=[{"invoice_line": part_line, "amount": "200"}],
        reason="x",
    )
    with pytest.raises(OverCredit) as refused:
        credit_note_create(
            actor=cashier,
            invoice=issued,
            lines=[{"invoice_line": part_line, "amount": "26.01"}],
            reason="too much",
        )
    assert "26.00" in str(refused.value.message) and refused.value.code == "over_credit"
    with pytest.raises(OverCredit):
        credit_note_create(
            actor=cashier,
            invoice=issued,
            lines=[{"invoice_line": part_line, "quantity": "3"}],
            reason="too many",
        )
    issued.refresh_from_db()
    assert issued.credited_amount == D("200.00")
    assert CreditNote.objects.filter(invoice=issued).count() == 1


def test_a_credit_after_payment_says_what_to_refund(issued, demo_org):
    # given the customer paid the whole invoice (the payments service's running total)
    Invoice.objects.filter(pk=issued.pk).update(paid_amount=D("370.00"))
    part_line = issued.lines.get(description="机油滤清器")
    note = credit_note_create(
        actor=demo_org["bj01-cashier"],
        invoice=issued,
        lines=[{"invoice_line": part_line, "quantity": "2"}],
        reason="配件退回",
    )
    assert note.refund_due == D("226.00")
    issued.refresh_from_db()
    assert refund_due(issued) == D("226.00") and issued.due_amount == D("-226.00")


def test_drafts_reasons_and_permissions(mixed_order, issued, demo_org):
    draft = next(
        i
        for i in invoice_prepare(actor=demo_org["bj01-sa"], repair_order=mixed_order)
        if i.pay_type == "warranty"
    )
    with pytest.raises(NotIssued):
        credit_note_create(actor=demo_org["bj01-cashier"], invoice=draft, full=True, reason="x")
    with pytest.raises(ValidationFailed):
        credit_note_create(actor=demo_org["bj01-cashier"], invoice=issued, full=True, reason=" ")
    with pytest.raises(PermissionDenied):  # the advisor prepares, does not credit
        credit_note_create(actor=demo_org["bj01-sa"], invoice=issued, full=True, reason="x")
    with pytest.raises(PermissionDenied):  # another dealer's cashier
        credit_note_create(actor=demo_org["tj01-cashier"], invoice=issued, full=True, reason="x")
    assert not CreditNote.objects.exists()
