"""Builders for billing tests, the demo and benchmarks.

``make_invoice(dealer=, gross=)`` writes an invoice directly (one fee line, VAT split at
the dealer's rate), issued unless ``status="draft"``, for a delivered repair order of
``dealer``. Tests of invoicing itself drive the services instead.
"""

import itertools
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from aftersales.billing.choices import DEFAULT_VAT_RATE, InvoiceStatus
from aftersales.workorders.choices import LineKind, PayType

_numbers = itertools.count(1)
CENT = Decimal("0.01")


def cashier_of(dealer):
    from aftersales.workorders.testing import staff_of

    return staff_of(dealer, "cashier")


def make_invoice(
    *,
    dealer,
    gross="1130.00",
    status=InvoiceStatus.ISSUED,
    pay_type=PayType.CUSTOMER,
    repair_order=None,
    vat_rate=DEFAULT_VAT_RATE,
    **fields,
):
    from aftersales.billing.models import Invoice, InvoiceLine
    from aftersales.workorders.testing import advisor_of, make_repair_order

    gross = Decimal(str(gross))
    net = (gross / (1 + vat_rate)).quantize(CENT, ROUND_HALF_UP)
    order = repair_order or make_repair_order(dealer=dealer, status="delivered")
    issued = status == InvoiceStatus.ISSUED
    invoice = Invoice.objects.create(
        dealer=dealer,
        repair_order=order,
        customer_id=order.customer_id,
        number=f"TI{dealer.code}{next(_numbers):06d}" if issued else "",
        status=status,
        pay_type=pay_type,
        vat_rate=vat_rate,
        net_amount=net,
        tax_amount=gross - net,
        gross_amount=gross,
        created_by=order.service_advisor or advisor_of(dealer),
        issued_by=(order.service_advisor or advisor_of(dealer)) if issued else None,
        issued_at=timezone.now() if issued else None,
        **fields,
    )
    InvoiceLine.objects.create(
        invoice=invoice,
        kind=LineKind.FEE,
        description="维修费",
        quantity=Decimal("1"),
        unit_price=gross,
        gross_amount=gross,
        net_amount=net,
        tax_amount=gross - net,
    )
    return invoice


def settle(order, *, gross=None):
    """Give ``order`` an issued customer invoice, fully paid, so the order may close:
    ``gross`` defaults to the estimate's customer total."""
    from aftersales.workorders.estimate import estimate_totals

    if gross is None:
        customer = estimate_totals(order)["by_pay_type"].get(PayType.CUSTOMER, {})
        gross = Decimal(str(customer.get("total") or 0))
    gross = Decimal(str(gross))
    return make_invoice(dealer=order.dealer, repair_order=order, gross=gross, paid_amount=gross)
