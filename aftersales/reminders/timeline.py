"""Service reminders in the customer 360 timeline (issue 9 item 8): each reminder of the
customer the viewer may see when it was written (its kind, due date, vehicle and task),
the outcome of its calls when one was recorded, and the return when the vehicle came
back. Autodiscovered by ``crm.timeline.customer_timeline``; three queries of at most
``limit`` rows each, scoped with ``restrict``."""

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aftersales.crm.timeline import TimelineEntry, timeline_source


def _vehicle(reminder) -> str:
    return reminder.vehicle.plate or reminder.vehicle.vin


@timeline_source("reminders.reminder")
def reminder_entries(customer, user, limit, before):
    from aftersales.reminders.choices import ReminderStatus
    from aftersales.reminders.models import Reminder

    rows = (
        Reminder.objects.restrict(user, "view")
        .filter(customer=customer)
        .select_related("vehicle", "dealer", "booking", "returned_order")
    )
    written, called, returned = (
        rows,
        rows.filter(status_at__isnull=False).exclude(status=ReminderStatus.OPEN),
        rows.filter(returned_at__isnull=False),
    )
    if before is not None:
        written = written.filter(created_at__lt=before)
        called = called.filter(status_at__lt=before)
        returned = returned.filter(returned_at__lt=before)

    for reminder in written.order_by("-created_at", "-id")[:limit]:
        task = _("Phone follow-up") if reminder.registered else _("Phone reminder")
        yield TimelineEntry(
            at=reminder.created_at,
            kind="reminders.reminder",
            title=_("Reminder: %(kind)s due %(due)s")
            % {"kind": reminder.get_kind_display(), "due": reminder.due_date.isoformat()},
            detail=" · ".join([_vehicle(reminder), reminder.dealer.name, str(task)]),
            url=reverse("reminder-vehicle-sheet", args=[reminder.vehicle_id]),
            icon="bell",
        )
    for reminder in called.order_by("-status_at", "-id")[:limit]:
        facts = [_vehicle(reminder)]
        if reminder.attempts:
            n = reminder.attempts
            facts.append(ngettext("%(n)d call", "%(n)d calls", n) % {"n": n})
        if reminder.booking_id:
            facts.append(_("booking %(number)s") % {"number": reminder.booking.number})
        last_note = (reminder.note or "").strip().splitlines()[-1:] or []
        facts.extend(last_note)
        yield TimelineEntry(
            at=reminder.status_at,
            kind="reminders.reminder",
            title=_("Reminder call (%(kind)s): %(outcome)s")
            % {"kind": reminder.get_kind_display(), "outcome": reminder.get_status_display()},
            detail=" · ".join(str(f) for f in facts),
            url=reverse("reminder-call", args=[reminder.pk]),
            icon="telephone-outbound",
        )
    for reminder in returned.order_by("-returned_at", "-id")[:limit]:
        detail = _vehicle(reminder)
        if reminder.returned_order_id:
            detail = f"{detail} · {reminder.returned_order.number}"
        yield TimelineEntry(
            at=reminder.returned_at,
            kind="reminders.reminder",
            title=_("Returned after the reminder: %(kind)s")
            % {"kind": reminder.get_kind_display()},
            detail=detail,
            url=reverse("reminder-vehicle-sheet", args=[reminder.vehicle_id]),
            icon="arrow-return-left",
        )
