"""The stock ledger under real concurrency: threads, each with its own database connection,
issue, receive and reserve the same few parts at once. Runs on SQLite (IMMEDIATE
transactions serialise the writers) and on PostgreSQL (row locks), with
``AFTERSALES_TEST_DATABASE=postgresql``."""

import random
import threading
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from aftersales.org.models import Dealer, Oem, Region
from aftersales.parts import stock
from aftersales.parts.choices import MoveKind, ReservationStatus
from aftersales.parts.models import BinStock, Part, Reservation, StockItem, StockMove
from aftersales.parts.stock import Doc, InsufficientStock
from aftersales.parts.testing import bin_of, make_part, make_warehouse, stock_up

D = Decimal
THREADS = 6
OPS_PER_THREAD = 40
OPENING = D("12")


def make_dealer(code="BJ01"):
    # plain rows (no audit entries): a transactional test flushes the tables afterwards
    oem, _ = Oem.objects.get_or_create(code="XC", defaults={"name": "XC"})
    region, _ = Region.objects.get_or_create(code="NORTH", defaults={"oem": oem, "name": "N"})
    return Dealer.objects.create(region=region, code=code, name=f"Dealer {code}")


@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_receipts_and_reservations_keep_the_books_exact():
    # given 3 parts with 12 units each spread over two bins, committed
    warehouse = make_warehouse(dealer=make_dealer(), bins=("A-01-01", "A-01-02"))
    parts = [make_part() for _ in range(3)]
    for part in parts:
        stock_up(warehouse=warehouse, part=part, quantity=OPENING / 2, unit_cost="50")
        stock_up(
            warehouse=warehouse,
            part=part,
            quantity=OPENING / 2,
            unit_cost="70",
            bin=bin_of(warehouse, "A-01-02"),
        )
    lock = threading.Lock()
    start = threading.Barrier(THREADS)
    issued = defaultdict(Decimal)  # part id -> units issued by successful calls
    received = defaultdict(Decimal)
    succeeded = {"issue": 0, "receipt": 0, "reserved_issue": 0}
    refused = {"issue": 0, "over_issue": 0, "reserve": 0}
    errors: list[BaseException] = []

    def worker(n):
        rng = random.Random(1000 + n)
        try:
            start.wait(timeout=30)
            for op in range(OPS_PER_THREAD):
                part = rng.choice(parts)
                key = f"t{n}-op{op}"
                roll = rng.random()
                try:
                    if roll < 0.45:
                        amount = D(rng.randint(1, 5))
                        stock.issue(
                            actor=None,
                            warehouse=warehouse,
                            part=part,
                            quantity=amount,
                            posting_key=key,
                            doc=Doc("RO", n),
                        )
                        with lock:
                            issued[part.pk] += amount
                            succeeded["issue"] += 1
                    elif roll < 0.55:
                        # more than the part ever holds here: must always be refused
                        try:
                            stock.issue(
                                actor=None,
                                warehouse=warehouse,
                                part=part,
                                quantity=D("500"),
                                posting_key=key,
                                doc=Doc("RO", n),
                            )
                        except InsufficientStock:
                            with lock:
                                refused["over_issue"] += 1
                    elif roll < 0.7:
                        amount = D(rng.randint(1, 3))
                        try:
                            held = stock.reserve(
                                actor=None,
                                warehouse=warehouse,
                                part=part,
                                quantity=amount,
                                key=key,
                                doc=Doc("RO", n),
                            )
                        except InsufficientStock:
                            with lock:
                                refused["reserve"] += 1
                            continue
                        # units held for the document are there when it issues them: a
                        # refusal here is a failure (it propagates to ``errors``)
                        stock.issue(
                            actor=None,
                            warehouse=warehouse,
                            part=part,
                            quantity=amount,
                            posting_key=f"{key}-issue",
                            doc=Doc("RO", n),
                            reservation=held,
                        )
                        with lock:
                            issued[part.pk] += amount
                            succeeded["reserved_issue"] += 1
                    else:
                        amount = D(rng.randint(1, 4))
                        stock.return_to_stock(
                            actor=None,
                            warehouse=warehouse,
                            part=part,
                            quantity=amount,
                            posting_key=key,
                            doc=Doc("RO", n),
                            unit_cost=D("60"),
                        )
                        with lock:
                            received[part.pk] += amount
                            succeeded["receipt"] += 1
                except InsufficientStock:
                    if not roll < 0.45:
                        raise
                    with lock:
                        refused["issue"] += 1
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    # when the threads work at once
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    # then no thread failed, and every over-issue was refused
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert refused["over_issue"] > 0
    assert succeeded["issue"] > 0 and succeeded["receipt"] > 0
    assert succeeded["reserved_issue"] > 0
    print(f"succeeded {succeeded}, refused {refused}")
    # no balance is negative, in the items or in the bins, nothing is left reserved
    assert not StockItem.objects.filter(on_hand__lt=0).exists()
    assert not BinStock.objects.filter(on_hand__lt=0).exists()
    assert not StockMove.objects.filter(on_hand_after__lt=0).exists()
    assert not Reservation.objects.filter(status=ReservationStatus.ACTIVE).exists()
    # each part's balance is what the successful calls say, and the ledger adds up to it
    for part in parts:
        item = StockItem.objects.get(warehouse=warehouse, part=part)
        assert item.on_hand == OPENING + received[part.pk] - issued[part.pk], part.number
        assert item.reserved == 0
        # the ledger replayed in order gives each movement's recorded balance: the
        # movements of one item were written one after the other, never interleaved
        running = D("0")
        for quantity, after in (
            StockMove.objects.filter(item=item)
            .order_by("id")
            .values_list("quantity", "on_hand_after")
        ):
            running += quantity
            assert after == running, part.number
        assert running == item.on_hand
    assert stock.ledger_mismatches() == []
    # the number of successful issues matches the issue postings (split ones count once)
    issue_lines = StockMove.objects.filter(kind=MoveKind.ISSUE).exclude(posting_key__contains="#")
    assert issue_lines.count() == succeeded["issue"] + succeeded["reserved_issue"]
    assert -StockMove.objects.filter(kind=MoveKind.ISSUE).aggregate(s=Sum("quantity"))["s"] == sum(
        issued.values()
    )
    returns = StockMove.objects.filter(kind=MoveKind.RETURN)
    assert returns.count() == succeeded["receipt"]
    assert returns.aggregate(s=Sum("quantity"))["s"] == sum(received.values())
    assert (
        Reservation.objects.filter(status=ReservationStatus.CONSUMED).count()
        == (succeeded["reserved_issue"])
    )


@pytest.mark.django_db(transaction=True)
def test_locking_a_stock_item_does_not_lock_the_catalogue_part():
    if connection.vendor != "postgresql":
        pytest.skip("row locks exist on PostgreSQL only (SQLite locks the whole database)")
    # given a part stocked in a warehouse, whose stock row one connection holds locked
    warehouse = make_warehouse(dealer=make_dealer())
    part = make_part()
    stock_up(warehouse=warehouse, part=part, quantity=1)
    locked, done = threading.Event(), threading.Event()

    def holder():
        try:
            with transaction.atomic():
                stock.item_for(warehouse=warehouse, part=part)
                locked.set()
                done.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert locked.wait(timeout=30)
        # when another connection locks the catalogue row (or another warehouse's stock of
        # the part would), it is not kept waiting
        with transaction.atomic():
            Part.objects.select_for_update(nowait=True).get(pk=part.pk)
    finally:
        done.set()
        thread.join(timeout=30)
