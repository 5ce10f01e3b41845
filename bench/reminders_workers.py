"""The monthly reminder run split across Celery workers (issue 9): PostgreSQL + Redis, the
CRM benchmark's 1,000,000 vehicles, the job fanned out per dealer as in production.

    .venv/bin/python bench/reminders_workers.py [--workers 2] [--month 2026-12]

Data: the PostgreSQL server in ``var/bench/crm-pg/`` (``crm_generate.py --db postgresql``
first; ``bench/reminders.py --db postgresql`` migrates it). The bench starts a Redis server
on loopback and ``--workers`` Celery worker processes (one job at a time each), deletes the
month's reminders, queues ``tasks.monthly_run`` for the month — which queues one
``run_for_dealer`` job per active dealer — and waits until every dealer's run has finished
(its ``ReminderRun`` row). Then the same again: the re-run must add nothing.

Prints: wall time from queueing to the last dealer done, reminders written and per
second, each worker's peak memory, the re-run's time and rows added; figures go to
``var/bench/reminders-workers.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

from crm_generate import BENCH_DIR, PG_DIR, machine, pg_start, pg_stop, setup_django  # noqa: E402


def peak_mb(pid: int) -> float:
    """The peak resident memory (VmHWM) of a process, in MB."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except FileNotFoundError:
        pass
    return 0.0


def worker_pids(process: subprocess.Popen) -> list[int]:
    """The worker's own pid and its pool children (prefork)."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    extra = children.read_text().split() if children.exists() else []
    return [process.pid, *map(int, extra)]


def fan_out(month: str, dealers: int, started_after, timeout: float = 600) -> float:
    """Queue the monthly job and wait for every dealer's run; returns the wall seconds."""
    from aftersales.reminders.models import ReminderRun
    from aftersales.reminders.tasks import monthly_run

    started = time.perf_counter()
    monthly_run.delay(month)
    while time.perf_counter() - started < timeout:
        runs = ReminderRun.objects.filter(started_at__gte=started_after, dealer__isnull=False)
        failed = runs.exclude(error="").values_list("error", flat=True)[:1]
        if failed:
            raise SystemExit(f"a dealer's run failed: {failed[0]}")
        if runs.filter(finished_at__isnull=False).count() >= dealers:
            return time.perf_counter() - started
        time.sleep(0.2)
    raise SystemExit("the workers did not finish in time")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--month", default="2026-12", help="YYYY-MM (default 2026-12)")
    args = parser.parse_args(argv)
    os.environ.pop("AFTERSALES_TEST_DATABASE", None)

    from aftersales.testing.servers import RedisServer

    redis = RedisServer()
    url = pg_start(PG_DIR)
    os.environ["CELERY_BROKER_URL"] = redis.url
    os.environ["REDIS_URL"] = redis.url
    workers = []
    try:
        setup_django(url)
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        from aftersales.crm.models import Vehicle
        from aftersales.org.models import Dealer
        from aftersales.reminders.models import Reminder, ReminderRun
        from aftersales.reminders.schedule import parse_month

        call_command("migrate", verbosity=0)
        month = parse_month(args.month)
        Reminder.objects.filter(month=month).delete()
        ReminderRun.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE reminders_reminder")
        connection.close()  # the workers get the server's attention, not an idle session
        dealers = Dealer.objects.filter(active=True).count()
        env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        celery = str(Path(sys.executable).with_name("celery"))
        for n in range(args.workers):
            workers.append(
                subprocess.Popen(
                    [
                        celery,
                        "-A",
                        "aftersales.config",
                        "worker",
                        "--pool",
                        "solo",
                        "--loglevel",
                        "WARNING",
                        "--hostname",
                        f"bench{n}@%h",
                        "--without-gossip",
                        "--without-mingle",
                        "--without-heartbeat",
                    ],
                    cwd=ROOT,
                    env=env,
                )  # fmt: skip
            )
        time.sleep(4)  # the workers connect to the broker
        print(f"{args.workers} workers, {dealers} dealers: running {args.month} …", flush=True)
        mark = timezone.now()
        seconds = fan_out(args.month, dealers, mark)
        total = Reminder.objects.filter(month=month).count()
        peaks = [max(peak_mb(pid) for pid in worker_pids(w)) for w in workers]
        print(f"  run: {total:,} reminders in {seconds:.1f} s", flush=True)
        mark = timezone.now()
        rerun = fan_out(args.month, dealers, mark)
        added = sum(
            sum(run.added.values())
            for run in ReminderRun.objects.filter(started_at__gte=mark, dealer__isnull=False)
        )
        figures = {
            "db": "postgresql",
            "broker": "redis",
            "workers": args.workers,
            "month": month.isoformat(),
            "vehicles": Vehicle.objects.count(),
            "dealers": dealers,
            "run": {
                "seconds": round(seconds, 1),
                "reminders": total,
                "per_second": round(total / seconds),
                "worker_peak_rss_mb": peaks,
            },
            "rerun": {"seconds": round(rerun, 1), "added": added},
            "machine": machine(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "measured_at": datetime.datetime.now().isoformat(timespec="seconds"),
        }
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            try:
                w.wait(timeout=20)
            except subprocess.TimeoutExpired:
                w.kill()
        redis.stop()
        pg_stop(PG_DIR)
    (BENCH_DIR / "reminders-workers.json").write_text(json.dumps(figures, indent=2, default=str))
    r = figures["run"]
    print(f"== monthly run {figures['month']} over {figures['vehicles']:,} vehicles, "
          f"{args.workers} Celery workers, PostgreSQL + Redis ==")  # fmt: skip
    print(f"  run: {r['reminders']:,} reminders in {r['seconds']} s ({r['per_second']:,}/s); "
          f"worker peak RSS {r['worker_peak_rss_mb']} MB")  # fmt: skip
    print(f"  re-run: {figures['rerun']['seconds']} s, {figures['rerun']['added']} added")
    print(f"  machine: {figures['machine']}; load average {figures['load_average']}")


if __name__ == "__main__":
    main()
