"""Purchase orders to the OEM parts centre and goods receipts (SPEC §6, purchasing).

Every write is a service here: one transaction, keyword-only arguments, the actor's
permission checked at the order's dealer, audited, status changes checked against
``PURCHASE_ORDER_TRANSITIONS`` (an illegal one is a coded ``Conflict``, HTTP 409).

Receiving locks the order row first, so two receipts booked at the same moment are
serialised and cannot together receive more than was ordered; each receipt line posts a
RECEIPT movement through ``stock.post`` at the order line's unit cost (the moving-average
cost follows). A receipt carries an idempotency key: the same key again returns the first
receipt and books nothing.
"""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.access import require_at
from aftersales.core.audit import audit_create, audit_event, audit_update, snapshot
from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.core.models import AuditAction
from aftersales.core.numbering import next_number
from aftersales.parts.choices import (
    PURCHASE_ORDER_TRANSITIONS,
    MoveKind,
    PurchaseOrderStatus,
)
from aftersales.parts.models import (
    Bin,
    GoodsReceipt,
    GoodsReceiptLine,
    Part,
    PurchaseOrder,
    PurchaseOrderLine,
)
from aftersales.parts.stock import Doc, item_for, positive, post, qty, show

ZERO = Decimal("0")
OPEN_STATUSES = (PurchaseOrderStatus.SUBMITTED, PurchaseOrderStatus.PARTLY_RECEIVED)


class IllegalTransition(Conflict):
    code = "illegal_transition"


# ---------------------------------------------------------------- helpers


def current_part(part: Part) -> Part:
    """The number to order today: the end of the part's supersession chain (the
    catalogue's ``lookup.current_part``)."""
    from aftersales.parts.lookup import current_part as chain_end

    return chain_end(part)


def _require(actor, permission: str, dealer_id: int):
    from aftersales.org.models import Dealer

    require_at(actor, permission, dealer=Dealer(pk=dealer_id))


def _locked(order: PurchaseOrder) -> PurchaseOrder:
    return PurchaseOrder.objects.select_for_update().select_related("warehouse").get(pk=order.pk)


def _move_to(order: PurchaseOrder, status: str, *, actor) -> None:
    """Change the locked order's status when the transition table allows it."""
    old = order.status
    if status not in PURCHASE_ORDER_TRANSITIONS.get(PurchaseOrderStatus(old), set()):
        raise IllegalTransition(
            _("Purchase order %(number)s is %(old)s; it cannot become %(new)s.")
            % {
                "number": order.number,
                "old": PurchaseOrderStatus(old).label,
                "new": PurchaseOrderStatus(status).label,
            }
        )
    order.status = status
    now = timezone.now()
    fields = ["status", "version"]
    if status == PurchaseOrderStatus.SUBMITTED:
        order.submitted_at = now
        fields.append("submitted_at")
    if status in (PurchaseOrderStatus.RECEIVED, PurchaseOrderStatus.CANCELLED):
        order.closed_at = now
        fields.append("closed_at")
    order.version = F("version") + 1
    order.save(update_fields=fields)
    order.refresh_from_db(fields=["version"])
    if old != status:
        audit_event(
            order, actor=actor, action=AuditAction.UPDATE, changes={"status": [old, status]}
        )


def _require_draft(order: PurchaseOrder):
    if order.status != PurchaseOrderStatus.DRAFT:
        raise IllegalTransition(
            _("Purchase order %(number)s is %(status)s: only a draft's lines can change.")
            % {"number": order.number, "status": order.get_status_display()}
        )


def _orderable(part: Part, *, substitute: bool) -> Part:
    """The part to put on the order: a superseded number is refused with the number that
    replaces it, or replaced by it when ``substitute``."""
    if part.superseded_by_id is None:
        if not part.active:
            raise ValidationFailed(
                _("Part %(part)s is no longer sold.") % {"part": part.number},
                fields={"part": [_("Not sold any more.")]},
            )
        return part
    replacement = current_part(part)
    if substitute:
        return replacement
    raise ValidationFailed(
        _("Part %(old)s has been replaced by %(new)s: order %(new)s instead.")
        % {"old": part.number, "new": replacement.number},
        fields={"part": [_("Replaced by %(new)s.") % {"new": replacement.number}]},
        code="superseded",
    )


def _cost(value, part: Part) -> Decimal:
    if value is None or value == "":
        return part.dealer_cost
    try:
        cost = Decimal(str(value)).quantize(Decimal("0.01"))
    except Exception as exc:
        raise ValidationFailed(
            _("The unit cost must be a number."), fields={"unit_cost": [_("Not a number.")]}
        ) from exc
    if not cost.is_finite() or cost < 0:
        raise ValidationFailed(
            _("A unit cost cannot be negative."), fields={"unit_cost": [_("Cannot be negative.")]}
        )
    return cost


def _add_line(order, part, quantity, unit_cost, *, substitute, increment) -> PurchaseOrderLine:
    part = _orderable(part, substitute=substitute)
    quantity = positive(quantity)
    line = PurchaseOrderLine.objects.filter(order=order, part=part).first()
    if line is None:
        line = PurchaseOrderLine.objects.create(
            order=order, part=part, quantity=quantity, unit_cost=_cost(unit_cost, part)
        )
        return line
    line.quantity = line.quantity + quantity if increment else quantity
    if unit_cost not in (None, ""):
        line.unit_cost = _cost(unit_cost, part)
    line.save(update_fields=["quantity", "unit_cost"])
    return line


# ---------------------------------------------------------------- orders


@transaction.atomic
def purchase_order_create(
    *,
    actor,
    warehouse,
    lines=(),
    urgent: bool = False,
    expected_on=None,
    note: str = "",
    allow_over_receipt: bool = False,
    substitute: bool = False,
) -> PurchaseOrder:
    """A draft order for ``warehouse`` with ``lines`` of ``(part, quantity[, unit_cost])``
    (the catalogue's dealer cost when no cost is given). One line per part: a part named
    twice adds up."""
    _require(actor, "parts.add_purchaseorder", warehouse.dealer_id)
    if not warehouse.active:
        raise ValidationFailed(
            _("Warehouse %(code)s is closed.") % {"code": warehouse.code},
            fields={"warehouse": [_("Closed.")]},
        )
    order = PurchaseOrder.objects.create(
        dealer_id=warehouse.dealer_id,
        warehouse=warehouse,
        number=next_number(doc_type="PO", dealer=warehouse.dealer),
        urgent=bool(urgent),
        expected_on=expected_on,
        note=(note or "")[:200],
        allow_over_receipt=bool(allow_over_receipt),
        created_by=actor if actor is not None and actor.pk else None,
    )
    for entry in lines:
        part, quantity, *rest = entry
        _add_line(
            order, part, quantity, rest[0] if rest else None, substitute=substitute, increment=True
        )
    audit_create(order, actor=actor)
    return order


@transaction.atomic
def purchase_order_update(
    *, actor, order, urgent=None, expected_on=None, note=None, allow_over_receipt=None
) -> PurchaseOrder:
    """Change a draft's header (urgency, expected date, note, over-receipt)."""
    _require(actor, "parts.change_purchaseorder", order.dealer_id)
    order = _locked(order)
    _require_draft(order)
    before = snapshot(order)
    if urgent is not None:
        order.urgent = bool(urgent)
    if expected_on is not None:
        order.expected_on = expected_on or None
    if note is not None:
        order.note = note[:200]
    if allow_over_receipt is not None:
        order.allow_over_receipt = bool(allow_over_receipt)
    order.version += 1
    order.save(update_fields=["urgent", "expected_on", "note", "allow_over_receipt", "version"])
    audit_update(order, actor=actor, before=before)
    return order


@transaction.atomic
def purchase_order_line_set(
    *,
    actor,
    order,
    part,
    quantity,
    unit_cost=None,
    substitute: bool = False,
    increment: bool = False,
) -> PurchaseOrderLine:
    """Put ``quantity`` of ``part`` on a draft (replacing the line's quantity, or adding to
    it when ``increment``, as a scan does). A superseded number is refused naming its
    replacement, or replaced by it when ``substitute``."""
    _require(actor, "parts.change_purchaseorder", order.dealer_id)
    order = _locked(order)
    _require_draft(order)
    line = _add_line(order, part, quantity, unit_cost, substitute=substitute, increment=increment)
    audit_event(
        order,
        actor=actor,
        action=AuditAction.UPDATE,
        changes={f"line {line.part.number}": [None, str(line.quantity)]},
    )
    PurchaseOrder.objects.filter(pk=order.pk).update(version=F("version") + 1)
    return line


@transaction.atomic
def purchase_order_line_remove(*, actor, order, line) -> None:
    """Take a line off a draft."""
    _require(actor, "parts.change_purchaseorder", order.dealer_id)
    order = _locked(order)
    _require_draft(order)
    line = PurchaseOrderLine.objects.select_related("part").filter(order=order, pk=line.pk).first()
    if line is None:
        raise ValidationFailed(_("This line is not on the order."))
    audit_event(
        order,
        actor=actor,
        action=AuditAction.UPDATE,
        changes={f"line {line.part.number}": [str(line.quantity), None]},
    )
    line.delete()
    PurchaseOrder.objects.filter(pk=order.pk).update(version=F("version") + 1)


@transaction.atomic
def purchase_order_submit(*, actor, order) -> PurchaseOrder:
    """Send a draft to the parts centre; it needs at least one line."""
    _require(actor, "parts.change_purchaseorder", order.dealer_id)
    order = _locked(order)
    if order.status == PurchaseOrderStatus.DRAFT and not order.lines.exists():
        raise ValidationFailed(
            _("Add at least one line before submitting the order."), code="empty_order"
        )
    _move_to(order, PurchaseOrderStatus.SUBMITTED, actor=actor)
    return order


@transaction.atomic
def purchase_order_cancel(*, actor, order, reason: str = "") -> PurchaseOrder:
    """Withdraw an order; only before anything has been received."""
    _require(actor, "parts.change_purchaseorder", order.dealer_id)
    order = _locked(order)
    if order.lines.filter(received__gt=0).exists():
        raise IllegalTransition(
            _(
                "Purchase order %(number)s has received goods and cannot be cancelled; "
                "close it short instead."
            )
            % {"number": order.number}
        )
    _move_to(order, PurchaseOrderStatus.CANCELLED, actor=actor)
    if reason:
        audit_event(
            order, actor=actor, action=AuditAction.UPDATE, changes={"reason": [None, reason]}
        )
    return order


@transaction.atomic
def purchase_order_close_short(*, actor, order, reason: str = "") -> PurchaseOrder:
    """Close a partly received order whose open lines will not come: it becomes received
    with what has arrived; the open quantities no longer count as on order."""
    _require(actor, "parts.change_purchaseorder", order.dealer_id)
    order = _locked(order)
    if order.status != PurchaseOrderStatus.PARTLY_RECEIVED:
        raise IllegalTransition(
            _("Only a partly received order can be closed short; %(number)s is %(status)s.")
            % {"number": order.number, "status": order.get_status_display()}
        )
    _move_to(order, PurchaseOrderStatus.RECEIVED, actor=actor)
    audit_event(
        order,
        actor=actor,
        action=AuditAction.UPDATE,
        changes={"closed_short": [None, reason or True]},
    )
    return order


# ---------------------------------------------------------------- receiving


def _receivable(order: PurchaseOrder):
    if order.status in OPEN_STATUSES:
        return
    messages = {
        PurchaseOrderStatus.DRAFT: _(
            "Purchase order %(number)s has not been submitted yet: nothing can be received."
        ),
        PurchaseOrderStatus.RECEIVED: _(
            "Purchase order %(number)s is closed: everything has been received."
        ),
        PurchaseOrderStatus.CANCELLED: _(
            "Purchase order %(number)s was cancelled: nothing can be received."
        ),
    }
    raise IllegalTransition(messages[order.status] % {"number": order.number}, code="po_closed")


@transaction.atomic
def purchase_order_receive(
    *, actor, order, lines, idempotency_key: str | None = None, note: str = ""
) -> GoodsReceipt:
    """Book a delivery: ``lines`` of ``(order_line, quantity, bin)`` (bin may be None: the
    item's default bin). Creates a goods receipt and one RECEIPT movement per line.

    Refused (nothing booked) when the order is not open, a line is not on the order, a
    quantity is not positive, or a line would receive more than ordered and the order
    does not allow over-receipt. The same ``idempotency_key`` returns the first receipt."""
    _require(actor, "parts.receive_purchaseorder", order.dealer_id)
    order = _locked(order)
    if idempotency_key:
        # a client's key is its own: two users may happen to send the same one
        actor_pk = actor.pk if actor is not None else ""
        idempotency_key = f"{actor_pk}:{idempotency_key}"[:100]
        done = GoodsReceipt.objects.filter(idempotency_key=idempotency_key).first()
        if done is not None:
            if done.order_id != order.pk:
                raise Conflict(
                    _("This idempotency key was already used for another order."),
                    code="idempotency_key_reused",
                )
            return done
    _receivable(order)
    order_lines = {
        line.pk: line
        for line in PurchaseOrderLine.objects.select_related("part")
        .select_for_update()
        .filter(order=order)
    }
    wanted: dict[int, list] = {}
    for entry in lines:
        order_line, quantity, bin_ = (*entry, None)[:3]
        line_id = getattr(order_line, "pk", order_line)
        line = order_lines.get(line_id)
        if line is None:
            raise ValidationFailed(
                _("A line is not on purchase order %(number)s.") % {"number": order.number},
                fields={"lines": [_("Not on this order.")]},
            )
        quantity = qty(quantity)
        if quantity == 0:
            continue
        quantity = positive(quantity)
        if bin_ is not None and (
            not isinstance(bin_, Bin) or bin_.warehouse_id != order.warehouse_id
        ):
            raise ValidationFailed(
                _("Bin %(bin)s is not in warehouse %(warehouse)s.")
                % {"bin": getattr(bin_, "code", bin_), "warehouse": order.warehouse.code},
                fields={"bin": [_("Not in this warehouse.")]},
            )
        wanted.setdefault(line.pk, []).append((quantity, bin_))
    if not wanted:
        raise ValidationFailed(
            _("Enter a received quantity for at least one line."),
            fields={"lines": [_("Nothing received.")]},
            code="empty_receipt",
        )
    if not order.allow_over_receipt:
        for line_id, parts in wanted.items():
            line = order_lines[line_id]
            total = sum((q for q, _b in parts), ZERO)
            if line.received + total > line.quantity:
                raise Conflict(
                    _(
                        "%(part)s: ordered %(ordered)s, received %(received)s, "
                        "at most %(open)s more."
                    )
                    % {
                        "part": line.part.number,
                        "ordered": show(line.quantity),
                        "received": show(line.received),
                        "open": show(line.open_quantity),
                    },
                    fields={"lines": [_("More than ordered.")]},
                    code="over_receipt",
                )
    try:
        with transaction.atomic():
            receipt = GoodsReceipt.objects.create(
                order=order,
                dealer_id=order.dealer_id,
                number=next_number(doc_type="GR", dealer=order.warehouse.dealer),
                idempotency_key=idempotency_key or None,
                received_by=actor if actor is not None and actor.pk else None,
                note=(note or "")[:200],
            )
    except IntegrityError:  # a concurrent retry with the same key won (it held no lock yet)
        done = GoodsReceipt.objects.filter(idempotency_key=idempotency_key).first()
        if done is None:
            raise
        return done
    # the ledger links to the order (whose page lists its receipts), numbered by the receipt
    doc = Doc(type="purchase_order", id=order.pk, number=receipt.number)
    for line_id, parts in wanted.items():
        line = order_lines[line_id]
        for quantity, bin_ in parts:
            receipt_line = GoodsReceiptLine.objects.create(
                receipt=receipt,
                order_line=line,
                bin=bin_,
                quantity=quantity,
                unit_cost=line.unit_cost,
            )
            item = item_for(warehouse=order.warehouse, part=line.part)
            post(
                item=item,
                kind=MoveKind.RECEIPT,
                quantity=quantity,
                unit_cost=line.unit_cost,
                bin=bin_,
                posting_key=f"gr:{receipt.pk}:{receipt_line.pk}",
                doc=doc,
                actor=actor,
                reason=order.number,
            )
            line.received += quantity
        line.save(update_fields=["received"])
    complete = all(line.received >= line.quantity for line in order_lines.values())
    _move_to(
        order,
        PurchaseOrderStatus.RECEIVED if complete else PurchaseOrderStatus.PARTLY_RECEIVED,
        actor=actor,
    )
    audit_create(receipt, actor=actor)
    return receipt
