"""The demo reminders: four months of the real monthly run, worked by the DCRC in every
state, returns matched, a campaign and a recall; idempotent."""

import pytest
from django.db.models import Count

from aftersales.reminders.choices import ReminderKind, ReminderStatus
from aftersales.reminders.demo import load_reminders_demo
from aftersales.reminders.models import Reminder


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The whole demo, loaded once for this module inside a transaction rolled back after."""
    from django.db import transaction

    from aftersales.core.management.commands.demo_data import DEMO_STEPS

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        results = {step.__module__: step() for step in DEMO_STEPS}
        yield {"result": results["aftersales.reminders.demo"], "again": load_reminders_demo()}
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def loaded(demo, db):
    return demo


def test_the_demo_has_a_months_reminders_in_every_state_and_a_returned_share(loaded):
    assert loaded["again"]["added"] == 0
    assert loaded["result"]["reminders"] == Reminder.objects.count() > 1000
    by_status = dict(Reminder.objects.values_list("status").annotate(n=Count("id")))
    assert set(by_status) == set(ReminderStatus.values)
    assert set(Reminder.objects.values_list("kind", flat=True)) == set(ReminderKind.values)
    returned = Reminder.objects.filter(returned_order__isnull=False)
    assert loaded["result"]["returned"] == returned.count() > 50
    # every worked reminder was called by an agent of its own dealer, at a time in its month
    worked = Reminder.objects.exclude(status=ReminderStatus.OPEN).select_related("assigned_to")
    for reminder in worked[:200]:
        assert reminder.assigned_to.role_assignments.filter(dealer=reminder.dealer_id).exists()
        assert reminder.last_call_at.date() >= reminder.month
    for reminder in Reminder.objects.filter(status=ReminderStatus.BOOKED):
        assert reminder.booking.vehicle_id == reminder.vehicle_id
    assert loaded["result"]["seconds"] < 30  # (no benchmark: under a second here)
