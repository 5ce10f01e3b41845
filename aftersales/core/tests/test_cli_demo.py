"""`aftersales demo` (what `make demo` runs): e-mail goes to the log unless a mail server
is configured, as SMS does."""

import pytest

from aftersales import cli


@pytest.fixture
def ran(monkeypatch):
    """Run cli.demo with its steps recorded instead of run (no migrate, no server)."""
    steps = []
    monkeypatch.setattr(cli, "_manage", lambda *args: steps.append(args))
    monkeypatch.setattr(cli, "serve", lambda: steps.append(("serve",)) or 0)
    return steps


def test_demo_sends_email_to_the_log_by_default(ran, monkeypatch):
    # (set first, so that the variable the run sets is undone afterwards)
    monkeypatch.setenv("EMAIL_BACKEND", "unset-after-the-test")
    monkeypatch.delenv("EMAIL_BACKEND")
    assert cli.demo() == 0
    assert cli.os.environ["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert [step[0] for step in ran] == ["migrate", "demo_data", "collectstatic", "serve"]


def test_demo_keeps_a_configured_mail_backend(ran, monkeypatch):
    monkeypatch.setenv("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
    cli.demo()
    assert cli.os.environ["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
