"""Calendar arithmetic of the reminder rules and the annual-inspection schedule.

The monthly run computes every date in SQL (``monthly``); the functions here are the same
formulas in Python, for the documentation, the tests and the screens that explain a date.
"""

import calendar
import datetime
from dataclasses import dataclass


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` calendar months later; the month's last day when the target
    month is shorter (31 August + 6 months = 28 February, or 29 in a leap year)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def next_month(day: datetime.date) -> datetime.date:
    """The first day of the month after ``day``'s."""
    return add_months(month_start(day), 1)


def month_index(day: datetime.date) -> int:
    return day.year * 12 + day.month - 1


def parse_month(text: str) -> datetime.date:
    """``YYYY-MM`` → the month's first day; ``ValueError`` otherwise."""
    year, _, month = text.partition("-")
    if not (len(year) == 4 and year.isdigit() and month.isdigit() and 1 <= int(month) <= 12):
        raise ValueError(text)
    return datetime.date(int(year), int(month), 1)


@dataclass(frozen=True)
class Step:
    """Inspections due every ``every`` months from month ``first`` to ``last`` (months
    after registration, both included; ``None``: no end)."""

    first: int
    last: int | None
    every: int
    on_site: bool


# Private small passenger cars (non-operating, vans excluded), rules in force since
# 1 October 2022: a mark is due in years 2, 4, 6, 8 and 10 after registration, applied for
# online except in years 6 and 10, which need an on-site test; then every year to year 15
# (on site), then every six months.
DEFAULT_INSPECTION_STEPS = (
    Step(24, 48, 24, False),  # years 2 and 4: online
    Step(72, 72, 12, True),  # year 6: on site
    Step(96, 96, 12, False),  # year 8: online
    Step(120, 180, 12, True),  # years 10 to 15: every year, on site
    Step(186, None, 6, True),  # after year 15: every six months, on site
)


def inspection_steps(vehicle_class: str | None = None) -> tuple[Step, ...]:
    """The schedule in force: the OEM's rows for the class if it has any, else the
    default."""
    from aftersales.reminders.choices import VehicleClass
    from aftersales.reminders.models import InspectionStep

    rows = InspectionStep.objects.filter(
        vehicle_class=vehicle_class or VehicleClass.PRIVATE_SMALL_PASSENGER
    ).order_by("from_month")
    steps = tuple(Step(r.from_month, r.until_month, r.every_months, r.on_site) for r in rows)
    return steps or DEFAULT_INSPECTION_STEPS


def inspection_due(
    registered_on: datetime.date, month: datetime.date, steps=DEFAULT_INSPECTION_STEPS
) -> tuple[bool, bool]:
    """(is an inspection due in ``month``, does it need an on-site test). The inspection
    mark is valid to the end of the registration month, so the due date is the last day
    of the month."""
    k = month_index(month) - month_index(registered_on)
    for step in steps:
        if k >= step.first and (step.last is None or k <= step.last):
            if (k - step.first) % step.every == 0:
                return True, step.on_site
    return False, False
