"""The embedded job runner: without a broker the beat schedule still fires, in-process
(`EmbeddedRunner`) and as the `aftersales runjobs` command."""

import sys
from datetime import timedelta

import pytest
from celery import Celery
from django.utils import timezone

from aftersales.config.celery import app
from aftersales.core.jobs import EmbeddedRunner
from aftersales.core.models import JobHeartbeat, OutboxStatus
from aftersales.core.outbox import outbox_enqueue
from aftersales.testing.processes import (
    queue_email_and_wait_for_delivery,
    start,
    stop,
    subprocess_env,
    tail,
    wait_until,
)

# EmbeddedRunner in this process.


@pytest.mark.django_db
def test_first_run_fires_every_beat_entry(smtp_server):
    # Given an e-mail waiting in the outbox and a runner that has never run
    message = outbox_enqueue(
        channel="email", recipient="lead@example.cn", subject="试驾预约", body="明天上午十点到店"
    )
    runner = EmbeddedRunner(app)

    # When it runs once
    before = timezone.now()
    ran = runner.run_once()
    after = timezone.now()

    # Then every interval job ran (the nightly ones wait for their hour): the heartbeat is
    # recorded and the outbox is drained
    assert sorted(ran) == [
        "appointments-no-shows",
        "appointments-reminders",
        "appointments-replan",
        "complaints-deadlines",
        "crm-imports",
        "jobs-heartbeat",
        "outbox-drain",
        "parts-reservations",
    ]
    assert "crm-segments" in app.conf.beat_schedule and "crm-segments" not in ran
    assert before <= JobHeartbeat.objects.get(name="jobs").beat_at <= after
    [envelope] = smtp_server.messages
    assert envelope.rcpt_tos == ["lead@example.cn"]
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT


@pytest.mark.django_db
def test_interval_entry_is_not_fired_again_before_its_interval():
    # Given a runner that has just fired every entry
    runner = EmbeddedRunner(app)
    runner.run_once()
    first_beat = JobHeartbeat.objects.get(name="jobs").beat_at
    interval = app.conf.beat_schedule["jobs-heartbeat"]["schedule"]
    assert interval > 5

    # When it runs again at once, then with the last run moved back less than the interval
    immediately = runner.run_once()
    runner.last_run["jobs-heartbeat"] -= timedelta(seconds=interval - 5)
    almost = runner.run_once()

    # Then nothing fired
    assert immediately == almost == []
    assert JobHeartbeat.objects.get(name="jobs").beat_at == first_beat

    # When the heartbeat's last run is more than one interval ago
    runner.last_run["jobs-heartbeat"] -= timedelta(seconds=6)
    again = runner.run_once()

    # Then the heartbeat (and only it) fires again
    assert again == ["jobs-heartbeat"]
    assert JobHeartbeat.objects.get(name="jobs").beat_at > first_beat


def test_failing_job_is_logged_and_the_others_still_run(caplog):
    # Given a schedule with a job that fails and one that works
    jobs = Celery("jobs-under-test", fixups=[], set_as_current=False)
    calls = []

    @jobs.task(name="test.fails")
    def fails():
        raise RuntimeError("SMS provider down")

    @jobs.task(name="test.works")
    def works():
        calls.append("works")

    jobs.conf.beat_schedule = {
        "fails": {"task": "test.fails", "schedule": 60},
        "works": {"task": "test.works", "schedule": timedelta(minutes=1)},
    }

    # When the runner runs
    ran = EmbeddedRunner(jobs).run_once()

    # Then the failure is logged with its traceback, and the other job ran
    assert ran == ["works"]
    assert calls == ["works"]
    [record] = [r for r in caplog.records if r.name == "aftersales.core.jobs"]
    assert record.getMessage() == "job fails failed"
    assert "SMS provider down" in caplog.text


# `aftersales runjobs` as a real process.


@pytest.mark.django_db(transaction=True)
def test_runjobs_command_fires_the_schedule_and_delivers_the_outbox(smtp_server, tmp_path):
    # Given the embedded runner started as a command, with 1-second intervals, no broker
    env = subprocess_env(
        smtp_server, AFTERSALES_HEARTBEAT_SECONDS="1", AFTERSALES_OUTBOX_SECONDS="1"
    )
    log = tmp_path / "runjobs.log"
    runjobs = start([sys.executable, "-m", "aftersales.cli", "runjobs"], env, log)
    processes = {"runjobs": (runjobs, log)}
    try:
        # When it has started, the heartbeat appears and then beats again (periodic)
        first = wait_until(
            lambda: JobHeartbeat.objects.filter(name="jobs").first(), "heartbeat", processes
        )
        wait_until(
            lambda: JobHeartbeat.objects.filter(name="jobs", beat_at__gt=first.beat_at).exists(),
            "second heartbeat",
            processes,
        )

        # When an e-mail is queued by a committed transaction while it runs
        # Then a periodic drain delivers it to the SMTP server
        queue_email_and_wait_for_delivery(
            smtp_server, processes, subject="您的车辆已完工", body="工单 RO-0042 已完工，欢迎取车。"
        )
    finally:
        returncode = stop(runjobs)

    # and SIGTERM stops it cleanly
    assert returncode == 0, tail(log)
