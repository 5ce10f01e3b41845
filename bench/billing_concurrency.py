"""Concurrency proof of payments (issue 6, Figures): nothing paid is lost or counted twice.

    .venv/bin/python bench/billing_concurrency.py --db sqlite|postgresql|both
        [--processes 10] [--payments 200] [--seed 2026]

A seeded plan of ``--payments`` payment requests (each with its own idempotency key) is
spread over ``--payments / 4`` issued invoices of one dealer: 3-5 partial payments per
invoice by card, WeChat, Alipay or cash (with change), together less than the invoice, so
a balance stays; a tenth of the payments are then partly refunded (each refund with its
own key). ``--processes`` processes (each its own Django set-up and connection) post *the
whole plan*, every one in its own shuffled order, all at once: so every request is sent
``--processes`` times, often at the same moment, and half of the processes post under a
second cashier (the retries then arrive under another user's key rows and only the
invoice lock and the unique ``request_key`` stop them). A retry told "in progress" (the
first request with that key still running) is sent again; SQLite's "database is locked"
and PostgreSQL deadlocks are retried (counted).

Afterwards it checks: one payment per planned payment key and one refund per planned
refund key (no duplicates), every invoice's ``paid_amount`` equals the sum of its distinct
payments less its refunds and equals the plan, and no request was refused. Prints the
figures and writes them to ``var/bench/billing-concurrency-<db>.json``; exits 1 when a
check fails.

* SQLite: ``var/bench/billing-concurrency.sqlite3`` (replaced), the application's
  settings (WAL, IMMEDIATE transactions, busy timeout).
* PostgreSQL: a throwaway server (``initdb`` in ``var/bench/billing-concurrency-pg/``) on
  a free loopback port, like bench/parts_concurrency.py; stopped at the end.
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

SQLITE_PATH = BENCH_DIR / "billing-concurrency.sqlite3"
PG_ROOT = BENCH_DIR / "billing-concurrency-pg"
DEALER = "BJ01"
MAX_ATTEMPTS = 200
CENT = Decimal("0.01")
METHODS = ("card", "wechat", "alipay", "cash")


def plan(payments: int, seed: int) -> dict:
    """The requests every process sends: invoices (gross), payments, refunds."""
    rng = random.Random(seed)
    invoices, pays = [], []
    n = 0
    while n < payments:
        count = min(rng.randint(3, 5), payments - n)
        amounts = [Decimal(rng.randint(1000, 30000)) / 100 for _ in range(count)]
        gross = (sum(amounts) + Decimal(rng.randint(100, 5000)) / 100).quantize(CENT)
        index = len(invoices)
        invoices.append(str(gross))
        for amount in amounts:
            method = rng.choice(METHODS)
            pays.append(
                {
                    "invoice": index,
                    "key": f"pay-{n:05d}",
                    "method": method,
                    "amount": str(amount),
                    "tendered": str((amount / 10).to_integral_value(rounding="ROUND_CEILING") * 10)
                    if method == "cash"
                    else None,
                    "reference": f"42000{n:013d}" if method in ("wechat", "alipay") else "",
                }
            )
            n += 1
    refunds = [
        {
            "payment": p["key"],
            "invoice": p["invoice"],
            "key": f"refund-{p['key']}",
            "amount": str((Decimal(p["amount"]) / 3).quantize(CENT)),
        }
        for p in rng.sample(pays, max(1, len(pays) // 10))
    ]
    return {"invoices": invoices, "payments": pays, "refunds": refunds}


def prepare(the_plan: dict) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from aftersales.billing.testing import cashier_of, make_invoice
    from aftersales.org.models import Dealer, Oem, Region, RoleAssignment, User
    from aftersales.workorders.testing import make_repair_order

    oem, _ = Oem.objects.get_or_create(code="XC", defaults={"name": "XC"})
    region, _ = Region.objects.get_or_create(code="NORTH", defaults={"oem": oem, "name": "N"})
    dealer = Dealer.objects.create(region=region, code=DEALER, name="Bench dealer")
    cashier_of(dealer)
    second = User.objects.create(username="bj01-cashier2", dealer=dealer)
    RoleAssignment.objects.create(user=second, role="cashier", dealer=dealer)
    for n, gross in enumerate(the_plan["invoices"]):
        # ready (not delivered): the order does not close when an invoice is paid up
        order = make_repair_order(dealer=dealer, status="ready", number=f"RO-BENCH-{n:05d}")
        make_invoice(dealer=dealer, gross=gross, repair_order=order)


def _retryable(exc) -> bool:
    text = str(exc).lower()
    return any(
        s in text for s in ("deadlock", "could not serialize", "database is locked", "in progress")
    )


def worker(number, database_url, the_plan, seed, go, results):
    setup_django(database_url)
    from django.db import OperationalError, connection

    from aftersales.billing.models import Invoice, Payment
    from aftersales.billing.payments import payment_refund, payment_take
    from aftersales.core.errors import Conflict
    from aftersales.org.models import User

    actor = User.objects.get(username="bj01-cashier" if number % 2 == 0 else "bj01-cashier2")
    invoice_ids = dict(
        Invoice.objects.filter(repair_order__number__startswith="RO-BENCH-").values_list(
            "repair_order__number", "pk"
        )
    )
    rng = random.Random(seed * 1000 + number)
    tally = {"sent": 0, "recorded": 0, "replayed": 0, "retries": 0, "refused": 0}

    def send(call):
        for _attempt in range(MAX_ATTEMPTS):
            try:
                result = call()
            except Conflict as exc:
                if exc.code != "in_progress":
                    tally["refused"] += 1
                    return None
                tally["retries"] += 1
                time.sleep(0.005)  # the first request with this key is still running
            except OperationalError as exc:
                if not _retryable(exc):
                    raise
                tally["retries"] += 1
                connection.close()
            else:
                tally["sent"] += 1
                tally["replayed" if result.replayed else "recorded"] += 1
                return result
        raise RuntimeError(f"gave up after {MAX_ATTEMPTS} attempts")

    pays = list(the_plan["payments"])
    rng.shuffle(pays)
    refunds = list(the_plan["refunds"])
    rng.shuffle(refunds)
    go.wait()
    started = time.time()
    for p in pays:
        invoice = invoice_ids[f"RO-BENCH-{p['invoice']:05d}"]
        send(
            lambda p=p, invoice=invoice: payment_take(
                actor=actor,
                invoice=invoice,
                method=p["method"],
                amount=p["amount"],
                tendered=p["tendered"],
                reference=p["reference"],
                key=p["key"],
            )
        )
    for r in refunds:
        invoice = invoice_ids[f"RO-BENCH-{r['invoice']:05d}"]
        payment = Payment.objects.get(invoice_id=invoice, kind="payment", request_key=r["payment"])
        send(
            lambda r=r, payment=payment: payment_refund(
                actor=actor, payment=payment, amount=r["amount"], reason="bench", key=r["key"]
            )
        )
    tally["started"], tally["ended"] = started, time.time()
    connection.close()
    results.put(tally)


def verify(the_plan: dict) -> dict:
    from django.db.models import Count, Sum

    from aftersales.billing.models import Invoice, Payment

    payments = Payment.objects.filter(kind="payment")
    refunds = Payment.objects.filter(kind="refund")
    duplicates = (
        Payment.objects.values("invoice_id", "kind", "request_key")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    expected = {}
    for p in the_plan["payments"]:
        expected[p["invoice"]] = expected.get(p["invoice"], Decimal("0")) + Decimal(p["amount"])
    for r in the_plan["refunds"]:
        expected[r["invoice"]] -= Decimal(r["amount"])
    sums = {
        (row["invoice_id"], row["kind"]): row["s"]
        for row in Payment.objects.values("invoice_id", "kind").annotate(s=Sum("amount"))
    }
    paid_mismatch = plan_mismatch = 0
    bench = Invoice.objects.filter(repair_order__number__startswith="RO-BENCH-")
    for invoice in bench.select_related("repair_order"):
        distinct = sums.get((invoice.pk, "payment"), Decimal("0")) - sums.get(
            (invoice.pk, "refund"), Decimal("0")
        )
        paid_mismatch += invoice.paid_amount != distinct
        index = int(invoice.repair_order.number.rsplit("-", 1)[1])
        plan_mismatch += invoice.paid_amount != expected.get(index, Decimal("0"))
    return {
        "payments_recorded": payments.count(),
        "payments_planned": len(the_plan["payments"]),
        "refunds_recorded": refunds.count(),
        "refunds_planned": len(the_plan["refunds"]),
        "duplicate_keys": duplicates,
        "invoices": len(the_plan["invoices"]),
        "invoices_paid_not_sum_of_payments": paid_mismatch,
        "invoices_paid_not_as_planned": plan_mismatch,
        "invoices_with_balance": sum(1 for i in bench if i.due_amount > 0),
    }


def _in_django(url, what, the_plan, results):
    setup_django(url)
    if what == "prepare":
        prepare(the_plan)
        results.put("prepared")
    else:
        results.put({"verify": verify(the_plan), "machine": machine()})


def run(db: str, args) -> dict:
    if db == "sqlite":
        SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{SQLITE_PATH}"
    else:
        url = pg_start(PG_ROOT, fresh=True)
    the_plan = plan(args.payments, args.seed)
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    try:
        prep = ctx.Process(target=_in_django, args=(url, "prepare", the_plan, results))
        prep.start()
        prep.join()
        if prep.exitcode != 0:
            raise SystemExit("preparing the database failed")
        results.get()
        go = ctx.Event()
        procs = [
            ctx.Process(target=worker, args=(n, url, the_plan, args.seed, go, results))
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
        check = ctx.Process(target=_in_django, args=(url, "verify", the_plan, results))
        check.start()
        found = results.get(timeout=600)
        check.join()
    finally:
        if db == "postgresql":
            pg_stop(PG_ROOT)
    elapsed = max(t["ended"] for t in tallies) - min(t["started"] for t in tallies)
    total = {
        k: sum(t[k] for t in tallies)
        for k in ("sent", "recorded", "replayed", "retries", "refused")
    }
    return {
        "db": db,
        "processes": args.processes,
        "requests_sent": total["sent"],
        "recorded_first_time": total["recorded"],
        "answered_as_retry": total["replayed"],
        "refused": total["refused"],
        "retries": total["retries"],
        "elapsed_s": round(elapsed, 2),
        "requests_per_s": round(total["sent"] / elapsed, 1) if elapsed else None,
        **found["verify"],
        "machine": found["machine"],
    }


KEYS = (
    "requests_sent",
    "recorded_first_time",
    "answered_as_retry",
    "refused",
    "retries",
    "elapsed_s",
    "requests_per_s",
    "payments_planned",
    "payments_recorded",
    "refunds_planned",
    "refunds_recorded",
    "duplicate_keys",
    "invoices",
    "invoices_with_balance",
    "invoices_paid_not_sum_of_payments",
    "invoices_paid_not_as_planned",
)


def passed(f: dict) -> bool:
    return (
        f["payments_recorded"] == f["payments_planned"]
        and f["refunds_recorded"] == f["refunds_planned"]
        and f["recorded_first_time"] == f["payments_planned"] + f["refunds_planned"]
        and f["duplicate_keys"] == 0
        and f["refused"] == 0
        and f["invoices_paid_not_sum_of_payments"] == 0
        and f["invoices_paid_not_as_planned"] == 0
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--processes", type=int, default=10)
    parser.add_argument("--payments", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    os.environ.pop("AFTERSALES_TEST_DATABASE", None)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    ok = True
    for db in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        figures = run(db, args)
        (BENCH_DIR / f"billing-concurrency-{db}.json").write_text(
            json.dumps(figures, indent=2, ensure_ascii=False)
        )
        m = figures["machine"]
        print(
            f"\n== {db}: {args.processes} processes each posting the same "
            f"{figures['payments_planned']} payments and {figures['refunds_planned']} refunds =="
        )
        for key in KEYS:
            print(f"  {key:36} {figures[key]}")
        print(
            f"  machine: {m['cpus']} CPUs {m['cpu']}, {m['ram_gb']} GB RAM, "
            f"{m['database']}, Python {m['python']}, Django {m['django']}"
        )
        good = passed(figures)
        print("  RESULT: " + ("every invoice's paid amount is the sum of its distinct payments; "
                              "no duplicates" if good else "FAILED"))  # fmt: skip
        ok &= good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
