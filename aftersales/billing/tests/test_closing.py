"""Cash closing per cashier and day: totals per method, expected against counted cash,
the difference with a reason, and a closed day takes nothing more."""

from decimal import Decimal

import pytest

from aftersales.billing.closing import cash_closing_create, closing_totals
from aftersales.billing.deposits import deposit_refund, deposit_take
from aftersales.billing.models import CashClosing
from aftersales.billing.payments import business_day, payment_refund, payment_take
from aftersales.billing.testing import make_invoice
from aftersales.core.errors import Conflict, PermissionDenied, ValidationFailed
from aftersales.workorders.testing import make_repair_order

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def cashier(demo_org):
    return demo_org["bj01-cashier"]


def _day_of_takings(cashier, demo_org):
    dealer = cashier.dealer
    invoice = make_invoice(dealer=dealer, gross="1000.00")
    cash = payment_take(
        actor=cashier, invoice=invoice, method="cash", amount="300", tendered="500", key="1"
    )
    payment_take(actor=cashier, invoice=invoice, method="card", amount="200", key="2")
    payment_take(
        actor=cashier,
        invoice=invoice,
        method="alipay",
        amount="100",
        reference="2026112622001",
        key="3",
    )
    payment_refund(actor=cashier, payment=cash, amount="50", reason="少收工时", key="4")
    order = make_repair_order(dealer=dealer, status="checked_in")
    deposit_take(actor=cashier, repair_order=order, method="cash", amount="80", key="5")
    # another cashier's takings are not in this cashier's day
    payment_take(actor=demo_org["bj01-svcmgr"], invoice=invoice, method="cash", amount="9", key="6")


def test_totals_per_method_are_the_cashiers_payments_less_refunds_plus_deposits(demo_org, cashier):
    _day_of_takings(cashier, demo_org)
    totals = closing_totals(dealer_id=cashier.dealer_id, cashier_id=cashier.pk, day=business_day())
    assert totals["cash"] == D("330.00")  # 300 − 50 refunded + 80 deposit
    assert (totals["card"], totals["alipay"], totals["wechat"]) == (D("200"), D("100"), D("0"))


def test_closing_records_expected_counted_and_the_difference_with_its_reason(demo_org, cashier):
    _day_of_takings(cashier, demo_org)
    with pytest.raises(ValidationFailed) as refused:
        cash_closing_create(actor=cashier, counted_cash="320")
    assert refused.value.code == "reason_required"
    assert not CashClosing.objects.exists()
    closing = cash_closing_create(actor=cashier, counted_cash="320.00", reason="找零错误")
    assert (closing.expected_cash, closing.counted_cash, closing.difference) == (
        D("330.00"),
        D("320.00"),
        D("-10.00"),
    )
    assert closing.totals["card"] == "200.00" and closing.reason == "找零错误"
    with pytest.raises(Conflict) as again:
        cash_closing_create(actor=cashier, counted_cash="330")
    assert again.value.code == "already_closed"
    # the closed day takes nothing more
    with pytest.raises(Conflict) as closed:
        deposit_take(
            actor=cashier,
            repair_order=make_repair_order(dealer=cashier.dealer, status="checked_in"),
            method="cash",
            amount="10",
            key="7",
        )
    assert closed.value.code == "day_closed"


def test_no_difference_needs_no_reason_and_only_cashiers_close(demo_org, cashier):
    _day_of_takings(cashier, demo_org)
    closing = cash_closing_create(actor=cashier, counted_cash="330")
    assert closing.difference == D("0") and closing.reason == ""
    with pytest.raises(PermissionDenied):
        cash_closing_create(actor=demo_org["bj01-sa"], counted_cash="0", dealer=cashier.dealer)


def test_bad_closing_input_is_refused(cashier):
    import datetime

    for counted in ("-1", "abc", "1.005"):
        with pytest.raises(ValidationFailed):
            cash_closing_create(actor=cashier, counted_cash=counted)
    with pytest.raises(ValidationFailed):
        cash_closing_create(
            actor=cashier, counted_cash="0", day=business_day() + datetime.timedelta(days=1)
        )
    assert not CashClosing.objects.exists()


def test_deposit_refunds_are_money_out_of_the_refunding_cashiers_day(demo_org, cashier):
    # given deposits taken by this cashier: 80 cash and 120 WeChat, and 60 cash by another
    dealer = cashier.dealer
    order = make_repair_order(dealer=dealer, status="checked_in")
    cash = deposit_take(actor=cashier, repair_order=order, method="cash", amount="80", key="1")
    wechat = deposit_take(
        actor=cashier, repair_order=order, method="wechat", amount="120", reference="42", key="2"
    )
    other = deposit_take(
        actor=demo_org["bj01-svcmgr"], repair_order=order, method="cash", amount="60", key="3"
    )
    day = business_day()
    before = closing_totals(dealer_id=dealer.pk, cashier_id=cashier.pk, day=day)
    assert (before["cash"], before["wechat"]) == (D("80.00"), D("120.00"))
    # when this cashier refunds the WeChat deposit and the other cashier's cash deposit
    deposit_refund(actor=cashier, deposit=wechat, reason="取消", key="r1")
    deposit_refund(actor=cashier, deposit=other, reason="取消", key="r2")
    # then both leave this cashier's day, by the method the deposit was paid with
    after = closing_totals(dealer_id=dealer.pk, cashier_id=cashier.pk, day=day)
    assert (after["cash"], after["wechat"]) == (D("20.00"), D("0.00"))  # 80 − 60; 120 − 120
    # and the other cashier's day keeps the 60 they took
    theirs = closing_totals(dealer_id=dealer.pk, cashier_id=demo_org["bj01-svcmgr"].pk, day=day)
    assert theirs["cash"] == D("60.00")
    # the closing expects the cash that is left in the drawer
    closing = cash_closing_create(actor=cashier, counted_cash="20.00")
    assert (closing.expected_cash, closing.difference) == (D("20.00"), D("0.00"))
    assert cash.available == D("80.00")


def test_a_closed_cashier_day_refunds_no_deposit(cashier):
    # given a deposit and the cashier's day closed
    order = make_repair_order(dealer=cashier.dealer, status="checked_in")
    deposit = deposit_take(actor=cashier, repair_order=order, method="cash", amount="80", key="1")
    cash_closing_create(actor=cashier, counted_cash="80.00")
    # when the cashier refunds it, it is refused and nothing is refunded
    with pytest.raises(Conflict) as refused:
        deposit_refund(actor=cashier, deposit=deposit, reason="取消", key="r")
    assert refused.value.code == "day_closed"
    deposit.refresh_from_db()
    assert (deposit.refunded_amount, deposit.refunded_by) == (D("0.00"), None)
