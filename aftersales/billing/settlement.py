"""Settlement closes the repair order (issue 6 item 3: "the RO closes when its customer
part is fully paid").

* A guard on every step into "closed" (``add_check``): the order's invoices are all issued,
  the customer part (when the order has one) is invoiced and nothing is due on it.
* After a payment completes the customer part of a delivered order, the order closes
  (``settle_after_payment``, called by ``payments.payment_take``).
* An order handed over (→ delivered) when it is already fully paid closes at once
  (``@on_enter("delivered")``).

The close is done by the cashier who took the payment when they may close orders, else by
the system (the advisor who hands the car over usually may not).
"""

from decimal import Decimal

from django.utils.translation import gettext as _

from aftersales.billing.choices import InvoiceStatus
from aftersales.core.access import allowed_at
from aftersales.workorders.choices import PayType, ROStatus
from aftersales.workorders.transitions import Refusal, add_check, on_enter, repair_order_transition

ZERO = Decimal("0")
S = ROStatus


def settlement_refusals(order) -> list[Refusal]:
    """What keeps the order from being settled (empty: it may close). Two queries."""
    from aftersales.billing.models import Invoice
    from aftersales.workorders.estimate import estimate_totals

    invoices = list(
        Invoice.objects.filter(repair_order_id=order.pk).only(
            "status", "pay_type", "number", "gross_amount", "credited_amount", "paid_amount"
        )
    )
    found = []
    drafts = [i for i in invoices if i.status == InvoiceStatus.DRAFT]
    if drafts:
        found.append(
            Refusal(
                "invoice_not_issued",
                _("Issue the order's invoices first (%(count)d still in draft).")
                % {"count": len(drafts)},
                "invoices",
            )
        )
    customer = [
        i for i in invoices if i.pay_type == PayType.CUSTOMER and i.status == InvoiceStatus.ISSUED
    ]
    if not customer and not drafts:
        part = estimate_totals(order)["by_pay_type"].get(PayType.CUSTOMER, {}).get("total", ZERO)
        if part and Decimal(part) > ZERO:
            found.append(
                Refusal(
                    "not_invoiced",
                    _("The customer part (%(amount)s) is not invoiced yet.") % {"amount": part},
                    "invoices",
                )
            )
    due = sum((i.due_amount for i in customer), ZERO)
    if due > ZERO:
        found.append(
            Refusal(
                "unpaid",
                _("The customer still owes %(due)s: take the payment before closing.")
                % {"due": due},
                "payments",
            )
        )
    return found


def _settled(order, actor):
    return settlement_refusals(order)


add_check(S.CLOSED, _settled)


def _closer(actor, order):
    from aftersales.org.models import Dealer

    if actor is not None and allowed_at(
        actor, "workorders.close_repairorder", dealer=Dealer(pk=order.dealer_id)
    ):
        return actor
    return None  # the system closes it


def settle_after_payment(*, invoice, actor) -> bool:
    """Close the invoice's order when it is delivered and now fully settled. Returns
    whether it closed. Runs in the payment's transaction."""
    from aftersales.workorders.models import RepairOrder

    if invoice.pay_type != PayType.CUSTOMER or invoice.due_amount > ZERO:
        return False
    order = RepairOrder.objects.only("id", "status", "dealer_id").get(pk=invoice.repair_order_id)
    if order.status != S.DELIVERED or settlement_refusals(order):
        return False
    repair_order_transition(
        repair_order=order.pk, to=S.CLOSED, actor=_closer(actor, order), note=_("Settled")
    )
    return True


@on_enter(S.DELIVERED)
def close_when_already_paid(order, actor, from_status):
    """Handed over with the customer part already paid (e.g. by a deposit or before the
    hand-over): the order closes at once. An order with no invoice yet stays delivered."""
    from aftersales.billing.models import Invoice

    if not Invoice.objects.filter(repair_order_id=order.pk).exists():
        return
    if settlement_refusals(order):
        return
    closed = repair_order_transition(
        repair_order=order.pk, to=S.CLOSED, actor=_closer(actor, order), note=_("Settled")
    )
    # the caller holds ``order``: let it see the order as it now is
    order.status, order.closed_at, order.version = closed.status, closed.closed_at, closed.version


# ---------------------------------------------------------------- cashier reads


def cashier_orders(user, q: str, *, limit: int = 20):
    """Orders the user may see matching an RO number, plate or VIN (the cashier's
    search), newest first: delivered orders waiting for payment come first."""
    from django.db.models import Case, IntegerField, When

    from aftersales.workorders import selectors

    if not (q or "").strip():
        return []
    rows = selectors.search(selectors.repair_orders(user), q).annotate(
        waiting=Case(When(status=S.DELIVERED, then=0), default=1, output_field=IntegerField())
    )
    return list(rows.order_by("waiting", "-created_at", "-id")[:limit])


def order_invoices(user, order):
    """The order's invoices the user may see, with their payments (two queries)."""
    from django.db.models import Prefetch

    from aftersales.billing.models import Invoice, Payment

    return list(
        Invoice.objects.restrict(user, "view")
        .filter(repair_order=order)
        .prefetch_related(
            Prefetch(
                "payments",
                queryset=Payment.objects.select_related("cashier", "refund_of").order_by(
                    "created_at", "id"
                ),
            )
        )
        .order_by("pay_type", "id")
    )
