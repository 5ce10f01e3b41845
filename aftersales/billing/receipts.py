"""The payment receipt (收款收据) and refund slip (退款凭证) as an A5 PDF in Chinese.

Like the printed repair order (aftersales/workorders/printing.py): an HTML template
(templates/billing/cashier_receipt.html) rendered under zh-hans whatever the reader's UI
language, the amount also written in Chinese capital numerals (大写金额) as receipts
are (``money.capital_amount``), turned into PDF by WeasyPrint with the CJK font the
set-up installs (``workorders.printing.render_pdf``).
"""

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aftersales.billing.choices import PaymentKind
from aftersales.billing.models import Payment
from aftersales.billing.money import capital_amount
from aftersales.workorders.printing import render_pdf

DOCUMENT_LANGUAGE = "zh-hans"


def receipt_number(payment: Payment) -> str:
    return f"{payment.invoice.number}-{payment.pk:06d}"


def receipt_html(payment: Payment, *, user) -> str:
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
        return render_to_string("billing/cashier_receipt.html", context)


def receipt_pdf(payment: Payment, *, user) -> bytes:
    return render_pdf(receipt_html(payment, user=user))


def receipt_filename(payment: Payment) -> str:
    return f"receipt-{receipt_number(payment)}.pdf"
