"""Builders of parts records for tests, the demo data and the benchmarks."""

import itertools
from decimal import Decimal

from django.db import transaction

_counter = itertools.count(1)


def make_category(code: str = "FILTER", name: str = "滤清器", name_en: str = "Filters"):
    from aftersales.parts.models import PartCategory

    category, _created = PartCategory.objects.get_or_create(
        code=code, defaults={"name": name, "name_en": name_en}
    )
    return category


def make_part(*, number: str | None = None, category=None, **fields):
    from aftersales.parts.models import Part

    n = next(_counter)
    fields.setdefault("name", f"机油滤清器 {n}")
    fields.setdefault("name_en", f"Oil filter {n}")
    fields.setdefault("list_price", Decimal("120.00"))
    fields.setdefault("dealer_cost", Decimal("80.00"))
    return Part.objects.create(
        number=number or f"T{n:08d}", category=category or make_category(), **fields
    )


def make_warehouse(*, dealer, code: str = "MAIN", name: str = "主仓库", bins=("A-01-01",)):
    from aftersales.parts.models import Bin, Warehouse

    warehouse, _created = Warehouse.objects.get_or_create(
        dealer=dealer, code=code, defaults={"name": name}
    )
    for bin_code in bins:
        Bin.objects.get_or_create(warehouse=warehouse, code=bin_code, defaults={"dealer": dealer})
    return warehouse


def bin_of(warehouse, code: str = "A-01-01"):
    from aftersales.parts.models import Bin

    return Bin.objects.get(warehouse=warehouse, code=code)


def stock_up(*, warehouse, part, quantity, unit_cost=None, bin=None, actor=None):
    """Put ``quantity`` on the shelf through the ledger (a receipt without a PO)."""
    from aftersales.parts.choices import MoveKind
    from aftersales.parts.stock import Doc, item_for, post

    with transaction.atomic():
        item = item_for(warehouse=warehouse, part=part)
        post(
            item=item,
            kind=MoveKind.RECEIPT,
            quantity=Decimal(str(quantity)),
            unit_cost=part.dealer_cost if unit_cost is None else Decimal(str(unit_cost)),
            bin=bin,
            posting_key=f"test-stock-{next(_counter)}",
            doc=Doc(type="test"),
            actor=actor,
        )
    item.refresh_from_db()
    return item
