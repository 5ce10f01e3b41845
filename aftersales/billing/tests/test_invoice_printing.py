"""The invoice and credit-note PDFs in Chinese (aftersales/billing/printing.py)."""

import io
from decimal import Decimal

import pytest
from django.utils import translation
from pypdf import PdfReader

from aftersales.billing.credit import credit_note_create
from aftersales.billing.invoices import invoice_issue, invoice_prepare, invoice_update
from aftersales.billing.printing import credit_note_pdf, invoice_pdf
from aftersales.billing.tests.conftest import VALID_USCC

pytestmark = pytest.mark.django_db


def text_of(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def company_invoice(mixed_order, demo_org):
    sa = demo_org["bj01-sa"]
    invoice = next(
        i for i in invoice_prepare(actor=sa, repair_order=mixed_order) if i.pay_type == "customer"
    )
    invoice_update(
        actor=sa,
        invoice=invoice,
        buyer_type="company",
        title="北京某某科技有限公司",
        taxpayer_id=VALID_USCC,
    )
    return invoice_issue(actor=sa, invoice=invoice)


def test_invoice_pdf_shows_buyer_lines_vat_and_the_total_in_capitals(company_invoice, demo_org):
    text = text_of(invoice_pdf(company_invoice, user=demo_org["bj01-sa"]))
    assert company_invoice.number in text
    assert "北京某某科技有限公司" in text and VALID_USCC in text
    for label in ("金额", "税率", "税额", "价税合计"):
        assert label in text
    assert "13%" in text
    assert "机油滤清器" in text and "327.43" in text and "42.57" in text and "370.00" in text
    assert "叁佰柒拾元整" in text  # 370.00


def test_the_document_is_chinese_whatever_the_ui_language(company_invoice, demo_org):
    with translation.override("en"):
        text = text_of(invoice_pdf(company_invoice, user=demo_org["bj01-sa"]))
    assert "价税合计（大写）" in text and "叁佰柒拾元整" in text
    assert "结算单" in text and "购买方类型" in text and "Buyer type" not in text


def test_credit_note_pdf_shows_negative_amounts(company_invoice, demo_org):
    line = company_invoice.lines.get(description="机油滤清器")
    note = credit_note_create(
        actor=demo_org["bj01-cashier"],
        invoice=company_invoice,
        lines=[{"invoice_line": line, "quantity": "1"}],
        reason="退回一个滤清器",
    )
    assert note.gross_amount == Decimal("113.00")
    text = text_of(credit_note_pdf(note, user=demo_org["bj01-cashier"]))
    assert "红字冲销单" in text and note.number in text and company_invoice.number in text
    assert "-113.00" in text and "负壹佰壹拾叁元整" in text and "退回一个滤清器" in text
