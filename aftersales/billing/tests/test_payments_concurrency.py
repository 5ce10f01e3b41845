"""A double-click or a retry that arrives while the first request still runs: four
threads post the same payment with one key at once; one payment is recorded."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from aftersales.billing.models import Invoice, Payment
from aftersales.billing.payments import payment_take
from aftersales.billing.testing import make_invoice


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("same_user", [True, False])
def test_concurrent_payments_with_one_key_are_recorded_once(demo_org, same_user):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL (SQLite serialises whole transactions)")
    dealer = demo_org["bj01-cashier"].dealer
    users = [demo_org["bj01-cashier"], demo_org["bj01-svcmgr"]]
    invoice = make_invoice(dealer=dealer, gross="500.00")
    barrier = threading.Barrier(4)
    results, errors = [], []

    def attempt(n):
        actor = users[0] if same_user else users[n % 2]
        try:
            barrier.wait()
            payment = payment_take(
                actor=actor, invoice=invoice.pk, method="card", amount="120.00", key="same"
            )
            results.append(payment.pk)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # a concurrent retry either waits and gets the first payment, or (same user, first
    # still running) is told "in progress"; none records a second payment
    assert all(getattr(e, "code", "") == "in_progress" for e in errors), errors
    assert len(set(results)) == 1
    assert Payment.objects.filter(invoice=invoice).count() == 1
    assert Invoice.objects.get(pk=invoice.pk).paid_amount == Decimal("120.00")


@pytest.mark.django_db(transaction=True)
def test_concurrent_different_payments_never_overpay(demo_org):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL")
    cashier = demo_org["bj01-cashier"]
    invoice = make_invoice(dealer=cashier.dealer, gross="300.00")
    barrier = threading.Barrier(4)
    errors = []

    def attempt(n):
        try:
            barrier.wait()
            payment_take(
                actor=cashier, invoice=invoice.pk, method="card", amount="100.00", key=f"k{n}"
            )
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [getattr(e, "code", "") for e in errors] == ["over_due"]
    assert Invoice.objects.get(pk=invoice.pk).paid_amount == Decimal("300.00")
    assert Payment.objects.filter(invoice=invoice).count() == 3
