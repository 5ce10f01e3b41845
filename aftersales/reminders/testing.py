"""Test helpers of the reminders app: one reminder of a new vehicle of a dealer."""

import datetime


def make_reminder(dealer, *, vehicle=None, kind="maintenance", month=None, **fields):
    """A reminder of ``dealer`` (of a new vehicle and owner unless ``vehicle`` is given),
    due mid-``month`` (the current month unless told)."""
    from django.utils import timezone

    from aftersales.crm.testing import make_customer, make_vehicle
    from aftersales.reminders.models import Reminder

    if vehicle is None:
        vehicle = make_vehicle(owner=make_customer(dealer=dealer), dealer=dealer)
    month = month or timezone.localdate().replace(day=1)
    due = month.replace(day=15)
    now = timezone.now()
    values = {
        "kind": kind,
        "month": month,
        "due_date": due,
        "vehicle": vehicle,
        "customer_id": vehicle.owner_id,
        "dealer": dealer,
        "return_by": due + datetime.timedelta(days=45),
        "created_at": now,
        "updated_at": now,
        **fields,
    }
    return Reminder.objects.create(**values)
