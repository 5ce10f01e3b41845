from importlib import import_module

import pytest


@pytest.fixture(autouse=True)
def _axes_reset(settings):
    # Each test starts with no recorded login failures in the lock-out cache.
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _default_language():
    # A request through the test client leaves its language active in the thread; each
    # test starts (and ends) in the default language, so no test reads another's.
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # Uploaded files (photos, signatures, import files) land in the test's own folder,
    # not in var/media.
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def demo_org(db):
    """The demo organisation: 3 regions, 6 dealers, a user per role per unit."""
    from aftersales.org.demo import load_org_demo

    load_org_demo()
    from aftersales.org.models import User

    return {u.username: u for u in User.objects.all()}


# migrations whose triggers make a table append-only (the audit trail, the stock ledger)
APPEND_ONLY_TRIGGERS = [
    "aftersales.core.migrations.0003_auditlog_append_only",
    "aftersales.parts.migrations.0002_stockmove_append_only",
]


@pytest.fixture(autouse=True)
def _sqlite_flush_past_audit_triggers(request):
    """Transactional tests end with a flush, which on SQLite is ``DELETE FROM`` each table;
    the audit trail's append-only triggers refuse that. Lift them for the flush only; every
    database test (re)creates them first, so each test runs with them in force."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & names
    )
    if not (marker or transactional or "db" in names):
        yield
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    modules = [import_module(name) for name in APPEND_ONLY_TRIGGERS]
    with connection.cursor() as cursor:
        for triggers in modules:
            for sql in triggers.SQLITE:
                cursor.execute(sql.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS"))
    yield
    if transactional:
        with connection.cursor() as cursor:
            for triggers in modules:
                for sql in triggers.SQLITE_REVERSE:
                    cursor.execute(sql)
