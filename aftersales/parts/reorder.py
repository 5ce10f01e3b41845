"""Reorder points and purchase suggestions (SPEC §6, reorder).

A stock item's ``min_qty``/``max_qty`` are its reorder point and the level to refill to.
The suggestion for an item is worked out in one database query per warehouse:

* position = available (on hand − reserved) + on order (open purchase-order lines of this
  warehouse: ordered − received, orders submitted or partly received);
* shortage = demand not served from stock in the last ``SHORTAGE_DAYS`` days (``PartDemand``
  rows with ``served=False``: document lines that asked for more than was available; a
  reservation never exceeds on-hand, so unserved demand is what "reservations not
  covered" means here);
* suggest when position < min, or when there was a shortage: max − position + shortage,
  rounded up to whole units (at least the shortage when min/max are not set).

A superseded part is suggested under the number that replaces it (the end of its chain).
"""

import math
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.access import allowed_at
from aftersales.core.audit import audit_update, snapshot
from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.parts.alerts import check_low_stock
from aftersales.parts.choices import PurchaseOrderStatus
from aftersales.parts.models import PartDemand, PurchaseOrderLine, StockItem
from aftersales.parts.stock import qty

SHORTAGE_DAYS = 30
ZERO = Decimal("0")
_QTY = DecimalField(max_digits=14, decimal_places=2)


# ---------------------------------------------------------------- levels


@transaction.atomic
def stock_item_set_levels(*, actor, item, min_qty, max_qty, default_bin=None) -> StockItem:
    """Set an item's reorder point (min), refill level (max) and, optionally, its default
    bin. Max must be at least min, and min at least zero."""
    from aftersales.org.models import Dealer

    if actor is not None and not allowed_at(
        actor, "parts.change_stockitem", dealer=Dealer(pk=item.dealer_id)
    ):
        raise PermissionDenied()
    errors = {}
    try:
        low = qty(min_qty)
    except ValidationFailed:
        low, errors["min_qty"] = None, [_("Not a number.")]
    try:
        high = qty(max_qty)
    except ValidationFailed:
        high, errors["max_qty"] = None, [_("Not a number.")]
    if low is not None and low < 0:
        errors["min_qty"] = [_("The minimum cannot be negative.")]
    if high is not None and low is not None and not errors and high < low:
        errors["max_qty"] = [_("The maximum must be at least the minimum.")]
    if errors:
        raise ValidationFailed(
            _("Check the minimum and maximum: max ≥ min ≥ 0."), fields=errors, code="invalid_levels"
        )
    item = StockItem.objects.select_for_update().select_related("part", "warehouse").get(pk=item.pk)
    if default_bin is not None and default_bin.warehouse_id != item.warehouse_id:
        raise ValidationFailed(
            _("Bin %(bin)s is not in warehouse %(warehouse)s.")
            % {"bin": default_bin.code, "warehouse": item.warehouse.code},
            fields={"default_bin": [_("Not in this warehouse.")]},
        )
    before = snapshot(item)
    item.min_qty, item.max_qty = low, high
    fields = ["min_qty", "max_qty"]
    if default_bin is not None:
        item.default_bin = default_bin
        fields.append("default_bin")
    if item.low_alerted_at is not None and item.on_hand - item.reserved >= low:
        item.low_alerted_at = None
        fields.append("low_alerted_at")
    item.save(update_fields=fields)
    audit_update(item, actor=actor, before=before)
    check_low_stock(item)  # a raised minimum may put the item below it right away
    return item


# ---------------------------------------------------------------- suggestions


def on_order_subquery():
    """Per stock item: what open purchase orders of its warehouse still bring."""
    return Coalesce(
        Subquery(
            PurchaseOrderLine.objects.filter(
                order__warehouse_id=OuterRef("warehouse_id"),
                part_id=OuterRef("part_id"),
                order__status__in=(
                    PurchaseOrderStatus.SUBMITTED,
                    PurchaseOrderStatus.PARTLY_RECEIVED,
                ),
                quantity__gt=F("received"),
            )
            .values("part_id")
            .annotate(total=Sum(F("quantity") - F("received")))
            .values("total")[:1],
            output_field=_QTY,
        ),
        Value(ZERO),
        output_field=_QTY,
    )


def shortage_subquery(since):
    return Coalesce(
        Subquery(
            PartDemand.objects.filter(item_id=OuterRef("pk"), served=False, at__gte=since)
            .values("item_id")
            .annotate(total=Sum("quantity"))
            .values("total")[:1],
            output_field=_QTY,
        ),
        Value(ZERO),
        output_field=_QTY,
    )


def annotated_items(queryset, now=None):
    since = (now or timezone.now()) - timedelta(days=SHORTAGE_DAYS)
    return queryset.annotate(
        available_qty=ExpressionWrapper(F("on_hand") - F("reserved"), output_field=_QTY),
        on_order=on_order_subquery(),
        shortage=shortage_subquery(since),
    )


@dataclass
class Suggestion:
    item: StockItem
    part: object  # the part to order (the replacement of a superseded one)
    available: Decimal
    on_order: Decimal
    shortage: Decimal
    quantity: int  # whole units to order

    @property
    def position(self) -> Decimal:
        return self.available + self.on_order

    @property
    def superseded(self) -> bool:
        return self.part.pk != self.item.part_id


def suggested_quantity(*, available, on_order, shortage, min_qty, max_qty) -> int:
    """max − (available + on order) + unserved demand, rounded up, when the position is
    below the minimum or demand went unserved; else 0."""
    position = available + on_order
    below = min_qty > 0 and position < min_qty
    if not below and shortage <= 0:
        return 0
    target = max(max_qty, min_qty)
    need = target - position + shortage
    return max(math.ceil(need), 0)


def purchase_suggestions(user, warehouse, now=None) -> list[Suggestion]:
    """What to order for ``warehouse`` (which the user must be allowed to see)."""
    from aftersales.parts.purchasing import current_part

    items = (
        annotated_items(
            StockItem.objects.restrict(user, "view").filter(warehouse=warehouse), now=now
        )
        .filter(Q(min_qty__gt=0) | Q(max_qty__gt=0) | Q(shortage__gt=0))
        .select_related("part", "part__superseded_by", "warehouse")
        .order_by("part__number")
    )
    suggestions = []
    for item in items:
        quantity = suggested_quantity(
            available=item.available_qty,
            on_order=item.on_order,
            shortage=item.shortage,
            min_qty=item.min_qty,
            max_qty=item.max_qty,
        )
        if quantity <= 0:
            continue
        part = item.part
        if part.superseded_by_id is not None:
            replacement = part.superseded_by
            # one hop is prefetched; longer chains (rare) are followed to the end
            part = replacement if replacement.superseded_by_id is None else current_part(part)
        suggestions.append(
            Suggestion(
                item=item,
                part=part,
                available=item.available_qty,
                on_order=item.on_order,
                shortage=item.shortage,
                quantity=quantity,
            )
        )
    return suggestions


def low_stock_items(user, warehouse=None):
    """Items whose available quantity is below their minimum, with what is on order."""
    queryset = StockItem.objects.restrict(user, "view").filter(min_qty__gt=0)
    if warehouse is not None:
        queryset = queryset.filter(warehouse=warehouse)
    return (
        annotated_items(queryset)
        .filter(available_qty__lt=F("min_qty"))
        .select_related("part", "warehouse")
        .order_by("warehouse__code", "part__number")
    )


def purchase_order_from_suggestions(*, actor, warehouse, lines, urgent=False, note=""):
    """A draft order from the suggestions the clerk kept: ``lines`` of (part, quantity);
    superseded numbers are ordered as their replacement."""
    from aftersales.parts.purchasing import purchase_order_create

    if not lines:
        raise ValidationFailed(
            _("Select at least one suggestion."), fields={"lines": [_("Nothing selected.")]}
        )
    return purchase_order_create(
        actor=actor,
        warehouse=warehouse,
        lines=list(lines),
        urgent=urgent,
        note=note or _("From purchase suggestions"),
        substitute=True,
    )
