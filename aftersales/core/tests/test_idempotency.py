"""One write per client key, even when the retry arrives while the first is running."""

import threading

import pytest
from django.db import connection, transaction

from aftersales.core.errors import ValidationFailed
from aftersales.core.idempotency import clean_key, once, purge_old_keys
from aftersales.core.models import IdempotencyKey
from aftersales.org.models import Region

pytestmark = pytest.mark.django_db


def _make_region(code):
    from aftersales.org.models import Oem

    oem = Oem.objects.first() or Oem.objects.create(code="OEM", name="OEM")
    return Region.objects.create(oem=oem, code=code, name=code)


def test_a_retry_with_the_same_key_gets_the_first_record_and_acts_once(demo_org):
    user = demo_org["oem-admin"]
    first, acted = once(
        user=user, scope="test", key="k-1", action=lambda: _make_region("R1"), model=Region
    )
    again, acted_again = once(
        user=user, scope="test", key="k-1", action=lambda: _make_region("R2"), model=Region
    )
    assert (acted, acted_again) == (True, False)
    assert again.pk == first.pk
    assert not Region.objects.filter(code="R2").exists()


def test_keys_are_per_user_and_scope_and_no_key_always_acts(demo_org):
    admin, other = demo_org["oem-admin"], demo_org["bj01-admin"]
    a, _ = once(user=admin, scope="s", key="k", action=lambda: _make_region("A1"), model=Region)
    b, _ = once(user=other, scope="s", key="k", action=lambda: _make_region("B1"), model=Region)
    c, _ = once(user=admin, scope="t", key="k", action=lambda: _make_region("C1"), model=Region)
    d, _ = once(user=admin, scope="s", key="", action=lambda: _make_region("D1"), model=Region)
    e, _ = once(user=admin, scope="s", key="", action=lambda: _make_region("E1"), model=Region)
    assert len({a.pk, b.pk, c.pk, d.pk, e.pk}) == 5


def test_a_failed_first_attempt_leaves_the_key_free(demo_org):
    user = demo_org["oem-admin"]

    def fail():
        _make_region("F1")
        raise ValidationFailed("no")

    with pytest.raises(ValidationFailed):
        once(user=user, scope="s", key="k", action=fail, model=Region)
    made, acted = once(
        user=user, scope="s", key="k", action=lambda: _make_region("F2"), model=Region
    )
    assert acted and made.code == "F2"
    assert not Region.objects.filter(code="F1").exists()


def test_an_over_long_key_is_refused():
    with pytest.raises(ValidationFailed):
        clean_key("x" * 101)
    assert clean_key("  abc ") == "abc"


def test_old_keys_are_purged(demo_org):
    import datetime

    from django.utils import timezone

    user = demo_org["oem-admin"]
    once(user=user, scope="s", key="old", action=lambda: _make_region("O1"), model=Region)
    now = timezone.now() + datetime.timedelta(days=8)
    assert purge_old_keys(now=now) == 1
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_act_once(demo_org):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL (SQLite serialises whole transactions)")
    user = demo_org["oem-admin"]
    barrier = threading.Barrier(4)
    results, errors = [], []

    def attempt(n):
        try:
            barrier.wait()
            with transaction.atomic():
                record, acted = once(
                    user=user,
                    scope="race",
                    key="same",
                    action=lambda: _make_region(f"C{n}"),
                    model=Region,
                )
            results.append((record.pk, acted))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({pk for pk, _ in results}) == 1
    assert sum(acted for _, acted in results) == 1
    assert Region.objects.filter(code__startswith="C").count() == 1
