"""Warehouses, bins and manual stock movements (counter issue, return, adjustment, bin
move, reservations for a document).

Every function checks that the actor holds the permission at the warehouse's dealer and
books stock only through ``aftersales.parts.stock``. Movements take an ``idempotency_key``
(the API's ``Idempotency-Key`` header, a hidden field on the pages): the ledger's posting
key and the reservation key are derived from it, so a retried request acts once.
"""

import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from aftersales.core.access import require_at
from aftersales.core.audit import audit_create, audit_event, audit_update, snapshot
from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.core.models import AuditAction
from aftersales.parts import stock
from aftersales.parts.choices import MoveKind, ReservationStatus
from aftersales.parts.models import Bin, BinStock, Reservation, StockItem, Warehouse

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,19}$")
MAX_BULK_BINS = 500
KEY_RE = re.compile(r"^[A-Za-z0-9_.:\-]{8,64}$")
MANUAL_DOC = "manual"


def _code(value: str, field: str = "code") -> str:
    value = (value or "").strip().upper()
    if not CODE_RE.match(value):
        raise ValidationFailed(
            _("A code has 1 to 20 letters, digits, '-', '_' or '.'."),
            fields={field: [_("Use letters, digits, '-', '_' or '.' (at most 20).")]},
        )
    return value


def _key(idempotency_key: str, actor) -> str:
    """The client's key, made the actor's own: two users sending the same key must not
    get each other's bookings back (another dealer's, possibly)."""
    value = (idempotency_key or "").strip()
    if not KEY_RE.match(value):
        raise ValidationFailed(
            _("The request needs an idempotency key of 8 to 64 letters, digits or '-'."),
            fields={"idempotency_key": [_("Missing or not valid.")]},
        )
    return f"{actor.pk if actor is not None else 0}:{value}"


# ---------------------------------------------------------------- warehouses and bins


@transaction.atomic
def warehouse_create(*, actor, dealer, code: str, name: str) -> Warehouse:
    require_at(actor, "parts.change_warehouse", dealer=dealer)
    code = _code(code)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(
            _("The warehouse needs a name."), fields={"name": [_("This field is required.")]}
        )
    if Warehouse.objects.filter(dealer=dealer, code=code).exists():
        raise ValidationFailed(
            _("Warehouse %(code)s already exists.") % {"code": code},
            fields={"code": [_("Already used at this dealer.")]},
        )
    warehouse = Warehouse.objects.create(dealer=dealer, code=code, name=name[:60])
    audit_create(warehouse, actor=actor)
    return warehouse


@transaction.atomic
def warehouse_update(*, actor, warehouse: Warehouse, name=None, active=None) -> Warehouse:
    require_at(actor, "parts.change_warehouse", dealer=warehouse.dealer)
    warehouse = Warehouse.objects.select_for_update().get(pk=warehouse.pk)
    before = snapshot(warehouse)
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationFailed(
                _("The warehouse needs a name."), fields={"name": [_("This field is required.")]}
            )
        warehouse.name = name[:60]
    if active is not None:
        warehouse.active = bool(active)
    warehouse.save(update_fields=["name", "active"])
    audit_update(warehouse, actor=actor, before=before)
    return warehouse


_RANGE_RE = re.compile(r"^(?P<prefix>.*?)(?P<first>\d+)$")


def expand_bin_codes(spec: str) -> list[str]:
    """``A-01-01`` is one bin; ``A-01-01..A-01-10`` the ten from 01 to 10 (the numbers at
    the end count up, zero-padded like the first). Several specs may be separated by
    commas or new lines."""
    codes: list[str] = []
    for chunk in re.split(r"[,\n;]+", spec or ""):
        chunk = chunk.strip()
        if not chunk:
            continue
        if ".." not in chunk:
            codes.append(_code(chunk))
            continue
        first, _sep, last = (s.strip().upper() for s in chunk.partition(".."))
        a, b = _RANGE_RE.match(first), _RANGE_RE.match(last)
        if not a or not b or a["prefix"] != b["prefix"] or int(a["first"]) > int(b["first"]):
            raise ValidationFailed(
                _("%(range)s is not a range like A-01-01..A-01-10.") % {"range": chunk},
                fields={"code": [_("Write a range like A-01-01..A-01-10.")]},
            )
        start, end = int(a["first"]), int(b["first"])
        if end - start + 1 + len(codes) > MAX_BULK_BINS:
            raise ValidationFailed(
                _("At most %(n)s bins at a time.") % {"n": MAX_BULK_BINS},
                fields={"code": [_("Too many bins.")]},
            )
        width = len(a["first"])
        codes.extend(_code(f"{a['prefix']}{n:0{width}d}") for n in range(start, end + 1))
    if not codes:
        raise ValidationFailed(
            _("Name at least one bin."), fields={"code": [_("This field is required.")]}
        )
    if len(codes) > MAX_BULK_BINS:
        raise ValidationFailed(_("At most %(n)s bins at a time.") % {"n": MAX_BULK_BINS})
    return list(dict.fromkeys(codes))


@transaction.atomic
def bin_create(*, actor, warehouse: Warehouse, code: str) -> list[Bin]:
    """Create one bin or a range of them (``A-01-01..A-01-10``). Codes that exist already
    are refused together: nothing is created."""
    require_at(actor, "parts.change_warehouse", dealer=warehouse.dealer)
    codes = expand_bin_codes(code)
    taken = sorted(
        Bin.objects.filter(warehouse=warehouse, code__in=codes).values_list("code", flat=True)
    )
    if taken:
        raise ValidationFailed(
            _("These bins exist already: %(codes)s.") % {"codes": ", ".join(taken[:10])},
            fields={"code": [_("Already used in this warehouse.")]},
        )
    try:
        with transaction.atomic():
            bins = Bin.objects.bulk_create(
                [Bin(warehouse=warehouse, dealer_id=warehouse.dealer_id, code=c) for c in codes]
            )
    except IntegrityError as exc:  # a concurrent request created one of them
        raise Conflict(_("Some of these bins were just created by someone else.")) from exc
    if bins and bins[0].pk is None:  # backends without RETURNING on bulk insert
        bins = list(Bin.objects.filter(warehouse=warehouse, code__in=codes))
    for bin_ in bins:
        audit_create(bin_, actor=actor)
    return bins


@transaction.atomic
def bin_deactivate(*, actor, bin: Bin) -> Bin:
    """Take a bin out of use; only an empty bin may go."""
    require_at(actor, "parts.change_warehouse", dealer=bin.warehouse.dealer)
    bin_ = Bin.objects.select_for_update().get(pk=bin.pk)
    held = BinStock.objects.filter(bin=bin_, on_hand__gt=0).exists()
    if held:
        raise Conflict(
            _("Bin %(bin)s still holds stock; move it to another bin first.") % {"bin": bin_.code},
            code="bin_not_empty",
        )
    before = snapshot(bin_)
    bin_.active = False
    bin_.save(update_fields=["active"])
    StockItem.objects.filter(default_bin=bin_).update(default_bin=None)
    audit_update(bin_, actor=actor, before=before)
    return bin_


# ---------------------------------------------------------------- manual movements


def _bin_in(warehouse, bin_):
    if bin_ is not None and (bin_.warehouse_id != warehouse.pk or not bin_.active):
        raise ValidationFailed(
            _("Bin %(bin)s is not an active bin of this warehouse.") % {"bin": bin_.code},
            fields={"bin": [_("Not in this warehouse.")]},
        )
    return bin_


def _manual_doc(reason: str = "") -> stock.Doc:
    return stock.Doc(type=MANUAL_DOC, number=reason[:40])


def _reason(reason: str, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise ValidationFailed(
            _("Say why the stock is adjusted."), fields={"reason": [_("This field is required.")]}
        )
    return reason[:200]


def stock_issue(
    *, actor, warehouse, part, quantity, bin=None, reason: str = "", idempotency_key: str
):
    """A counter issue (parts sold or handed out without a repair order)."""
    require_at(actor, "parts.issue_stockitem", dealer=warehouse.dealer)
    key = _key(idempotency_key, actor)
    _bin_in(warehouse, bin)
    reason = _reason(reason, required=False)
    with transaction.atomic():
        item = stock.item_for(warehouse=warehouse, part=part)
        return stock.post(
            item=item,
            kind=MoveKind.ISSUE,
            quantity=-stock.positive(quantity),
            bin=bin,
            posting_key=f"manual-issue:{key}",
            doc=stock.Doc(type=MANUAL_DOC),
            actor=actor,
            reason=reason,
        )


def stock_return(
    *, actor, warehouse, part, quantity, bin=None, reason: str = "", idempotency_key: str
):
    """Units come back to the shelf (a counter sale returned), at today's average cost."""
    require_at(actor, "parts.issue_stockitem", dealer=warehouse.dealer)
    key = _key(idempotency_key, actor)
    _bin_in(warehouse, bin)
    reason = _reason(reason, required=False)
    with transaction.atomic():
        item = stock.item_for(warehouse=warehouse, part=part)
        return stock.post(
            item=item,
            kind=MoveKind.RETURN,
            quantity=stock.positive(quantity),
            bin=bin,
            unit_cost=item.avg_cost or part.dealer_cost,
            posting_key=f"manual-return:{key}",
            doc=stock.Doc(type=MANUAL_DOC),
            actor=actor,
            reason=reason,
        )


def stock_adjust(*, actor, warehouse, part, quantity, bin=None, reason: str, idempotency_key: str):
    """A manual correction (damaged, found, lost), signed, with a reason; needs
    parts.adjust_stockitem (the service manager)."""
    require_at(actor, "parts.adjust_stockitem", dealer=warehouse.dealer)
    key = _key(idempotency_key, actor)
    _bin_in(warehouse, bin)
    reason = _reason(reason, required=True)
    amount = stock.qty(quantity)
    if amount == 0:
        raise ValidationFailed(
            _("The quantity must not be zero."), fields={"quantity": [_("Must not be zero.")]}
        )
    with transaction.atomic():
        item = stock.item_for(warehouse=warehouse, part=part)
        return stock.post(
            item=item,
            kind=MoveKind.ADJUSTMENT,
            quantity=amount,
            bin=bin,
            posting_key=f"manual-adjust:{key}",
            doc=stock.Doc(type=MANUAL_DOC),
            actor=actor,
            reason=reason,
        )


def stock_relocate(*, actor, item: StockItem, from_bin, to_bin, quantity, idempotency_key: str):
    """Move units of a stock item from one bin to another (on-hand unchanged). Booked as
    two RELOCATION movements: first +q into the new bin, then −q out of the old one, so
    the move never counts against reserved units nor dips the available quantity."""
    require_at(actor, "parts.change_stockitem", dealer=item.warehouse.dealer)
    key = _key(idempotency_key, actor)
    if from_bin is None or to_bin is None:
        raise ValidationFailed(
            _("Name the bin to take from and the bin to put into."),
            fields={"to_bin": [_("This field is required.")]},
        )
    if from_bin.pk == to_bin.pk:
        raise ValidationFailed(
            _("The two bins are the same."), fields={"to_bin": [_("Choose another bin.")]}
        )
    _bin_in(item.warehouse, from_bin)
    _bin_in(item.warehouse, to_bin)
    amount = stock.positive(quantity)
    with transaction.atomic():
        locked = stock.item_for(warehouse=item.warehouse, part=item.part)
        held = (
            BinStock.objects.filter(item=locked, bin=from_bin)
            .values_list("on_hand", flat=True)
            .first()
        )
        done = stock.existing(f"manual-move:{key}:in")
        if done:
            return done + stock.existing(f"manual-move:{key}:out")
        if amount > (held or 0):
            raise stock.InsufficientStock(
                _("Bin %(bin)s holds only %(n)s.")
                % {"bin": from_bin.code, "n": stock.show(held or stock.ZERO)},
                fields={"quantity": [_("At most %(n)s.") % {"n": stock.show(held or stock.ZERO)}]},
            )
        doc = stock.Doc(type=MANUAL_DOC)
        moves = stock.post(
            item=locked,
            kind=MoveKind.RELOCATION,
            quantity=amount,
            bin=to_bin,
            posting_key=f"manual-move:{key}:in",
            doc=doc,
            actor=actor,
        )
        moves += stock.post(
            item=locked,
            kind=MoveKind.RELOCATION,
            quantity=-amount,
            bin=from_bin,
            posting_key=f"manual-move:{key}:out",
            doc=doc,
            actor=actor,
        )
        return moves


# ---------------------------------------------------------------- reservations


def reservation_create(
    *,
    actor,
    warehouse,
    part,
    quantity,
    doc_type: str,
    doc_number: str = "",
    doc_id=None,
    expires_at=None,
    idempotency_key: str,
) -> Reservation:
    """Hold stock for a document. Refused with the available quantity when short; the
    shortage is then recorded for the fill rate."""
    require_at(actor, "parts.add_reservation", dealer=warehouse.dealer)
    key = f"reserve:{_key(idempotency_key, actor)}"
    doc_type = (doc_type or "").strip()[:20]
    if not doc_type:
        raise ValidationFailed(
            _("Name the document the parts are reserved for."),
            fields={"doc_type": [_("This field is required.")]},
        )
    doc = stock.Doc(type=doc_type, id=doc_id, number=(doc_number or "").strip()[:40])
    try:
        return stock.reserve(
            actor=actor,
            warehouse=warehouse,
            part=part,
            quantity=quantity,
            key=key,
            doc=doc,
            expires_at=expires_at,
        )
    except stock.InsufficientStock:
        stock.record_shortage(warehouse=warehouse, part=part, quantity=quantity, key=key)
        raise


def reservation_release(*, actor, reservation: Reservation) -> Reservation:
    require_at(actor, "parts.change_reservation", dealer=reservation.item.warehouse.dealer)
    if reservation.status != ReservationStatus.ACTIVE:
        return reservation
    with transaction.atomic():
        released = stock.release(actor=actor, reservation=reservation)
        audit_event(
            released,
            actor=actor,
            action=AuditAction.UPDATE,
            changes={"status": [ReservationStatus.ACTIVE, released.status]},
        )
    return released
