"""Complaint figures (issue 8): the deadline sweep over 200,000 open complaints (time,
memory, and a re-run that sends nothing twice) and the specialist's workbench queues with
1,000,000 complaints in the database (p95 per request; target < 150 ms).

    .venv/bin/python bench/complaints.py [--db sqlite|postgresql|both] [--total 1000000]
        [--running 200000] [--requests 40]

Data (written set-based, ``INSERT … SELECT`` over a number series): the demo organisation
plus 54 bench dealers (60 in three regions); ``--total`` complaints of which ``--running``
are filed or in handling with their clocks started over the last 6 calendar days (grades
urgent / major / general → 1 / 5 / 3 working days; deadlines at the limit's close of
business, approximated in SQL as start + 1.4 × limit days, so some are overdue and some due
soon), each handling one with the dealer's plan step (half still open) and one in five
quality ones with an open VRT; 4 % new (half forwarded by dealers), 2 % to file, 8 %
answered, the rest closed over two years.

1. **Sweep** — ``sweep.complaints_clock`` twice: the first run writes the warnings at the
   50 / 80 / 100 % thresholds and the automatic escalations, the second must write none.
   Prints seconds, complaints per second, the rows written and the peak memory of the run
   (``tracemalloc``: Python allocations during the sweep; and the process's peak RSS).
2. **Workbench** — what the workbench page reads for one request: the six capped queue
   counts and the first page (50 rows) of one queue, as the specialist (OEM: every
   complaint), a region manager (10 dealers) and a dealer's service manager; ``--requests``
   per queue and user. Prints p50 / p95 / max per user and overall.

* SQLite: ``var/bench/complaints.sqlite3`` (replaced). PostgreSQL: a throwaway server
  (``initdb`` in ``var/bench/complaints-pg/``) on a free loopback port, stopped at the end.
Figures also go to ``var/bench/complaints-<db>.json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from crm_generate import BENCH_DIR, machine, pg_start, pg_stop, setup_django  # noqa: E402

SQLITE_PATH = BENCH_DIR / "complaints.sqlite3"
PG_ROOT = BENCH_DIR / "complaints-pg"
DEALERS = 60


def _dialect():
    from django.db import connection

    return connection.vendor


def _ts(seconds_expr: str) -> str:
    """SQL for "now minus ``seconds_expr`` seconds" (``%(now)s`` is bound)."""
    if _dialect() == "sqlite":
        return f"datetime(%(now)s, '-' || ({seconds_expr}) || ' seconds')"
    return f"(%(now)s::timestamptz - (({seconds_expr}) * interval '1 second'))"


def _plus(ts_sql: str, seconds_expr: str) -> str:
    if _dialect() == "sqlite":
        return f"datetime({ts_sql}, '+' || ({seconds_expr}) || ' seconds')"
    return f"({ts_sql} + (({seconds_expr}) * interval '1 second'))"


def _series(count: int) -> tuple[str, str]:
    """(a WITH prefix, a FROM source) giving rows ``n.i`` = 0 … count-1."""
    if _dialect() == "sqlite":
        return (
            "WITH RECURSIVE n(i) AS "
            f"(SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < {count})",
            "n",
        )
    return "", f"generate_series(0::bigint, {count - 1}::bigint) AS n(i)"


def _escaped(sql: str) -> str:
    """``%`` (SQL modulo) doubled for the driver's parameter style; ``%(now)s`` kept."""
    return sql.replace("%", "%%").replace("%%(now)s", "%(now)s")


def prepare(total: int, running: int) -> dict:
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from aftersales.complaints.models import Complaint
    from aftersales.org.demo import load_org_demo
    from aftersales.org.models import Dealer, Region

    call_command("migrate", verbosity=0)
    load_org_demo()
    regions = list(Region.objects.order_by("code"))
    have = Dealer.objects.count()
    Dealer.objects.bulk_create(
        [
            Dealer(
                code=f"B{n:03d}",
                name=f"基准经销商{n:03d}",
                region=regions[n % len(regions)],
                city="北京",
            )
            for n in range(DEALERS - have)
        ]
    )
    started = time.perf_counter()
    now = timezone.now()
    share = max(1, total // max(running, 1))  # every share-th complaint runs
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_dealer (k integer, id bigint, region_id bigint)"
        )
        rows = list(Dealer.objects.order_by("id").values_list("id", "region_id"))
        cursor.executemany(
            "INSERT INTO bench_dealer (k, id, region_id) VALUES (%s, %s, %s)",
            [(k, d, r) for k, (d, r) in enumerate(rows)],
        )
        with_, source = _series(total)
        run = f"(n.i % {share} = 0)"
        kind = f"((n.i / {share}) % 100)"  # varies among the running ones
        other = "(n.i % 50)"
        start = _ts("(n.i * 7919) % (6 * 86400)")
        received_closed = _ts("86400 * 20 + (n.i * 104729) % (86400 * 700)")
        limit = f"CASE WHEN {kind} < 10 THEN 1 WHEN {kind} < 30 THEN 5 ELSE 3 END"
        status = (
            f"CASE WHEN {run} THEN (CASE WHEN {kind} < 10 THEN 'filed' ELSE 'handling' END) "
            f"WHEN {other} < 2 THEN 'new' WHEN {other} = 2 THEN 'to_file' "
            f"WHEN {other} < 5 THEN 'invalid' WHEN {other} < 7 THEN 'resolved' ELSE 'closed' END"
        )
        category = (
            f"CASE ((n.i / {share}) + n.i) % 5 WHEN 0 THEN 'quality' WHEN 1 THEN 'service' "
            "WHEN 2 THEN 'sales' WHEN 3 THEN 'parts' ELSE 'other' END"
        )
        pre = f"(NOT {run} AND {other} < 7)"  # new, to file, answered: not filed
        has_dealer = f"({run} OR {other} >= 7 OR {other} = 1)"
        sql = f"""
            {with_}
            INSERT INTO complaints_complaint (
                number, status, channel, contact_name, contact_phone, subject, description,
                expectation, judgement, reply, category, grade, limit_days, deadline_at,
                deadline_provisional, escalation_level, closure_condition, closure_evidence,
                closed_on_time, handling_days, reopen_count, received_at, filed_at,
                clock_started_at, assigned_at, closed_at, version, created_at, updated_at,
                dealer_id, region_id, source_dealer_id
            )
            SELECT
                'TS-B-' || n.i,
                {status},
                CASE WHEN {other} = 1 THEN 'dealer' ELSE 'hotline' END,
                '王先生', '13800000000', '保养后异响', '做完保养后发动机舱有异响', '', '', '',
                CASE WHEN {pre} THEN '' ELSE {category} END,
                CASE WHEN {pre} THEN '' WHEN {kind} < 10 THEN 'urgent'
                     WHEN {kind} < 30 THEN 'major' ELSE 'general' END,
                CASE WHEN {pre} THEN NULL ELSE {limit} END,
                CASE WHEN {run} THEN {_plus(start, f"({limit}) * 86400 * 1.4")}
                     WHEN {pre} THEN NULL
                     ELSE {_plus(received_closed, "4 * 86400")} END,
                {"0" if _dialect() == "sqlite" else "false"},
                0,
                CASE WHEN {run} OR {pre} THEN '' ELSE 'done' END,
                CASE WHEN {run} OR {pre} THEN '' ELSE '回访确认' END,
                CASE WHEN {run} OR {pre} THEN NULL
                     ELSE {"(n.i % 7 <> 0)" if _dialect() != "sqlite" else "(n.i % 7 <> 0)"} END,
                CASE WHEN {run} OR {pre} THEN NULL ELSE (n.i % 60) / 10.0 END,
                0,
                CASE WHEN {run} THEN {start} ELSE {received_closed} END,
                CASE WHEN {run} THEN {start} WHEN {pre} THEN NULL ELSE {received_closed} END,
                CASE WHEN {run} THEN {start} WHEN {pre} THEN NULL ELSE {received_closed} END,
                CASE WHEN {run} AND {kind} >= 10 THEN {start}
                     WHEN {pre} OR {run} THEN NULL ELSE {received_closed} END,
                CASE WHEN {run} OR {other} < 3 THEN NULL
                     ELSE {_plus(received_closed, "3 * 86400")} END,
                1, %(now)s, %(now)s,
                CASE WHEN {has_dealer} THEN d.id ELSE NULL END,
                CASE WHEN {has_dealer} THEN d.region_id ELSE NULL END,
                CASE WHEN {other} = 1 THEN d.id ELSE NULL END
            FROM {source} JOIN bench_dealer d ON d.k = n.i % {len(rows)}
        """
        cursor.execute(_escaped(sql), {"now": now})
        false = "0" if _dialect() == "sqlite" else "false"
        # the dealer's plan: open for half of those in handling, done for the others
        cursor.execute(
            f"""
            INSERT INTO complaints_complaintstep (
                complaint_id, kind, status, due_at, due_provisional, limit_days, departments,
                responsibility, conclusion, solution, created_at, done_at
            )
            SELECT id, 'plan', CASE WHEN id % 2 = 0 THEN 'open' ELSE 'done' END,
                   {_plus("assigned_at", "86400")}, {false}, 1, '', '', '', '',
                   assigned_at, CASE WHEN id % 2 = 0 THEN NULL ELSE assigned_at END
            FROM complaints_complaint WHERE status = 'handling'
            """.replace("%", "%%"),
            {"now": now},
        )
        cursor.execute(
            f"""
            INSERT INTO complaints_complaintstep (
                complaint_id, kind, status, due_at, due_provisional, limit_days, departments,
                responsibility, conclusion, solution, created_at
            )
            SELECT id, 'vrt', 'open', {_plus("assigned_at", "2 * 86400")}, {false}, 2, '质量部',
                   '', '', '', assigned_at
            FROM complaints_complaint
            WHERE status = 'handling' AND category = 'quality' AND id %% 5 = 1
            """,
            {"now": now},
        )
        cursor.execute("DROP TABLE bench_dealer")
    if _dialect() == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    from aftersales.complaints.models import ComplaintStep

    return {
        "complaints": Complaint.objects.count(),
        "running": Complaint.objects.filter(status__in=["filed", "handling"]).count(),
        "steps": ComplaintStep.objects.count(),
        "dealers": Dealer.objects.count(),
        "generate_s": round(time.perf_counter() - started, 1),
    }


def sweep() -> dict:
    from django.utils import timezone

    from aftersales.complaints.models import ComplaintAlert, Escalation
    from aftersales.complaints.sweep import complaints_clock
    from aftersales.core.models import OutboxMessage

    figures = {"baseline_rss_mb": _rss_mb()}
    now = timezone.now()  # both runs at the same instant: the second must find nothing new
    for run in ("first", "second"):
        started, cpu = time.perf_counter(), time.process_time()
        counts = complaints_clock(now=now)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        figures[run] = {
            **counts,
            "seconds": round(elapsed, 1),
            "cpu_seconds": round(cpu, 1),
            "per_second": round(counts["checked"] / elapsed),
            "peak_rss_mb": _rss_mb(),
        }
    figures["alerts_total"] = ComplaintAlert.objects.count()
    figures["escalations_total"] = Escalation.objects.count()
    figures["messages_total"] = OutboxMessage.objects.count()
    return figures


def _rss_mb() -> float:
    """The process's peak resident memory so far."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _sweep_in(url: str, out) -> None:
    """The sweep in a fresh process, so its peak memory is the sweep's alone."""
    setup_django(url)
    out.put(sweep())


def workbench(requests: int) -> dict:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from aftersales.complaints import selectors
    from aftersales.org.models import User

    users = {
        "specialist": User.objects.get(username="oem-complaint"),
        "region manager": User.objects.get(username="north-rm"),
        "dealer": User.objects.get(username="bj01-svcmgr"),
    }
    results, queries = {}, {}
    every = []
    for label, user in users.items():
        times = []
        for _request in range(requests):
            for key in selectors.QUEUE_KEYS:
                fresh = User.objects.get(pk=user.pk)  # a request's user: scopes not cached
                started = time.perf_counter()
                with CaptureQueriesContext(connection) as captured:
                    counts = selectors.queue_counts(fresh)
                    rows = list(selectors.queue(fresh, key)[:50])
                times.append((time.perf_counter() - started) * 1000)
                queries[key] = len(captured)
                assert counts[key] >= min(len(rows), 1) or not rows
        reset_queries()
        times.sort()
        every += times
        results[label] = {
            "requests": len(times),
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
            "max_ms": round(times[-1], 1),
        }
    every.sort()
    results["all"] = {
        "requests": len(every),
        "p50_ms": round(statistics.median(every), 1),
        "p95_ms": round(every[int(len(every) * 0.95) - 1], 1),
        "max_ms": round(every[-1], 1),
        "queries_per_request": max(queries.values()),
    }
    from django.utils import timezone

    from aftersales.complaints.models import Complaint

    user = users["specialist"]
    results["queue_sizes"] = {
        key: selectors.queue(user, key, now=timezone.now()).count() for key in selectors.QUEUE_KEYS
    }
    results["queue_sizes"]["all complaints"] = Complaint.objects.count()
    return results


def _run_in(url: str, args, out) -> None:
    setup_django(url)
    data = prepare(args.total, args.running)
    ctx = multiprocessing.get_context("spawn")
    sweep_out = ctx.Queue()
    child = ctx.Process(target=_sweep_in, args=(url, sweep_out))
    child.start()
    data["sweep"] = sweep_out.get(timeout=1500)
    child.join()
    data["workbench"] = workbench(args.requests)
    data["machine"] = machine()
    data["load_average"] = os.getloadavg()[0]
    out.put(data)


def run(db: str, args) -> dict:
    if db == "sqlite":
        SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{SQLITE_PATH}"
    else:
        url = pg_start(PG_ROOT, fresh=True)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    try:
        proc = ctx.Process(target=_run_in, args=(url, args, out))
        proc.start()
        figures = out.get(timeout=1500)
        proc.join()
    finally:
        if db == "postgresql":
            pg_stop(PG_ROOT)
    return {"db": db, **figures}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--running", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args(argv)
    os.environ.pop("AFTERSALES_TEST_DATABASE", None)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    for db in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        figures = run(db, args)
        (BENCH_DIR / f"complaints-{db}.json").write_text(
            json.dumps(figures, indent=2, ensure_ascii=False, default=str)
        )
        print(f"\n== {db}: {figures['complaints']:,} complaints, {figures['running']:,} running ==")
        print(
            f"  generated in {figures['generate_s']} s; {figures['steps']:,} steps, "
            f"{figures['dealers']} dealers"
        )
        s = figures["sweep"]
        for run_name in ("first", "second"):
            r = s[run_name]
            print(
                f"  sweep ({run_name} run): {r['checked']:,} checked in {r['seconds']} s "
                f"({r['per_second']:,}/s, CPU {r['cpu_seconds']} s), {r['alerts']:,} warnings, "
                f"{r['escalations']:,} escalations, {r['messages']:,} messages; peak RSS "
                f"{r['peak_rss_mb']} MB"
            )
        print(f"  the sweep's process before the sweep: {s['baseline_rss_mb']} MB RSS")
        for label, w in figures["workbench"].items():
            if label == "queue_sizes":
                print(f"  queue sizes (specialist): {w}")
                continue
            print(
                f"  workbench {label:15} n={w['requests']:4} p50 {w['p50_ms']} ms  "
                f"p95 {w['p95_ms']} ms  max {w['max_ms']} ms"
            )
        m = figures["machine"]
        print(f"  machine: {m}; load average {figures['load_average']}")


if __name__ == "__main__":
    main()
