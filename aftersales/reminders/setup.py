"""The set-up pages' writes that ``campaigns.py`` does not have: the OEM's reminder rules
(incl. quiet hours), the annual-inspection schedule, editing a campaign (its target
checked again exactly as when it was created; unticking "running" ends it) and starting
a monthly run for one dealer and month from the screen.

Every function is a service: keyword-only, ``actor=``, one transaction, coded errors that
change nothing, an audit row."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.access import allowed_at
from aftersales.core.audit import audit_create, audit_delete, audit_event, audit_update, snapshot
from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.models import AuditAction
from aftersales.reminders.campaigns import checked_target
from aftersales.reminders.choices import VehicleClass
from aftersales.reminders.models import Campaign, InspectionStep, ReminderSettings

SETTING_FIELDS = (
    "return_window_days",
    "default_km_per_day",
    "min_km_per_day",
    "max_km_per_day",
    "history_days",
    "min_history_days",
    "lapsed_after_months",
    "quiet_from",
    "quiet_until",
)


def _require(actor, permission, *, dealer=None):
    if not allowed_at(actor, permission, dealer=dealer):
        raise PermissionDenied()


def _refuse(field_name, message, code="invalid"):
    raise ValidationFailed(message, code=code, fields={field_name: [message]})


# ---------------------------------------------------------------- reminder rules


@transaction.atomic
def reminder_settings_update(*, actor, **changes) -> ReminderSettings:
    """The OEM changes its reminder rules (fields of ``SETTING_FIELDS``; others are
    ignored). Quiet hours are both given or both empty; the distance estimate's bounds
    must hold the default. Reminders already written keep their dates; the next run uses
    the new rules."""
    _require(actor, "reminders.change_remindersettings")
    current = ReminderSettings.current()
    if current.pk is None:
        current.save()
        audit_create(current, actor=actor)
    row = ReminderSettings.objects.select_for_update().get(pk=current.pk)
    before = snapshot(row)
    for name, value in changes.items():
        if name in SETTING_FIELDS:
            setattr(row, name, value)
    errors: dict[str, list[str]] = {}
    try:
        row.full_clean(exclude=["updated_at"])
    except DjangoValidationError as error:
        errors = {k: [str(m) for m in v] for k, v in error.message_dict.items()}
    if not errors:
        if not row.min_km_per_day <= row.default_km_per_day <= row.max_km_per_day:
            errors["default_km_per_day"] = [
                _("The default must lie between the lowest and the highest estimate.")
            ]
        if row.min_history_days > row.history_days:
            errors["min_history_days"] = [
                _("The readings cannot need to span more days than are looked at.")
            ]
        if (row.quiet_from is None) != (row.quiet_until is None):
            errors["quiet_until"] = [_("Give both ends of the quiet hours, or neither.")]
        elif row.quiet_from is not None and row.quiet_from == row.quiet_until:
            errors["quiet_until"] = [_("The quiet hours must not start and end at once.")]
    if errors:
        raise ValidationFailed(fields=errors)
    row.save()
    audit_update(row, actor=actor, before=before)
    return row


# ---------------------------------------------------------------- inspection schedule


@transaction.atomic
def inspection_schedule_set(*, actor, steps, vehicle_class=VehicleClass.PRIVATE_SMALL_PASSENGER):
    """Replace the inspection schedule of ``vehicle_class`` with ``steps`` (dicts of
    ``from_month``, ``until_month`` (None: no end), ``every_months``, ``on_site``). No
    step may overlap another and only the last may be open-ended. An empty list goes back
    to the rules in force (``schedule.DEFAULT_INSPECTION_STEPS``)."""
    _require(actor, "reminders.change_inspectionstep")
    if vehicle_class not in VehicleClass.values:
        _refuse("vehicle_class", _("Choose a vehicle class."))
    cleaned = []
    for number, step in enumerate(steps, start=1):
        try:
            first = int(step["from_month"])
            last = None if step.get("until_month") in (None, "") else int(step["until_month"])
            every = int(step["every_months"])
        except (KeyError, TypeError, ValueError):
            _refuse("steps", _("Line %(n)d: give whole numbers of months.") % {"n": number})
        if first < 1 or every < 1 or (last is not None and last < first):
            _refuse(
                "steps",
                _(
                    "Line %(n)d: months start at 1, the interval is at least 1 month and the "
                    "last month is not before the first."
                )
                % {"n": number},
            )
        cleaned.append((first, last, every, bool(step.get("on_site"))))
    cleaned.sort()
    for (first, last, _e, _o), (next_first, *_rest) in zip(cleaned, cleaned[1:], strict=False):
        if last is None or last >= next_first:
            _refuse(
                "steps",
                _("The step from month %(a)d overlaps the step from month %(b)d.")
                % {"a": first, "b": next_first},
                code="overlap",
            )
    old = list(InspectionStep.objects.select_for_update().filter(vehicle_class=vehicle_class))
    for row in old:
        audit_delete(row, actor=actor)
        row.delete()
    made = []
    for first, last, every, on_site in cleaned:
        row = InspectionStep.objects.create(
            vehicle_class=vehicle_class,
            from_month=first,
            until_month=last,
            every_months=every,
            on_site=on_site,
        )
        audit_create(row, actor=actor)
        made.append(row)
    return made


# ---------------------------------------------------------------- campaigns


def _ids(rows):
    return sorted(getattr(r, "pk", r) for r in rows)


@transaction.atomic
def campaign_update(
    *,
    actor,
    campaign: Campaign,
    name: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    vehicle_models=(),
    model_years=(),
    regions=(),
    last_visit_before: datetime.date | None = None,
    description: str = "",
    active: bool = True,
) -> Campaign:
    """Change a campaign's name, content, dates, target or whether it is running. The
    code, scope and dealer stay. The target is checked as when the campaign was created
    (empty, invalid or matching no vehicle: refused with the reason, nothing changed).
    Reminders already written stay; the next monthly run follows the new target."""
    row = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _require(actor, "reminders.change_campaign", dealer=row.dealer)
    name = (name or "").strip()
    if not name:
        _refuse("name", _("Give the campaign a code and a name."))
    vehicle_models, regions, years = checked_target(
        dealer=row.dealer,
        starts_on=starts_on,
        ends_on=ends_on,
        vehicle_models=vehicle_models,
        model_years=model_years,
        regions=regions,
        last_visit_before=last_visit_before,
    )
    before = snapshot(row)
    links_before = {
        "vehicle_models": _ids(row.vehicle_models.all()),
        "regions": _ids(row.regions.all()),
    }
    row.name = name
    row.description = (description or "").strip()
    row.starts_on, row.ends_on = starts_on, ends_on
    row.model_years = years
    row.last_visit_before = last_visit_before
    row.active = bool(active)
    row.save()
    row.vehicle_models.set(vehicle_models)
    row.regions.set(regions)
    audit_update(row, actor=actor, before=before)
    links_after = {"vehicle_models": _ids(vehicle_models), "regions": _ids(regions)}
    changed = {k: [links_before[k], v] for k, v in links_after.items() if links_before[k] != v}
    if changed:
        audit_event(row, actor=actor, action=AuditAction.UPDATE, changes=changed)
    return row


# ---------------------------------------------------------------- runs


def reminder_run_start(*, actor, month: datetime.date, dealer=None) -> None:
    """Start the monthly run for ``month`` (the first day of a month), for one dealer or
    every dealer: queued as the scheduled job's per-dealer jobs are (in-process when no
    broker is configured). Idempotent like the run itself: a second start adds nothing.
    Months more than a year away either side are refused."""
    from aftersales.reminders import tasks

    _require(actor, "reminders.add_reminderrun")
    today = timezone.localdate()
    lowest = datetime.date(today.year - 1, today.month, 1)
    highest = datetime.date(today.year + 1, today.month, 1)
    if month is None or not lowest <= month.replace(day=1) <= highest:
        _refuse("month", _("Choose a month within a year of today."))
    label = month.strftime("%Y-%m")

    def queue():
        if dealer is None:
            tasks.monthly_run.delay(label)
        else:
            tasks.run_for_dealer.delay(label, dealer.pk)

    transaction.on_commit(queue)
