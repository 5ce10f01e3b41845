"""Every write of a warranty claim (ARCHITECTURE rule 1 and 2).

``claim_create`` turns the warranty lines of a repair order into a draft claim;
``claim_update`` edits a draft; ``claim_transition`` is the one status change (row lock,
version check, transition table, permission at the claim's dealer, data guard, stamps,
timeline event, audit row); ``claim_photo_add`` and ``claim_line_return`` add evidence and
follow the failed parts. A refused change raises a coded error and changes nothing.

Money: each line's amount is hours × rate or quantity × unit price, rounded ROUND_HALF_UP
to 0.01; the claim's totals are the sums of its lines.
"""

import io
import uuid
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.billing.money import money, parse_money  # ROUND_HALF_UP to 0.01, every claim amount
from aftersales.claims.choices import (
    EDITABLE,
    PHOTOS_OPEN,
    RETURN_PERMISSION,
    RETURN_STEPS,
    STEP_PERMISSION,
    TRANSITIONS,
    ClaimEventKind,
    ClaimLineKind,
    ClaimStatus,
    ReturnStatus,
)
from aftersales.claims.models import (
    CauseCode,
    ClaimEvent,
    ClaimLine,
    ClaimPhoto,
    SymptomCode,
    WarrantyClaim,
)
from aftersales.core import versioning
from aftersales.core.access import allowed_at
from aftersales.core.audit import audit_create, audit_event, audit_update, snapshot
from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from aftersales.core.models import AuditAction
from aftersales.core.numbering import next_number
from aftersales.parts.models import Part

S = ClaimStatus
ZERO = Decimal("0")
PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MAX_PER_CLAIM = 30
PHOTO_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}


class IllegalTransition(Conflict):
    code = "illegal_transition"


StaleVersion = versioning.StaleVersion


class MissingFields(Conflict):
    """The claim lacks data the OEM needs: ``fields`` names every one."""

    code = "missing_fields"


class GuardRefused(Conflict):
    code = "guard_failed"


def _dealer(claim):
    from aftersales.org.models import Dealer

    return Dealer(pk=claim.dealer_id)


def may(actor, permission: str, claim: WarrantyClaim) -> bool:
    return allowed_at(actor, permission, dealer=_dealer(claim))


def _require(actor, claim, permission):
    if not may(actor, permission, claim):
        raise PermissionDenied()


def _actor_label(actor) -> str:
    if actor is None:
        return "system"
    return str(actor)


def record_event(
    claim, *, kind, actor, message="", note="", from_status="", to_status="", data=None
):
    """Append a step to the claim's timeline (``message`` as written, in the actor's
    language; ``note`` is what they typed)."""
    return ClaimEvent.objects.create(
        claim=claim,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=_actor_label(actor),
        message=str(message)[:300],
        note=note or "",
        from_status=from_status,
        to_status=to_status,
        data=data or {},
    )


def locked(claim, *, version=None) -> WarrantyClaim:
    """The claim re-read under a row lock; with ``version`` (what the client last saw) a
    change saved by someone else in the meantime is refused with ``stale`` (409)."""
    return versioning.locked_row(
        WarrantyClaim.objects,
        claim,
        version=version,
        stale_message=lambda row: (
            _(
                "Claim %(number)s was changed by someone else in the meantime. "
                "Reload it and make your change again."
            )
            % {"number": row.number}
        ),
    )


def _bump(claim, *fields):
    claim.version = F("version") + 1
    claim.save(update_fields=[*fields, "version", "updated_at"])
    claim.refresh_from_db(fields=["version"])


def recompute_totals(claim) -> None:
    """Claimed labour, parts and total from the lines (already rounded per line)."""
    labour = parts = ZERO
    for kind, amount in claim.lines.values_list("kind", "amount"):
        if kind == ClaimLineKind.LABOUR:
            labour += amount
        else:
            parts += amount
    claim.claimed_labour, claim.claimed_parts = labour, parts
    claim.claimed_total = labour + parts


# ---------------------------------------------------------------- create from an RO

# The repair order must be at least in progress (or delivered / closed): warranty work that
# was never started cannot be claimed.
CLAIMABLE_RO = {
    "in_progress",
    "waiting_parts",
    "paused",
    "self_checked",
    "qc_passed",
    "qc_failed",
    "rework",
    "ready",
    "delivered",
    "closed",
}


def warranty_lines(repair_order):
    from aftersales.workorders.choices import Approval, LineKind, PayType

    return (
        repair_order.lines.filter(
            pay_type=PayType.WARRANTY, kind__in=[LineKind.LABOUR, LineKind.PART]
        )
        .filter(approval=Approval.APPROVED)  # what was done, as the invoice bills it
        .select_related("operation", "part")
        .order_by("position", "id")
    )


def open_claim_of(repair_order):
    return (
        WarrantyClaim.objects.filter(repair_order=repair_order).exclude(status=S.REJECTED).first()
    )


def _claim_lines(claim, ro_lines) -> list[ClaimLine]:
    from aftersales.workorders.choices import LineKind

    lines = []
    for position, ro_line in enumerate(ro_lines, start=1):
        if ro_line.kind == LineKind.LABOUR:
            hours = ro_line.quantity
            lines.append(
                ClaimLine(
                    claim=claim,
                    kind=ClaimLineKind.LABOUR,
                    position=position,
                    ro_line=ro_line,
                    operation=ro_line.operation,
                    description=ro_line.description,
                    hours=hours,
                    rate=ro_line.unit_price,
                    amount=money(hours * ro_line.unit_price),
                )
            )
        else:
            lines.append(
                ClaimLine(
                    claim=claim,
                    kind=ClaimLineKind.PART,
                    position=position,
                    ro_line=ro_line,
                    part=ro_line.part,
                    description=ro_line.description,
                    quantity=ro_line.quantity,
                    unit_price=ro_line.unit_price,
                    amount=money(ro_line.quantity * ro_line.unit_price),
                    return_status=ReturnStatus.TO_RETURN,
                )
            )
    return lines


@transaction.atomic
def claim_create(*, actor, repair_order) -> WarrantyClaim:
    """A draft claim from the warranty lines of ``repair_order``, with the VIN, odometer,
    failure date (the check-in day), description and causal part (the first warranty part)
    filled in from the order. One open claim per order: a second one is refused."""
    from aftersales.workorders.models import RepairOrder

    order = (
        RepairOrder.objects.select_for_update(of=("self",))
        .select_related("vehicle", "dealer")
        .get(pk=repair_order.pk)
    )
    if not allowed_at(actor, "claims.add_warrantyclaim", dealer=order.dealer):
        raise PermissionDenied()
    if order.status not in CLAIMABLE_RO:
        raise GuardRefused(
            _(
                "Repair order %(number)s is %(status)s: a claim can be made once the work "
                "has started."
            )
            % {"number": order.number, "status": order.get_status_display()},
            code="ro_not_started",
        )
    existing = open_claim_of(order)
    if existing is not None:
        raise Conflict(
            _("Repair order %(number)s already has claim %(claim)s.")
            % {"number": order.number, "claim": existing.number},
            code="claim_exists",
            fields={"repair_order": [existing.number]},
        )
    ro_lines = list(warranty_lines(order))
    if not ro_lines:
        raise GuardRefused(
            _("Repair order %(number)s has no warranty lines to claim.") % {"number": order.number},
            code="no_warranty_lines",
        )
    causal = next((line.part for line in ro_lines if line.part_id), None)
    failure_at = order.checked_in_at or order.created_at
    description = "\n".join(t for t in (order.concern.strip(), order.diagnosis.strip()) if t)
    claim = WarrantyClaim(
        dealer=order.dealer,
        number=next_number(doc_type="WC", dealer=order.dealer),
        repair_order=order,
        vehicle=order.vehicle,
        vin=order.vehicle.vin or "",
        odometer_km=order.odometer_km,
        failure_date=timezone.localtime(failure_at).date() if failure_at else None,
        causal_part=causal,
        description=description,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    try:
        with transaction.atomic():
            claim.save()
    except IntegrityError:
        raise Conflict(
            _("Repair order %(number)s already has an open claim.") % {"number": order.number},
            code="claim_exists",
        ) from None
    ClaimLine.objects.bulk_create(_claim_lines(claim, ro_lines))
    recompute_totals(claim)
    claim.save(update_fields=["claimed_labour", "claimed_parts", "claimed_total"])
    record_event(
        claim,
        kind=ClaimEventKind.CREATED,
        actor=actor,
        message=_("Claim created from repair order %(number)s") % {"number": order.number},
        to_status=S.DRAFT,
        data={"lines": len(ro_lines)},
    )
    audit_create(claim, actor=actor)
    return claim


# ---------------------------------------------------------------- edit a draft

EDITABLE_FIELDS = (
    "vin",
    "odometer_km",
    "failure_date",
    "causal_part",
    "symptom_code",
    "cause_code",
    "description",
)


def _check_fields(changes: dict) -> dict:
    errors = {}
    if "vin" in changes:
        from aftersales.crm.validators import normalise_vin

        vin = (changes["vin"] or "").strip().upper()
        if vin:
            try:
                vin = normalise_vin(vin)
            except DjangoValidationError as exc:  # its message names the problem
                errors["vin"] = [str(m) for m in exc.messages]
        changes["vin"] = vin
    if "odometer_km" in changes and changes["odometer_km"] is not None:
        try:
            value = int(changes["odometer_km"])
            if value < 0:
                raise ValueError
            changes["odometer_km"] = value
        except (TypeError, ValueError):
            errors["odometer_km"] = [_("Enter a whole number of kilometres.")]
    if changes.get("failure_date") and changes["failure_date"] > timezone.localdate():
        errors["failure_date"] = [_("The failure date cannot be in the future.")]
    part = changes.get("causal_part")
    if part is not None and not isinstance(part, Part):
        found = Part.objects.filter(number__iexact=str(part).strip()).first()
        if found is None:
            errors["causal_part"] = [_("Unknown part number.")]
        changes["causal_part"] = found
    for name, model in (("symptom_code", SymptomCode), ("cause_code", CauseCode)):
        code = changes.get(name)
        if code is not None and not isinstance(code, model):
            found = model.objects.filter(code=str(code).strip(), active=True).first()
            if found is None:
                errors[name] = [_("Unknown code.")]
            changes[name] = found
    return errors


@transaction.atomic
def claim_update(*, actor, claim, version=None, **changes) -> WarrantyClaim:
    """Change the data of a draft claim (the fields of ``EDITABLE_FIELDS``)."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(
            fields={name: [_("This field cannot be changed.")] for name in unknown}
        )
    row = locked(claim, version=version)
    _require(actor, row, "claims.change_warrantyclaim")
    if row.status not in EDITABLE:
        raise Conflict(
            _("Claim %(number)s is %(status)s: only a draft can be edited.")
            % {"number": row.number, "status": row.get_status_display()},
            code="not_editable",
        )
    errors = _check_fields(changes)
    if errors:
        raise ValidationFailed(fields=errors)
    before = snapshot(row)
    for name, value in changes.items():
        setattr(row, name, value if value is not None or name != "description" else "")
    _bump(row, *changes)
    audit = audit_update(row, actor=actor, before=before)
    if audit is not None:
        record_event(
            row,
            kind=ClaimEventKind.EDITED,
            actor=actor,
            message=_("Claim data changed"),
            data={"fields": sorted(audit.changes)},
        )
    return row


# ---------------------------------------------------------------- the state machine


def missing_fields(claim) -> dict[str, list[str]]:
    """What the OEM needs and the claim lacks, field by field (translated)."""
    missing = {}
    if not (claim.vin or "").strip():
        missing["vin"] = [_("Enter the VIN.")]
    if claim.odometer_km is None:
        missing["odometer_km"] = [_("Enter the odometer reading.")]
    if claim.failure_date is None:
        missing["failure_date"] = [_("Enter the failure date.")]
    if claim.causal_part_id is None:
        missing["causal_part"] = [_("Choose the causal part.")]
    if claim.symptom_code_id is None:
        missing["symptom_code"] = [_("Choose the symptom code.")]
    if claim.cause_code_id is None:
        missing["cause_code"] = [_("Choose the cause code.")]
    if not claim.lines.exists():
        missing["lines"] = [_("Add at least one labour or part line.")]
    return missing


def _field_labels(names) -> str:
    labels = {
        "vin": _("VIN"),
        "odometer_km": _("odometer (km)"),
        "failure_date": _("failure date"),
        "causal_part": _("causal part"),
        "symptom_code": _("symptom code"),
        "cause_code": _("cause code"),
        "lines": _("lines"),
    }
    return ", ".join(str(labels.get(n, n)) for n in names)


def _amount(value, field) -> Decimal | None:
    """An amount the OEM types (approved, paid): empty is None; zero is allowed."""
    if value is None or str(value).strip() == "":
        return None
    amount = parse_money(value, field=field, positive=False)
    if amount < 0:
        raise ValidationFailed(fields={field: [_("Enter an amount, e.g. 1200.00.")]})
    return amount


def _need_note(note, field="note"):
    if not note:
        raise ValidationFailed(
            _("A note is required for this step."),
            code="note_required",
            fields={field: [_("This field is required.")]},
        )


@transaction.atomic
def claim_transition(
    *,
    actor,
    claim,
    to: str,
    version=None,
    note: str = "",
    approved_amount=None,
    paid_amount=None,
    payment_reference: str = "",
) -> WarrantyClaim:
    """Move the claim to ``to``. Dealer side: submit (all required data present) and
    resubmit (with an answer). OEM side: ask for information (a question), approve (an
    amount up to the claimed total; a reason when less), reject (a reason), settle (the
    paid amount)."""
    row = locked(claim, version=version)
    source = row.status
    if to not in TRANSITIONS.get(source, ()):  # unknown targets land here too
        raise IllegalTransition(
            _("A claim cannot go from %(from)s to %(to)s.")
            % {"from": row.get_status_display(), "to": dict(S.choices).get(to, to)}
        )
    _require(actor, row, STEP_PERMISSION[to])
    note = (note or "").strip()
    now = timezone.now()
    fields = ["status"]
    data = {}
    if to in (S.SUBMITTED, S.RESUBMITTED):
        missing = missing_fields(row)
        if missing:
            raise MissingFields(
                _("The claim cannot be submitted; missing: %(fields)s.")
                % {"fields": _field_labels(missing)},
                fields=missing,
            )
    if to == S.SUBMITTED:
        if row.submitted_at is None:
            row.submitted_at = now
            fields.append("submitted_at")
    elif to == S.RESUBMITTED:
        _need_note(note)
        row.dealer_answer, row.resubmitted_at = note, now
        fields += ["dealer_answer", "resubmitted_at"]
    elif to == S.INFO_REQUESTED:
        _need_note(note)
        row.info_request, row.info_requested_at, row.reviewer = note, now, actor
        fields += ["info_request", "info_requested_at", "reviewer"]
    elif to == S.APPROVED:
        amount = _amount(approved_amount, "approved_amount")
        amount = row.claimed_total if amount is None else amount
        if amount > row.claimed_total:
            raise ValidationFailed(
                _("The approved amount cannot be more than the claimed %(total)s.")
                % {"total": row.claimed_total},
                code="over_claimed",
                fields={"approved_amount": [_("At most the claimed total.")]},
            )
        if amount <= 0:
            raise ValidationFailed(
                _("Approve an amount above zero, or reject the claim."),
                fields={"approved_amount": [_("Must be more than zero.")]},
            )
        if amount < row.claimed_total and not note:
            raise ValidationFailed(
                _("Give a reason for approving less than claimed."),
                code="reason_required",
                fields={"note": [_("This field is required.")]},
            )
        row.approved_amount, row.decision_reason = amount, note
        row.decided_at, row.reviewer = now, actor
        fields += ["approved_amount", "decision_reason", "decided_at", "reviewer"]
        data = {"approved_amount": str(amount), "claimed_total": str(row.claimed_total)}
    elif to == S.REJECTED:
        if not note:
            raise ValidationFailed(
                _("Give a reason for rejecting the claim."),
                code="reason_required",
                fields={"note": [_("This field is required.")]},
            )
        row.decision_reason, row.decided_at, row.reviewer = note, now, actor
        fields += ["decision_reason", "decided_at", "reviewer"]
    elif to == S.SETTLED:
        amount = _amount(paid_amount, "paid_amount")
        if amount is None or amount <= 0:
            raise ValidationFailed(
                _("Enter the amount the OEM paid."),
                fields={"paid_amount": [_("This field is required.")]},
            )
        if amount > row.approved_amount:
            raise ValidationFailed(
                _("The paid amount cannot be more than the approved %(amount)s.")
                % {"amount": row.approved_amount},
                code="over_approved",
                fields={"paid_amount": [_("At most the approved amount.")]},
            )
        row.paid_amount, row.settled_at = amount, now
        row.payment_reference = (payment_reference or "").strip()[:60]
        fields += ["paid_amount", "settled_at", "payment_reference"]
        data = {"paid_amount": str(amount)}
    row.status = to
    _bump(row, *fields)
    record_event(
        row,
        kind=ClaimEventKind.STATUS,
        actor=actor,
        message=_("%(from)s → %(to)s") % {"from": S(source).label, "to": S(to).label},
        note=note,
        from_status=source,
        to_status=to,
        data=data,
    )
    audit_event(
        row,
        actor=actor,
        action=AuditAction.UPDATE,
        changes={"status": [source, to], **{k: [None, v] for k, v in data.items()}},
    )
    return row


# ---------------------------------------------------------------- photos


def _image(upload) -> tuple[bytes, str, str]:
    """The upload's bytes if they decode as a JPEG, PNG or WebP image (the content is
    checked with Pillow, not the name or the declared type)."""
    from PIL import Image, UnidentifiedImageError

    size = getattr(upload, "size", None)
    if size is not None and size > PHOTO_MAX_BYTES:
        raise _too_big()
    data = upload.read(PHOTO_MAX_BYTES + 1)
    if len(data) > PHOTO_MAX_BYTES:
        raise _too_big()
    found = None
    if data:
        try:
            with Image.open(io.BytesIO(data)) as image:
                found = image.format
                image.verify()
        except (
            UnidentifiedImageError,
            OSError,
            SyntaxError,
            ValueError,
            Image.DecompressionBombError,
        ):
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
def claim_photo_add(
    *, actor, claim, upload=None, ro_photos=(), caption: str = ""
) -> list[ClaimPhoto]:
    """Attach evidence while the claim is a draft or the OEM asked for more: an uploaded
    image and/or photos already taken on the repair order (each referenced once)."""
    row = locked(claim)
    if not (
        may(actor, "claims.change_warrantyclaim", row)
        or may(actor, "claims.submit_warrantyclaim", row)
    ):
        raise PermissionDenied()
    if row.status not in PHOTOS_OPEN:
        raise Conflict(
            _("Photos can be added to a draft or when the OEM asks for more information."),
            code="not_editable",
        )
    caption = (caption or "").strip()
    if len(caption) > 200:
        raise ValidationFailed(fields={"caption": [_("At most %(n)d characters.") % {"n": 200}]})
    if upload is None and not ro_photos:
        raise ValidationFailed(
            _("Choose an image or a photo of the repair order."),
            fields={"image": [_("This field is required.")]},
        )
    from aftersales.workorders.models import RepairOrderPhoto

    ids = list(dict.fromkeys(getattr(p, "pk", p) for p in ro_photos))
    found = list(RepairOrderPhoto.objects.filter(pk__in=ids, repair_order_id=row.repair_order_id))
    if len(found) != len(ids):
        raise ValidationFailed(
            fields={"repair_order_photos": [_("Not a photo of this claim's repair order.")]}
        )
    already = set(row.photos.filter(ro_photo__in=found).values_list("ro_photo_id", flat=True))
    new = [p for p in found if p.pk not in already]
    if row.photos.count() + len(new) + (upload is not None) > PHOTO_MAX_PER_CLAIM:
        raise Conflict(
            _("A claim holds at most %(n)d photos.") % {"n": PHOTO_MAX_PER_CLAIM},
            code="too_many_photos",
        )
    made = []
    if upload is not None:
        data, content_type, extension = _image(upload)
        photo = ClaimPhoto(claim=row, content_type=content_type, caption=caption, uploaded_by=actor)
        photo.image.save(
            f"{row.number}-{uuid.uuid4().hex[:12]}.{extension}", ContentFile(data), save=False
        )
        photo.save()
        made.append(photo)
    for ro_photo in new:
        made.append(
            ClaimPhoto.objects.create(
                claim=row,
                ro_photo=ro_photo,
                content_type=ro_photo.content_type,
                caption=caption or ro_photo.caption,
                uploaded_by=actor,
            )
        )
    if made:
        record_event(
            row,
            kind=ClaimEventKind.PHOTO,
            actor=actor,
            message=_("%(n)d photo(s) added") % {"n": len(made)},
            data={"photos": [p.pk for p in made]},
        )
        for photo in made:
            audit_create(photo, actor=actor)
    return made


# ---------------------------------------------------------------- old-part return


@transaction.atomic
def claim_line_return(*, actor, line, to: str, note: str = "") -> ClaimLine:
    """Move a part line's failed part along: the dealer ships it, the OEM receives it or
    tells the dealer to scrap it. Only once the claim has been submitted."""
    row = locked(line.claim_id)
    line = ClaimLine.objects.select_for_update(of=("self",)).filter(pk=line.pk, claim=row).first()
    if line is None or line.kind != ClaimLineKind.PART:
        raise NotFound()
    if to not in RETURN_STEPS.get(line.return_status, ()):
        raise Conflict(
            _("The old part cannot go from %(from)s to %(to)s.")
            % {
                "from": line.get_return_status_display() or "—",
                "to": dict(ReturnStatus.choices).get(to, to),
            },
            code="illegal_return_step",
        )
    _require(actor, row, RETURN_PERMISSION[to])
    if row.status == S.DRAFT:
        raise Conflict(_("Submit the claim before sending old parts."), code="not_submitted")
    source = line.return_status
    line.return_status, line.return_updated_at = to, timezone.now()
    line.save(update_fields=["return_status", "return_updated_at"])
    record_event(
        row,
        kind=ClaimEventKind.RETURN,
        actor=actor,
        message=_("Old part %(part)s: %(status)s")
        % {"part": line.description, "status": line.get_return_status_display()},
        note=(note or "").strip(),
        data={"line": line.pk, "from": source, "to": to},
    )
    audit_event(
        line, actor=actor, action=AuditAction.UPDATE, changes={"return_status": [source, to]}
    )
    return line
