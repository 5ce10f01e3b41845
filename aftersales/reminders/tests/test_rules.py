"""Each reminder rule through the monthly run, with dates computed by hand (month ends,
leap days, the distance estimate and its default, the inspection schedule)."""

import pytest

from aftersales.crm.choices import VisitKind
from aftersales.reminders.choices import ReminderKind as K
from aftersales.reminders.choices import TaskKind, Trigger
from aftersales.reminders.models import InspectionStep, ReminderSettings
from aftersales.reminders.monthly import reminders_for_month
from aftersales.reminders.schedule import add_months, inspection_due
from aftersales.reminders.tests.conftest import D, car, reminders, set_intervals

pytestmark = pytest.mark.django_db


def test_add_months_clamps_to_the_month_end():
    assert add_months(D(2024, 8, 31), 6) == D(2025, 2, 28)
    assert add_months(D(2023, 8, 31), 6) == D(2024, 2, 29)  # leap year
    assert add_months(D(2024, 2, 29), 12) == D(2025, 2, 28)
    assert add_months(D(2024, 1, 15), 13) == D(2025, 2, 15)


# ---------------------------------------------------------------- first service


def test_first_service_by_time_on_a_month_end(bj):
    # Given a car invoiced on 31 August 2024, first service after 6 months or 5,000 km,
    # driven 10 km a day (1,230 km on 31 December)
    vehicle = car(bj, sold=D(2024, 8, 31), readings=[(D(2024, 8, 31), 10), (D(2024, 12, 31), 1230)])
    set_intervals(vehicle, first_service_months=6, first_service_km=5000)

    # When February 2025 is run
    reminders_for_month(D(2025, 2, 1))

    # Then the first service is due on 28 February (31 August + 6 months, clamped), by time
    [first] = reminders(vehicle, K.FIRST_SERVICE)
    assert (first.month, first.due_date, first.trigger) == (D(2025, 2, 1), D(2025, 2, 28), "time")
    assert first.due_km == 5000 and first.dealer == bj and first.customer == vehicle.owner
    # and it counts as returned until 45 days after the due date
    assert first.return_by == D(2025, 4, 14)


def test_first_service_on_a_leap_day(bj):
    # Given a car invoiced on 31 August 2023, slow
    vehicle = car(bj, sold=D(2023, 8, 31), readings=[(D(2023, 8, 31), 10), (D(2023, 12, 31), 1230)])
    set_intervals(vehicle, first_service_months=6, first_service_km=5000)

    # When February 2024 is run
    reminders_for_month(D(2024, 2, 1))

    # Then it is due on 29 February 2024
    [first] = reminders(vehicle, K.FIRST_SERVICE)
    assert first.due_date == D(2024, 2, 29)


def test_first_service_by_distance(bj):
    # Given a car sold on 1 November 2024 that drove 3,000 km in 50 days (60 km a day)
    vehicle = car(bj, sold=D(2024, 11, 1), readings=[(D(2024, 11, 1), 20), (D(2024, 12, 21), 3020)])
    set_intervals(vehicle, first_service_months=6, first_service_km=5000)

    # When January 2025 is run
    reminders_for_month(D(2025, 1, 1))

    # Then 5,000 km comes first: (5,000 - 3,020) / 60 = 33 days after 21 December
    [first] = reminders(vehicle, K.FIRST_SERVICE)
    assert (first.due_date, first.trigger) == (D(2025, 1, 23), Trigger.KM)


def test_thin_history_uses_the_default_distance_per_day(bj):
    # Given a car with one reading only (15 km on its sale day) and one with two readings
    # 10 days apart (too short a span for an estimate), default 40 km a day
    one = car(bj, sold=D(2024, 12, 1), readings=[(D(2024, 12, 1), 15)])
    short = car(bj, sold=D(2024, 12, 1), readings=[(D(2024, 12, 1), 15), (D(2024, 12, 11), 2015)])
    set_intervals(one, first_service_months=6, first_service_km=5000)
    assert ReminderSettings.current().default_km_per_day == 40

    # When April 2025 is run
    reminders_for_month(D(2025, 4, 1))

    # Then the first one is due when 5,000 km are reached at 40 a day: ceil(4,985 / 40) =
    # 125 days after 1 December = 5 April (before the 6 months, 1 June)
    [first] = reminders(one, K.FIRST_SERVICE)
    assert (first.due_date, first.trigger) == (D(2025, 4, 5), Trigger.KM)
    # the second from its 2,015 km on 11 December: ceil(2,985 / 40) = 75 days → 24 February
    # (not the 200 km a day of its two readings): nothing in April
    assert reminders(short, K.FIRST_SERVICE) == []
    reminders_for_month(D(2025, 2, 1))
    [second] = reminders(short, K.FIRST_SERVICE)
    assert second.due_date == D(2025, 2, 24)


def test_distance_estimate_is_a_slope_over_all_readings(bj):
    # Given readings 0, 1,000 (day 50, a low outlier), 3,000 (day 100): the least-squares
    # slope is 30 km a day (not 20, as the first pair says, nor 40, as the last pair says)
    vehicle = car(
        bj,
        sold=D(2024, 9, 1),
        readings=[(D(2024, 9, 1), 0), (D(2024, 10, 21), 1000), (D(2024, 12, 10), 3000)],
    )
    set_intervals(vehicle, first_service_months=12, first_service_km=5000)

    # When January 2025 is run
    reminders_for_month(D(2025, 1, 1))

    # Then 5,000 km come ceil(2,000 / 30) = 67 days after 10 December: 15 February
    assert reminders(vehicle, K.FIRST_SERVICE) == []
    reminders_for_month(D(2025, 2, 1))
    [first] = reminders(vehicle, K.FIRST_SERVICE)
    assert (first.due_date, first.trigger) == (D(2025, 2, 15), Trigger.KM)


# ---------------------------------------------------------------- maintenance


def test_maintenance_by_time_from_the_last_visit(bj, tj):
    # Given a car last maintained on 31 August 2024 at another dealer (TJ01), every 6 months
    vehicle = car(
        bj,
        sold=D(2022, 3, 1),
        readings=[(D(2024, 8, 31), 12000), (D(2024, 12, 31), 13220)],
        visits=[(D(2024, 8, 31), 12000, tj, VisitKind.MAINTENANCE)],
    )
    set_intervals(vehicle, service_interval_months=6, service_interval_km=10000)

    # When February 2025 is run
    reminders_for_month(D(2025, 2, 1))

    # Then it is due on 28 February by time, at the dealer of the last visit; no first service
    [due] = reminders(vehicle, K.MAINTENANCE)
    assert (due.due_date, due.trigger, due.due_km) == (D(2025, 2, 28), Trigger.TIME, 22000)
    assert due.dealer == tj
    assert reminders(vehicle, K.FIRST_SERVICE) == []


def test_maintenance_by_distance(bj):
    # Given a car maintained at 20,000 km on 15 October 2024 that drives 100 km a day
    vehicle = car(
        bj,
        sold=D(2022, 3, 1),
        readings=[(D(2024, 10, 15), 20000), (D(2024, 12, 14), 26000)],
        visits=[(D(2024, 10, 15), 20000, bj, VisitKind.MAINTENANCE)],
    )
    set_intervals(vehicle, service_interval_months=12, service_interval_km=10000)

    # When January 2025 is run
    reminders_for_month(D(2025, 1, 1))

    # Then 30,000 km come (30,000 - 26,000) / 100 = 40 days after 14 December: 23 January
    [due] = reminders(vehicle, K.MAINTENANCE)
    assert (due.due_date, due.trigger, due.due_km) == (D(2025, 1, 23), Trigger.KM, 30000)


def test_a_lapsed_owner_is_reminded_again_each_interval(bj):
    # Given a car last maintained on 10 February 2023, due 10 February 2024, not come since
    vehicle = car(
        bj,
        sold=D(2021, 3, 1),
        readings=[(D(2023, 2, 10), 30000), (D(2023, 6, 10), 31200)],
        visits=[(D(2023, 2, 10), 30000, bj, VisitKind.REPAIR), (D(2023, 2, 10), 30000, bj, None)],
    )
    set_intervals(vehicle, service_interval_months=12, service_interval_km=10000)

    # When February and March 2025 are run
    reminders_for_month(D(2025, 2, 1))
    reminders_for_month(D(2025, 3, 1))

    # Then February has a reminder on the 10th (12 months after the missed date), March none
    [due] = reminders(vehicle, K.MAINTENANCE)
    assert (due.month, due.due_date, due.trigger) == (D(2025, 2, 1), D(2025, 2, 10), "time")


# ---------------------------------------------------------------- warranty, insurance, birthday


def test_warranty_expiry_by_date_or_distance(bj):
    # Given one slow car whose warranty ends on 15 March 2025 (100,000 km) and one at
    # 99,000 km on 28 February driving 100 km a day
    slow = car(
        bj,
        sold=D(2022, 3, 15),
        readings=[(D(2024, 11, 1), 50000), (D(2025, 1, 1), 50600)],
        warranty_end=D(2025, 3, 15),
        warranty_km=100000,
    )
    fast = car(
        bj,
        sold=D(2022, 6, 1),
        readings=[(D(2025, 1, 28), 95900), (D(2025, 2, 28), 99000)],
        warranty_end=D(2025, 6, 1),
        warranty_km=100000,
    )

    # When March 2025 is run
    reminders_for_month(D(2025, 3, 1))

    # Then the slow one is due on 15 March by time, the fast one when it reaches
    # 100,000 km: 1,000 / 100 = 10 days after 28 February (readings of the month itself
    # are not used: a run for a past month sees what was known before it)
    [by_time] = reminders(slow, K.WARRANTY)
    assert (by_time.due_date, by_time.trigger) == (D(2025, 3, 15), Trigger.TIME)
    [by_km] = reminders(fast, K.WARRANTY)
    assert (by_km.due_date, by_km.trigger) == (D(2025, 3, 10), Trigger.KM)


def test_insurance_renewal_every_year_on_its_anniversary(bj):
    # Given a policy that expired on 29 February 2024 and one expiring in June
    leap = car(bj, sold=D(2023, 3, 1), insurance_expiry=D(2024, 2, 29))
    june = car(bj, sold=D(2023, 3, 1), insurance_expiry=D(2025, 6, 30))

    # When February 2025 and February 2028 are run
    reminders_for_month(D(2025, 2, 1))
    reminders_for_month(D(2028, 2, 1))

    # Then the renewal is due on 28 February 2025 and 29 February 2028; June's not at all
    assert [r.due_date for r in reminders(leap, K.INSURANCE)] == [D(2025, 2, 28), D(2028, 2, 29)]
    assert reminders(june, K.INSURANCE) == []


def test_birthday_once_per_owner_and_on_the_28th_in_common_years(bj):
    # Given an owner born on 29 February 1988 with two cars
    first = car(bj, sold=D(2023, 3, 1), birthday=D(1988, 2, 29))
    second = car(bj, sold=D(2024, 3, 1), owner=first.owner)

    # When February 2025 is run
    reminders_for_month(D(2025, 2, 1))

    # Then one birthday reminder, on the first car, on 28 February
    [birthday] = reminders(kind=K.BIRTHDAY)
    assert (birthday.vehicle, birthday.due_date) == (first, D(2025, 2, 28))
    assert reminders(second, K.BIRTHDAY) == []


def test_registered_owners_get_a_follow_up_call_the_others_a_reminder_call(bj):
    # Given two owners with birthdays in May, one registered on the WeChat account
    registered = car(bj, sold=D(2023, 3, 1), birthday=D(1990, 5, 3), registered=True)
    unregistered = car(bj, sold=D(2023, 3, 1), birthday=D(1990, 5, 4))

    # When May 2025 is run
    reminders_for_month(D(2025, 5, 1))

    # Then the DCRC's task is a follow-up for the registered owner, a reminder otherwise
    [a] = reminders(registered, K.BIRTHDAY)
    [b] = reminders(unregistered, K.BIRTHDAY)
    assert (a.registered, a.task_kind) == (True, TaskKind.PHONE_FOLLOW_UP)
    assert (b.registered, b.task_kind) == (False, TaskKind.PHONE_REMINDER)


# ---------------------------------------------------------------- annual inspection


@pytest.mark.parametrize(
    "month, due, on_site",
    [
        (D(2020, 5, 1), False, False),  # year 1
        (D(2021, 5, 1), True, False),  # year 2: online
        (D(2022, 5, 1), False, False),  # year 3
        (D(2023, 5, 1), True, False),  # year 4: online
        (D(2025, 5, 1), True, True),  # year 6: on site
        (D(2027, 5, 1), True, False),  # year 8: online
        (D(2028, 5, 1), False, False),  # year 9
        (D(2029, 5, 1), True, True),  # year 10: on site
        (D(2030, 5, 1), True, True),  # year 11: every year now
        (D(2034, 5, 1), True, True),  # year 15
        (D(2034, 11, 1), True, True),  # year 15½: every six months after 15
        (D(2035, 2, 1), False, False),
        (D(2035, 5, 1), True, True),
        (D(2025, 6, 1), False, False),  # not the registration month
    ],
)
def test_inspection_schedule(month, due, on_site):
    assert inspection_due(D(2019, 5, 20), month) == (due, on_site)


def test_inspection_reminders_follow_the_schedule(bj):
    # Given a car registered (sold) on 20 May 2019
    vehicle = car(bj, sold=D(2019, 5, 20))

    # When May 2021, May 2022 and May 2025 are run
    for month in (D(2021, 5, 1), D(2022, 5, 1), D(2025, 5, 1)):
        reminders_for_month(month)

    # Then the mark is due at the end of May 2021 (online) and May 2025 (on site)
    rows = reminders(vehicle, K.INSPECTION)
    assert [(r.due_date, r.on_site) for r in rows] == [
        (D(2021, 5, 31), False),
        (D(2025, 5, 31), True),
    ]


def test_the_oem_can_change_the_inspection_schedule(bj):
    # Given a schedule of its own: every year from year 1, on site
    InspectionStep.objects.create(from_month=12, until_month=None, every_months=12, on_site=True)
    vehicle = car(bj, sold=D(2019, 5, 20))

    # When May 2022 (year 3, not on the default schedule) is run
    reminders_for_month(D(2022, 5, 1))

    # Then the inspection is due
    [row] = reminders(vehicle, K.INSPECTION)
    assert (row.due_date, row.on_site) == (D(2022, 5, 31), True)
