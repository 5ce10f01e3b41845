"""Parts reports (SPEC §6): stock value by category, turnover, dead stock and fill rate.

Every figure is aggregated by the database (``GROUP BY`` / sub-queries), never by looping
over stock rows in Python; the rows returned are one per category or per dealer. Rows are
scoped with ``restrict``: a dealer's staff see their dealer, a region manager the region,
the OEM everything; ``dealer`` and ``warehouse`` narrow further.

Turnover = cost of the parts issued in the period (issues minus returns, at the cost
they left with) ÷ average stock value, where the average stock value is
(opening value + closing value) / 2 and the opening / closing value of an item is its
ledger's ``on_hand_after × avg_cost_after`` of its last movement before the period's
start / end.
"""

import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.core.access import user_scope
from aftersales.parts.choices import MoveKind
from aftersales.parts.models import PartDemand, StockItem, StockMove

ZERO = Decimal("0")
_MONEY = DecimalField(max_digits=20, decimal_places=4)
_CENT = Decimal("0.01")
DEAD_DAYS = 180

REPORTS = {
    "stock-value": gettext_lazy("Stock value by category"),
    "turnover": gettext_lazy("Turnover"),
    "dead-stock": gettext_lazy("Dead stock"),
    "fill-rate": gettext_lazy("Fill rate"),
}


@dataclass
class Report:
    name: str
    title: str
    columns: list  # (key, label)
    rows: list[dict]
    totals: dict = field(default_factory=dict)
    note: str = ""


def _money(value) -> Decimal:
    return (value or ZERO).quantize(_CENT)


def _scoped(qs, user):
    """Rows of the dealers where the user may read reports (parts.view_stockmove)."""
    scope = user_scope(user, "parts.view_stockmove")
    if scope.everything:
        return qs
    return qs.filter(dealer_id__in=scope.dealer_ids)


def _items(user, dealer=None, warehouse=None):
    qs = _scoped(StockItem.objects.all(), user)
    if dealer is not None:
        qs = qs.filter(dealer=dealer)
    if warehouse is not None:
        qs = qs.filter(warehouse=warehouse)
    return qs


def _moves(user, dealer=None, warehouse=None):
    qs = _scoped(StockMove.objects.all(), user)
    if dealer is not None:
        qs = qs.filter(dealer=dealer)
    if warehouse is not None:
        qs = qs.filter(warehouse=warehouse)
    return qs


def _value_expr():
    return ExpressionWrapper(F("on_hand") * F("avg_cost"), output_field=_MONEY)


# ---------------------------------------------------------------- stock value


def stock_value(user, *, dealer=None, warehouse=None) -> Report:
    """On hand × average cost per category (and dealer)."""
    rows = list(
        _items(user, dealer, warehouse)
        .filter(on_hand__gt=0)
        .values("dealer__code", "part__category__code", "part__category__name")
        .annotate(items=Count("id"), quantity=Sum("on_hand"), value=Sum(_value_expr()))
        .order_by("dealer__code", "part__category__code")
    )
    out = [
        {
            "dealer": r["dealer__code"],
            "category": r["part__category__code"],
            "category_name": r["part__category__name"],
            "items": r["items"],
            "quantity": r["quantity"],
            "value": _money(r["value"]),
        }
        for r in rows
    ]
    return Report(
        name="stock-value",
        title=str(REPORTS["stock-value"]),
        columns=[
            ("dealer", _("Dealer")),
            ("category", _("Category")),
            ("category_name", _("Name")),
            ("items", _("Parts")),
            ("quantity", _("On hand")),
            ("value", _("Value")),
        ],
        rows=out,
        totals={
            "items": sum(r["items"] for r in out),
            "value": sum((r["value"] for r in out), ZERO),
        },
    )


# ---------------------------------------------------------------- turnover


def _value_at(items, moment):
    """Sum over ``items`` of their stock value just before ``moment`` (one query)."""
    last = (
        StockMove.objects.filter(item=OuterRef("pk"), at__lt=moment)
        .order_by("-at", "-id")
        .annotate(
            v=ExpressionWrapper(F("on_hand_after") * F("avg_cost_after"), output_field=_MONEY)
        )
        .values("v")[:1]
    )
    return (
        items.annotate(v=Coalesce(Subquery(last, output_field=_MONEY), Value(ZERO)))
        .values("part__category__code")
        .annotate(total=Sum("v"))
        .order_by()
    )


def turnover(
    user, *, since: datetime.datetime, until: datetime.datetime, dealer=None, warehouse=None
) -> Report:
    """Cost of issues in [since, until) ÷ ((opening value + closing value) / 2), per
    category and in total; the annualised figure scales it to 365 days."""
    items = _items(user, dealer, warehouse)
    used = dict(
        _moves(user, dealer, warehouse)
        .filter(at__gte=since, at__lt=until, kind__in=[MoveKind.ISSUE, MoveKind.RETURN])
        .values("part__category__code")
        .annotate(cost=Sum(ExpressionWrapper(-F("quantity") * F("unit_cost"), output_field=_MONEY)))
        .values_list("part__category__code", "cost")
    )
    opening = dict(_value_at(items, since).values_list("part__category__code", "total"))
    closing = dict(_value_at(items, until).values_list("part__category__code", "total"))
    days = max((until - since).days, 1)
    rows = []
    for code in sorted(set(used) | set(opening) | set(closing)):
        rows.append(_turn_row(code, used.get(code), opening.get(code), closing.get(code), days))
    total = _turn_row(
        "",
        sum((v or ZERO for v in used.values()), ZERO),
        sum((v or ZERO for v in opening.values()), ZERO),
        sum((v or ZERO for v in closing.values()), ZERO),
        days,
    )
    return Report(
        name="turnover",
        title=str(REPORTS["turnover"]),
        columns=[
            ("category", _("Category")),
            ("issued_cost", _("Issued at cost")),
            ("opening", _("Opening value")),
            ("closing", _("Closing value")),
            ("average", _("Average stock value")),
            ("turns", _("Turns in period")),
            ("turns_year", _("Turns per year")),
        ],
        rows=[r for r in rows if r["issued_cost"] or r["average"]],
        totals=total,
        note=_(
            "Average stock value = (opening value + closing value) / 2, from the ledger's "
            "balance after the last movement before each date."
        ),
    )


def _turn_row(code, used, opening, closing, days):
    used, opening, closing = _money(used), _money(opening), _money(closing)
    average = ((opening + closing) / 2).quantize(_CENT)
    turns = (used / average).quantize(_CENT) if average else None
    yearly = (turns * Decimal(365) / Decimal(days)).quantize(_CENT) if turns is not None else None
    return {
        "category": code,
        "issued_cost": used,
        "opening": opening,
        "closing": closing,
        "average": average,
        "turns": turns,
        "turns_year": yearly,
    }


# ---------------------------------------------------------------- dead stock


def dead_stock_items(user, *, days: int = DEAD_DAYS, now=None, dealer=None, warehouse=None):
    """Items with stock on hand that have not moved for ``days`` days (a queryset)."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    return (
        _items(user, dealer, warehouse)
        .filter(on_hand__gt=0)
        .filter(Q(last_moved_at__lt=cutoff) | Q(last_moved_at__isnull=True))
        .select_related("part", "warehouse", "warehouse__dealer")
        .annotate(value=_value_expr())
        .order_by("last_moved_at", "id")
    )


def dead_stock(
    user, *, days: int = DEAD_DAYS, now=None, dealer=None, warehouse=None, limit: int = 500
) -> Report:
    items = dead_stock_items(user, days=days, now=now, dealer=dealer, warehouse=warehouse)
    totals = items.order_by().aggregate(count=Count("id"), total=Sum(_value_expr()))
    rows = [
        {
            "dealer": i.warehouse.dealer.code,
            "warehouse": i.warehouse.code,
            "part": i.part.number,
            "name": i.part.name,
            "on_hand": i.on_hand,
            "value": _money(i.value),
            "last_moved_at": timezone.localtime(i.last_moved_at).strftime("%Y-%m-%d")
            if i.last_moved_at
            else "",
        }
        for i in items[:limit]
    ]
    return Report(
        name="dead-stock",
        title=str(REPORTS["dead-stock"]),
        columns=[
            ("dealer", _("Dealer")),
            ("warehouse", _("Warehouse")),
            ("part", _("Part number")),
            ("name", _("Name")),
            ("on_hand", _("On hand")),
            ("value", _("Value")),
            ("last_moved_at", _("Last movement")),
        ],
        rows=rows,
        totals={"count": totals["count"], "value": _money(totals["total"])},
        note=_("On hand and no movement for %(days)s days.") % {"days": days},
    )


# ---------------------------------------------------------------- fill rate


def fill_rate(user, *, since, until, dealer=None, warehouse=None) -> Report:
    """Share of document lines served in full from stock at their first request."""
    qs = _scoped(PartDemand.objects.all(), user).filter(at__gte=since, at__lt=until)
    if dealer is not None:
        qs = qs.filter(dealer=dealer)
    if warehouse is not None:
        qs = qs.filter(item__warehouse=warehouse)
    grouped = list(
        qs.values("dealer__code")
        .annotate(lines=Count("id"), served=Count("id", filter=Q(served=True)))
        .order_by("dealer__code")
    )
    rows = [
        {
            "dealer": r["dealer__code"],
            "lines": r["lines"],
            "served": r["served"],
            "rate": _rate(r["served"], r["lines"]),
        }
        for r in grouped
    ]
    lines = sum(r["lines"] for r in rows)
    served = sum(r["served"] for r in rows)
    return Report(
        name="fill-rate",
        title=str(REPORTS["fill-rate"]),
        columns=[
            ("dealer", _("Dealer")),
            ("lines", _("Lines asked")),
            ("served", _("Served from stock")),
            ("rate", _("Fill rate %")),
        ],
        rows=rows,
        totals={"lines": lines, "served": served, "rate": _rate(served, lines)},
        note=_(
            "Lines reserved for documents; repair orders add their lines once they reserve parts."
        ),
    )


def _rate(served, lines):
    if not lines:
        return None
    return (Decimal(served) * 100 / Decimal(lines)).quantize(Decimal("0.1"))


# ---------------------------------------------------------------- run and export


def run(
    name: str, user, *, dealer=None, warehouse=None, since=None, until=None, days: int = DEAD_DAYS
) -> Report:
    now = timezone.now()
    until = until or now
    since = since or (until - datetime.timedelta(days=90))
    if name == "stock-value":
        return stock_value(user, dealer=dealer, warehouse=warehouse)
    if name == "turnover":
        return turnover(user, since=since, until=until, dealer=dealer, warehouse=warehouse)
    if name == "dead-stock":
        return dead_stock(user, days=days, dealer=dealer, warehouse=warehouse)
    if name == "fill-rate":
        return fill_rate(user, since=since, until=until, dealer=dealer, warehouse=warehouse)
    raise KeyError(name)


def to_excel(report: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = report.name[:31]
    sheet.append([report.title])
    sheet["A1"].font = Font(bold=True, size=13)
    if report.note:
        sheet.append([report.note])
    sheet.append([])
    sheet.append([str(label) for _key, label in report.columns])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in report.rows:
        sheet.append([_cell(row.get(key)) for key, _label in report.columns])
    if report.totals:
        sheet.append(
            [_("Total")] + [_cell(report.totals.get(key)) for key, _label in report.columns[1:]]
        )
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
    for column in sheet.columns:
        sheet.column_dimensions[column[0].column_letter].width = 16
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value):
    if isinstance(value, Decimal):
        return float(value)
    return value
