"""The workshop's capacity set-up (SPEC §3): booking rules, closed days, technicians with
their skills, shift and daily break, advisors' reception hours and break, absences. Each
service checks ``appointments.change_schedulesettings`` at the dealer, validates before
writing (a coded, translated error names the field; nothing changes) and leaves an audit
row."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.appointments.capacity import BREAK_MINUTES
from aftersales.appointments.models import (
    Absence,
    Advisor,
    ClosedDay,
    ScheduleSettings,
    Technician,
)
from aftersales.core.access import require_at
from aftersales.core.audit import audit_create, audit_delete, audit_update, snapshot
from aftersales.core.errors import ValidationFailed
from aftersales.workorders.choices import BayKind, OperationCategory

PERMISSION = "appointments.change_schedulesettings"
SETTINGS_FIELDS = {
    "open_weekdays",
    "closed_on_public_holidays",
    "slot_minutes",
    "reception_minutes",
    "no_show_grace_minutes",
    "horizon_days",
    "reminder_hour",
}
LIMITS = {
    "slot_minutes": (5, 60),
    "reception_minutes": (5, 120),
    "no_show_grace_minutes": (5, 240),
    "horizon_days": (1, 365),
    "reminder_hour": (6, 21),
}


def _invalid(field, message, code="invalid"):
    raise ValidationFailed(message, code=code, fields={field: [message]})


def _weekdays(value, field="weekdays") -> list[int]:
    try:
        days = sorted({int(v) for v in value})
    except (TypeError, ValueError):
        _invalid(field, _("Weekdays are numbers from 0 (Monday) to 6 (Sunday)."), "bad_weekday")
    if any(d < 0 or d > 6 for d in days):
        _invalid(field, _("Weekdays are numbers from 0 (Monday) to 6 (Sunday)."), "bad_weekday")
    return days


def _time(value, field) -> datetime.time:
    if isinstance(value, datetime.time):
        return value
    try:
        return datetime.time.fromisoformat(str(value))
    except ValueError:
        _invalid(field, _("Enter a time as HH:MM."), "bad_time")


def _span(start, end, start_field, end_field):
    start, end = _time(start, start_field), _time(end, end_field)
    if end <= start:
        _invalid(end_field, _("The end must be after the start."), "end_before_start")
    return start, end


def _break(start, end, within, hours_field) -> tuple:
    """A daily break (``start``, ``end``; both empty: none) inside the ``within`` hours,
    at most ``BREAK_MINUTES`` long."""
    if start in (None, "") and end in (None, ""):
        return None, None
    for field, value in (("break_start", start), ("break_end", end)):
        if value in (None, ""):
            _invalid(
                field, _("Enter both the start and the end of the break, or neither."), "break_half"
            )
    start, end = _span(start, end, "break_start", "break_end")
    if not within[0] < start or not end < within[1]:
        _invalid(
            "break_start",
            _("The break must lie within the %(hours)s.") % {"hours": hours_field},
            "break_outside",
        )
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    if minutes > BREAK_MINUTES:
        _invalid(
            "break_end",
            _("A break is at most %(minutes)s minutes: enter longer time off as an absence.")
            % {"minutes": BREAK_MINUTES},
            "break_too_long",
        )
    return start, end


def _choices(values, choices, field, message, code) -> list[str]:
    values = sorted({str(v) for v in values})
    if any(v not in choices.values for v in values):
        _invalid(field, message, code)
    return values


def _staff_with_role(dealer, user, role, field):
    from aftersales.org.models import RoleAssignment

    if not RoleAssignment.objects.filter(dealer=dealer, user=user, role=role).exists():
        _invalid(field, _("This person does not hold that role at this dealer."), "not_staff")


@transaction.atomic
def schedule_settings_save(*, actor, dealer, **changes) -> ScheduleSettings:
    require_at(actor, PERMISSION, dealer=dealer)
    unknown = set(changes) - SETTINGS_FIELDS
    if unknown:
        _invalid(sorted(unknown)[0], _("Unknown field."), "unknown_field")
    settings, created = ScheduleSettings.objects.get_or_create(dealer=dealer)
    settings = ScheduleSettings.objects.select_for_update().get(pk=settings.pk)
    before = snapshot(settings)
    for field, value in changes.items():
        if field == "open_weekdays":
            value = _weekdays(value, field)
            if not value:
                _invalid(field, _("Open on at least one weekday."), "no_weekday")
        elif field == "closed_on_public_holidays":
            value = bool(value)
        else:
            low, high = LIMITS[field]
            try:
                value = int(value)
            except (TypeError, ValueError):
                _invalid(field, _("Enter a whole number."), "not_a_number")
            if not low <= value <= high:
                _invalid(
                    field,
                    _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high},
                    "out_of_range",
                )
        setattr(settings, field, value)
    settings.save()
    audit_update(settings, actor=actor, before=before)
    return settings


@transaction.atomic
def closed_day_add(*, actor, dealer, day, reason: str) -> ClosedDay:
    require_at(actor, PERMISSION, dealer=dealer)
    reason = (reason or "").strip()
    if not isinstance(day, datetime.date):
        _invalid("day", _("Enter a date as YYYY-MM-DD."), "bad_date")
    if day < timezone.localdate():
        _invalid("day", _("This day is in the past."), "in_the_past")
    if not reason:
        _invalid("reason", _("Say why the dealer is closed."), "reason_required")
    if ClosedDay.objects.filter(dealer=dealer, day=day).exists():
        _invalid("day", _("This day is already closed."), "already_closed")
    closed = ClosedDay.objects.create(dealer=dealer, day=day, reason=reason[:100])
    audit_create(closed, actor=actor)
    return closed


@transaction.atomic
def closed_day_remove(*, actor, closed_day) -> None:
    require_at(actor, PERMISSION, dealer=closed_day.dealer)
    audit_delete(closed_day, actor=actor)
    closed_day.delete()


@transaction.atomic
def technician_save(
    *,
    actor,
    dealer,
    user,
    bay_kinds,
    categories=(),
    weekdays=range(7),
    shift_start="08:30",
    shift_end="17:30",
    break_start=None,
    break_end=None,
    active=True,
) -> Technician:
    """A technician's skills (bay kinds, operation categories; none = every category),
    weekly shift and daily break; made the first time, changed after."""
    require_at(actor, PERMISSION, dealer=dealer)
    _staff_with_role(dealer, user, "technician", "user")
    kinds = _choices(bay_kinds, BayKind, "bay_kinds", _("Unknown bay kind."), "unknown_bay_kind")
    if not kinds:
        _invalid(
            "bay_kinds",
            _("Choose at least one bay kind the technician works in."),
            "no_bay_kind",
        )
    cats = _choices(
        categories,
        OperationCategory,
        "categories",
        _("Unknown operation category."),
        "unknown_category",
    )
    start, end = _span(shift_start, shift_end, "shift_start", "shift_end")
    pause = _break(break_start, break_end, (start, end), _("shift"))
    values = {
        "bay_kinds": kinds,
        "categories": cats,
        "weekdays": _weekdays(weekdays),
        "shift_start": start,
        "shift_end": end,
        "break_start": pause[0],
        "break_end": pause[1],
        "active": bool(active),
    }
    found = Technician.objects.select_for_update().filter(dealer=dealer, user=user).first()
    if found is None:
        found = Technician.objects.create(dealer=dealer, user=user, **values)
        audit_create(found, actor=actor)
        return found
    before = snapshot(found)
    for field, value in values.items():
        setattr(found, field, value)
    found.save()
    audit_update(found, actor=actor, before=before)
    return found


@transaction.atomic
def advisor_save(
    *,
    actor,
    dealer,
    user,
    weekdays=range(7),
    reception_start="08:30",
    reception_end="17:00",
    break_start=None,
    break_end=None,
    active=True,
) -> Advisor:
    require_at(actor, PERMISSION, dealer=dealer)
    _staff_with_role(dealer, user, "service_advisor", "user")
    start, end = _span(reception_start, reception_end, "reception_start", "reception_end")
    pause = _break(break_start, break_end, (start, end), _("reception hours"))
    values = {
        "weekdays": _weekdays(weekdays),
        "reception_start": start,
        "reception_end": end,
        "break_start": pause[0],
        "break_end": pause[1],
        "active": bool(active),
    }
    found = Advisor.objects.select_for_update().filter(dealer=dealer, user=user).first()
    if found is None:
        found = Advisor.objects.create(dealer=dealer, user=user, **values)
        audit_create(found, actor=actor)
        return found
    before = snapshot(found)
    for field, value in values.items():
        setattr(found, field, value)
    found.save()
    audit_update(found, actor=actor, before=before)
    return found


@transaction.atomic
def absence_add(*, actor, dealer, user, starts_at, ends_at, reason: str = "") -> Absence:
    require_at(actor, PERMISSION, dealer=dealer)
    if not (
        Technician.objects.filter(dealer=dealer, user=user).exists()
        or Advisor.objects.filter(dealer=dealer, user=user).exists()
    ):
        _invalid(
            "user",
            _("Only the dealer's technicians and advisors have absences here."),
            "not_staff",
        )
    if starts_at is None or ends_at is None:
        _invalid(
            "starts_at" if starts_at is None else "ends_at", _("Enter a date and time."), "bad_time"
        )
    if ends_at <= starts_at:
        _invalid("ends_at", _("The end must be after the start."), "end_before_start")
    absence = Absence.objects.create(
        dealer=dealer,
        user=user,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=(reason or "").strip()[:100],
        created_by=actor,
    )
    audit_create(absence, actor=actor)
    return absence


@transaction.atomic
def absence_remove(*, actor, absence) -> None:
    require_at(actor, PERMISSION, dealer=absence.dealer)
    audit_delete(absence, actor=actor)
    absence.delete()
