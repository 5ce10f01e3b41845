"""Document numbers: readable, one series per dealer/type/year, no duplicates and no gaps,
even with concurrent writers and rolled-back transactions."""

import datetime
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from aftersales.core.models import NumberSequence
from aftersales.core.numbering import next_number
from aftersales.org.models import Dealer, Oem, Region


class Rollback(Exception):
    """Raised on purpose to roll a transaction back."""


def make_dealer(code="BJ01"):
    # Plain ORM rows (no audit entries): transactional tests flush the tables afterwards.
    oem, _ = Oem.objects.get_or_create(code="XC", defaults={"name": "XC"})
    region, _ = Region.objects.get_or_create(code="NORTH", defaults={"oem": oem, "name": "N"})
    return Dealer.objects.create(region=region, code=code, name=f"Dealer {code}")


def serial(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


@pytest.mark.django_db
def test_numbers_are_readable_and_follow_each_other():
    # given a dealer with no numbers yet
    dealer = make_dealer()
    # when two repair-order numbers are taken
    with transaction.atomic():
        first = next_number(doc_type="RO", dealer=dealer, on=datetime.date(2026, 3, 1))
        second = next_number(doc_type="RO", dealer=dealer, on=datetime.date(2026, 3, 1))
    # then they carry type, dealer, year and a zero-padded serial
    assert first == "RO-BJ01-2026-000001"
    assert second == "RO-BJ01-2026-000002"


@pytest.mark.django_db
def test_each_dealer_type_and_year_has_its_own_series():
    # given two dealers
    bj, sh = make_dealer("BJ01"), make_dealer("SH01")
    on_2026, on_2027 = datetime.date(2026, 12, 31), datetime.date(2027, 1, 1)
    with transaction.atomic():
        # when numbers are taken in different series
        got = [
            next_number(doc_type="RO", dealer=bj, on=on_2026),
            next_number(doc_type="RO", dealer=bj, on=on_2026),
            next_number(doc_type="RO", dealer=sh, on=on_2026),
            next_number(doc_type="INV", dealer=bj, on=on_2026),
            next_number(doc_type="RO", dealer=bj, on=on_2027),
            next_number(doc_type="CMP", on=on_2026),  # OEM-level document, no dealer
            next_number(doc_type="CMP", on=on_2026),
        ]
    # then each series starts at 1 on its own
    assert got == [
        "RO-BJ01-2026-000001",
        "RO-BJ01-2026-000002",
        "RO-SH01-2026-000001",
        "INV-BJ01-2026-000001",
        "RO-BJ01-2027-000001",
        "CMP-2026-000001",
        "CMP-2026-000002",
    ]
    assert NumberSequence.objects.count() == 5


@pytest.mark.django_db
def test_the_current_year_is_used_by_default():
    dealer = make_dealer()
    with transaction.atomic():
        number = next_number(doc_type="RO", dealer=dealer)
    assert number == f"RO-BJ01-{timezone.localdate().year}-000001"


@pytest.mark.django_db
def test_a_rolled_back_transaction_gives_its_number_back():
    # given a dealer whose series is at 1
    dealer = make_dealer()
    with transaction.atomic():
        assert serial(next_number(doc_type="RO", dealer=dealer)) == 1
    # when a document transaction takes a number and then fails
    with pytest.raises(Rollback), transaction.atomic():
        assert serial(next_number(doc_type="RO", dealer=dealer)) == 2
        raise Rollback
    # then the next document gets that same number: no gap
    with transaction.atomic():
        assert serial(next_number(doc_type="RO", dealer=dealer)) == 2
    assert NumberSequence.objects.get(dealer=dealer, doc_type="RO").last_value == 2


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_first_number_leaves_no_counter_behind():
    # given a dealer with no counter yet (real transactions, no test wrapper)
    dealer = make_dealer()
    # when the very first number is taken in a transaction that rolls back
    with pytest.raises(Rollback), transaction.atomic():
        next_number(doc_type="RO", dealer=dealer)
        raise Rollback
    # then the counter row itself is gone and the series starts at 1 again
    assert not NumberSequence.objects.exists()
    with transaction.atomic():
        assert serial(next_number(doc_type="RO", dealer=dealer)) == 1


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_it_refuses():
    # given autocommit mode (no transaction around the call)
    dealer = make_dealer()
    assert not connection.in_atomic_block
    # when a number is asked for, then it refuses: a number could not be given back
    with pytest.raises(RuntimeError, match="inside the transaction"):
        next_number(doc_type="RO", dealer=dealer)
    assert not NumberSequence.objects.exists()


THREADS = 8
PER_THREAD = 25
ROLLBACK_EVERY = 7


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_get_unique_gap_free_numbers():
    # given a committed dealer and 8 threads, each with its own database connection
    dealer = make_dealer()
    committed: list[int] = []
    rolled_back: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def writer():
        try:
            start.wait(timeout=30)
            attempt = 0
            mine = 0
            while mine < PER_THREAD:
                attempt += 1
                try:
                    with transaction.atomic():
                        value = serial(next_number(doc_type="RO", dealer=dealer))
                        if attempt % ROLLBACK_EVERY == 0:
                            raise Rollback  # e.g. the document failed validation
                except Rollback:
                    with lock:
                        rolled_back.append(value)
                    continue
                with lock:
                    committed.append(value)
                mine += 1
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    # when each thread takes 25 numbers in its own transactions, rolling every 7th back
    threads = [threading.Thread(target=writer) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    # then no thread failed, and the committed numbers are exactly 1..200
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    total = THREADS * PER_THREAD
    assert len(committed) == total
    assert sorted(committed) == list(range(1, total + 1))
    # the rolled-back attempts really happened and their numbers were reused, not skipped
    assert len(rolled_back) >= THREADS * (PER_THREAD // ROLLBACK_EVERY)
    assert set(rolled_back) <= set(committed)
    assert NumberSequence.objects.get(dealer=dealer, doc_type="RO").last_value == total
