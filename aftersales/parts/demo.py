"""Demo stock for the demo dealers: warehouses and bins, opening stock with reorder points,
90 days of receipts and issues, some dead stock and some items below their minimum, and a
few open reservations.

Written in bulk: the balances, bins and moving-average costs are computed here with the
same arithmetic as ``stock.post`` and written with ``bulk_create`` next to the movements
that add up to them; the loader ends by proving the books with ``ledger_mismatches``.
Deterministic and idempotent: a dealer whose demo movements exist is left alone.
"""

import datetime
import random
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

MAIN_BINS = [
    f"{aisle}-{rack:02d}-{level:02d}"
    for aisle in "AB"
    for rack in range(1, 5)
    for level in range(1, 6)
]
QS_BINS = [f"Q-{rack:02d}-{level:02d}" for rack in range(1, 3) for level in range(1, 6)]
ITEMS_PER_DEALER = 300
QS_ITEMS = 40
HISTORY_DAYS = 90
COST_PLACES = Decimal("0.0001")
PREFIX = "demo"


def _average(on_hand, avg, quantity, cost) -> Decimal:
    return ((on_hand * avg + quantity * cost) / (on_hand + quantity)).quantize(
        COST_PLACES, rounding=ROUND_HALF_UP
    )


class _Book:
    """One stock item being written: its balance, bins and movements in time order."""

    def __init__(self, item_index, part, warehouse, default_bin):
        self.index, self.part, self.warehouse = item_index, part, warehouse
        self.default_bin = default_bin
        self.on_hand, self.avg = Decimal("0"), Decimal("0")
        self.bins: dict[int, Decimal] = {}  # bin id -> quantity, in the order first used
        self.moves: list[dict] = []
        self.last = None

    def receive(self, at, quantity, cost, bin_, key, number):
        self.avg = _average(self.on_hand, self.avg, quantity, cost)
        self.on_hand += quantity
        self.bins[bin_.pk] = self.bins.get(bin_.pk, Decimal("0")) + quantity
        self._move(at, "receipt", quantity, cost, bin_.pk, key, number)

    def issue(self, at, quantity, key, number):
        order = sorted(self.bins, key=lambda b: (b != self.default_bin.pk, -self.bins[b], b))
        left, n = quantity, 0
        for bin_id in order:
            take = min(left, self.bins[bin_id])
            if take <= 0:
                continue
            n += 1
            self.bins[bin_id] -= take
            self.on_hand -= take
            self._move(
                at, "issue", -take, self.avg, bin_id, key if n == 1 else f"{key}#{n}", number
            )
            left -= take
            if left == 0:
                break

    def _move(self, at, kind, quantity, cost, bin_id, key, number):
        self.moves.append(
            {
                "at": at,
                "kind": kind,
                "quantity": quantity,
                "unit_cost": cost,
                "bin_id": bin_id,
                "on_hand_after": self.on_hand,
                "avg_cost_after": self.avg,
                "posting_key": key,
                "doc_number": number,
            }
        )
        self.last = at


def _money(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _plan_dealer(rng, code, parts, warehouses, bins, now):
    """The books of one dealer, computed in memory."""
    books = []
    chosen = rng.sample(parts, min(ITEMS_PER_DEALER, len(parts)))
    quick = set(p.pk for p in chosen[:QS_ITEMS])
    slots = [(warehouses["MAIN"], p) for p in chosen]
    slots += [(warehouses["QS"], p) for p in chosen if p.pk in quick]
    seq = 0
    for index, (warehouse, part) in enumerate(slots):
        shelf = bins[warehouse.code]
        book = _Book(index, part, warehouse, shelf[index % len(shelf)])
        base = f"{PREFIX}:{code}:{warehouse.code}:{part.number}"
        cost = Decimal(part.dealer_cost)
        dead = rng.random() < 0.1
        opened = now - datetime.timedelta(
            days=rng.randint(200, 400) if dead else rng.randint(HISTORY_DAYS + 5, 180),
            minutes=rng.randint(0, 600),
        )
        book.receive(
            opened, Decimal(rng.randint(4, 30)), cost, book.default_bin, f"{base}:open", "OPENING"
        )
        if not dead and rng.random() < 0.2:  # part of the stock sits on a second shelf
            extra = shelf[(index + 7) % len(shelf)]
            book.receive(
                opened + datetime.timedelta(minutes=5),
                Decimal(rng.randint(2, 10)),
                cost,
                extra,
                f"{base}:open2",
                "OPENING",
            )
        if not dead:
            events = sorted(rng.sample(range(1, HISTORY_DAYS * 24), rng.randint(2, 10)))
            for hours_ago in reversed(events):  # oldest first
                at = now - datetime.timedelta(hours=hours_ago, minutes=rng.randint(0, 59))
                seq += 1
                if book.on_hand >= 2 and rng.random() < 0.65:
                    amount = Decimal(rng.randint(1, min(4, int(book.on_hand))))
                    book.issue(at, amount, f"{base}:i{seq}", f"DEMO-RO-{seq:05d}")
                else:
                    price = _money(cost * Decimal(rng.uniform(0.95, 1.06)))
                    book.receive(
                        at,
                        Decimal(rng.randint(4, 16)),
                        price,
                        book.default_bin,
                        f"{base}:r{seq}",
                        f"DEMO-GR-{seq:05d}",
                    )
        minimum = Decimal(rng.randint(2, 6))
        if not dead and rng.random() < 0.12:  # below the minimum: shows in alerts/suggestions
            minimum = max(minimum, book.on_hand + rng.randint(1, 4))
        book.min_qty, book.max_qty = minimum, minimum * 3
        books.append(book)
    return books


def load_parts_demo(stdout=None) -> dict:
    """Load the demo stock (after the org and the parts catalogue). Idempotent."""
    from aftersales.org.models import Dealer, User
    from aftersales.parts.demo_catalogue import load_parts_catalogue_demo
    from aftersales.parts.models import Bin, BinStock, Part, StockItem, StockMove, Warehouse
    from aftersales.parts.stock import Doc, ledger_mismatches, reserve

    load_parts_catalogue_demo()
    now = timezone.now()
    parts = list(Part.objects.filter(active=True).order_by("number"))
    result = {"dealers": 0, "items": 0, "moves": 0, "reservations": 0}
    for dealer in Dealer.objects.filter(
        code__in=["BJ01", "TJ01", "SH01", "HZ01", "GZ01", "SZ01"]
    ).order_by("code"):
        if StockMove.objects.filter(posting_key__startswith=f"{PREFIX}:{dealer.code}:").exists():
            continue
        rng = random.Random(f"parts-demo-{dealer.code}")
        clerk = User.objects.filter(username=f"{dealer.code.lower()}-parts").first()
        with transaction.atomic():
            warehouses, bins = {}, {}
            for code, name, codes in (("MAIN", "主仓库", MAIN_BINS), ("QS", "快修库", QS_BINS)):
                warehouse, _ = Warehouse.objects.get_or_create(
                    dealer=dealer, code=code, defaults={"name": name}
                )
                have = set(warehouse.bins.values_list("code", flat=True))
                Bin.objects.bulk_create(
                    [
                        Bin(warehouse=warehouse, dealer=dealer, code=c)
                        for c in codes
                        if c not in have
                    ]
                )
                warehouses[code] = warehouse
                by_code = {b.code: b for b in warehouse.bins.all()}
                bins[code] = [by_code[c] for c in codes]
            taken = set(
                StockItem.objects.filter(dealer=dealer).values_list("warehouse_id", "part_id")
            )
            books = [
                b
                for b in _plan_dealer(rng, dealer.code, parts, warehouses, bins, now)
                if (b.warehouse.pk, b.part.pk) not in taken
            ]
            items = StockItem.objects.bulk_create(
                [
                    StockItem(
                        dealer=dealer,
                        warehouse=b.warehouse,
                        part=b.part,
                        on_hand=b.on_hand,
                        avg_cost=b.avg,
                        min_qty=b.min_qty,
                        max_qty=b.max_qty,
                        default_bin=b.default_bin,
                        last_moved_at=b.last,
                    )
                    for b in books
                ],
                batch_size=500,
            )
            # both databases return the new ids from a bulk insert (SQLite >= 3.35)
            assert all(item.pk for item in items)
            BinStock.objects.bulk_create(
                [
                    BinStock(item=item, bin_id=bin_id, dealer=dealer, on_hand=quantity)
                    for book, item in zip(books, items, strict=True)
                    for bin_id, quantity in book.bins.items()
                ],
                batch_size=1000,
            )
            moves = [
                StockMove(
                    dealer=dealer,
                    warehouse=book.warehouse,
                    item=item,
                    part=book.part,
                    actor=clerk,
                    doc_type="demo",
                    **m,
                )
                for book, item in zip(books, items, strict=True)
                for m in book.moves
            ]
            StockMove.objects.bulk_create(moves, batch_size=1000)
        # a few open reservations, through the service (each in its own transaction)
        held = 0
        for book in books[5:60:6]:
            if book.on_hand - 1 >= book.min_qty and book.on_hand >= 2:
                reserve(
                    actor=clerk,
                    warehouse=book.warehouse,
                    part=book.part,
                    quantity=1,
                    key=f"{PREFIX}:{dealer.code}:res:{book.index}",
                    doc=Doc("demo", None, f"DEMO-RO-R{book.index:04d}"),
                    expires_at=now + datetime.timedelta(days=7),
                )
                held += 1
        result["dealers"] += 1
        result["items"] += len(books)
        result["moves"] += len(moves)
        result["reservations"] += held
    wrong = ledger_mismatches()
    if wrong:
        raise RuntimeError(f"demo stock does not add up: {wrong[:5]}")
    if stdout is not None:
        stdout.write(f"parts stock: {result}\n")
    return result
