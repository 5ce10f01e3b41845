"""Invoices and payments in the customer 360 timeline (issue 6 item 9): when each of the
customer's invoices the viewer may see was issued, and each payment or refund taken on
them. Autodiscovered by ``crm.timeline.customer_timeline``; each source is one query of at
most ``limit`` rows, scoped with ``restrict``."""

from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.billing.choices import InvoiceStatus, PaymentKind
from aftersales.crm.timeline import TimelineEntry, timeline_source


def _cashier_url(order_id) -> str:
    return reverse("billing-cashier-order", args=[order_id])


@timeline_source("billing.invoice")
def invoice_entries(customer, user, limit, before):
    from aftersales.billing.models import Invoice

    rows = (
        Invoice.objects.restrict(user, "view")
        .filter(customer=customer, status=InvoiceStatus.ISSUED, issued_at__isnull=False)
        .select_related("repair_order", "dealer")
    )
    if before is not None:
        rows = rows.filter(issued_at__lt=before)
    for invoice in rows.order_by("-issued_at", "-id")[:limit]:
        yield TimelineEntry(
            at=invoice.issued_at,
            kind="billing.invoice",
            title=_("Invoice %(number)s issued: %(amount)s (%(payer)s)")
            % {
                "number": invoice.number,
                "amount": invoice.gross_amount,
                "payer": invoice.get_pay_type_display(),
            },
            detail=_("Repair order %(order)s · %(dealer)s · still due %(due)s")
            % {
                "order": invoice.repair_order.number,
                "dealer": invoice.dealer.name,
                "due": invoice.due_amount,
            },
            url=_cashier_url(invoice.repair_order_id),
            icon="receipt",
        )


@timeline_source("billing.payment")
def payment_entries(customer, user, limit, before):
    from aftersales.billing.models import Payment

    rows = (
        Payment.objects.restrict(user, "view")
        .filter(invoice__customer=customer)
        .select_related("invoice", "dealer")
    )
    if before is not None:
        rows = rows.filter(created_at__lt=before)
    for payment in rows.order_by("-created_at", "-id")[:limit]:
        values = {
            "amount": payment.amount,
            "method": payment.get_method_display(),
            "number": payment.invoice.number,
        }
        refund = payment.kind == PaymentKind.REFUND
        yield TimelineEntry(
            at=payment.created_at,
            kind="billing.payment",
            title=(
                _("Refund of %(amount)s by %(method)s on invoice %(number)s")
                if refund
                else _("Payment of %(amount)s by %(method)s on invoice %(number)s")
            )
            % values,
            detail=payment.reason if refund else payment.dealer.name,
            url=_cashier_url(payment.invoice.repair_order_id),
            icon="arrow-counterclockwise" if refund else "cash-coin",
        )
