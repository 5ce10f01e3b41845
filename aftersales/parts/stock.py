"""The stock ledger: every change of a dealer's stock goes through ``post``.

``post`` runs inside the caller's transaction with the stock item's row locked
(``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's IMMEDIATE transactions hold the database
write lock), so concurrent issues and receipts of one part are serialised and the checks
it makes (enough available, enough in the bin) hold when the row is written. The balance
rows carry ``CHECK (on_hand >= 0)`` and ``reserved <= on_hand`` as a last line of defence.

A posting names the document line it books (``posting_key``); posting the same key again
returns the first posting's movements and changes nothing, so a retried request acts once.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.parts.choices import MoveKind, ReservationStatus
from aftersales.parts.models import (
    Bin,
    BinStock,
    PartDemand,
    Reservation,
    StockItem,
    StockMove,
)

ZERO = Decimal("0")
QTY_PLACES = Decimal("0.01")
COST_PLACES = Decimal("0.0001")
UNASSIGNED_BIN = "UNASSIGNED"

INBOUND = {MoveKind.RECEIPT, MoveKind.RETURN, MoveKind.TRANSFER_IN}


class InsufficientStock(Conflict):
    code = "insufficient_stock"


def qty(value) -> Decimal:
    """A quantity as a Decimal with two places; refuses what is not a number."""
    try:
        result = Decimal(str(value)).quantize(QTY_PLACES, rounding=ROUND_HALF_UP)
    except Exception as exc:  # InvalidOperation, TypeError
        raise ValidationFailed(
            _("The quantity must be a number."), fields={"quantity": [_("Not a number.")]}
        ) from exc
    if not result.is_finite():
        raise ValidationFailed(_("The quantity must be a number."))
    return result


def show(value: Decimal) -> str:
    """A quantity as people write it: 3, 2.5 (no trailing zeros), localised."""
    normalised = value.normalize()
    places = max(-normalised.as_tuple().exponent, 0)
    return number_format(value, decimal_pos=places)


def positive(value, field: str = "quantity") -> Decimal:
    amount = qty(value)
    if amount <= 0:
        raise ValidationFailed(
            _("The quantity must be more than zero."),
            fields={field: [_("Must be more than zero.")]},
        )
    return amount


# ---------------------------------------------------------------- balance rows


def _locked(rows):
    """Stock item ``rows`` locked for the rest of the transaction, each with its part."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("stock changes must run inside a transaction")
    # of=self: lock the balance row only, not the catalogue part joined to it (that would
    # serialise one part's stock across every warehouse and dealer)
    return rows.select_for_update(of=("self",)).select_related("part")


def item_for(*, warehouse, part, lock: bool = True) -> StockItem:
    """The warehouse's stock item of a part, created on first use, locked for the rest of
    the transaction when ``lock``."""
    rows = StockItem.objects.filter(warehouse=warehouse, part=part)
    if lock:
        rows = _locked(rows)
    item = rows.first()
    if item is None:  # first use: create it (a concurrent first use gets the same row)
        StockItem.objects.get_or_create(
            warehouse=warehouse, part=part, defaults={"dealer_id": warehouse.dealer_id}
        )
        item = rows.get()
    return item


def items_for(*, warehouse, parts) -> dict:
    """``{part id: StockItem}`` of the warehouse's items of ``parts`` that exist, locked as
    ``item_for`` locks them, in one query (in id order, as every batch locks them); a part
    with no item yet is not in it (``item_for`` makes it)."""
    rows = _locked(StockItem.objects.filter(warehouse=warehouse, part__in=list(parts)))
    return {item.part_id: item for item in rows.order_by("pk")}


def unassigned_bin(warehouse) -> Bin:
    """Where units go that nobody has put on a shelf yet."""
    found, _created = Bin.objects.get_or_create(
        warehouse=warehouse, code=UNASSIGNED_BIN, defaults={"dealer_id": warehouse.dealer_id}
    )
    return found


def _bin_row(item, bin_) -> BinStock:
    row, _created = BinStock.objects.get_or_create(
        item=item, bin=bin_, defaults={"dealer_id": item.dealer_id}
    )
    return row


def _check_bin(item, bin_):
    if bin_ is not None and bin_.warehouse_id != item.warehouse_id:
        raise ValidationFailed(
            _("Bin %(bin)s is not in this warehouse.") % {"bin": bin_.code},
            fields={"bin": [_("Not in this warehouse.")]},
        )


# ---------------------------------------------------------------- the posting


@dataclass
class Doc:
    """The document a movement books: its type, id and readable number."""

    type: str = ""
    id: int | None = None
    number: str = ""


def existing(posting_key: str) -> list[StockMove]:
    """The movements an earlier posting with this key made (empty when none)."""
    first = StockMove.objects.filter(posting_key=posting_key).first()
    if first is None:
        return []
    return [first, *StockMove.objects.filter(posting_key__startswith=f"{posting_key}#")]


def post(
    *,
    item: StockItem,
    kind: str,
    quantity: Decimal,
    posting_key: str,
    actor,
    bin=None,
    unit_cost: Decimal | None = None,
    doc: Doc | None = None,
    reason: str = "",
    reservation: Reservation | None = None,
    allow_reserved: bool = False,
) -> list[StockMove]:
    """Book a signed quantity on a locked stock item (``item_for``). Inbound movements go
    to ``bin`` (or the item's default bin); outbound ones take from ``bin`` or, when none
    is named, from the item's bins, default bin first, one movement per bin used.

    An outbound movement may not touch reserved units unless it consumes ``reservation``
    (an issue against it) or ``allow_reserved`` (a stocktake loss, which can only take what
    is really missing). Returns the movements; an already used ``posting_key`` returns the
    earlier ones and books nothing."""
    done = existing(posting_key)
    if done:
        return done
    quantity = qty(quantity)
    if quantity == 0:
        raise ValidationFailed(_("The quantity must not be zero."))
    _check_bin(item, bin)
    doc = doc or Doc()
    now = timezone.now()
    if quantity > 0:
        moves = [_inbound(item, kind, quantity, bin, unit_cost, posting_key, doc, actor, reason)]
    else:
        moves = _outbound(
            item, kind, -quantity, bin, posting_key, doc, actor, reason, reservation, allow_reserved
        )
    item.last_moved_at = now
    item.save(update_fields=["on_hand", "reserved", "avg_cost", "last_moved_at", "default_bin"])
    if kind == MoveKind.RELOCATION:
        pass  # a bin move (booked as +q then −q) changes neither on-hand nor availability
    elif quantity < 0:
        from aftersales.parts.alerts import check_low_stock

        check_low_stock(item)
    elif item.low_alerted_at is not None and item.on_hand - item.reserved > item.min_qty:
        StockItem.objects.filter(pk=item.pk).update(low_alerted_at=None)
        item.low_alerted_at = None
    return moves


def _move(item, kind, quantity, bin_, unit_cost, posting_key, doc, actor, reason) -> StockMove:
    return StockMove.objects.create(
        dealer_id=item.dealer_id,
        warehouse_id=item.warehouse_id,
        item=item,
        part_id=item.part_id,
        bin=bin_,
        kind=kind,
        quantity=quantity,
        unit_cost=unit_cost,
        on_hand_after=item.on_hand,
        avg_cost_after=item.avg_cost,
        doc_type=doc.type,
        doc_id=doc.id,
        doc_number=doc.number,
        posting_key=posting_key,
        reason=reason,
        actor=actor,
    )


def _inbound(item, kind, quantity, bin_, unit_cost, posting_key, doc, actor, reason):
    if bin_ is None:
        bin_ = item.default_bin or unassigned_bin(item.warehouse)
    if item.default_bin_id is None:
        item.default_bin = bin_
    if unit_cost is None or kind not in INBOUND:
        # adjustments and count gains come in at today's average (the catalogue cost when
        # the warehouse never had any)
        unit_cost = item.avg_cost or item.part.dealer_cost
    unit_cost = Decimal(unit_cost)
    if unit_cost < 0:
        raise ValidationFailed(_("A unit cost cannot be negative."))
    total = item.on_hand + quantity
    item.avg_cost = ((item.on_hand * item.avg_cost + quantity * unit_cost) / total).quantize(
        COST_PLACES, rounding=ROUND_HALF_UP
    )
    item.on_hand = total
    BinStock.objects.filter(pk=_bin_row(item, bin_).pk).update(on_hand=F("on_hand") + quantity)
    return _move(item, kind, quantity, bin_, unit_cost, posting_key, doc, actor, reason)


def _outbound(item, kind, quantity, bin_, posting_key, doc, actor, reason, reservation, loose):
    held = ZERO
    if reservation is not None:
        held = reservation.quantity - reservation.issued
        if reservation.item_id != item.pk or reservation.status != ReservationStatus.ACTIVE:
            raise Conflict(_("This reservation is no longer active."), code="reservation_closed")
        if quantity > held:
            raise InsufficientStock(
                _("Only %(open)s %(unit)s are still reserved for this document.")
                % {"open": show(held), "unit": item.part.get_unit_display()}
            )
    available = item.on_hand if loose else item.on_hand - item.reserved + held
    if quantity > available:
        raise InsufficientStock(
            _("Not enough stock of %(part)s: %(available)s %(unit)s available, %(wanted)s asked.")
            % {
                "part": item.part.number,
                "available": show(max(available, ZERO)),
                "unit": item.part.get_unit_display(),
                "wanted": show(quantity),
            },
            fields={"quantity": [_("At most %(n)s.") % {"n": show(max(available, ZERO))}]},
        )
    rows = BinStock.objects.select_related("bin").filter(item=item, on_hand__gt=0)
    if bin_ is not None:
        rows = rows.filter(bin=bin_)
    rows = sorted(rows, key=lambda r: (r.bin_id != item.default_bin_id, -r.on_hand, r.bin.code))
    in_bins = sum((r.on_hand for r in rows), ZERO)
    if quantity > in_bins:
        raise InsufficientStock(
            _("Bin %(bin)s holds only %(n)s.") % {"bin": bin_.code, "n": show(in_bins)}
            if bin_ is not None
            else _("The bins hold only %(n)s.") % {"n": show(in_bins)},
            fields={"bin": [_("Not enough in this bin.")]},
        )
    if reservation is not None:
        reservation.issued += quantity
        item.reserved -= quantity
        if reservation.issued == reservation.quantity:
            reservation.status = ReservationStatus.CONSUMED
            reservation.closed_at = timezone.now()
        reservation.save(update_fields=["issued", "status", "closed_at"])
    elif loose and quantity > item.on_hand - item.reserved:
        # units really missing were promised to documents: those promises shrink with them
        _shrink_reservations(item, quantity - (item.on_hand - item.reserved))
    moves, left, unit_cost = [], quantity, item.avg_cost
    for number, row in enumerate(rows, start=1):
        take = min(left, row.on_hand)
        if take <= 0:
            break
        BinStock.objects.filter(pk=row.pk).update(on_hand=F("on_hand") - take)
        item.on_hand -= take
        key = posting_key if number == 1 else f"{posting_key}#{number}"
        moves.append(_move(item, kind, -take, row.bin, unit_cost, key, doc, actor, reason))
        left -= take
    return moves


def _shrink_reservations(item, missing: Decimal):
    """A count found fewer units than are reserved: the newest promises give way first (the
    oldest documents keep their parts). A reservation left with nothing open is closed."""
    now = timezone.now()
    active = Reservation.objects.select_for_update().filter(
        item=item, status=ReservationStatus.ACTIVE
    )
    for reservation in active.order_by("-created_at", "-id"):
        if missing <= 0:
            break
        still_open = reservation.quantity - reservation.issued
        take = min(still_open, missing)
        if take == still_open:
            reservation.status = (
                ReservationStatus.CONSUMED if reservation.issued else ReservationStatus.RELEASED
            )
            reservation.closed_at = now
            if reservation.issued:
                reservation.quantity = reservation.issued
        else:
            reservation.quantity -= take
        reservation.save(update_fields=["quantity", "status", "closed_at"])
        item.reserved -= take
        missing -= take


# ---------------------------------------------------------------- reservations


@transaction.atomic
def reserve(
    *,
    actor,
    warehouse,
    part,
    quantity,
    key: str,
    doc: Doc,
    expires_at=None,
    item: StockItem | None = None,
) -> Reservation:
    """Hold ``quantity`` of available stock for a document line (``key``, reserves once).
    Refused, with what is available, when there is not enough. ``item``: the warehouse's
    stock item of the part when the caller already read it with ``item_for`` (locked) in
    this transaction; otherwise it is read and locked here."""
    quantity = positive(quantity)
    if item is None or item.warehouse_id != warehouse.pk or item.part_id != part.pk:
        item = item_for(warehouse=warehouse, part=part)
    # checked under the item's lock: a concurrent retry of the same line waits for it
    done = Reservation.objects.filter(key=key).first()
    if done is not None:
        return done
    available = item.on_hand - item.reserved
    if quantity > available:
        raise InsufficientStock(
            _("Cannot reserve %(wanted)s of %(part)s: %(available)s %(unit)s available.")
            % {
                "wanted": show(quantity),
                "part": part.number,
                "available": show(max(available, ZERO)),
                "unit": part.get_unit_display(),
            },
            fields={"quantity": [_("At most %(n)s.") % {"n": show(max(available, ZERO))}]},
        )
    item.reserved += quantity
    item.save(update_fields=["reserved"])
    _demand(key, item, quantity, available, served=True)
    reservation = Reservation.objects.create(
        dealer_id=item.dealer_id,
        item=item,
        quantity=quantity,
        doc_type=doc.type,
        doc_id=doc.id,
        doc_number=doc.number,
        key=key,
        expires_at=expires_at,
        created_by=actor,
    )
    from aftersales.parts.alerts import check_low_stock

    check_low_stock(item)
    return reservation


@transaction.atomic
def record_shortage(*, warehouse, part, quantity, key: str, item=None) -> None:
    """Note that a document line asked for more than was available (for the fill rate).
    Called by the caller after ``reserve`` refused, outside the transaction it rolled back.
    A line's first request counts; asking again later changes nothing. ``item``: the
    part's stock item when the caller holds it, current, in this transaction."""
    if item is None or item.warehouse_id != warehouse.pk or item.part_id != part.pk:
        item = item_for(warehouse=warehouse, part=part, lock=False)
    _demand(key, item, qty(quantity), max(item.on_hand - item.reserved, ZERO), served=False)


def _demand(key, item, quantity, available, *, served) -> None:
    """Count a document line's request for the fill rate: its first one only (one
    statement; a key already there is left alone)."""
    PartDemand.objects.bulk_create(
        [
            PartDemand(
                key=key,
                dealer_id=item.dealer_id,
                item=item,
                quantity=quantity,
                available=available,
                served=served,
            )
        ],
        ignore_conflicts=True,
    )


@transaction.atomic
def issue(
    *,
    actor,
    warehouse,
    part,
    quantity,
    posting_key: str,
    doc: Doc,
    bin=None,
    reservation: Reservation | None = None,
) -> list[StockMove]:
    """Issue parts out of stock (to a repair order, over the counter), against a
    reservation when the document holds one."""
    item = item_for(warehouse=warehouse, part=part)
    if reservation is not None:
        reservation = Reservation.objects.select_for_update().get(pk=reservation.pk)
    return post(
        item=item,
        kind=MoveKind.ISSUE,
        quantity=-positive(quantity),
        bin=bin,
        posting_key=posting_key,
        doc=doc,
        actor=actor,
        reservation=reservation,
    )


@transaction.atomic
def return_to_stock(
    *, actor, warehouse, part, quantity, posting_key: str, doc: Doc, bin=None, unit_cost=None
) -> list[StockMove]:
    """Units issued to a document come back unused (at the cost they left with)."""
    item = item_for(warehouse=warehouse, part=part)
    return post(
        item=item,
        kind=MoveKind.RETURN,
        quantity=positive(quantity),
        bin=bin,
        unit_cost=unit_cost,
        posting_key=posting_key,
        doc=doc,
        actor=actor,
    )


@transaction.atomic
def release(*, actor, reservation: Reservation, expired: bool = False) -> Reservation:
    """Give a reservation's open quantity back to available stock. Idempotent."""
    item_id = Reservation.objects.values_list("item_id", flat=True).get(pk=reservation.pk)
    # the item first, then the reservation: the order ``issue`` locks them in
    item = StockItem.objects.select_for_update().get(pk=item_id)
    reservation = Reservation.objects.select_for_update().get(pk=reservation.pk)
    if reservation.status != ReservationStatus.ACTIVE:
        return reservation
    item.reserved -= reservation.quantity - reservation.issued
    item.save(update_fields=["reserved"])
    reservation.status = ReservationStatus.EXPIRED if expired else ReservationStatus.RELEASED
    reservation.closed_at = timezone.now()
    reservation.save(update_fields=["status", "closed_at"])
    if item.low_alerted_at is not None and item.on_hand - item.reserved > item.min_qty:
        StockItem.objects.filter(pk=item.pk).update(low_alerted_at=None)
    return reservation


def expire_reservations(*, now=None, batch: int = 500) -> int:
    """Release active reservations past their expiry (the job). Each in its own short
    transaction, so a long run holds no lock on the stock for long. Returns how many."""
    now = now or timezone.now()
    due = list(
        Reservation.objects.filter(
            status=ReservationStatus.ACTIVE, expires_at__lte=now
        ).values_list("pk", flat=True)[:batch]
    )
    released = 0
    for pk in due:
        reservation = Reservation(pk=pk)
        if release(actor=None, reservation=reservation, expired=True).status == (
            ReservationStatus.EXPIRED
        ):
            released += 1
    return released


# ---------------------------------------------------------------- checks


def ledger_mismatches(dealer=None) -> list[dict]:
    """Stock items whose on-hand differs from the sum of their ledger, or whose bins do
    not add up to it. Empty when the books are right (``manage.py parts_check``)."""
    items = StockItem.objects.all()
    if dealer is not None:
        items = items.filter(dealer=dealer)
    ledger = dict(
        StockMove.objects.filter(item__in=items)
        .values("item")
        .annotate(total=Sum("quantity"))
        .values_list("item", "total")
    )
    bins = dict(
        BinStock.objects.filter(item__in=items)
        .values("item")
        .annotate(total=Sum("on_hand"))
        .values_list("item", "total")
    )
    wrong = []
    for pk, on_hand, reserved in items.values_list("pk", "on_hand", "reserved").iterator():
        in_ledger, in_bins = ledger.get(pk) or ZERO, bins.get(pk) or ZERO
        if on_hand != in_ledger or on_hand != in_bins or on_hand < 0 or reserved > on_hand:
            wrong.append(
                {
                    "item": pk,
                    "on_hand": on_hand,
                    "ledger": in_ledger,
                    "bins": in_bins,
                    "reserved": reserved,
                }
            )
    return wrong
