"""Reception (接车, SPEC §4 step 1) and comebacks (返修).

An advisor opens a repair order for a vehicle found by plate or VIN, records the odometer,
fuel or charge level, the customer's concern in their words, valuables, protective covers
and a walk-around check (damage marks on a car diagram, photos), then checks the car in.

Checking in (``repair_order_check_in`` or any route into ``checked_in``: the effect is
registered with ``@on_enter``) determines the vehicle's warranty, records the odometer
reading in the CRM and looks for a comeback: an earlier visit of the same vehicle, at any
dealer, delivered within the dealer's comeback window with a similar concern.

Every service here runs in one transaction, takes keyword arguments with ``actor=``, checks
the permission at the order's dealer, refuses a stale ``version`` (409 ``stale``) and writes
a timeline event; bad input changes nothing.
"""

import io
import re
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.core.access import require_at
from aftersales.core.audit import audit_create, audit_delete, audit_update, snapshot
from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.core.idempotency import once
from aftersales.core.numbering import next_number
from aftersales.workorders.choices import (
    BEFORE_WORK,
    EventKind,
    FuelLevel,
    ROKind,
    ROStatus,
)
from aftersales.workorders.events import record_event
from aftersales.workorders.models import (
    PhotoKind,
    RepairOrder,
    RepairOrderPhoto,
    ServiceSettings,
)
from aftersales.workorders.transitions import (
    bump,
    locked,
    on_enter,
    repair_order_transition,
    require,
    require_open,
)

S = ROStatus

# An order counts as "open" for the one-open-order-per-vehicle rule until it is handed
# over: a delivered order waits for the cashier but the car has left.
STILL_OPEN = set(S) - {S.DELIVERED, S.CLOSED, S.CANCELLED}
# The concern and the diagnosis may be corrected until the car is handed over.
NOTES_EDITABLE = STILL_OPEN

MARK_KINDS = {
    "scratch": gettext_lazy("Scratch"),
    "dent": gettext_lazy("Dent"),
    "crack": gettext_lazy("Crack"),
    "chip": gettext_lazy("Stone chip"),
    "other": gettext_lazy("Other damage"),
}
MAX_MARKS = 50
MAX_NOTE = 100

PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MAX_PER_ORDER = 60
PHOTO_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
PHOTO_PERMISSIONS = (
    "workorders.add_repairorder",
    "workorders.change_repairorder",
    "workorders.work_repairorder",
    "workorders.deliver_repairorder",
)
RECEPTION_PERMISSIONS = ("workorders.add_repairorder", "workorders.change_repairorder")

# Comebacks: two concerns are "similar" when the Jaccard index of their features (Chinese
# character bigrams and English words, after dropping punctuation and stop words) is at
# least this much; or when the earlier order and this one share a labour-operation category.
SIMILARITY_THRESHOLD = 0.25


class AlreadyOpen(Conflict):
    code = "already_open"


class ReceptionLocked(Conflict):
    code = "reception_locked"


# ---------------------------------------------------------------- opening


def _first_warehouse(dealer):
    from aftersales.parts.models import Warehouse

    return Warehouse.objects.filter(dealer=dealer, active=True).order_by("code", "id").first()


def open_order_of(vehicle, dealer) -> RepairOrder | None:
    """The vehicle's order at ``dealer`` that is not handed over yet, if any."""
    return (
        RepairOrder.objects.filter(vehicle=vehicle, dealer=dealer, status__in=STILL_OPEN)
        .order_by("-created_at")
        .first()
    )


def _clean_mobile(value) -> str:
    from aftersales.crm.validators import normalise_mobile

    value = (value or "").strip()
    if not value:
        return ""
    try:
        return normalise_mobile(value)
    except ValidationError as exc:
        raise ValidationFailed(exc.messages[0], fields={"contact_mobile": exc.messages}) from None


@transaction.atomic
def repair_order_open(
    *,
    actor,
    dealer,
    vehicle,
    customer=None,
    contact_name: str = "",
    contact_mobile: str = "",
    kind: str = ROKind.REPAIR,
    concern: str = "",
    advisor=None,
    idempotency_key: str = "",
) -> RepairOrder:
    """A draft repair order for ``vehicle`` at ``dealer`` (the actor is its advisor unless
    ``advisor`` is given). The dealer gets a relationship with the vehicle and its owner.
    A second open order for the same vehicle at the same dealer is refused (409
    ``already_open``, naming the open one). With ``idempotency_key``, a retry returns the
    order the first call made."""
    require_at(actor, "workorders.add_repairorder", dealer=dealer)

    def act():
        return _open(
            actor=actor,
            dealer=dealer,
            vehicle=vehicle,
            customer=customer,
            contact_name=contact_name,
            contact_mobile=contact_mobile,
            kind=kind,
            concern=concern,
            advisor=advisor,
        )

    if idempotency_key and actor is not None:
        order, _acted = once(
            user=actor,
            scope="workorders.repair_order_open",
            key=idempotency_key,
            action=act,
            model=RepairOrder,
        )
        return order
    return act()


def _open(
    *, actor, dealer, vehicle, customer, contact_name, contact_mobile, kind, concern, advisor
):
    from aftersales.crm.models import Vehicle
    from aftersales.crm.services import relationship_ensure

    # one at a time per vehicle: two advisors opening the same car wait for each other
    vehicle = Vehicle.objects.select_for_update().get(pk=vehicle.pk)
    advisor = advisor or actor
    errors = {}
    if advisor is None:
        errors["service_advisor"] = [_("Choose the service advisor.")]
    if kind not in ROKind.values:
        errors["kind"] = [_("Unknown kind of visit.")]
    if len(contact_name or "") > 50:
        errors["contact_name"] = [_("At most 50 characters.")]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    mobile = _clean_mobile(contact_mobile)
    existing = open_order_of(vehicle, dealer)
    if existing is not None:
        raise AlreadyOpen(
            _(
                "%(plate)s already has an open repair order here: %(number)s (%(status)s). "
                "Continue that one instead."
            )
            % {
                "plate": vehicle.plate or vehicle.vin,
                "number": existing.number,
                "status": existing.get_status_display(),
            },
            fields={"vehicle": [existing.number]},
        )
    if customer is None and vehicle.owner_id:
        customer = vehicle.owner
    relationship_ensure(dealer=dealer, vehicle=vehicle)
    owner = customer
    order = RepairOrder.objects.create(
        dealer=dealer,
        number=next_number(doc_type="RO", dealer=dealer),
        kind=kind,
        vehicle=vehicle,
        customer=owner,
        contact_name=(contact_name or (owner.name if owner else ""))[:50],
        contact_mobile=mobile or (getattr(owner, "mobile", "") or ""),
        service_advisor=advisor,
        warehouse=_first_warehouse(dealer),
        concern=(concern or "").strip()[:2000],
    )
    audit_create(order, actor=actor)
    record_event(
        order,
        kind=EventKind.STATUS,
        actor=actor,
        to_status=S.DRAFT,
        message=_("Repair order opened"),
    )
    return order


# ---------------------------------------------------------------- reception data


def last_known_km(vehicle) -> int | None:
    """The highest odometer reading known for the vehicle (its record and its readings)."""
    from aftersales.crm.models import OdometerReading

    highest = OdometerReading.objects.filter(vehicle_id=vehicle.pk).aggregate(m=Max("km"))["m"]
    values = [v for v in (vehicle.odometer_km, highest) if v is not None]
    return max(values) if values else None


def odometer_warning(order, known: int | None = None) -> str:
    """The warning shown while the reading is lower than the vehicle's last one."""
    if not order.odometer_suspect:
        return ""
    known = known if known is not None else last_known_km(order.vehicle)
    return _(
        "%(km)s km is lower than the last known reading (%(known)s km): possible tampering "
        "or a replaced instrument cluster. Give a reason to check the car in."
    ) % {"km": order.odometer_km, "known": known}


def clean_walkaround(value) -> list[dict]:
    """The damage marks, strictly: a list of at most 50 ``{x, y, kind, note}`` with x and y
    percentages of the diagram (0-100) and a known kind."""
    if value in (None, ""):
        return []
    if not isinstance(value, list | tuple):
        raise ValidationFailed(
            _("The walk-around marks must be a list."),
            fields={"walkaround": [_("Not a list of marks.")]},
        )
    if len(value) > MAX_MARKS:
        raise ValidationFailed(
            _("At most %(n)d damage marks.") % {"n": MAX_MARKS},
            fields={"walkaround": [_("At most %(n)d damage marks.") % {"n": MAX_MARKS}]},
        )
    marks = []
    for number, mark in enumerate(value, start=1):
        problem = _mark_problem(mark)
        if problem:
            message = _("Mark %(n)d: %(problem)s") % {"n": number, "problem": problem}
            raise ValidationFailed(message, fields={"walkaround": [message]})
        marks.append(
            {
                "x": round(float(mark["x"]), 1),
                "y": round(float(mark["y"]), 1),
                "kind": mark["kind"],
                "note": str(mark.get("note") or "").strip(),
            }
        )
    return marks


def _mark_problem(mark) -> str:
    if not isinstance(mark, dict):
        return _("not a mark.")
    unknown = set(mark) - {"x", "y", "kind", "note"}
    if unknown:
        return _("unknown field %(field)s.") % {"field": sorted(unknown)[0]}
    for axis in ("x", "y"):
        value = mark.get(axis)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return _("%(axis)s must be a number.") % {"axis": axis}
        if not (0 <= value <= 100) or value != value:
            return _("%(axis)s must be between 0 and 100.") % {"axis": axis}
    if mark.get("kind") not in MARK_KINDS:
        return _("unknown kind of damage.")
    note = mark.get("note", "")
    if note is not None and not isinstance(note, str):
        return _("the note must be text.")
    if len(note or "") > MAX_NOTE:
        return _("the note has at most %(n)d characters.") % {"n": MAX_NOTE}
    return ""


def _text(errors, field, value, limit):
    value = "" if value is None else str(value).strip()
    if len(value) > limit:
        errors[field] = [_("At most %(n)d characters.") % {"n": limit}]
    return value


def _odometer(errors, value):
    if value in (None, ""):
        return None
    try:
        km = int(str(value).replace(",", "").strip())
    except (TypeError, ValueError):
        errors["odometer_km"] = [_("Enter the odometer reading in km.")]
        return None
    if km < 0 or km > 2_000_000:
        errors["odometer_km"] = [_("An odometer reading is 0 to 2,000,000 km.")]
        return None
    return km


def _bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes")
    return bool(value)


RECEPTION_FIELDS = (
    "odometer_km",
    "odometer_reason",
    "fuel_level",
    "concern",
    "diagnosis",
    "valuables",
    "covers_installed",
    "walkaround",
    "walkaround_note",
    "contact_name",
    "contact_mobile",
    "kind",
)


@transaction.atomic
def reception_update(*, actor, repair_order, version, **fields) -> RepairOrder:
    """Change the reception data (``RECEPTION_FIELDS``) of an order before work starts;
    the concern and the diagnosis may be corrected until the car is handed over, the
    odometer only until check-in (the reading then goes to the vehicle's history).

    A reading lower than the vehicle's last known one is kept but flagged
    (``odometer_suspect``): the returned order's ``warnings`` say so, and checking in then
    needs ``odometer_reason``."""
    unknown = set(fields) - set(RECEPTION_FIELDS)
    if unknown:
        raise ValidationFailed(
            _("Unknown field %(field)s.") % {"field": sorted(unknown)[0]},
            fields={f: [_("Unknown field.")] for f in unknown},
        )
    order = locked(repair_order, version=version)
    require(actor, order, *RECEPTION_PERMISSIONS)
    require_open(order)
    notes_only = set(fields) <= {"concern", "diagnosis"}
    if order.status not in BEFORE_WORK and not (notes_only and order.status in NOTES_EDITABLE):
        raise ReceptionLocked(
            _(
                "Repair order %(number)s is %(status)s: the reception data cannot change "
                "any more (the concern and the diagnosis until delivery)."
            )
            % {"number": order.number, "status": order.get_status_display()}
        )
    if "odometer_km" in fields and order.status != S.DRAFT:
        km = _odometer({}, fields["odometer_km"])
        if km != order.odometer_km:
            raise ReceptionLocked(
                _("The odometer was recorded at check-in; it cannot change any more."),
                fields={"odometer_km": [_("Recorded at check-in.")]},
            )
    before = snapshot(order)
    errors: dict[str, list] = {}
    values = {}
    if "odometer_km" in fields:
        values["odometer_km"] = _odometer(errors, fields["odometer_km"])
    if "odometer_reason" in fields:
        values["odometer_reason"] = _text(errors, "odometer_reason", fields["odometer_reason"], 200)
    if "fuel_level" in fields:
        level = "" if fields["fuel_level"] is None else str(fields["fuel_level"]).strip()
        if level not in FuelLevel.values and level != "":
            errors["fuel_level"] = [_("Choose one of the fuel levels.")]
        values["fuel_level"] = level
    for field, limit in (
        ("concern", 2000),
        ("diagnosis", 2000),
        ("valuables", 200),
        ("walkaround_note", 300),
        ("contact_name", 50),
    ):
        if field in fields:
            values[field] = _text(errors, field, fields[field], limit)
    if "covers_installed" in fields:
        values["covers_installed"] = _bool(fields["covers_installed"])
    if "kind" in fields:
        if fields["kind"] not in ROKind.values:
            errors["kind"] = [_("Unknown kind of visit.")]
        values["kind"] = fields["kind"]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    if "contact_mobile" in fields:
        values["contact_mobile"] = _clean_mobile(fields["contact_mobile"])
    if "walkaround" in fields:
        values["walkaround"] = clean_walkaround(fields["walkaround"])

    changed = [f for f, v in values.items() if getattr(order, f) != v]
    for field in changed:
        setattr(order, field, values[field])
    warnings = []
    if "odometer_km" in changed:
        known = last_known_km(order.vehicle)
        suspect = order.odometer_km is not None and known is not None and order.odometer_km < known
        if suspect != order.odometer_suspect:
            order.odometer_suspect = suspect
            changed.append("odometer_suspect")
        if not suspect and order.odometer_reason:
            order.odometer_reason = ""
            changed.append("odometer_reason")
        if suspect:
            warnings.append(odometer_warning(order, known))
            record_event(
                order,
                kind=EventKind.NOTE,
                actor=actor,
                message=_("Odometer %(km)s km is lower than the last known %(known)s km")
                % {"km": order.odometer_km, "known": known},
                data={"odometer_km": order.odometer_km, "last_known_km": known},
            )
    if changed:
        bump(order, *dict.fromkeys(changed))
        audit_update(order, actor=actor, before=before)
        if "walkaround" in changed:
            record_event(
                order,
                kind=EventKind.NOTE,
                actor=actor,
                message=_("Walk-around: %(n)d damage marks") % {"n": len(order.walkaround)},
                data={"marks": len(order.walkaround)},
            )
    order.warnings = warnings
    return order


# ---------------------------------------------------------------- photos


def _image(upload) -> tuple[bytes, str, str]:
    """The upload's bytes when they are a JPEG, PNG or WebP image (checked by decoding, not
    by the name or the declared type), with its content type and file extension."""
    from PIL import Image, UnidentifiedImageError

    size = getattr(upload, "size", None)
    if size is not None and size > PHOTO_MAX_BYTES:
        raise _too_big()
    data = upload.read(PHOTO_MAX_BYTES + 1)
    if len(data) > PHOTO_MAX_BYTES:
        raise _too_big()
    if not data:
        raise ValidationFailed(_("The file is empty."), fields={"image": [_("The file is empty.")]})
    try:
        with Image.open(io.BytesIO(data)) as image:
            found = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        found = None
    if found not in PHOTO_FORMATS:
        message = _("Only JPEG, PNG or WebP photos can be uploaded; this file is not one.")
        raise ValidationFailed(message, code="not_an_image", fields={"image": [message]})
    content_type, extension = PHOTO_FORMATS[found]
    return data, content_type, extension


def _too_big():
    message = _("A photo may be at most %(mb)d MB.") % {"mb": PHOTO_MAX_BYTES // (1024 * 1024)}
    return ValidationFailed(message, code="too_large", fields={"image": [message]})


@transaction.atomic
def photo_add(
    *, actor, repair_order, upload, kind=PhotoKind.WALKAROUND, caption=""
) -> RepairOrderPhoto:
    """Attach a photo to an open order. Only real images are kept; they are served only
    through the access-checked ``ro-photo`` view."""
    order = locked(repair_order)
    require(actor, order, *PHOTO_PERMISSIONS)
    require_open(order)
    if kind not in PhotoKind.values:
        raise ValidationFailed(
            _("Unknown kind of photo."), fields={"kind": [_("Unknown kind of photo.")]}
        )
    caption = (caption or "").strip()
    if len(caption) > 200:
        raise ValidationFailed(
            _("At most %(n)d characters.") % {"n": 200},
            fields={"caption": [_("At most %(n)d characters.") % {"n": 200}]},
        )
    if order.photos.count() >= PHOTO_MAX_PER_ORDER:
        raise Conflict(
            _("A repair order holds at most %(n)d photos.") % {"n": PHOTO_MAX_PER_ORDER},
            code="too_many_photos",
        )
    data, content_type, extension = _image(upload)
    photo = RepairOrderPhoto(
        repair_order=order,
        kind=kind,
        content_type=content_type,
        caption=caption,
        uploaded_by=actor,
    )
    photo.image.save(
        f"{order.number}-{uuid.uuid4().hex[:12]}.{extension}", ContentFile(data), save=False
    )
    photo.save()
    record_event(
        order,
        kind=EventKind.PHOTO,
        actor=actor,
        message=_("Photo added: %(kind)s") % {"kind": photo.get_kind_display()},
        data={"photo": photo.pk, "kind": kind},
    )
    audit_create(photo, actor=actor)
    return photo


@transaction.atomic
def photo_remove(*, actor, photo) -> None:
    """Remove a photo from an open order (the file goes once the removal is committed)."""
    order = locked(photo.repair_order_id)
    require(actor, order, *PHOTO_PERMISSIONS)
    require_open(order)
    photo = RepairOrderPhoto.objects.get(pk=photo.pk, repair_order=order)
    storage, name = photo.image.storage, photo.image.name
    audit_delete(photo, actor=actor)
    photo.delete()
    record_event(
        order,
        kind=EventKind.PHOTO,
        actor=actor,
        message=_("Photo removed"),
        data={"photo": photo.pk, "name": name},
    )
    transaction.on_commit(lambda: storage.delete(name))


# ---------------------------------------------------------------- check-in


@transaction.atomic
def repair_order_check_in(*, actor, repair_order, version) -> RepairOrder:
    """Check the car in: the step's guard needs the reception data (and a reason for a
    lower odometer); entering ``checked_in`` sets the warranty, records the odometer and
    looks for a comeback (``_on_check_in``)."""
    return repair_order_transition(
        repair_order=repair_order, to=S.CHECKED_IN, actor=actor, version=version
    )


@on_enter(S.CHECKED_IN)
def _on_check_in(order, actor, from_status):
    changed = []
    determination = _vehicle_warranty(order)
    if determination is not None:
        order.warranty_status = str(determination.status or "")
        order.warranty_reason = str(determination.reason or "")[:300]
        changed += ["warranty_status", "warranty_reason"]
    _record_odometer(order, actor)
    earlier = find_comeback(order)
    if earlier is not None and order.comeback_of_id is None:
        order.comeback_of = earlier
        changed.append("comeback_of")
        record_event(
            order,
            kind=EventKind.NOTE,
            actor=actor,
            message=_("Comeback of %(number)s") % {"number": earlier.number},
            data={"comeback_of": earlier.pk, "automatic": True},
        )
    if changed:
        bump(order, *changed)


def _vehicle_warranty(order):
    from aftersales.workorders import warranty

    determine = getattr(warranty, "vehicle_warranty", None)
    if determine is None:  # the warranty module is not there yet
        return None
    return determine(
        order.vehicle, odometer_km=order.odometer_km, odometer_suspect=order.odometer_suspect
    )


def _record_odometer(order, actor):
    """The reading goes to the vehicle's history. A reading lower than a known one is not
    recorded there (the CRM refuses readings that go back): the order keeps it, flagged,
    with the advisor's reason, and the timeline says so."""
    from aftersales.crm.choices import OdometerSource
    from aftersales.crm.services import odometer_record
    from aftersales.org.models import Dealer

    if order.odometer_km is None:
        return
    vehicle = order.vehicle
    known = last_known_km(vehicle)
    if order.odometer_suspect or (known is not None and order.odometer_km < known):
        record_event(
            order,
            kind=EventKind.NOTE,
            actor=actor,
            message=_(
                "Odometer %(km)s km kept on the order only (lower than %(known)s km): %(reason)s"
            )
            % {"km": order.odometer_km, "known": known, "reason": order.odometer_reason},
            data={"odometer_km": order.odometer_km, "last_known_km": known, "suspect": True},
        )
        return
    if (
        known is not None
        and order.odometer_km == known
        and vehicle.odometer_on == timezone.localdate()
    ):
        return  # read today already
    odometer_record(
        actor=actor,
        vehicle=vehicle,
        km=order.odometer_km,
        source=OdometerSource.RECEPTION,
        dealer=Dealer.objects.get(pk=order.dealer_id),
    )


# ---------------------------------------------------------------- comebacks

_PUNCTUATION = re.compile(r"[^\w\u4e00-\u9fff]+")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_WORD = re.compile(r"[a-z0-9]+")
# particles and filler that say nothing about the fault
STOP_CHARS = set(
    "的了吗呢吧啊呀哦么着过很也就都又还再和与及或我你他她它这那个些有是在会要说感觉时候总一直点"
)
STOP_WORDS = {
    "the", "a", "an", "and", "or", "of", "to", "in", "on", "at", "is", "it", "its", "my",
    "car", "when", "with", "there", "some", "again", "still", "from", "for", "be", "has",
    "have", "was", "are", "very", "sometimes", "customer", "says",
}  # fmt: skip


def concern_features(text: str) -> set[str]:
    """What a concern is compared by: the bigrams of its Chinese characters and its English
    words (a trailing plural ``s`` dropped), without punctuation and stop words."""
    text = (text or "").lower()
    features = set()
    for run in _CJK_RUN.findall(text):
        chars = [c for c in run if c not in STOP_CHARS]
        if len(chars) == 1:
            features.add(chars[0])
        features.update(a + b for a, b in zip(chars, chars[1:], strict=False))
    for word in _WORD.findall(_PUNCTUATION.sub(" ", text)):
        if len(word) < 3 or word in STOP_WORDS:
            continue
        if word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        features.add(word)
    return features


def concern_similarity(a: str, b: str) -> float:
    """Jaccard index of the two concerns' features (0 to 1)."""
    fa, fb = concern_features(a), concern_features(b)
    if not fa or not fb:
        return 0.0
    return len(fa & fb) / len(fa | fb)


def _categories(order) -> set[str]:
    return set(
        order.lines.filter(operation__isnull=False)
        .exclude(operation__category__in=("maintenance",))
        .values_list("operation__category", flat=True)
    )


@dataclass(frozen=True)
class ComebackMatch:
    order: RepairOrder
    similarity: float
    shared_categories: frozenset


def comeback_candidates(order, *, now=None) -> list[RepairOrder]:
    """The vehicle's orders (at any dealer: a comeback counts for the OEM too) delivered or
    closed within the order's dealer's comeback window before this order."""
    days = ServiceSettings.for_dealer(order.dealer_id).comeback_days or 30
    reference = order.created_at or now or timezone.now()
    since = reference - timezone.timedelta(days=days)
    handed_over = Q(delivered_at__gte=since, delivered_at__lte=reference) | Q(
        delivered_at__isnull=True, closed_at__gte=since, closed_at__lte=reference
    )
    return list(
        RepairOrder.objects.filter(vehicle_id=order.vehicle_id, status__in=(S.DELIVERED, S.CLOSED))
        .exclude(pk=order.pk)
        .filter(handed_over)
        .select_related("dealer")
        .order_by("-delivered_at", "-closed_at", "-id")
    )


def find_comeback(order) -> RepairOrder | None:
    """The earlier visit this order is a comeback of: the latest candidate whose concern
    (or diagnosis) is similar to this one's (``SIMILARITY_THRESHOLD``) or that shares a
    labour-operation category (other than maintenance) with this order's lines."""
    candidates = comeback_candidates(order)
    if not candidates:
        return None
    mine = _categories(order) if order.pk else set()
    for earlier in candidates:
        similarity = max(
            concern_similarity(order.concern, earlier.concern),
            concern_similarity(order.concern, earlier.diagnosis),
        )
        if similarity >= SIMILARITY_THRESHOLD or (mine and mine & _categories(earlier)):
            return earlier
    return None


@transaction.atomic
def repair_order_set_comeback(*, actor, repair_order, version, comeback_of=None) -> RepairOrder:
    """The advisor confirms, corrects or clears the comeback link. The earlier order must
    be an earlier visit of the same vehicle (at any dealer)."""
    order = locked(repair_order, version=version)
    require(actor, order, *RECEPTION_PERMISSIONS)
    require_open(order)
    earlier = None
    if comeback_of not in (None, ""):
        earlier_id = getattr(comeback_of, "pk", comeback_of)
        earlier = (
            RepairOrder.objects.filter(vehicle_id=order.vehicle_id, created_at__lt=order.created_at)
            .exclude(pk=order.pk)
            .filter(
                Q(pk=earlier_id) if str(earlier_id).isdigit() else Q(number=str(earlier_id).strip())
            )
            .first()
        )
        if earlier is None:
            message = _("Choose an earlier repair order of the same vehicle.")
            raise ValidationFailed(message, fields={"comeback_of": [message]})
    if (earlier.pk if earlier else None) == order.comeback_of_id:
        return order
    before = snapshot(order)
    order.comeback_of = earlier
    bump(order, "comeback_of")
    audit_update(order, actor=actor, before=before)
    record_event(
        order,
        kind=EventKind.NOTE,
        actor=actor,
        message=(
            _("Comeback of %(number)s (set by the advisor)") % {"number": earlier.number}
            if earlier
            else _("Not a comeback (cleared by the advisor)")
        ),
        data={"comeback_of": earlier.pk if earlier else None, "automatic": False},
    )
    return order
