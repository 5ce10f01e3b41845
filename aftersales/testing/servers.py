"""Real servers for the test suite, started on loopback by the test set-up itself.

Loaded with ``pytest -p aftersales.testing.servers``.

* ``AFTERSALES_TEST_DATABASE=postgresql``: initdb in a temporary directory, start a
  PostgreSQL server on a free port, point ``DATABASE_URL`` at it (before Django loads).
* ``redis_server`` fixture: a real redis-server on a free port.
* ``smtp_server`` fixture: a real SMTP server (aiosmtpd) that keeps what it receives.

When a server binary is missing the tests fail in CI (``CI`` set) and skip elsewhere.
"""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

_started = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def missing(what: str):
    message = f"{what} is not installed"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI must install it)", pytrace=False)
    pytest.skip(message)


def _as_postgres_user(cmd):
    # initdb and postgres refuse to run as root; drop to the postgres account when root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _pg_bin(name):
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    return found


def start_postgres() -> str:
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    root = Path(tempfile.mkdtemp(prefix="aftersales-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = free_port()
    subprocess.run(
        _as_postgres_user(
            [
                initdb,
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "aftersales",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    options = (
        f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=200"
    )
    subprocess.run(
        _as_postgres_user(
            [pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    _started.append(
        lambda: (
            subprocess.run(
                _as_postgres_user([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            and shutil.rmtree(root, ignore_errors=True)
        )
    )
    return f"postgres://aftersales@127.0.0.1:{port}/postgres"


# At import (``-p`` loads this plugin before pytest-django reads the settings), so the
# settings module sees the server's DATABASE_URL.
if os.environ.get("AFTERSALES_TEST_DATABASE") == "postgresql":
    os.environ["DATABASE_URL"] = start_postgres()


def pytest_unconfigure(config):
    while _started:
        _started.pop()()


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    engine = db["ENGINE"].rsplit(".", 1)[-1]
    return f"aftersales test database: {engine} {db.get('HOST') or db['NAME']}"


class RedisServer:
    def __init__(self):
        binary = shutil.which("redis-server")
        if binary is None:
            missing("redis-server")
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="aftersales-redis-")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("redis-server did not start")
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server():
    server = RedisServer()
    yield server
    server.stop()


class SmtpSink:
    """aiosmtpd handler that keeps every message it accepts (and can be told to refuse)."""

    def __init__(self):
        self.messages = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 Requested action aborted: local error in processing"
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    sink.port = controller.port
    yield sink
    controller.stop()
