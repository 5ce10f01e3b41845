"""Reminder statistics figures (issue 9 item 6): the statistics page for the nation over
12 months (target: under 1 s) with a year of a national network's reminders.

    .venv/bin/python bench/reminders_stats.py [--db sqlite|postgresql|both] [--runs 30]
        [--share 27] [--fresh] [--regenerate]

Data: the CRM benchmark's 1,000,000 vehicles (``bench/crm_generate.py``: 60 dealers in
three regions, the demo logins). SQLite: ``var/bench/crm.sqlite3`` is copied once to
``var/bench/reminders-stats.sqlite3`` (``--fresh`` copies again), so no other benchmark's
file changes. PostgreSQL: a server of its own in ``var/bench/reminders-stats-pg/``, loaded
once with ``crm_generate``'s generator (``--fresh`` builds it again). Then, set-based
(``INSERT … SELECT`` over the vehicles, each month ``--share`` % of them, ~270,000 a
month as the monthly run writes):

* reminders of the 12 months up to the current one, of every kind (first service and
  warranty once per vehicle), 40 % of owners registered; the DCRC outcomes of past months
  mostly recorded (8 % still open), of the current month about half; returns for 30 % of
  past months' reminders (70 % of the booked ones) whose window has started — pointing at
  one bench repair order per dealer (the figures only count that one is recorded);
* the registered owners' WeChat messages (88 % sent, 7 % failed, 5 % skipped) and an SMS
  for one in five of them.

Measured:

1. **Refresh** — ``reports.statistics_refresh_all`` (every month: the nightly job) and
   ``reports.statistics_refresh`` (the recent months: the job every few minutes).
2. **Page** — ``--runs`` times each, p50 / p95 / max: the statistics page (``GET
   /reminders/statistics/``, the whole response: figures, tables, charts' data) as the OEM
   (the nation), a region manager and a DCRC manager; ``reports.figures`` alone for the
   nation; the first page of the nation's "not reminded" list and of one dealer's "not
   returned" list.

Figures go to ``var/bench/reminders-stats-<db>.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from crm_generate import BENCH_DIR, machine, pg_start, pg_stop, setup_django  # noqa: E402
from crm_generate import SQLITE_PATH as CRM_SQLITE  # noqa: E402

SQLITE_PATH = BENCH_DIR / "reminders-stats.sqlite3"
PG_ROOT = BENCH_DIR / "reminders-stats-pg"
MONTHS = 12
TARGET_S = 1.0


# ---------------------------------------------------------------- data


def _pg_generate():
    """The CRM data set (1,000,000 vehicles) on this benchmark's own server."""
    import crm_generate

    args = argparse.Namespace(
        db="postgresql",
        database_url="",
        vehicles=1_000_000,
        customers=800_000,
        dealers=60,
        id_share=0.3,
        seed=2026,
        workers=os.cpu_count() or 1,
    )
    args.url = pg_start(PG_ROOT, fresh=True)
    setup_django(args.url)
    _blank_text_defaults()
    print("generating the CRM data set (1,000,000 vehicles) …", flush=True)
    crm_generate.generate(args)
    return args.url


def _blank_text_defaults():
    """Text columns added to customers and vehicles since the CRM generator was written
    (blank, no default: e.g. ``Customer.wechat_openid``) get the empty string the model
    would save, so the generator fills them instead of stopping (this process only)."""
    from django.db import models

    from aftersales.crm.models import Customer, Vehicle

    for model in (Customer, Vehicle):
        for field in model._meta.concrete_fields:
            text = isinstance(field, models.CharField | models.TextField)
            if text and field.blank and not field.null and not field.has_default():
                field.default = ""


def _bench_orders() -> dict[int, int]:
    """One repair order per dealer, the returns of the bench point at (the figures only
    count that a returning order is recorded)."""
    from aftersales.crm.models import Vehicle
    from aftersales.org.models import Dealer
    from aftersales.workorders.models import RepairOrder
    from aftersales.workorders.testing import make_repair_order

    orders = {}
    for dealer in Dealer.objects.order_by("id"):
        existing = RepairOrder.objects.filter(dealer=dealer, number__startswith="RO-T").first()
        if existing is None:
            vehicle = Vehicle.objects.filter(selling_dealer=dealer).order_by("id").first()
            if vehicle is None:
                continue
            existing = make_repair_order(dealer=dealer, vehicle=vehicle, lines=False)
        orders[dealer.pk] = existing.pk
    return orders


def generate(share: int) -> dict:
    """The 12 months of reminders and their messages, set-based; seconds per step."""
    from django.db import connection, transaction
    from django.utils import timezone

    from aftersales.reminders.models import Reminder, ReminderMessage
    from aftersales.reminders.models_statistics import ReminderStatistic
    from aftersales.reminders.monthly import Sql
    from aftersales.reminders.schedule import add_months

    sql = Sql(connection.vendor)
    pg = connection.vendor == "postgresql"
    timings = {}
    started = time.perf_counter()
    ReminderStatistic.objects.all().delete()
    ReminderMessage.objects.all().delete()
    Reminder.objects.all().delete()
    orders = _bench_orders()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_order")
        cursor.execute("CREATE TABLE bench_order (dealer_id bigint PRIMARY KEY, order_id bigint)")
        cursor.executemany("INSERT INTO bench_order VALUES (%s, %s)", list(orders.items()))
    timings["clear + bench orders"] = time.perf_counter() - started
    today = timezone.localdate()
    this_month = today.replace(day=1)
    now = timezone.now()
    ts = sql.timestamp(now)
    true, false = ("TRUE", "FALSE") if pg else ("1", "0")
    phase = time.perf_counter()
    for k in range(MONTHS):
        month = add_months(this_month, k - (MONTHS - 1))
        current = k == MONTHS - 1
        m0 = sql.date(month)
        due = sql.add_days(m0, "v.id % 28")
        return_by = sql.add_days(due, "45")
        h = f"((v.id * 31 + {k * 17}) % 100)"  # the kind
        s = f"((v.id * 13 + {k * 7}) % 100)"  # the DCRC outcome
        # past months: 8 % open; the current month: 50 % open
        open_below = 50 if current else 8
        status = (
            f"CASE WHEN {s} < {open_below} THEN 'open' "
            f"WHEN {s} < {open_below + 40} THEN 'reminded' "
            f"WHEN {s} < {open_below + 52} THEN 'not_reached' "
            f"WHEN {s} < {open_below + 62} THEN 'declined' "
            f"WHEN {s} < {open_below + 82} THEN 'booked' ELSE 'wrong_number' END"
        )
        kind = (
            f"CASE WHEN v.id % {MONTHS} = {k} AND {h} < 3 THEN 'first_service' "
            f"WHEN v.id % {MONTHS} = {k} AND {h} < 10 THEN 'warranty' "
            f"WHEN {h} < 38 THEN 'maintenance' WHEN {h} < 75 THEN 'insurance' "
            f"WHEN {h} < 92 THEN 'inspection' WHEN {h} < 98 THEN 'birthday' "
            "ELSE 'maintenance' END"
        )
        booked = f"({s} >= {open_below + 62} AND {s} < {open_below + 82})"
        returned = (
            f"(NOT {'TRUE' if current else 'FALSE'} AND "
            f"((v.id * 19 + {k}) % 100) < CASE WHEN {booked} THEN 70 ELSE 30 END)"
        )
        statement = f"""
            INSERT INTO reminders_reminder (kind, month, due_date, trigger, due_km, on_site,
              vehicle_id, customer_id, dealer_id, registered, campaign_id, recall_id, status,
              status_at, attempts, assigned_to_id, note, last_call_at, next_call_at,
              booking_id, return_by, returned_order_id, returned_at, created_at, updated_at)
            SELECT {kind}, {m0}, {due}, 'time', NULL, {false}, v.id, v.owner_id,
              v.selling_dealer_id, ((v.id * 17 + {k}) % 100) < 40, NULL, NULL, {status},
              CASE WHEN {s} < {open_below} THEN NULL ELSE {ts} END,
              CASE WHEN {s} < {open_below} THEN 0 ELSE 1 END, NULL, '',
              CASE WHEN {s} < {open_below} THEN NULL ELSE {ts} END, NULL, NULL, {return_by},
              CASE WHEN {returned} THEN o.order_id END,
              CASE WHEN {returned} THEN {ts} END, {ts}, {ts}
            FROM crm_vehicle v JOIN bench_order o ON o.dealer_id = v.selling_dealer_id
            WHERE ((v.id * 7 + {k * 13}) % 100) < {share}
        """
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
        print(f"\r  reminders: month {k + 1}/{MONTHS}", end="", flush=True)
    print()
    timings["reminders (INSERT … SELECT)"] = time.perf_counter() - phase
    phase = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        status = (
            "CASE WHEN r.id % 100 < 88 THEN 'sent' WHEN r.id % 100 < 95 THEN 'failed' "
            "ELSE 'skipped' END"
        )
        statement = f"""
            INSERT INTO reminders_remindermessage (reminder_id, channel, status, skip_reason,
              provider_msgid, created_at, sent_at, error, outbox_id)
            SELECT r.id, 'wechat', {status},
              CASE WHEN r.id % 100 >= 95 THEN 'no_consent' ELSE '' END, '', {ts},
              CASE WHEN r.id % 100 < 88 THEN {ts} END, '', NULL
            FROM reminders_reminder r WHERE r.registered = {true}"""
        cursor.execute(statement)  # no parameters: "%" is SQL's modulo
        statement = f"""
            INSERT INTO reminders_remindermessage (reminder_id, channel, status, skip_reason,
              provider_msgid, created_at, sent_at, error, outbox_id)
            SELECT r.id, 'sms', 'sent', '', '', {ts}, {ts}, '', NULL
            FROM reminders_reminder r WHERE r.registered = {true} AND r.id % 5 = 0"""
        cursor.execute(statement)  # no parameters: "%" is SQL's modulo
    timings["messages (INSERT … SELECT)"] = time.perf_counter() - phase
    phase = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_order")
        cursor.execute("VACUUM ANALYZE reminders_reminder" if pg else "ANALYZE reminders_reminder")
        cursor.execute(
            "VACUUM ANALYZE reminders_remindermessage"
            if pg
            else "ANALYZE reminders_remindermessage"
        )
    timings["analyze"] = time.perf_counter() - phase
    return {k: round(v, 1) for k, v in timings.items()}


# ---------------------------------------------------------------- timing


def _percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
        "runs": len(ordered),
    }


def _time(fn, runs: int) -> dict:
    fn()  # warm: connection, caches, templates
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return _percentiles(samples)


def measure(runs: int) -> dict:
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    from aftersales.org.models import Dealer, User
    from aftersales.reminders import reports

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    users = {
        "nation (OEM analyst)": "oem-analyst",
        "region (region manager)": "north-rm",
        "dealer (DCRC manager)": "bj01-dcrcmgr",
    }
    out = {"page": {}}
    url = reverse("reminder-stats")
    for label, username in users.items():
        client = Client()
        client.force_login(User.objects.get(username=username))

        def page():
            response = client.get(url)  # noqa: B023 - called within the iteration
            assert response.status_code == 200, response.status_code

        out["page"][label] = _time(page, runs)
        print(f"  page, {label}: {out['page'][label]}", flush=True)
    oem = User.objects.get(username="oem-analyst")
    filters = reports.filters_from_query({})
    out["figures_nation"] = _time(lambda: reports.figures(oem, filters), runs)
    print(f"  figures (nation): {out['figures_nation']}", flush=True)
    out["list_nation_not_reminded"] = _time(
        lambda: reports.list_page(oem, filters, "not_reminded"), runs
    )
    print(f"  list, nation, not reminded: {out['list_nation_not_reminded']}", flush=True)
    manager = User.objects.get(username="bj01-dcrcmgr")
    dealer = Dealer.objects.get(code="BJ01")
    dealer_filters = reports.filters_from_query({"dealer": str(dealer.pk)})
    out["list_dealer_not_returned"] = _time(
        lambda: reports.list_page(manager, dealer_filters, "not_returned"), runs
    )
    print(f"  list, dealer, not returned: {out['list_dealer_not_returned']}", flush=True)
    return out


def run(db: str, args) -> dict:
    started_server = False
    if db == "sqlite":
        if not CRM_SQLITE.exists():
            raise SystemExit("no var/bench/crm.sqlite3: run bench/crm_generate.py --db sqlite")
        fresh = args.fresh or not SQLITE_PATH.exists()
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
            print(f"copying {CRM_SQLITE.name} to {SQLITE_PATH.name} …", flush=True)
            shutil.copyfile(CRM_SQLITE, SQLITE_PATH)
        setup_django(f"sqlite:///{SQLITE_PATH}")
    else:
        # the marker is written once the vehicles are in: a failed generation starts over
        fresh = args.fresh or not (PG_ROOT / "generated").exists()
        url = _pg_generate() if fresh else pg_start(PG_ROOT)
        (PG_ROOT / "generated").write_text(datetime.datetime.now().isoformat())
        started_server = True
        if not fresh:
            setup_django(url)
    try:
        from django.core.management import call_command
        from django.db import connection

        from aftersales.crm.models import Vehicle
        from aftersales.reminders import reports
        from aftersales.reminders.models import Reminder, ReminderMessage

        call_command("migrate", verbosity=0)
        generated = None
        if fresh or args.regenerate or not Reminder.objects.exists():
            print("writing 12 months of reminders …", flush=True)
            generated = generate(args.share)
        started = time.perf_counter()
        lines = reports.statistics_refresh_all()
        refresh_all = time.perf_counter() - started
        started = time.perf_counter()
        recent = reports.statistics_refresh()
        refresh_recent = time.perf_counter() - started
        print(f"  refresh: all months {refresh_all:.1f} s ({lines} lines), "
              f"recent months {refresh_recent:.1f} s ({recent} lines)", flush=True)  # fmt: skip
        timings = measure(args.runs)
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(
                    "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size"
                )
            else:
                cursor.execute("SELECT pg_database_size(current_database())")
            size = cursor.fetchone()[0]
        from django.db.models import Count

        return {
            "db": db,
            "data": {
                "vehicles": Vehicle.objects.count(),
                "reminders": Reminder.objects.count(),
                "messages": ReminderMessage.objects.count(),
                "months": MONTHS,
                "per_month": list(
                    Reminder.objects.values("month")
                    .annotate(n=Count("id"))
                    .order_by("month")
                    .values_list("n", flat=True)
                ),
                "dealers": Reminder.objects.values("dealer_id").distinct().count(),
                "statistics_lines": lines,
                "database_mb": round(size / 2**20),
            },
            "generated_s": generated,
            "refresh": {
                "all_months_s": round(refresh_all, 2),
                "recent_months_s": round(refresh_recent, 2),
                "lines_all": lines,
                "lines_recent": recent,
            },
            "timings": timings,
            "target_ms": TARGET_S * 1000,
            "machine": machine(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "measured_at": datetime.datetime.now().isoformat(timespec="seconds"),
        }
    finally:
        if started_server:
            from django.db import connections

            connections.close_all()
            pg_stop(PG_ROOT)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--db", "--database", dest="db", choices=["sqlite", "postgresql", "both"], default="both"
    )
    parser.add_argument("--runs", type=int, default=30, help="timed runs per measure")
    parser.add_argument("--share", type=int, default=27, help="%% of vehicles due each month")
    parser.add_argument("--fresh", action="store_true", help="rebuild the vehicles too")
    parser.add_argument("--regenerate", action="store_true", help="write the reminders again")
    args = parser.parse_args(argv)
    os.environ.pop("AFTERSALES_TEST_DATABASE", None)
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    if len(dbs) > 1:
        # Django is set up once per process: one database per process
        import subprocess

        for db in dbs:
            extra = ["--fresh"] if args.fresh else []
            extra += ["--regenerate"] if args.regenerate else []
            subprocess.run(
                [sys.executable, __file__, "--db", db, "--runs", str(args.runs),
                 "--share", str(args.share), *extra],
                check=True,
            )  # fmt: skip
        return
    db = dbs[0]
    figures = run(db, args)
    (BENCH_DIR / f"reminders-stats-{db}.json").write_text(
        json.dumps(figures, indent=2, ensure_ascii=False, default=str)
    )
    d = figures["data"]
    print(f"== {db}: reminder statistics over {d['months']} months ==")
    print(f"  data: {d['vehicles']:,} vehicles, {d['reminders']:,} reminders "
          f"({d['dealers']} dealers), {d['messages']:,} messages; "
          f"{d['statistics_lines']:,} statistics lines; "
          f"database {d['database_mb']:,} MB")  # fmt: skip
    r = figures["refresh"]
    print(f"  refresh: all months {r['all_months_s']} s, recent months {r['recent_months_s']} s")
    for label, t in figures["timings"]["page"].items():
        flag = "ok" if t["p95_ms"] < TARGET_S * 1000 else "OVER TARGET"
        print(f"  page {label}: p50 {t['p50_ms']} ms, p95 {t['p95_ms']} ms, "
              f"max {t['max_ms']} ms ({t['runs']} runs) {flag}")  # fmt: skip
    for key in ("figures_nation", "list_nation_not_reminded", "list_dealer_not_returned"):
        t = figures["timings"][key]
        print(f"  {key}: p50 {t['p50_ms']} ms, p95 {t['p95_ms']} ms, max {t['max_ms']} ms")
    print(f"  machine: {figures['machine']}; load average {figures['load_average']}")


if __name__ == "__main__":
    main()
