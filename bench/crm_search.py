"""Search and customer-360 latency on the big CRM data set of ``bench/crm_generate.py``.

    .venv/bin/python bench/crm_search.py --db sqlite|postgresql|both [--samples 300]
        [--page-samples N] [--wait-idle 60] [--explain] [--check]

As a dealer service advisor (``bj01-sa``: one dealer), a region manager (``north-rm``: the
region's dealers) and an OEM customer-service agent (``oem-csagent``: everything), each
logged in with Django's test client (the whole middleware stack, no network), over
``--samples`` random keys the user may see, measures:

* ``GET /api/crm/search/?q=<plate>``          exact plate
* ``GET /api/crm/search/?q=<VIN last 8>``     VIN tail
* ``GET /api/crm/search/?q=<mobile>``         full mobile number
* ``GET <customer-detail>``                   the customer 360 page of a customer

and, for the searches, ``selectors.search()`` called directly (the database and ranking
part without the HTTP stack). Each answer is checked: 200, and the searched vehicle or
customer among the hits. Prints p50 / p95 / max in ms, the CPU time per request of this
process (+ of the PostgreSQL backend: the cost of a request, which does not grow when other
work shares the machine, unlike the wall time), SQL queries per request, data size and
machine; ``--explain`` prints the query plans of the restricted search queries and the
360 page's queries with their times.
Targets (issue 3): search p95 < 50 ms, the 360 page < 150 ms. ``--check`` exits 1 when a
target is missed. Figures go to ``var/bench/crm-search-<db>.json`` too.

The PostgreSQL server of the generator (``var/bench/crm-pg``) is started on a free loopback
port for the run and stopped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from api_baseline import cpu_busy_jiffies, wait_until_quiet  # noqa: E402
from crm_generate import (  # noqa: E402
    BENCH_DIR,
    PG_DIR,
    SQLITE_PATH,
    info_path,
    machine,
    pg_start,
    pg_stop,
    setup_django,
)

USERS = [
    ("bj01-sa", "dealer service advisor (BJ01)"),
    ("north-rm", "region manager (NORTH)"),
    ("oem-csagent", "OEM customer-service agent"),
]
TARGETS_MS = {"plate": 50, "vin8": 50, "mobile": 50, "360": 150}
WARMUP = 20


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def stats(values):
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 1),
        "p95": round(percentile(values, 95), 1),
        "max": round(max(values), 1) if values else None,
    }


def sample_keys(user, count, rng):
    """``count`` random vehicles the user may see, with their plate, VIN tail and owner."""
    from aftersales.core.access import user_scope
    from aftersales.crm.models import Customer, DealerVehicle, Vehicle

    scope = user_scope(user, "crm.view_vehicle")
    if scope.everything:
        top = Vehicle.objects.order_by("-id").values_list("id", flat=True).first()
        ids = rng.sample(range(1, top + 1), min(count * 2, top))
    else:
        pool = list(
            DealerVehicle.objects.filter(dealer_id__in=scope.dealer_ids).values_list(
                "vehicle_id", flat=True
            )
        )
        ids = rng.sample(pool, min(count * 2, len(pool)))
    rows = list(
        Vehicle.objects.filter(pk__in=ids, owner__isnull=False).values_list(
            "id", "plate", "vin_last8", "owner_id"
        )
    )
    rng.shuffle(rows)
    rows = rows[:count]
    mobiles = dict(Customer.objects.filter(pk__in=[r[3] for r in rows]).values_list("id", "mobile"))
    return [
        {"vehicle": vid, "plate": plate, "vin8": tail, "customer": owner, "mobile": mobiles[owner]}
        for vid, plate, tail, owner in rows
    ]


def backend_cpu_seconds():
    """CPU time used so far by this connection's PostgreSQL backend process (0 on SQLite,
    whose work is done in this process)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU milliseconds per request of this process (+ the PostgreSQL backend): the cost of
    a request, which unlike the wall time does not grow when other work shares the CPU."""

    def __enter__(self):
        self.own, self.db = time.process_time(), backend_cpu_seconds()
        return self

    def __exit__(self, *exc):
        self.own = time.process_time() - self.own
        self.db = backend_cpu_seconds() - self.db

    def per_request(self, n):
        return {"cpu_ms": round(1000 * self.own / n, 1), "db_cpu_ms": round(1000 * self.db / n, 1)}


def progress(message):
    print(f"  {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def measure_user(username, samples, rng, explain, page_samples=None):
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from aftersales.crm import selectors
    from aftersales.org.models import User

    user = User.objects.get(username=username)
    keys = sample_keys(user, samples, rng)
    client = Client()
    client.force_login(user)
    result = {"user": username, "keys": len(keys)}
    search_url = "/api/crm/search/"
    expected = {"plate": "vehicle", "vin8": "vehicle", "mobile": "customer"}

    def found(payload, kind, key):
        wanted = key["vehicle"] if kind == "vehicle" else key["customer"]
        return any(h["kind"] == kind and h["id"] == wanted for h in payload["results"])

    # warm up the process, the caches and the connection (not counted)
    for key in keys[:WARMUP]:
        client.get(search_url, {"q": key["plate"]})
    for key in keys[:3]:
        client.get(reverse("customer-detail", args=[key["customer"]]))
    for field in ("plate", "vin8", "mobile"):
        progress(f"{username}: search by {field}")
        api, direct, misses, errors, answers = [], [], 0, 0, []
        with CpuMeter() as cpu:
            for key in keys:
                started = time.perf_counter()
                response = client.get(search_url, {"q": key[field]})
                api.append((time.perf_counter() - started) * 1000)
                answers.append((response, key))
        for response, key in answers:
            if response.status_code != 200:
                errors += 1
            elif not found(response.json(), expected[field], key):
                misses += 1
        checked = User.objects.get(username=username)  # scope cached once, like a request
        for key in keys:
            started = time.perf_counter()
            selectors.search(checked, key[field])
            direct.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            client.get(search_url, {"q": keys[0][field]})
        result[field] = {
            "api": stats(api) | cpu.per_request(len(keys)),
            "selector": stats(direct),
            "queries": len(queries.captured_queries),
            "errors": errors,
            "not_found": misses,
        }

    page_keys = keys[: page_samples or len(keys)]

    def page_times():
        times, errors = [], 0
        with CpuMeter() as cpu:
            for key in page_keys:
                url = reverse("customer-detail", args=[key["customer"]])
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    errors += 1
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("customer-detail", args=[keys[0]["customer"]]))
        return {
            "page": stats(times) | cpu.per_request(len(page_keys)),
            "queries": len(queries.captured_queries),
            "errors": errors,
        }

    progress(f"{username}: customer 360 page")
    result["360"] = page_times()
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("customer-detail", args=[keys[0]["customer"]]))
    if explain:
        result["plans"] = plans(User.objects.get(username=username), keys[0])
        result["360_sql"] = [
            (round(float(q["time"]) * 1000, 2), q["sql"][:300]) for q in queries.captured_queries
        ]
    reset_queries()
    return result


def plans(user, key):
    """The query plans of the restricted exact-match searches."""
    from aftersales.crm import selectors

    out = {}
    queries = {
        "plate": selectors.vehicles(user).filter(plate=key["plate"]),
        "plate prefix": selectors.vehicles(user)
        .filter(plate__startswith=key["plate"])
        .exclude(plate=key["plate"]),
        "vin8": selectors.vehicles(user).filter(vin_last8=key["vin8"]),
        "mobile": selectors.customers(user).filter(mobile=key["mobile"]),
        "360 vehicles": selectors.vehicles(user).filter(owner_id=key["customer"]),
    }
    for name, qs in queries.items():
        try:
            plan = qs.explain(analyze=True) if _is_pg() else qs.explain()
        except Exception as exc:  # noqa: BLE001 - a plan is informative, never fatal
            plan = f"(no plan: {exc})"
        out[name] = {"sql": str(qs.query), "plan": plan}
    return out


def _is_pg():
    from django.db import connection

    return connection.vendor == "postgresql"


def run_db(db, args):
    info_file = info_path(db)
    if not info_file.exists():
        raise SystemExit(f"{info_file} is missing: run bench/crm_generate.py --db {db} first")
    info = json.loads(info_file.read_text())
    started_server = False
    if db == "sqlite":
        url = f"sqlite:///{SQLITE_PATH}"
    elif info.get("database_url"):
        url = info["database_url"]
    else:
        url = pg_start(PG_DIR)
        started_server = True
    try:
        # the test client's host name; Django's test set-up (template instrumentation,
        # locmem mail) is left off so the pages run as in production
        os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
        setup_django(url)
        rng = random.Random(args.seed)
        results = {
            "db": db,
            "machine": machine(),
            "data": info["rows"],
            "dealers": info["dealers"],
            "samples": args.samples,
            "users": [],
        }
        for username, label in USERS:
            if args.wait_idle:
                busy = wait_until_quiet(args.wait_idle)
                print(f"  machine busy before {username}: {busy:.0f} %", file=sys.stderr)
            busy0, total0 = cpu_busy_jiffies()
            measured = measure_user(username, args.samples, rng, args.explain, args.page_samples)
            busy1, total1 = cpu_busy_jiffies()
            measured["label"] = label
            measured["machine_busy_pct"] = round(100 * (busy1 - busy0) / max(1, total1 - total0))
            results["users"].append(measured)
    finally:
        if started_server:
            pg_stop(PG_DIR)
    return results


def _cpu(measured):
    own, db = measured["cpu_ms"], measured["db_cpu_ms"]
    return f"{own}+{db}" if db else f"{own}"


def report(results):
    data = results["data"]
    print(
        f"\n== {results['machine']['database']}: {data['vehicle']:,} vehicles, "
        f"{data['customer']:,} customers, {results['dealers']} dealers, "
        f"{data['odometerreading']:,} odometer readings, {data['servicevisit']:,} visits, "
        f"{data['dealervehicle'] + data['dealercustomer']:,} dealer links"
    )
    m = results["machine"]
    print(
        f"   machine: {m['cpus']} CPU ({m['cpu']}), {m['ram_gb']} GB RAM, Python {m['python']}, "
        f"Django {m['django']}"
    )
    print(
        "   | user | query | p50 | p95 | max | CPU ms/req | selector p50 | p95 | queries | "
        "target p95 |"
    )
    missed = []
    for user in results["users"]:
        for field, title in (("plate", "plate"), ("vin8", "VIN last 8"), ("mobile", "mobile")):
            r = user[field]
            ok = r["api"]["p95"] < TARGETS_MS[field]
            if not ok:
                missed.append(f"{user['user']} {title}")
            print(
                f"   | {user['user']} | search {title} | {r['api']['p50']} | {r['api']['p95']} | "
                f"{r['api']['max']} | {_cpu(r['api'])} | {r['selector']['p50']} | "
                f"{r['selector']['p95']} | "
                f"{r['queries']} | < {TARGETS_MS[field]} {'ok' if ok else 'MISSED'} |"
                + (f" errors {r['errors']}" if r["errors"] else "")
                + (f" not found {r['not_found']}" if r["not_found"] else "")
            )
        r = user["360"]
        ok = r["page"]["p95"] < TARGETS_MS["360"]
        if not ok:
            missed.append(f"{user['user']} 360")
        print(
            f"   | {user['user']} | customer 360 page | {r['page']['p50']} | {r['page']['p95']} | "
            f"{r['page']['max']} | {_cpu(r['page'])} | | | {r['queries']} | "
            f"< 150 {'ok' if ok else 'MISSED'} |"
            + (f" errors {r['errors']}" if r["errors"] else "")
        )
        print(f"   ({user['user']}: machine busy {user['machine_busy_pct']} % while measuring)")
        for name, plan in user.get("plans", {}).items():
            print(f"\n   -- {user['user']} {name}: {plan['sql']}\n{plan['plan']}")
        for ms, sql in user.get("360_sql", []):
            print(f"   360 query {ms} ms: {sql}")
    return missed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument(
        "--page-samples", type=int, help="customer 360 pages per user (default: --samples)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--wait-idle", type=float, default=0, help="seconds, per user")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    if len(dbs) > 1:
        # one Django process per database: settings are read once per process
        code = 0
        for db in dbs:
            cmd = [sys.executable, __file__, "--db", db, "--samples", str(args.samples),
                   "--seed", str(args.seed), "--wait-idle", str(args.wait_idle)]  # fmt: skip
            if args.page_samples:
                cmd += ["--page-samples", str(args.page_samples)]
            cmd += ["--explain"] if args.explain else []
            cmd += ["--check"] if args.check else []
            code |= subprocess.run(cmd).returncode
        return code
    results = run_db(dbs[0], args)
    missed = report(results)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    (BENCH_DIR / f"crm-search-{dbs[0]}.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False, default=str)
    )
    if missed:
        print(f"\n   targets missed: {', '.join(missed)}")
    return 1 if missed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
