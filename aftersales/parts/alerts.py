"""Low-stock alerts (SPEC §6, reorder).

``stock.post`` (and ``stock.reserve``) call ``check_low_stock`` after every change that
lowers an item's available quantity, inside their transaction with the item row locked.
When available (on hand − reserved) falls below the item's minimum, the item is marked
(``low_alerted_at``) and the dealer's parts clerks are told once, in the application and
by e-mail. The messages are written to the outbox in the same transaction: they are sent
only once it commits (a rolled-back issue alerts nobody), and the mark plus the outbox's
``dedup_key`` make one drop below the minimum alert once. ``stock.post`` clears the mark
when stock comes back above the minimum, so the next drop alerts again.
"""

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aftersales.core.outbox import outbox_enqueue
from aftersales.org.models import RoleAssignment
from aftersales.org.roles import Role


def parts_clerks(dealer_id):
    """The active users holding the parts-clerk role at the dealer."""
    from aftersales.org.models import User

    return list(
        User.objects.filter(
            is_active=True,
            pk__in=RoleAssignment.objects.filter(
                role=Role.PARTS_CLERK, dealer_id=dealer_id, active=True
            ).values("user_id"),
        ).order_by("pk")
    )


def _message(item) -> tuple[str, str]:
    from aftersales.parts.stock import show

    part = item.part
    values = {
        "part": part.number,
        "name": part.name,
        "warehouse": item.warehouse.code,
        "available": show(item.on_hand - item.reserved),
        "min": show(item.min_qty),
    }
    subject = _("Low stock: %(part)s %(name)s in %(warehouse)s") % values
    body = (
        _(
            "%(part)s %(name)s in warehouse %(warehouse)s: %(available)s available, "
            "below the minimum of %(min)s. Check the purchase suggestions."
        )
        % values
    )
    return subject, body


def check_low_stock(item) -> None:
    """Alert once when the item's available quantity falls below its minimum."""
    if item.min_qty <= 0 or item.low_alerted_at is not None:
        return
    if item.on_hand - item.reserved >= item.min_qty:
        return
    from aftersales.parts.models import StockItem

    now = timezone.now()
    # the caller holds the row lock; the filter makes a racing second mark a no-op
    marked = StockItem.objects.filter(pk=item.pk, low_alerted_at__isnull=True).update(
        low_alerted_at=now
    )
    item.low_alerted_at = now
    if not marked:
        return
    stamp = now.strftime("%Y%m%d%H%M%S%f")
    with translation.override("zh-hans"):  # staff default language
        subject, body = _message(item)
    for clerk in parts_clerks(item.dealer_id):
        outbox_enqueue(
            channel="inapp",
            recipient=str(clerk.pk),
            subject=subject,
            body=body,
            dealer=item.dealer,
            payload={"stock_item": item.pk},
            dedup_key=f"lowstock:{item.pk}:{stamp}:inapp:{clerk.pk}",
        )
        if clerk.email:
            outbox_enqueue(
                channel="email",
                recipient=clerk.email,
                subject=subject,
                body=body,
                dealer=item.dealer,
                payload={"stock_item": item.pk},
                dedup_key=f"lowstock:{item.pk}:{stamp}:email:{clerk.pk}",
            )
