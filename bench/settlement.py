"""Settlement time of one repair order (issue 6, Figures): target p95 under 300 ms.

    .venv/bin/python bench/settlement.py --db sqlite|postgresql|both [--runs 50] [--check]

In-process (services called directly, no HTTP). Each run settles a delivered repair order
with 20 lines (labour, parts and fees for the customer, 4 warranty labour lines):

1. ``invoice_prepare`` (the customer and the warranty drafts) and ``invoice_issue`` of both,
2. two payments of the customer invoice: a part by WeChat Pay, the rest in cash with change
   (the second closes the order: settlement guard, transition, service visit),
3. the customer invoice's PDF (WeasyPrint, Chinese).

The orders are written before the clock starts. Prints p50/p95/max of the whole settlement
and of each step, writes ``var/bench/billing-settlement-<db>.json``; ``--check`` exits 1
when the p95 is 300 ms or more.

* SQLite: ``var/bench/billing-settlement.sqlite3`` (replaced).
* PostgreSQL: a throwaway server in ``var/bench/billing-settlement-pg/`` (see
  bench/parts_concurrency.py), stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from crm_generate import BENCH_DIR, machine, pg_start, pg_stop, setup_django  # noqa: E402

SQLITE_PATH = BENCH_DIR / "billing-settlement.sqlite3"
PG_ROOT = BENCH_DIR / "billing-settlement-pg"
TARGET_MS = 300
LINES = 20
WARRANTY_LINES = 4


def _order(dealer, n):
    from aftersales.workorders.choices import Approval, LineKind, PayType
    from aftersales.workorders.models import RepairOrderLine
    from aftersales.workorders.testing import make_repair_order

    order = make_repair_order(dealer=dealer, status="delivered", lines=False, number=f"RO-S{n:06d}")
    kinds = (LineKind.LABOUR, LineKind.PART, LineKind.PART, LineKind.FEE)
    for position in range(LINES):
        kind = kinds[position % len(kinds)]
        quantity = Decimal("1.5") if kind == LineKind.LABOUR else Decimal(1 + position % 3)
        price = Decimal("120.00") if kind == LineKind.LABOUR else Decimal(35 + position * 7)
        RepairOrderLine.objects.create(
            repair_order=order,
            position=position,
            kind=kind,
            description=f"项目{position + 1}",
            quantity=quantity,
            unit_price=price,
            amount=(quantity * price).quantize(Decimal("0.01")),
            pay_type=PayType.WARRANTY if position < WARRANTY_LINES else PayType.CUSTOMER,
            approval=Approval.APPROVED,
        )
    return order


def settle(order, advisor, cashier) -> dict:
    """One settlement; returns the seconds of each step."""
    from aftersales.billing.invoices import invoice_issue, invoice_prepare
    from aftersales.billing.payments import payment_take
    from aftersales.billing.printing import invoice_pdf
    from aftersales.workorders.choices import PayType

    t0 = time.perf_counter()
    drafts = invoice_prepare(actor=advisor, repair_order=order)
    issued = [invoice_issue(actor=advisor, invoice=d) for d in drafts]
    customer = next(i for i in issued if i.pay_type == PayType.CUSTOMER)
    t1 = time.perf_counter()
    part = (customer.gross_amount / 3).quantize(Decimal("0.01"))
    payment_take(
        actor=cashier,
        invoice=customer,
        method="wechat",
        amount=part,
        reference=f"4200{order.pk:020d}",
        key=f"s{order.pk}-1",
    )
    rest = customer.gross_amount - part
    payment_take(
        actor=cashier,
        invoice=customer,
        method="cash",
        amount=rest,
        tendered=(rest + 100).quantize(Decimal("1")),
        key=f"s{order.pk}-2",
    )
    t2 = time.perf_counter()
    pdf = invoice_pdf(customer, user=cashier)
    t3 = time.perf_counter()
    order.refresh_from_db(fields=["status"])
    if order.status != "closed" or not pdf.startswith(b"%PDF"):
        raise RuntimeError(f"{order.number} was not settled")
    return {"invoice": t1 - t0, "payments": t2 - t1, "pdf": t3 - t2, "total": t3 - t0}


def _ms(values, q):
    values = sorted(values)
    if q == "max":
        return round(values[-1] * 1000, 1)
    index = max(0, min(len(values) - 1, int(round(q * len(values) + 0.5)) - 1))
    return round(values[index] * 1000, 1)


def _in_django(url, runs, results):
    setup_django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from aftersales.billing import settlement  # noqa: F401  (the close guard, as at start-up)
    from aftersales.billing.testing import cashier_of
    from aftersales.org.models import Dealer, Oem, Region
    from aftersales.workorders.testing import advisor_of

    oem, _ = Oem.objects.get_or_create(code="XC", defaults={"name": "XC"})
    region, _ = Region.objects.get_or_create(code="NORTH", defaults={"oem": oem, "name": "N"})
    dealer = Dealer.objects.create(region=region, code="BJ01", name="北京测试4S店")
    advisor, cashier = advisor_of(dealer), cashier_of(dealer)
    orders = [_order(dealer, n) for n in range(runs + 3)]
    for order in orders[:3]:  # warm-up: templates, fonts, caches
        settle(order, advisor, cashier)
    timings = [settle(order, advisor, cashier) for order in orders[3:]]
    figures = {
        "runs": runs,
        "lines_per_order": LINES,
        **{
            f"{step}_{q if q == 'max' else f'p{int(q * 100)}'}_ms": _ms(
                [t[step] for t in timings], q
            )
            for step in ("total", "invoice", "payments", "pdf")
            for q in (0.5, 0.95, "max")
        },
        "mean_total_ms": round(statistics.mean(t["total"] for t in timings) * 1000, 1),
        "machine": machine(),
    }
    results.put(figures)


def run(db, args):
    if db == "sqlite":
        SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{SQLITE_PATH}"
    else:
        url = pg_start(PG_ROOT, fresh=True)
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    try:
        proc = ctx.Process(target=_in_django, args=(url, args.runs, results))
        proc.start()
        figures = results.get(timeout=3600)
        proc.join()
    finally:
        if db == "postgresql":
            pg_stop(PG_ROOT)
    return {"db": db, **figures}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    os.environ.pop("AFTERSALES_TEST_DATABASE", None)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    ok = True
    for db in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        figures = run(db, args)
        (BENCH_DIR / f"billing-settlement-{db}.json").write_text(
            json.dumps(figures, indent=2, ensure_ascii=False)
        )
        m = figures["machine"]
        print(f"\n== {db}: settlement of an order with {LINES} lines, {args.runs} runs ==")
        for step in ("total", "invoice", "payments", "pdf"):
            print(
                f"  {step:9} p50 {figures[f'{step}_p50_ms']:8} ms   "
                f"p95 {figures[f'{step}_p95_ms']:8} ms   max {figures[f'{step}_max_ms']:8} ms"
            )
        print(
            f"  machine: {m['cpus']} CPUs {m['cpu']}, {m['ram_gb']} GB RAM, "
            f"{m['database']}, Python {m['python']}, Django {m['django']}"
        )
        met = figures["total_p95_ms"] < TARGET_MS
        print(f"  target p95 < {TARGET_MS} ms: {'met' if met else 'MISSED'}")
        ok &= met
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
