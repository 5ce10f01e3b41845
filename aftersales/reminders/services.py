"""The DCRC worklist's writes (source 2-12 to 2-15): the DCRC manager assigns the month's
reminder tasks to agents of the dealer; an agent records each call's outcome.

A call is allowed while the reminder is open or not reached; every other outcome is
final. "Not reached" is a retry: the attempts are counted and the next call is planned
(``retry_at``, else tomorrow at the same time) until ``MAX_ATTEMPTS`` calls were made;
then it stays not reached with nothing planned. "Booked" links an existing booking of
the same vehicle (the booking is made on the booking screen, which finds the slot)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.access import allowed_at, user_scope
from aftersales.core.audit import audit_update, snapshot
from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from aftersales.reminders.choices import ReminderStatus
from aftersales.reminders.models import Reminder

WORK = "reminders.work_reminder"
ASSIGN = "reminders.assign_reminder"
MAX_ATTEMPTS = 3
CALLABLE = (ReminderStatus.OPEN, ReminderStatus.NOT_REACHED)
OUTCOMES = (
    ReminderStatus.REMINDED,
    ReminderStatus.NOT_REACHED,
    ReminderStatus.DECLINED,
    ReminderStatus.BOOKED,
    ReminderStatus.WRONG_NUMBER,
)
RETRY_AFTER = datetime.timedelta(days=1)


def _may_work_at(user, dealer_id) -> bool:
    """Is ``user`` an agent of this dealer (holds the work permission there itself, not
    through an OEM- or region-wide scope)?"""
    return dealer_id in user_scope(user, WORK).dealer_ids


@transaction.atomic
def reminders_assign(*, actor, reminders, agent) -> list[Reminder]:
    """Give ``reminders`` to ``agent`` (``None`` takes them back). The actor must hold the
    assign permission at each reminder's dealer and the agent must work at that dealer.
    Assigning again to the same agent changes nothing, so a retry is harmless."""
    ids = sorted({r.pk for r in reminders})
    if not ids:
        raise ValidationFailed(fields={"ids": [_("Choose at least one reminder.")]})
    rows = list(Reminder.objects.select_for_update().select_related("dealer").filter(pk__in=ids))
    if len(rows) != len(ids):
        raise NotFound()
    now = timezone.now()
    for row in rows:
        if not allowed_at(actor, ASSIGN, dealer=row.dealer):
            raise PermissionDenied()
        if agent is not None and not _may_work_at(agent, row.dealer_id):
            raise ValidationFailed(
                _("The agent does not work on reminders at this dealer."),
                code="agent_not_at_dealer",
                fields={"agent": [_("The agent does not work on reminders at this dealer.")]},
            )
    for row in rows:
        if row.assigned_to_id == (agent.pk if agent else None):
            continue
        before = snapshot(row)
        row.assigned_to = agent
        row.updated_at = now
        row.save(update_fields=["assigned_to", "updated_at"])
        audit_update(row, actor=actor, before=before)
    return rows


def _booking(reminder, booking_id):
    from aftersales.appointments.choices import BookingStatus
    from aftersales.appointments.models import Booking

    if booking_id is None:
        raise ValidationFailed(
            _("A booked call needs the booking it made."),
            code="booking_required",
            fields={"booking": [_("A booked call needs the booking it made.")]},
        )
    booking = Booking.objects.filter(pk=booking_id).first()
    if booking is None or booking.vehicle_id != reminder.vehicle_id:
        raise ValidationFailed(
            _("The booking is not one of this vehicle."),
            code="booking_other_vehicle",
            fields={"booking": [_("The booking is not one of this vehicle.")]},
        )
    if booking.status in (BookingStatus.CANCELLED, BookingStatus.NO_SHOW):
        raise ValidationFailed(
            _("The booking was cancelled or missed."),
            code="booking_closed",
            fields={"booking": [_("The booking was cancelled or missed.")]},
        )
    return booking


@transaction.atomic
def reminder_call(
    *, actor, reminder, outcome, note="", retry_at=None, booking_id=None, now=None
) -> Reminder:
    """Record one call of the reminder's task and its outcome."""
    now = now or timezone.now()
    row = Reminder.objects.select_for_update().select_related("dealer").get(pk=reminder.pk)
    if not allowed_at(actor, WORK, dealer=row.dealer):
        raise PermissionDenied()
    if (
        row.assigned_to_id is not None
        and actor is not None
        and row.assigned_to_id != actor.pk
        and not allowed_at(actor, ASSIGN, dealer=row.dealer)
    ):
        raise PermissionDenied(_("This reminder is assigned to another agent."))
    if outcome not in OUTCOMES:
        raise ValidationFailed(fields={"outcome": [_("Choose a call outcome.")]})
    if row.status not in CALLABLE:
        raise Conflict(_("This reminder's call is finished."), code="reminder_finished")
    if row.attempts >= MAX_ATTEMPTS and row.status == ReminderStatus.NOT_REACHED:
        raise Conflict(
            _("This reminder was called %(n)s times already.") % {"n": MAX_ATTEMPTS},
            code="no_more_attempts",
        )
    if retry_at is not None and (outcome != ReminderStatus.NOT_REACHED or retry_at <= now):
        raise ValidationFailed(
            fields={"retry_at": [_("A later call is planned only for an unanswered call.")]}
        )
    booking = _booking(row, booking_id) if outcome == ReminderStatus.BOOKED else None

    before = snapshot(row)
    row.attempts += 1
    row.last_call_at = now
    row.status = outcome
    row.status_at = now
    row.next_call_at = None
    if outcome == ReminderStatus.NOT_REACHED and row.attempts < MAX_ATTEMPTS:
        row.next_call_at = retry_at or now + RETRY_AFTER
    if booking is not None:
        row.booking = booking
    note = (note or "").strip()
    if note:
        stamp = timezone.localtime(now).strftime("%Y-%m-%d %H:%M")
        row.note = f"{row.note}\n{stamp} {note}".strip()
    row.updated_at = now
    row.save(
        update_fields=[
            "attempts",
            "last_call_at",
            "status",
            "status_at",
            "next_call_at",
            "booking",
            "note",
            "updated_at",
        ]
    )
    audit_update(row, actor=actor, before=before)
    return row
