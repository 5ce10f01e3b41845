"""Deposits: taken at reception against an order, used on that order's invoice, the
rest refunded."""

from decimal import Decimal

import pytest

from aftersales.billing.choices import DepositStatus
from aftersales.billing.deposits import deposit_refund, deposit_take
from aftersales.billing.models import Deposit, Invoice
from aftersales.billing.payments import business_day, payment_refund, payment_take
from aftersales.billing.testing import make_invoice
from aftersales.core.errors import Conflict, NotFound, ValidationFailed
from aftersales.core.models import IdempotencyKey
from aftersales.workorders.testing import make_repair_order

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def cashier(demo_org):
    return demo_org["bj01-cashier"]


def test_a_deposit_pays_the_orders_invoice_and_the_rest_is_refunded(cashier):
    # given a deposit of 500 taken at reception
    order = make_repair_order(dealer=cashier.dealer, status="in_progress")
    deposit = deposit_take(
        actor=cashier,
        repair_order=order,
        method="wechat",
        amount="500",
        reference="42000001",
        key="d1",
    )
    assert deposit.number.startswith("DP-BJ01-") and deposit.available == D("500.00")
    # when the invoice of 320 is paid from it
    invoice = make_invoice(dealer=cashier.dealer, gross="320.00", repair_order=order)
    payment = payment_take(
        actor=cashier, invoice=invoice, method="deposit", amount="320", deposit=deposit, key="p"
    )
    deposit.refresh_from_db()
    assert payment.deposit_id == deposit.pk and payment.reference == deposit.number
    assert (deposit.used_amount, deposit.available) == (D("320.00"), D("180.00"))
    # it cannot pay more than is left
    other = make_invoice(dealer=cashier.dealer, gross="500.00", repair_order=order)
    with pytest.raises(Conflict) as refused:
        payment_take(
            actor=cashier,
            invoice=other,
            method="deposit",
            amount="180.01",
            deposit=deposit,
            key="q",
        )
    assert refused.value.code == "deposit_short"
    # refunding a deposit payment puts the money back on the deposit
    payment_refund(actor=cashier, payment=payment, amount="20", reason="少做一项", key="r")
    deposit.refresh_from_db()
    assert deposit.available == D("200.00")
    # then what is left is refunded, once
    refunded = deposit_refund(actor=cashier, deposit=deposit, reason="修完了", key="x")
    again = deposit_refund(actor=cashier, deposit=deposit, reason="修完了", key="x")
    assert again.replayed and again.pk == refunded.pk
    deposit.refresh_from_db()
    assert (deposit.refunded_amount, deposit.available, deposit.status) == (
        D("200.00"),
        D("0.00"),
        DepositStatus.USED,
    )
    with pytest.raises(Conflict) as nothing:
        deposit_refund(actor=cashier, deposit=deposit, reason="再退", key="y")
    assert nothing.value.code == "nothing_left"
    assert Invoice.objects.get(pk=invoice.pk).paid_amount == D("300.00")


def test_a_retried_deposit_is_taken_once(cashier):
    order = make_repair_order(dealer=cashier.dealer, status="checked_in")
    first = deposit_take(actor=cashier, repair_order=order, method="cash", amount="200", key="k")
    again = deposit_take(actor=cashier, repair_order=order, method="cash", amount="200", key="k")
    assert again.pk == first.pk and again.replayed
    assert Deposit.objects.count() == 1


def test_another_orders_deposit_cannot_pay_this_invoice(cashier):
    order = make_repair_order(dealer=cashier.dealer, status="checked_in")
    deposit = deposit_take(actor=cashier, repair_order=order, method="cash", amount="200", key="k")
    invoice = make_invoice(dealer=cashier.dealer, gross="100.00")
    with pytest.raises(ValidationFailed) as refused:
        payment_take(
            actor=cashier, invoice=invoice, method="deposit", amount="100", deposit=deposit, key="p"
        )
    assert refused.value.code == "deposit_other_order"
    with pytest.raises(ValidationFailed):
        payment_take(actor=cashier, invoice=invoice, method="deposit", amount="100", key="p2")


def test_bad_deposits_are_refused(demo_org, cashier):
    order = make_repair_order(dealer=cashier.dealer, status="checked_in")
    with pytest.raises(ValidationFailed):
        deposit_take(actor=cashier, repair_order=order, method="deposit", amount="10", key="a")
    with pytest.raises(ValidationFailed):
        deposit_take(actor=cashier, repair_order=order, method="alipay", amount="10", key="b")
    with pytest.raises(NotFound):
        deposit_take(
            actor=demo_org["tj01-cashier"], repair_order=order, method="cash", amount="10", key="c"
        )
    closed = make_repair_order(dealer=cashier.dealer, status="closed")
    with pytest.raises(Conflict):
        deposit_take(actor=cashier, repair_order=closed, method="cash", amount="10", key="d")
    assert not Deposit.objects.exists()


def test_a_deposit_refund_records_who_when_and_why_and_needs_a_reason(cashier):
    # given a deposit of 300 by card
    order = make_repair_order(dealer=cashier.dealer, status="checked_in")
    deposit = deposit_take(actor=cashier, repair_order=order, method="card", amount="300", key="k")
    # when it is refunded without a reason (or a blank one), it is refused and nothing moves
    for reason in ("", "   "):
        with pytest.raises(ValidationFailed) as refused:
            deposit_refund(actor=cashier, deposit=deposit, reason=reason, key="r")
        assert "reason" in refused.value.fields
    deposit.refresh_from_db()
    assert deposit.available == D("300.00") and deposit.refunded_by is None
    # then with a reason the refund records the cashier, the business day and the reason
    deposit_refund(actor=cashier, deposit=deposit, reason="  客户取消维修 ", key="r2")
    deposit.refresh_from_db()
    assert (deposit.refunded_by, deposit.refund_day, deposit.refund_reason) == (
        cashier,
        business_day(),
        "客户取消维修",
    )
    assert deposit.refunded_amount == D("300.00")


def test_the_request_key_is_the_database_backstop_of_a_retried_deposit(cashier, demo_org):
    # given a deposit taken with key "k"
    order = make_repair_order(dealer=cashier.dealer, status="checked_in")
    first = deposit_take(actor=cashier, repair_order=order, method="cash", amount="200", key="k")
    assert first.request_key == "k"
    # when the same request comes again but its key row is gone (another user's retry)
    IdempotencyKey.objects.all().delete()
    again = deposit_take(actor=cashier, repair_order=order, method="cash", amount="200", key="k")
    # then the first deposit answers, and nothing new is recorded
    assert again.pk == first.pk and again.replayed
    assert Deposit.objects.count() == 1
    # and the key sent for another amount is refused as reused
    IdempotencyKey.objects.all().delete()
    with pytest.raises(Conflict) as reused:
        deposit_take(actor=cashier, repair_order=order, method="cash", amount="250", key="k")
    assert reused.value.code == "key_reused"
    assert Deposit.objects.count() == 1
