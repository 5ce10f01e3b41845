"""API baseline: latency and throughput of an authenticated list and detail endpoint.

    .venv/bin/python bench/api_baseline.py [--db sqlite|postgresql|both] [--records 10000]
        [--clients 20] [--seconds 20] [--think 0] [--workers 2] [--threads 4]
        [--wait-idle SECONDS] [--show-sql] [--json FILE] [--check] [--keep]

For each database it builds a fresh one in a temporary directory (SQLite file, or a
PostgreSQL server started on loopback with initdb), migrates it, loads the demo
organisation, bulk-creates N audit-trail entries (``core.AuditLog``, a restricted model)
spread over the 6 demo dealers, starts the production server (gunicorn, 2 workers x 4
threads) on a free loopback port, warms it, and drives it with keep-alive clients
(threads, ``http.client``):

* ``GET /api/audit/?page_size=50&page=<random page>``  (the list, any of its pages)
* ``GET /api/audit/<id>/``                               (a random entry the user may see)

as a region manager (``north-rm``: two dealers) and a dealer service manager
(``bj01-svcmgr``: one dealer). For each endpoint: first one client for up to 5 s (the service
time, no queueing), then C concurrent clients for S seconds (after 2 s of warm-up), each
client sending its next request as soon as the last is answered (``--think`` adds a pause).
It prints requests/s, p50/p95/p99, errors, the CPU time per request of gunicorn and of the
PostgreSQL server, the CPU share taken by unrelated processes (a shared machine makes the
figures worse; ``--wait-idle`` waits for a quiet moment before each endpoint), and the SQL
queries per request for page_size 10 / 50 / 200, measured in-process with Django's test
client and ``CaptureQueriesContext`` (the count must not grow with the page size).

Targets (issue 2): p95 < 50 ms for the detail, < 100 ms for a 50-row list page.
``--check`` exits 1 when a target is missed or the query count grows with page size.

Everything listens on 127.0.0.1 only; every loop is bounded by a count and a deadline; the
PostgreSQL server and gunicorn are stopped and the temporary directories removed at the end.
Internal sub-commands (run in a subprocess with the benchmark's environment):
``_seed <records> <out.json>`` and ``_queries <out.json>``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BENCH_USERS = ["north-rm", "bj01-svcmgr"]  # region manager (2 dealers), dealer service manager
QUERY_USERS = ["north-rm", "bj01-svcmgr", "oem-analyst"]  # + an OEM user who sees everything
DEMO_PASSWORD = "demo-2026"
PAGE_SIZES = [10, 50, 200]
LIST_PAGE_SIZE = 50
TARGET_P95_MS = {"detail": 50.0, "list": 100.0}
WARMUP_SECONDS = 2.0
MAX_REQUESTS_PER_CLIENT = 200_000
GUNICORN_WORKERS = 2
GUNICORN_THREADS = 4


# --------------------------------------------------------------------------------------
# Inside the Django subprocess
# --------------------------------------------------------------------------------------


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.config.settings")
    import django

    django.setup()


def internal_seed(records: int, out: str) -> None:
    """Bulk-create ``records`` audit entries about the demo dealers, in one bulk_create."""
    _django()
    from datetime import timedelta

    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.utils import timezone

    from aftersales.core.models import AuditAction, AuditChannel, AuditLog
    from aftersales.org.models import Dealer, User

    rng = random.Random(2026)
    dealers = list(Dealer.objects.order_by("code"))
    staff = {d.id: list(User.objects.filter(dealer=d).order_by("id")) for d in dealers}
    content_type = ContentType.objects.get_for_model(Dealer)
    now = timezone.now()
    # The entries are history: spread them over the past year instead of all "now".
    AuditLog._meta.get_field("at").auto_now_add = False
    streets = ["建国路", "中山路", "人民路", "解放路", "南京路", "滨江大道", "科技园路"]
    channels = [AuditChannel.WEB, AuditChannel.WEB, AuditChannel.API, AuditChannel.IMPORT]
    rows = []
    for i in range(records):
        dealer = dealers[i % len(dealers)]
        actor = rng.choice(staff[dealer.id])
        at = now - timedelta(seconds=rng.randint(0, 365 * 86400))
        before = at - timedelta(days=rng.randint(1, 90))
        changes = {
            "phone": ["400-800-0000", f"400-800-{rng.randint(0, 9999):04d}"],
            "address": [
                f"{dealer.city}市{rng.choice(streets)}{rng.randint(1, 300)}号",
                f"{dealer.city}市{rng.choice(streets)}{rng.randint(1, 300)}号",
            ],
            "updated_at": [before.isoformat(), at.isoformat()],
        }
        if i % 7 == 0:
            changes["active"] = [True, False]
        rows.append(
            AuditLog(
                at=at,
                actor=actor,
                actor_name=str(actor),
                channel=rng.choice(channels),
                action=AuditAction.UPDATE,
                content_type=content_type,
                object_id=str(dealer.pk),
                object_repr=str(dealer)[:200],
                changes=changes,
                dealer=dealer,
            )
        )
    started = time.perf_counter()
    AuditLog.objects.bulk_create(rows)
    elapsed = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute("SHOW server_version")
            version = "PostgreSQL " + cursor.fetchone()[0]
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute("SELECT sqlite_version()")
            version = "SQLite " + cursor.fetchone()[0]
    Path(out).write_text(
        json.dumps(
            {
                "records": AuditLog.objects.count(),
                "per_dealer": {d.code: AuditLog.objects.filter(dealer=d).count() for d in dealers},
                "bulk_create_s": round(elapsed, 2),
                "db_version": version,
            }
        )
    )


def internal_queries(out: str) -> None:
    """Queries per request (token-authenticated, as the real clients are), and the ids
    each benchmark user may see."""
    _django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    from aftersales.core.models import AuditLog
    from aftersales.org.models import User

    result = {"users": {}}
    client = Client(HTTP_HOST="127.0.0.1")
    for username in QUERY_USERS:
        user = User.objects.get(username=username)
        token, _ = Token.objects.get_or_create(user=user)
        auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
        visible = list(
            AuditLog.objects.restrict(user, "view").order_by("id").values_list("id", flat=True)
        )
        entry = {"visible": len(visible), "ids": visible if username in BENCH_USERS else []}
        client.get("/api/audit/?page_size=10", **auth)  # warm caches (content types, urls)

        def measure(path, auth=auth):
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(path, **auth)
            body = response.json()
            rows = len(body.get("results", [])) if isinstance(body, dict) else 0
            return {
                "status": response.status_code,
                "queries": len(ctx.captured_queries),
                "rows": rows,
                "sql": [q["sql"] for q in ctx.captured_queries],
            }

        entry["list"] = {size: measure(f"/api/audit/?page_size={size}") for size in PAGE_SIZES}
        entry["list_last_page"] = measure(
            f"/api/audit/?page_size=50&page={max(1, math.ceil(len(visible) / 50))}"
        )
        entry["detail"] = measure(f"/api/audit/{visible[len(visible) // 2]}/")
        result["users"][username] = entry
    Path(out).write_text(json.dumps(result))


# --------------------------------------------------------------------------------------
# The driver
# --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine() -> dict:
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    import django

    return {
        "nproc": nproc,
        "cpu": model,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "django": django.get_version(),
        "kernel": platform.release(),
    }


def cpu_busy_jiffies():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def tree_cpu_seconds(root_pid):
    """CPU time (user + system) of a process and its children (gunicorn's workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        if pid == root_pid:
            # own time + the time of children that exited and were reaped (PostgreSQL
            # backends come and go with connections)
            total += sum(int(x) for x in fields[11:15])
        elif ppid == root_pid:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def find_postmaster(port):
    """The pid of the PostgreSQL server listening on ``port`` (its backends are children)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if args and args[0].endswith(b"postgres") and b"-p" in args:
            i = args.index(b"-p")
            if i + 1 < len(args) and args[i + 1] == str(port).encode():
                return int(entry)
    return None


def wait_until_quiet(max_wait, threshold_pct=15.0):
    """The machine may be shared (test suites, browsers): wait, at most ``max_wait``
    seconds, for one second in which the other processes use under ``threshold_pct`` of
    the CPU. Returns the last measured busy share."""
    deadline = time.monotonic() + max_wait
    while True:
        busy0, total0 = cpu_busy_jiffies()
        time.sleep(1.0)
        busy1, total1 = cpu_busy_jiffies()
        busy = 100 * (busy1 - busy0) / max(1, total1 - total0)
        if busy < threshold_pct or time.monotonic() >= deadline:
            return busy
        time.sleep(2.0)


def run(cmd, env, timeout, label):
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise RuntimeError(f"{label} failed (exit {proc.returncode})")
    print(f"  {label}: {time.monotonic() - started:.1f}s", flush=True)
    return proc


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


class Server:
    """gunicorn, as production runs it, on a free loopback port."""

    def __init__(self, env, workdir):
        self.port = free_port()
        self.log = open(workdir / "gunicorn.log", "w")
        self.process = subprocess.Popen(
            [
                str(Path(PYTHON).parent / "gunicorn"),
                "aftersales.config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(GUNICORN_WORKERS),
                "--threads",
                str(GUNICORN_THREADS),
                "--timeout",
                "60",
                # gunicorn >= 25 opens a control socket at one fixed path per user
                # (~/.gunicorn/gunicorn.ctl); a second server on the machine would take it over.
                "--control-socket",
                str(workdir / "gunicorn.ctl"),
            ],
            env=env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.close()
                log = (workdir / "gunicorn.log").read_text()[-3000:]
                raise RuntimeError(f"gunicorn exited:\n{log}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                conn.getresponse().read()  # 503 is fine here: no job runner in the bench
                conn.close()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not answer within 60 s")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


def obtain_token(port, username):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = urllib.parse.urlencode({"username": username, "password": DEMO_PASSWORD})
    conn.request(
        "POST",
        "/api/auth/token/",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    response = conn.getresponse()
    data = response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"token for {username}: HTTP {response.status} {data[:200]!r}")
    return json.loads(data)["token"]


def load_phase(port, token, make_path, clients, seconds, server_pid, db_pid=None, think=0.0):
    """``clients`` threads, one keep-alive connection each, for WARMUP + ``seconds``; each
    client pauses ``think`` seconds on average (uniform 0.5-1.5x) between requests.
    Returns latencies (ms) of requests started after the warm-up, and the error count."""
    start = time.monotonic()
    measure_from = start + WARMUP_SECONDS
    deadline = measure_from + seconds
    latencies, errors, statuses, sent = [], [0], {}, [0]
    lock = threading.Lock()
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}

    def client(n):
        rng = random.Random(n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, my_errors, count = [], 0, 0
        for _ in range(MAX_REQUESTS_PER_CLIENT):
            t_start = time.monotonic()
            if t_start >= deadline:
                break
            path = make_path(rng)
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status = "exc"
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            elapsed = (time.perf_counter() - t0) * 1000
            count += 1
            if think:
                time.sleep(
                    min(think * rng.uniform(0.5, 1.5), max(0.0, deadline - time.monotonic()))
                )
            if t_start >= measure_from:
                if status == 200:
                    mine.append(elapsed)
                else:
                    my_errors += 1
                    with lock:
                        statuses[status] = statuses.get(status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += my_errors
            sent[0] += count

    busy0, total0 = cpu_busy_jiffies()
    cpu0 = time.process_time()
    server0 = tree_cpu_seconds(server_pid)
    db0 = tree_cpu_seconds(db_pid) if db_pid else 0.0
    wall0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=WARMUP_SECONDS + seconds + 60)
    cpu_client = time.process_time() - cpu0
    busy1, total1 = cpu_busy_jiffies()
    cpu_server = tree_cpu_seconds(server_pid) - server0
    cpu_db = (tree_cpu_seconds(db_pid) - db0) if db_pid else 0.0
    wall = time.monotonic() - wall0
    cores = os.cpu_count() or 1
    machine_pct = 100 * (busy1 - busy0) / max(1, total1 - total0)
    server_pct = 100 * cpu_server / (wall * cores)
    client_pct = 100 * cpu_client / (wall * cores)
    db_pct = 100 * cpu_db / (wall * cores)
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "errors": errors[0],
        "error_statuses": {str(k): v for k, v in statuses.items()},
        "rps": n / seconds,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "max": latencies[-1] if latencies else float("nan"),
        # Shares of the whole machine (all cores) over the phase, warm-up included.
        "machine_cpu_pct": machine_pct,
        "server_cpu_pct": server_pct,
        "client_cpu_pct": client_pct,
        "db_cpu_pct": db_pct,
        "other_cpu_pct": max(0.0, machine_pct - server_pct - client_pct - db_pct),
        # gunicorn CPU per answered request: the cost of a request, whatever the queueing.
        "server_cpu_ms_per_request": 1000 * cpu_server / max(1, sent[0]),
        # PostgreSQL server CPU per request (SQLite runs inside the gunicorn workers).
        "db_cpu_ms_per_request": 1000 * cpu_db / max(1, sent[0]),
    }


def prepare_database(db, records, workdir):
    """A fresh database with the demo org and ``records`` audit entries. Returns the
    environment for Django processes, the PostgreSQL server's pid (None for SQLite) and
    the seed figures."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"CELERY_BROKER_URL", "REDIS_URL", "AFTERSALES_TEST_DATABASE", "DEBUG"}
    }
    env.update(
        AFTERSALES_VAR=str(workdir / "var"),
        AFTERSALES_MODE="demo",
        ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SETTINGS_MODULE="aftersales.config.settings",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    (workdir / "var").mkdir()
    db_pid = None  # SQLite runs inside the gunicorn workers
    if db == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    else:
        os.environ.pop("AFTERSALES_TEST_DATABASE", None)
        from aftersales.testing import servers

        started = time.monotonic()
        env["DATABASE_URL"] = servers.start_postgres()
        print(f"  PostgreSQL started on loopback: {time.monotonic() - started:.1f}s", flush=True)
        db_pid = find_postmaster(urllib.parse.urlsplit(env["DATABASE_URL"]).port)

    manage = [PYTHON, str(ROOT / "manage.py")]
    run([*manage, "migrate", "--no-input", "-v", "0"], env, 300, "migrate")
    run([*manage, "demo_data", "--quiet-logins"], env, 300, "demo_data")
    seed_out = workdir / "seed.json"
    run(
        [PYTHON, str(Path(__file__).resolve()), "_seed", str(records), str(seed_out)],
        env,
        300,
        f"bulk-create {records} audit entries",
    )
    return env, db_pid, json.loads(seed_out.read_text())


def bench_database(db, args, workdir):
    env, db_pid, seed = prepare_database(db, args.records, workdir)
    me = [PYTHON, str(Path(__file__).resolve())]
    queries_out = workdir / "queries.json"
    run([*me, "_queries", str(queries_out)], env, 300, "query counts (in-process)")
    queries = json.loads(queries_out.read_text())

    server = Server(env, workdir)
    result = {"db": db, "seed": seed, "queries": queries["users"], "phases": {}}
    try:
        print(
            f"  gunicorn up on 127.0.0.1:{server.port} "
            f"({GUNICORN_WORKERS} workers x {GUNICORN_THREADS} threads)",
            flush=True,
        )
        pids = (server.process.pid, db_pid)
        plans = []
        for username in BENCH_USERS:
            token = obtain_token(server.port, username)
            ids = queries["users"][username]["ids"]
            pages = max(1, math.ceil(len(ids) / LIST_PAGE_SIZE))

            def list_path(rng, pages=pages):
                return f"/api/audit/?page_size={LIST_PAGE_SIZE}&page={rng.randint(1, pages)}"

            def detail_path(rng, ids=ids):
                return f"/api/audit/{rng.choice(ids)}/"

            plans.append((username, token, ids, pages, list_path, detail_path))
        # Warm every worker (Django and DRF import lazily on the first requests) so that
        # start-up work is not counted in the first phase.
        for _username, token, _ids, _pages, list_path, detail_path in plans:
            for make_path in (list_path, detail_path):
                load_phase(server.port, token, make_path, 2 * GUNICORN_WORKERS, 1.0, *pids)
        for username, token, ids, pages, list_path, detail_path in plans:
            for endpoint, make_path in (("list", list_path), ("detail", detail_path)):
                if args.wait_idle:
                    busy = wait_until_quiet(args.wait_idle)
                    if busy >= 15:
                        print(f"  (machine still {busy:.0f}% busy after {args.wait_idle}s)")
                # One client first: the service time of a request with no queueing.
                serial = load_phase(server.port, token, make_path, 1, min(5.0, args.seconds), *pids)
                phase = load_phase(
                    server.port,
                    token,
                    make_path,
                    args.clients,
                    args.seconds,
                    *pids,
                    think=args.think,
                )
                phase["serial"] = {
                    k: serial[k]
                    for k in (
                        "rps",
                        "p50",
                        "p95",
                        "errors",
                        "server_cpu_ms_per_request",
                        "db_cpu_ms_per_request",
                    )
                }
                phase["visible"] = len(ids)
                phase["pages"] = pages
                result["phases"][(username, endpoint)] = phase
                print(
                    f"  {username:<12} {endpoint:<6} {phase['rps']:7.1f} req/s  "
                    f"p50 {phase['p50']:6.1f}  p95 {phase['p95']:6.1f}  p99 {phase['p99']:6.1f} ms"
                    f"  errors {phase['errors']}  cpu: gunicorn {phase['server_cpu_pct']:.0f}% "
                    f"db {phase['db_cpu_pct']:.0f}% "
                    f"client {phase['client_cpu_pct']:.0f}% other {phase['other_cpu_pct']:.0f}%"
                    f"  cpu/req {cpu_per_request(phase)} ms"
                    f"  | 1 client: p50 {serial['p50']:.1f} p95 {serial['p95']:.1f} ms",
                    flush=True,
                )
    finally:
        server.stop()
    return result


def cpu_per_request(phase):
    server, db = phase["server_cpu_ms_per_request"], phase["db_cpu_ms_per_request"]
    return f"{server:.1f}+{db:.1f}" if db else f"{server:.1f}"


def verdict(ok, target):
    return f"<{target:.0f} ms {'ok' if ok else 'MISS'}"


def print_report(results, info, args):
    print()
    print("=" * 104)
    print("API baseline — aftersales")
    print(
        f"machine : {info['nproc']} CPU ({info['cpu']}), {info['ram_gb']} GB RAM, "
        f"Linux {info['kernel']}, Python {info['python']}, Django {info['django']}"
    )
    print(
        f"server  : gunicorn {GUNICORN_WORKERS} workers x {GUNICORN_THREADS} threads "
        f"({'gthread' if GUNICORN_THREADS > 1 else 'sync'} worker), "
        "127.0.0.1, token auth, DEBUG off, no access log"
    )
    print(
        f"load    : {args.clients} concurrent keep-alive clients (threads, http.client, "
        + (f"{args.think:g}s mean think time" if args.think else "no think time")
        + f"), {args.seconds:.0f}s per phase after {WARMUP_SECONDS:.0f}s warm-up;"
    )
    print(
        f"          list = GET /api/audit/?page_size={LIST_PAGE_SIZE}&page=<random>, "
        "detail = GET /api/audit/<random visible id>/"
    )
    print(
        "columns : cpu ms/req = CPU time per request in gunicorn (+ in the PostgreSQL server); "
        "other% = share of the machine's CPU"
    )
    print("          used by unrelated processes (noise); @1 = one client, no queueing")
    failures = []
    noisy = False
    for res in results:
        seed = res["seed"]
        print()
        print(
            f"--- {seed['db_version']}: {seed['records']} audit entries "
            f"({', '.join(f'{k} {v}' for k, v in seed['per_dealer'].items())}); "
            f"bulk_create {seed['bulk_create_s']}s"
        )
        print(
            f"{'user':<12} {'endpoint':<7} {'visible':>7} {'req/s':>7} {'p50':>7} {'p95':>7} "
            f"{'p99':>7} {'max':>7} {'errors':>6} {'cpu ms/req':>10} {'other%':>6} "
            f"{'target p95':>14} | {'@1 p50/p95':>12} {'@1 cpu ms/req':>13}"
        )
        for (username, endpoint), ph in res["phases"].items():
            target = TARGET_P95_MS[endpoint]
            ok = ph["p95"] < target and ph["errors"] == 0
            if not ok:
                failures.append(f"{res['db']} {username} {endpoint} p95 {ph['p95']:.1f} ms")
            noisy |= ph["other_cpu_pct"] > 10
            serial = ph["serial"]
            print(
                f"{username:<12} {endpoint:<7} {ph['visible']:>7} {ph['rps']:>7.1f} "
                f"{ph['p50']:>7.1f} {ph['p95']:>7.1f} {ph['p99']:>7.1f} {ph['max']:>7.1f} "
                f"{ph['errors']:>6} {cpu_per_request(ph):>10} "
                f"{ph['other_cpu_pct']:>6.0f} "
                f"{verdict(ok, target):>14} | "
                f"{serial['p50']:>5.1f}/{serial['p95']:<6.1f} "
                f"{cpu_per_request(serial):>13}"
            )
        print(
            "SQL queries per request (in-process, Django test client + CaptureQueriesContext, "
            "token auth):"
        )
        sizes = " ".join(f"{'list ' + str(s):>9}" for s in PAGE_SIZES)
        print(f"{'user':<12} {'visible':>7} {sizes} {'last page':>10} {'detail':>7}  rows returned")
        for username, q in res["queries"].items():
            counts = [q["list"][str(s)]["queries"] for s in PAGE_SIZES]
            rows = [q["list"][str(s)]["rows"] for s in PAGE_SIZES]
            grows = len(set(counts)) != 1
            if grows:
                failures.append(f"{res['db']} {username}: queries grow with page size {counts}")
            statuses = {q["list"][str(s)]["status"] for s in PAGE_SIZES} | {q["detail"]["status"]}
            if statuses != {200}:
                failures.append(f"{res['db']} {username}: HTTP {sorted(statuses)} in-process")
            print(
                f"{username:<12} {q['visible']:>7} "
                + " ".join(f"{c:>9}" for c in counts)
                + f" {q['list_last_page']['queries']:>10} {q['detail']['queries']:>7}   {rows}"
                + ("   GROWS!" if grows else "")
            )
        if args.show_sql:
            for username, q in res["queries"].items():
                print(f"  SQL, {username}, list page_size=50:")
                for sql in q["list"]["50"]["sql"]:
                    print("    " + sql[:300])
    print()
    print(f"summary: {args.clients} clients, latencies in ms")
    print(
        f"{'db':<11} {'user':<12} {'endpoint':<7} {'req/s':>7} {'p50':>7} {'p95':>7} "
        f"{'p99':>7} {'errors':>6}  {'target p95':<14} {'@1 p50/p95':>12}"
    )
    for res in results:
        for (username, endpoint), ph in res["phases"].items():
            target = TARGET_P95_MS[endpoint]
            ok = ph["p95"] < target and ph["errors"] == 0
            print(
                f"{res['db']:<11} {username:<12} {endpoint:<7} {ph['rps']:>7.1f} "
                f"{ph['p50']:>7.1f} {ph['p95']:>7.1f} {ph['p99']:>7.1f} {ph['errors']:>6}  "
                f"{verdict(ok, target):<14} "
                f"{ph['serial']['p50']:>5.1f}/{ph['serial']['p95']:<6.1f}"
            )
    print("=" * 104)
    if noisy:
        print(
            "NOTE: other processes used more than 10% of the CPU during some phases; "
            "the figures are pessimistic (try --wait-idle 60 on a quiet machine)."
        )
    if failures:
        print("NOT MET: " + "; ".join(failures))
    else:
        print("All targets met; query counts do not grow with the page size.")
    return failures


def main():
    global GUNICORN_WORKERS, GUNICORN_THREADS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--show-sql", action="store_true", help="print the list's SQL")
    parser.add_argument("--json", help="also write the raw figures to this file")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="mean pause of each client between requests (default 0: as fast as answered)",
    )
    parser.add_argument("--workers", type=int, default=GUNICORN_WORKERS, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=GUNICORN_THREADS, help="threads per worker")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0,
        metavar="SECONDS",
        help="before each endpoint, wait up to SECONDS for other processes to go quiet",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories")
    args = parser.parse_args()
    if not (
        1 <= args.clients <= 200
        and 1 <= args.seconds <= 600
        and 6 <= args.records <= 10**6
        and 0 <= args.wait_idle <= 600
        and 1 <= args.workers <= 16
        and 1 <= args.threads <= 16
        and 0 <= args.think <= 60
    ):
        parser.error(
            "clients 1-200, seconds 1-600, records 6-1,000,000, wait-idle 0-600, "
            "workers and threads 1-16, think 0-60"
        )

    GUNICORN_WORKERS, GUNICORN_THREADS = args.workers, args.threads
    sys.path.insert(0, str(ROOT))
    info = machine()
    databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = []
    workdirs = []
    try:
        for db in databases:
            workdir = Path(tempfile.mkdtemp(prefix=f"aftersales-bench-{db}-"))
            workdirs.append(workdir)
            print(f"[{db}] preparing in {workdir}", flush=True)
            results.append(bench_database(db, args, workdir))
    finally:
        if "aftersales.testing.servers" in sys.modules:
            started = sys.modules["aftersales.testing.servers"]._started
            while started:
                started.pop()()
        for workdir in workdirs:
            if args.keep:
                print(f"kept {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)
    failures = print_report(results, info, args)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "machine": info,
                    "results": [
                        {
                            **{k: v for k, v in r.items() if k not in {"phases", "queries"}},
                            "phases": [
                                {"user": u, "endpoint": e, **ph}
                                for (u, e), ph in r["phases"].items()
                            ],
                            "queries": {
                                u: {
                                    "visible": q["visible"],
                                    "list": {s: q["list"][s]["queries"] for s in q["list"]},
                                    "detail": q["detail"]["queries"],
                                }
                                for u, q in r["queries"].items()
                            },
                        }
                        for r in results
                    ],
                },
                indent=2,
            )
        )
    return 1 if (args.check and failures) else 0


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "_seed":
        internal_seed(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) >= 2 and sys.argv[1] == "_queries":
        internal_queries(sys.argv[2])
    else:
        sys.exit(main())
