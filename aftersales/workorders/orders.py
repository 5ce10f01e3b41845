"""Order-wide steps that belong to no single area: cancelling (which gives reserved parts
back) and re-opening a signed estimate (which voids the signature)."""

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.core.errors import ValidationFailed
from aftersales.workorders.choices import Approval, ApprovalChannel, ROStatus
from aftersales.workorders.models import RepairOrder
from aftersales.workorders.transitions import (
    locked,
    on_enter,
    repair_order_transition,
    require,
)

S = ROStatus


@transaction.atomic
def repair_order_cancel(*, actor, repair_order, version=None, reason: str) -> RepairOrder:
    """Cancel an order before work starts, with the reason (kept on the order)."""
    order = locked(repair_order, version=version)
    require(actor, order, "workorders.cancel_repairorder")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Give a reason for cancelling."),
            fields={"reason": [_("Give a reason for cancelling.")]},
        )
    order.cancel_reason = reason[:200]
    order.save(update_fields=["cancel_reason"])
    return repair_order_transition(
        repair_order=order, to=S.CANCELLED, actor=actor, version=order.version, note=reason
    )


@on_enter(S.CANCELLED)
def _release_reserved_parts(order, actor, from_status):
    from aftersales.parts.choices import ReservationStatus
    from aftersales.parts.stock import release

    lines = order.lines.filter(
        reservation__isnull=False, reservation__status=ReservationStatus.ACTIVE
    ).select_related("reservation")
    for line in lines:
        release(actor=actor, reservation=line.reservation)


@on_enter(S.ESTIMATED)
def _void_signature_when_reopened(order, actor, from_status):
    """An approved estimate opened again must be signed again: the signature covered the
    lines as they were."""
    if from_status not in (S.APPROVED, S.AWAITING_APPROVAL):
        return
    order.lines.filter(
        approval=Approval.APPROVED, approval_channel=ApprovalChannel.SIGNATURE
    ).update(approval=Approval.PROPOSED, approval_channel="", decided_at=None, approved_by_name="")
    if order.signed_at is not None:
        RepairOrder.objects.filter(pk=order.pk).update(
            signature_kind="", signed_at=None, signed_by_name="", approved_at=None
        )
        order.signature_kind, order.signed_at, order.signed_by_name = "", None, ""
