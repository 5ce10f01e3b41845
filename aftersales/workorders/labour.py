"""The labour catalogue and the dealer's workshop set-up.

Look-ups used when pricing a repair order: ``standard_hours`` (the variant's standard time,
else the model's, else the operation's default), ``labour_rate`` (the dealer's price of an
hour for a pay type) and ``packages_for`` (the maintenance packages offered at a reading).

Services (every write): the OEM's labour operations, standard times and maintenance
packages (OEM-level permissions), and each dealer's labour rates, work bays and service
settings (permissions held at that dealer). Each is atomic, checks the permission, validates
before writing and leaves an audit row.
"""

import datetime
import re
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from aftersales.core.access import require_at
from aftersales.core.audit import (
    audit_create,
    audit_delete,
    audit_event,
    audit_update,
    snapshot,
)
from aftersales.core.errors import ValidationFailed
from aftersales.core.models import AuditAction
from aftersales.workorders.choices import BayKind, OperationCategory, PayType, WarrantyScope
from aftersales.workorders.models import (
    LabourOperation,
    LabourRate,
    LabourTime,
    MaintenancePackage,
    PackageOperation,
    PackagePart,
    ServiceSettings,
    WorkshopBay,
)

# A package whose interval is within this distance of the reading (at a multiple of the
# interval) is the one offered first.
PACKAGE_MATCH_KM = 1_000
MAX_HOURS = Decimal("999.99")
MAX_RATE = Decimal("99999.99")
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_.\-]{0,19}$")
BAY_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_.\-]{0,9}$")
# ServiceSettings limits
FOLLOW_UP_DUE_MIN_HOURS = 24
FOLLOW_UP_DUE_MAX_HOURS = 7 * 24
COMEBACK_DAYS_MAX = 365
FOLLOW_UP_ATTEMPTS_MAX = 10

ZERO = Decimal("0")
CENT = Decimal("0.01")


# ------------------------------------------------------------------ look-ups


def standard_hours(operation, variant) -> Decimal:
    """The standard hours of ``operation`` on ``variant``: the variant's own time, else its
    model's, else the operation's default. One query."""
    return standard_hours_of([operation], variant)[operation.pk]


def standard_hours_of(operations, variant) -> dict:
    """``{operation id: standard hours}`` of ``operations`` on ``variant`` (as
    ``standard_hours``), in one query whatever their number."""
    found = {op.pk: {} for op in operations}
    if variant is not None and found:
        rows = LabourTime.objects.filter(
            Q(variant_id=variant.pk) | Q(vehicle_model_id=variant.vehicle_model_id, variant=None),
            operation_id__in=list(found),
        ).values_list("operation_id", "variant_id", "hours")
        for operation_id, variant_id, hours in rows:
            found[operation_id][variant_id] = hours
    result = {}
    for op in operations:
        times = found[op.pk]
        if variant is not None and variant.pk in times:
            result[op.pk] = times[variant.pk]
        elif None in times:
            result[op.pk] = times[None]
        else:
            result[op.pk] = op.default_hours
    return result


def labour_rate(dealer, pay_type) -> Decimal:
    """The dealer's price of one labour hour for ``pay_type``; a dealer without one cannot
    price the line: ValidationFailed naming the pay type."""
    rate = (
        LabourRate.objects.filter(dealer_id=dealer.pk, pay_type=pay_type)
        .values_list("rate", flat=True)
        .first()
    )
    if rate is None:
        label = PayType(pay_type).label if pay_type in PayType.values else pay_type
        raise ValidationFailed(
            _("%(dealer)s has no labour rate for the pay type %(pay_type)s.")
            % {"dealer": getattr(dealer, "name", dealer), "pay_type": label},
            code="no_labour_rate",
            fields={"pay_type": [_("No labour rate set for this pay type.")]},
        )
    return rate


def _km_off(interval_km, odometer_km) -> int | None:
    """How far the reading is from the nearest service point (a multiple of the interval)."""
    if not interval_km or odometer_km is None:
        return None
    n = max(1, round(odometer_km / interval_km))
    return abs(odometer_km - n * interval_km)


def package_matches(package, odometer_km) -> bool:
    off = _km_off(package.interval_km, odometer_km)
    return off is not None and off <= PACKAGE_MATCH_KM


def packages_for(vehicle, odometer_km) -> list[MaintenancePackage]:
    """The active packages for the vehicle's model or for every model. The package whose
    interval matches the reading comes first (the longest interval first: at 40,000 km the
    40,000 km service before the 10,000 km one), then the rest by interval."""
    model_id = vehicle.variant.vehicle_model_id
    packages = list(
        MaintenancePackage.objects.filter(
            Q(vehicle_model_id=model_id) | Q(vehicle_model=None), active=True
        )
    )

    def key(p):
        match = package_matches(p, odometer_km)
        return (
            not match,
            -(p.interval_km or 0) if match else (p.interval_km or 10**9),
            p.vehicle_model_id is None,
            p.code,
        )

    return sorted(packages, key=key)


# ------------------------------------------------------------------ validation helpers


def _invalid(message, field):
    return ValidationFailed(message, fields={field: [message]})


def _decimal(value, field, *, low, high, label) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, TypeError, ValueError):
        raise _invalid(_("%(label)s must be a number.") % {"label": label}, field) from None
    if not number.is_finite() or number < low or number > high:
        raise _invalid(
            _("%(label)s must be between %(low)s and %(high)s.")
            % {"label": label, "low": low, "high": high},
            field,
        )
    if number != number.quantize(CENT):
        raise _invalid(_("%(label)s has at most 2 decimals.") % {"label": label}, field)
    return number.quantize(CENT)


def _hours(value, field="hours") -> Decimal:
    return _decimal(value, field, low=CENT, high=MAX_HOURS, label=_("Standard hours"))


def _text(value, field, *, max_length, required=True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise _invalid(_("This field is required."), field)
    if len(value) > max_length:
        raise _invalid(_("At most %(n)s characters.") % {"n": max_length}, field)
    return value


def _choice(value, choices, field):
    if value not in choices.values:
        raise _invalid(_("%(value)s is not a valid choice.") % {"value": value}, field)
    return value


def _int(value, field, *, low, high, label, required=True) -> int | None:
    if value in (None, ""):
        if required:
            raise _invalid(_("This field is required."), field)
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _invalid(_("%(label)s must be a whole number.") % {"label": label}, field) from None
    if number < low or number > high:
        raise _invalid(
            _("%(label)s must be between %(low)s and %(high)s.")
            % {"label": label, "low": low, "high": high},
            field,
        )
    return number


def _catalogue_perm(actor, action, model):
    require_at(actor, f"workorders.{action}_{model}")


# ------------------------------------------------------------------ labour operations

_OPERATION_FIELDS = ("name", "name_en", "category", "warranty_scope", "default_hours", "active")


def _operation_values(data: dict) -> dict:
    clean = {}
    if "name" in data:
        clean["name"] = _text(data["name"], "name", max_length=100)
    if "name_en" in data:
        clean["name_en"] = _text(data["name_en"], "name_en", max_length=100, required=False)
    if "category" in data:
        clean["category"] = _choice(data["category"], OperationCategory, "category")
    if "warranty_scope" in data:
        clean["warranty_scope"] = _choice(data["warranty_scope"], WarrantyScope, "warranty_scope")
    if "default_hours" in data:
        clean["default_hours"] = _hours(data["default_hours"], "default_hours")
    if "active" in data:
        clean["active"] = bool(data["active"])
    return clean


@transaction.atomic
def labour_operation_create(
    *,
    actor,
    code: str,
    name: str,
    category: str,
    default_hours,
    name_en: str = "",
    warranty_scope: str = WarrantyScope.VEHICLE,
    active: bool = True,
) -> LabourOperation:
    _catalogue_perm(actor, "add", "labouroperation")
    code = (code or "").strip().upper()
    if not CODE_RE.match(code):
        raise _invalid(
            _("An operation code has 1 to 20 capital letters, digits, '-', '_' or '.'."), "code"
        )
    values = _operation_values(
        {
            "name": name,
            "name_en": name_en,
            "category": category,
            "warranty_scope": warranty_scope,
            "default_hours": default_hours,
            "active": active,
        }
    )
    if LabourOperation.objects.filter(code=code).exists():
        raise _invalid(_("Operation code %(code)s already exists.") % {"code": code}, "code")
    operation = LabourOperation.objects.create(code=code, **values)
    audit_create(operation, actor=actor)
    return operation


@transaction.atomic
def labour_operation_update(*, actor, operation: LabourOperation, **changes) -> LabourOperation:
    """Change the name, category, warranty scope, default hours or active flag (the code
    never changes: printed orders and claims refer to it)."""
    _catalogue_perm(actor, "change", "labouroperation")
    unknown = set(changes) - set(_OPERATION_FIELDS)
    if unknown:
        field = sorted(unknown)[0]
        raise _invalid(_("%(field)s cannot be changed.") % {"field": field}, field)
    values = _operation_values(changes)
    operation = LabourOperation.objects.select_for_update().get(pk=operation.pk)
    before = snapshot(operation)
    for field, value in values.items():
        setattr(operation, field, value)
    if values:
        operation.save(update_fields=list(values))
    audit_update(operation, actor=actor, before=before)
    return operation


@transaction.atomic
def labour_time_set(*, actor, operation, vehicle_model, variant=None, hours) -> LabourTime:
    """Set the standard hours of an operation on a model (``variant=None``) or one of its
    variants; setting it again replaces the hours."""
    _catalogue_perm(actor, "change", "labouroperation")
    hours = _hours(hours)
    if variant is not None and variant.vehicle_model_id != vehicle_model.pk:
        raise _invalid(
            _("The variant %(variant)s is not a variant of %(model)s.")
            % {"variant": variant.code, "model": vehicle_model.name},
            "variant",
        )
    rows = LabourTime.objects.select_for_update().filter(
        operation=operation, vehicle_model=vehicle_model, variant=variant
    )
    found = rows.first()
    if found is None:
        try:
            with transaction.atomic():
                time = LabourTime.objects.create(
                    operation=operation, vehicle_model=vehicle_model, variant=variant, hours=hours
                )
        except IntegrityError:  # a concurrent request created it first: change that one
            found = rows.get()
        else:
            audit_create(time, actor=actor)
            return time
    before = snapshot(found)
    found.hours = hours
    found.save(update_fields=["hours"])
    audit_update(found, actor=actor, before=before)
    return found


@transaction.atomic
def labour_time_remove(*, actor, labour_time: LabourTime) -> None:
    _catalogue_perm(actor, "change", "labouroperation")
    audit_delete(labour_time, actor=actor)
    labour_time.delete()


# ------------------------------------------------------------------ maintenance packages

_PACKAGE_FIELDS = (
    "name",
    "name_en",
    "vehicle_model",
    "interval_km",
    "interval_months",
    "active",
)


def _package_values(data: dict) -> dict:
    clean = {}
    if "name" in data:
        clean["name"] = _text(data["name"], "name", max_length=100)
    if "name_en" in data:
        clean["name_en"] = _text(data["name_en"], "name_en", max_length=100, required=False)
    if "vehicle_model" in data:
        clean["vehicle_model"] = data["vehicle_model"]
    if "interval_km" in data:
        clean["interval_km"] = _int(
            data["interval_km"],
            "interval_km",
            low=100,
            high=1_000_000,
            label=_("Interval (km)"),
            required=False,
        )
    if "interval_months" in data:
        clean["interval_months"] = _int(
            data["interval_months"],
            "interval_months",
            low=1,
            high=240,
            label=_("Interval (months)"),
            required=False,
        )
    if "active" in data:
        clean["active"] = bool(data["active"])
    return clean


def _package_parts(parts) -> list[tuple]:
    """``parts``: (Part, quantity) pairs; each part once, quantity > 0."""
    seen, clean = set(), []
    for part, quantity in parts:
        if part.pk in seen:
            raise _invalid(_("Part %(number)s is listed twice.") % {"number": part.number}, "parts")
        seen.add(part.pk)
        clean.append(
            (
                part,
                _decimal(quantity, "parts", low=CENT, high=Decimal("9999"), label=_("Quantity")),
            )
        )
    return clean


def _package_operations(operations) -> list:
    seen, clean = set(), []
    for operation in operations:
        if operation.pk in seen:
            raise _invalid(
                _("Operation %(code)s is listed twice.") % {"code": operation.code}, "operations"
            )
        seen.add(operation.pk)
        clean.append(operation)
    return clean


def _write_contents(package, operations, parts):
    if operations is not None:
        package.operations.all().delete()
        PackageOperation.objects.bulk_create(
            [PackageOperation(package=package, operation=op) for op in operations]
        )
    if parts is not None:
        package.parts.all().delete()
        PackagePart.objects.bulk_create(
            [PackagePart(package=package, part=part, quantity=qty) for part, qty in parts]
        )


def _contents(package) -> dict:
    return {
        "operations": sorted(package.operations.values_list("operation__code", flat=True)),
        "parts": sorted(
            f"{number}×{qty}"
            for number, qty in package.parts.values_list("part__number", "quantity")
        ),
    }


@transaction.atomic
def package_create(
    *,
    actor,
    code: str,
    name: str,
    name_en: str = "",
    vehicle_model=None,
    interval_km=None,
    interval_months=None,
    active: bool = True,
    operations=(),
    parts=(),
) -> MaintenancePackage:
    """A maintenance package with its operations and (part, quantity) pairs."""
    _catalogue_perm(actor, "add", "maintenancepackage")
    code = (code or "").strip().upper()
    if not CODE_RE.match(code):
        raise _invalid(
            _("A package code has 1 to 20 capital letters, digits, '-', '_' or '.'."), "code"
        )
    values = _package_values(
        {
            "name": name,
            "name_en": name_en,
            "vehicle_model": vehicle_model,
            "interval_km": interval_km,
            "interval_months": interval_months,
            "active": active,
        }
    )
    operations = _package_operations(operations)
    parts = _package_parts(parts)
    if MaintenancePackage.objects.filter(code=code).exists():
        raise _invalid(_("Package code %(code)s already exists.") % {"code": code}, "code")
    package = MaintenancePackage.objects.create(code=code, **values)
    _write_contents(package, operations, parts)
    audit_create(package, actor=actor)
    audit_event(package, actor=actor, action=AuditAction.UPDATE, changes=_contents(package))
    return package


@transaction.atomic
def package_update(
    *, actor, package: MaintenancePackage, operations=None, parts=None, **changes
) -> MaintenancePackage:
    """Change the package's fields; ``operations`` / ``parts`` given replace the lists."""
    _catalogue_perm(actor, "change", "maintenancepackage")
    unknown = set(changes) - set(_PACKAGE_FIELDS)
    if unknown:
        field = sorted(unknown)[0]
        raise _invalid(_("%(field)s cannot be changed.") % {"field": field}, field)
    values = _package_values(changes)
    operations = _package_operations(operations) if operations is not None else None
    parts = _package_parts(parts) if parts is not None else None
    package = MaintenancePackage.objects.select_for_update().get(pk=package.pk)
    before, contents = snapshot(package), _contents(package)
    for field, value in values.items():
        setattr(package, field, value)
    if values:
        package.save(update_fields=list(values))
    _write_contents(package, operations, parts)
    audit_update(package, actor=actor, before=before)
    after = _contents(package)
    if after != contents:
        audit_event(
            package,
            actor=actor,
            action=AuditAction.UPDATE,
            changes={k: [contents[k], after[k]] for k in after if after[k] != contents[k]},
        )
    return package


# ------------------------------------------------------------------ dealer set-up


@transaction.atomic
def labour_rate_set(*, actor, dealer, pay_type, rate) -> LabourRate:
    """Set the dealer's price of one labour hour for ``pay_type``."""
    require_at(actor, "workorders.change_labourrate", dealer=dealer)
    pay_type = _choice(pay_type, PayType, "pay_type")
    rate = _decimal(rate, "rate", low=ZERO, high=MAX_RATE, label=_("Labour rate"))
    rows = LabourRate.objects.select_for_update().filter(dealer=dealer, pay_type=pay_type)
    found = rows.first()
    if found is None:
        try:
            with transaction.atomic():
                created = LabourRate.objects.create(dealer=dealer, pay_type=pay_type, rate=rate)
        except IntegrityError:  # a concurrent request created it first: change that one
            found = rows.get()
        else:
            audit_create(created, actor=actor)
            return created
    before = snapshot(found)
    found.rate = rate
    found.save(update_fields=["rate"])
    audit_update(found, actor=actor, before=before)
    return found


@transaction.atomic
def bay_create(*, actor, dealer, code: str, name: str, kind: str = BayKind.GENERAL) -> WorkshopBay:
    require_at(actor, "workorders.add_workshopbay", dealer=dealer)
    code = (code or "").strip().upper()
    if not BAY_CODE_RE.match(code):
        raise _invalid(
            _("A bay code has 1 to 10 capital letters, digits, '-', '_' or '.'."), "code"
        )
    name = _text(name, "name", max_length=40)
    kind = _choice(kind, BayKind, "kind")
    if WorkshopBay.objects.filter(dealer=dealer, code=code).exists():
        raise _invalid(_("Bay %(code)s already exists at this dealer.") % {"code": code}, "code")
    bay = WorkshopBay.objects.create(dealer=dealer, code=code, name=name, kind=kind)
    audit_create(bay, actor=actor)
    return bay


@transaction.atomic
def bay_update(*, actor, bay: WorkshopBay, name=None, kind=None, active=None) -> WorkshopBay:
    require_at(actor, "workorders.change_workshopbay", dealer=bay.dealer)
    values = {}
    if name is not None:
        values["name"] = _text(name, "name", max_length=40)
    if kind is not None:
        values["kind"] = _choice(kind, BayKind, "kind")
    if active is not None:
        values["active"] = bool(active)
    bay = WorkshopBay.objects.select_for_update().get(pk=bay.pk)
    before = snapshot(bay)
    for field, value in values.items():
        setattr(bay, field, value)
    if values:
        bay.save(update_fields=list(values))
    audit_update(bay, actor=actor, before=before)
    return bay


_SETTINGS_FIELDS = (
    "follow_up_after_hours",
    "follow_up_due_hours",
    "follow_up_attempts",
    "low_score",
    "comeback_days",
    "workday_start",
    "workday_end",
)


@transaction.atomic
def service_settings_update(*, actor, dealer, **changes) -> ServiceSettings:
    """Change the dealer's follow-up timing, comeback window and working day. The
    follow-up is due 24 hours to 7 days after delivery and not before it opens; the
    comeback window is 1 to 365 days; the workshop opens before it closes."""
    require_at(actor, "workorders.change_servicesettings", dealer=dealer)
    unknown = set(changes) - set(_SETTINGS_FIELDS)
    if unknown:
        field = sorted(unknown)[0]
        raise _invalid(_("%(field)s cannot be changed.") % {"field": field}, field)
    settings = ServiceSettings.objects.select_for_update().filter(dealer=dealer).first()
    created = settings is None
    if created:
        settings = ServiceSettings(dealer=dealer)
    before = snapshot(settings)
    for field, value in changes.items():
        setattr(settings, field, value)
    s = settings
    s.follow_up_after_hours = _int(
        s.follow_up_after_hours,
        "follow_up_after_hours",
        low=0,
        high=FOLLOW_UP_DUE_MAX_HOURS,
        label=_("Follow-up opens after (hours)"),
    )
    s.follow_up_due_hours = _int(
        s.follow_up_due_hours,
        "follow_up_due_hours",
        low=FOLLOW_UP_DUE_MIN_HOURS,
        high=FOLLOW_UP_DUE_MAX_HOURS,
        label=_("Follow-up due within (hours)"),
    )
    if s.follow_up_due_hours < s.follow_up_after_hours:
        raise _invalid(
            _("The follow-up cannot be due before it opens (%(hours)s hours after delivery).")
            % {"hours": s.follow_up_after_hours},
            "follow_up_due_hours",
        )
    s.follow_up_attempts = _int(
        s.follow_up_attempts,
        "follow_up_attempts",
        low=1,
        high=FOLLOW_UP_ATTEMPTS_MAX,
        label=_("Call attempts"),
    )
    s.low_score = _int(s.low_score, "low_score", low=1, high=5, label=_("Low score"))
    s.comeback_days = _int(
        s.comeback_days,
        "comeback_days",
        low=1,
        high=COMEBACK_DAYS_MAX,
        label=_("Comeback window (days)"),
    )
    s.workday_start, s.workday_end = (
        _time(s.workday_start, "workday_start"),
        _time(s.workday_end, "workday_end"),
    )
    if s.workday_start >= s.workday_end:
        raise _invalid(_("The workshop must open before it closes."), "workday_end")
    s.save()
    if created:
        audit_create(s, actor=actor)
    else:
        audit_update(s, actor=actor, before=before)
    return s


def _time(value, field):
    if isinstance(value, datetime.time):
        return value
    try:
        return datetime.time.fromisoformat(str(value).strip())
    except ValueError:
        raise _invalid(_("Enter a time like 08:30."), field) from None
