"""Invoices from a repair order: split by payer, fapiao details, discounts within the
role's limit, issue and immutability (aftersales/billing/invoices.py)."""

from decimal import Decimal

import pytest
from django.utils import translation

from aftersales.billing.choices import InvoiceStatus
from aftersales.billing.invoices import (
    DiscountTooHigh,
    InvoiceIssued,
    NotBillable,
    StaleInvoice,
    invoice_issue,
    invoice_prepare,
    invoice_update,
)
from aftersales.billing.models import DiscountLimit, Invoice
from aftersales.billing.setup import billing_settings, billing_settings_update, discount_limit_of
from aftersales.billing.tests.conftest import VALID_USCC, add_line
from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.models import AuditLog
from aftersales.workorders.choices import PayType
from aftersales.workorders.testing import make_repair_order

D = Decimal
pytestmark = pytest.mark.django_db


def _by_pay_type(invoices):
    return {invoice.pay_type: invoice for invoice in invoices}


def test_prepare_splits_the_approved_lines_by_payer(mixed_order, demo_org):
    # when the advisor prepares the invoices of an order with four payers
    invoices = _by_pay_type(invoice_prepare(actor=demo_org["bj01-sa"], repair_order=mixed_order))
    # then there is one draft per payer, without the declined line
    assert set(invoices) == {"customer", "warranty", "insurance", "internal"}
    customer = invoices["customer"]
    assert customer.status == InvoiceStatus.DRAFT and customer.number == ""
    assert customer.gross_amount == D("370.00")  # 144 + 226, not the declined 50
    assert [line.description for line in customer.lines.all()] == ["更换前刹车片", "机油滤清器"]
    # the VAT is split per line and the totals are the sums of the lines
    lines = list(customer.lines.all())
    assert [(x.net_amount, x.tax_amount) for x in lines] == [
        (D("127.43"), D("16.57")),
        (D("200.00"), D("26.00")),
    ]
    assert customer.net_amount == D("327.43") and customer.tax_amount == D("42.57")
    assert customer.payer_name == mixed_order.customer.name
    # the warranty part is billed to the OEM, the internal part to the dealer
    assert invoices["warranty"].payer_name == mixed_order.dealer.region.oem.name
    assert invoices["warranty"].gross_amount == D("300.00")
    assert invoices["internal"].payer_name == mixed_order.dealer.name
    assert invoices["insurance"].gross_amount == D("565.00")
    assert AuditLog.objects.filter(object_id=str(customer.pk), action="create").exists()


def test_prepare_again_refreshes_the_drafts_and_keeps_line_discounts(mixed_order, demo_org):
    sa = demo_org["bj01-sa"]
    customer = _by_pay_type(invoice_prepare(actor=sa, repair_order=mixed_order))["customer"]
    first = customer.lines.get(description="更换前刹车片")
    invoice_update(actor=sa, invoice=customer, line_discounts={first.pk: "7.20"})
    # given the order changed: a new customer line, the internal line moved to customer
    add_line(mixed_order, amount="20.00", description="玻璃水")
    mixed_order.lines.filter(pay_type=PayType.INTERNAL).update(pay_type=PayType.CUSTOMER)
    # when the invoices are prepared again
    invoices = _by_pay_type(invoice_prepare(actor=sa, repair_order=mixed_order))
    # then the same draft is refreshed, the discount kept, the internal draft gone
    assert set(invoices) == {"customer", "warranty", "insurance"}
    refreshed = invoices["customer"]
    assert refreshed.pk == customer.pk
    assert refreshed.lines.count() == 4
    assert refreshed.gross_amount == D("144.00") - D("7.20") + D("226.00") + D("20.00") + D("10")
    assert refreshed.discount_amount == D("7.20")
    assert not Invoice.objects.filter(repair_order=mixed_order, pay_type="internal").exists()


def test_prepare_does_not_bill_lines_of_an_issued_invoice_twice(mixed_order, demo_org):
    sa = demo_org["bj01-sa"]
    customer = _by_pay_type(invoice_prepare(actor=sa, repair_order=mixed_order))["customer"]
    invoice_issue(actor=sa, invoice=customer, version=customer.version)
    add_line(mixed_order, amount="20.00", description="玻璃水")
    drafts = _by_pay_type(invoice_prepare(actor=sa, repair_order=mixed_order))
    assert drafts["customer"].pk != customer.pk
    assert [x.description for x in drafts["customer"].lines.all()] == ["玻璃水"]


def test_prepare_refuses_an_order_not_yet_signed_or_without_permission(bj01, demo_org):
    order = make_repair_order(dealer=bj01, status="estimated")
    with pytest.raises(NotBillable):
        invoice_prepare(actor=demo_org["bj01-sa"], repair_order=order)
    delivered = make_repair_order(dealer=bj01, status="delivered")
    with pytest.raises(PermissionDenied):
        invoice_prepare(actor=demo_org["bj01-tech"], repair_order=delivered)
    with pytest.raises(PermissionDenied):
        invoice_prepare(actor=demo_org["tj01-sa"], repair_order=delivered)
    assert not Invoice.objects.filter(repair_order__in=[order, delivered]).exists()


def test_vat_rate_comes_from_the_dealer_settings(mixed_order, demo_org, bj01):
    billing_settings_update(actor=demo_org["bj01-svcmgr"], dealer=bj01, vat_rate_percent="6")
    customer = _by_pay_type(invoice_prepare(actor=demo_org["bj01-sa"], repair_order=mixed_order))[
        "customer"
    ]
    assert customer.vat_rate == D("0.0600")
    assert customer.net_amount == D("135.85") + D("213.21")


# ---------------------------------------------------------------- discounts


@pytest.fixture
def customer_draft(mixed_order, demo_org):
    return _by_pay_type(invoice_prepare(actor=demo_org["bj01-sa"], repair_order=mixed_order))[
        "customer"
    ]


def test_advisor_gives_a_line_discount_within_five_percent(customer_draft, demo_org):
    line = customer_draft.lines.get(description="机油滤清器")  # 226.00
    invoice = invoice_update(
        actor=demo_org["bj01-sa"],
        invoice=customer_draft,
        version=customer_draft.version,
        line_discounts={line.pk: "11.30"},  # exactly 5 %
    )
    line.refresh_from_db()
    assert line.discount_amount == D("11.30") and line.gross_amount == D("214.70")
    assert (line.net_amount, line.tax_amount) == (D("190.00"), D("24.70"))
    assert invoice.gross_amount == D("358.70") and invoice.discount_amount == D("11.30")
    assert invoice.version == customer_draft.version + 1


def test_a_discount_over_the_limit_is_refused_with_the_limit_named(customer_draft, demo_org):
    line = customer_draft.lines.get(description="机油滤清器")
    with pytest.raises(DiscountTooHigh) as refused:
        invoice_update(
            actor=demo_org["bj01-sa"], invoice=customer_draft, line_discounts={line.pk: "11.31"}
        )
    assert refused.value.status == 403 and refused.value.code == "discount_limit"
    assert "5%" in str(refused.value.message) and "11.30" in str(refused.value.message)
    customer_draft.refresh_from_db()
    line.refresh_from_db()
    assert line.discount_amount == 0 and customer_draft.gross_amount == D("370.00")
    assert customer_draft.version == 1
    # the cashier (limit 0 %) may not discount at all
    with pytest.raises(DiscountTooHigh):
        invoice_update(
            actor=demo_org["bj01-cashier"], invoice=customer_draft, invoice_discount="1.00"
        )


def test_the_service_manager_gives_up_to_twenty_percent_spread_over_the_lines(
    customer_draft, demo_org
):
    # when the manager gives 74.00 (20 % of 370.00) on the invoice
    invoice = invoice_update(
        actor=demo_org["bj01-svcmgr"], invoice=customer_draft, invoice_discount="74.00"
    )
    # then each line carries its pro-rata share and the totals add up
    lines = list(invoice.lines.all())
    assert [x.gross_amount for x in lines] == [D("115.20"), D("180.80")]
    assert invoice.gross_amount == D("296.00") and invoice.invoice_discount == D("74.00")
    assert invoice.net_amount + invoice.tax_amount == invoice.gross_amount
    assert invoice.net_amount == sum(x.net_amount for x in lines)
    with pytest.raises(DiscountTooHigh):
        invoice_update(actor=demo_org["bj01-svcmgr"], invoice=invoice, invoice_discount="74.01")


def test_dealer_limits_override_the_defaults_and_the_highest_role_counts(bj01, demo_org):
    sa = demo_org["bj01-sa"]
    assert discount_limit_of(sa, bj01) == D("5")
    billing_settings_update(
        actor=demo_org["bj01-svcmgr"], dealer=bj01, limits={"service_advisor": "8"}
    )
    assert discount_limit_of(sa, bj01) == D("8")
    from aftersales.org.models import RoleAssignment

    RoleAssignment.objects.create(user=sa, role="cashier", dealer=bj01)
    assert discount_limit_of(sa, bj01) == D("8")  # the higher of 8 % and 0 %
    assert DiscountLimit.objects.get(dealer=bj01, role="service_advisor").max_percent == 8


def test_settings_refuse_bad_values_and_other_roles(bj01, demo_org):
    with pytest.raises(ValidationFailed):
        billing_settings_update(actor=demo_org["bj01-svcmgr"], dealer=bj01, vat_rate_percent="130")
    with pytest.raises(PermissionDenied):
        billing_settings_update(actor=demo_org["bj01-sa"], dealer=bj01, vat_rate_percent="6")
    assert billing_settings(bj01).vat_rate == D("0.13")


# ---------------------------------------------------------------- fapiao details


def test_company_buyer_with_a_valid_credit_code(customer_draft, demo_org):
    invoice = invoice_update(
        actor=demo_org["bj01-sa"],
        invoice=customer_draft,
        buyer_type="company",
        title="北京某某科技有限公司",
        taxpayer_id=VALID_USCC.lower(),
    )
    assert invoice.taxpayer_id == VALID_USCC
    assert Invoice.objects.get(pk=invoice.pk).title == "北京某某科技有限公司"


@pytest.mark.parametrize(
    ("taxpayer_id", "fragment"),
    [
        ("91110000600037341M", "check character"),  # last character wrong
        ("9111000060003734", "18 characters"),
        ("", "needs its taxpayer ID"),
    ],
)
def test_company_buyer_without_a_valid_taxpayer_id_is_refused(
    customer_draft, demo_org, taxpayer_id, fragment
):
    with translation.override("en"), pytest.raises(ValidationFailed) as refused:
        invoice_update(
            actor=demo_org["bj01-sa"],
            invoice=customer_draft,
            buyer_type="company",
            title="北京某某科技有限公司",
            taxpayer_id=taxpayer_id,
        )
    assert fragment in str(refused.value.message)
    assert "taxpayer_id" in refused.value.fields
    customer_draft.refresh_from_db()
    assert customer_draft.buyer_type == "person" and customer_draft.taxpayer_id == ""


def test_stale_version_is_refused(customer_draft, demo_org):
    invoice_update(actor=demo_org["bj01-sa"], invoice=customer_draft, note="a")
    with pytest.raises(StaleInvoice) as refused:
        invoice_update(actor=demo_org["bj01-sa"], invoice=customer_draft, version=1, note="b")
    assert refused.value.code == "stale" and refused.value.status == 409


# ---------------------------------------------------------------- issue


def test_issue_numbers_gap_free_and_freezes_the_invoice(mixed_order, demo_org):
    sa = demo_org["bj01-sa"]
    invoices = _by_pay_type(invoice_prepare(actor=sa, repair_order=mixed_order))
    first = invoice_issue(actor=sa, invoice=invoices["customer"], version=1)
    second = invoice_issue(actor=sa, invoice=invoices["warranty"])
    assert first.status == InvoiceStatus.ISSUED and first.issued_by == sa
    assert first.number.endswith("-000001") and second.number.endswith("-000002")
    assert first.number.startswith("INV-BJ01-")
    assert mixed_order.events.filter(message__contains=first.number).exists()
    # then every edit is refused with invoice_issued and changes nothing
    with pytest.raises(InvoiceIssued) as refused:
        invoice_update(actor=sa, invoice=first, note="changed")
    assert refused.value.status == 409 and refused.value.code == "invoice_issued"
    with pytest.raises(InvoiceIssued):
        invoice_issue(actor=sa, invoice=first)
    line = first.lines.first()
    with pytest.raises(InvoiceIssued):
        invoice_update(actor=sa, invoice=first, line_discounts={line.pk: "1"})
    first.refresh_from_db()
    assert first.note == "" and first.discount_amount == 0


def test_insurance_invoice_needs_insurer_and_claim_number(mixed_order, demo_org):
    sa = demo_org["bj01-sa"]
    insurance = _by_pay_type(invoice_prepare(actor=sa, repair_order=mixed_order))["insurance"]
    with pytest.raises(ValidationFailed) as refused:
        invoice_issue(actor=sa, invoice=insurance)
    assert set(refused.value.fields) >= {"insurer", "insurance_claim_number"}
    insurance.refresh_from_db()
    assert insurance.status == "draft" and insurance.number == ""
    invoice_update(
        actor=sa,
        invoice=insurance,
        insurer="中国人保财险",
        insurance_claim_number="RDAA2026110000123",
        payer_name="中国人保财险北京分公司",
        buyer_type="company",
        title="中国人民财产保险股份有限公司北京市分公司",
        taxpayer_id=VALID_USCC,
    )
    issued = invoice_issue(actor=sa, invoice=insurance)
    assert issued.status == "issued" and issued.insurer == "中国人保财险"
