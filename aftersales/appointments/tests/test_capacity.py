"""The workshop's capacity on a day: opening hours, closed days, shifts cut by absences,
skills."""

import datetime

import pytest
from django.utils import timezone

from aftersales.appointments.capacity import bay_fits, day_capacity, days_capacity, job_needs
from aftersales.appointments.models import Absence, ClosedDay, ScheduleSettings
from aftersales.appointments.testing import make_capacity, make_technician
from aftersales.org.models import Dealer
from aftersales.workorders.testing import make_operation

pytestmark = pytest.mark.django_db

# a Thursday, and the National Day holiday of 2026
THURSDAY = datetime.date(2026, 12, 3)
NATIONAL_DAY = datetime.date(2026, 10, 1)


@pytest.fixture
def dealer(demo_org):
    return Dealer.objects.get(code="BJ01")


def at(day, hour, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def test_an_open_day_has_the_opening_hours_and_everyone_on_shift(dealer):
    made = make_capacity(dealer, technicians=2, advisors=1)

    capacity = day_capacity(dealer, THURSDAY)

    assert capacity.is_open and capacity.closed_reason == ""
    assert (capacity.opens, capacity.closes) == (at(THURSDAY, 8, 30), at(THURSDAY, 18))
    assert {p.user_id for p in capacity.technicians} == {t.user_id for t in made["technicians"]}
    assert len(capacity.technicians) == 2 and len(capacity.advisors) == 1
    assert capacity.bay_kinds() == {"general", "quick"}


def test_closed_days_weekdays_and_public_holidays_close_the_dealer(dealer):
    make_capacity(dealer)
    ClosedDay.objects.create(dealer=dealer, day=THURSDAY, reason="盘点")
    settings = ScheduleSettings.objects.get(dealer=dealer)
    settings.open_weekdays = [0, 1, 2, 3, 4, 5]  # closed on Sundays
    settings.closed_on_public_holidays = True
    settings.save()

    days = days_capacity(dealer, THURSDAY, THURSDAY + datetime.timedelta(days=3))
    holiday = day_capacity(dealer, NATIONAL_DAY)

    assert days[THURSDAY].closed_reason == "盘点" and not days[THURSDAY].technicians
    assert days[THURSDAY + datetime.timedelta(days=1)].is_open
    sunday = THURSDAY + datetime.timedelta(days=3)
    assert sunday.weekday() == 6 and not days[sunday].is_open
    assert not holiday.is_open and holiday.closed_reason


def test_an_absence_cuts_the_shift_and_a_shift_is_cut_to_the_opening_hours(dealer):
    make_capacity(dealer, technicians=0, advisors=0)
    tech = make_technician(dealer, start=datetime.time(7), end=datetime.time(20))
    Absence.objects.create(
        dealer=dealer, user=tech.user, starts_at=at(THURSDAY, 12), ends_at=at(THURSDAY, 13, 30)
    )

    (person,) = day_capacity(dealer, THURSDAY).technicians

    assert person.windows == (
        (at(THURSDAY, 8, 30), at(THURSDAY, 12)),
        (at(THURSDAY, 13, 30), at(THURSDAY, 18)),
    )


def test_skills_and_bay_kinds_decide_who_may_do_a_job(dealer):
    make_capacity(dealer, technicians=0, advisors=0)
    make_technician(dealer, bay_kinds=["general"], categories=["maintenance", "chassis"])

    (person,) = day_capacity(dealer, THURSDAY).technicians

    assert person.can_do("quick", {"maintenance"})  # quick service fits a general bay
    assert person.can_do("general", {"chassis"})
    assert not person.can_do("general", {"electrical"})
    assert not person.can_do("alignment", {"chassis"})
    assert bay_fits("quick", "general") and not bay_fits("general", "quick")


def test_job_needs_takes_the_most_demanding_bay_of_its_operations():
    oil = make_operation(name="换机油", category="maintenance")
    align = make_operation(name="四轮定位", category="chassis", bay_kind="alignment")

    assert job_needs([oil], "maintenance") == ("quick", {"maintenance"})
    assert job_needs([oil, align], "repair") == ("alignment", {"maintenance", "chassis"})
    assert job_needs([], "repair") == ("general", {"diagnosis"})
