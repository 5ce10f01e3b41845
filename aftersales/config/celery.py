"""The Celery app. With a broker (Redis) a worker and beat run the jobs; without one the
embedded runner (`aftersales runjobs`, started by `aftersales serve`) fires the same
beat schedule in-process."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.config.settings")

app = Celery("aftersales")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Seconds between runs; the environment may shorten them (tests) or lengthen them.
HEARTBEAT_SECONDS = float(os.environ.get("AFTERSALES_HEARTBEAT_SECONDS", "30"))
OUTBOX_SECONDS = float(os.environ.get("AFTERSALES_OUTBOX_SECONDS", "10"))
IMPORT_SECONDS = float(os.environ.get("AFTERSALES_IMPORT_SECONDS", "3"))
RESERVATION_SECONDS = float(os.environ.get("AFTERSALES_RESERVATION_SECONDS", "300"))
APPOINTMENT_SECONDS = float(os.environ.get("AFTERSALES_APPOINTMENT_SECONDS", "300"))
COMPLAINT_SECONDS = float(os.environ.get("AFTERSALES_COMPLAINT_SECONDS", "600"))

app.conf.beat_schedule = {
    "jobs-heartbeat": {"task": "aftersales.core.tasks.heartbeat", "schedule": HEARTBEAT_SECONDS},
    "outbox-drain": {"task": "aftersales.core.tasks.drain_outbox", "schedule": OUTBOX_SECONDS},
    # uploaded customer/vehicle imports waiting for a worker
    "crm-imports": {"task": "aftersales.crm.tasks.run_imports", "schedule": IMPORT_SECONDS},
    # reservations past their expiry give their quantity back
    "parts-reservations": {
        "task": "aftersales.parts.tasks.expire_reservations",
        "schedule": RESERVATION_SECONDS,
    },
    # bookings past their grace time become no-shows; tomorrow's bookings get their
    # reminder once the dealer's reminder hour has come
    "appointments-no-shows": {
        "task": "aftersales.appointments.tasks.mark_no_shows",
        "schedule": APPOINTMENT_SECONDS,
    },
    "appointments-reminders": {
        "task": "aftersales.appointments.tasks.send_reminders",
        "schedule": APPOINTMENT_SECONDS,
    },
    # complaint deadlines: warnings at the OEM's percentages and at the breach, and
    # automatic escalations (not closed in time, predicted late, VRT or plan late)
    "complaints-deadlines": {
        "task": "aftersales.complaints.tasks.deadline_sweep",
        "schedule": COMPLAINT_SECONDS,
    },
    # a job running over its planned end re-plans that dealer's day
    "appointments-replan": {
        "task": "aftersales.appointments.tasks.replan_on_delays",
        "schedule": APPOINTMENT_SECONDS,
    },
    # idempotency keys of write requests past their week, 03:20 local time
    "core-idempotency": {
        "task": "aftersales.core.tasks.purge_idempotency_keys",
        "schedule": crontab(hour=3, minute=20),
    },
    # uploaded import files and error reports past their retention, 03:10 local time
    "crm-import-files": {
        "task": "aftersales.crm.tasks.purge_import_files",
        "schedule": crontab(hour=3, minute=10),
    },
    # nightly recency-frequency-monetary segmentation, 02:30 local time
    "crm-segments": {
        "task": "aftersales.crm.tasks.recompute_segments",
        "schedule": crontab(hour=2, minute=30),
    },
    # next month's service reminders, on the last day of the month at 22:30 (the job
    # fires on days 28-31 and does nothing unless tomorrow is the 1st)
    "reminders-monthly": {
        "task": "aftersales.reminders.tasks.monthly_run",
        "schedule": crontab(hour=22, minute=30, day_of_month="28-31"),
    },
    # customer care: expire old coupons, birthday and holiday greetings, 09:30 local time
    # (the messages still wait for each customer's quiet hours to end)
    "care-greetings": {
        "task": "aftersales.care.tasks.daily_greetings",
        "schedule": crontab(hour=9, minute=30),
    },
    # reminders whose vehicle came back (a repair order opened in the window), 03:40
    "reminders-returns": {
        "task": "aftersales.reminders.tasks.match_returns",
        "schedule": crontab(hour=3, minute=40),
    },
    # owners' reminder messages of this month that are still missing (catch-up; the
    # monthly run queues them right away), 09:05; quiet hours still apply
    "reminders-messages": {
        "task": "aftersales.reminders.tasks.send_messages",
        "schedule": crontab(hour=9, minute=5),
    },
    # sent / given up / WeChat's delivery report onto the reminder messages, every 5 min
    "reminders-messages-sync": {
        "task": "aftersales.reminders.tasks.sync_messages",
        "schedule": crontab(minute="*/5"),
    },
    # the reminder statistics' rollup: the recent months every 10 minutes, all nightly
    "reminders-statistics": {
        "task": "aftersales.reminders.tasks.refresh_statistics",
        "schedule": crontab(minute="*/10"),
    },
    "reminders-statistics-nightly": {
        "task": "aftersales.reminders.tasks.refresh_statistics",
        "schedule": crontab(hour=3, minute=50),
        "kwargs": {"full": True},
    },
}
