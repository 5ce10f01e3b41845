"""The slot finder: a start is offered only when an advisor's reception, a fitting bay and
a skilled technician on shift are all free for the whole job, within the opening hours of
an open day and not in the past; the least-loaded ones are suggested; and booking every
offered start one after another never overbooks anyone."""

import datetime
import random
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aftersales.appointments.bookings import booking_create
from aftersales.appointments.models import Absence, Booking, ClosedDay, ScheduleSettings
from aftersales.appointments.slots import find_slots, needs_for
from aftersales.appointments.testing import make_capacity, make_technician
from aftersales.appointments.tests.conftest import DAY, NOW, at
from aftersales.crm.testing import make_customer, make_vehicle
from aftersales.workorders.testing import make_operation

pytestmark = pytest.mark.django_db
NEXT_DAY = DAY + datetime.timedelta(days=1)


def starts(dealer, *, bay_kind="general", categories=(), hours=1, first=DAY, last=DAY, **kw):
    kw.setdefault("now", NOW)
    found = find_slots(
        dealer=dealer,
        first=first,
        last=last,
        bay_kind=bay_kind,
        categories=categories,
        hours=Decimal(str(hours)),
        **kw,
    )
    return [timezone.localtime(s.starts_at).strftime("%H:%M") for s in found]


def book(actor, dealer, when, operation, **extra):
    vehicle = make_vehicle(owner=make_customer(dealer=dealer), dealer=dealer)
    return booking_create(
        actor=actor,
        dealer=dealer,
        vehicle=vehicle,
        service_type="repair",
        channel="phone",
        starts_at=when,
        operations=[operation],
        now=NOW,
        **extra,
    )


def offers(dealer, operation):
    """The needs of a repair of ``operation`` and the starts offered for it on DAY."""
    needs = needs_for(operations=[operation], service_type="repair")
    offered = find_slots(
        dealer=dealer,
        first=DAY,
        last=DAY,
        bay_kind=needs.bay_kind,
        categories=needs.categories,
        hours=needs.hours,
        now=NOW,
    )
    return needs, offered


@pytest.fixture
def engine_job():
    return make_operation(code="APENG", name="发动机检查", hours="1.0", category="engine")


def test_an_empty_workshop_offers_every_grid_start_the_job_fits_before_closing(bj01):
    make_capacity(bj01, bays=("general",), technicians=1, advisors=1)

    offered = starts(bj01, hours=1)

    # 08:30-18:00 on a 15-minute grid, a 1-hour job ends by 18:00
    assert offered[0] == "08:30" and offered[-1] == "17:00" and len(offered) == 35
    assert starts(bj01, hours=Decimal("9.5")) == ["08:30"]
    assert starts(bj01, hours=10) == []  # longer than the opening day


@pytest.mark.parametrize(
    "bays, technicians, advisors, blocked",
    [
        # the only bay is taken 09:00-10:00: no 1-hour job may overlap it
        (("general",), 2, 2, ["08:30", "08:45", "09:00", "09:15", "09:30", "09:45"]),
        # the only technician is taken 09:00-10:00
        (("general", "general"), 1, 2, ["08:30", "08:45", "09:00", "09:15", "09:30", "09:45"]),
        # the only advisor receives a car 09:00-09:15: just that start is gone
        (("general", "general"), 2, 1, ["09:00"]),
    ],
    ids=["bay", "technician", "advisor"],
)
def test_a_busy_bay_technician_or_advisor_is_not_offered(
    bj01, sa, engine_job, bays, technicians, advisors, blocked
):
    make_capacity(bj01, bays=bays, technicians=technicians, advisors=advisors)
    before = starts(bj01)
    book(sa, bj01, at(9), engine_job)

    after = starts(bj01)

    assert sorted(set(before) - set(after)) == blocked
    assert "10:00" in after


def test_the_least_loaded_bay_technician_and_advisor_are_suggested(bj01, sa, engine_job):
    made = make_capacity(bj01, bays=("general", "general"), technicians=2, advisors=2)
    first = book(sa, bj01, at(9), engine_job)

    slot = find_slots(
        dealer=bj01,
        first=DAY,
        last=DAY,
        bay_kind="general",
        hours=1,
        now=NOW,
        limit=None,
    )
    at_two = next(s for s in slot if s.starts_at == at(14))

    assert at_two.bay_id != first.bay_id and at_two.technician_id != first.technician_id
    assert at_two.advisor_id != first.advisor_id and at_two.load == 0
    assert {at_two.bay_id, first.bay_id} == {b.pk for b in made["bays"]}
    # at 09:00 the free ones are the only ones, whatever their load
    nine = find_slots(dealer=bj01, first=DAY, last=DAY, bay_kind="general", hours=1, now=NOW)
    assert at(9) in [s.starts_at for s in nine]


def test_a_quick_service_takes_the_quick_bay_first_and_a_general_bay_when_it_is_busy(bj01, sa):
    made = make_capacity(bj01, bays=("general", "quick"), technicians=3, advisors=3)
    general, quick = made["bays"]
    oil = make_operation(code="APOIL2", name="更换机油", hours="1.0", category="maintenance")

    first = book(sa, bj01, at(9), oil)
    second = book(sa, bj01, at(9), oil)

    assert (first.bay_id, second.bay_id) == (quick.pk, general.pk)
    assert "09:00" not in starts(bj01, bay_kind="quick", categories=["maintenance"])
    # a general job never goes to a quick-service bay
    assert "09:00" not in starts(bj01, bay_kind="general")
    # a bay kind the dealer does not have offers nothing
    assert starts(bj01, bay_kind="alignment") == []


def test_skills_decide_which_technician_can_take_the_job(bj01):
    make_capacity(bj01, bays=("general", "body"), technicians=0, advisors=1)
    make_technician(bj01, bay_kinds=["general"], categories=["maintenance"])

    assert starts(bj01, bay_kind="general", categories=["engine"]) == []
    assert starts(bj01, bay_kind="body", categories=["body"]) == []
    assert starts(bj01, bay_kind="general", categories=["maintenance"])

    make_technician(bj01, bay_kinds=["body", "paint"])  # no categories: any category
    assert starts(bj01, bay_kind="body", categories=["body"])


def test_shifts_and_absences_limit_the_starts(bj01):
    make_capacity(bj01, bays=("general",), technicians=0, advisors=1)
    late = make_technician(bj01, start=datetime.time(13, 0), end=datetime.time(18, 0))

    assert starts(bj01)[0] == "13:00"

    Absence.objects.create(
        dealer=bj01, user=late.user, starts_at=at(14), ends_at=at(15, 30), reason="培训"
    )
    offered = starts(bj01)
    assert offered[:2] == ["13:00", "15:30"] and "14:00" not in offered
    # the next day the technician is back for the whole shift
    assert starts(bj01, first=NEXT_DAY, last=NEXT_DAY)[:2] == ["13:00", "13:15"]


def test_closed_days_and_weekdays_offer_nothing(bj01):
    make_capacity(bj01, bays=("general",), technicians=1, advisors=1)
    ClosedDay.objects.create(dealer=bj01, day=DAY, reason="盘点")

    offered = find_slots(
        dealer=bj01, first=DAY, last=NEXT_DAY, bay_kind="general", hours=1, now=NOW
    )
    assert {timezone.localdate(s.starts_at) for s in offered} == {NEXT_DAY}

    ScheduleSettings.objects.filter(dealer=bj01).update(
        open_weekdays=[d for d in range(7) if d != NEXT_DAY.weekday()]
    )
    assert starts(bj01, first=DAY, last=NEXT_DAY) == []


def test_the_past_is_never_offered(bj01):
    make_capacity(bj01, bays=("general",), technicians=1, advisors=1)

    assert starts(bj01, now=at(10, 7))[0] == "10:15"
    assert starts(bj01, now=at(10, 15))[0] == "10:15"
    assert starts(bj01, now=at(17, 1)) == []


def test_a_reschedule_may_use_the_time_its_own_booking_holds(bj01, sa, engine_job):
    make_capacity(bj01, bays=("general",), technicians=1, advisors=1)
    booking = book(sa, bj01, at(9), engine_job)

    assert "09:30" not in starts(bj01)
    assert "09:30" in starts(bj01, exclude_booking=booking)


def test_the_search_reads_a_fixed_number_of_queries_whatever_the_range(bj01, sa, engine_job):
    make_capacity(bj01, bays=("general", "quick"), technicians=2, advisors=1)
    book(sa, bj01, at(9), engine_job)

    counts = []
    for days in (0, 13):
        with CaptureQueriesContext(connection) as queries:
            starts(bj01, last=DAY + datetime.timedelta(days=days))
        counts.append(len(queries))

    assert counts[0] == counts[1] <= 8


def test_booking_every_offered_start_never_overbooks_anyone(bj01, sa):
    # given a small workshop and a mix of jobs
    make_capacity(bj01, bays=("general", "quick", "body"), technicians=0, advisors=2)
    make_technician(bj01, bay_kinds=["general", "quick"], categories=["maintenance", "engine"])
    make_technician(bj01, bay_kinds=["quick"], start=datetime.time(12), end=datetime.time(18))
    make_technician(bj01, bay_kinds=["body", "general"])
    jobs = [
        make_operation(code="APQ1", hours="0.5", category="maintenance"),
        make_operation(code="APG2", hours="2.0", category="engine"),
        make_operation(code="APB3", hours="3.0", category="body"),
    ]
    rng = random.Random(7)
    # when the first offered start of a random job is booked until nothing is offered
    for _ in range(60):
        op = rng.choice(jobs)
        _needs, offered = offers(bj01, op)
        if not offered:
            continue
        book(sa, bj01, rng.choice(offered).starts_at, op)
    # then no bay or technician holds two jobs at once and no advisor two receptions
    rows = list(
        Booking.objects.filter(dealer=bj01).values_list(
            "advisor_id", "bay_id", "technician_id", "starts_at", "ends_at"
        )
    )
    assert len(rows) > 10
    reception = datetime.timedelta(minutes=15)
    for n, (adv, bay, tech, start, end) in enumerate(rows):
        for adv2, bay2, tech2, start2, end2 in rows[n + 1 :]:
            overlap = start < end2 and start2 < end
            assert not (overlap and (bay == bay2 or tech == tech2))
            assert not (adv == adv2 and start < start2 + reception and start2 < start + reception)


def test_needs_come_from_the_operations_the_package_and_the_vehicle(bj01):
    from aftersales.workorders.models import LabourTime, MaintenancePackage, PackageOperation

    vehicle = make_vehicle(owner=make_customer(dealer=bj01), dealer=bj01)
    oil = make_operation(code="APN1", hours="0.8", category="maintenance")
    brakes = make_operation(code="APN2", hours="1.5", category="chassis")
    LabourTime.objects.create(
        operation=brakes,
        vehicle_model=vehicle.variant.vehicle_model,
        variant=vehicle.variant,
        hours=Decimal("2.0"),
    )
    package = MaintenancePackage.objects.create(code="APPKG", name="1万公里保养")
    PackageOperation.objects.create(package=package, operation=oil)

    bare = needs_for(service_type="inspection")
    with_package = needs_for(
        operations=[oil, brakes], service_type="maintenance", package=package, vehicle=vehicle
    )

    assert (bare.bay_kind, bare.hours, bare.operations) == ("general", Decimal("0.5"), ())
    # the package's oil change is not counted twice; brakes take the variant's 2.0 h
    assert with_package.hours == Decimal("2.8")
    assert with_package.bay_kind == "general"
    assert with_package.categories == {"maintenance", "chassis"}
    assert [(op.code, h) for op, h in with_package.operations] == [
        ("APN1", Decimal("0.8")),
        ("APN2", Decimal("2.0")),
    ]


LUNCH = (datetime.time(12), datetime.time(13))


def test_a_job_may_run_over_the_technicians_lunch_and_ends_that_much_later(bj01, sa):
    make_capacity(bj01, bays=("general",), technicians=0, advisors=1)
    make_technician(bj01, rest=LUNCH)
    two_hours = make_operation(code="APLUN2", hours="2.0", category="engine")

    found = find_slots(
        dealer=bj01, first=DAY, last=DAY, bay_kind="general", hours=Decimal(2), now=NOW
    )
    spans = {
        timezone.localtime(s.starts_at).strftime("%H:%M"): timezone.localtime(s.ends_at).strftime(
            "%H:%M"
        )
        for s in found
    }

    # 10:00 ends at noon; 11:00 works an hour, pauses for lunch, ends at 14:00
    assert spans["10:00"] == "12:00" and spans["11:00"] == "14:00" and spans["11:45"] == "14:45"
    # nothing starts during the lunch; after it, two hours are two hours again
    assert "12:00" not in spans and "12:45" not in spans and spans["13:00"] == "15:00"
    booked = book(sa, bj01, at(11), two_hours)
    assert (booked.starts_at, booked.ends_at) == (at(11), at(14))
    # the bay and the technician are held over the lunch: no hour fits from 10:00 to 14:00
    after = starts(bj01, hours=1)
    assert "10:00" in after and "14:00" in after
    assert [t for t in after if "10:00" < t < "14:00"] == []


def test_the_technician_without_a_break_in_the_way_comes_first(bj01, sa):
    make_capacity(bj01, bays=("general", "general"), technicians=0, advisors=2)
    lunching = make_technician(bj01, rest=LUNCH)
    other = make_technician(bj01, rest=(datetime.time(13), datetime.time(14)))
    two_hours = make_operation(code="APLUN3", hours="2.0", category="engine")

    first = book(sa, bj01, at(11), two_hours)
    second = book(sa, bj01, at(11), two_hours)

    # the first goes to the technician whose lunch comes after the job (ends 13:00), the
    # second runs over the other's lunch; a third finds no one
    assert (first.technician_id, first.ends_at) == (other.user_id, at(13))
    assert (second.technician_id, second.ends_at) == (lunching.user_id, at(14))
    assert "11:00" not in starts(bj01, hours=2)


def test_with_breaks_every_offered_slot_is_taken_as_offered_and_nobody_works_over_lunch(bj01, sa):
    from aftersales.appointments.capacity import day_capacity
    from aftersales.appointments.slots import day_grids, steps_for

    make_capacity(bj01, bays=("general", "general", "quick"), technicians=0, advisors=2)
    make_technician(bj01, bay_kinds=["general", "quick"], rest=LUNCH)
    make_technician(
        bj01, bay_kinds=["general"], rest=(datetime.time(11, 30), datetime.time(12, 15))
    )
    make_technician(bj01, bay_kinds=["quick"], start=datetime.time(10), end=datetime.time(16))
    jobs = [
        make_operation(code="APR1", hours="0.5", category="maintenance"),
        make_operation(code="APR2", hours="1.5", category="engine"),
        make_operation(code="APR3", hours="3.0", category="engine"),
    ]
    rng = random.Random(11)
    for _ in range(40):
        op = rng.choice(jobs)
        needs, offered = offers(bj01, op)
        # the grid's own check agrees with every offer: same start, same end
        grid = day_grids(bj01, DAY, DAY)[DAY]
        steps = steps_for(needs.hours, grid.step)
        for slot in offered:
            index = round(grid.index(slot.starts_at))
            free = grid.free_at(
                index,
                steps,
                grid.fitting_bays(needs.bay_kind),
                grid.skilled(needs.bay_kind, needs.categories),
            )
            assert free.technicians and grid.at(index + free.steps) == slot.ends_at
        if not offered:
            continue
        slot = rng.choice(offered)
        booked = book(sa, bj01, slot.starts_at, op)
        assert booked.ends_at == slot.ends_at

    rows = list(Booking.objects.filter(dealer=bj01).select_related("technician"))
    assert len(rows) > 8
    people = {p.user_id: p for p in day_capacity(bj01, DAY).technicians}
    crossing = 0
    for n, row in enumerate(rows):
        for other in rows[n + 1 :]:
            overlap = row.starts_at < other.ends_at and other.starts_at < row.ends_at
            assert not (
                overlap and (row.bay_id == other.bay_id or row.technician_id == other.technician_id)
            )
        # the work time (the span less the lunch inside it) is the job's hours on the grid
        rest = people[row.technician_id].rest
        paused = datetime.timedelta(0)
        if rest and row.starts_at < rest[0] and rest[1] < row.ends_at:
            paused, crossing = rest[1] - rest[0], crossing + 1
        worked = row.ends_at - row.starts_at - paused
        assert worked == datetime.timedelta(minutes=15 * steps_for(row.hours, 15))
        assert not (rest and rest[0] <= row.starts_at < rest[1])
    assert crossing
