"""Transfers (调拨) between two warehouses of one dealer or of two dealers.

Within one dealer a transfer is approved when requested. Between dealers the receiving
dealer asks (``parts.add_transfer`` there) and the sending dealer decides
(``parts.approve_transfer``). Shipping books ``transfer_out`` at the source at its average
cost, kept on the line, and shows the units as in transit at the destination; receiving
books ``transfer_in`` at that cost, so the value moves with the units.
"""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.core.access import allowed_at, require_at
from aftersales.core.audit import audit_create, audit_event
from aftersales.core.errors import Conflict, PermissionDenied, ValidationFailed
from aftersales.core.models import AuditAction
from aftersales.core.numbering import next_number
from aftersales.parts import stock
from aftersales.parts.choices import TRANSFER_TRANSITIONS, MoveKind, TransferStatus
from aftersales.parts.models import Bin, StockItem, Transfer, TransferLine

_TARGET_VERB = {
    TransferStatus.APPROVED: gettext_lazy("approved"),
    TransferStatus.REJECTED: gettext_lazy("rejected"),
    TransferStatus.IN_TRANSIT: gettext_lazy("shipped"),
    TransferStatus.RECEIVED: gettext_lazy("received"),
    TransferStatus.CANCELLED: gettext_lazy("cancelled"),
}


def _lock(transfer) -> Transfer:
    return (
        Transfer.objects.select_for_update()
        .select_related("from_warehouse", "to_warehouse", "from_dealer", "to_dealer")
        .get(pk=transfer.pk)
    )


def _move_to(transfer, target, *, actor, **extra) -> Transfer:
    current = TransferStatus(transfer.status)
    if target not in TRANSFER_TRANSITIONS[current]:
        raise Conflict(
            _("Transfer %(number)s is %(status)s: it cannot be %(action)s.")
            % {"number": transfer.number, "status": current.label, "action": _TARGET_VERB[target]},
            code="illegal_transition",
        )
    transfer.status = target
    transfer.version += 1
    for name, value in extra.items():
        setattr(transfer, name, value)
    transfer.save(update_fields=["status", "version", *extra.keys()])
    audit_event(
        transfer,
        actor=actor,
        action=AuditAction.UPDATE,
        changes={"status": [current.value, target.value]},
    )
    return transfer


def _check(transfer, target):
    """Refuse early (before any stock work) what the transition table does not allow."""
    if target not in TRANSFER_TRANSITIONS[TransferStatus(transfer.status)]:
        _move_to(transfer, target, actor=None)  # raises the coded 409


@transaction.atomic
def transfer_request(*, actor, from_warehouse, to_warehouse, lines, note="") -> Transfer:
    """Ask for parts to move ``from_warehouse`` → ``to_warehouse``. ``lines`` are
    ``(part, quantity)`` pairs (one part twice is added up)."""
    if from_warehouse.pk == to_warehouse.pk:
        raise ValidationFailed(
            _("A transfer needs two different warehouses."),
            fields={"to_warehouse": [_("Same as the source.")]},
        )
    for end in (from_warehouse, to_warehouse):
        if not end.active:
            raise ValidationFailed(_("Warehouse %(code)s is closed.") % {"code": end.code})
    between = from_warehouse.dealer_id != to_warehouse.dealer_id
    if between and from_warehouse.dealer.region_id != to_warehouse.dealer.region_id:
        raise ValidationFailed(
            _("Parts are transferred only between dealers of one region."),
            fields={"from_warehouse": [_("A warehouse of another region.")]},
        )
    # the receiving side asks; within one dealer that is the same dealer
    require_at(actor, "parts.add_transfer", dealer=to_warehouse.dealer)
    if not between:
        require_at(actor, "parts.add_transfer", dealer=from_warehouse.dealer)
    wanted: dict = {}
    for part, quantity in lines or []:
        amount = stock.positive(quantity)
        wanted[part] = wanted.get(part, Decimal("0")) + amount
    if not wanted:
        raise ValidationFailed(
            _("Add at least one part to the transfer."), fields={"lines": [_("No lines.")]}
        )
    now = timezone.now()
    transfer = Transfer.objects.create(
        number=next_number(doc_type="TR", dealer=to_warehouse.dealer),
        from_dealer_id=from_warehouse.dealer_id,
        from_warehouse=from_warehouse,
        to_dealer_id=to_warehouse.dealer_id,
        to_warehouse=to_warehouse,
        status=TransferStatus.REQUESTED if between else TransferStatus.APPROVED,
        note=note or "",
        requested_by=actor,
        decided_by=None if between else actor,
        decided_at=None if between else now,
    )
    TransferLine.objects.bulk_create(
        [TransferLine(transfer=transfer, part=part, quantity=q) for part, q in wanted.items()]
    )
    audit_create(transfer, actor=actor)
    return transfer


@transaction.atomic
def transfer_approve(*, actor, transfer) -> Transfer:
    """The sending dealer agrees to give the parts (availability is checked at shipping)."""
    transfer = _lock(transfer)
    require_at(actor, "parts.approve_transfer", dealer=transfer.from_dealer)
    return _move_to(
        transfer, TransferStatus.APPROVED, actor=actor, decided_by=actor, decided_at=timezone.now()
    )


@transaction.atomic
def transfer_reject(*, actor, transfer, reason="") -> Transfer:
    transfer = _lock(transfer)
    require_at(actor, "parts.approve_transfer", dealer=transfer.from_dealer)
    if reason:
        transfer.note = (f"{transfer.note} / {reason}" if transfer.note else reason)[:200]
    return _move_to(
        transfer,
        TransferStatus.REJECTED,
        actor=actor,
        decided_by=actor,
        decided_at=timezone.now(),
        note=transfer.note,
    )


@transaction.atomic
def transfer_cancel(*, actor, transfer) -> Transfer:
    """Withdraw a transfer before it ships: the asking side or the sending side."""
    transfer = _lock(transfer)
    if not (
        allowed_at(actor, "parts.add_transfer", dealer=transfer.to_dealer)
        or allowed_at(actor, "parts.change_transfer", dealer=transfer.from_dealer)
    ):
        raise PermissionDenied()
    return _move_to(transfer, TransferStatus.CANCELLED, actor=actor)


def _items(transfer, lines):
    """The source and destination stock items of every line, locked in id order."""
    pairs = {}
    for line in lines:
        source = stock.item_for(warehouse=transfer.from_warehouse, part=line.part, lock=False)
        target = stock.item_for(warehouse=transfer.to_warehouse, part=line.part, lock=False)
        pairs[line.pk] = (source.pk, target.pk)
    ids = sorted({pk for pair in pairs.values() for pk in pair})
    locked = {
        item.pk: item
        for item in StockItem.objects.select_for_update()
        .select_related("part", "warehouse")
        .filter(pk__in=ids)
        .order_by("pk")
    }
    return {pk: (locked[s], locked[t]) for pk, (s, t) in pairs.items()}


@transaction.atomic
def transfer_ship(*, actor, transfer) -> Transfer:
    """Send the parts: every line leaves the source at its average cost and is in transit
    to the destination. Short stock on any line refuses the whole shipment."""
    transfer = _lock(transfer)
    require_at(actor, "parts.change_transfer", dealer=transfer.from_dealer)
    _check(transfer, TransferStatus.IN_TRANSIT)
    lines = list(transfer.lines.select_related("part"))
    items = _items(transfer, lines)
    doc = stock.Doc(type="transfer", id=transfer.pk, number=transfer.number)
    for line in lines:
        source, target = items[line.pk]
        line.unit_cost = source.avg_cost
        stock.post(
            item=source,
            kind=MoveKind.TRANSFER_OUT,
            quantity=-line.quantity,
            posting_key=f"tr-out:{transfer.pk}:{line.pk}",
            doc=doc,
            actor=actor,
            reason=_("To %(warehouse)s") % {"warehouse": str(transfer.to_warehouse)},
        )
        target.in_transit += line.quantity
        target.save(update_fields=["in_transit"])
    TransferLine.objects.bulk_update(lines, ["unit_cost"])
    return _move_to(transfer, TransferStatus.IN_TRANSIT, actor=actor, shipped_at=timezone.now())


@transaction.atomic
def transfer_receive(*, actor, transfer, bins=None) -> Transfer:
    """Book the arrived parts into the destination at the cost they left with. ``bins``
    maps a line (or its id) to the bin it goes to; others go to the item's default bin."""
    transfer = _lock(transfer)
    require_at(actor, "parts.change_transfer", dealer=transfer.to_dealer)
    _check(transfer, TransferStatus.RECEIVED)
    chosen = {getattr(k, "pk", k): v for k, v in (bins or {}).items()}
    lines = list(transfer.lines.select_related("part"))
    items = _items(transfer, lines)
    doc = stock.Doc(type="transfer", id=transfer.pk, number=transfer.number)
    for line in lines:
        _source, target = items[line.pk]
        bin_ = chosen.get(line.pk)
        if bin_ is not None and not isinstance(bin_, Bin):
            bin_ = Bin.objects.filter(pk=bin_).first()
        stock.post(
            item=target,
            kind=MoveKind.TRANSFER_IN,
            quantity=line.quantity,
            unit_cost=line.unit_cost,
            bin=bin_,
            posting_key=f"tr-in:{transfer.pk}:{line.pk}",
            doc=doc,
            actor=actor,
            reason=_("From %(warehouse)s") % {"warehouse": str(transfer.from_warehouse)},
        )
        target.in_transit = max(target.in_transit - line.quantity, Decimal("0"))
        target.save(update_fields=["in_transit"])
        line.received = line.quantity
    TransferLine.objects.bulk_update(lines, ["received"])
    return _move_to(transfer, TransferStatus.RECEIVED, actor=actor, received_at=timezone.now())
