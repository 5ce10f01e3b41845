"""Concurrency proof of the stock ledger (issue 4).

    .venv/bin/python bench/parts_concurrency.py --db sqlite|postgresql|both
        [--processes 8] [--ops 500] [--parts 20] [--seed 2026]

``--processes`` processes (each its own Django set-up and database connection) run ``--ops``
random stock operations each on the same ``--parts`` parts of one dealer with two
warehouses, all at once:

* issue 1-6 units (refused when not enough is available: counted as a refusal),
* receipt of 1-8 units at a cost around the catalogue's,
* transfer of 1-4 units between the dealer's two warehouses: ``transfer_out`` and
  ``transfer_in`` posted with ``stock.post`` in one transaction, both stock items locked in
  the order of their ids (so two opposite transfers cannot deadlock).

Deadlocks, serialisation failures and SQLite's "database is locked" are retried (counted).
Afterwards it proves the books: no negative balance (items, bins, any movement's recorded
balance), every item's movements replayed in order give their recorded balances, on-hand
equals the ledger sum and the bins for every item (``stock.ledger_mismatches``), and the
ledger has exactly the movements the processes say they committed. Prints the figures and
writes them to ``var/bench/parts-concurrency-<db>.json``; exits 1 when a check fails.

* SQLite: ``var/bench/parts-concurrency.sqlite3`` (replaced), the application's settings
  (WAL, IMMEDIATE transactions, 30 s busy timeout).
* PostgreSQL: a throwaway server (``initdb`` in ``var/bench/parts-concurrency-pg/``) on a
  free loopback port, with the benchmark options of ``bench/crm_generate.py`` (fsync and
  synchronous commit off: durability is not what is measured), stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from crm_generate import BENCH_DIR, machine, pg_start, pg_stop, setup_django  # noqa: E402

SQLITE_PATH = BENCH_DIR / "parts-concurrency.sqlite3"
PG_ROOT = BENCH_DIR / "parts-concurrency-pg"
DEALER = "BJ01"
OPENING = Decimal("40")
MAX_ATTEMPTS = 50


def prepare(parts_count: int) -> None:
    """Migrate the fresh database and create the dealer, warehouses, parts and stock."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from aftersales.org.models import Dealer, Oem, Region
    from aftersales.parts.testing import make_part, make_warehouse, stock_up

    oem, _ = Oem.objects.get_or_create(code="XC", defaults={"name": "XC"})
    region, _ = Region.objects.get_or_create(code="NORTH", defaults={"oem": oem, "name": "N"})
    dealer = Dealer.objects.create(region=region, code=DEALER, name="Bench dealer")
    main = make_warehouse(dealer=dealer, code="MAIN", bins=("A-01-01", "A-01-02"))
    quick = make_warehouse(dealer=dealer, code="QS", name="快修库", bins=("Q-01-01",))
    for n in range(parts_count):
        part = make_part(number=f"BENCH{n:05d}", dealer_cost=Decimal("50") + n)
        stock_up(warehouse=main, part=part, quantity=OPENING, unit_cost=part.dealer_cost)
        stock_up(warehouse=quick, part=part, quantity=OPENING / 4, unit_cost=part.dealer_cost)


def _retryable(exc) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("deadlock", "could not serialize", "database is locked"))


def worker(number, database_url, ops, seed, go, results):
    """One process: its own Django and connection; waits for ``go`` then works."""
    setup_django(database_url)
    from django.db import OperationalError, connection, transaction

    from aftersales.parts import stock
    from aftersales.parts.choices import MoveKind
    from aftersales.parts.models import Part, StockItem, Warehouse
    from aftersales.parts.stock import Doc, InsufficientStock

    parts = list(Part.objects.order_by("number"))
    main = Warehouse.objects.get(dealer__code=DEALER, code="MAIN")
    quick = Warehouse.objects.get(dealer__code=DEALER, code="QS")
    items = {
        (w, p): pk for pk, w, p in StockItem.objects.values_list("pk", "warehouse_id", "part_id")
    }
    rng = random.Random(seed * 100 + number)
    tally = {"issue": 0, "receipt": 0, "transfer": 0, "moves": 0, "refused": 0, "retries": 0}

    def transfer(part, source, target, amount, key):
        pair = sorted(
            [(items[(source.pk, part.pk)], source), (items[(target.pk, part.pk)], target)]
        )
        with transaction.atomic():
            locked = {w.pk: stock.item_for(warehouse=w, part=part) for _pk, w in pair}
            out = stock.post(
                item=locked[source.pk],
                kind=MoveKind.TRANSFER_OUT,
                quantity=-amount,
                posting_key=f"{key}:out",
                actor=None,
                doc=Doc("bench-transfer"),
            )
            came = stock.post(
                item=locked[target.pk],
                kind=MoveKind.TRANSFER_IN,
                quantity=amount,
                posting_key=f"{key}:in",
                actor=None,
                unit_cost=out[0].unit_cost,
                doc=Doc("bench-transfer"),
            )
        return len(out) + len(came)

    go.wait()
    started = time.time()
    for op in range(ops):
        part = rng.choice(parts)
        key = f"bench:{number}:{op}"
        roll = rng.random()
        for _attempt in range(MAX_ATTEMPTS):
            try:
                if roll < 0.45:
                    warehouse = main if rng.random() < 0.8 else quick
                    made = stock.issue(
                        actor=None,
                        warehouse=warehouse,
                        part=part,
                        quantity=Decimal(rng.randint(1, 6)),
                        posting_key=key,
                        doc=Doc("bench-issue"),
                    )
                    tally["issue"] += 1
                    tally["moves"] += len(made)
                elif roll < 0.8:
                    warehouse = main if rng.random() < 0.7 else quick
                    cost = (part.dealer_cost * Decimal(rng.uniform(0.9, 1.1))).quantize(
                        Decimal("0.01")
                    )
                    with transaction.atomic():
                        item = stock.item_for(warehouse=warehouse, part=part)
                        made = stock.post(
                            item=item,
                            kind=MoveKind.RECEIPT,
                            quantity=Decimal(rng.randint(1, 8)),
                            unit_cost=cost,
                            posting_key=key,
                            actor=None,
                            doc=Doc("bench-receipt"),
                        )
                    tally["receipt"] += 1
                    tally["moves"] += len(made)
                else:
                    source, target = (main, quick) if rng.random() < 0.5 else (quick, main)
                    tally["moves"] += transfer(
                        part, source, target, Decimal(rng.randint(1, 4)), key
                    )
                    tally["transfer"] += 1
                break
            except InsufficientStock:
                tally["refused"] += 1
                break
            except OperationalError as exc:
                if not _retryable(exc):
                    raise
                tally["retries"] += 1
                connection.close()  # a fresh connection for the retry
        else:
            raise RuntimeError(f"gave up after {MAX_ATTEMPTS} attempts")
    tally["started"], tally["ended"] = started, time.time()
    connection.close()
    results.put(tally)


def verify() -> dict:
    """The checks after the run."""
    from django.db.models import Sum

    from aftersales.parts.models import BinStock, StockItem, StockMove
    from aftersales.parts.stock import ledger_mismatches

    negatives = (
        StockItem.objects.filter(on_hand__lt=0).count()
        + BinStock.objects.filter(on_hand__lt=0).count()
        + StockMove.objects.filter(on_hand_after__lt=0).count()
    )
    replay_errors, running, last_item = 0, Decimal("0"), None
    for item_id, quantity, after in StockMove.objects.order_by("item_id", "id").values_list(
        "item_id", "quantity", "on_hand_after"
    ):
        if item_id != last_item:
            running, last_item = Decimal("0"), item_id
        running += quantity
        replay_errors += running != after
    return {
        "negative_balances": negatives,
        "ledger_mismatches": len(ledger_mismatches()),
        "replay_errors": replay_errors,
        "moves_in_ledger": StockMove.objects.exclude(doc_type="test").count(),
        "on_hand_total": str(StockItem.objects.aggregate(s=Sum("on_hand"))["s"]),
        "items": StockItem.objects.count(),
    }


def run(db: str, args) -> dict:
    if db == "sqlite":
        SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{SQLITE_PATH}"
    else:
        url = pg_start(PG_ROOT, fresh=True)
    # the parent prepares and verifies in a child of its own, so that it can run both
    # databases in one invocation (Django is set up once per process)
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    try:
        prep = ctx.Process(target=_in_django, args=(url, "prepare", args.parts, results))
        prep.start()
        prep.join()
        if prep.exitcode != 0:
            raise SystemExit("preparing the database failed")
        results.get()
        go = ctx.Event()
        procs = [
            ctx.Process(target=worker, args=(n, url, args.ops, args.seed, go, results))
            for n in range(args.processes)
        ]
        for p in procs:
            p.start()
        time.sleep(3)  # let every process set Django up before the start signal
        go.set()
        tallies = [results.get(timeout=1800) for _ in procs]
        for p in procs:
            p.join()
        if any(p.exitcode != 0 for p in procs):
            raise SystemExit("a worker failed")
        check = ctx.Process(target=_in_django, args=(url, "verify", None, results))
        check.start()
        found = results.get(timeout=600)
        check.join()
    finally:
        if db == "postgresql":
            pg_stop(PG_ROOT)
    elapsed = max(t["ended"] for t in tallies) - min(t["started"] for t in tallies)
    total = {
        k: sum(t[k] for t in tallies)
        for k in ("issue", "receipt", "transfer", "moves", "refused", "retries")
    }
    figures = {
        "db": db,
        "processes": args.processes,
        "ops_per_process": args.ops,
        "parts": args.parts,
        "operations_committed": total["issue"] + total["receipt"] + total["transfer"],
        "issues": total["issue"],
        "receipts": total["receipt"],
        "transfers": total["transfer"],
        "movements_committed": total["moves"],
        "refusals": total["refused"],
        "retries": total["retries"],
        "elapsed_s": round(elapsed, 2),
        "movements_per_s": round(total["moves"] / elapsed, 1),
        **found["verify"],
        "machine": found["machine"],
    }
    figures["ledger_has_committed_moves"] = figures["moves_in_ledger"] == total["moves"]
    return figures


def _in_django(url, what, arg, results):
    setup_django(url)
    if what == "prepare":
        prepare(arg)
        results.put("prepared")
    else:
        results.put({"verify": verify(), "machine": machine()})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--ops", type=int, default=500)
    parser.add_argument("--parts", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    os.environ.pop("AFTERSALES_TEST_DATABASE", None)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    ok = True
    for db in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        figures = run(db, args)
        (BENCH_DIR / f"parts-concurrency-{db}.json").write_text(
            json.dumps(figures, indent=2, ensure_ascii=False)
        )
        m = figures["machine"]
        print(
            f"\n== {db}: {args.processes} processes × {args.ops} operations on "
            f"{args.parts} parts (2 warehouses) =="
        )
        for key in (
            "operations_committed",
            "issues",
            "receipts",
            "transfers",
            "movements_committed",
            "refusals",
            "retries",
            "elapsed_s",
            "movements_per_s",
            "negative_balances",
            "ledger_mismatches",
            "replay_errors",
            "moves_in_ledger",
            "ledger_has_committed_moves",
        ):
            print(f"  {key:28} {figures[key]}")
        print(
            f"  machine: {m['cpus']} CPUs {m['cpu']}, {m['ram_gb']} GB RAM, "
            f"{m['database']}, Python {m['python']}, Django {m['django']}"
        )
        ok &= (
            figures["negative_balances"] == 0
            and figures["ledger_mismatches"] == 0
            and figures["replay_errors"] == 0
            and figures["ledger_has_committed_moves"]
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
