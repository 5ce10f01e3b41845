"""Repair orders in the customer 360 timeline: when each of the customer's orders the
user may see was opened, delivered and closed."""

from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.crm.timeline import TimelineEntry, timeline_source

# (time field, title, icon) of the moments an order shows in the customer's timeline
MOMENTS = (
    ("created_at", "opened", "clipboard-plus"),
    ("delivered_at", "delivered", "car-front"),
    ("closed_at", "closed", "check2-circle"),
)


def _title(moment, order):
    values = {"number": order.number, "vehicle": order.vehicle.plate or order.vehicle.vin}
    if moment == "opened":
        return _("Repair order %(number)s opened for %(vehicle)s") % values
    if moment == "delivered":
        return _("Repair order %(number)s: %(vehicle)s delivered") % values
    return _("Repair order %(number)s closed") % values


@timeline_source("workorders.repair_order")
def repair_order_entries(customer, user, limit, before):
    """Opened, delivered and closed moments of the customer's visible orders, newest
    first: one query per moment, each at most ``limit`` rows."""
    from aftersales.workorders.models import RepairOrder

    orders = (
        RepairOrder.objects.restrict(user, "view")
        .filter(customer=customer)
        .select_related("vehicle", "dealer", "service_advisor")
    )
    for field, moment, icon in MOMENTS:
        rows = orders.filter(**{f"{field}__isnull": False})
        if before is not None:
            rows = rows.filter(**{f"{field}__lt": before})
        for order in rows.order_by(f"-{field}", "-id")[:limit]:
            yield TimelineEntry(
                at=getattr(order, field),
                kind="workorders.repair_order",
                title=_title(moment, order),
                detail=_("%(status)s · %(dealer)s · advisor %(advisor)s")
                % {
                    "status": order.get_status_display(),
                    "dealer": order.dealer.name,
                    "advisor": order.service_advisor,
                },
                url=reverse("repair-order-detail", args=[order.pk]),
                icon=icon,
            )
