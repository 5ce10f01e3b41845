"""Demo appointments (issue 7 item 10): for each demo dealer its booking rules, a closed
day, the bays it lacks (a paint booth everywhere, a body bay where there was none, a
general bay more for the smaller stores: about nine bays of every kind each), technicians
with skills and shifts (the ``<code>-tech`` login and five more, ``<code>-tech2``..
``-tech6``), advisors (``<code>-sa`` and ``<code>-sa2``), an absence, and five weeks of
bookings: the last three (most checked in — many linked to the demo repair orders opened
that day — some no-shows and cancellations) and the next two (requested and confirmed).

Bookings are placed on the same day grids the slot finder uses (``slots.DayGrid``), so the
demo never overbooks an advisor, a bay or a technician. Written in bulk; idempotent: the
set-up is completed on every run (nothing that exists is added again), the bookings of a
dealer that has bookings are left alone."""

import datetime
import random
import time
from collections import defaultdict
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from aftersales.appointments.choices import BookingEventKind, BookingStatus, Channel, ServiceType
from aftersales.billing.demo import DEMO_DEALERS, _explicit_times, _number

B = BookingStatus
PAST_DAYS = 21
AHEAD_DAYS = 14
# extra technicians: (suffix, name, bay kinds, categories, shift)
# (suffix, name, bay kinds, categories, shift, lunch break: staggered, so the workshop
# never stops at noon)
TECHNICIANS = [
    (
        "tech",
        "全能技师",
        ["general", "quick", "alignment"],
        [],
        ("08:30", "17:30"),
        ("12:00", "13:00"),
    ),
    (
        "tech2",
        "快修技师",
        ["quick", "general"],
        ["maintenance", "diagnosis"],
        ("08:30", "17:30"),
        ("11:30", "12:30"),
    ),
    (
        "tech3",
        "底盘技师",
        ["general", "alignment"],
        ["chassis", "engine", "diagnosis"],
        ("08:30", "17:30"),
        ("12:00", "13:00"),
    ),
    (
        "tech4",
        "新能源技师",
        ["ev", "general"],
        ["hv", "electrical", "diagnosis", "maintenance"],
        ("09:00", "18:00"),
        ("12:30", "13:30"),
    ),
    ("tech5", "钣喷技师", ["body", "paint"], ["body"], ("08:30", "17:30"), ("12:00", "13:00")),
    (
        "tech6",
        "晚班机修",
        ["general", "quick"],
        ["engine", "electrical", "maintenance"],
        ("12:00", "18:00"),
        (None, None),
    ),
]
CHANNELS = [
    (Channel.PHONE, 30),
    (Channel.WECHAT, 22),
    (Channel.APP, 14),
    (Channel.DCRC, 12),
    (Channel.REMINDER, 10),
    (Channel.WEB, 7),
    (Channel.WALK_IN, 5),
]
SERVICES = [
    (ServiceType.MAINTENANCE, 50),
    (ServiceType.REPAIR, 25),
    (ServiceType.WARRANTY, 10),
    (ServiceType.INSPECTION, 8),
    (ServiceType.CAMPAIGN, 7),
]
CONCERNS = {
    "maintenance": ["常规保养", "1万公里保养", "换机油机滤", "保养并检查刹车片"],
    "repair": ["空调不制冷", "刹车有异响", "方向盘抖动", "仪表盘故障灯亮"],
    "warranty": ["车窗升降异常", "中控屏黑屏", "变速箱顿挫"],
    "inspection": ["年检前检测", "长途前检查"],
    "campaign": ["召回：更换燃油泵", "服务活动：免费检测"],
}
# bays added where the dealer lacks them: (code, name, kind); each is added when the dealer
# has no bay of its kind, or while it has fewer than BAYS_WANTED bays
EXTRA_BAYS = [
    ("B09", "喷漆房", "paint"),
    ("B10", "钣金工位", "body"),
    ("B11", "机修 11 号工位", "general"),
]
BAYS_WANTED = 9
PER_DAY = {"BJ01": 12, "SH01": 11, "SZ01": 9, "GZ01": 9, "HZ01": 8, "TJ01": 7}


def _pick(rng, weighted):
    return rng.choices([v for v, _w in weighted], weights=[w for _v, w in weighted])[0]


def _bays(dealer):
    """The bays the dealer lacks (see ``EXTRA_BAYS``)."""
    from aftersales.workorders.models import WorkshopBay

    have = list(WorkshopBay.objects.filter(dealer=dealer).values_list("code", "kind"))
    codes, kinds = {code for code, _kind in have}, {kind for _code, kind in have}
    new = []
    for code, name, kind in EXTRA_BAYS:
        if code in codes or (kind in kinds and len(have) + len(new) >= BAYS_WANTED):
            continue
        new.append(WorkshopBay(dealer=dealer, code=code, name=name, kind=kind))
        kinds.add(kind)
    WorkshopBay.objects.bulk_create(new)
    return len(new)


def _staff(dealer, now) -> int:
    """The dealer's capacity set-up: bays, users, technicians, advisors, settings, a closed
    day, an absence. Returns the number of bays added."""
    from aftersales.appointments.models import (
        Absence,
        Advisor,
        ClosedDay,
        ScheduleSettings,
        Technician,
    )
    from aftersales.org.demo import DEMO_PASSWORD
    from aftersales.org.models import RoleAssignment, User

    added_bays = _bays(dealer)
    code = dealer.code.lower()
    sample = User.objects.filter(username=f"{code}-tech").first()
    password = sample.password if sample else None
    city = (sample.display_name or "")[:2] if sample else ""
    wanted = [(f"{code}-{suffix}", name, "technician") for suffix, name, *_rest in TECHNICIANS]
    wanted.append((f"{code}-sa2", "服务顾问二", "service_advisor"))
    existing = {u.username: u for u in User.objects.filter(username__in=[w[0] for w in wanted])}
    new = []
    for n, (username, name, _role) in enumerate(wanted):
        if username not in existing:
            new.append(
                User(
                    username=username,
                    display_name=f"{city}{name}",
                    first_name=f"{city}{name}",
                    mobile=f"139{dealer.pk % 10000:04d}{n:04d}",
                    dealer=dealer,
                    password=password or make_password(DEMO_PASSWORD),
                    email=f"{username}@demo.invalid",
                )
            )
    User.objects.bulk_create(new)
    users = {u.username: u for u in User.objects.filter(username__in=[w[0] for w in wanted])}
    have = set(RoleAssignment.objects.filter(dealer=dealer).values_list("user_id", "role"))
    RoleAssignment.objects.bulk_create(
        RoleAssignment(user=users[u], role=role, dealer=dealer)
        for u, _n, role in wanted
        if (users[u].pk, role) not in have
    )
    ScheduleSettings.objects.get_or_create(dealer=dealer)
    Technician.objects.bulk_create(
        [
            Technician(
                dealer=dealer,
                user=users[f"{code}-{suffix}"],
                bay_kinds=kinds,
                categories=cats,
                shift_start=start,
                shift_end=end,
                break_start=pause[0],
                break_end=pause[1],
            )
            for suffix, _name, kinds, cats, (start, end), pause in TECHNICIANS
        ],
        ignore_conflicts=True,
    )
    advisors = [User.objects.get(username=f"{code}-sa"), users[f"{code}-sa2"]]
    Advisor.objects.bulk_create(
        [
            Advisor(
                dealer=dealer,
                user=advisors[0],
                reception_start="08:30",
                reception_end="17:30",
                break_start="12:30",
                break_end="13:15",
            ),
            Advisor(
                dealer=dealer,
                user=advisors[1],
                reception_start="08:30",
                reception_end="12:30",
                weekdays=[0, 1, 2, 3, 4],
            ),
        ],
        ignore_conflicts=True,
    )
    # relative to today: added once (a run on a later day would add another)
    today = timezone.localdate(now)
    if dealer.code == "BJ01" and not ClosedDay.objects.filter(dealer=dealer).exists():
        ClosedDay.objects.create(
            dealer=dealer, day=today + datetime.timedelta(days=9), reason="年度盘点"
        )
    if not Absence.objects.filter(dealer=dealer).exists():
        start = timezone.make_aware(
            datetime.datetime.combine(today + datetime.timedelta(days=3), datetime.time(8, 30))
        )
        Absence.objects.create(
            dealer=dealer,
            user=users[f"{code}-tech3"],
            starts_at=start,
            ends_at=start + datetime.timedelta(hours=9, minutes=30),
            reason="培训",
        )
    return added_bays


def _load_dealer(dealer, rng, now) -> dict:
    from aftersales.appointments.capacity import days_capacity, job_needs
    from aftersales.appointments.models import Booking, BookingEvent, BookingOperation
    from aftersales.appointments.slots import DayGrid, steps_for
    from aftersales.crm.models import Vehicle
    from aftersales.workorders.models import LabourOperation, RepairOrder

    today = timezone.localdate(now)
    first, last = (
        today - datetime.timedelta(days=PAST_DAYS),
        today + datetime.timedelta(days=AHEAD_DAYS),
    )
    grids = {day: DayGrid(cap) for day, cap in days_capacity(dealer, first, last).items()}
    vehicles = list(
        Vehicle.objects.filter(repair_orders__dealer=dealer)
        .distinct()
        .select_related("owner")
        .order_by("pk")[:400]
    )
    ops = {op.code: op for op in LabourOperation.objects.filter(active=True)}
    by_category = defaultdict(list)
    for op in ops.values():
        by_category[op.category].append(op)
    # demo repair orders checked in on past days: about half of them were booked
    orders = list(
        RepairOrder.objects.filter(
            dealer=dealer,
            checked_in_at__gte=timezone.make_aware(
                datetime.datetime.combine(first, datetime.time.min)
            ),
            checked_in_at__lt=now,
        )
        .select_related("vehicle", "customer")
        .prefetch_related("lines__operation")
        .order_by("checked_in_at")
    )
    linked_vehicle_day = set()
    rows, ops_rows = [], []

    def place(day, desired_index, steps, bay_kind, categories):
        grid = grids.get(day)
        if grid is None or not grid.size:
            return None
        bays = grid.fitting_bays(bay_kind)
        techs = grid.skilled(bay_kind, categories)
        for offset in range(grid.size):
            for index in (desired_index + offset, desired_index - offset):
                if 0 <= index <= grid.size - steps:
                    free = grid.free_at(index, steps, bays, techs)
                    if free.technicians:
                        ids = free.advisors[0], free.bays[0], free.technicians[0]
                        grid.occupy(*ids, grid.at(index), grid.at(index + free.steps))
                        return index, free.steps, *ids
        return None

    def add(
        day,
        desired_index,
        *,
        vehicle,
        customer,
        service,
        channel,
        status,
        operations,
        concern,
        order=None,
    ):
        bay_kind, categories = job_needs(operations, service)
        hours = (
            sum((op.default_hours for op in operations), Decimal(0))
            or {
                "maintenance": Decimal("1.0"),
                "repair": Decimal("2.0"),
                "warranty": Decimal("2.0"),
                "inspection": Decimal("0.5"),
                "campaign": Decimal("1.0"),
            }[service]
        )
        grid = grids.get(day)
        if grid is None or not grid.size or not grid.fitting_bays(bay_kind):
            return None
        steps = steps_for(hours, grid.step)
        if steps > grid.size:
            return None
        found = place(day, desired_index, steps, bay_kind, categories)
        if found is None:
            return None
        index, taken, advisor, bay, tech = found
        starts_at = grid.at(index)
        lead = datetime.timedelta(hours=rng.choice([2, 6, 20, 30, 50, 75, 120, 170]))
        created = min(starts_at - lead, now - datetime.timedelta(minutes=5))
        booking = Booking(
            dealer=dealer,
            status=status,
            channel=channel,
            service_type=service,
            vehicle=vehicle,
            customer=customer,
            contact_name=(customer.name if customer else "")[:50],
            contact_mobile=customer.mobile if customer else "",
            concern=concern,
            bay_kind=bay_kind,
            hours=hours,
            starts_at=starts_at,
            ends_at=grid.at(index + taken),
            advisor_id=advisor,
            bay_id=bay,
            technician_id=tech,
            repair_order=order,
            created_at=created,
            updated_at=created,
            confirmed_at=created + datetime.timedelta(minutes=20)
            if status != B.REQUESTED
            else None,
            checked_in_at=order.checked_in_at if order is not None else None,
            reminded_at=starts_at - datetime.timedelta(hours=22)
            if starts_at < now and status != B.CANCELLED
            else None,
        )
        if status == B.NO_SHOW:
            booking.no_show_at = starts_at + datetime.timedelta(minutes=35)
        if status == B.CANCELLED:
            booking.cancelled_at = min(starts_at - datetime.timedelta(hours=3), now)
            booking.cancel_reason = rng.choice(
                ["客户临时有事", "客户改约其他时间", "车辆已在他处维修"]
            )
        rows.append(booking)
        ops_rows.append([(op, op.default_hours) for op in operations])
        return booking

    for order in orders:
        day = timezone.localdate(order.checked_in_at)
        if rng.random() > 0.55 or day not in grids or (order.vehicle_id, day) in linked_vehicle_day:
            continue
        labour = [line.operation for line in order.lines.all() if line.operation_id][:3]
        grid = grids[day]
        if not grid.size:
            continue
        desired = max(0, int(grid.index(order.checked_in_at)))
        service = (
            "maintenance"
            if order.kind == "maintenance"
            else "warranty"
            if order.kind == "warranty"
            else "repair"
        )
        made = add(
            day,
            desired,
            vehicle=order.vehicle,
            customer=order.customer,
            service=service,
            channel=_pick(rng, CHANNELS),
            status=B.CHECKED_IN,
            operations=labour,
            concern=order.concern[:200],
            order=order,
        )
        if made is not None:
            linked_vehicle_day.add((order.vehicle_id, day))
    day = first
    while day <= last:
        grid = grids[day]
        if grid.size and vehicles:
            count = PER_DAY.get(dealer.code, 8) + rng.randint(-2, 2)
            if day < today:
                count //= 8  # most past visits are the linked repair orders above
            for _n in range(count):
                vehicle = rng.choice(vehicles)
                service = _pick(rng, SERVICES)
                pool = by_category.get(
                    "maintenance"
                    if service == "maintenance"
                    else rng.choice(["chassis", "engine", "electrical", "diagnosis"]),
                    [],
                )
                operations = (
                    rng.sample(pool, k=min(len(pool), rng.choice([0, 1, 1, 2]))) if pool else []
                )
                if day < today:
                    status = rng.choices([B.NO_SHOW, B.CANCELLED], weights=[55, 45])[0]
                elif day == today:
                    status = B.CONFIRMED
                else:
                    status = rng.choices(
                        [B.CONFIRMED, B.REQUESTED, B.CANCELLED], weights=[70, 22, 8]
                    )[0]
                desired = rng.randint(0, max(0, grid.size - 4))
                add(
                    day,
                    desired,
                    vehicle=vehicle,
                    customer=vehicle.owner,
                    service=service,
                    channel=_pick(rng, CHANNELS),
                    status=status,
                    operations=operations,
                    concern=rng.choice(CONCERNS[service]),
                )
        day += datetime.timedelta(days=1)
    rows_unsorted = list(rows)
    rows.sort(key=lambda b: (b.created_at, b.starts_at))
    _number(dealer, "AP", rows, when=lambda b: b.created_at)
    with _explicit_times((Booking, "created_at"), (Booking, "updated_at"), (BookingEvent, "at")):
        Booking.objects.bulk_create(rows)
        saved = {b.number: b for b in Booking.objects.filter(dealer=dealer)}
        events, operations = [], []
        planned = {id(b): ops for b, ops in zip(rows_unsorted, ops_rows, strict=True)}
        for booking in rows:
            pk = saved[booking.number].pk
            for op, hours in planned[id(booking)]:
                operations.append(BookingOperation(booking_id=pk, operation=op, hours=hours))
            when = timezone.localtime(booking.starts_at).strftime("%Y-%m-%d %H:%M")
            events.append(
                BookingEvent(
                    booking_id=pk,
                    kind=BookingEventKind.CREATED,
                    actor_label="DEMO",
                    message=f"预约 {when}",
                    to_starts_at=booking.starts_at,
                    at=booking.created_at,
                )
            )
            if booking.confirmed_at:
                events.append(
                    BookingEvent(
                        booking_id=pk,
                        kind=BookingEventKind.CONFIRMED,
                        actor_label="DEMO",
                        message="已向客户确认",
                        at=booking.confirmed_at,
                    )
                )
            if booking.status == B.CHECKED_IN:
                events.append(
                    BookingEvent(
                        booking_id=pk,
                        kind=BookingEventKind.CHECKED_IN,
                        actor_label="DEMO",
                        message=f"已到店登记：工单 {booking.repair_order.number}",
                        at=booking.checked_in_at,
                        data={"repair_order": booking.repair_order_id},
                    )
                )
            elif booking.status == B.NO_SHOW:
                events.append(
                    BookingEvent(
                        booking_id=pk,
                        kind=BookingEventKind.NO_SHOW,
                        actor_label="DEMO",
                        message="客户未到店",
                        at=booking.no_show_at,
                    )
                )
            elif booking.status == B.CANCELLED:
                events.append(
                    BookingEvent(
                        booking_id=pk,
                        kind=BookingEventKind.CANCELLED,
                        actor_label="DEMO",
                        message=booking.cancel_reason,
                        at=booking.cancelled_at,
                    )
                )
        BookingOperation.objects.bulk_create(operations, ignore_conflicts=True)
        BookingEvent.objects.bulk_create(events)
    counts = defaultdict(int)
    for booking in rows:
        counts[str(booking.status)] += 1
    return {"bookings": len(rows), **counts}


def load_workshop_team_demo(stdout=None, now=None) -> dict:
    """The demo dealers' workshop set-up (``_staff``: bays, technicians with their skills
    and shifts, the second advisor), loaded before the repair orders so that their jobs
    go to the technician and bay a foreman would pick. Idempotent."""
    from aftersales.org.models import Dealer

    started = time.perf_counter()
    now = now or timezone.now()
    bays = 0
    for dealer in Dealer.objects.filter(code__in=DEMO_DEALERS).order_by("code"):
        with transaction.atomic():
            bays += _staff(dealer, now)
    result = {"bays": bays, "seconds": round(time.perf_counter() - started, 2)}
    if stdout is not None:
        stdout.write(f"workshop team demo: {result}\n")
    return result


def load_appointments_demo(stdout=None, now=None) -> dict:
    """Load the demo appointments (after the repair orders). Idempotent: the capacity
    set-up is completed for every demo dealer; bookings are made for those without any
    (``dealers`` counts them)."""
    from aftersales.appointments.models import Booking
    from aftersales.org.models import Dealer

    started = time.perf_counter()
    now = now or timezone.now()
    result = defaultdict(int)
    result["dealers"] = 0
    result["bays"] = 0
    for dealer in Dealer.objects.filter(code__in=DEMO_DEALERS).order_by("code"):
        with transaction.atomic():
            result["bays"] += _staff(dealer, now)
            if Booking.objects.filter(dealer=dealer).exists():
                continue
            rng = random.Random(f"appointments-demo-{dealer.code}")
            counts = _load_dealer(dealer, rng, now)
        result["dealers"] += 1
        for key, value in counts.items():
            result[key] += value
    result = dict(result)
    result["seconds"] = round(time.perf_counter() - started, 2)
    if stdout is not None:
        stdout.write(f"appointments demo: {result}\n")
    return result
