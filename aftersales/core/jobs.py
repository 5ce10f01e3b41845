"""The embedded job runner: fires the Celery beat schedule in-process when there is no
broker, so a single machine with SQLite and no Redis still runs every periodic job."""

import logging
import signal
import threading
import time
from datetime import timedelta

from celery.schedules import schedule as interval_schedule
from django.db import close_old_connections
from django.utils import timezone

from aftersales.core.audit import audit_channel
from aftersales.core.models import AuditChannel

log = logging.getLogger(__name__)


def _as_schedule(value, app):
    if isinstance(value, int | float):
        return interval_schedule(timedelta(seconds=value), app=app)
    if isinstance(value, timedelta):
        return interval_schedule(value, app=app)
    return value


class EmbeddedRunner:
    """Fires each interval entry at once on the first run, then whenever its schedule is
    due; time-of-day (crontab) entries wait for their time."""

    def __init__(self, app, tick: float = 1.0):
        self.app = app
        self.tick = tick
        self.stopping = threading.Event()
        self.last_run = {}
        # Import the apps' tasks modules now, as a worker does at start-up: autodiscovery
        # is lazy, and a task the schedule names must be registered before it can run.
        app.autodiscover_tasks(force=True)

    def due_entries(self):
        for name, entry in self.app.conf.beat_schedule.items():
            sched = _as_schedule(entry["schedule"], self.app)
            last = self.last_run.get(name)
            if last is None and not isinstance(sched, interval_schedule):
                # a time-of-day job (crontab) waits for its time, as Celery beat does,
                # rather than running at every start
                self.last_run[name] = timezone.now()
                continue
            if last is None or sched.is_due(last).is_due:
                yield name, entry

    def run_once(self):
        """Run every entry that is due now; each failure is logged, never fatal."""
        now = timezone.now()
        ran = []
        for name, entry in list(self.due_entries()):
            self.last_run[name] = now
            try:
                with audit_channel(AuditChannel.JOB):
                    self.app.tasks[entry["task"]].apply(
                        args=entry.get("args", ()), kwargs=entry.get("kwargs", {}), throw=True
                    )
                ran.append(name)
            except Exception:
                log.exception("job %s failed", name)
        return ran

    def run_forever(self):
        log.info(
            "embedded job runner started (%d scheduled jobs)", len(self.app.conf.beat_schedule)
        )
        while not self.stopping.is_set():
            self.run_once()
            # Between ticks, as a worker does around its tasks: drop a broken or over-age
            # database connection (not inside run_once, which may run in a caller's
            # transaction).
            close_old_connections()
            self.stopping.wait(self.tick)

    def install_signal_handlers(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())


def run_embedded(tick: float = 1.0, until: float | None = None):
    from aftersales.config.celery import app

    runner = EmbeddedRunner(app, tick=tick)
    if until is None:
        runner.install_signal_handlers()
        runner.run_forever()
        return runner
    deadline = time.monotonic() + until
    while time.monotonic() < deadline:
        runner.run_once()
        close_old_connections()
        time.sleep(tick)
    return runner
