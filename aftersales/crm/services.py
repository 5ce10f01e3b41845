"""Writes to customers and vehicles: one function per business action, each atomic,
validated, audited. Views, serializers, imports and jobs call these, never ``.save()``."""

import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.access import allowed_at, user_has_perm
from aftersales.core.audit import audit_create, audit_event, audit_update, snapshot
from aftersales.core.errors import Conflict, PermissionDenied, ValidationFailed
from aftersales.core.models import AuditAction
from aftersales.crm import pii
from aftersales.crm.choices import (
    ContactChannel,
    CustomerSource,
    OdometerSource,
    OwnershipReason,
    RelationshipKind,
)
from aftersales.crm.models import (
    Customer,
    CustomerTag,
    DealerCustomer,
    DealerVehicle,
    OdometerReading,
    Ownership,
    RegistrationCode,
    ServiceVisit,
    Vehicle,
)
from aftersales.crm.validators import (
    id_birth_date,
    id_gender,
    mask_id_number,
    normalise_id_number,
    normalise_mobile,
    normalise_plate,
    normalise_vin,
)


def _stale(what):
    return Conflict(
        _(
            "Someone else changed this %(what)s after you opened it. Reload it and make your "
            "change again."
        )
        % {"what": what},
        code="stale_version",
    )


def _version(version) -> int:
    """The version the client read; a missing or garbled one is a clear 400, not a crash."""
    try:
        return int(version)
    except (TypeError, ValueError):
        raise ValidationFailed(
            fields={"version": [_("Reload the record: its version is missing.")]}
        ) from None


def _may(actor, action: str, customer: Customer) -> bool:
    """May the actor do ``action`` on the customer? A merged record lost its dealer
    relationships to the survivor, so whoever reaches the survivor is told it was merged
    (409) rather than refused (403)."""
    if actor is None:
        return True
    target = customer.merged_into_id or customer.pk
    return Customer.objects.restrict(actor, action).filter(pk=target).exists()


def _merged():
    return Conflict(_("This customer was merged into another one."), code="merged")


def acting_dealer(actor, permission, dealer=None):
    """The dealer a write happens at: the given one (checked) or the actor's home dealer.
    OEM-level staff may act with no dealer."""
    dealer = dealer or getattr(actor, "dealer", None)
    if actor is not None and not allowed_at(actor, permission, dealer=dealer):
        if dealer is None and user_has_perm(actor, permission):
            raise ValidationFailed(_("Choose the dealer this record belongs to."))
        raise PermissionDenied()
    return dealer


def _field_errors(errors: dict):
    if errors:
        raise ValidationFailed(fields=errors)


def _check(errors, field, func, value):
    try:
        return func(value)
    except DjangoValidationError as exc:
        errors[field] = exc.messages
        return None


# ---------------------------------------------------------------- customers

CUSTOMER_FIELDS = {
    "name",
    "mobile",
    "phone2",
    "id_number",
    "email",
    "city",
    "address",
    "contact_channel",
    "quiet_from",
    "quiet_until",
    "marketing_consent",
    "notes",
    "tags",
}


def _clean_customer(customer: Customer, data: dict, *, actor) -> list | None:
    """Apply ``data`` to ``customer`` after validating every field; raise one error naming
    every bad field. Returns the tag list to set (or None to leave tags alone)."""
    unknown = set(data) - CUSTOMER_FIELDS
    if unknown:
        raise ValidationFailed(fields={k: [_("This field cannot be changed.")] for k in unknown})
    errors: dict[str, list] = {}
    if "name" in data:
        name = " ".join(str(data["name"] or "").split())
        if not name:
            errors["name"] = [_("Enter the customer's name.")]
        elif len(name) > 50:
            errors["name"] = [_("A name has at most 50 characters.")]
        customer.name = name
    if "mobile" in data:
        mobile = _check(errors, "mobile", normalise_mobile, data["mobile"])
        if mobile:
            taken = Customer.objects.live().filter(mobile=mobile).exclude(pk=customer.pk)
            if taken.exists():
                errors["mobile"] = [
                    _(
                        "This mobile number already belongs to another customer. Look the "
                        "customer up by plate or VIN instead."
                    )
                ]
            customer.mobile = mobile
    if "phone2" in data:
        phone2 = "".join(str(data["phone2"] or "").split())
        try:
            # a second mobile is kept in the canonical 11 digits, so that duplicate checks
            # compare it with other customers' mobiles; a landline stays as typed
            phone2 = normalise_mobile(phone2)
        except DjangoValidationError:
            pass
        if len(phone2) > 20:
            errors["phone2"] = [_("A phone number has at most 20 characters.")]
        customer.phone2 = phone2
    if "id_number" in data:
        raw = data["id_number"]
        if raw in (None, ""):
            customer.id_number_encrypted = customer.id_number_hash = ""
            customer.id_number_masked = ""
        else:
            number = _check(errors, "id_number", normalise_id_number, raw)
            if number:
                set_id_number(customer, number)
    if "email" in data:
        email = str(data["email"] or "").strip()
        if email:
            _check(errors, "email", validate_email, email)
        customer.email = email
    for field, limit in (("city", 50), ("address", 200)):
        if field in data:
            value = str(data[field] or "").strip()
            if len(value) > limit:
                errors[field] = [_("At most %(n)d characters.") % {"n": limit}]
            setattr(customer, field, value)
    if "contact_channel" in data:
        if data["contact_channel"] not in ContactChannel.values:
            errors["contact_channel"] = [_("Choose SMS, phone call, WeChat or e-mail.")]
        customer.contact_channel = data["contact_channel"]
    for field in ("quiet_from", "quiet_until"):
        if field in data:
            value = data[field] or None
            if isinstance(value, str):
                try:
                    value = datetime.time.fromisoformat(value)
                except ValueError:
                    errors[field] = [_("Enter a time such as 21:00.")]
                    value = None
            setattr(customer, field, value)
    if bool(customer.quiet_from) != bool(customer.quiet_until):
        errors["quiet_until"] = [_("Give both ends of the quiet hours, or neither.")]
    if "marketing_consent" in data:
        consent = bool(data["marketing_consent"])
        if consent != customer.marketing_consent or customer.marketing_consent_at is None:
            customer.marketing_consent_at = timezone.now()
        customer.marketing_consent = consent
    if "notes" in data:
        customer.notes = str(data["notes"] or "")
    if customer.contact_channel == ContactChannel.EMAIL and not customer.email:
        errors["email"] = [_("Give an e-mail address when e-mail is the preferred channel.")]
    tags = None
    if "tags" in data:
        tags = _tags(data["tags"] or [], actor=actor, errors=errors)
    _field_errors(errors)
    return tags


def set_id_number(customer: Customer, number: str):
    """Store a validated resident ID number encrypted, with its lookup hash and masked
    form; the birthday and gender come from the number."""
    customer.id_number_encrypted = pii.encrypt(number)
    customer.id_number_hash = pii.blind_index(number)
    customer.id_number_masked = mask_id_number(number)
    customer.birthday = id_birth_date(number)
    customer.gender = id_gender(number)


def _tags(names, *, actor, errors) -> list:
    names = [" ".join(str(n).split()) for n in names if str(n).strip()]
    if any(len(n) > 30 for n in names):
        errors["tags"] = [_("A tag has at most 30 characters.")]
        return []
    existing = {t.name: t for t in CustomerTag.objects.filter(name__in=names)}
    missing = [n for n in names if n not in existing]
    if missing:
        if actor is not None and not user_has_perm(actor, "crm.add_customertag"):
            errors["tags"] = [_("Unknown tag: %(tag)s") % {"tag": missing[0]}]
            return []
        CustomerTag.objects.bulk_create(
            [CustomerTag(name=n) for n in dict.fromkeys(missing)], ignore_conflicts=True
        )
        existing = {t.name: t for t in CustomerTag.objects.filter(name__in=names)}
    return [existing[n] for n in dict.fromkeys(names)]


def _save_customer(customer: Customer):
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        # another request registered the same mobile a moment ago
        raise ValidationFailed(
            fields={"mobile": [_("This mobile number already belongs to another customer.")]}
        ) from None


@transaction.atomic
def customer_create(*, actor, dealer=None, source=CustomerSource.MANUAL, **data) -> Customer:
    """Register a customer at ``dealer`` (default: the actor's), which then sees them."""
    dealer = acting_dealer(actor, "crm.add_customer", dealer)
    if "name" not in data or "mobile" not in data:
        raise ValidationFailed(
            fields={f: [_("This field is required.")] for f in ("name", "mobile") if f not in data}
        )
    customer = Customer(source=source, origin_dealer=dealer)
    tags = _clean_customer(customer, data, actor=actor)
    _save_customer(customer)
    if tags:
        customer.tags.set(tags)
    if dealer is not None:
        link_customer(dealer=dealer, customer=customer, kind=RelationshipKind.REGISTERED)
    audit_create(customer, actor=actor)
    return customer


@transaction.atomic
def customer_update(*, actor, customer: Customer, version: int, **data) -> Customer:
    """Change a customer; refused with 409 if it changed since ``version`` was read."""
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if not _may(actor, "change", locked):
        raise PermissionDenied()
    if locked.merged_into_id:
        raise _merged()
    if _version(version) != locked.version:
        raise _stale(_("customer"))
    before = snapshot(locked)
    tags = _clean_customer(locked, data, actor=actor)
    locked.version += 1
    _save_customer(locked)
    if tags is not None:
        old = sorted(locked.tags.values_list("name", flat=True))
        locked.tags.set(tags)
        new = sorted(t.name for t in tags)
        if old != new:
            audit_event(
                locked, actor=actor, action=AuditAction.UPDATE, changes={"tags": [old, new]}
            )
    audit_update(locked, actor=actor, before=before)
    return locked


def customer_reveal_id_number(*, actor, customer: Customer) -> str:
    """The full resident ID number, for a role allowed to see it; every reveal is audited."""
    if not Customer.objects.restrict(actor, "reveal").filter(pk=customer.pk).exists():
        raise PermissionDenied()
    if not customer.id_number_encrypted:
        return ""
    with transaction.atomic():
        audit_event(
            customer,
            actor=actor,
            action=AuditAction.REVEAL,
            changes={"id_number": [customer.id_number_masked, "revealed"]},
        )
    return pii.decrypt(customer.id_number_encrypted)


def link_customer(*, dealer, customer: Customer, kind: str):
    """Make the customer visible to the dealer (idempotent)."""
    DealerCustomer.objects.bulk_create(
        [DealerCustomer(dealer=dealer, customer=customer, kind=kind)], ignore_conflicts=True
    )


def relationship_ensure(*, dealer, vehicle: Vehicle, kind=RelationshipKind.SERVICED):
    """The dealer now has a relationship with the vehicle and its current owner: it sold
    it, or serves it (the first repair order at a dealer calls this). Idempotent."""
    DealerVehicle.objects.bulk_create(
        [DealerVehicle(dealer=dealer, vehicle=vehicle, kind=kind)], ignore_conflicts=True
    )
    if vehicle.owner_id:
        DealerCustomer.objects.bulk_create(
            [DealerCustomer(dealer=dealer, customer_id=vehicle.owner_id, kind=kind)],
            ignore_conflicts=True,
        )


# ---------------------------------------------------------------- vehicles


def add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def term_end(start: datetime.date, years: int) -> datetime.date:
    """The last day of a term of ``years`` starting on ``start``: the day before the
    anniversary. A term starting on 29 February reaches its anniversary on 1 March of a
    common year, so it ends on 28 February and lasts the full years."""
    try:
        anniversary = start.replace(year=start.year + years)
    except ValueError:  # 29 February into a common year
        anniversary = datetime.date(start.year + years, 3, 1)
    return anniversary - datetime.timedelta(days=1)


def apply_warranty(vehicle: Vehicle):
    """Warranty runs from the invoice date (or the sale date) for the model's years and km."""
    start = vehicle.invoice_date or vehicle.sale_date
    model = vehicle.variant.vehicle_model
    vehicle.warranty_start = start
    if start is None:
        vehicle.warranty_end = vehicle.powertrain_warranty_end = None
        vehicle.warranty_km = vehicle.powertrain_warranty_km = None
        return
    vehicle.warranty_end = term_end(start, model.warranty_years)
    vehicle.warranty_km = model.warranty_km
    vehicle.powertrain_warranty_end = term_end(start, model.powertrain_years)
    vehicle.powertrain_warranty_km = model.powertrain_km


VEHICLE_FIELDS = {
    "vin",
    "plate",
    "variant",
    "colour",
    "engine_number",
    "sale_date",
    "invoice_date",
    "selling_dealer",
    "insurance_expiry",
    "last_inspection",
}


def _as_date(errors, field, value):
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        errors[field] = [_("Enter a date such as 2026-03-15.")]
        return None


def _clean_vehicle(vehicle: Vehicle, data: dict):
    from aftersales.catalogue.models import Variant

    unknown = set(data) - VEHICLE_FIELDS
    if unknown:
        raise ValidationFailed(fields={k: [_("This field cannot be changed.")] for k in unknown})
    errors: dict[str, list] = {}
    today = timezone.localdate()
    if "vin" in data:
        vin = _check(errors, "vin", normalise_vin, data["vin"])
        if vin:
            if Vehicle.objects.filter(vin=vin).exclude(pk=vehicle.pk).exists():
                errors["vin"] = [
                    _("A vehicle with this VIN is already registered; look it up by its VIN.")
                ]
            vehicle.vin = vin
    if "plate" in data:
        plate = data["plate"]
        vehicle.plate = _check(errors, "plate", normalise_plate, plate) or "" if plate else ""
    if "variant" in data:
        variant = data["variant"]
        if not isinstance(variant, Variant):
            variant = Variant.objects.filter(pk=variant).select_related("vehicle_model").first()
        if variant is None:
            errors["variant"] = [_("Choose a variant from the catalogue.")]
        else:
            vehicle.variant = variant
    for field in ("colour", "engine_number"):
        if field in data:
            value = str(data[field] or "").strip()
            limit = Vehicle._meta.get_field(field).max_length
            if len(value) > limit:
                errors[field] = [_("At most %(n)d characters.") % {"n": limit}]
            setattr(vehicle, field, value[:limit])
    for field in ("sale_date", "invoice_date", "insurance_expiry", "last_inspection"):
        if field in data:
            setattr(vehicle, field, _as_date(errors, field, data[field]))
    for field in ("sale_date", "invoice_date", "last_inspection"):
        value = getattr(vehicle, field)
        if value and value > today and field not in errors:
            errors[field] = [_("This date is in the future.")]
    if (
        vehicle.sale_date
        and vehicle.invoice_date
        and vehicle.invoice_date < vehicle.sale_date - datetime.timedelta(days=90)
        and "invoice_date" not in errors
    ):
        errors["invoice_date"] = [_("The invoice date is long before the sale date.")]
    if "selling_dealer" in data:
        vehicle.selling_dealer = data["selling_dealer"] or None
    if not vehicle.variant_id and "variant" not in errors:
        errors["variant"] = [_("Choose a variant from the catalogue.")]
    if not vehicle.vin and "vin" not in errors:
        errors["vin"] = [_("Enter the VIN.")]
    _field_errors(errors)
    apply_warranty(vehicle)


def _check_reading(vehicle: Vehicle, km: int, read_on: datetime.date):
    try:
        km = int(km)
    except (TypeError, ValueError):
        raise ValidationFailed(fields={"km": [_("Enter the odometer reading in km.")]}) from None
    if km < 0 or km > 2_000_000:
        raise ValidationFailed(fields={"km": [_("An odometer reading is 0 to 2,000,000 km.")]})
    if read_on > timezone.localdate():
        raise ValidationFailed(fields={"read_on": [_("This date is in the future.")]})
    start = vehicle.sale_date or vehicle.invoice_date
    if start and read_on < start:
        raise ValidationFailed(
            fields={
                "read_on": [_("The vehicle was sold on %(d)s, after this date.") % {"d": start}]
            }
        )
    earlier = vehicle.readings.filter(read_on__lte=read_on).order_by("-km").first()
    if earlier and km < earlier.km:
        raise ValidationFailed(
            _("%(km)s km is less than the %(prev)s km read on %(day)s: odometers do not go back.")
            % {"km": km, "prev": earlier.km, "day": earlier.read_on},
            code="odometer_rollback",
            fields={
                "km": [_("Lower than an earlier reading (%(prev)s km).") % {"prev": earlier.km}]
            },
        )
    later = vehicle.readings.filter(read_on__gt=read_on).order_by("km").first()
    if later and km > later.km:
        raise ValidationFailed(
            _("%(km)s km is more than the %(next)s km read later, on %(day)s.")
            % {"km": km, "next": later.km, "day": later.read_on},
            code="odometer_rollback",
            fields={"km": [_("Higher than a later reading (%(next)s km).") % {"next": later.km}]},
        )
    return km


@transaction.atomic
def vehicle_create(
    *,
    actor,
    owner: Customer,
    dealer=None,
    odometer_km=None,
    odometer_on=None,
    reason=OwnershipReason.NEW_SALE,
    **data,
) -> Vehicle:
    """Register a vehicle with its current owner at ``dealer``; warranty from the catalogue."""
    dealer = acting_dealer(actor, "crm.add_vehicle", dealer)
    if owner is None or owner.merged_into_id:
        raise ValidationFailed(fields={"owner": [_("Choose the owner.")]})
    if (
        actor is not None
        and not Customer.objects.restrict(actor, "view").filter(pk=owner.pk).exists()
    ):
        raise PermissionDenied()
    vehicle = Vehicle(owner=owner)
    _clean_vehicle(vehicle, data)
    try:
        with transaction.atomic():
            vehicle.save()
    except IntegrityError:
        raise ValidationFailed(
            fields={"vin": [_("A vehicle with this VIN is already registered.")]}
        ) from None
    Ownership.objects.create(
        vehicle=vehicle,
        customer=owner,
        started_on=vehicle.sale_date or vehicle.invoice_date or timezone.localdate(),
        reason=reason,
        recorded_by=actor if actor is not None and actor.pk else None,
    )
    if dealer is not None:
        kind = (
            RelationshipKind.SOLD
            if vehicle.selling_dealer_id == dealer.pk
            else RelationshipKind.REGISTERED
        )
        relationship_ensure(dealer=dealer, vehicle=vehicle, kind=kind)
    if vehicle.selling_dealer_id and vehicle.selling_dealer_id != getattr(dealer, "pk", None):
        relationship_ensure(
            dealer=vehicle.selling_dealer, vehicle=vehicle, kind=RelationshipKind.SOLD
        )
    audit_create(vehicle, actor=actor)
    if odometer_km not in (None, ""):
        odometer_record(
            actor=actor,
            vehicle=vehicle,
            km=odometer_km,
            read_on=odometer_on or vehicle.sale_date or timezone.localdate(),
            source=OdometerSource.SALE if vehicle.sale_date else OdometerSource.MANUAL,
            dealer=dealer,
        )
    return vehicle


def _locked_vehicle(actor, vehicle, action="change") -> Vehicle:
    locked = (
        Vehicle.objects.select_for_update()
        .select_related("variant__vehicle_model")
        .get(pk=vehicle.pk)
    )
    if (
        actor is not None
        and not Vehicle.objects.restrict(actor, action).filter(pk=vehicle.pk).exists()
    ):
        raise PermissionDenied()
    return locked


@transaction.atomic
def vehicle_update(*, actor, vehicle: Vehicle, version: int, **data) -> Vehicle:
    locked = _locked_vehicle(actor, vehicle)
    if _version(version) != locked.version:
        raise _stale(_("vehicle"))
    before = snapshot(locked)
    _clean_vehicle(locked, data)
    locked.version += 1
    locked.save()
    audit_update(locked, actor=actor, before=before)
    return locked


@transaction.atomic
def odometer_record(
    *, actor, vehicle: Vehicle, km, read_on=None, source=OdometerSource.MANUAL, dealer=None
) -> OdometerReading:
    """Record one odometer reading; readings never go back in time order."""
    locked = _locked_vehicle(actor, vehicle)
    errors = {}
    read_on = _as_date(errors, "read_on", read_on) if read_on else timezone.localdate()
    _field_errors(errors)
    if source not in OdometerSource.values:
        raise ValidationFailed(fields={"source": [_("Unknown source.")]})
    km = _check_reading(locked, km, read_on)
    reading = OdometerReading.objects.create(
        vehicle=locked,
        km=km,
        read_on=read_on,
        source=source,
        dealer=dealer or getattr(actor, "dealer", None),
        recorded_by=actor if actor is not None and actor.pk else None,
    )
    if locked.odometer_on is None or read_on >= locked.odometer_on:
        Vehicle.objects.filter(pk=locked.pk).update(odometer_km=km, odometer_on=read_on)
        vehicle.odometer_km, vehicle.odometer_on = km, read_on
    audit_create(reading, actor=actor)
    return reading


@transaction.atomic
def ownership_transfer(
    *,
    actor,
    vehicle: Vehicle,
    new_owner: Customer,
    on_date=None,
    reason=OwnershipReason.TRANSFER,
    version: int | None = None,
) -> Ownership:
    """The vehicle changes owner (过户): the current ownership ends, a new one starts, and
    every dealer that knows the vehicle now knows its new owner."""
    locked = _locked_vehicle(actor, vehicle)
    if version is not None and _version(version) != locked.version:
        raise _stale(_("vehicle"))
    if new_owner.merged_into_id:
        raise ValidationFailed(fields={"new_owner": [_("This customer was merged.")]})
    if (
        actor is not None
        and not Customer.objects.restrict(actor, "view").filter(pk=new_owner.pk).exists()
    ):
        raise PermissionDenied()
    if new_owner.pk == locked.owner_id:
        raise ValidationFailed(fields={"new_owner": [_("This customer already owns it.")]})
    errors = {}
    on_date = _as_date(errors, "on_date", on_date) if on_date else timezone.localdate()
    _field_errors(errors)
    current = locked.ownerships.filter(ended_on__isnull=True).first()
    if on_date > timezone.localdate():
        raise ValidationFailed(fields={"on_date": [_("This date is in the future.")]})
    if current and on_date < current.started_on:
        raise ValidationFailed(
            fields={
                "on_date": [
                    _("The current owner has owned it since %(d)s; pick a later date.")
                    % {"d": current.started_on}
                ]
            }
        )
    previous_owner = locked.owner
    if current:
        current.ended_on = on_date
        current.save(update_fields=["ended_on"])
    ownership = Ownership.objects.create(
        vehicle=locked,
        customer=new_owner,
        started_on=on_date,
        reason=reason,
        recorded_by=actor if actor is not None and actor.pk else None,
    )
    locked.owner = new_owner
    locked.version += 1
    locked.save(update_fields=["owner", "version", "updated_at"])
    DealerCustomer.objects.bulk_create(
        [
            DealerCustomer(dealer_id=d, customer=new_owner, kind=RelationshipKind.SERVICED)
            for d in locked.dealer_links.values_list("dealer_id", flat=True)
        ],
        ignore_conflicts=True,
    )
    audit_event(
        locked,
        actor=actor,
        action=AuditAction.TRANSFER,
        changes={
            "owner": [
                getattr(previous_owner, "pk", None),
                new_owner.pk,
            ],
            "on_date": [None, on_date.isoformat()],
            "reason": [None, reason],
        },
    )
    vehicle.owner, vehicle.version = new_owner, locked.version
    return ownership


# ---------------------------------------------------------------- merge

_MERGE_FILL = ("phone2", "email", "city", "address", "quiet_from", "quiet_until", "notes")


@transaction.atomic
def customer_merge(*, actor, survivor: Customer, duplicate: Customer) -> Customer:
    """Fold ``duplicate`` into ``survivor``: vehicles, ownership history, relationships,
    visits and every other app's records move to the survivor; blank fields are filled
    from the duplicate; the duplicate stays as a pointer (merged_into) for old links."""
    if survivor.pk == duplicate.pk:
        raise ValidationFailed(_("Choose two different customers."), code="merge_same")
    pair = list(
        Customer.objects.select_for_update()
        .filter(pk__in=[survivor.pk, duplicate.pk])
        .order_by("pk")
    )
    survivor, duplicate = (
        next(c for c in pair if c.pk == survivor.pk),
        next(c for c in pair if c.pk == duplicate.pk),
    )
    if not (_may(actor, "merge", survivor) and _may(actor, "merge", duplicate)):
        raise PermissionDenied()
    if survivor.merged_into_id or duplicate.merged_into_id:
        raise Conflict(_("One of these customers was already merged."), code="merged")
    if survivor.user_id and duplicate.user_id:
        raise Conflict(
            _("Both customers have an owner login; they cannot be merged automatically."),
            code="merge_two_logins",
        )
    before = snapshot(survivor)
    for field in _MERGE_FILL:
        if not getattr(survivor, field) and getattr(duplicate, field):
            setattr(survivor, field, getattr(duplicate, field))
    if not survivor.phone2 and duplicate.mobile != survivor.mobile:
        survivor.phone2 = duplicate.mobile
    if not survivor.id_number_hash and duplicate.id_number_hash:
        for field in (
            "id_number_encrypted",
            "id_number_hash",
            "id_number_masked",
            "birthday",
            "gender",
        ):
            setattr(survivor, field, getattr(duplicate, field))
    survivor.loyalty_points += duplicate.loyalty_points
    survivor.marketing_consent = survivor.marketing_consent and duplicate.marketing_consent
    moved_user = duplicate.user_id
    if moved_user:
        Customer.objects.filter(pk=duplicate.pk).update(user=None)
        survivor.user_id = moved_user
    survivor.version += 1
    survivor.save()
    survivor.tags.add(*duplicate.tags.all())

    # relationships: keep one row per dealer
    have = set(DealerCustomer.objects.filter(customer=survivor).values_list("dealer_id", flat=True))
    DealerCustomer.objects.filter(customer=duplicate, dealer_id__in=have).delete()
    DealerCustomer.objects.filter(customer=duplicate).update(customer=survivor)
    RegistrationCode.objects.filter(customer=duplicate).delete()
    moved = {"vehicles": Vehicle.objects.filter(owner=duplicate).update(owner=survivor)}
    # every other record pointing at a customer (ownership, visits, and whatever later apps
    # add: repair orders, complaints, coupons...) follows the survivor
    handled = {"dealer_links", "vehicles", "merged_from", "registrationcode", "tags"}
    # include_hidden: a later app's foreign key declared with related_name="+" must move too
    relations = [
        f
        for f in Customer._meta.get_fields(include_hidden=True)
        if f.auto_created
        and not f.concrete
        and f.one_to_many
        and not f.related_model._meta.auto_created  # many-to-many tables: tags, above
    ]
    for rel in relations:
        if rel.get_accessor_name() in handled:
            continue
        if rel.related_model is RegistrationCode or rel.related_model is Customer:
            continue
        count = rel.related_model._base_manager.filter(**{rel.field.name: duplicate}).update(
            **{rel.field.name: survivor}
        )
        if count:
            moved[rel.related_model._meta.model_name] = count
    Customer.objects.filter(merged_into=duplicate).update(merged_into=survivor)
    Customer.objects.filter(pk=duplicate.pk).update(
        merged_into=survivor, version=F("version") + 1, updated_at=timezone.now()
    )
    audit_update(survivor, actor=actor, before=before)
    audit_event(
        survivor,
        actor=actor,
        action=AuditAction.MERGE,
        changes={"merged": [duplicate.pk, survivor.pk], "moved": [None, moved]},
    )
    audit_event(
        duplicate,
        actor=actor,
        action=AuditAction.MERGE,
        changes={"merged_into": [None, survivor.pk]},
    )
    return survivor


__all__ = [
    "customer_create",
    "customer_update",
    "customer_reveal_id_number",
    "customer_merge",
    "vehicle_create",
    "vehicle_update",
    "odometer_record",
    "ownership_transfer",
    "relationship_ensure",
    "link_customer",
    "ServiceVisit",
]
