"""Builders for customer-care tests, the access matrix and the demo.

``make_coupon(customer=, dealer=)`` writes an issued coupon directly (an amount of 50 yuan,
valid from today for 30 days unless told otherwise); ``invoice_for(coupon)`` an issued
customer invoice of a delivered order of that customer at the coupon's dealer. Tests of
issuing itself drive the services."""

import datetime
from decimal import Decimal

from django.utils import timezone

from aftersales.care.choices import CouponReason, CouponState
from aftersales.care.services import new_code


def make_coupon(*, customer=None, dealer=None, amount="50.00", percent=None, **fields):
    from aftersales.care.models import Coupon
    from aftersales.crm.testing import make_customer

    today = timezone.localdate()
    if customer is None:
        customer = make_customer(dealer=dealer)
    fields.setdefault("valid_from", today)
    fields.setdefault("valid_until", today + datetime.timedelta(days=29))
    fields.setdefault("reason", CouponReason.GOODWILL)
    fields.setdefault("state", CouponState.ISSUED)
    return Coupon.objects.create(
        code=new_code(),
        customer=customer,
        dealer=dealer,
        amount=None if percent is not None else Decimal(str(amount)),
        percent=Decimal(str(percent)) if percent is not None else None,
        **fields,
    )


def invoice_for(
    customer, *, dealer, labour="600.00", parts="400.00", fee="130.00", status="issued"
):
    """A customer invoice of ``customer`` at ``dealer`` for a delivered order of their
    vehicle: a labour, a parts and a fee line (amounts incl. 13 % VAT), issued unless
    ``status="draft"``."""
    from aftersales.billing.models import InvoiceLine
    from aftersales.billing.money import vat_split
    from aftersales.billing.testing import make_invoice
    from aftersales.crm.testing import make_vehicle
    from aftersales.workorders.choices import LineKind
    from aftersales.workorders.testing import make_repair_order

    vehicle = make_vehicle(owner=customer, dealer=dealer)
    order = make_repair_order(dealer=dealer, status="delivered", vehicle=vehicle)
    amounts = [(LineKind.LABOUR, labour), (LineKind.PART, parts), (LineKind.FEE, fee)]
    amounts = [(kind, Decimal(value)) for kind, value in amounts if Decimal(value) > 0]
    gross = sum((value for _kind, value in amounts), Decimal("0"))
    invoice = make_invoice(dealer=dealer, repair_order=order, gross=gross, status=status)
    invoice.lines.all().delete()
    for position, (kind, value) in enumerate(amounts, start=1):
        net, tax = vat_split(value, invoice.vat_rate)
        InvoiceLine.objects.create(
            invoice=invoice,
            position=position,
            kind=kind,
            description=str(kind.label),
            quantity=Decimal("1"),
            unit_price=value,
            gross_amount=value,
            net_amount=net,
            tax_amount=tax,
        )
    return invoice
