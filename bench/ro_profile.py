"""Cost of each step of the repair-order lifecycle, in-process (issue 5 figure, for work
on the API's speed).

    .venv/bin/python bench/ro_profile.py [--lifecycles 20] [--base var/helpers/perf5/base.sqlite3]
        [--db URL] [--profile STEP] [--sort tottime|cumulative] [--top 40] [--sql STEP]
        [--gc-stats] [--transactions]

Drives whole lifecycles (the 16 requests of ``bench/ro_lifecycle.py``) through Django's
test client with the whole middleware stack, token authentication and an
``Idempotency-Key`` on every write, like the bench's clients. Prints per step the SQL
statements of one request (captured on a separate lifecycle) and the CPU time of the
serving process per request (``time.process_time``: median and minimum over the timed
lifecycles, so other load on the machine moves the figures little).

The database is a copy of ``--base`` (a migrated SQLite database with the demo data:
``manage.py migrate`` + ``manage.py demo_data``), so every run starts from the same rows;
the bench's parts, stock and technicians are added to the copy. ``--db`` uses a database
URL as is instead (e.g. ``var/bench/crm.sqlite3``, read-write: the lifecycles stay in it).
``--profile STEP`` runs cProfile over that step's requests in the timed lifecycles and
prints the top functions. ``--transactions`` prints the CPU spent between BEGIN and COMMIT
per lifecycle: on SQLite the write lock is held all that time, which caps the lifecycles
per second whatever the cores.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import shutil
import statistics
import sys
import time
import uuid
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

DEFAULT_BASE = ROOT / "var" / "helpers" / "perf5" / "base.sqlite3"


def setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.config.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    for name in ("DEBUG", "AFTERSALES_TEST_DATABASE"):
        os.environ.pop(name, None)
    import django

    django.setup()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lifecycles", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--base", default=str(DEFAULT_BASE))
    parser.add_argument("--db", default="", help="a database URL to use as is")
    parser.add_argument("--profile", default="", help="a step to run under cProfile")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--json", default="", help="write the figures to this file")
    parser.add_argument("--sql", default="", help="print the SQL of this step")
    parser.add_argument("--gc-stats", action="store_true", help="time the garbage collector")
    parser.add_argument(
        "--transactions",
        action="store_true",
        help="CPU spent inside transactions (SQLite's write lock is held all that time)",
    )
    args = parser.parse_args(argv)

    if args.db:
        url = args.db
    else:
        base = Path(args.base)
        if not base.exists():
            raise SystemExit(f"no {base}: migrate a database and load the demo data into it")
        work = base.with_name(f"work-{os.getpid()}.sqlite3")
        shutil.copyfile(base, work)
        url = f"sqlite:///{work}"
    setup(url)
    try:
        return run(args)
    finally:
        if not args.db:
            from django.db import connections

            connections.close_all()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{work}{suffix}").unlink(missing_ok=True)


def run(args) -> int:
    import ro_lifecycle
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    from aftersales.org.models import User

    prepared = ro_lifecycle.prepare(0, 1)
    operations = prepared["operations"]
    total = 1 + args.warmup + args.lifecycles
    plan = ro_lifecycle.lifecycle_plan(total)
    technician = sorted(plan["technicians"])[0]
    clients: dict[str, Client] = {}

    def client_for(username):
        client = clients.get(username)
        if client is None:
            token, _ = Token.objects.get_or_create(user=User.objects.get(username=username))
            client = clients[username] = Client(
                HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token.key}"
            )
        return client

    gc_time = [0.0, 0.0, 0]  # seconds in collections, start of the current one, count

    def on_gc(phase, info):
        if phase == "start":
            gc_time[1] = time.process_time()
        else:
            gc_time[0] += time.process_time() - gc_time[1]
            gc_time[2] += info["generation"] == 2

    if args.gc_stats:
        gc.callbacks.append(on_gc)
    in_transactions = [0.0, None, 0]  # CPU seconds, start of the open one, count

    if args.transactions:  # from BEGIN (autocommit off) to COMMIT or ROLLBACK
        begin, commit, rollback = connection.set_autocommit, connection.commit, connection.rollback

        def set_autocommit(on, *a, **kw):
            begin(on, *a, **kw)
            if not on and mode["time"]:
                in_transactions[1] = time.process_time()

        def ended(finish):
            def wrapper():
                finish()
                if in_transactions[1] is not None:
                    in_transactions[0] += time.process_time() - in_transactions[1]
                    in_transactions[1] = None
                    in_transactions[2] += 1

            return wrapper

        connection.set_autocommit = set_autocommit
        connection.commit, connection.rollback = ended(commit), ended(rollback)
    counts: dict[str, list[int]] = {}
    sql: dict[str, list[str]] = {}
    cpu: dict[str, list[float]] = {}
    profiler = cProfile.Profile() if args.profile else None
    mode = {"capture": False, "time": False}

    def call(step, username, method, path, body):
        client = client_for(username)
        extra = {"HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex} if method != "GET" else {}
        send = getattr(client, method.lower())
        payload = json.dumps(body)
        if mode["capture"]:
            with CaptureQueriesContext(connection) as queries:
                response = send(path, data=payload, content_type="application/json", **extra)
            counts.setdefault(step, []).append(len(queries))
            if args.sql in (step, "all"):
                sql.setdefault(step, []).append("-- request")
                sql[step].extend(q["sql"] for q in queries.captured_queries)
        else:
            profiling = profiler is not None and mode["time"] and args.profile in (step, "all")
            if profiling:
                profiler.enable()
            started = time.process_time()
            response = send(path, data=payload, content_type="application/json", **extra)
            spent = time.process_time() - started
            if profiling:
                profiler.disable()
            if mode["time"]:
                cpu.setdefault(step, []).append(spent * 1000)
        if response.status_code >= 300:
            raise RuntimeError(f"{step}: HTTP {response.status_code} {response.content[:300]!r}")
        return response.json()

    vehicles = plan["vehicles"]
    for _ in range(args.warmup):  # process-wide caches (content types, URL resolver) filled
        ro_lifecycle.run_lifecycle(call, plan, vehicles.pop(), technician, operations)
    mode["capture"] = True
    ro_lifecycle.run_lifecycle(call, plan, vehicles.pop(), technician, operations)
    mode["capture"] = False
    mode["time"] = True
    wall = time.perf_counter()
    for _ in range(args.lifecycles):
        ro_lifecycle.run_lifecycle(call, plan, vehicles.pop(), technician, operations)
    wall = time.perf_counter() - wall
    if args.transactions:
        spent = sum(sum(v) for v in cpu.values())
        print(
            f"inside transactions: {in_transactions[0] * 1000 / args.lifecycles:.0f} ms CPU "
            f"per lifecycle ({in_transactions[2] / args.lifecycles:.0f} transactions) of "
            f"{spent / args.lifecycles:.0f} ms in its requests: SQLite's write lock lets at "
            f"most {args.lifecycles / max(in_transactions[0], 1e-9):.1f} lifecycles/s through"
        )
    if args.gc_stats:
        print(
            f"garbage collector: {gc_time[0] * 1000:.0f} ms in the timed part of all runs, "
            f"{gc_time[2]} full collections; {len(gc.get_objects()):,} objects tracked"
        )

    print(f"{args.lifecycles} lifecycles timed, {wall:.1f} s wall")
    print(f"{'step':<12} {'req':>3} {'SQL/req':>8} {'CPU ms/req median':>18} {'min':>7}")
    figures = {}
    for step, values in counts.items():
        times = cpu.get(step, [0.0])
        per_request = len(values)
        figures[step] = {
            "requests": per_request,
            "sql": values,
            "cpu_median_ms": round(statistics.median(times), 2),
            "cpu_min_ms": round(min(times), 2),
        }
        shown = "/".join(str(v) for v in sorted(set(values)))
        print(
            f"{step:<12} {per_request:>3} {shown:>8} "
            f"{statistics.median(times):>18.1f} {min(times):>7.1f}"
        )
    statements = sum(sum(v) for v in counts.values())
    requests = sum(len(v) for v in counts.values())
    cpu_lifecycle = sum(statistics.median(cpu.get(s, [0.0])) * len(counts[s]) for s in counts)
    print(
        f"lifecycle: {requests} requests, {statements} statements, "
        f"{cpu_lifecycle:.0f} ms CPU ({cpu_lifecycle / requests:.1f} ms per request)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    for step, statements_ in sql.items():
        print(f"\n-- SQL of {step}")
        for n, text in enumerate(statements_, 1):
            print(f"{n:>3} {text[:300]}")
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
        if os.environ.get("PROFILE_DUMP"):
            pstats.Stats(profiler).dump_stats(os.environ["PROFILE_DUMP"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
