"""Scoped reads of repair orders: every function takes the acting user."""

from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone

from aftersales.workorders.choices import ROStatus
from aftersales.workorders.models import RepairOrder

S = ROStatus
# promised times only matter until the car is ready
LATE_WHEN = set(S) - {S.READY, S.DELIVERED, S.CLOSED, S.CANCELLED}


def repair_orders(user, action: str = "view"):
    """The orders the user may see (or act on, for another action), with what every list
    shows joined in."""
    return RepairOrder.objects.restrict(user, action).select_related(
        "dealer", "vehicle", "vehicle__variant__vehicle_model", "customer", "service_advisor"
    )


def order_or_404(user, pk, action: str = "view") -> RepairOrder:
    """One order the user may see; another dealer's id is a 404."""
    return get_object_or_404(repair_orders(user, action), pk=pk)


def search(queryset, q: str):
    """Narrow by RO number, plate, full VIN or the VIN's last 6/8 characters."""
    q = (q or "").strip().upper()
    if not q:
        return queryset
    return queryset.filter(
        Q(number__icontains=q)
        | Q(vehicle__plate=q)
        | Q(vehicle__vin=q)
        | Q(vehicle__vin_last8=q)
        | Q(vehicle__vin_last6=q)
    )


def is_late(order, now=None) -> bool:
    now = now or timezone.now()
    return order.status in LATE_WHEN and order.promised_at is not None and order.promised_at < now
