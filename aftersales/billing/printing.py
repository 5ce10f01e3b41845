"""The invoice (结算单/发票) and the credit note (红字冲销单) as Chinese A4 PDFs.

Like the printed repair order (aftersales/workorders/printing.py), the documents are
HTML templates (templates/billing/invoice_print.html, credit_print.html) rendered under
zh-hans whatever the reader's UI language and turned into PDF by WeasyPrint with the CJK
font the set-up installs (``workorders.printing.render_pdf``: one font configuration
reused per thread, one named font, no URL fetched). The line tables have a fixed layout
(column widths set in the template), so WeasyPrint does not measure every cell twice.

They show the dealer, the buyer's fapiao details, each line
with 金额 (amount excl. VAT), 税率, 税额 and the total 价税合计 in figures and in Chinese
capital numerals (大写, ``money.capital_amount``).
"""

from django.template.loader import render_to_string
from django.utils import timezone, translation

from aftersales.billing.models import CreditNote, Invoice
from aftersales.billing.money import capital_amount
from aftersales.workorders.printing import render_pdf

DOCUMENT_LANGUAGE = "zh-hans"


def _percent(rate) -> str:
    value = (rate * 100).normalize()
    return f"{value:f}%"


def _invoice(invoice) -> Invoice:
    return (
        Invoice.objects.select_related(
            "dealer", "repair_order__vehicle", "customer", "issued_by", "created_by"
        )
        .prefetch_related("lines")
        .get(pk=invoice.pk)
    )


def invoice_html(invoice, *, user) -> str:
    invoice = _invoice(invoice)
    with translation.override(DOCUMENT_LANGUAGE):
        return render_to_string(
            "billing/invoice_print.html",
            {
                "invoice": invoice,
                "dealer": invoice.dealer,
                "order": invoice.repair_order,
                "lines": list(invoice.lines.all()),
                "rate": _percent(invoice.vat_rate),
                "capital": capital_amount(invoice.gross_amount),
                "printed_at": timezone.localtime(),
                "printed_by": user,
                "credit_notes": list(invoice.credit_notes.all()),
            },
        )


def credit_note_html(note, *, user) -> str:
    note = (
        CreditNote.objects.select_related("dealer", "invoice__repair_order", "created_by")
        .prefetch_related("lines__invoice_line")
        .get(pk=note.pk)
    )
    with translation.override(DOCUMENT_LANGUAGE):
        return render_to_string(
            "billing/credit_print.html",
            {
                "note": note,
                "invoice": note.invoice,
                "dealer": note.dealer,
                "lines": list(note.lines.all()),
                "rate": _percent(note.invoice.vat_rate),
                "capital": capital_amount(-note.gross_amount),
                "printed_at": timezone.localtime(),
                "printed_by": user,
            },
        )


def invoice_pdf(invoice, *, user) -> bytes:
    return render_pdf(invoice_html(invoice, user=user))


def credit_note_pdf(note, *, user) -> bytes:
    return render_pdf(credit_note_html(note, user=user))


def pdf_filename(document, kind: str) -> str:
    return f"{kind}-{document.number or document.pk}.pdf"
