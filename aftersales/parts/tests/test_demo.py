"""The demo stock loader: fast, idempotent, and books that add up."""

import time

import pytest
from django.db.models import Count, F, Sum
from django.utils import timezone

from aftersales.parts import stock
from aftersales.parts.choices import MoveKind, ReservationStatus
from aftersales.parts.demo import ITEMS_PER_DEALER, QS_ITEMS, load_parts_demo
from aftersales.parts.models import Bin, BinStock, Reservation, StockItem, StockMove, Warehouse

DEALERS = ["BJ01", "GZ01", "HZ01", "SH01", "SZ01", "TJ01"]


@pytest.mark.django_db
def test_demo_stock_loads_fast_twice_without_duplicates_and_adds_up(demo_org):
    # when the demo stock is loaded
    started = time.monotonic()
    first = load_parts_demo()
    took = time.monotonic() - started
    counts = (
        StockItem.objects.count(),
        StockMove.objects.count(),
        BinStock.objects.count(),
        Reservation.objects.count(),
        Bin.objects.count(),
    )
    # then every demo dealer has a main and a quick-service warehouse with their bins
    assert first["dealers"] == 6 and took < 30, (first, took)
    warehouses = Warehouse.objects.values_list("dealer__code", "code", "name")
    assert sorted(warehouses) == sorted(
        [(d, "MAIN", "主仓库") for d in DEALERS] + [(d, "QS", "快修库") for d in DEALERS]
    )
    assert Bin.objects.filter(warehouse__code="MAIN").count() == 6 * 40
    assert Bin.objects.filter(warehouse__code="QS").count() == 6 * 10
    per_dealer = dict(
        StockItem.objects.values("dealer__code")
        .annotate(n=Count("id"))
        .values_list("dealer__code", "n")
    )
    assert per_dealer == {d: ITEMS_PER_DEALER + QS_ITEMS for d in DEALERS}
    # and the books are exact: on hand = ledger = bins, replayed movement by movement
    assert stock.ledger_mismatches() == []
    assert not StockItem.objects.filter(reserved__gt=F("on_hand")).exists()
    # and reports have something to show: 90 days of receipts and issues, dead stock,
    # items below their minimum, open reservations
    now = timezone.now()
    recent = StockMove.objects.filter(at__gte=now - timezone.timedelta(days=90))
    assert recent.filter(kind=MoveKind.ISSUE).count() > 500
    assert recent.filter(kind=MoveKind.RECEIPT).count() > 300
    assert not StockMove.objects.filter(at__gt=now).exists()
    dead = StockItem.objects.filter(last_moved_at__lt=now - timezone.timedelta(days=200))
    assert dead.count() > 6 * 10
    assert not StockMove.objects.filter(
        item__in=dead, at__gte=now - timezone.timedelta(days=200)
    ).exists()
    below = StockItem.objects.filter(on_hand__lt=F("min_qty"))
    assert below.count() > 6 * 10
    assert Reservation.objects.filter(status=ReservationStatus.ACTIVE).count() >= 6 * 3
    assert StockMove.objects.exclude(bin__warehouse=F("warehouse")).count() == 0
    # the moving-average cost of every item is the one its last movement recorded
    last = {m.item_id: m for m in StockMove.objects.order_by("item_id", "id")}
    for item in StockItem.objects.all():
        assert (item.on_hand, item.avg_cost) == (
            last[item.pk].on_hand_after,
            last[item.pk].avg_cost_after,
        )
    # when loaded again: nothing is added
    second = load_parts_demo()
    assert second["dealers"] == 0
    assert counts == (
        StockItem.objects.count(),
        StockMove.objects.count(),
        BinStock.objects.count(),
        Reservation.objects.count(),
        Bin.objects.count(),
    )
    # and the demo value is plausible money, not zero
    value = StockItem.objects.aggregate(v=Sum(F("on_hand") * F("avg_cost")))["v"]
    assert value > 100_000
