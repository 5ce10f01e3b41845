"""The ``aftersales`` command.

aftersales serve      gunicorn + (without a broker) the embedded job runner
aftersales demo       migrate, load demo data, collect static files, then serve
aftersales worker     a Celery worker (production, with CELERY_BROKER_URL)
aftersales beat       the Celery beat scheduler (production)
aftersales runjobs    the embedded job runner alone
aftersales <other>    any Django management command (migrate, check, createsuperuser …)
"""

import os
import signal
import subprocess
import sys
import time


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.config.settings")
    import django

    django.setup()


def _manage(*args):
    from django.core.management import call_command

    call_command(*args)


def serve():
    _django()
    from django.conf import settings

    port = os.environ.get("PORT", "8000")
    host = os.environ.get("HOST", "127.0.0.1")
    workers = os.environ.get("WEB_CONCURRENCY", "3")
    # One thread per worker gave the best p95 under load on a 2-core machine
    # (docs/performance.md); the control socket lives under var/ so two servers of one
    # user do not fight over gunicorn's default path.
    gunicorn = [
        *(sys.executable, "-m", "gunicorn", "aftersales.config.wsgi:application"),
        *("--bind", f"{host}:{port}", "--workers", workers),
        *("--threads", os.environ.get("GUNICORN_THREADS", "1")),
        *("--control-socket", str(settings.VAR_DIR / "gunicorn.ctl")),
        *("--access-logfile", "-", "--timeout", "60"),
    ]
    children = [subprocess.Popen(gunicorn)]
    if settings.CELERY_TASK_ALWAYS_EAGER:
        children.append(subprocess.Popen([sys.executable, "-m", "aftersales.cli", "runjobs"]))
        jobs = "embedded job runner (no broker configured)"
    else:
        jobs = (
            "Celery broker " + settings.CELERY_BROKER_URL.split("@")[-1] + " (run worker and beat)"
        )
    print(f"\naftersales is running on http://{host}:{port}/  —  jobs: {jobs}", flush=True)

    def stop(*_):
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    finally:
        stop()
        for child in children:
            child.wait(timeout=20)
    return max(child.returncode or 0 for child in children)


def demo():
    # no mail server on a trial machine: e-mail (low-stock alerts, …) goes to the log,
    # like SMS (SMS_BACKEND=console); set EMAIL_BACKEND/EMAIL_HOST to send it
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
    _django()
    from aftersales.org.demo import DEMO_PASSWORD, demo_logins

    _manage("migrate", "--no-input", "-v", "0")
    _manage("demo_data", "--quiet-logins")
    _manage("collectstatic", "--no-input", "-v", "0")
    port = os.environ.get("PORT", "8000")
    print(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
    for username, role, unit in demo_logins():
        if unit in {"—", "OEM", "NORTH"} or username.startswith("bj01-"):
            print(f"  {username:<16} {role} @ {unit}")
    print(
        "  … the same role names for every dealer: tj01-, sh01-, hz01-, gz01-, sz01-;"
        " regions east-rm, south-rm"
    )
    print(f"\nOpen http://127.0.0.1:{port}/ (Ctrl-C stops)\n", flush=True)
    return serve()


def runjobs():
    _django()
    from aftersales.core.jobs import run_embedded

    run_embedded()
    return 0


def celery(kind):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.config.settings")
    args = [sys.executable, "-m", "celery", "-A", "aftersales.config", kind, "--loglevel", "INFO"]
    return subprocess.call(args + sys.argv[2:])


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    if command == "serve":
        return serve()
    if command == "demo":
        return demo()
    if command == "runjobs":
        return runjobs()
    if command in {"worker", "beat"}:
        return celery(command)
    if command in {"help", "-h", "--help"}:
        print(__doc__)
        return 0
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["aftersales", *sys.argv[1:]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
