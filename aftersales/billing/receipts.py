"""The payment receipt (收款收据) and refund slip (退款凭证) of one payment: its number and
what it shows (``receipt_context``, in Chinese whatever the reader's UI language, the
amount also in capital numerals, 大写金额), drawn as an A5 landscape PDF by
``billing.printing.receipt_pdf_bytes``."""

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aftersales.billing.choices import PaymentKind
from aftersales.billing.models import Payment
from aftersales.billing.money import capital_amount

DOCUMENT_LANGUAGE = "zh-hans"


def receipt_number(payment: Payment) -> str:
    return f"{payment.invoice.number}-{payment.pk:06d}"


def receipt_context(payment: Payment, *, user) -> dict:
    """What the receipt shows, in Chinese whatever the reader's UI language."""
    payment = Payment.objects.select_related(
        "invoice__repair_order__vehicle",
        "invoice__dealer",
        "invoice__customer",
        "cashier",
        "refund_of",
        "deposit",
    ).get(pk=payment.pk)
    invoice = payment.invoice
    order = invoice.repair_order
    with translation.override(DOCUMENT_LANGUAGE):
        refund = payment.kind == PaymentKind.REFUND
        context = {
            "title": _("Refund slip") if refund else _("Payment receipt"),
            "refund": refund,
            "number": receipt_number(payment),
            "payment": payment,
            "invoice": invoice,
            "order": order,
            "plate": order.vehicle.plate or order.vehicle.vin,
            "payer": invoice.title or invoice.payer_name or (invoice.customer or ""),
            "dealer": invoice.dealer,
            "amount_upper": capital_amount(payment.amount),
            "method": payment.get_method_display(),
            "printed_at": timezone.localtime(),
            "printed_by": user,
            "taken_at": timezone.localtime(payment.created_at),
        }
    return context


def receipt_pdf(payment: Payment, *, user) -> bytes:
    """The receipt as PDF, drawn with ReportLab (``billing.pdf``), quick enough to print
    at every payment."""
    from aftersales.billing.printing import receipt_pdf_bytes

    return receipt_pdf_bytes(receipt_context(payment, user=user))


def receipt_filename(payment: Payment) -> str:
    return f"receipt-{receipt_number(payment)}.pdf"
