"""Production mode: a real Celery worker and beat on a real Redis broker run the schedule
and deliver the outbox, sharing the test database with this process."""

import sys

import pytest

from aftersales.core.models import JobHeartbeat
from aftersales.testing.processes import (
    queue_email_and_wait_for_delivery,
    start,
    stop,
    subprocess_env,
    tail,
    wait_until,
)

CELERY = [sys.executable, "-m", "celery", "-A", "aftersales.config"]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_celery_worker_and_beat_on_redis_run_jobs_and_deliver_the_outbox(
    redis_server, smtp_server, tmp_path
):
    # Given a Celery worker and beat on Redis, with 1-second intervals
    env = subprocess_env(
        smtp_server,
        CELERY_BROKER_URL=redis_server.url,
        AFTERSALES_HEARTBEAT_SECONDS="1",
        AFTERSALES_OUTBOX_SECONDS="1",
    )
    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
    worker = start(
        [
            *CELERY,
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--hostname=test@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env,
        worker_log,
    )
    processes = {"worker": (worker, worker_log)}
    try:
        beat = start(
            [
                *CELERY,
                "beat",
                "--loglevel=INFO",
                "--schedule",
                str(tmp_path / "beat-schedule"),
                "--pidfile=",
            ],
            env,
            beat_log,
        )
        processes["beat"] = (beat, beat_log)

        # When beat sends the heartbeat job through Redis, the worker records it
        wait_until(
            lambda: JobHeartbeat.objects.filter(name="jobs").exists(), "heartbeat", processes
        )

        # When this process queues an e-mail in a committed transaction
        # Then the scheduled drain, run by the worker, delivers it to the SMTP server
        queue_email_and_wait_for_delivery(
            smtp_server, processes, subject="满意度回访", body="请为本次保养服务打分：1-5 分。"
        )
    finally:
        # Before pytest-django empties the tables: nothing may still be writing to them.
        stop(*[process for process, _ in processes.values()])

    # and it was the worker that ran both jobs, sent to it by beat
    assert "aftersales.core.tasks.heartbeat" in beat_log.read_text(), tail(beat_log)
    worker_output = worker_log.read_text()
    assert "Task aftersales.core.tasks.heartbeat[" in worker_output, tail(worker_log)
    assert "Task aftersales.core.tasks.drain_outbox[" in worker_output, tail(worker_log)
