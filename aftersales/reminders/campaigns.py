"""Service campaigns and recalls: the OEM's national campaigns and recalls, a dealer's local
campaigns (source 2-7). A campaign's target is checked before it is saved: an empty
target, an invalid one or one that matches no vehicle is refused with the reason. A recall's
VIN list is checked line by line: invalid or unknown VINs are reported with their line, the
valid lines are kept, and each recalled vehicle gets a reminder that stays open until the
work is done."""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.access import allowed_at, user_has_perm
from aftersales.core.audit import audit_create
from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.reminders.choices import CampaignScope, ReminderKind, ReminderStatus
from aftersales.reminders.models import (
    Campaign,
    Recall,
    RecallVehicle,
    Reminder,
    ReminderSettings,
)
from aftersales.reminders.schedule import month_start

FIRST_MODEL_YEAR = 1990


def _refuse(message, *, code, field_name="target"):
    raise ValidationFailed(message, code=code, fields={field_name: [message]})


def _check_permission(actor, permission, *, dealer):
    if actor is not None and not allowed_at(actor, permission, dealer=dealer):
        raise PermissionDenied()


def campaign_target_vehicles(campaign_or_target: dict, *, dealer=None):
    """The vehicles a target reaches (for the check before saving; the monthly run writes
    the reminders set-based with the same conditions)."""
    from aftersales.crm.models import DealerVehicle, ServiceVisit, Vehicle

    target = campaign_or_target
    vehicles = Vehicle.objects.filter(owner__isnull=False)
    if target.get("vehicle_models"):
        vehicles = vehicles.filter(variant__vehicle_model__in=target["vehicle_models"])
    if target.get("model_years"):
        vehicles = vehicles.filter(variant__model_year__in=target["model_years"])
    links = DealerVehicle.objects.filter(vehicle_id=OuterRef("pk"))
    if dealer is not None:
        vehicles = vehicles.filter(Exists(links.filter(dealer=dealer)))
    if target.get("regions"):
        vehicles = vehicles.filter(Exists(links.filter(dealer__region__in=target["regions"])))
    if target.get("last_visit_before"):
        recent = ServiceVisit.objects.filter(
            vehicle_id=OuterRef("pk"), visited_on__gte=target["last_visit_before"]
        )
        vehicles = vehicles.filter(~Exists(recent))
    return vehicles


def _clean_years(values) -> list[int]:
    years = []
    last = timezone.localdate().year + 2
    for value in values or []:
        try:
            year = int(str(value).strip())
        except (TypeError, ValueError):
            year = None
        if year is None or not FIRST_MODEL_YEAR <= year <= last:
            _refuse(
                _("%(value)s is not a model year (%(first)d to %(last)d).")
                % {"value": value, "first": FIRST_MODEL_YEAR, "last": last},
                code="invalid_target",
                field_name="model_years",
            )
        years.append(year)
    return sorted(set(years))


@transaction.atomic
def checked_target(
    *, dealer, starts_on, ends_on, vehicle_models, model_years, regions, last_visit_before
) -> tuple[list, list, list[int]]:
    """A campaign's dates and target as given when it is created or changed, checked:
    refused with the reason when the dates are the wrong way round or the target is empty,
    invalid (a last visit after the end, another region for a local campaign) or reaches no
    vehicle. Returns the models, the regions and the cleaned model years."""
    if not starts_on or not ends_on or ends_on < starts_on:
        _refuse(_("The campaign must end on or after its first day."), code="invalid",
                field_name="ends_on")  # fmt: skip
    vehicle_models, regions = list(vehicle_models or ()), list(regions or ())
    years = _clean_years(model_years)
    if not (vehicle_models or years or regions or last_visit_before):
        _refuse(
            _(
                "A campaign needs a target: choose models, model years, regions or a last "
                "visit date."
            ),
            code="empty_target",
        )
    if last_visit_before and last_visit_before > ends_on:
        _refuse(
            _("The last-visit date must not be after the campaign's end."),
            code="invalid_target",
            field_name="last_visit_before",
        )
    if dealer is not None and any(r.pk != dealer.region_id for r in regions):
        _refuse(
            _("A local campaign can only target the dealer's own region."),
            code="invalid_target",
            field_name="regions",
        )
    target = {
        "vehicle_models": vehicle_models,
        "model_years": years,
        "regions": regions,
        "last_visit_before": last_visit_before,
    }
    if not campaign_target_vehicles(target, dealer=dealer).exists():
        _refuse(_("The target matches no vehicle."), code="empty_target")
    return vehicle_models, regions, years


def campaign_create(
    *,
    actor,
    code: str,
    name: str,
    scope: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    dealer=None,
    vehicle_models=(),
    model_years=(),
    regions=(),
    last_visit_before: datetime.date | None = None,
    description: str = "",
) -> Campaign:
    """A national campaign (by the OEM: ``add_campaign`` at OEM level) or a local one (by a
    dealer: ``add_campaign`` there). Refused with the reason when the target is empty or
    invalid or reaches no vehicle."""
    if scope not in CampaignScope.values:
        _refuse(_("Choose national or local."), code="invalid", field_name="scope")
    if scope == CampaignScope.NATIONAL:
        dealer = None
    elif dealer is None:
        _refuse(_("A local campaign belongs to a dealer."), code="invalid", field_name="dealer")
    _check_permission(actor, "reminders.add_campaign", dealer=dealer)
    code, name = (code or "").strip().upper(), (name or "").strip()
    if not code or not name:
        _refuse(_("Give the campaign a code and a name."), code="invalid", field_name="name")
    vehicle_models, regions, years = checked_target(
        dealer=dealer,
        starts_on=starts_on,
        ends_on=ends_on,
        vehicle_models=vehicle_models,
        model_years=model_years,
        regions=regions,
        last_visit_before=last_visit_before,
    )
    campaign = Campaign(
        code=code,
        name=name,
        description=description,
        scope=scope,
        dealer=dealer,
        starts_on=starts_on,
        ends_on=ends_on,
        model_years=years,
        last_visit_before=last_visit_before,
        created_by=actor if actor is not None and actor.pk else None,
    )
    try:
        with transaction.atomic():
            campaign.save()
    except IntegrityError:
        _refuse(_("A campaign with this code exists already."), code="invalid", field_name="code")
    campaign.vehicle_models.set(vehicle_models)
    campaign.regions.set(regions)
    audit_create(campaign, actor=actor)
    return campaign


# ---------------------------------------------------------------- recalls


@dataclass
class RecallReport:
    """What became of an uploaded VIN list: the lines kept and the refused ones."""

    recall: Recall | None = None
    kept: int = 0
    reminders: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (line, text, reason)


def _chunks(items, size):
    for n in range(0, len(items), size):
        yield items[n : n + size]


@transaction.atomic
def recall_upload(
    *,
    actor,
    code: str,
    title: str,
    starts_on: datetime.date,
    vin_list: str,
    remedy: str = "",
    operation=None,
) -> RecallReport:
    """Create a recall from a VIN list (one VIN a line; blank lines skipped); ``operation``
    is the labour operation of the recall work (see ``recalls``). Invalid VINs,
    VINs of no vehicle we know and repeated lines are reported with their line number; the
    valid lines are kept. Refused when no line is valid."""
    from aftersales.crm.models import Vehicle
    from aftersales.crm.validators import normalise_vin

    if actor is not None and not (
        user_has_perm(actor, "reminders.add_recall")
        and allowed_at(actor, "reminders.add_recall", dealer=None)
    ):
        raise PermissionDenied()
    code, title = (code or "").strip().upper(), (title or "").strip()
    if not code or not title:
        _refuse(_("Give the recall a code and a title."), code="invalid", field_name="title")
    report = RecallReport()
    first_line: dict[str, int] = {}
    for number, raw in enumerate((vin_list or "").splitlines(), start=1):
        text = raw.strip()
        if not text:
            continue
        try:
            vin = normalise_vin(text)
        except DjangoValidationError as error:
            report.errors.append((number, text, " ".join(error.messages)))
            continue
        if vin in first_line:
            report.errors.append(
                (number, text, _("Listed already on line %(line)d.") % {"line": first_line[vin]})
            )
            continue
        first_line[vin] = number
    known: dict[str, int] = {}
    vins = list(first_line)
    size = max(100, (connection.features.max_query_params or 5000) - 10)
    for chunk in _chunks(vins, size):
        known.update(Vehicle.objects.filter(vin__in=chunk).values_list("vin", "id"))
    for vin, number in first_line.items():
        if vin not in known:
            report.errors.append((number, vin, _("No vehicle with this VIN is registered.")))
    report.errors.sort()
    if not known:
        raise ValidationFailed(
            _("No line of the list is a VIN of a registered vehicle."),
            code="empty_list",
            fields={"vin_list": [f"{n}: {reason}" for n, _t, reason in report.errors[:50]]},
        )
    try:
        with transaction.atomic():
            recall = Recall.objects.create(
                code=code,
                title=title,
                remedy=remedy,
                starts_on=starts_on,
                operation=operation,
                created_by=actor if actor is not None and actor.pk else None,
            )
    except IntegrityError:
        _refuse(_("A recall with this code exists already."), code="invalid", field_name="code")
    RecallVehicle.objects.bulk_create(
        [
            RecallVehicle(recall=recall, vehicle_id=vehicle_id, line=first_line[vin])
            for vin, vehicle_id in known.items()
        ],
        batch_size=2000,
    )
    report.recall, report.kept = recall, len(known)
    report.reminders = _recall_reminders(recall, list(known.values()))
    audit_create(recall, actor=actor)
    return report


def _recall_reminders(recall: Recall, vehicle_ids: list[int]) -> int:
    """One open reminder per recalled vehicle with an owner, at the dealer that serves it."""
    from aftersales.crm.models import DealerVehicle, ServiceVisit, Vehicle

    rules = ReminderSettings.current()
    now = timezone.now()
    due = max(recall.starts_on, timezone.localdate())
    last_dealer = ServiceVisit.objects.filter(vehicle_id=OuterRef("pk")).order_by(
        "-visited_on", "-id"
    )
    first_link = DealerVehicle.objects.filter(vehicle_id=OuterRef("pk")).order_by("dealer_id")
    written = 0
    size = max(100, (connection.features.max_query_params or 5000) - 10)
    for chunk in _chunks(vehicle_ids, size):
        rows = (
            Vehicle.objects.filter(pk__in=chunk, owner__isnull=False)
            .annotate(
                visit_dealer=Subquery(last_dealer.values("dealer_id")[:1]),
                link_dealer=Subquery(first_link.values("dealer_id")[:1]),
            )
            .values_list(
                "pk", "owner_id", "owner__user_id", "visit_dealer", "selling_dealer_id",
                "link_dealer",
            )
        )  # fmt: skip
        reminders = [
            Reminder(
                kind=ReminderKind.RECALL,
                month=month_start(due),
                due_date=due,
                vehicle_id=pk,
                customer_id=owner_id,
                dealer_id=visit_dealer or selling or link,
                registered=user_id is not None,
                recall=recall,
                status=ReminderStatus.OPEN,
                return_by=due + datetime.timedelta(days=rules.return_window_days),
                created_at=now,
                updated_at=now,
            )
            for pk, owner_id, user_id, visit_dealer, selling, link in rows
            if visit_dealer or selling or link
        ]
        written += len(Reminder.objects.bulk_create(reminders, ignore_conflicts=True))
    return written
