"""Test helpers of the appointments app: a dealer's workshop capacity in one call.

``make_capacity(dealer)`` gives the dealer bays of each kind asked for, technicians with
skills and shifts and advisors with reception hours (every day, 08:30-18:00 unless told),
as new users holding the technician / service-advisor role at that dealer."""

import datetime
import itertools

from aftersales.workorders.choices import BayKind, OperationCategory

_serial = itertools.count(1)

ALL_KINDS = [k.value for k in BayKind]
ALL_CATEGORIES = [c.value for c in OperationCategory]


def make_user(dealer, role, name=""):
    from aftersales.org.models import RoleAssignment, User

    n = next(_serial)
    user = User.objects.create(
        username=f"{dealer.code.lower()}-{role[:4]}-{n}",
        first_name=name or f"{role[:4]}{n}",
        dealer=dealer,
    )
    RoleAssignment.objects.create(user=user, role=role, dealer=dealer)
    return user


def make_technician(
    dealer,
    *,
    bay_kinds=None,
    categories=(),
    weekdays=None,
    start=datetime.time(8, 30),
    end=datetime.time(18, 0),
    rest=(None, None),
    user=None,
):
    """A technician (a new user unless ``user``) with a shift and ``rest``, the daily
    break as (start, end) times."""
    from aftersales.appointments.models import Technician

    return Technician.objects.create(
        dealer=dealer,
        user=user or make_user(dealer, "technician"),
        bay_kinds=list(bay_kinds if bay_kinds is not None else ALL_KINDS),
        categories=list(categories),
        weekdays=list(weekdays if weekdays is not None else range(7)),
        shift_start=start,
        shift_end=end,
        break_start=rest[0],
        break_end=rest[1],
    )


def make_advisor(
    dealer, *, weekdays=None, start=datetime.time(8, 30), end=datetime.time(18, 0), user=None
):
    from aftersales.appointments.models import Advisor

    return Advisor.objects.create(
        dealer=dealer,
        user=user or make_user(dealer, "service_advisor"),
        weekdays=list(weekdays if weekdays is not None else range(7)),
        reception_start=start,
        reception_end=end,
    )


def make_capacity(
    dealer,
    *,
    bays=(BayKind.GENERAL, BayKind.QUICK),
    technicians=2,
    advisors=1,
    opens=datetime.time(8, 30),
    closes=datetime.time(18, 0),
):
    """Bays (one per kind in ``bays``, repeat a kind for more), ``technicians`` all-round
    technicians and ``advisors`` advisors at ``dealer``, open every day from ``opens`` to
    ``closes``. Returns ``{"bays": [...], "technicians": [...], "advisors": [...]}``."""
    from aftersales.appointments.models import ScheduleSettings
    from aftersales.workorders.models import ServiceSettings, WorkshopBay

    ServiceSettings.objects.update_or_create(
        dealer=dealer, defaults={"workday_start": opens, "workday_end": closes}
    )
    ScheduleSettings.objects.get_or_create(dealer=dealer)
    made_bays = []
    for index, kind in enumerate(bays, start=1):
        bay, _ = WorkshopBay.objects.get_or_create(
            dealer=dealer,
            code=f"{kind[:2].upper()}{index:02d}",
            defaults={"name": f"{index}号工位", "kind": kind},
        )
        made_bays.append(bay)
    techs = [make_technician(dealer, start=opens, end=closes) for _ in range(technicians)]
    sas = [make_advisor(dealer, start=opens, end=closes) for _ in range(advisors)]
    return {"bays": made_bays, "technicians": techs, "advisors": sas}


def make_booking(dealer, *, actor=None, vehicle=None, service_type="maintenance", **extra):
    """A booking of ``dealer`` at the first free slot from tomorrow (the dealer gets a small
    workshop first when it has no technician)."""
    from django.utils import timezone

    from aftersales.appointments.bookings import booking_create
    from aftersales.appointments.models import Technician
    from aftersales.appointments.slots import find_slots, needs_for
    from aftersales.crm.testing import make_customer, make_vehicle

    if not Technician.objects.filter(dealer=dealer).exists():
        make_capacity(dealer)
    if vehicle is None:
        vehicle = make_vehicle(owner=make_customer(dealer=dealer), dealer=dealer)
    needs = needs_for(service_type=service_type)
    first = timezone.localdate() + datetime.timedelta(days=1)
    slot = find_slots(
        dealer=dealer,
        first=first,
        last=first + datetime.timedelta(days=14),
        bay_kind=needs.bay_kind,
        categories=needs.categories,
        hours=needs.hours,
        limit=1,
    )[0]
    extra.setdefault("channel", "phone")
    return booking_create(
        actor=actor,
        dealer=dealer,
        vehicle=vehicle,
        service_type=service_type,
        starts_at=slot.starts_at,
        **extra,
    )


def make_day_plan(dealer, day=None):
    """A built day plan of ``dealer`` (tomorrow by default) with one booking on it."""
    from django.utils import timezone

    from aftersales.appointments.dayplan import day_plan_build

    booking = make_booking(dealer)
    day = day or timezone.localdate(booking.starts_at)
    return day_plan_build(actor=None, dealer=dealer, day=day, time_limit=1.0)
