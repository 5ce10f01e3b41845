"""Redeeming coupons on invoices at settlement: a draft invoice gets an invoice discount,
an issued one a credit note; capped at what is due; refused with the reason; single use
(also under a race on PostgreSQL); released when the invoice goes away or is reversed."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from aftersales.billing.credit import credit_note_create
from aftersales.billing.invoices import invoice_prepare
from aftersales.billing.models import CreditNote, Invoice
from aftersales.care.choices import CouponState
from aftersales.care.models import Coupon
from aftersales.care.redeem import coupon_check, coupon_redeem, coupon_release
from aftersales.care.testing import invoice_for, make_coupon
from aftersales.core.errors import Conflict, NotFound, PermissionDenied
from aftersales.core.models import AuditLog
from aftersales.crm.testing import make_customer

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def bj01(demo_org):
    return demo_org["bj01-cashier"].dealer


@pytest.fixture
def cashier(demo_org):
    return demo_org["bj01-cashier"]


@pytest.fixture
def customer(bj01):
    return make_customer(dealer=bj01, name="李娜")


def fresh(row):
    return type(row).objects.get(pk=row.pk)


def test_an_amount_coupon_on_an_issued_invoice_becomes_a_credit_note(bj01, cashier, customer):
    # given a 50-yuan coupon of the dealer and the customer's issued invoice of 1130.00
    coupon = make_coupon(customer=customer, dealer=bj01, amount="50")
    invoice = invoice_for(customer, dealer=bj01)
    # when the cashier redeems it, typing the code in lower case with dashes
    redeemed = coupon_redeem(actor=cashier, code=coupon.display_code.lower(), invoice=invoice)
    # then the coupon is redeemed there and 50.00 less is due, through a credit note
    assert redeemed.state == CouponState.REDEEMED
    assert (redeemed.invoice_id, redeemed.discount) == (invoice.pk, D("50.00"))
    assert redeemed.redeemed_by == cashier and redeemed.redeemed_dealer == bj01
    note = CreditNote.objects.get(invoice=invoice)
    assert redeemed.credit_note == note and coupon.display_code in note.reason
    assert note.gross_amount == D("50.00")
    assert fresh(invoice).due_amount == D("1080.00")
    assert AuditLog.objects.filter(object_id=str(coupon.pk), action="update").exists()


def test_a_percentage_coupon_on_a_draft_counts_labour_and_parts_only(bj01, cashier, customer):
    # given a 10 % coupon and a draft of labour 600 + parts 400 + fee 130
    coupon = make_coupon(customer=customer, dealer=bj01, percent="10")
    invoice = invoice_for(customer, dealer=bj01, status="draft")
    # when it is redeemed
    redeemed = coupon_redeem(actor=cashier, code=coupon.code, invoice=invoice)
    # then 100.00 (10 % of 1000) becomes invoice discount; the fapiao total is 1030.00
    assert redeemed.discount == D("100.00")
    invoice = fresh(invoice)
    assert invoice.invoice_discount == D("100.00")
    assert invoice.gross_amount == D("1030.00")
    assert invoice.net_amount + invoice.tax_amount == invoice.gross_amount
    assert sum(line.gross_amount for line in invoice.lines.all()) == D("1030.00")
    assert not CreditNote.objects.filter(invoice=invoice).exists()


def test_the_discount_is_capped_at_what_is_due(bj01, cashier, customer):
    # given a 500-yuan coupon and an invoice of which only 80.00 is still due
    coupon = make_coupon(customer=customer, dealer=bj01, amount="500")
    invoice = invoice_for(customer, dealer=bj01)
    Invoice.objects.filter(pk=invoice.pk).update(paid_amount=D("1050.00"))
    # when it is redeemed, then it gives 80.00 and nothing is left due
    redeemed = coupon_redeem(actor=cashier, code=coupon.code, invoice=invoice)
    assert redeemed.discount == D("80.00")
    assert fresh(invoice).due_amount == D("0.00")


@pytest.mark.parametrize(
    "change, code",
    [
        ({"state": CouponState.VOID, "void_reason": "发错了"}, "coupon_void"),
        ({"state": CouponState.EXPIRED}, "coupon_expired"),
        (
            {"valid_from": datetime.date(2020, 1, 1), "valid_until": datetime.date(2020, 2, 1)},
            "coupon_expired",
        ),
        ({"valid_from": "tomorrow"}, "coupon_not_yet_valid"),
        ({"min_spend": D("2000.00")}, "coupon_below_minimum"),
        ({"customer": "other"}, "coupon_other_customer"),
        ({"dealer": "other"}, "coupon_other_dealer"),
    ],
)
def test_refusals_name_the_reason_and_change_nothing(
    demo_org, bj01, cashier, customer, change, code
):
    # given a coupon that is wrong for this invoice in one way
    today = timezone.localdate()
    fields = dict(change)
    if fields.get("valid_from") == "tomorrow":
        fields["valid_from"] = today + datetime.timedelta(days=1)
    if fields.get("customer") == "other":
        fields["customer"] = make_customer(dealer=bj01, name="王芳")
    if fields.get("dealer") == "other":
        fields["dealer"] = demo_org["sh01-cashier"].dealer
    fields.setdefault("customer", customer)
    fields.setdefault("dealer", bj01)
    coupon = make_coupon(**fields)
    invoice = invoice_for(customer, dealer=bj01)
    # when the cashier tries it, then it is refused with its own code and a message
    with pytest.raises(Conflict) as refused:
        coupon_redeem(actor=cashier, code=coupon.code, invoice=invoice)
    assert refused.value.code == code
    assert coupon.display_code in str(refused.value.message)
    # and nothing changed
    assert fresh(coupon).state == coupon.state
    assert fresh(invoice).due_amount == D("1130.00")
    # and the check says the same without trying
    assert coupon_check(actor=cashier, code=coupon.code, invoice=invoice).refusal.code == code


def test_an_unknown_code_and_a_second_use_are_refused(bj01, cashier, customer):
    coupon = make_coupon(customer=customer, dealer=bj01)
    first = invoice_for(customer, dealer=bj01)
    second = invoice_for(customer, dealer=bj01)
    with pytest.raises(Conflict) as unknown:
        coupon_redeem(actor=cashier, code="ZZZZ-ZZZZ-ZZZZ", invoice=first)
    assert unknown.value.code == "coupon_unknown"
    coupon_redeem(actor=cashier, code=coupon.code, invoice=first)
    with pytest.raises(Conflict) as again:
        coupon_redeem(actor=cashier, code=coupon.code, invoice=second)
    assert again.value.code == "coupon_redeemed"
    assert first.number in str(again.value.message)
    assert fresh(second).due_amount == D("1130.00")


def test_an_oem_coupon_is_redeemable_at_any_dealer(demo_org, customer):
    # given an OEM coupon (no dealer) and an invoice at another dealer
    sh01_cashier = demo_org["sh01-cashier"]
    coupon = make_coupon(customer=customer, dealer=None, amount="30")
    invoice = invoice_for(customer, dealer=sh01_cashier.dealer)
    # when that dealer's cashier redeems it, then it is accepted
    assert coupon_redeem(actor=sh01_cashier, code=coupon.code, invoice=invoice).discount == D("30")


def test_only_the_invoice_dealers_cashier_may_redeem(demo_org, bj01, customer):
    coupon = make_coupon(customer=customer, dealer=bj01)
    invoice = invoice_for(customer, dealer=bj01)
    with pytest.raises(NotFound):  # another dealer's invoice: as if it did not exist
        coupon_redeem(actor=demo_org["sh01-cashier"], code=coupon.code, invoice=invoice)
    with pytest.raises(PermissionDenied):  # the advisor sees the invoice but may not redeem
        coupon_redeem(actor=demo_org["bj01-sa"], code=coupon.code, invoice=invoice)
    assert fresh(coupon).state == CouponState.ISSUED


def test_a_deleted_draft_releases_its_coupon(bj01, cashier, customer):
    # given a coupon redeemed on a draft invoice
    coupon = make_coupon(customer=customer, dealer=bj01)
    invoice = invoice_for(customer, dealer=bj01, status="draft")
    coupon_redeem(actor=cashier, code=coupon.code, invoice=invoice)
    # when billing deletes the draft (its order no longer has lines for it)
    order = invoice.repair_order
    order.lines.all().delete()
    invoice_prepare(actor=cashier, repair_order=order)
    # then the coupon is issued again and may be used on another invoice
    coupon = fresh(coupon)
    assert (coupon.state, coupon.invoice_id, coupon.discount) == (CouponState.ISSUED, None, None)
    assert not Invoice.objects.filter(pk=invoice.pk).exists()


def test_release_from_a_draft_removes_the_discount(bj01, cashier, customer):
    coupon = make_coupon(customer=customer, dealer=bj01, amount="50")
    invoice = invoice_for(customer, dealer=bj01, status="draft")
    coupon_redeem(actor=cashier, code=coupon.code, invoice=invoice)
    released = coupon_release(actor=cashier, coupon=coupon)
    assert released.state == CouponState.ISSUED
    assert fresh(invoice).gross_amount == D("1130.00")
    assert fresh(invoice).invoice_discount == D("0.00")


def test_release_from_an_issued_invoice_needs_it_reversed(bj01, cashier, customer):
    # given a coupon redeemed on an issued invoice
    coupon = make_coupon(customer=customer, dealer=bj01)
    invoice = invoice_for(customer, dealer=bj01)
    coupon_redeem(actor=cashier, code=coupon.code, invoice=invoice)
    # when the cashier releases it while the invoice stands, then it is refused
    with pytest.raises(Conflict) as refused:
        coupon_release(actor=cashier, coupon=coupon)
    assert refused.value.code == "invoice_not_reversed"
    # when the invoice is credited in full (the settlement is reversed), then it is released
    credit_note_create(actor=cashier, invoice=invoice, reason="结算作废", full=True)
    assert coupon_release(actor=cashier, coupon=coupon).state == CouponState.ISSUED


@pytest.mark.django_db(transaction=True)
def test_two_cashiers_redeeming_one_code_one_wins(demo_org):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL (SQLite serialises whole transactions)")
    dealer = demo_org["bj01-cashier"].dealer
    cashiers = [demo_org["bj01-cashier"], demo_org["bj01-svcmgr"]]
    customer = make_customer(dealer=dealer)
    coupon = make_coupon(customer=customer, dealer=dealer)
    invoices = [invoice_for(customer, dealer=dealer) for _ in range(4)]
    barrier = threading.Barrier(4)
    won, refused = [], []

    def attempt(n):
        try:
            barrier.wait()
            won.append(
                coupon_redeem(actor=cashiers[n % 2], code=coupon.code, invoice=invoices[n].pk)
            )
        except Conflict as exc:
            refused.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and refused == ["coupon_redeemed"] * 3
    assert CreditNote.objects.filter(invoice__in=invoices).count() == 1
    assert Coupon.objects.get(pk=coupon.pk).invoice_id == won[0].invoice_id
