"""Demo repair orders: 60 per demo dealer across every status, spread over the last 60
days, with the lines, customer decisions, dispatch, clock entries, checks, delivery
checks, follow-up calls, comebacks and a timeline event for every step that the status
implies. Promised times sit around now, so the boards show late and on-time cars.

Written with ``bulk_create`` (like an import: no services but the stock ledger's),
deterministic per dealer (``random.Random`` seeded with the dealer code) and idempotent: a
dealer whose demo orders exist is left alone. Numbers follow the format of
``core.numbering.next_number`` (``RO-<dealer>-<year>-<6 digits>``) and the dealer's ``RO``
sequence is advanced past them, so the next order opened by hand gets the next free number.

Part lines of orders estimated but not started are reserved in stock, those of cars in
the workshop or ready are issued to them, through the ledger's services (``_book_parts``),
so the demo stock of ``parts.demo`` keeps adding up; handed-over orders are not booked.
"""

import contextlib
import datetime
import random
import time
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from aftersales.workorders.choices import (
    BEFORE_WORK,
    Approval,
    ApprovalChannel,
    CallOutcome,
    CheckKind,
    ClockReason,
    EventKind,
    FollowUpStatus,
    FuelLevel,
    JobStatus,
    LineKind,
    OldPartsDisposition,
    PaymentMethod,
    PayType,
    ROKind,
    ROStatus,
    SignatureKind,
    WarrantyStatus,
)
from aftersales.workorders.delivery import DELIVERY_LABELS

S = ROStatus
DOC_TYPE = "RO"
DEMO_DEALERS = ["BJ01", "TJ01", "SH01", "HZ01", "GZ01", "SZ01"]
HISTORY_DAYS = 60
SAMPLE = 80  # cars drawn per dealer for its 60 orders
M = datetime.timedelta(minutes=1)
H = datetime.timedelta(hours=1)
D = datetime.timedelta(days=1)

# how many orders of each status a dealer gets (60 in all)
STATUS_MIX = [
    (S.CLOSED, 18),
    (S.DELIVERED, 6),
    (S.READY, 3),
    (S.QC_PASSED, 2),
    (S.QC_FAILED, 1),
    (S.REWORK, 2),
    (S.SELF_CHECKED, 2),
    (S.IN_PROGRESS, 5),
    (S.WAITING_PARTS, 2),
    (S.PAUSED, 1),
    (S.APPROVED, 3),
    (S.AWAITING_APPROVAL, 2),
    (S.ESTIMATED, 2),
    (S.DIAGNOSING, 2),
    (S.CHECKED_IN, 3),
    (S.DRAFT, 2),
    (S.CANCELLED, 4),
]
# the path through the table to each status (rework detours are added per order)
PATH = [
    S.DRAFT,
    S.CHECKED_IN,
    S.ESTIMATED,
    S.AWAITING_APPROVAL,
    S.APPROVED,
    S.IN_PROGRESS,
    S.SELF_CHECKED,
    S.QC_PASSED,
    S.READY,
    S.DELIVERED,
    S.CLOSED,
]
STARTED = {
    S.IN_PROGRESS,
    S.WAITING_PARTS,
    S.PAUSED,
    S.SELF_CHECKED,
    S.QC_PASSED,
    S.QC_FAILED,
    S.REWORK,
    S.READY,
    S.DELIVERED,
    S.CLOSED,
}
WORK_DONE = {S.SELF_CHECKED, S.QC_PASSED, S.QC_FAILED, S.REWORK, S.READY, S.DELIVERED, S.CLOSED}
PASSED = {S.QC_PASSED, S.READY, S.DELIVERED, S.CLOSED}
# the car waits in these (nobody is clocked on it): it may have come in the day before
WAITING = BEFORE_WORK | {S.SELF_CHECKED, S.QC_PASSED, S.READY}
# cars standing in a bay now (one waiting for parts is moved out to the car park)
IN_BAY = {S.IN_PROGRESS, S.PAUSED, S.SELF_CHECKED, S.QC_FAILED, S.REWORK}
SIGNED = STARTED | {S.APPROVED}
ESTIMATED = SIGNED | {S.ESTIMATED, S.AWAITING_APPROVAL}
HANDED_OVER = {S.DELIVERED, S.CLOSED}

# concern (customer's words), diagnosis, labour operation codes, part English names
REPAIRS = [
    ("刹车时前轮有吱吱的异响", "前刹车片磨损到极限", ["C0101"], ["Front brake pads (set)"]),
    ("踩刹车方向盘抖", "前刹车盘磨损不均", ["C0103", "C0101"], ["Front brake disc"]),
    ("过减速带底盘咯噔响", "稳定杆连杆球头松旷", ["C0107"], ["Stabiliser link"]),
    ("跑高速方向往右跑偏", "四轮定位参数偏差", ["C0104"], []),
    ("早上冷车启动困难", "12V 蓄电池老化", ["D0101", "L0101"], ["12 V battery 60 Ah"]),
    ("发动机故障灯亮了，加速有点抖", "3 缸点火线圈失效", ["D0101", "E0101"], ["Ignition coil"]),
    ("水温表偏高，地上有绿色的水", "水泵轴封渗漏", ["E0102"], ["Water pump assembly"]),
    ("空调不凉", "冷媒不足", ["O0101"], ["Refrigerant R1234yf 500 g"]),
    ("左前轮有嗡嗡声，越快越响", "左前轮轴承损坏", ["D0102", "C0108"], ["Front wheel bearing"]),
    ("倒车雷达一直报警", "左后雷达探头故障", ["D0103", "L0105"], ["Parking sensor"]),
    ("大灯里面起雾", "左大灯总成密封失效", ["L0102"], ["LED headlamp assembly (left)"]),
    ("中控屏偶尔黑屏", "软件版本过旧", ["D0103", "L0104"], []),
]
EV_REPAIRS = [
    ("慢充充不进电", "交流充电口端子烧蚀", ["H0101", "H0103"], ["AC charging inlet"]),
    ("仪表提示电池温度高", "电池冷却系统流量不足", ["H0101", "H0104"], ["Battery coolant 4 L"]),
]
ACCIDENTS = [
    ("倒车时撞到柱子，后保险杠凹了", "后保险杠变形开裂", ["B0101", "B0102"], ["Rear bumper cover"]),
    ("前面追尾，保险杠和大灯坏了", "前保险杠破裂、左大灯损坏", ["B0101", "B0102", "L0102"],
     ["Front bumper cover", "LED headlamp assembly (left)"]),
    ("挡风玻璃被石子打裂", "前挡风玻璃裂纹", ["B0103"], ["Windscreen"]),
]  # fmt: skip
ADDITIONAL = [
    ("C0102", "Rear brake pads (set)", "后刹车片剩余 2 mm，建议更换"),
    ("M0111", "Front wiper blades (pair)", "雨刮片老化，刮不干净"),
    ("C0104", None, "轮胎偏磨，建议做四轮定位"),
    ("M0105", "Brake fluid DOT4 1 L", "制动液含水量超标"),
]
VALUABLES = ["", "", "", "行车记录仪", "太阳镜", "雨伞、充电线", "儿童座椅"]
MARK_KINDS = ["scratch", "dent", "chip", "scratch", "crack"]
CANCEL_REASONS = ["客户嫌贵，暂不维修", "客户临时有事，改天再来", "配件周期太长，客户放弃"]
QC_FAIL_REASONS = ["刹车片安装后仍有异响", "故障码未清除", "轮胎螺栓扭矩未复核"]
REMARKS = ["服务很好，很满意", "等待时间有点长", "洗车不太干净", "顾问讲解很清楚", ""]


@dataclass
class Plan:
    """One demo order being written: its status path with the time of every step."""

    status: str
    kind: str
    vehicle: object
    concern: str = ""
    diagnosis: str = ""
    operations: list = field(default_factory=list)
    parts: list = field(default_factory=list)
    package: object = None
    failed_qc: bool = False
    comeback_of: "Plan | None" = None
    call_due: bool = False  # its follow-up call is to be made now
    technician: object = None  # who does the jobs (``_crew``)
    bay: object = None
    stamps: dict = field(default_factory=dict)  # status -> when the order entered it
    opened: datetime.datetime | None = None
    obj: object = None


def _money(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"), ROUND_HALF_UP)


@contextlib.contextmanager
def _explicit_times(*model_fields):
    """Write the historic times the demo sets instead of "now": auto_now(_add) fields
    are switched off while the rows are inserted."""
    saved = []
    for model, name in model_fields:
        f = model._meta.get_field(name)
        saved.append((f, f.auto_now, f.auto_now_add))
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _path(plan: Plan) -> list[str]:
    """The statuses the order went through, in order."""
    target = plan.status
    if target == S.CANCELLED:
        stop = random.Random(plan.vehicle.pk).choice([S.CHECKED_IN, S.ESTIMATED])
        return PATH[: PATH.index(stop) + 1] + [S.CANCELLED]
    if target in (S.WAITING_PARTS, S.PAUSED):
        return PATH[: PATH.index(S.IN_PROGRESS) + 1] + [target]
    if target in (S.QC_FAILED, S.REWORK):
        path = PATH[: PATH.index(S.SELF_CHECKED) + 1] + [S.QC_FAILED]
        return path + [S.REWORK] if target == S.REWORK else path
    if target == S.DIAGNOSING:
        return [S.DRAFT, S.CHECKED_IN, S.DIAGNOSING]
    path = PATH[: PATH.index(target) + 1]
    if plan.failed_qc and S.QC_PASSED in path:
        at = path.index(S.QC_PASSED)
        path = path[:at] + [S.QC_FAILED, S.REWORK, S.SELF_CHECKED] + path[at:]
    if plan.diagnosis and S.ESTIMATED in path and plan.kind != ROKind.MAINTENANCE:
        at = path.index(S.ESTIMATED)
        path = path[:at] + [S.DIAGNOSING] + path[at:]
    return path


# minutes each step takes after the previous one (work: the labour hours)
STEP_MINUTES = {
    S.CHECKED_IN: 8,
    S.DIAGNOSING: 10,
    S.ESTIMATED: 25,
    S.AWAITING_APPROVAL: 5,
    S.APPROVED: 12,
    S.IN_PROGRESS: 25,
    S.WAITING_PARTS: 40,
    S.PAUSED: 30,
    S.QC_FAILED: 20,
    S.REWORK: 10,
    S.QC_PASSED: 20,
    S.READY: 30,
    S.DELIVERED: 90,
    S.CLOSED: 10,
    S.CANCELLED: 20,
}


def _timeline(rng, plan: Plan, path, work_minutes: int, now, hours) -> None:
    """Stamp each step. A handed-over or cancelled order went through its steps on one
    day of the last 60 (the last five for one delivered but not paid), from a time after
    the dealer opened (``hours``: ``OpeningHours``); an order still in the workshop entered
    its status recently, and one waiting there whose visit would have begun before the
    dealer opened today came in yesterday morning instead."""
    offsets, t = [], 0
    for index, status in enumerate(path):
        if status == S.DRAFT:
            offsets.append(0)
            continue
        if status == S.SELF_CHECKED:
            step = 35 if S.REWORK in path[:index] else work_minutes
        else:
            step = STEP_MINUTES[status]
        t += int(step * rng.uniform(0.7, 1.4)) + 1
        offsets.append(t)
    total = datetime.timedelta(minutes=offsets[-1])
    today = timezone.localdate(now)

    def morning(day):  # the dealer's opening time that day, plus up to ``slack`` minutes
        opens = timezone.make_aware(datetime.datetime.combine(day, hours.open))
        closes = timezone.make_aware(datetime.datetime.combine(day, hours.close))
        slack = max(int((closes - opens - total).total_seconds() // 60), 0)
        return opens + datetime.timedelta(minutes=rng.randint(0, min(slack, 120)))

    if plan.status in HANDED_OVER or plan.status == S.CANCELLED:
        back = rng.randint(1, 5) if plan.status == S.DELIVERED else rng.randint(2, HISTORY_DAYS - 2)
        opened = morning(today - back * D)
    else:
        if plan.status == S.IN_PROGRESS:  # most of the work done, at about the standard pace
            minutes = min(work_minutes * rng.uniform(0.5, 0.8), 300)
        else:
            minutes = rng.randint(5, 150)
        opened = now - datetime.timedelta(minutes=minutes) - total
        local = timezone.localtime(opened)
        early = local.time() < hours.open or local.date() < today
        if plan.status in WAITING and early:
            opened = morning(today - D)
    plan.opened = opened
    plan.stamps = {}
    for status, minutes in zip(path, offsets, strict=True):
        plan.stamps.setdefault(status, []).append(opened + datetime.timedelta(minutes=minutes))


def _first(plan, status):
    return plan.stamps[status][0] if status in plan.stamps else None


def _last(plan, status):
    return plan.stamps[status][-1] if status in plan.stamps else None


class _Dealer:
    """What the loader needs of one dealer: staff, rates, bays, warehouse, catalogue."""

    def __init__(self, dealer, catalogue):
        from aftersales.org.models import User
        from aftersales.parts.models import Warehouse
        from aftersales.workorders.models import LabourRate, ServiceSettings, WorkshopBay

        self.dealer = dealer
        code = dealer.code.lower()
        users = {u.username: u for u in User.objects.filter(username__startswith=f"{code}-")}
        self.sa = users[f"{code}-sa"]
        self.foreman = users[f"{code}-foreman"]
        self.tech = users[f"{code}-tech"]
        self.qc = users[f"{code}-qc"]
        self.cashier = users.get(f"{code}-cashier", self.sa)
        self.parts = users.get(f"{code}-parts", self.sa)
        self.dcrc = users.get(f"{code}-dcrc", self.sa)
        self.team = _team(dealer, [self.tech, self.foreman])
        self.technicians = list(self.team.values())
        self.rates = dict(LabourRate.objects.filter(dealer=dealer).values_list("pay_type", "rate"))
        for pay_type, rate in (("customer", 150), ("warranty", 130), ("insurance", 170)):
            self.rates.setdefault(pay_type, Decimal(rate))
        self.rates.setdefault("internal", Decimal(90))
        self.bays = list(WorkshopBay.objects.filter(dealer=dealer, active=True).order_by("code"))
        self.warehouse = Warehouse.objects.filter(dealer=dealer).order_by("code").first()
        self.settings = ServiceSettings.for_dealer(dealer)
        self.catalogue = catalogue


def _team(dealer, fallback) -> dict:
    """The dealer's technicians by their skills (``appointments.capacity.Person``: bay
    kinds and operation categories, from the workshop team set up before the orders), each
    mapped to its user; without a team, ``fallback`` (the technician and the foreman)
    doing anything."""
    from aftersales.appointments.capacity import Person
    from aftersales.appointments.models import Technician
    from aftersales.workorders.choices import BayKind

    rows = Technician.objects.filter(dealer=dealer, active=True).select_related("user")
    team = {
        Person(
            row.user_id,
            str(row.user),
            (),
            frozenset(row.bay_kinds or []),
            frozenset(row.categories or []),
        ): row.user
        for row in rows.order_by("user__username")
    }
    everything = frozenset(BayKind.values)
    return team or {Person(u.pk, str(u), (), everything): u for u in fallback}


def _crew(ctx, plans) -> None:
    """Each order's technician and bay, as a foreman dispatches: one of the team skilled
    for all its jobs (``appointments.capacity.job_needs``: the bay kind and categories),
    else one who works in that kind of bay, and a bay of that kind, each time the one
    with the fewest orders so far; a car in the workshop now gets a bay no other such car
    stands in while one is free."""
    from collections import Counter

    from aftersales.appointments.capacity import bay_fits, job_needs

    orders, bay_orders, taken = Counter(), Counter(), set()
    for plan in plans:
        ops = [ctx.catalogue.ops[c] for c in plan.operations if c in ctx.catalogue.ops]
        kind, categories = job_needs(ops, "")
        able = (
            [p for p in ctx.team if p.can_do(kind, categories)]
            or [p for p in ctx.team if any(bay_fits(kind, k) for k in p.bay_kinds)]
            or list(ctx.team)
        )
        person = min(able, key=lambda p: (orders[p.user_id], p.name))
        orders[person.user_id] += 1
        plan.technician = ctx.team[person]
        fitting = [b for b in ctx.bays if bay_fits(kind, b.kind)] or ctx.bays
        here = plan.status in IN_BAY
        plan.bay = (
            min(fitting, key=lambda b: (here and b.pk in taken, bay_orders[b.pk], b.code))
            if fitting
            else None
        )
        if plan.bay is not None:
            bay_orders[plan.bay.pk] += 1
            if here:
                taken.add(plan.bay.pk)


def _bay_for(ctx, line, bay):
    """The order's bay, or for a job it does not fit (an alignment found during the work)
    the first bay that does."""
    from aftersales.appointments.capacity import bay_fits

    need = line.operation.needs_bay if line.operation is not None else None
    if bay is None or need is None or bay_fits(need, bay.kind):
        return bay
    return next((b for b in ctx.bays if bay_fits(need, b.kind)), bay)


class _Catalogue:
    def __init__(self):
        from aftersales.parts.models import Part
        from aftersales.workorders.models import LabourOperation, LabourTime, MaintenancePackage

        self.ops = {o.code: o for o in LabourOperation.objects.all()}
        self.times = {
            (t.operation_id, t.vehicle_model_id): t.hours
            for t in LabourTime.objects.filter(variant__isnull=True)
        }
        self.packages = {}
        for package in MaintenancePackage.objects.filter(active=True).prefetch_related(
            "operations__operation", "parts__part"
        ):
            self.packages.setdefault(package.vehicle_model_id, []).append(package)
        for rows in self.packages.values():
            rows.sort(key=lambda p: p.interval_km or 0)
        self.parts_by_name = {}
        for part in Part.objects.filter(active=True, superseded_by__isnull=True).order_by("number"):
            self.parts_by_name.setdefault(part.name_en, part)

    def part(self, name_en, model_code):
        return self.parts_by_name.get(f"{name_en} {model_code}") or self.parts_by_name.get(name_en)

    def hours(self, op, model_id):
        return self.times.get((op.pk, model_id), op.default_hours)

    def package(self, model_id, km):
        rows = self.packages.get(model_id) or []
        due = [p for p in rows if p.interval_km and p.interval_km >= (km % 40_000 or 40_000)]
        return (due or rows or [None])[0]


def _plan_dealer(rng, ctx: _Dealer, vehicles, now) -> list[Plan]:
    statuses = [s for s, n in STATUS_MIX for _ in range(n)]
    chosen = rng.sample(vehicles, min(len(vehicles), len(statuses)))
    plans = []
    for status, vehicle in zip(statuses, chosen, strict=False):
        model = vehicle.variant.vehicle_model
        ev = vehicle.variant.fuel_type == "bev"
        roll = rng.random()
        kind = (
            ROKind.MAINTENANCE
            if roll < 0.45
            else ROKind.ACCIDENT
            if roll < 0.55
            else ROKind.WARRANTY
            if roll < 0.7 and vehicle.warranty_end and vehicle.warranty_end > now.date()
            else ROKind.REPAIR
        )
        plan = Plan(status=status, kind=kind, vehicle=vehicle)
        if kind == ROKind.MAINTENANCE:
            km = (vehicle.odometer_km or 0) + rng.randint(300, 3_000)
            plan.package = ctx.catalogue.package(model.pk, km)
            plan.concern = (
                "做保养"
                if rng.random() < 0.6
                else f"到{plan.package.interval_km if plan.package else 10000}公里了，按手册保养"
            )
            plan.operations = ["M0109"]
            if plan.package:
                plan.operations = [po.operation.code for po in plan.package.operations.all()]
                plan.parts = [(pp.part, pp.quantity) for pp in plan.package.parts.all()]
        else:
            pool = ACCIDENTS if kind == ROKind.ACCIDENT else REPAIRS + (EV_REPAIRS if ev else [])
            concern, diagnosis, ops, parts = rng.choice(pool)
            plan.concern, plan.diagnosis = concern, diagnosis
            plan.operations = [c for c in ops if not (ev and c.startswith("E"))] or ["D0101"]
            plan.parts = [
                (p, Decimal("1"))
                for name in parts
                if (p := ctx.catalogue.part(name, model.code)) is not None
            ]
        plan.failed_qc = status in PASSED and rng.random() < 0.12
        plans.append(plan)
    # comebacks: two open orders are the same car back with the same concern within days
    closed = [p for p in plans if p.status == S.CLOSED and p.kind != ROKind.MAINTENANCE]
    late = [p for p in plans if p.status in (S.APPROVED, S.IN_PROGRESS, S.CHECKED_IN)]
    for first, again in zip(closed[:2], late[:2], strict=False):
        again.vehicle, again.kind = first.vehicle, ROKind.REPAIR
        again.concern = f"上次修完{first.concern}的问题又出现了"
        again.diagnosis, again.operations, again.parts = "", ["D0102"], []
        again.comeback_of = first
    return plans


def _lines(rng, ctx: _Dealer, plan: Plan, order):
    """The order's lines: the planned work and parts, a disposal fee on part jobs, some
    sublet, and (once work started) an additional finding approved or declined."""
    from aftersales.workorders.models import RepairOrderLine

    model = plan.vehicle.variant.vehicle_model
    catalogue = ctx.catalogue
    warranty = plan.kind == ROKind.WARRANTY
    insurance = plan.kind == ROKind.ACCIDENT
    pay_type = (
        PayType.WARRANTY if warranty else PayType.INSURANCE if insurance else PayType.CUSTOMER
    )
    if plan.comeback_of is not None:
        pay_type = PayType.INTERNAL
    decided = plan.status in SIGNED
    approved_at = _first(plan, S.APPROVED)
    estimated_at = _first(plan, S.ESTIMATED) or plan.opened
    lines = []

    def add(kind, description, quantity, unit_price, **extra):
        approval = extra.pop("approval", Approval.APPROVED if decided else Approval.PROPOSED)
        line_pay = extra.pop("pay_type", pay_type)
        rate_price = unit_price
        line = RepairOrderLine(
            repair_order=order,
            kind=kind,
            position=len(lines) + 1,
            description=description,
            quantity=quantity,
            unit_price=rate_price,
            amount=_money(quantity * rate_price),
            pay_type=line_pay,
            warranty_status=(
                WarrantyStatus.IN
                if line_pay == PayType.WARRANTY
                else WarrantyStatus.OUT
                if plan.kind == ROKind.REPAIR
                else ""
            ),
            warranty_reason="整车质保期内" if line_pay == PayType.WARRANTY else "",
            approval=approval,
            approval_channel=extra.pop(
                "approval_channel", ApprovalChannel.SIGNATURE if decided else ""
            ),
            approved_by_name=plan.vehicle.owner.name if approval != Approval.PROPOSED else "",
            approval_recorded_by=ctx.sa if approval != Approval.PROPOSED else None,
            decided_at=extra.pop("decided_at", approved_at if decided else None),
            created_by=ctx.sa,
            created_at=extra.pop("created_at", estimated_at),
            **extra,
        )
        lines.append(line)
        return line

    for code in plan.operations:
        op = catalogue.ops.get(code)
        if op is None:
            continue
        hours = catalogue.hours(op, model.pk)
        line_pay = PayType.CUSTOMER if warranty and op.warranty_scope == "none" else pay_type
        add(
            LineKind.LABOUR,
            op.name,
            hours,
            ctx.rates[line_pay],
            operation=op,
            standard_hours=hours,
            package=plan.package,
            pay_type=line_pay,
            job_status=JobStatus.PENDING if decided else "",
        )
    for part, quantity in plan.parts:
        line_pay = PayType.CUSTOMER if warranty and part.wear_part else pay_type
        add(
            LineKind.PART,
            part.name,
            quantity,
            part.list_price,
            part=part,
            package=plan.package,
            pay_type=line_pay,
        )
    if plan.parts and plan.kind != ROKind.MAINTENANCE:
        add(LineKind.FEE, "环保处理费", Decimal("1"), Decimal("30.00"), pay_type=PayType.CUSTOMER)
    if insurance and rng.random() < 0.5:
        add(LineKind.SUBLET, "外协：玻璃镀膜", Decimal("1"), Decimal("280.00"))
    if plan.status in STARTED and rng.random() < 0.4:
        code, part_name, reason = rng.choice(ADDITIONAL)
        found = _first(plan, S.IN_PROGRESS) + 20 * M
        declined = rng.random() < 0.4
        op = catalogue.ops[code]
        common = {
            "additional": True,
            "pay_type": PayType.CUSTOMER,
            "approval": Approval.DECLINED if declined else Approval.APPROVED,
            "approval_channel": ApprovalChannel.PHONE,
            "decided_at": found + 15 * M,
            "created_at": found,
        }
        hours = catalogue.hours(op, model.pk)
        add(
            LineKind.LABOUR,
            f"{op.name}（{reason}）",
            hours,
            ctx.rates[PayType.CUSTOMER],
            operation=op,
            standard_hours=hours,
            job_status="" if declined else JobStatus.PENDING,
            **common,
        )
        part = catalogue.part(part_name, model.code) if part_name else None
        if part is not None:
            add(LineKind.PART, part.name, Decimal("1"), part.list_price, part=part, **common)
    return lines


def _events(ctx: _Dealer, plan: Plan, path, order):
    from aftersales.workorders.events import actor_label
    from aftersales.workorders.models import RepairOrderEvent

    who = {
        S.CHECKED_IN: ctx.sa,
        S.DIAGNOSING: ctx.sa,
        S.ESTIMATED: ctx.sa,
        S.AWAITING_APPROVAL: ctx.sa,
        S.APPROVED: ctx.sa,
        S.IN_PROGRESS: plan.technician,
        S.WAITING_PARTS: plan.technician,
        S.PAUSED: ctx.foreman,
        S.SELF_CHECKED: plan.technician,
        S.QC_PASSED: ctx.qc,
        S.QC_FAILED: ctx.qc,
        S.REWORK: plan.technician,
        S.READY: ctx.sa,
        S.DELIVERED: ctx.sa,
        S.CLOSED: ctx.cashier,
        S.CANCELLED: ctx.sa,
    }
    rows = []
    stamps = {k: list(v) for k, v in plan.stamps.items()}
    for previous, status in zip(path, path[1:], strict=False):
        at = stamps[status].pop(0)
        actor = who[status]
        rows.append(
            RepairOrderEvent(
                repair_order=order,
                at=at,
                actor=actor,
                actor_name=actor_label(actor),
                kind=EventKind.STATUS,
                from_status=previous,
                to_status=status,
                message="",
                data={"demo": True},
            )
        )
    return rows


def _decision_note(line) -> str:
    verb = "同意" if line.approval == Approval.APPROVED else "拒绝"
    return f"{line.description}：客户电话{verb}"


def _event(order, at, actor, kind, message, **data):
    from aftersales.workorders.events import actor_label
    from aftersales.workorders.models import RepairOrderEvent

    return RepairOrderEvent(
        repair_order=order,
        at=at,
        actor=actor,
        actor_name=actor_label(actor),
        kind=kind,
        message=message[:300],
        data={"demo": True, **data},
    )


def _clock(rng, ctx, plan, order, labour, open_clock, clock, events, now):
    from aftersales.workorders.models import ClockEntry

    if not labour:
        return
    begin = _first(plan, S.IN_PROGRESS)
    done = plan.status in WORK_DONE
    if done:
        finish = _first(plan, S.SELF_CHECKED)
    elif plan.status == S.IN_PROGRESS:
        finish = now - datetime.timedelta(minutes=rng.randint(1, 4))
    else:
        finish = _last(plan, plan.status)
    window = max(finish - begin, datetime.timedelta(minutes=5 * len(labour)))
    weights = [max(float(x.standard_hours), 0.1) for x in labour]
    t = begin
    for index, line in enumerate(labour):
        share = window * (weights[index] / sum(weights))
        start, end = t, t + share * 0.95
        t = t + share
        reason, line.job_status = ClockReason.FINISHED, JobStatus.DONE
        if index == len(labour) - 1 and not done:
            if plan.status == S.IN_PROGRESS and line.technician.pk in open_clock:
                open_clock.discard(line.technician.pk)
                end, reason, line.job_status = None, "", JobStatus.RUNNING
            else:
                reason = {
                    S.WAITING_PARTS: ClockReason.PARTS,
                    S.PAUSED: ClockReason.BREAK,
                }.get(plan.status, ClockReason.OTHER_JOB)
                line.job_status = JobStatus.STOPPED
        clock.append(
            ClockEntry(
                dealer=ctx.dealer,
                repair_order=order,
                line=line,
                technician=line.technician,
                started_at=start,
                ended_at=end,
                reason=reason,
            )
        )
        events.append(
            _event(order, start, line.technician, EventKind.CLOCK, f"开工：{line.description}")
        )
        if end is not None:
            line.actual_hours = Decimal((end - start).total_seconds() / 3600).quantize(
                Decimal("0.01")
            )
            events.append(
                _event(order, end, line.technician, EventKind.CLOCK, f"停工：{line.description}")
            )


# the part lines of these orders are held in stock for them, or issued to the car
RESERVED = {S.ESTIMATED, S.AWAITING_APPROVAL, S.APPROVED, S.WAITING_PARTS}
ISSUED = {S.IN_PROGRESS, S.PAUSED, S.SELF_CHECKED, S.QC_FAILED, S.REWORK, S.QC_PASSED, S.READY}


def _book_parts(ctx: _Dealer, line_plans) -> list:
    """The parts as the parts counter booked them, through the stock ledger's services
    (``parts.stock``: the books keep adding up). An order estimated but not started, or
    waiting for parts, has its part lines reserved in the dealer's warehouse, what it
    lacks recorded as a shortage (the estimate's own ``_reserve``). A car in the workshop
    or ready has them issued in full, against their reservation; a part the warehouse
    lacked was ordered for it and received first. The ledger dates these movements when
    the demo is loaded; handed-over orders are not booked. Returns the timeline events."""
    from aftersales.parts import stock
    from aftersales.parts.choices import MoveKind
    from aftersales.workorders.estimate import _reserve
    from aftersales.workorders.models import RepairOrderLine

    events, booked = [], []
    for plan, order_lines in line_plans:
        order = plan.obj
        if plan.status not in RESERVED | ISSUED or order.warehouse_id is None:
            continue
        doc = stock.Doc(type="repair_order", id=order.pk, number=order.number)
        for line in order_lines:
            if line.kind != LineKind.PART or line.approval == Approval.DECLINED:
                continue
            booked.append(line)
            if plan.status in ISSUED:
                item = stock.item_for(warehouse=order.warehouse, part=line.part)
                missing = line.quantity - max(item.on_hand - item.reserved, Decimal(0))
                if missing > 0:
                    stock.post(
                        item=item,
                        kind=MoveKind.RECEIPT,
                        quantity=missing,
                        unit_cost=line.part.dealer_cost,
                        posting_key=f"{line.key}:receipt:demo",
                        doc=doc,
                        actor=ctx.parts,
                        reason="为工单紧急订货到货",
                    )
            held = _reserve(order, ctx.parts, line, line.quantity, line.key)
            if plan.status not in ISSUED:
                continue
            stock.issue(
                actor=ctx.parts,
                warehouse=order.warehouse,
                part=line.part,
                quantity=held,
                posting_key=f"{line.key}:issue:demo",
                doc=doc,
                reservation=line.reservation,
            )
            line.issued_qty = held
            at = _first(plan, S.IN_PROGRESS) + 2 * M
            note = f"发料 {stock.show(held)} × {line.description}"
            events.append(_event(order, at, ctx.parts, EventKind.PARTS, note, line=line.pk))
    RepairOrderLine.objects.bulk_update(booked, ["reservation", "issued_qty"], batch_size=500)
    return events


def _load_dealer(ctx: _Dealer, rng, vehicles, now, catalogue) -> dict:
    from aftersales.core.models import NumberSequence
    from aftersales.crm.choices import OdometerSource, VisitKind
    from aftersales.crm.models import OdometerReading, ServiceVisit, Vehicle
    from aftersales.workorders.models import (
        ClockEntry,
        FollowUp,
        FollowUpCall,
        JobAssignment,
        QualityCheck,
        RepairOrder,
        RepairOrderEvent,
        RepairOrderLine,
    )

    dealer = ctx.dealer
    plans = _plan_dealer(rng, ctx, vehicles, now)
    paths = {}
    for plan in plans:
        path = _path(plan)
        hours = sum(
            (catalogue.hours(catalogue.ops[c], plan.vehicle.variant.vehicle_model_id))
            for c in plan.operations
            if c in catalogue.ops
        )
        _timeline(rng, plan, path, int(float(hours or 1) * 60), now, ctx.dealer.opening_hours)
        paths[id(plan)] = path
    # a comeback opens a few days after the first visit's delivery (within the window)
    for plan in plans:
        first = plan.comeback_of
        if first is not None:
            delivered = plan.opened - rng.randint(2, 20) * D
            shift = delivered - _first(first, S.DELIVERED)
            first.stamps = {k: [t + shift for t in v] for k, v in first.stamps.items()}
            first.opened += shift
    # three delivered orders are in their follow-up call window now, so the DCRC agent's
    # worklist has calls to make when the demo starts
    settings = ctx.settings
    for plan in [p for p in plans if p.status == S.DELIVERED][:3]:
        hours = settings.follow_up_after_hours + rng.uniform(1, 6)
        shift = now - hours * H - _first(plan, S.DELIVERED)
        plan.stamps = {k: [t + shift for t in v] for k, v in plan.stamps.items()}
        plan.opened += shift
        plan.call_due = True
    plans.sort(key=lambda p: p.opened)
    _crew(ctx, plans)

    # numbers in next_number's format, advancing the dealer's sequence per year
    sequences = {}
    for plan in plans:
        year = timezone.localtime(plan.opened).year
        if year not in sequences:
            row = NumberSequence.objects.filter(dealer=dealer, doc_type=DOC_TYPE, year=year).first()
            sequences[year] = row.last_value if row else 0
        sequences[year] += 1
        plan.number = f"{DOC_TYPE}-{dealer.code}-{year}-{sequences[year]:06d}"
    for year, last in sequences.items():
        updated = NumberSequence.objects.filter(dealer=dealer, doc_type=DOC_TYPE, year=year).update(
            last_value=last
        )
        if not updated:
            NumberSequence.objects.create(
                dealer=dealer, doc_type=DOC_TYPE, year=year, last_value=last
            )

    # --- orders
    odometer = {}
    orders = []
    for plan in plans:
        vehicle, owner = plan.vehicle, plan.vehicle.owner
        path = paths[id(plan)]
        km = odometer.get(vehicle.pk, vehicle.odometer_km or 0) + rng.randint(200, 3_500)
        odometer[vehicle.pk] = km
        received = S.CHECKED_IN in path
        signed = plan.status in SIGNED
        estimated = plan.status in ESTIMATED or (plan.status == S.CANCELLED and S.ESTIMATED in path)
        marks = [
            {
                "x": rng.randint(5, 95),
                "y": rng.randint(5, 95),
                "kind": rng.choice(MARK_KINDS),
                "note": "",
            }
            for _ in range(rng.choice([0, 0, 1, 1, 2, 3]))
        ]
        promised = None
        if estimated:
            base = _first(plan, S.ESTIMATED)
            if plan.status in HANDED_OVER or plan.status == S.CANCELLED:
                promised = base + rng.randint(2, 8) * H
            else:  # around now: some already late
                promised = now + datetime.timedelta(minutes=rng.randint(-180, 300))
        free_wash = rng.random() < 0.8
        order = RepairOrder(
            dealer=dealer,
            number=plan.number,
            status=plan.status,
            kind=plan.kind,
            vehicle=vehicle,
            customer=owner,
            contact_name=owner.name if owner else "",
            contact_mobile=owner.mobile if owner else "",
            service_advisor=ctx.sa,
            warehouse=ctx.warehouse,
            odometer_km=km if received else None,
            fuel_level=rng.choice(list(FuelLevel)) if received else "",
            concern=plan.concern,
            diagnosis=plan.diagnosis if S.ESTIMATED in path or S.DIAGNOSING in path else "",
            valuables=rng.choice(VALUABLES) if received else "",
            covers_installed=received,
            walkaround=marks if received else [],
            warranty_status=(
                WarrantyStatus.IN
                if vehicle.warranty_end and vehicle.warranty_end > plan.opened.date()
                else WarrantyStatus.OUT
            )
            if received
            else "",
            warranty_reason="",
            payment_method=(
                PaymentMethod.INSURER
                if plan.kind == ROKind.ACCIDENT
                else rng.choice([PaymentMethod.WECHAT, PaymentMethod.ALIPAY, PaymentMethod.CARD])
            )
            if estimated
            else "",
            old_parts=(
                OldPartsDisposition.RETURN_OEM
                if plan.kind == ROKind.WARRANTY
                else rng.choice([OldPartsDisposition.TAKE_HOME, OldPartsDisposition.LEAVE])
            )
            if estimated
            else "",
            free_wash=free_wash,
            promised_at=promised,
            signature_kind=SignatureKind.PAPER if signed else "",
            signed_by_name=owner.name if signed and owner else "",
            signed_at=_first(plan, S.APPROVED) if signed else None,
            rework_count=1 if S.QC_FAILED in path else 0,
            delivery_checks=(
                {key: True for key in DELIVERY_LABELS if key != "wash" or free_wash}
                if plan.status in HANDED_OVER
                else {}
            ),
            cancel_reason=rng.choice(CANCEL_REASONS) if plan.status == S.CANCELLED else "",
            checked_in_at=_first(plan, S.CHECKED_IN),
            approved_at=_first(plan, S.APPROVED),
            started_at=_first(plan, S.IN_PROGRESS),
            work_done_at=_last(plan, S.SELF_CHECKED),
            qc_passed_at=_first(plan, S.QC_PASSED),
            ready_at=_first(plan, S.READY),
            delivered_at=_first(plan, S.DELIVERED),
            closed_at=_first(plan, S.CLOSED),
            cancelled_at=_first(plan, S.CANCELLED),
            created_at=plan.opened,
            updated_at=max(t for ts in plan.stamps.values() for t in ts),
        )
        plan.obj = order
        orders.append(order)

    # --- lines, events, dispatch, clock, checks
    lines, events, checks = [], [], []
    line_plans = []
    for plan in plans:
        path = paths[id(plan)]
        order = plan.obj
        events.append(_event(order, plan.opened, ctx.sa, EventKind.NOTE, "开单"))
        events += _events(ctx, plan, path, order)
        if plan.status in ESTIMATED or (plan.status == S.CANCELLED and S.ESTIMATED in path):
            order_lines = _lines(rng, ctx, plan, order)
            lines += order_lines
            line_plans.append((plan, order_lines))
            events.append(
                _event(
                    order,
                    _first(plan, S.ESTIMATED) - 2 * M,
                    ctx.sa,
                    EventKind.LINE,
                    f"估价 {len(order_lines)} 行",
                    lines=len(order_lines),
                )
            )
    assignments, clock = [], []
    open_clock = {t.pk for t in ctx.technicians} - set(
        ClockEntry.objects.filter(
            technician__in=ctx.technicians, ended_at__isnull=True
        ).values_list("technician_id", flat=True)
    )
    for plan, order_lines in line_plans:
        order, path = plan.obj, paths[id(plan)]
        order.estimate_total = sum(
            (x.amount for x in order_lines if x.approval != Approval.DECLINED), Decimal("0")
        )
        if plan.status not in SIGNED:
            continue
        labour = [
            x for x in order_lines if x.kind == LineKind.LABOUR and x.approval == Approval.APPROVED
        ]
        dispatched = plan.status in STARTED or rng.random() < 0.6
        if not dispatched:
            continue
        dispatch_at = _first(plan, S.APPROVED) + 5 * M
        for line in labour:
            tech = line.technician = plan.technician
            line.bay = _bay_for(ctx, line, plan.bay)
            line.job_status = JobStatus.ASSIGNED
            assignments.append(
                JobAssignment(
                    line=line, technician=tech, assigned_by=ctx.foreman, assigned_at=dispatch_at
                )
            )
        events.append(
            _event(order, dispatch_at, ctx.foreman, EventKind.DISPATCH, f"派工 {len(labour)} 项")
        )
        if plan.status not in STARTED:
            continue
        # clock: the jobs one after the other between the start of work and its end (or
        # the moment work stopped); the last job of an order in progress may still run
        _clock(rng, ctx, plan, order, labour, open_clock, clock, events, now)
        # checks
        for at in plan.stamps.get(S.SELF_CHECKED, []):
            checks.append(
                QualityCheck(
                    repair_order=order,
                    kind=CheckKind.SELF,
                    passed=True,
                    items={"work_done": True, "torque": True, "clean": True},
                    checked_by=plan.technician,
                    checked_at=at,
                    round=0 if at == _first(plan, S.SELF_CHECKED) else 1,
                )
            )
        for at in plan.stamps.get(S.QC_FAILED, []):
            reason = rng.choice(QC_FAIL_REASONS)
            checks.append(
                QualityCheck(
                    repair_order=order,
                    kind=CheckKind.QC,
                    passed=False,
                    items={"function": False, "road_test": True, "clean": True},
                    remarks=reason,
                    checked_by=ctx.qc,
                    checked_at=at,
                    round=0,
                )
            )
        for at in plan.stamps.get(S.QC_PASSED, []):
            checks.append(
                QualityCheck(
                    repair_order=order,
                    kind=CheckKind.QC,
                    passed=True,
                    items={"function": True, "road_test": True, "clean": True},
                    checked_by=ctx.qc,
                    checked_at=at,
                    round=1 if S.QC_FAILED in path else 0,
                )
            )
        if plan.status in HANDED_OVER:
            checks.append(
                QualityCheck(
                    repair_order=order,
                    kind=CheckKind.DELIVERY,
                    passed=True,
                    items=order.delivery_checks,
                    checked_by=ctx.sa,
                    checked_at=_first(plan, S.DELIVERED) - 2 * M,
                )
            )
    # written parents first: an order, then its comeback; lines; what hangs on lines
    with _explicit_times((RepairOrder, "created_at"), (RepairOrder, "updated_at")):
        RepairOrder.objects.bulk_create(
            [p.obj for p in plans if p.comeback_of is None], batch_size=500
        )
        for plan in plans:
            if plan.comeback_of is not None:
                plan.obj.comeback_of = plan.comeback_of.obj
        RepairOrder.objects.bulk_create(
            [p.obj for p in plans if p.comeback_of is not None], batch_size=500
        )
    with _explicit_times((RepairOrderLine, "created_at")):
        RepairOrderLine.objects.bulk_create(lines, batch_size=500)
    events += _book_parts(ctx, line_plans)
    events += [
        _event(
            line.repair_order,
            line.decided_at,
            ctx.sa,
            EventKind.APPROVAL,
            _decision_note(line),
            line=line.pk,
            approval=line.approval,
        )
        for line in lines
        if line.additional
    ]
    with _explicit_times((JobAssignment, "assigned_at")):
        JobAssignment.objects.bulk_create(assignments, batch_size=500)
    ClockEntry.objects.bulk_create(clock, batch_size=500)
    with _explicit_times((QualityCheck, "checked_at")):
        QualityCheck.objects.bulk_create(checks, batch_size=500)

    # --- follow-ups, odometer readings, service visits
    follow_ups, calls_of = [], []
    for plan in plans:
        if plan.status not in HANDED_OVER:
            continue
        order = plan.obj
        delivered = _first(plan, S.DELIVERED)
        opens = delivered + settings.follow_up_after_hours * H
        due = delivered + settings.follow_up_due_hours * H
        follow = FollowUp(
            repair_order=order, dealer=dealer, opens_at=opens, due_at=due, assigned_to=ctx.dcrc
        )
        calls = []
        if opens < now:
            roll = rng.random()
            first_call = min(opens + rng.randint(10, 300) * M, now - M)
            # still in its window: most calls are yet to be made
            if plan.call_due:
                if roll < 0.4:
                    calls.append((CallOutcome.NOT_REACHED, first_call))
            elif roll < (0.7 if due < now else 0.3) or due < now - D and roll < 0.85:
                scores = {
                    q: rng.choices([5, 4, 3, 2, 1], weights=[60, 25, 8, 4, 3])[0]
                    for q in ("overall", "advisor", "quality", "timeliness", "price", "facility")
                }
                follow.status = FollowUpStatus.DONE
                follow.scores = scores
                follow.remarks = rng.choice(REMARKS)
                follow.completed_at = first_call
                follow.completed_by = ctx.dcrc
                if min(scores.values()) <= settings.low_score:
                    follow.alerted_at = first_call + M
                calls.append((CallOutcome.REACHED, first_call))
            elif due < now:
                follow.status = FollowUpStatus.UNREACHABLE
                step = max((min(due, now) - first_call) / 3, M)
                calls += [(CallOutcome.NOT_REACHED, first_call + i * step) for i in range(3)]
            elif roll < 0.9:
                calls.append((CallOutcome.NOT_REACHED, first_call))
        follow.attempts = len(calls)
        follow_ups.append(follow)
        calls_of.append((follow, calls, order))
        for outcome, at in calls:
            events.append(
                _event(
                    order,
                    at,
                    ctx.dcrc,
                    EventKind.FOLLOW_UP,
                    str(dict(CallOutcome.choices)[outcome]),
                    outcome=outcome,
                )
            )
    FollowUp.objects.bulk_create(follow_ups, batch_size=500)
    with _explicit_times((FollowUpCall, "called_at")):
        FollowUpCall.objects.bulk_create(
            [
                FollowUpCall(
                    follow_up=follow,
                    outcome=outcome,
                    called_by=ctx.dcrc,
                    called_at=at,
                    remarks="",
                )
                for follow, calls, _order in calls_of
                for outcome, at in calls
            ],
            batch_size=500,
        )
    with _explicit_times((RepairOrderEvent, "at")):
        RepairOrderEvent.objects.bulk_create(events, batch_size=1000)

    readings, visits, touched = [], [], {}
    for plan in plans:
        order = plan.obj
        if order.odometer_km is None:
            continue
        day = timezone.localtime(order.checked_in_at).date()
        readings.append(
            OdometerReading(
                vehicle=order.vehicle,
                km=order.odometer_km,
                read_on=day,
                source=OdometerSource.REPAIR_ORDER,
                dealer=dealer,
            )
        )
        vehicle = order.vehicle
        if vehicle.odometer_on is None or day >= vehicle.odometer_on:
            vehicle.odometer_km, vehicle.odometer_on = order.odometer_km, day
            touched[vehicle.pk] = vehicle
        if plan.status == S.CLOSED and order.customer_id:
            visits.append(
                ServiceVisit(
                    customer_id=order.customer_id,
                    vehicle=vehicle,
                    dealer=dealer,
                    visited_on=timezone.localtime(order.closed_at).date(),
                    kind=VisitKind(plan.kind),
                    amount=order.estimate_total,
                    odometer_km=order.odometer_km,
                    reference=order.number,
                )
            )
    OdometerReading.objects.bulk_create(readings, batch_size=500)
    ServiceVisit.objects.bulk_create(visits, batch_size=500)
    for vehicle in touched.values():  # one short UPDATE each: cheaper than a CASE per row
        Vehicle.objects.filter(pk=vehicle.pk).update(
            odometer_km=vehicle.odometer_km, odometer_on=vehicle.odometer_on
        )
    return {
        "orders": len(orders),
        "lines": len(lines),
        "events": len(events),
        "clock": len(clock),
        "checks": len(checks),
        "follow_ups": len(follow_ups),
    }


def load_workorders_demo(stdout=None) -> dict:
    """Load the demo repair orders (after the org, catalogue, CRM, parts and the
    workorders catalogue demos). Idempotent: a dealer with demo orders is skipped."""
    from aftersales.crm.models import DealerVehicle, Vehicle
    from aftersales.org.models import Dealer
    from aftersales.workorders.models import RepairOrderEvent

    started = time.perf_counter()
    now = timezone.now()
    result = {"dealers": 0, "orders": 0, "lines": 0, "events": 0, "clock": 0, "checks": 0}
    result["follow_ups"] = 0
    catalogue = None
    for dealer in Dealer.objects.filter(code__in=DEMO_DEALERS).order_by("code"):
        if RepairOrderEvent.objects.filter(repair_order__dealer=dealer, data__demo=True).exists():
            continue
        rng = random.Random(f"workorders-demo-{dealer.code}")
        # a sample of the cars the dealer knows, then only those loaded
        known = list(
            Vehicle.objects.filter(
                pk__in=DealerVehicle.objects.filter(dealer=dealer).values("vehicle_id"),
                owner__isnull=False,
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        sample = rng.sample(known, min(len(known), SAMPLE))
        vehicles = list(
            Vehicle.objects.filter(pk__in=sample)
            .select_related("variant__vehicle_model", "owner")
            .order_by("pk")
        )
        if not vehicles:
            continue
        catalogue = catalogue or _Catalogue()
        ctx = _Dealer(dealer, catalogue)
        with transaction.atomic():
            counts = _load_dealer(ctx, rng, vehicles, now, catalogue)
        result["dealers"] += 1
        for key, value in counts.items():
            result[key] += value
    result["seconds"] = round(time.perf_counter() - started, 2)
    if stdout is not None:
        stdout.write(f"workorders demo: {result}\n")
    return result
