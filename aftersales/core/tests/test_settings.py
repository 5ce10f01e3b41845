"""Settings come from the environment; production refuses to start without a secret."""

import os
import subprocess
import sys

from django.conf import settings


def _settings_probe(env, expr="settings.SECRET_KEY[:4]"):
    code = f"import django; from django.conf import settings; django.setup(); print({expr})"
    base = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL", "PII_KEY"}
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**base, "DJANGO_SETTINGS_MODULE": "aftersales.config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_mode_refuses_to_start_without_a_secret_key(tmp_path):
    result = _settings_probe({"AFTERSALES_MODE": "production", "AFTERSALES_VAR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY must be set in production mode" in result.stderr


def test_production_mode_refuses_to_start_without_a_personal_data_key(tmp_path):
    env = {"AFTERSALES_MODE": "production", "SECRET_KEY": "x" * 60, "AFTERSALES_VAR": str(tmp_path)}
    result = _settings_probe(env)
    assert result.returncode != 0
    assert "PII_KEY must be set in production mode" in result.stderr


def test_demo_mode_generates_and_keeps_one_secret_key(tmp_path):
    env = {"AFTERSALES_MODE": "demo", "AFTERSALES_VAR": str(tmp_path)}
    first = _settings_probe(env, "settings.SECRET_KEY")
    second = _settings_probe(env, "settings.SECRET_KEY")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert len(first.stdout.strip()) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_mode_secures_cookies_and_reads_the_database_url(tmp_path):
    env = {
        "AFTERSALES_MODE": "production",
        "SECRET_KEY": "x" * 60,
        "PII_KEY": "p" * 48,
        "AFTERSALES_VAR": str(tmp_path),
        "DATABASE_URL": "postgres://u:p@db.internal:5432/aftersales",
        "ALLOWED_HOSTS": "service.example.com,api.example.com",
    }
    result = _settings_probe(
        env,
        "settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, "
        "settings.DATABASES['default']['HOST'], settings.ALLOWED_HOSTS",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "True True db.internal ['service.example.com', 'api.example.com']"
    )


def test_defaults_are_chinese_and_shanghai_time():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True


def test_a_server_process_loads_every_view_before_its_first_request(tmp_path):
    # gunicorn imports the WSGI module when a worker starts; the first request used to
    # import the URL patterns and every view module behind them (about a second)
    code = (
        "import sys; import aftersales.config.wsgi; "
        "print('aftersales.config.api_urls' in sys.modules, "
        "'aftersales.workorders.api.quality' in sys.modules)"
    )
    base = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, "AFTERSALES_MODE": "demo", "AFTERSALES_VAR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]
