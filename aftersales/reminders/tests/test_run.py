"""The monthly run as a whole: idempotent, per dealer, resumable; its command, job and
returns."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from aftersales.crm.choices import VisitKind
from aftersales.reminders import tasks
from aftersales.reminders.choices import ReminderKind as K
from aftersales.reminders.models import Reminder, ReminderRun
from aftersales.reminders.monthly import reminders_for_month
from aftersales.reminders.returns import returns_match
from aftersales.reminders.tests.conftest import D, car, reminders
from aftersales.workorders.choices import ROStatus
from aftersales.workorders.models import RepairOrder
from aftersales.workorders.testing import make_repair_order

pytestmark = pytest.mark.django_db


def keys():
    return set(Reminder.objects.values_list("vehicle_id", "kind", "month", "due_date", "dealer_id"))


@pytest.fixture
def fleet(bj, tj):
    """Cars of two dealers, each with reminders in February 2025."""
    return [
        car(bj, sold=D(2024, 8, 31), birthday=D(1980, 2, 3), insurance_expiry=D(2024, 2, 10)),
        car(bj, sold=D(2023, 2, 14), birthday=D(1981, 2, 4)),
        car(tj, sold=D(2024, 8, 15), birthday=D(1982, 2, 5), insurance_expiry=D(2024, 2, 11)),
        car(tj, sold=D(2019, 2, 1)),
        # sold by BJ01, serviced last at TJ01: TJ01's
        car(
            bj,
            sold=D(2023, 8, 20),
            visits=[(D(2024, 2, 20), 9000, tj, VisitKind.MAINTENANCE)],
            readings=[(D(2024, 2, 20), 9000), (D(2024, 12, 20), 12040)],
        ),
    ]


def test_rerun_adds_nothing_and_a_crashed_run_is_completed(fleet):
    # Given February's run done once
    first = reminders_for_month(D(2025, 2, 1))
    written = keys()
    assert sum(first.values()) == len(written) > 6

    # When it runs again
    again = reminders_for_month(D(2025, 2, 1))

    # Then nothing is added
    assert sum(again.values()) == 0 and keys() == written

    # When some rows are lost (a run that stopped half-way) and it runs once more
    Reminder.objects.filter(kind__in=[K.BIRTHDAY, K.INSURANCE]).delete()
    resumed = reminders_for_month(D(2025, 2, 1))

    # Then exactly the missing rows come back
    assert keys() == written
    assert resumed == {**dict.fromkeys(again, 0), K.BIRTHDAY: 3, K.INSURANCE: 2}
    assert ReminderRun.objects.filter(finished_at__isnull=False, error="").count() == 3


def test_run_per_dealer_writes_that_dealers_rows_only(fleet, bj, tj):
    # Given February run for BJ01 only
    reminders_for_month(D(2025, 2, 1), bj)

    # Then only BJ01's vehicles have reminders
    assert {r.dealer_id for r in reminders()} == {bj.pk}
    assert {r.vehicle_id for r in reminders()} <= {fleet[0].pk, fleet[1].pk}

    # When TJ01 is run too
    reminders_for_month(D(2025, 2, 1), tj)
    by_dealer = keys()

    # Then the car last serviced at TJ01 is TJ01's (maintained 20 February 2024, every 12
    # months or 10,000 km at 10 km a day: due 20 February 2025 by time)
    [served] = reminders(fleet[4], K.MAINTENANCE)
    assert (served.dealer, served.due_date) == (tj, D(2025, 2, 20))
    # and the rows are the same as one run for every dealer
    Reminder.objects.all().delete()
    reminders_for_month(D(2025, 2, 1))
    assert keys() == by_dealer
    assert {r.dealer_id for r in reminders()} == {bj.pk, tj.pk}


def test_command_runs_a_month_for_a_dealer(fleet, bj):
    out, err = StringIO(), StringIO()
    call_command("reminders_run", "--month", "2025-02", "--dealer", "bj01", stdout=out, stderr=err)
    assert "2025-02 (BJ01)" in out.getvalue() and "added" in out.getvalue()
    assert "8/8 campaign" in err.getvalue()
    assert {r.dealer_id for r in reminders()} == {bj.pk}


def test_command_refuses_a_bad_month():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("reminders_run", "--month", "2025-13")


def test_scheduled_job_runs_only_on_the_last_day_of_the_month(fleet, monkeypatch):
    # Given 27 February 2025: not the last day
    monkeypatch.setattr(timezone, "localdate", lambda *a: D(2025, 2, 27))
    assert tasks.monthly_run() is None
    assert not Reminder.objects.exists()

    # When it is 31 January: February's reminders are written (in-process, no broker)
    monkeypatch.setattr(timezone, "localdate", lambda *a: D(2025, 1, 31))
    added = tasks.monthly_run()
    assert sum(added.values()) > 0
    assert {r.month for r in reminders()} == {D(2025, 2, 1)}


def test_per_dealer_job(fleet, tj):
    tasks.run_for_dealer("2025-02", tj.pk)
    assert {r.dealer_id for r in reminders()} == {tj.pk}


def test_the_per_dealer_jobs_together_write_what_one_run_writes(fleet, dealers):
    def rows():
        return sorted(
            Reminder.objects.values_list("vehicle_id", "kind", "due_date", "dealer_id", "due_km")
        )

    reminders_for_month(D(2025, 2, 1))
    whole = rows()
    Reminder.objects.all().delete()
    for dealer in dealers.values():
        tasks.run_for_dealer("2025-02", dealer.pk)
    assert whole and rows() == whole


# ---------------------------------------------------------------- returns


def _opened(order, day):
    moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10, 0)))
    RepairOrder.objects.filter(pk=order.pk).update(created_at=moment)
    return moment


def test_returns_are_matched_within_the_window(bj, tj):
    # Given four cars with a birthday reminder due on 10 February 2025 (returned until
    # 27 March)
    cars = [car(bj, sold=D(2023, 3, 1), birthday=D(1980, 2, 10)) for _ in range(4)]
    reminders_for_month(D(2025, 2, 1))
    assert {r.return_by for r in reminders(kind=K.BIRTHDAY)} == {D(2025, 3, 27)}
    # the first comes back at another dealer on 27 March, the second on 28 March (too
    # late), the third's order was cancelled, the fourth came in January (before the month)
    inside = make_repair_order(dealer=tj, vehicle=cars[0], status=ROStatus.CHECKED_IN)
    opened = _opened(inside, D(2025, 3, 27))
    _opened(make_repair_order(dealer=bj, vehicle=cars[1]), D(2025, 3, 28))
    _opened(make_repair_order(dealer=bj, vehicle=cars[2], status=ROStatus.CANCELLED), D(2025, 3, 1))
    _opened(make_repair_order(dealer=bj, vehicle=cars[3]), D(2025, 1, 30))

    # When returns are matched on 30 March, and again
    matched = returns_match(today=D(2025, 3, 30))
    again = returns_match(today=D(2025, 3, 30))

    # Then only the first counts as returned, once
    assert (matched, again) == (1, 0)
    returned = Reminder.objects.get(returned_order__isnull=False)
    assert (returned.vehicle, returned.returned_order, returned.returned_at) == (
        cars[0],
        inside,
        opened,
    )


def test_maintenance_visit_kind_repair_is_not_a_service_base(bj):
    # Given a car sold 1 March 2023 with only a repair visit: its first service point
    # (6 months, 1 September 2023) is the maintenance base, due 12 months later
    vehicle = car(
        bj,
        sold=D(2023, 3, 1),
        readings=[(D(2023, 3, 1), 0), (D(2023, 7, 1), 1220)],
        visits=[(D(2024, 1, 5), 3000, bj, VisitKind.REPAIR)],
    )
    reminders_for_month(D(2024, 9, 1))
    [due] = reminders(vehicle, K.MAINTENANCE)
    assert due.due_date == D(2024, 9, 1)
