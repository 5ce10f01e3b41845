"""Delivery and closing (SPEC §4 step 9).

``repair_order_ready`` tells the customer the car is ready (in-app and SMS through the
outbox). ``delivery_record`` saves the advisor's delivery check and hands the car over
(→ delivered); the step is refused without a complete check. Entering "delivered"
schedules the DCRC's follow-up call once. ``repair_order_close`` is the cashier's
"settled" (→ closed) until the billing issue replaces it; entering "closed" writes the
CRM's service visit once.
"""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.core.errors import ValidationFailed
from aftersales.workorders.choices import CheckKind, OldPartsDisposition, PayType, ROKind, ROStatus
from aftersales.workorders.models import FollowUp, QualityCheck, RepairOrder, ServiceSettings
from aftersales.workorders.transitions import (
    Refusal,
    add_check,
    bump,
    locked,
    on_enter,
    repair_order_transition,
    require,
    require_open,
    transition_locked,
)

S = ROStatus

_OLD_PARTS = {
    OldPartsDisposition.TAKE_HOME: gettext_lazy("Old parts shown and handed to the customer"),
    OldPartsDisposition.LEAVE: gettext_lazy("Old parts shown; the customer leaves them with us"),
    OldPartsDisposition.RETURN_OEM: gettext_lazy(
        "Customer told the old parts go back to the OEM (warranty)"
    ),
}

DELIVERY_LABELS = {
    "work_explained": gettext_lazy("Work done explained to the customer"),
    "old_parts": gettext_lazy("Old parts shown"),
    "wash": gettext_lazy("Car washed"),
    "invoice_explained": gettext_lazy("Estimate and invoice explained"),
    "belongings_returned": gettext_lazy("Keys, documents and personal items returned"),
}


def delivery_checks_for(order: RepairOrder) -> dict:
    """The delivery check items that apply to the order (key -> label), in order."""
    items = {"work_explained": DELIVERY_LABELS["work_explained"]}
    items["old_parts"] = _OLD_PARTS.get(order.old_parts, DELIVERY_LABELS["old_parts"])
    if order.free_wash:
        items["wash"] = DELIVERY_LABELS["wash"]
    items["invoice_explained"] = DELIVERY_LABELS["invoice_explained"]
    items["belongings_returned"] = DELIVERY_LABELS["belongings_returned"]
    return items


# the module constant the issue names; the wash item applies only with a free wash
DELIVERY_CHECKS = DELIVERY_LABELS


def _delivery_complete(order, actor):
    saved = order.delivery_checks or {}
    missing = [
        str(label)
        for key, label in delivery_checks_for(order).items()
        if saved.get(key) is not True
    ]
    if missing:
        return [
            Refusal(
                "delivery_check",
                _("Complete the delivery check first: %(items)s.") % {"items": ", ".join(missing)},
                "delivery_checks",
            )
        ]
    return []


add_check(S.DELIVERED, _delivery_complete)


def _customer_mobile(order) -> str:
    customer = order.customer
    return order.contact_mobile or (customer.mobile if customer else "")


@transaction.atomic
def repair_order_ready(*, actor, repair_order: RepairOrder | int, version: int) -> RepairOrder:
    """QC passed → ready for delivery; the customer is told (in-app and SMS)."""
    order = repair_order_transition(
        repair_order=repair_order, to=S.READY, actor=actor, version=version
    )
    _notify_ready(order)
    return order


def _notify_ready(order):
    from aftersales.core.outbox import outbox_enqueue
    from aftersales.core.sms import sms_enqueue

    order = RepairOrder.objects.select_related("vehicle", "customer", "dealer").get(pk=order.pk)
    plate = order.vehicle.plate or order.vehicle.vin
    with translation.override("zh-hans"):  # customers read Chinese
        text = _("Your car (%(plate)s) is ready. You can pick it up now.") % {"plate": plate}
        subject = _("Your car is ready")
    mobile = _customer_mobile(order)
    if mobile:
        sms_enqueue(
            mobile=mobile,
            template="vehicle_ready",
            params={"plate": plate},
            text=text,
            dealer=order.dealer,
            dedup_key=f"ro-ready:{order.pk}:{order.rework_count}:sms",
        )
    user_id = getattr(order.customer, "user_id", None)
    if user_id:
        outbox_enqueue(
            channel="inapp",
            recipient=str(user_id),
            subject=subject,
            body=text,
            dealer=order.dealer,
            payload={"repair_order": order.pk},
            dedup_key=f"ro-ready:{order.pk}:{order.rework_count}:inapp",
        )


@transaction.atomic
def delivery_record(
    *, actor, repair_order: RepairOrder | int, version: int, checks: dict, remarks: str = ""
) -> RepairOrder:
    """The advisor's delivery check and the hand-over (→ delivered)."""
    order = locked(repair_order, version=version)
    require(actor, order, "workorders.deliver_repairorder")
    require_open(order)
    applicable = delivery_checks_for(order)
    if not isinstance(checks, dict):
        raise ValidationFailed(_("Answer every item of the delivery check."))
    unknown = sorted(set(checks) - set(DELIVERY_LABELS))
    if unknown:
        raise ValidationFailed(
            _("Unknown checklist items: %(items)s.") % {"items": ", ".join(unknown)},
            fields={"checks": [", ".join(unknown)]},
        )
    answers = {key: _truthy(checks.get(key)) for key in applicable}
    missing = [key for key, ok in answers.items() if not ok]
    if missing:
        labels = ", ".join(str(applicable[key]) for key in missing)
        raise ValidationFailed(
            _("The delivery check is not complete: %(items)s.") % {"items": labels},
            code="check_incomplete",
            fields={key: [_("Not done yet.")] for key in missing},
        )
    order.delivery_checks = answers
    bump(order, "delivery_checks")
    check = QualityCheck.objects.create(
        repair_order=order,
        kind=CheckKind.DELIVERY,
        passed=True,
        items=answers,
        remarks=remarks.strip(),
        checked_by=actor,
        round=order.rework_count,
    )
    return transition_locked(
        order=order,
        to=S.DELIVERED,
        actor=actor,
        note=remarks.strip() or _("Handed over to the customer"),
        data={"check": check.pk},
    )


def _truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "y")
    return value is True or value == 1


@on_enter(S.DELIVERED)
def _schedule_follow_up(order, actor, from_status):
    settings = ServiceSettings.for_dealer(order.dealer_id)
    delivered = order.delivered_at or timezone.now()
    FollowUp.objects.get_or_create(
        repair_order=order,
        defaults={
            "dealer_id": order.dealer_id,
            "opens_at": delivered + datetime.timedelta(hours=settings.follow_up_after_hours),
            "due_at": delivered + datetime.timedelta(hours=settings.follow_up_due_hours),
        },
    )


@transaction.atomic
def repair_order_close(*, actor, repair_order: RepairOrder | int, version: int) -> RepairOrder:
    """The cashier's "settled": delivered → closed. The billing issue replaces this call
    with the settlement of the invoice."""
    return repair_order_transition(
        repair_order=repair_order, to=S.CLOSED, actor=actor, version=version, note=_("Settled")
    )


_VISIT_KIND = {
    ROKind.MAINTENANCE: "maintenance",
    ROKind.REPAIR: "repair",
    ROKind.WARRANTY: "warranty",
    ROKind.ACCIDENT: "accident",
    ROKind.OTHER: "other",
}


def customer_paid_total(order: RepairOrder) -> Decimal:
    """What the customer paid: the issued customer invoices less their credit notes (the
    estimate's customer total for an order closed before invoicing existed)."""
    from django.db.models import F, Sum

    from aftersales.billing.choices import InvoiceStatus
    from aftersales.workorders.estimate import estimate_totals

    invoiced = order.invoices.filter(
        status=InvoiceStatus.ISSUED, pay_type=PayType.CUSTOMER
    ).aggregate(total=Sum(F("gross_amount") - F("credited_amount")))["total"]
    if invoiced is not None:
        return invoiced
    total = estimate_totals(order)["by_pay_type"].get("customer", {}).get("total", 0)
    return Decimal(str(total or 0))


@on_enter(S.CLOSED)
def _write_service_visit(order, actor, from_status):
    from aftersales.crm.models import ServiceVisit

    customer_id = order.customer_id or order.vehicle.owner_id
    if customer_id is None:
        return
    if ServiceVisit.objects.filter(dealer_id=order.dealer_id, reference=order.number).exists():
        return
    visited = order.delivered_at or order.closed_at or timezone.now()
    ServiceVisit.objects.create(
        customer_id=customer_id,
        vehicle_id=order.vehicle_id,
        dealer_id=order.dealer_id,
        visited_on=timezone.localdate(visited),
        kind=_VISIT_KIND.get(order.kind, "other"),
        amount=customer_paid_total(order),
        odometer_km=order.odometer_km,
        reference=order.number,
    )
