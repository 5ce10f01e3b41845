"""Settlement closes the repair order: once its customer part is paid (delivered orders
close with the payment; orders paid before the hand-over close at delivery), and the
order cannot be closed while something is unpaid or an invoice is still a draft."""

import pytest

from aftersales.billing import settlement  # noqa: F401  (registers guard and effect)
from aftersales.billing.choices import InvoiceStatus
from aftersales.billing.payments import payment_refund, payment_take
from aftersales.billing.testing import make_invoice
from aftersales.workorders.choices import PayType, ROStatus
from aftersales.workorders.delivery import delivery_checks_for, repair_order_close
from aftersales.workorders.models import RepairOrder
from aftersales.workorders.testing import advisor_of, all_true, make_repair_order
from aftersales.workorders.transitions import GuardRefused, repair_order_transition

pytestmark = pytest.mark.django_db
S = ROStatus


@pytest.fixture
def cashier(demo_org):
    return demo_org["bj01-cashier"]


def status(order):
    return RepairOrder.objects.get(pk=order.pk).status


def test_the_payment_that_completes_the_customer_part_closes_a_delivered_order(cashier):
    invoice = make_invoice(dealer=cashier.dealer, gross="300.00")
    order = invoice.repair_order
    payment_take(actor=cashier, invoice=invoice, method="card", amount="100", key="a")
    assert status(order) == S.DELIVERED  # 200 still due
    payment_take(
        actor=cashier, invoice=invoice, method="cash", amount="200", tendered="200", key="b"
    )
    order.refresh_from_db()
    assert order.status == S.CLOSED and order.closed_at is not None
    assert order.events.filter(to_status=S.CLOSED, actor=cashier).exists()


def test_an_order_paid_before_the_hand_over_closes_at_delivery(demo_org, cashier):
    order = make_repair_order(dealer=cashier.dealer, status=S.READY)
    invoice = make_invoice(dealer=cashier.dealer, gross="144.00", repair_order=order)
    payment_take(actor=cashier, invoice=invoice, method="card", amount="144", key="a")
    assert status(order) == S.READY
    RepairOrder.objects.filter(pk=order.pk).update(
        delivery_checks=all_true(delivery_checks_for(order))
    )
    order.refresh_from_db()
    # when the advisor hands the car over
    handed = repair_order_transition(
        repair_order=order, to=S.DELIVERED, actor=advisor_of(cashier.dealer), version=order.version
    )
    # then the order is settled and closed at once (by the system: the advisor may not close)
    assert handed.status == S.CLOSED
    assert status(order) == S.CLOSED


def test_an_order_with_only_a_partly_paid_invoice_stays_open_at_delivery(cashier):
    order = make_repair_order(dealer=cashier.dealer, status=S.READY)
    invoice = make_invoice(dealer=cashier.dealer, gross="144.00", repair_order=order)
    payment_take(actor=cashier, invoice=invoice, method="card", amount="44", key="a")
    RepairOrder.objects.filter(pk=order.pk).update(
        delivery_checks=all_true(delivery_checks_for(order))
    )
    order.refresh_from_db()
    handed = repair_order_transition(
        repair_order=order, to=S.DELIVERED, actor=advisor_of(cashier.dealer), version=order.version
    )
    assert handed.status == S.DELIVERED


def test_closing_is_refused_while_the_customer_still_owes(cashier):
    invoice = make_invoice(dealer=cashier.dealer, gross="300.00")
    order = invoice.repair_order
    payment_take(actor=cashier, invoice=invoice, method="card", amount="100", key="a")
    with pytest.raises(GuardRefused) as refused:
        repair_order_close(actor=cashier, repair_order=order, version=order.version)
    assert refused.value.code == "unpaid"
    assert "200.00" in str(refused.value.message)
    assert status(order) == S.DELIVERED


def test_closing_is_refused_with_a_draft_invoice_or_no_customer_invoice(cashier):
    uninvoiced = make_repair_order(dealer=cashier.dealer, status=S.DELIVERED)
    with pytest.raises(GuardRefused) as refused:
        repair_order_close(actor=cashier, repair_order=uninvoiced, version=uninvoiced.version)
    assert refused.value.code == "not_invoiced"
    draft = make_invoice(dealer=cashier.dealer, status=InvoiceStatus.DRAFT)
    order = draft.repair_order
    with pytest.raises(GuardRefused) as refused:
        repair_order_close(actor=cashier, repair_order=order, version=order.version)
    assert refused.value.code == "invoice_not_issued"


def test_an_order_with_only_an_insurance_invoice_may_be_closed(cashier):
    order = make_repair_order(dealer=cashier.dealer, status=S.DELIVERED, lines=False)
    make_invoice(dealer=cashier.dealer, pay_type=PayType.INSURANCE, repair_order=order)
    closed = repair_order_close(actor=cashier, repair_order=order, version=order.version)
    assert closed.status == S.CLOSED


def test_a_refund_on_a_closed_order_does_not_reopen_it(cashier):
    invoice = make_invoice(dealer=cashier.dealer, gross="100.00")
    payment = payment_take(actor=cashier, invoice=invoice, method="card", amount="100", key="a")
    assert status(invoice.repair_order) == S.CLOSED
    payment_refund(actor=cashier, payment=payment, amount="10", reason="优惠", key="r")
    assert status(invoice.repair_order) == S.CLOSED
    invoice.refresh_from_db()
    assert str(invoice.due_amount) == "10.00"


def test_a_credit_note_that_leaves_nothing_due_closes_a_delivered_order(cashier, demo_org):
    # given a delivered order whose customer invoice of 300.00 has 250.00 paid
    from aftersales.billing.credit import credit_note_create

    invoice = make_invoice(dealer=cashier.dealer, gross="300.00")
    order = invoice.repair_order
    payment_take(actor=cashier, invoice=invoice, method="card", amount="250", key="c1")
    assert status(order) == S.DELIVERED
    # when the manager credits the remaining 50.00 (a goodwill correction)
    line = invoice.lines.get()
    credit_note_create(
        actor=demo_org["bj01-svcmgr"],
        invoice=invoice,
        reason="好意折让",
        lines=[{"invoice_line": line.pk, "amount": "50.00"}],
    )
    # then nothing is due and the order is closed
    invoice.refresh_from_db()
    assert invoice.due_amount == 0
    assert status(order) == S.CLOSED


def test_a_partial_credit_note_leaves_the_order_delivered(cashier, demo_org):
    from aftersales.billing.credit import credit_note_create

    invoice = make_invoice(dealer=cashier.dealer, gross="300.00")
    line = invoice.lines.get()
    credit_note_create(
        actor=demo_org["bj01-svcmgr"],
        invoice=invoice,
        reason="好意折让",
        lines=[{"invoice_line": line.pk, "amount": "50.00"}],
    )
    assert status(invoice.repair_order) == S.DELIVERED
