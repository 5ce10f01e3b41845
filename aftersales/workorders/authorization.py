"""Authorization (客户签字, SPEC §4 step 6, issue 5 item 6): the customer signs the repair
order on screen (the drawn signature is stored as a PNG) or on paper (the signed copy is
kept, optionally scanned); the estimate's lines become approved and the order goes to
``approved`` through the transition table (work cannot start before: the ``in_progress``
guard asks for the signature).

Additional work found during the repair is added as additional lines; each one needs the
customer's own decision (``line_decide``): at the counter, by phone (the staff member who
called is recorded with the customer's name) or on the owner's link. Declined lines stay on
the order as declined recommendations for later follow-up (``declined_recommendations``).
"""

from __future__ import annotations

import io

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.workorders.choices import (
    Approval,
    ApprovalChannel,
    EventKind,
    ROStatus,
    SignatureKind,
)
from aftersales.workorders.estimate import BEFORE_SIGNING, estimate_totals
from aftersales.workorders.events import record_event
from aftersales.workorders.models import RepairOrder, RepairOrderLine
from aftersales.workorders.transitions import (
    GuardRefused,
    bump,
    locked,
    refusals,
    repair_order_transition,
    require,
    require_open,
    transition_locked,
)

S = ROStatus
AUTHORIZE = "workorders.authorize_repairorder"
MAX_SIGNATURE_BYTES = 512 * 1024  # a drawn signature is a few kB
MAX_SCAN_BYTES = 8 * 1024 * 1024  # a photo or scan of the signed paper
MAX_PIXELS = 4000 * 4000
SIGNABLE = {S.ESTIMATED, S.AWAITING_APPROVAL}
DECISION_CHANNELS = {ApprovalChannel.COUNTER, ApprovalChannel.PHONE, ApprovalChannel.PORTAL}
# additional lines may still be decided until the car is handed over
DECIDABLE = set(S) - {S.DELIVERED, S.CLOSED, S.CANCELLED}


class AlreadyDecided(Conflict):
    code = "already_decided"


class NotSignable(Conflict):
    code = "not_signable"


def _invalid(message, field="signature", code="invalid_signature"):
    raise ValidationFailed(message, code=code, fields={field: [message]})


def check_signature_png(data: bytes) -> None:
    """A drawn signature: a real PNG, not too big, with something drawn on it (some
    non-transparent pixels that are not all one colour)."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        _invalid(_("Ask the customer to sign in the box first."))
    if len(data) > MAX_SIGNATURE_BYTES:
        _invalid(_("The signature image is too large (at most 512 kB)."))
    try:
        image = Image.open(io.BytesIO(data))
        if image.format != "PNG":
            _invalid(_("The signature must be a PNG image."))
        if image.width * image.height > MAX_PIXELS:
            _invalid(_("The signature image is too large."))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        _invalid(_("The signature is not a readable PNG image."))
    rgba = image.convert("RGBA")
    alpha_low, alpha_high = rgba.getchannel("A").getextrema()
    if alpha_high == 0:
        _invalid(_("The signature is empty: ask the customer to sign in the box."))
    # fully opaque and one colour everywhere: a blank canvas with a background
    if alpha_low == 255 and all(low == high for low, high in rgba.convert("RGB").getextrema()):
        _invalid(_("The signature is empty: ask the customer to sign in the box."))


def check_scan(data: bytes) -> str:
    """A scan or photo of the signed paper: PNG or JPEG. Returns the file extension."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_SCAN_BYTES:
        _invalid(_("The scan is too large (at most 8 MB)."), "scan", "invalid_scan")
    try:
        image = Image.open(io.BytesIO(data))
        kind = image.format
        if image.width * image.height > MAX_PIXELS * 4:
            _invalid(_("The scan is too large."), "scan", "invalid_scan")
        image.verify()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        _invalid(_("The scan is not a readable image."), "scan", "invalid_scan")
    if kind not in ("PNG", "JPEG"):
        _invalid(_("The scan must be a PNG or JPEG image."), "scan", "invalid_scan")
    return "png" if kind == "PNG" else "jpg"


@transaction.atomic
def repair_order_send_for_approval(*, actor, repair_order, version) -> RepairOrder:
    """Show the estimate to the customer: estimated → awaiting approval."""
    return repair_order_transition(
        repair_order=repair_order, to=S.AWAITING_APPROVAL, actor=actor, version=version
    )


@transaction.atomic
def repair_order_sign(
    *,
    actor,
    repair_order,
    version,
    kind: str,
    signed_by_name: str,
    signature_png: bytes | None = None,
) -> RepairOrder:
    """Record the customer's signature and approve the order (see the module docstring).
    From ``estimated`` the order may go straight to ``approved`` (the customer signs at
    the counter)."""
    order = locked(repair_order, version=version)
    require(actor, order, AUTHORIZE)
    require_open(order)
    if order.status not in SIGNABLE:
        raise NotSignable(
            _("Repair order %(number)s is %(status)s: there is no estimate to sign now.")
            % {"number": order.number, "status": order.get_status_display()}
        )
    name = str(signed_by_name or "").strip()[:50]
    if not name:
        _invalid(_("Write the name of the person who signs."), "signed_by_name", "missing_data")
    if kind == SignatureKind.SCREEN:
        check_signature_png(signature_png or b"")
        extension = "png"
    elif kind == SignatureKind.PAPER:
        extension = check_scan(signature_png) if signature_png else ""
    else:
        _invalid(_("Choose how the customer signed."), "kind", "invalid")
    now = timezone.now()
    proposed = order.lines.filter(approval=Approval.PROPOSED, additional=False)
    approved_ids = list(proposed.values_list("pk", flat=True))
    proposed.update(
        approval=Approval.APPROVED,
        approval_channel=ApprovalChannel.SIGNATURE,
        approved_by_name=name,
        approval_recorded_by=actor if getattr(actor, "pk", None) else None,
        decided_at=now,
    )
    order.signature_kind = kind
    order.signed_by_name = name
    order.signed_at = now
    found = refusals(order, S.APPROVED, actor)
    if found:
        raise GuardRefused(
            found[0].message,
            code=found[0].code,
            fields={r.field: [r.message] for r in found},
        )
    if extension:
        order.signature.save(f"{order.number}.{extension}", ContentFile(signature_png), save=False)
    else:
        order.signature = ""
    order.estimate_total = estimate_totals(order)["total"]
    bump(order, "signature_kind", "signed_by_name", "signed_at", "signature", "estimate_total")
    record_event(
        order,
        kind=EventKind.APPROVAL,
        actor=actor,
        message=_("Signed by %(name)s (%(how)s)")
        % {"name": name, "how": SignatureKind(kind).label},
        data={"kind": kind, "signed_by_name": name, "lines": approved_ids},
    )
    return transition_locked(order=order, to=S.APPROVED, actor=actor)


@transaction.atomic
def line_decide(
    *,
    actor,
    line,
    version,
    decision: str,
    channel: str,
    customer_name: str,
    remarks: str = "",
) -> RepairOrderLine:
    """The customer's decision on one line (additional work, or a line before signing):
    approved or declined, at the counter, by phone (the actor is the staff member who
    called) or on the owner's link. A declined line is kept as a declined recommendation
    and its reservation is released."""
    from aftersales.workorders.estimate import _release

    line_id = getattr(line, "pk", line)
    order_id = RepairOrderLine.objects.values_list("repair_order_id", flat=True).get(pk=line_id)
    order = locked(order_id, version=version)
    require(actor, order, AUTHORIZE)
    require_open(order)
    line = (
        RepairOrderLine.objects.select_for_update(of=("self",))
        .select_related("reservation")
        .get(pk=line_id)
    )
    if line.approval != Approval.PROPOSED:
        raise AlreadyDecided(
            _("The customer has already decided on “%(line)s” (%(decision)s).")
            % {"line": line.description, "decision": line.get_approval_display()}
        )
    if not line.additional and order.status not in BEFORE_SIGNING:
        raise AlreadyDecided(
            _("“%(line)s” is covered by the customer's signature.") % {"line": line.description}
        )
    if order.status not in DECIDABLE:
        raise Conflict(
            _("Repair order %(number)s is %(status)s: its lines can no longer be decided.")
            % {"number": order.number, "status": order.get_status_display()},
            code="order_closed",
        )
    errors = {}
    if decision not in (Approval.APPROVED, Approval.DECLINED):
        errors["decision"] = [_("Choose approved or declined.")]
    if channel not in DECISION_CHANNELS:
        errors["channel"] = [_("Choose how the customer decided.")]
    name = str(customer_name or "").strip()[:50]
    if not name:
        errors["customer_name"] = [_("Write the name of the customer who decided.")]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    line.approval = decision
    line.approval_channel = channel
    line.approved_by_name = name
    line.approval_recorded_by = actor if getattr(actor, "pk", None) else None
    line.decided_at = timezone.now()
    line.save(
        update_fields=[
            "approval",
            "approval_channel",
            "approved_by_name",
            "approval_recorded_by",
            "decided_at",
        ]
    )
    if decision == Approval.DECLINED:
        _release(actor, line)
    order.estimate_total = estimate_totals(order)["total"]
    bump(order, "estimate_total")
    if decision == Approval.APPROVED:
        message = _("%(customer)s approved “%(line)s” (%(how)s)")
    else:
        message = _("%(customer)s declined “%(line)s” (%(how)s)")
    record_event(
        order,
        kind=EventKind.APPROVAL,
        actor=actor,
        message=message
        % {"customer": name, "line": line.description, "how": ApprovalChannel(channel).label},
        data={
            "line": line.pk,
            "decision": decision,
            "channel": channel,
            "customer_name": name,
            "recorded_by": getattr(actor, "pk", None),
            "remarks": str(remarks or "")[:300],
        },
    )
    return line


def declined_recommendations(user, vehicle=None, *, exclude_order=None):
    """Declined lines of the vehicle's orders (every vehicle when ``vehicle`` is None) that
    ``user`` may see, newest first: for the reception screen and later follow-up."""
    orders = RepairOrder.objects.restrict(user, "view")
    if vehicle is not None:
        orders = orders.filter(vehicle_id=getattr(vehicle, "pk", vehicle))
    if exclude_order is not None:
        orders = orders.exclude(pk=getattr(exclude_order, "pk", exclude_order))
    return (
        RepairOrderLine.objects.filter(approval=Approval.DECLINED, repair_order__in=orders)
        .select_related("repair_order", "repair_order__vehicle")
        .order_by("-decided_at", "-id")
    )
