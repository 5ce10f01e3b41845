"""Stock reads, scoped to what the user may see (``restrict``): the stock list, the stock
card of one item and the ledger."""

from dataclasses import dataclass

from django.db.models import DecimalField, ExpressionWrapper, F, Q
from django.shortcuts import get_object_or_404

from aftersales.core.access import user_scope
from aftersales.parts.choices import ReservationStatus
from aftersales.parts.models import BinStock, Reservation, StockItem, StockMove, Warehouse

_QTY = DecimalField(max_digits=12, decimal_places=2)
_MONEY = DecimalField(max_digits=20, decimal_places=4)


def warehouses(user, action: str = "view"):
    return (
        Warehouse.objects.restrict(user, action)
        .select_related("dealer")
        .order_by("dealer__code", "code")
    )


def bins(user, action: str = "view"):
    """Bins of the warehouses the user may see (bins have no permission of their own)."""
    from aftersales.parts.models import Bin

    scope = user_scope(user, f"parts.{action}_warehouse")
    qs = Bin.objects.all()
    return qs if scope.everything else qs.filter(dealer_id__in=scope.dealer_ids)


def stock_items(user, warehouse=None, q=None, category=None, low=False, dealer=None):
    """The stock items the user may see, with ``available_qty`` and ``stock_value``
    annotated. ``q`` matches the part number or barcode (exact or prefix), the name
    (contains) or a bin code / bin label (BIN:<id>) the part lies in."""
    qs = (
        StockItem.objects.restrict(user, "view")
        .select_related("part", "part__category", "warehouse", "warehouse__dealer", "default_bin")
        .annotate(
            available_qty=ExpressionWrapper(F("on_hand") - F("reserved"), output_field=_QTY),
            stock_value=ExpressionWrapper(F("on_hand") * F("avg_cost"), output_field=_MONEY),
        )
    )
    if warehouse is not None:
        qs = qs.filter(warehouse=warehouse)
    if dealer is not None:
        qs = qs.filter(dealer=dealer)
    if category is not None:
        qs = qs.filter(part__category=category)
    if low:
        qs = qs.filter(min_qty__gt=0, available_qty__lt=F("min_qty"))
    q = (q or "").strip()
    if q:
        upper = q.upper()
        condition = (
            Q(part__number__startswith=upper)
            | Q(part__barcode=q)
            | Q(part__name__contains=q)
            | Q(part__name_en__icontains=q)
        )
        if upper.startswith("BIN:") and upper[4:].isdigit():
            condition |= Q(bins__bin_id=int(upper[4:]), bins__on_hand__gt=0)
        else:
            condition |= Q(bins__bin__code=upper, bins__on_hand__gt=0) | Q(default_bin__code=upper)
        qs = qs.filter(condition).distinct()
    return qs.order_by("warehouse__dealer__code", "warehouse__code", "part__number")


def stock_item(user, pk, action: str = "view") -> StockItem:
    """One stock item the user may see (404 otherwise)."""
    return get_object_or_404(
        StockItem.objects.restrict(user, action).select_related(
            "part", "part__category", "part__superseded_by", "warehouse", "warehouse__dealer"
        ),
        pk=pk,
    )


@dataclass
class StockCard:
    item: StockItem
    bins: list
    reservations: list
    moves: object  # the ledger queryset, newest first (paginate it)


def stock_card(user, item: StockItem) -> StockCard:
    """The card of one item: its bins, open reservations and ledger (newest first)."""
    bins = list(
        BinStock.objects.filter(item=item)
        .filter(Q(on_hand__gt=0) | Q(bin_id=item.default_bin_id))
        .select_related("bin")
        .order_by("bin__code")
    )
    reservations = list(
        Reservation.objects.restrict(user, "view")
        .filter(item=item, status=ReservationStatus.ACTIVE)
        .select_related("created_by")
        .order_by("expires_at", "id")
    )
    moves = ledger(user, item=item)
    return StockCard(item=item, bins=bins, reservations=reservations, moves=moves)


def ledger(
    user,
    *,
    item=None,
    warehouse=None,
    part=None,
    kind=None,
    since=None,
    until=None,
    doc_type=None,
    doc_number=None,
):
    """Ledger lines the user may see, newest first."""
    qs = StockMove.objects.restrict(user, "view").select_related(
        "part", "bin", "actor", "warehouse"
    )
    if item is not None:
        qs = qs.filter(item=item)
    if warehouse is not None:
        qs = qs.filter(warehouse=warehouse)
    if part is not None:
        qs = qs.filter(part=part)
    if kind:
        qs = qs.filter(kind=kind)
    if since is not None:
        qs = qs.filter(at__gte=since)
    if until is not None:
        qs = qs.filter(at__lt=until)
    if doc_type:
        qs = qs.filter(doc_type=doc_type)
    if doc_number:
        qs = qs.filter(doc_number=doc_number)
    return qs.order_by("-at", "-id")


def reservations(user, *, item=None, status=None, doc_type=None, doc_number=None):
    qs = Reservation.objects.restrict(user, "view").select_related(
        "item", "item__part", "item__warehouse", "created_by"
    )
    if item is not None:
        qs = qs.filter(item=item)
    if status:
        qs = qs.filter(status=status)
    if doc_type:
        qs = qs.filter(doc_type=doc_type)
    if doc_number:
        qs = qs.filter(doc_number=doc_number)
    return qs.order_by("-created_at", "-id")


def resolve_scan(user, code: str, warehouse=None) -> dict:
    """What a scanned or typed code names: a bin label (BIN:<id>) or bin code of the
    warehouse, else a part by barcode or number. Returns {"kind": "bin"|"part"|None, ...}."""
    from aftersales.parts.models import Part

    code = (code or "").strip()
    if not code:
        return {"kind": None}
    upper = code.upper()
    found_bins = bins(user).filter(active=True)
    if warehouse is not None:
        found_bins = found_bins.filter(warehouse=warehouse)
    if upper.startswith("BIN:") and upper[4:].isdigit():
        found = found_bins.filter(pk=int(upper[4:])).first()
        return {"kind": "bin", "bin": found} if found else {"kind": None}
    part = Part.objects.filter(Q(barcode=code) | Q(number=upper)).first()
    if part is not None:
        return {"kind": "part", "part": part}
    if warehouse is not None:
        found = found_bins.filter(code=upper).first()
        if found:
            return {"kind": "bin", "bin": found}
    return {"kind": None}
