"""Stocktakes (盘点): snapshot, count, review, approve.

Counts are **reconciled, not frozen**. The workshop keeps issuing parts to repair orders
while the store is counted, so the sheet cannot lock the stock. Instead each line keeps
two ledger positions: ``snapshot_move_id`` (the last ledger id when the sheet was taken)
and ``counted_move_id`` (the last ledger id when the line was counted). At approval the
movements of that part and bin between the two (``moved_since``) are added to the
expected quantity, so

    variance = counted − (expected + moved_since)

and only units really missing or found are posted (kind ``stocktake``). Movements after
the count are left alone: they happened to what was counted. Both positions are read
with the stock items of the counted bins locked (the lock ``stock.post`` takes), so no
movement in flight can fall between the balance read and the ledger position.
"""

from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.core.access import require_at
from aftersales.core.audit import audit_create, audit_event
from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.core.models import AuditAction
from aftersales.core.numbering import next_number
from aftersales.parts import stock
from aftersales.parts.choices import STOCKTAKE_TRANSITIONS, MoveKind, StocktakeStatus
from aftersales.parts.models import (
    Bin,
    BinStock,
    StockItem,
    StockMove,
    Stocktake,
    StocktakeLine,
    Warehouse,
)

OPEN = (StocktakeStatus.COUNTING, StocktakeStatus.REVIEW)


def _last_move_id() -> int:
    return StockMove.objects.aggregate(last=Max("id"))["last"] or 0


def _lock(stocktake) -> Stocktake:
    return Stocktake.objects.select_for_update().select_related("warehouse").get(pk=stocktake.pk)


def _move_to(stocktake, target, *, actor, **extra):
    """Change the status if the transition table allows it, audited; else a 409."""
    current = StocktakeStatus(stocktake.status)
    if target not in STOCKTAKE_TRANSITIONS[current]:
        raise Conflict(
            _("Stocktake %(number)s is %(status)s: it cannot be %(action)s.")
            % {
                "number": stocktake.number,
                "status": current.label,
                "action": _TARGET_VERB[target],
            },
            code="illegal_transition",
        )
    stocktake.status = target
    stocktake.version += 1
    fields = ["status", "version", *extra.keys()]
    for name, value in extra.items():
        setattr(stocktake, name, value)
    stocktake.save(update_fields=fields)
    audit_event(
        stocktake,
        actor=actor,
        action=AuditAction.UPDATE,
        changes={"status": [current.value, target.value]},
    )
    return stocktake


_TARGET_VERB = {
    StocktakeStatus.COUNTING: gettext_lazy("reopened"),
    StocktakeStatus.REVIEW: gettext_lazy("submitted"),
    StocktakeStatus.APPROVED: gettext_lazy("approved"),
    StocktakeStatus.CANCELLED: gettext_lazy("cancelled"),
}


def _lock_items(item_ids):
    """Lock stock items in id order (the order every caller uses: no deadlock)."""
    return {
        item.pk: item
        for item in StockItem.objects.select_for_update()
        .select_related("part")
        .filter(pk__in=sorted(set(item_ids)))
        .order_by("pk")
    }


@transaction.atomic
def stocktake_start(*, actor, warehouse, bins=None, blind=True, note="") -> Stocktake:
    """Take the count sheet of a warehouse (or of some of its bins): one line per part and
    bin that has a stock row there, expecting the bin's on-hand now."""
    require_at(actor, "parts.add_stocktake", dealer=warehouse.dealer)
    warehouse = Warehouse.objects.select_for_update().select_related("dealer").get(pk=warehouse.pk)
    if not warehouse.active:
        raise ValidationFailed(_("This warehouse is closed."))
    bins = list(bins or [])
    if any(b.warehouse_id != warehouse.pk for b in bins):
        raise ValidationFailed(
            _("Every bin must be in warehouse %(code)s.") % {"code": warehouse.code},
            fields={"bins": [_("Not in this warehouse.")]},
        )
    bin_ids = {b.pk for b in bins}
    for other in Stocktake.objects.filter(warehouse=warehouse, status__in=OPEN).prefetch_related(
        "bins"
    ):
        other_bins = {b.pk for b in other.bins.all()}
        if not other_bins or not bin_ids or other_bins & bin_ids:
            raise Conflict(
                _(
                    "Stocktake %(number)s is still open for these bins: finish or cancel it "
                    "before starting another."
                )
                % {"number": other.number},
                code="stocktake_open",
            )
    rows = BinStock.objects.filter(item__warehouse=warehouse)
    if bin_ids:
        rows = rows.filter(bin_id__in=bin_ids)
    # hold the items: a movement in flight finishes first, later ones wait for the snapshot
    _lock_items(rows.values_list("item_id", flat=True))
    snapshot = list(rows.values_list("item_id", "bin_id", "on_hand"))
    last_move = _last_move_id()
    stocktake = Stocktake.objects.create(
        dealer=warehouse.dealer,
        warehouse=warehouse,
        number=next_number(doc_type="ST", dealer=warehouse.dealer),
        blind=blind,
        note=note or "",
        created_by=actor,
    )
    if bins:
        stocktake.bins.set(bins)
    StocktakeLine.objects.bulk_create(
        [
            StocktakeLine(
                stocktake=stocktake,
                item_id=item_id,
                bin_id=bin_id,
                expected=on_hand,
                snapshot_move_id=last_move,
            )
            for item_id, bin_id, on_hand in snapshot
        ]
    )
    audit_create(stocktake, actor=actor)
    return stocktake


def _check_bin(stocktake, bin_):
    if bin_.warehouse_id != stocktake.warehouse_id:
        raise ValidationFailed(
            _("Bin %(bin)s is not in warehouse %(code)s.")
            % {"bin": bin_.code, "code": stocktake.warehouse.code},
            fields={"bin": [_("Not in this warehouse.")]},
        )
    chosen = set(stocktake.bins.values_list("pk", flat=True))
    if chosen and bin_.pk not in chosen:
        raise ValidationFailed(
            _("Bin %(bin)s is not part of stocktake %(number)s.")
            % {"bin": bin_.code, "number": stocktake.number},
            fields={"bin": [_("Not on this count sheet.")]},
        )


@transaction.atomic
def stocktake_count(*, actor, stocktake, bin, part, counted=None, add=None) -> StocktakeLine:
    """Record what is on the shelf: ``counted`` sets the line's count (the last count
    wins), ``add`` adds to it (a scanned unit). A part found in a bin that is not on the
    sheet gets a line expecting 0."""
    require_at(actor, "parts.count_stocktake", dealer=stocktake.dealer)
    stocktake = _lock(stocktake)
    if stocktake.status != StocktakeStatus.COUNTING:
        raise Conflict(
            _("Stocktake %(number)s is not being counted (%(status)s).")
            % {"number": stocktake.number, "status": stocktake.get_status_display()},
            code="not_counting",
        )
    if (counted is None) == (add is None):
        raise ValidationFailed(_("Give either the counted quantity or a quantity to add."))
    _check_bin(stocktake, bin)
    item = stock.item_for(warehouse=stocktake.warehouse, part=part)
    line = (
        StocktakeLine.objects.select_for_update()
        .filter(stocktake=stocktake, item=item, bin=bin)
        .first()
    )
    if line is None:
        # no stock row in this bin at the snapshot: no movement of it came before, so the
        # line reconciles from the start of the ledger
        line = StocktakeLine.objects.create(
            stocktake=stocktake, item=item, bin=bin, expected=Decimal("0"), snapshot_move_id=0
        )
    before = line.counted
    if add is not None:
        amount = stock.qty(add)
        new = (before or Decimal("0")) + amount
    else:
        new = stock.qty(counted)
    if new < 0:
        raise ValidationFailed(
            _("A count cannot be negative."), fields={"counted": [_("At least 0.")]}
        )
    line.counted = new
    line.counted_at = timezone.now()
    line.counted_by = actor
    line.counted_move_id = _last_move_id()  # under the item's lock: consistent with the count
    line.save(update_fields=["counted", "counted_at", "counted_by", "counted_move_id"])
    audit_event(
        stocktake,
        actor=actor,
        action=AuditAction.UPDATE,
        changes={
            "count": {
                "line": line.pk,
                "bin": bin.code,
                "part": part.number,
                "counted": [str(before) if before is not None else None, str(new)],
            }
        },
    )
    return line


@transaction.atomic
def stocktake_submit(*, actor, stocktake, uncounted_as_zero=False) -> Stocktake:
    """Counting finished → review. Lines never counted are refused, unless
    ``uncounted_as_zero``: then they count as found empty (and say so in the audit)."""
    require_at(actor, "parts.count_stocktake", dealer=stocktake.dealer)
    stocktake = _lock(stocktake)
    if stocktake.status == StocktakeStatus.COUNTING:
        missing = stocktake.lines.filter(counted__isnull=True)
        total = missing.count()
        if total and not uncounted_as_zero:
            raise Conflict(
                _(
                    "%(n)s lines of stocktake %(number)s are not counted yet: count them, "
                    "or submit them as zero."
                )
                % {"n": total, "number": stocktake.number},
                code="uncounted_lines",
            )
        if total:
            lines = list(missing)
            _lock_items(line.item_id for line in lines)
            last, now = _last_move_id(), timezone.now()
            for line in lines:
                line.counted, line.counted_at, line.counted_by = Decimal("0"), now, actor
                line.counted_move_id = last
            StocktakeLine.objects.bulk_update(
                lines, ["counted", "counted_at", "counted_by", "counted_move_id"]
            )
            audit_event(
                stocktake,
                actor=actor,
                action=AuditAction.UPDATE,
                changes={"uncounted_as_zero": [None, [line.pk for line in lines]]},
            )
    return _move_to(stocktake, StocktakeStatus.REVIEW, actor=actor)


@transaction.atomic
def stocktake_reopen(*, actor, stocktake) -> Stocktake:
    require_at(actor, "parts.count_stocktake", dealer=stocktake.dealer)
    return _move_to(_lock(stocktake), StocktakeStatus.COUNTING, actor=actor)


@transaction.atomic
def stocktake_cancel(*, actor, stocktake) -> Stocktake:
    require_at(actor, "parts.add_stocktake", dealer=stocktake.dealer)
    return _move_to(_lock(stocktake), StocktakeStatus.CANCELLED, actor=actor)


def reconcile(lines) -> None:
    """Fill ``moved_since`` and ``variance`` on the lines (in memory; uncounted lines get
    no variance)."""
    found = _per_line_sums(lines)
    for line in lines:
        if line.counted is None:
            line.moved_since, line.variance = Decimal("0"), None
            continue
        line.moved_since = found.get(line.pk, Decimal("0"))
        line.variance = line.counted - (line.expected + line.moved_since)


def _per_line_sums(lines) -> dict[int, Decimal]:
    """Ledger sums per line when lines were counted at different moments: fetch the
    movements of the sheet's parts and bins in the overall window once, then add each
    into the lines whose window holds it."""
    counted = [line for line in lines if line.counted_move_id is not None]
    if not counted:
        return {}
    low = min(line.snapshot_move_id for line in counted)
    high = max(line.counted_move_id for line in counted)
    keys = {(line.item_id, line.bin_id) for line in counted}
    moves = StockMove.objects.filter(
        pk__gt=low,
        pk__lte=high,
        item_id__in={k[0] for k in keys},
        bin_id__in={k[1] for k in keys},
    ).values_list("pk", "item_id", "bin_id", "quantity")
    by_key: dict[tuple, list] = {}
    for pk, item_id, bin_id, quantity in moves:
        by_key.setdefault((item_id, bin_id), []).append((pk, quantity))
    result = {}
    for line in counted:
        result[line.pk] = sum(
            (
                quantity
                for pk, quantity in by_key.get((line.item_id, line.bin_id), [])
                if line.snapshot_move_id < pk <= line.counted_move_id
            ),
            Decimal("0"),
        )
    return result


@transaction.atomic
def stocktake_approve(*, actor, stocktake) -> Stocktake:
    """Review → approved: post each line's variance to the ledger (kind ``stocktake``) in
    its bin. A loss larger than what the bin holds now is refused, naming the line."""
    require_at(actor, "parts.approve_stocktake", dealer=stocktake.dealer)
    stocktake = _lock(stocktake)
    if StocktakeStatus.APPROVED not in STOCKTAKE_TRANSITIONS[StocktakeStatus(stocktake.status)]:
        return _move_to(stocktake, StocktakeStatus.APPROVED, actor=actor)  # raises the 409
    lines = list(stocktake.lines.select_related("bin", "item__part"))
    items = _lock_items(line.item_id for line in lines)
    reconcile(lines)
    in_bins = {
        (row.item_id, row.bin_id): row.on_hand
        for row in BinStock.objects.filter(
            item_id__in=items.keys(), bin_id__in={line.bin_id for line in lines}
        )
    }
    doc = stock.Doc(type="stocktake", id=stocktake.pk, number=stocktake.number)
    for line in lines:
        if not line.variance:
            continue
        now_in_bin = in_bins.get((line.item_id, line.bin_id), Decimal("0"))
        if line.variance < 0 and -line.variance > now_in_bin:
            raise Conflict(
                _(
                    "Line %(part)s in bin %(bin)s: the count shows %(loss)s missing but the "
                    "bin holds only %(n)s now. Recount this line."
                )
                % {
                    "part": line.item.part.number,
                    "bin": line.bin.code,
                    "loss": stock.show(-line.variance),
                    "n": stock.show(now_in_bin),
                },
                code="loss_exceeds_stock",
            )
        item = items[line.item_id]
        stock.post(
            item=item,
            kind=MoveKind.STOCKTAKE,
            quantity=line.variance,
            bin=line.bin,
            allow_reserved=True,
            posting_key=f"st:{stocktake.pk}:{line.pk}",
            doc=doc,
            actor=actor,
            reason=_("Stocktake %(number)s") % {"number": stocktake.number},
        )
        in_bins[(line.item_id, line.bin_id)] = now_in_bin + line.variance
    StocktakeLine.objects.bulk_update(lines, ["moved_since", "variance"])
    return _move_to(
        stocktake,
        StocktakeStatus.APPROVED,
        actor=actor,
        approved_by=actor,
        approved_at=timezone.now(),
    )


def bin_for_code(warehouse, code: str) -> Bin | None:
    """A bin of the warehouse by its label (``BIN:<id>``) or its code."""
    code = (code or "").strip()
    rows = Bin.objects.filter(warehouse=warehouse)
    if code.upper().startswith("BIN:"):
        pk = code[4:].strip()
        return rows.filter(pk=pk).first() if pk.isdigit() else None
    return rows.filter(code__iexact=code).first()
