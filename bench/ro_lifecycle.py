"""Repair-order lifecycle throughput through the API (issue 5 figure).

    .venv/bin/python bench/ro_lifecycle.py --db sqlite|postgresql|both
        [--clients 10] [--lifecycles 200] [--history 1000000] [--workers 4] [--think 0]
        [--check]

Runs on the CRM benchmark data sets (1,000,000 vehicles, 800,000 customers, 60 dealers:
build them first with ``bench/crm_generate.py``): ``var/bench/crm.sqlite3`` and the
PostgreSQL server in ``var/bench/crm-pg/``. The first run migrates them forward and adds
(once; re-runs reuse them):

* ``--history`` closed historic repair orders (one per CRM service visit, topped up to the
  count) with two lines each, written set-based (``INSERT … SELECT``);
* the labour catalogue, rates and bays of the demo dealers; 5 bench parts fitting every
  model, stocked in a BJ01 warehouse; one bench technician per client at BJ01.

Then, for each database:

1. **Queries per step**: one lifecycle in-process (Django's test client, whole middleware
   stack, ``CaptureQueriesContext``), printing the SQL statements of each step.
2. **API**: gunicorn (``--workers`` × 1 thread, production settings) on a free loopback
   port and ``--clients`` concurrent keep-alive clients (threads, ``http.client``, token
   auth), each driving whole lifecycles on its own BJ01 vehicles with its own technician:
   reception (opened with its data and checked in: one request, as the reception screen
   saves it) → the estimate's 3 labour and 5 part lines (one request; parts reserved in
   stock) → estimated → terms → customer signature → dispatch of the 3 jobs (one
   request) → clock on/off each job → self-check → QC → ready → delivery: 16 requests. Prints
   lifecycles/s and p50/p95/max per request, overall and per step, and the CPU time per
   lifecycle of the gunicorn workers, the PostgreSQL server and the clients (``/proc``).
3. **Floor**: the same rows written by a plain SQL script (DB-API, no Django): the same
   number of clients, one transaction per request of the API, each step's inserts and
   updates (order, lines, reservations and stock, numbering, events, audit rows, odometer
   reading, clock entries, checks, outbox message, follow-up) and nothing else. Prints
   lifecycles/s.
4. The ratio floor ÷ API (target: under 4) and the API p95 (target: under 100 ms).

``--think S``: each client pauses after every answer for a random time of S seconds on
average (exponential; the same pauses in every run), as a person at a screen does: 10
clients with ``--think 1`` send about 10 requests per second. It shows the p95 at such a
load; the floor and the ratio are then not run (they are for clients that never pause).

``bench/ro_stack.py`` sends the same 16 requests to a view that writes only the floor's rows,
through the same server and middleware: what the HTTP stack itself costs.

Writes ``var/bench/ro-lifecycle-<db>.json``. ``--check`` exits 1 when a target is missed.
PostgreSQL runs with the benchmark options of ``bench/crm_generate.py`` (fsync and
synchronous commit off, for both the API and the floor).
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import random
import sys
import threading
import time
import uuid
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import api_baseline  # noqa: E402
from crm_generate import BENCH_DIR, PG_DIR, SQLITE_PATH, machine, pg_start, pg_stop  # noqa: E402

ROOT = BENCH.parent
PYTHON = sys.executable
DEALER = "BJ01"
TARGET_RATIO = 4.0
TARGET_P95_MS = 100.0
PARTS = 5
LABOUR = 3


def percentile(values, p):
    return api_baseline.percentile(sorted(values), p)


# ---------------------------------------------------------------- preparation (Django)


def _django(url):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.config.settings")
    import django

    django.setup()


def prepare(history: int, clients: int) -> dict:
    """Migrate, add the catalogue, bench parts and technicians, and the history."""
    from django.core.management import call_command
    from django.db import connection, transaction

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    from aftersales.catalogue.models import VehicleModel
    from aftersales.org.models import Dealer, RoleAssignment, User
    from aftersales.parts.models import Fitment, Part
    from aftersales.parts.testing import make_part, make_warehouse, stock_up
    from aftersales.workorders.demo_catalogue import load_workorders_catalogue_demo
    from aftersales.workorders.models import LabourOperation, RepairOrder

    load_workorders_catalogue_demo()
    dealer = Dealer.objects.get(code=DEALER)
    with transaction.atomic():
        if not Part.objects.filter(number__startswith="BENCH-RO-").exists():
            warehouse = make_warehouse(dealer=dealer, code="BENCH", name="基准仓")
            models = list(VehicleModel.objects.all())
            for n in range(PARTS):
                part = make_part(number=f"BENCH-RO-{n}", name=f"基准配件{n}", list_price="88.00")
                Fitment.objects.bulk_create([Fitment(part=part, vehicle_model=m) for m in models])
                stock_up(warehouse=warehouse, part=part, quantity=1_000_000, unit_cost="50")
        for n in range(1, clients + 1):
            user, created = User.objects.get_or_create(
                username=f"bench-tech-{n:02d}", defaults={"dealer": dealer}
            )
            if created:
                user.set_password("demo-2026")
                user.save()
                RoleAssignment.objects.create(user=user, role="technician", dealer=dealer)
    have = RepairOrder.objects.count()
    if have < history:
        _history(history - have)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    operations = list(
        LabourOperation.objects.filter(category__in=["chassis", "electrical", "engine"])
        .order_by("code")
        .values_list("id", flat=True)[:LABOUR]
    )
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "orders": RepairOrder.objects.count(),
        "operations": operations,
    }


def _history(missing: int) -> None:
    """Closed historic orders from the CRM's service visits (one each, repeated with a
    new number until ``missing`` are written), two lines each, set-based."""
    from django.db import connection, transaction

    from aftersales.org.models import User
    from aftersales.workorders.models import LabourOperation

    advisor = User.objects.get(username="bj01-sa").pk
    operation = LabourOperation.objects.order_by("code").first().pk
    pg = connection.vendor == "postgresql"
    stamp = "(v.visited_on + time '09:00')" if pg else "(v.visited_on || ' 09:00:00')"
    later = "(v.visited_on + time '17:00')" if pg else "(v.visited_on || ' 17:00:00')"
    started = time.perf_counter()
    round_ = 0
    while missing > 0:
        round_ += 1
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO workorders_repairorder (dealer_id, number, status, kind, "
                "vehicle_id, customer_id, contact_name, contact_mobile, service_advisor_id, "
                "odometer_km, odometer_suspect, odometer_reason, fuel_level, concern, "
                "diagnosis, valuables, covers_installed, walkaround, walkaround_note, "
                "warranty_status, warranty_reason, payment_method, old_parts, free_wash, "
                "estimate_total, signature_kind, signature, signed_by_name, signed_at, "
                "rework_count, delivery_checks, cancel_reason, checked_in_at, approved_at, "
                "started_at, work_done_at, qc_passed_at, ready_at, delivered_at, closed_at, "
                "version, created_at, updated_at) "
                f"SELECT v.dealer_id, 'H{round_}-' || v.id, 'closed', v.kind, v.vehicle_id, "
                f"v.customer_id, '', '', %s, v.odometer_km, false, '', '50', '定期保养', "
                f"'', '', true, '[]', '', 'out', '', 'wechat', 'take_home', true, v.amount, "
                f"'paper', '', '', {stamp}, 0, '{{}}', '', {stamp}, {stamp}, {stamp}, "
                f"{later}, {later}, {later}, {later}, {later}, 1, {stamp}, {later} "
                "FROM crm_servicevisit v ORDER BY v.id LIMIT %s",
                [advisor, missing],
            )
            written = cursor.rowcount
            for position, (kind, description, amount) in enumerate(
                (("labour", "更换机油机滤", "96.00"), ("fee", "环保处理费", "20.00")), 1
            ):
                cursor.execute(
                    "INSERT INTO workorders_repairorderline (repair_order_id, kind, position, "
                    "operation_id, description, quantity, standard_hours, unit_price, amount, "
                    "pay_type, warranty_status, warranty_reason, fitment_warning, additional, "
                    "approval, approval_channel, approved_by_name, job_status, actual_hours, "
                    "issued_qty, returned_qty, created_at) "
                    "SELECT id, %s, %s, %s, %s, 1, 0.8, %s, %s, 'customer', '', '', '', false, "
                    "'approved', 'signature', '', %s, 0.9, 0, 0, created_at "
                    "FROM workorders_repairorder WHERE number LIKE %s",
                    [
                        kind,
                        position,
                        operation if kind == "labour" else None,
                        description,
                        amount,
                        amount,
                        "done" if kind == "labour" else "",
                        f"H{round_}-%",
                    ],
                )
        missing -= written
        print(
            f"  history: +{written:,} orders (round {round_}), "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
        if written == 0:
            raise SystemExit("no CRM service visits to build history from")


def lifecycle_plan(vehicles_needed: int) -> dict:
    """Ids the clients need: vehicles of BJ01 without an open order, users, operations,
    parts, a bay."""
    from aftersales.crm.models import DealerVehicle
    from aftersales.org.models import Dealer, User
    from aftersales.parts.models import Part
    from aftersales.workorders.choices import ROStatus
    from aftersales.workorders.models import RepairOrder, WorkshopBay

    dealer = Dealer.objects.get(code=DEALER)
    busy = RepairOrder.objects.filter(dealer=dealer).exclude(
        status__in=[ROStatus.CLOSED, ROStatus.CANCELLED, ROStatus.DELIVERED]
    )
    vehicles = list(
        DealerVehicle.objects.filter(dealer=dealer, vehicle__owner__isnull=False)
        .exclude(vehicle_id__in=busy.values("vehicle_id"))
        .order_by("-vehicle_id")
        .values_list("vehicle_id", flat=True)[:vehicles_needed]
    )
    if len(vehicles) < vehicles_needed:
        raise SystemExit(f"only {len(vehicles)} free BJ01 vehicles; need {vehicles_needed}")
    return {
        "dealer": dealer.pk,
        "vehicles": vehicles,
        "parts": list(
            Part.objects.filter(number__startswith="BENCH-RO-")
            .order_by("number")
            .values_list("id", flat=True)
        ),
        "bay": WorkshopBay.objects.filter(dealer=dealer, active=True).order_by("code")[0].pk,
        "users": dict(
            User.objects.filter(username__in=["bj01-sa", "bj01-foreman", "bj01-qc"]).values_list(
                "username", "id"
            )
        ),
        "technicians": dict(
            User.objects.filter(username__startswith="bench-tech-").values_list("username", "id")
        ),
    }


# ---------------------------------------------------------------- the lifecycle


def _checks(order_items: dict) -> dict:
    return dict.fromkeys(order_items, True)


def run_lifecycle(call, plan, vehicle: int, technician: str, operations: list[int]):
    """One whole visit through the API, as a front-end saves it: each screen's save is one
    request. ``call(step, user, method, path, body)`` returns the decoded answer (and
    raises on an unexpected status)."""
    from aftersales.workorders.delivery import DELIVERY_LABELS
    from aftersales.workorders.quality import QC_ITEMS, SELF_CHECK_ITEMS

    sa, foreman, qc = "bj01-sa", "bj01-foreman", "bj01-qc"
    order = call("reception", sa, "POST", "/api/workorders/reception/", {
        "vehicle": vehicle, "concern": "刹车时有异响，方向盘抖动", "contact_name": "车主",
        "odometer_km": 900_000, "fuel_level": "50", "covers_installed": True,
        "valuables": "行车记录仪",
        "walkaround": [{"x": 20, "y": 30, "kind": "scratch", "note": "左前门划痕"}],
        "check_in": True,
    })  # fmt: skip
    pk = order["id"]
    if order["status"] != "checked_in":
        raise RuntimeError(f"order {pk} not checked in: {order['status']}")
    lines = [{"kind": "labour", "operation": op, "pay_type": "customer"} for op in operations]
    lines += [
        {"kind": "part", "part": part, "quantity": "1", "pay_type": "customer"}
        for part in plan["parts"]
    ]
    estimate = call("estimate", sa, "POST", f"/api/workorders/estimate/{pk}/lines/", {
        "version": order["version"], "lines": lines,
    })  # fmt: skip
    labour = [line["id"] for line in estimate["lines"] if line["kind"] == "labour"]
    estimated = call("estimated", sa, "POST", f"/api/workorders/repair-orders/{pk}/transition/", {
        "version": estimate["version"], "to": "estimated",
    })  # fmt: skip
    terms = call("terms", sa, "POST", f"/api/workorders/estimate/{pk}/terms/", {
        "version": estimated["version"], "payment_method": "wechat", "old_parts": "take_home",
        "free_wash": "true",
    })  # fmt: skip
    signed = call("sign", sa, "POST", f"/api/workorders/estimate/{pk}/sign/", {
        "version": terms["version"], "kind": "paper", "signed_by_name": "车主",
    })  # fmt: skip
    tech_id = plan["technicians"][technician]
    call("dispatch", foreman, "POST", f"/api/workorders/workshop/{pk}/dispatch/", {
        "version": signed["version"],
        "jobs": [{"line": line, "technicians": [tech_id], "bay": plan["bay"]} for line in labour],
    })  # fmt: skip
    for line in labour:
        call("clock on", technician, "POST", f"/api/workorders/jobs/{line}/clock-on/", {})
        clock = call("clock off", technician, "POST", f"/api/workorders/jobs/{line}/clock-off/", {
            "reason": "finished",
        })  # fmt: skip
    state = call("self-check", technician, "POST", f"/api/workorders/quality/{pk}/self-check/", {
        "version": clock["repair_order_version"], "items": _checks(SELF_CHECK_ITEMS),
    })  # fmt: skip
    state = call("QC", qc, "POST", f"/api/workorders/quality/{pk}/qc/", {
        "version": state["version"], "items": _checks(QC_ITEMS), "passed": True,
    })  # fmt: skip
    state = call("ready", sa, "POST", f"/api/workorders/quality/{pk}/ready/", {
        "version": state["version"],
    })  # fmt: skip
    state = call("deliver", sa, "POST", f"/api/workorders/quality/{pk}/deliver/", {
        "version": state["version"], "checks": dict.fromkeys(DELIVERY_LABELS, True),
    })  # fmt: skip
    if state["status"] != "delivered":
        raise RuntimeError(f"order {pk} ended {state['status']}")
    return pk


def count_queries(plan, operations) -> dict:
    """One lifecycle in-process; SQL statements per step (the sum over its requests and
    the largest single request)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from aftersales.org.models import User

    clients = {}
    steps: dict[str, list[int]] = {}

    def call(step, username, method, path, body):
        client = clients.get(username)
        if client is None:
            client = clients[username] = Client(HTTP_HOST="127.0.0.1")
            client.force_login(User.objects.get(username=username))
        with CaptureQueriesContext(connection) as queries:
            response = getattr(client, method.lower())(
                path, data=json.dumps(body), content_type="application/json"
            )
        if response.status_code >= 300:
            raise RuntimeError(f"{step}: HTTP {response.status_code} {response.content[:300]!r}")
        steps.setdefault(step, []).append(len(queries))
        return response.json()

    technician = sorted(plan["technicians"])[0]
    run_lifecycle(call, plan, plan["vehicles"].pop(), technician, operations)
    return {step: {"requests": len(v), "max": max(v), "total": sum(v)} for step, v in steps.items()}


# ---------------------------------------------------------------- the API under load


def api_load(
    env,
    plan,
    operations,
    clients: int,
    lifecycles: int,
    workers: int,
    think: float = 0.0,
    lifecycle=run_lifecycle,
) -> dict:
    """``clients`` threads drive ``lifecycles`` visits through gunicorn, each visit by
    ``lifecycle(call, plan, vehicle, technician, operations)``."""
    workdir = BENCH_DIR / "ro-var"
    workdir.mkdir(exist_ok=True)
    api_baseline.GUNICORN_WORKERS, api_baseline.GUNICORN_THREADS = workers, 1
    server = api_baseline.Server(env, workdir)
    try:
        usernames = ["bj01-sa", "bj01-foreman", "bj01-qc", *sorted(plan["technicians"])]
        tokens = {u: api_baseline.obtain_token(server.port, u) for u in usernames}
        samples: list[tuple[str, float]] = []
        errors: list[str] = []
        lock = threading.Lock()
        vehicles = list(plan["vehicles"])
        todo = iter(range(lifecycles))

        def client_loop(technician):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            mine = []
            pauses = random.Random(technician)  # the same pauses in every run

            def call(step, username, method, path, body):
                payload = json.dumps(body)
                headers = {
                    "Authorization": f"Token {tokens[username]}",
                    "Content-Type": "application/json",
                    "Idempotency-Key": uuid.uuid4().hex,
                }
                t0 = time.perf_counter()
                conn.request(method, path, body=payload, headers=headers)
                response = conn.getresponse()
                data = response.read()
                mine.append((step, (time.perf_counter() - t0) * 1000))
                if response.status >= 300:
                    raise RuntimeError(f"{step}: HTTP {response.status} {data[:300]!r}")
                if think:  # the user reads the answer and fills in the next screen
                    time.sleep(pauses.expovariate(1 / think))
                return json.loads(data)

            while True:
                with lock:
                    n = next(todo, None)
                    vehicle = vehicles.pop() if n is not None else None
                if n is None:
                    break
                try:
                    lifecycle(call, plan, vehicle, technician, operations)
                except Exception as error:  # noqa: BLE001 - counted and shown
                    with lock:
                        errors.append(str(error)[:300])
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            conn.close()
            with lock:
                samples.extend(mine)

        threads = [
            threading.Thread(target=client_loop, args=(tech,))
            for tech in sorted(plan["technicians"])[:clients]
        ]
        db_pid = None  # SQLite works inside the gunicorn workers
        if env["DATABASE_URL"].startswith("postgres"):
            db_pid = api_baseline.find_postmaster(urlsplit(env["DATABASE_URL"]).port)
        cpu0 = (
            api_baseline.tree_cpu_seconds(server.process.pid),
            api_baseline.tree_cpu_seconds(db_pid) if db_pid else 0.0,
            time.process_time(),
        )
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        cpu = (
            api_baseline.tree_cpu_seconds(server.process.pid) - cpu0[0],
            (api_baseline.tree_cpu_seconds(db_pid) - cpu0[1]) if db_pid else None,
            time.process_time() - cpu0[2],
        )
    finally:
        server.stop()
    done = lifecycles - len(errors)
    by_step: dict[str, list[float]] = {}
    for step, ms in samples:
        by_step.setdefault(step, []).append(ms)
    every = [ms for _, ms in samples]
    return {
        "lifecycles": done,
        "errors": len(errors),
        "first_errors": errors[:3],
        "seconds": round(elapsed, 1),
        "lifecycles_per_s": round(done / elapsed, 2),
        "requests": len(every),
        "requests_per_s": round(len(every) / elapsed, 1),
        "think_s": think,
        # CPU per lifecycle of the gunicorn workers, the PostgreSQL server and the clients
        "cpu_ms_per_lifecycle": {
            name: round(seconds * 1000 / max(done, 1), 1)
            for name, seconds in zip(("gunicorn", "postgresql", "clients"), cpu, strict=True)
            if seconds is not None
        },
        "p50_ms": round(percentile(every, 50), 1),
        "p95_ms": round(percentile(every, 95), 1),
        "max_ms": round(max(every), 1),
        "steps": {
            step: {
                "n": len(v),
                "p50_ms": round(percentile(v, 50), 1),
                "p95_ms": round(percentile(v, 95), 1),
            }
            for step, v in by_step.items()
        },
    }


# ---------------------------------------------------------------- the plain-SQL floor


class Floor:
    """The lifecycle's writes in plain SQL, one transaction per step, per client."""

    def __init__(self, url, ids, conn=None):
        """``conn``: an open connection to write through instead of one of its own (any
        object whose ``execute(sql, params)`` returns a cursor; ``%s`` placeholders kept)."""
        self.pg = url.startswith("postgres")
        self.ids = ids
        self.qmark = conn is None and not self.pg  # sqlite3's own placeholders
        if conn is not None:
            self.conn = conn
        elif self.pg:
            import psycopg

            self.conn = psycopg.connect(url.replace("postgres://", "postgresql://", 1))
        else:
            import sqlite3

            self.conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            self.conn.execute("PRAGMA busy_timeout = 30000")
            self.conn.execute("PRAGMA journal_mode = WAL")

    def sql(self, text):
        if self.pg:
            return text
        text = text.replace("::jsonb", "")
        return text.replace("%s", "?") if self.qmark else text

    def one(self, text, params):
        cur = self.conn.execute(self.sql(text), params)
        row = cur.fetchone()
        return row[0] if row else None

    def run(self, text, params):
        self.conn.execute(self.sql(text), params)

    def step(self, work):
        if self.pg:
            with self.conn.transaction():
                work()
        else:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                work()
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def now(self):
        return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")

    def event(self, ro, actor, kind, old="", new="", message=""):
        self.run(
            "INSERT INTO workorders_repairorderevent (repair_order_id, at, actor_id, actor_name,"
            " kind, from_status, to_status, message, data) VALUES (%s, %s, %s, '', %s, %s, %s,"
            " %s, %s::jsonb)",
            [ro, self.now(), actor, kind, old, new, message, "{}"],
        )

    def audit(self, ro, actor, changes):
        self.run(
            "INSERT INTO core_auditlog (at, actor_id, actor_name, channel, action, "
            "content_type_id, object_id, object_repr, changes, dealer_id) VALUES "
            "(%s, %s, '', 'api', 'update', %s, %s, 'RO', %s::jsonb, %s)",
            [self.now(), actor, self.ids["ct"], str(ro), json.dumps(changes), self.ids["dealer"]],
        )

    def status(self, ro, actor, old, new, stamp=None):
        extra = f", {stamp} = %s" if stamp else ""
        params = [new, self.now()] + ([self.now()] if stamp else []) + [ro]
        self.run(
            "UPDATE workorders_repairorder SET status = %s, version = version + 1, "
            f"updated_at = %s{extra} WHERE id = %s",
            params,
        )
        self.event(ro, actor, "status", old, new)
        self.audit(ro, actor, {"status": [old, new]})

    def lifecycle(self, vehicle, customer, technician):
        """One whole visit: each of the API's requests as a transaction of its own."""
        state = {}
        for step, index in STEPS:
            self.step(partial(self.do, step, index, state, vehicle, customer, technician))

    def do(self, step, index, state, vehicle, customer, technician):
        """The writes of one request of the lifecycle (``STEPS``), in the caller's
        transaction; ``state`` carries the order's ids from step to step."""
        ids, now = self.ids, self.now
        sa, foreman, qc = ids["sa"], ids["foreman"], ids["qc"]

        def open_():
            seq = self.one(
                "UPDATE core_numbersequence SET last_value = last_value + 1 WHERE dealer_id = %s"
                " AND doc_type = 'RO' AND year = 2026 RETURNING last_value",
                [ids["dealer"]],
            )
            state["ro"] = self.one(
                "INSERT INTO workorders_repairorder (dealer_id, number, status, kind, vehicle_id,"
                " customer_id, contact_name, contact_mobile, service_advisor_id, warehouse_id,"
                " odometer_suspect, odometer_reason, fuel_level, concern, diagnosis, valuables,"
                " covers_installed, walkaround, walkaround_note, warranty_status,"
                " warranty_reason, payment_method, old_parts, free_wash, estimate_total,"
                " signature_kind, signature, signed_by_name, rework_count, delivery_checks,"
                " cancel_reason, version, created_at, updated_at) VALUES (%s, %s, 'draft',"
                " 'repair', %s, %s, '车主', '', %s, %s, false, '', '', %s, '', '', false,"
                " %s::jsonb, '', '', '', '', '', true, 0, '', '', '', 0, %s::jsonb, '', 1, %s,"
                " %s) RETURNING id",
                [ids["dealer"], f"F-{uuid.uuid4().hex[:12]}-{seq}", vehicle, customer, sa,
                 ids["warehouse"], "刹车时有异响", "[]", "{}", now(), now()],
            )  # fmt: skip
            self.event(state["ro"], sa, "status", "", "draft")
            self.run(
                "INSERT INTO core_auditlog (at, actor_id, actor_name, channel, action, "
                "content_type_id, object_id, object_repr, changes, dealer_id) VALUES "
                "(%s, %s, '', 'api', 'create', %s, %s, 'RO', %s::jsonb, %s)",
                [now(), sa, ids["ct"], str(state["ro"]), "{}", ids["dealer"]],
            )

        def reception():
            self.run(
                "UPDATE workorders_repairorder SET odometer_km = %s, fuel_level = '50', "
                "covers_installed = true, valuables = %s, walkaround = %s::jsonb, "
                "version = version + 1, updated_at = %s WHERE id = %s",
                [900_000, "行车记录仪", json.dumps([{"x": 20, "y": 30}]), now(), state["ro"]],
            )

        def check_in():
            self.run(
                "UPDATE workorders_repairorder SET warranty_status = 'out', warranty_reason = %s"
                " WHERE id = %s",
                ["超出整车质保", state["ro"]],
            )
            self.run(
                "INSERT INTO crm_odometerreading (vehicle_id, km, read_on, source, dealer_id, "
                "recorded_by_id, created_at) VALUES (%s, %s, %s, 'service', %s, %s, %s)",
                [vehicle, 900_000, now()[:10], ids["dealer"], sa, now()],
            )
            self.run(
                "UPDATE crm_vehicle SET odometer_km = %s, odometer_on = %s WHERE id = %s",
                [900_000, now()[:10], vehicle],
            )
            self.status(state["ro"], sa, "draft", "checked_in", "checked_in_at")

        def labour_line(operation):
            def work():
                line = self.one(
                    "INSERT INTO workorders_repairorderline (repair_order_id, kind, position, "
                    "operation_id, description, quantity, standard_hours, unit_price, amount, "
                    "pay_type, warranty_status, warranty_reason, fitment_warning, additional, "
                    "approval, approval_channel, approved_by_name, job_status, actual_hours, "
                    "issued_qty, returned_qty, created_by_id, created_at) VALUES (%s, 'labour',"
                    " 1, %s, '工时', 1.2, 1.2, 120, 144, 'customer', 'out', '', '', false, "
                    "'proposed', '', '', 'pending', 0, 0, 0, %s, %s) RETURNING id",
                    [state["ro"], operation, sa, now()],
                )
                state.setdefault("labour", []).append(line)
                self.run(
                    "UPDATE workorders_repairorder SET estimate_total = estimate_total + 144, "
                    "version = version + 1, updated_at = %s WHERE id = %s",
                    [now(), state["ro"]],
                )
                self.event(state["ro"], sa, "line", message="工时")

            return work

        def part_line(n):
            def work():
                item = ids["items"][n]
                line = self.one(
                    "INSERT INTO workorders_repairorderline (repair_order_id, kind, position, "
                    "part_id, description, quantity, standard_hours, unit_price, amount, "
                    "pay_type, warranty_status, warranty_reason, fitment_warning, additional, "
                    "approval, approval_channel, approved_by_name, job_status, actual_hours, "
                    "issued_qty, returned_qty, created_by_id, created_at) VALUES (%s, 'part', "
                    "2, %s, '配件', 1, 0, 88, 88, 'customer', 'out', '', '', false, 'proposed',"
                    " '', '', '', 0, 0, 0, %s, %s) RETURNING id",
                    [state["ro"], ids["parts"][n], sa, now()],
                )
                self.run(
                    "UPDATE parts_stockitem SET reserved = reserved + 1 WHERE id = %s "
                    "AND on_hand - reserved >= 1",
                    [item],
                )
                key = f"ro-line:{line}"
                reservation = self.one(
                    "INSERT INTO parts_reservation (dealer_id, item_id, quantity, issued, status,"
                    " doc_type, doc_id, doc_number, key, created_by_id, created_at) VALUES "
                    "(%s, %s, 1, 0, 'active', 'repair_order', %s, 'RO', %s, %s, %s) "
                    "RETURNING id",
                    [ids["dealer"], item, state["ro"], key, sa, now()],
                )
                self.run(
                    "INSERT INTO parts_partdemand (dealer_id, item_id, key, quantity, available,"
                    " served, at) VALUES (%s, %s, %s, 1, 1000, true, %s)",
                    [ids["dealer"], item, key, now()],
                )
                self.run(
                    "UPDATE workorders_repairorderline SET reservation_id = %s WHERE id = %s",
                    [reservation, line],
                )
                self.run(
                    "UPDATE workorders_repairorder SET estimate_total = estimate_total + 88, "
                    "version = version + 1, updated_at = %s WHERE id = %s",
                    [now(), state["ro"]],
                )
                self.event(state["ro"], sa, "line", message="配件")

            return work

        def terms():
            self.run(
                "UPDATE workorders_repairorder SET payment_method = 'wechat', old_parts = "
                "'take_home', free_wash = true, promised_at = %s, version = version + 1, "
                "updated_at = %s WHERE id = %s",
                [now(), now(), state["ro"]],
            )
            self.event(state["ro"], sa, "line", message="条款")

        def sign():
            self.run(
                "UPDATE workorders_repairorderline SET approval = 'approved', approval_channel ="
                " 'signature', approved_by_name = '车主', decided_at = %s WHERE "
                "repair_order_id = %s",
                [now(), state["ro"]],
            )
            self.run(
                "UPDATE workorders_repairorder SET signature_kind = 'paper', signed_by_name = "
                "'车主', signed_at = %s WHERE id = %s",
                [now(), state["ro"]],
            )
            self.status(state["ro"], sa, "estimated", "approved", "approved_at")

        def assign(line):
            def work():
                self.run(
                    "INSERT INTO workorders_jobassignment (line_id, technician_id, "
                    "assigned_by_id, assigned_at) VALUES (%s, %s, %s, %s)",
                    [line, technician, foreman, now()],
                )
                self.run(
                    "UPDATE workorders_repairorderline SET job_status = 'assigned', bay_id = %s"
                    " WHERE id = %s",
                    [ids["bay"], line],
                )
                self.run(
                    "UPDATE workorders_repairorder SET version = version + 1 WHERE id = %s",
                    [state["ro"]],
                )
                self.event(state["ro"], foreman, "dispatch")

            return work

        def clock_on(line, first):
            def work():
                state["clock"] = self.one(
                    "INSERT INTO workorders_clockentry (dealer_id, repair_order_id, line_id, "
                    "technician_id, started_at, reason) VALUES (%s, %s, %s, %s, %s, '') "
                    "RETURNING id",
                    [ids["dealer"], state["ro"], line, technician, now()],
                )
                self.run(
                    "UPDATE workorders_repairorderline SET job_status = 'running' WHERE id = %s",
                    [line],
                )
                if first:
                    self.status(state["ro"], technician, "approved", "in_progress", "started_at")
                self.event(state["ro"], technician, "clock")

            return work

        def clock_off(line):
            def work():
                self.run(
                    "UPDATE workorders_clockentry SET ended_at = %s, reason = 'finished' "
                    "WHERE id = %s",
                    [now(), state["clock"]],
                )
                self.run(
                    "UPDATE workorders_repairorderline SET job_status = 'done', actual_hours = "
                    "actual_hours + 0.01 WHERE id = %s",
                    [line],
                )
                self.event(state["ro"], technician, "clock")

            return work

        def check(kind, actor, old, new, stamp):
            def work():
                self.run(
                    "INSERT INTO workorders_qualitycheck (repair_order_id, kind, passed, items,"
                    " remarks, checked_by_id, checked_at, round) VALUES (%s, %s, true, "
                    "%s::jsonb, '', %s, %s, 0)",
                    [state["ro"], kind, json.dumps({"a": True, "b": True}), actor, now()],
                )
                if kind == "delivery":
                    self.run(
                        "UPDATE workorders_repairorder SET delivery_checks = %s::jsonb WHERE "
                        "id = %s",
                        [json.dumps({"work_explained": True}), state["ro"]],
                    )
                self.status(state["ro"], actor, old, new, stamp)
                if kind == "delivery":
                    self.run(
                        "INSERT INTO workorders_followup (repair_order_id, dealer_id, status, "
                        "opens_at, due_at, attempts, scores, remarks, version) VALUES "
                        "(%s, %s, 'open', %s, %s, 0, %s::jsonb, '', 1)",
                        [state["ro"], ids["dealer"], now(), now(), "{}"],
                    )

            return work

        def ready():
            self.status(state["ro"], sa, "qc_passed", "ready", "ready_at")
            self.run(
                "INSERT INTO core_outboxmessage (channel, recipient, subject, body, payload, "
                "dedup_key, dealer_id, status, attempts, next_attempt_at, last_error, "
                "created_at) VALUES ('sms', '13800000000', '', %s, %s::jsonb, %s, %s, "
                "'pending', 0, %s, '', %s)",
                ["您的爱车已完工", "{}", f"ready:{state['ro']}", ids["dealer"], now(), now()],
            )

        def reception_step():
            open_()
            reception()
            check_in()

        def estimate_step():
            for operation in ids["operations"]:
                labour_line(operation)()
            for n in range(PARTS):
                part_line(n)()

        def estimated_step():
            self.status(state["ro"], sa, "checked_in", "estimated")

        def dispatch_step():
            for line in state["labour"]:
                assign(line)()

        works = {
            "reception": reception_step,
            "estimate": estimate_step,
            "estimated": estimated_step,
            "terms": terms,
            "sign": sign,
            "dispatch": dispatch_step,
            "clock on": lambda: clock_on(state["labour"][index], index == 0)(),
            "clock off": lambda: clock_off(state["labour"][index])(),
            "self-check": check("self", technician, "in_progress", "self_checked", "work_done_at"),
            "QC": check("qc", qc, "self_checked", "qc_passed", "qc_passed_at"),
            "ready": ready,
            "deliver": check("delivery", sa, "ready", "delivered", "delivered_at"),
        }
        works[step]()


# The lifecycle's requests in order (step, labour line): run_lifecycle's 16 requests.
STEPS = [
    ("reception", 0), ("estimate", 0), ("estimated", 0), ("terms", 0), ("sign", 0),
    ("dispatch", 0),
    *((step, line) for line in range(LABOUR) for step in ("clock on", "clock off")),
    ("self-check", 0), ("QC", 0), ("ready", 0), ("deliver", 0),
]  # fmt: skip


def floor_ids(plan, operations) -> dict:
    from django.contrib.contenttypes.models import ContentType

    from aftersales.crm.models import Vehicle
    from aftersales.parts.models import StockItem
    from aftersales.workorders.models import RepairOrder

    items = dict(StockItem.objects.filter(part_id__in=plan["parts"]).values_list("part_id", "id"))
    return {
        "dealer": plan["dealer"],
        "ct": ContentType.objects.get_for_model(RepairOrder).pk,
        "sa": plan["users"]["bj01-sa"],
        "foreman": plan["users"]["bj01-foreman"],
        "qc": plan["users"]["bj01-qc"],
        "bay": plan["bay"],
        "parts": plan["parts"],
        "items": [items[p] for p in plan["parts"]],
        "warehouse": StockItem.objects.get(pk=items[plan["parts"][0]]).warehouse_id,
        "operations": operations,
        "owners": dict(
            Vehicle.objects.filter(pk__in=plan["vehicles"]).values_list("id", "owner_id")
        ),
    }


def floor_load(url, ids, plan, clients: int, lifecycles: int) -> dict:
    vehicles = list(plan["vehicles"])
    technicians = sorted(plan["technicians"].values())
    todo = iter(range(lifecycles))
    lock = threading.Lock()
    errors = []

    def loop(technician):
        floor = Floor(url, ids)
        while True:
            with lock:
                n = next(todo, None)
                vehicle = vehicles.pop() if n is not None else None
            if n is None:
                break
            try:
                floor.lifecycle(vehicle, ids["owners"].get(vehicle), technician)
            except Exception as error:  # noqa: BLE001 - counted and shown
                with lock:
                    errors.append(str(error)[:300])
        floor.conn.close()

    threads = [threading.Thread(target=loop, args=(t,)) for t in technicians[:clients]]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    done = lifecycles - len(errors)
    return {
        "lifecycles": done,
        "errors": len(errors),
        "first_errors": errors[:3],
        "seconds": round(elapsed, 2),
        "lifecycles_per_s": round(done / elapsed, 2),
    }


def floor_cleanup(url):
    """The floor's rows are not real orders: remove them (and what hangs off them)."""
    floor = Floor(url, {})
    ids = "SELECT id FROM workorders_repairorder WHERE number LIKE 'F-%%'"
    lines = f"SELECT id FROM workorders_repairorderline WHERE repair_order_id IN ({ids})"

    def work():
        for table, column, subquery in (
            ("workorders_clockentry", "repair_order_id", ids),
            ("workorders_jobassignment", "line_id", lines),
            ("workorders_qualitycheck", "repair_order_id", ids),
            ("workorders_repairorderevent", "repair_order_id", ids),
            ("workorders_followup", "repair_order_id", ids),
            ("workorders_repairorderline", "repair_order_id", ids),
            ("workorders_repairorder", "id", ids),
        ):
            floor.run(f"DELETE FROM {table} WHERE {column} IN ({subquery})", [])

    floor.step(work)
    floor.conn.close()


# ---------------------------------------------------------------- main


def database_url(db) -> str:
    """The CRM bench data set's URL; PostgreSQL's server is started (``pg_stop`` ends it)."""
    if db == "sqlite":
        if not SQLITE_PATH.exists():
            raise SystemExit("no var/bench/crm.sqlite3: run bench/crm_generate.py first")
        return f"sqlite:///{SQLITE_PATH}"
    return pg_start(PG_DIR)


def server_env(url, **extra) -> dict:
    """The environment of the bench's gunicorn: production settings on ``url``, no broker."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"CELERY_BROKER_URL", "REDIS_URL", "AFTERSALES_TEST_DATABASE", "DEBUG"}
    }
    env.update(
        DATABASE_URL=url,
        AFTERSALES_MODE="demo",
        ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SETTINGS_MODULE="aftersales.config.settings",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def bench(db, args) -> dict:
    url = database_url(db)
    try:
        _django(url)
        print(f"[{db}] preparing (migrate, catalogue, parts, history)…", flush=True)
        prepared = prepare(args.history, args.clients)
        operations = prepared["operations"]
        plan = lifecycle_plan(2 * args.lifecycles + 2)
        print(f"  {prepared['orders']:,} repair orders present ({prepared['seconds']} s)")
        queries = count_queries(plan, operations)
        ids = floor_ids(plan, operations)
        from django.db import connections

        connections.close_all()
        env = server_env(url)
        print(f"[{db}] API: {args.lifecycles} lifecycles, {args.clients} clients…", flush=True)
        api = api_load(
            env, plan, operations, args.clients, args.lifecycles, args.workers, args.think
        )
        plan["vehicles"] = plan["vehicles"][: -args.lifecycles - 1] or plan["vehicles"]
        floor = None
        if not args.think:  # the floor and the ratio are for clients that never pause
            print(f"[{db}] floor: the same writes in plain SQL…", flush=True)
            floor = floor_load(url, ids, plan, args.clients, args.lifecycles)
            floor_cleanup(url)
        info = machine()  # asks the database its version: before it stops
    finally:
        if db == "postgresql":
            pg_stop(PG_DIR)
    ratio = (
        floor["lifecycles_per_s"] / api["lifecycles_per_s"]
        if floor and api["lifecycles_per_s"]
        else None
    )
    return {
        "db": db,
        "machine": info,
        "orders_present": prepared["orders"],
        "clients": args.clients,
        "workers": args.workers,
        "queries": queries,
        "api": api,
        "floor": floor,
        "ratio": round(ratio, 2) if ratio is not None else None,
        "ok": ratio is not None
        and ratio < TARGET_RATIO
        and api["p95_ms"] < TARGET_P95_MS
        and not api["errors"]
        and not floor["errors"],
    }


def report(result, info):
    api, floor = result["api"], result["floor"]
    print(f"\n== {result['db']}: {result['orders_present']:,} repair orders present")
    print(f"machine: {info['cpus']} vCPU {info['cpu']}, {info['ram_gb']} GB RAM")
    print("SQL statements per step (one lifecycle, in-process):")
    for step, q in result["queries"].items():
        print(f"  {step:<12} {q['requests']:>2} request(s), max {q['max']:>3} per request")
    total = sum(q["total"] for q in result["queries"].values())
    requests = sum(q["requests"] for q in result["queries"].values())
    print(f"  whole lifecycle: {total} statements in {requests} requests")
    pausing = f", {api['think_s']} s mean pause" if api["think_s"] else ""
    print(
        f"API ({result['clients']} clients{pausing}, gunicorn {result['workers']} workers): "
        f"{api['lifecycles']} lifecycles in {api['seconds']} s = {api['lifecycles_per_s']}/s "
        f"({api['requests_per_s']} requests/s); "
        f"per request p50 {api['p50_ms']} ms, p95 {api['p95_ms']} ms, max {api['max_ms']} ms; "
        f"errors {api['errors']} {api['first_errors']}"
    )
    for step, s in api["steps"].items():
        print(f"  {step:<12} n={s['n']:>5}  p50 {s['p50_ms']:>6} ms  p95 {s['p95_ms']:>6} ms")
    print(
        "  CPU per lifecycle: "
        + ", ".join(f"{name} {ms} ms" for name, ms in api["cpu_ms_per_lifecycle"].items())
    )
    if floor is None:
        print(
            f"API p95 {api['p95_ms']} ms at this load (target < {TARGET_P95_MS}); no floor and "
            "no ratio with pauses: run without --think for those"
        )
        return
    print(
        f"floor (plain SQL, {result['clients']} clients): {floor['lifecycles']} lifecycles in "
        f"{floor['seconds']} s = {floor['lifecycles_per_s']}/s; errors {floor['errors']} "
        f"{floor['first_errors']}"
    )
    print(
        f"ratio floor/API: {result['ratio']} (target < {TARGET_RATIO}); "
        f"API p95 {api['p95_ms']} ms (target < {TARGET_P95_MS}) → "
        f"{'OK' if result['ok'] else 'MISSED'}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--lifecycles", type=int, default=200)
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean pause (s, exponential) after each answer; 0: none (the ratio's load)",
    )
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    ok = True
    for db in dbs:
        if len(dbs) > 1:  # one Django set-up per process: each database in a child
            import subprocess

            child = [PYTHON, __file__, "--db", db, "--clients", str(args.clients),
                     "--lifecycles", str(args.lifecycles), "--history", str(args.history),
                     "--workers", str(args.workers), "--think", str(args.think),
                     *(["--check"] * args.check)]  # fmt: skip
            ok &= subprocess.run(child).returncode == 0
            continue
        result = bench(db, args)
        info = result["machine"]
        (BENCH_DIR / f"ro-lifecycle-{db}.json").write_text(json.dumps(result, indent=2))
        report(result, info)
        ok &= result["ok"]
    return 0 if (ok or not args.check) else 1


if __name__ == "__main__":
    sys.exit(main())
