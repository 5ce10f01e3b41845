"""Returns (回厂): a reminder counts as returned when its vehicle opens a repair order at any
dealer from the first day of the reminder's month up to its ``return_by`` day (the due date
plus the OEM's return window, 45 days by default, fixed when the reminder is written).
Cancelled orders do not count. The first such order is recorded on the reminder.

``returns_match`` runs daily (``tasks.match_returns``), set-based: one ``UPDATE`` of the
unreturned reminders whose window is open or closed less than ``GRACE_DAYS`` ago (so a
missed day of the job loses nothing); re-running it changes nothing.
"""

import datetime

from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from aftersales.reminders.models import Reminder

GRACE_DAYS = 60


def returns_match(*, today: datetime.date | None = None) -> int:
    """Record the returning repair order on every reminder that has one; returns how many
    reminders were marked returned."""
    from aftersales.workorders.choices import ROStatus
    from aftersales.workorders.models import RepairOrder

    today = today or timezone.localdate()
    orders = (
        RepairOrder.objects.filter(
            vehicle_id=OuterRef("vehicle_id"),
            created_at__date__gte=OuterRef("month"),
            created_at__date__lte=OuterRef("return_by"),
        )
        .exclude(status=ROStatus.CANCELLED)
        .order_by("created_at", "id")
    )
    pending = Reminder.objects.filter(
        returned_order__isnull=True,
        month__lte=today,
        return_by__gte=today - datetime.timedelta(days=GRACE_DAYS),
    ).filter(Exists(orders))
    return pending.update(
        returned_order=Subquery(orders.values("id")[:1]),
        returned_at=Subquery(orders.values("created_at")[:1]),
        updated_at=timezone.now(),
    )
