"""Running job processes (the embedded runner, Celery worker and beat) in tests, against
the test database and a test SMTP server."""

import os
import signal
import subprocess
import time
from urllib.parse import quote

import pytest
from django.db import connection, transaction


def database_url() -> str:
    """A URL for the test database, for subprocesses (dj-database-url syntax)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return "sqlite:///" + str(db["NAME"])
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{quote(db['NAME'], safe='')}"


def subprocess_env(smtp_server, **extra) -> dict:
    """The environment of a job process that shares the test database and SMTP server."""
    env = {k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="aftersales.config.settings",
        DATABASE_URL=database_url(),
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_server.port),
        EMAIL_USE_TLS="false",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def wait_until(condition, what, processes=(), timeout=60.0):
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds
    or as soon as one of ``processes`` (name → (Popen, log path)) has exited."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        for name, (process, log) in processes.items():
            if process.poll() is not None:
                pytest.fail(f"{name} exited ({process.returncode}) before {what}:\n{tail(log)}")
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {name}\n{tail(log)}" for name, (_, log) in processes.items())
            pytest.fail(f"no {what} within {timeout:.0f} s\n{logs}")
        time.sleep(0.1)


def tail(path, lines=40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def start(command, env, log):
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def stop(*processes, timeout=20):
    """Ask the processes to stop (SIGTERM), all at once; kill any still running after
    ``timeout`` seconds. Returns the exit code of the first."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    return processes[0].returncode


def queue_email_and_wait_for_delivery(smtp_server, processes, *, subject, body):
    """Queue an e-mail in a committed transaction of this process, then wait until the job
    processes deliver it to the SMTP server and mark it sent."""
    from aftersales.core.models import OutboxMessage, OutboxStatus
    from aftersales.core.outbox import outbox_enqueue

    with transaction.atomic():
        message = outbox_enqueue(
            channel="email", recipient="owner@example.cn", subject=subject, body=body
        )
    wait_until(lambda: smtp_server.messages, "e-mail at the SMTP server", processes)
    wait_until(
        lambda: OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.SENT).exists(),
        "message marked sent",
        processes,
    )
    [envelope] = smtp_server.messages
    assert envelope.rcpt_tos == ["owner@example.cn"]
