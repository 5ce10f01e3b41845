"""End to end with the invoicing services: an order's invoices prepared and issued, the
customer part paid in two payments closes the order; the customer 360 timeline shows the
invoices and payments to whoever may see them."""

from decimal import Decimal

import pytest

from aftersales.billing import settlement  # noqa: F401  (registers the close guard)
from aftersales.billing.choices import PayType
from aftersales.billing.invoices import invoice_issue, invoice_prepare
from aftersales.billing.payments import payment_refund, payment_take
from aftersales.billing.testing import make_invoice
from aftersales.crm.timeline import customer_timeline
from aftersales.workorders.choices import ROStatus
from aftersales.workorders.testing import advisor_of, make_repair_order
from aftersales.workorders.transitions import GuardRefused, repair_order_transition

pytestmark = pytest.mark.django_db


def test_prepared_and_issued_invoices_paid_in_two_payments_close_the_order(demo_org):
    cashier = demo_org["bj01-cashier"]
    advisor = advisor_of(cashier.dealer)
    order = make_repair_order(dealer=cashier.dealer, status=ROStatus.DELIVERED)
    drafts = invoice_prepare(actor=advisor, repair_order=order)
    with pytest.raises(GuardRefused):  # drafts only: not settled
        repair_order_transition(repair_order=order, to=ROStatus.CLOSED, actor=cashier)
    invoices = [invoice_issue(actor=advisor, invoice=d) for d in drafts]
    customer = next(i for i in invoices if i.pay_type == PayType.CUSTOMER)
    assert customer.gross_amount == Decimal("144.00")
    payment_take(
        actor=cashier, invoice=customer, method="wechat", amount="44", reference="4200", key="a"
    )
    order.refresh_from_db()
    assert order.status == ROStatus.DELIVERED
    payment_take(
        actor=cashier, invoice=customer, method="cash", amount="100", tendered="100", key="b"
    )
    order.refresh_from_db()
    assert order.status == ROStatus.CLOSED


def test_the_customer_timeline_shows_invoices_and_payments_to_those_who_may_see_them(demo_org):
    cashier = demo_org["bj01-cashier"]
    invoice = make_invoice(dealer=cashier.dealer, gross="300.00")
    payment = payment_take(actor=cashier, invoice=invoice, method="card", amount="300", key="a")
    payment_refund(actor=cashier, payment=payment, amount="20", reason="优惠", key="r")
    customer = invoice.customer
    kinds = [e.kind for e in customer_timeline(customer, demo_org["bj01-sa"])]
    assert kinds.count("billing.invoice") == 1 and kinds.count("billing.payment") == 2
    titles = " ".join(e.title for e in customer_timeline(customer, cashier))
    assert invoice.number in titles and "300.00" in titles and "20.00" in titles
    outsider = [e.kind for e in customer_timeline(customer, demo_org["sh01-cashier"])]
    assert "billing.invoice" not in outsider and "billing.payment" not in outsider
