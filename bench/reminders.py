"""Service-reminder figures (issue 9): the monthly run over the CRM benchmark's 1,000,000
vehicles (800,000 customers, 2,000,000 odometer readings, ~1,000,000 visits).

    .venv/bin/python bench/reminders.py [--db sqlite|postgresql] [--month 2026-12] [--fresh]

Data: ``bench/crm_generate.py``'s database. SQLite: ``var/bench/crm.sqlite3`` is copied to
``var/bench/reminders.sqlite3`` (once; ``--fresh`` copies again) so the CRM benchmarks' file
is never changed, then migrated (the reminder tables). PostgreSQL: the server in
``var/bench/crm-pg/`` (run ``crm_generate.py --db postgresql`` first), migrated in place.

1. **Run** — ``monthly.reminders_for_month`` for every dealer on a month with no reminders
   yet: seconds, reminders written per kind and per second, peak memory (the process's
   peak RSS, and its growth during the run).
2. **Re-run** — the same month again: it must add nothing.
3. **Floor** — a plain set-based ``INSERT … SELECT`` writing the same number of rows into a
   table of the same columns with the same unique key (constants and a vehicle-owner join,
   no rules): the least a set-based run can cost here; the ratio run / floor.

Figures go to ``var/bench/reminders-<db>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from crm_generate import BENCH_DIR, PG_DIR, machine, pg_start, pg_stop, setup_django  # noqa: E402
from crm_generate import SQLITE_PATH as CRM_SQLITE  # noqa: E402

SQLITE_PATH = BENCH_DIR / "reminders.sqlite3"


def rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def current_rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def floor(count: int, month) -> float:
    """Seconds of a plain ``INSERT … SELECT`` of ``count`` reminder-shaped rows."""
    from django.db import connection, transaction
    from django.utils import timezone

    from aftersales.reminders.monthly import Sql

    sql = Sql(connection.vendor)
    m0 = sql.date(month)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_reminder_floor")
        cursor.execute(
            "CREATE TABLE bench_reminder_floor AS SELECT * FROM reminders_reminder WHERE 1 = 0"
        )
        cursor.execute(
            "CREATE UNIQUE INDEX bench_reminder_floor_key "
            "ON bench_reminder_floor (vehicle_id, kind, month)"
        )
        columns = (
            "id, kind, month, due_date, trigger, due_km, on_site, vehicle_id, customer_id, "
            "dealer_id, registered, campaign_id, recall_id, status, status_at, attempts, "
            "assigned_to_id, note, return_by, returned_order_id, returned_at, created_at, "
            "updated_at"
        )
        now = sql.timestamp(timezone.now())
        started = time.perf_counter()
        with transaction.atomic():
            cursor.execute(
                f"""INSERT INTO bench_reminder_floor ({columns})
                SELECT v.id, 'maintenance', {m0}, {m0}, 'time', NULL, FALSE, v.id, v.owner_id,
                  v.selling_dealer_id, (c.user_id IS NOT NULL), NULL, NULL, 'open', NULL, 0,
                  NULL, '', {m0}, NULL, NULL, {now}, {now}
                FROM crm_vehicle v JOIN crm_customer c ON c.id = v.owner_id
                WHERE v.selling_dealer_id IS NOT NULL
                ORDER BY v.id LIMIT {count}"""
            )
        seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_reminder_floor")
    return seconds


def run(db: str, args) -> dict:
    import datetime

    if db == "sqlite":
        if not CRM_SQLITE.exists():
            raise SystemExit("no var/bench/crm.sqlite3: run bench/crm_generate.py --db sqlite")
        if args.fresh or not SQLITE_PATH.exists():
            for suffix in ("", "-wal", "-shm"):
                Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
            print(f"copying {CRM_SQLITE.name} to {SQLITE_PATH.name} …", flush=True)
            shutil.copyfile(CRM_SQLITE, SQLITE_PATH)
        url = f"sqlite:///{SQLITE_PATH}"
    else:
        url = pg_start(PG_DIR)
    try:
        setup_django(url)
        from django.core.management import call_command
        from django.db import connection

        from aftersales.crm.models import Vehicle
        from aftersales.reminders.models import Reminder, ReminderRun
        from aftersales.reminders.monthly import reminders_for_month
        from aftersales.reminders.schedule import parse_month

        call_command("migrate", verbosity=0)
        month = parse_month(args.month)
        Reminder.objects.filter(month=month).delete()
        ReminderRun.objects.all().delete()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE reminders_reminder")
        vehicles = Vehicle.objects.count()
        before = current_rss_mb()

        def progress(kind, added):
            print(f"\r  {kind:<14} {added:>9,}  {time.perf_counter() - started:6.1f} s",
                  end="", flush=True)  # fmt: skip

        started = time.perf_counter()
        cpu0 = time.process_time()
        added = reminders_for_month(month, progress=progress)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu0
        peak = rss_mb()
        print()
        total = sum(added.values())
        started = time.perf_counter()
        again = reminders_for_month(month)
        rerun = time.perf_counter() - started
        # one dealer's share (what one fan-out job does): the dealer with most reminders,
        # its rows deleted first so the job writes them again
        from django.db.models import Count

        biggest = (
            Reminder.objects.filter(month=month)
            .values("dealer_id")
            .annotate(n=Count("id"))
            .order_by("-n")
            .first()
        )
        Reminder.objects.filter(month=month, dealer_id=biggest["dealer_id"]).delete()
        started = time.perf_counter()
        one = reminders_for_month(month, biggest["dealer_id"])
        one_dealer = time.perf_counter() - started
        floor_s = floor(total, month)
        load = os.getloadavg()
        return {
            "db": db,
            "month": month.isoformat(),
            "vehicles": vehicles,
            "run": {
                "seconds": round(seconds, 1),
                "cpu_seconds": round(cpu, 1),
                "added": added,
                "total": total,
                "per_second": round(total / seconds),
                "rss_before_mb": before,
                "peak_rss_mb": peak,
            },
            "rerun": {"seconds": round(rerun, 1), "added": sum(again.values())},
            "one_dealer": {
                "seconds": round(one_dealer, 1),
                "added": sum(one.values()),
                "dealers": Reminder.objects.filter(month=month)
                .values("dealer_id")
                .distinct()
                .count(),
            },
            "floor": {"seconds": round(floor_s, 1), "rows": total},
            "ratio_to_floor": round(seconds / floor_s, 1) if floor_s else None,
            "machine": machine(),
            "load_average": [round(x, 2) for x in load],
            "measured_at": datetime.datetime.now().isoformat(timespec="seconds"),
        }
    finally:
        if db == "postgresql":
            pg_stop(PG_DIR)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--month", default="2026-12", help="YYYY-MM (default 2026-12)")
    parser.add_argument("--fresh", action="store_true", help="copy the CRM database again")
    args = parser.parse_args(argv)
    os.environ.pop("AFTERSALES_TEST_DATABASE", None)
    figures = run(args.db, args)
    (BENCH_DIR / f"reminders-{args.db}.json").write_text(
        json.dumps(figures, indent=2, ensure_ascii=False, default=str)
    )
    r = figures["run"]
    print(f"== {args.db}: monthly run {figures['month']} over {figures['vehicles']:,} vehicles ==")
    print(f"  run: {r['total']:,} reminders in {r['seconds']} s ({r['per_second']:,}/s, "
          f"CPU {r['cpu_seconds']} s); peak RSS {r['peak_rss_mb']} MB "
          f"(before the run {r['rss_before_mb']} MB)")  # fmt: skip
    print(f"  per kind: {r['added']}")
    print(f"  re-run: {figures['rerun']['seconds']} s, {figures['rerun']['added']} added")
    o = figures["one_dealer"]
    print(f"  one dealer's job (the biggest of {o['dealers']}): {o['added']:,} reminders in "
          f"{o['seconds']} s")  # fmt: skip
    print(f"  floor (plain INSERT … SELECT of {r['total']:,} rows): "
          f"{figures['floor']['seconds']} s; ratio {figures['ratio_to_floor']}x")  # fmt: skip
    print(f"  machine: {figures['machine']}; load average {figures['load_average']}")


if __name__ == "__main__":
    main()
