"""Builders for tests, the demo and benchmarks.

``make_repair_order(dealer=, status=)`` writes an order directly in the given status with
the data that status implies (reception filled in, signed when approved or later), so a
test can start from any point of the lifecycle. Tests of the lifecycle itself drive the
services instead.
"""

import itertools
from decimal import Decimal

from django.utils import timezone

from aftersales.workorders.choices import (
    Approval,
    ApprovalChannel,
    FuelLevel,
    JobStatus,
    LineKind,
    OldPartsDisposition,
    PaymentMethod,
    PayType,
    ROStatus,
    SignatureKind,
)

S = ROStatus
_numbers = itertools.count(1)
_codes = itertools.count(1)

_ORDER = list(S)
_RECEIVED = set(S) - {S.DRAFT, S.CANCELLED}
_SIGNED = {
    S.APPROVED,
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


def staff_of(dealer, role="service_advisor"):
    """A user holding ``role`` at ``dealer``: the demo organisation's ``<code>-<short>``
    (e.g. bj01-sa), created with the role when the dealer has none (test dealers)."""
    from aftersales.org.demo import SHORT
    from aftersales.org.models import RoleAssignment, User

    user, created = User.objects.get_or_create(
        username=f"{dealer.code.lower()}-{SHORT[role]}", defaults={"dealer": dealer}
    )
    if created:
        RoleAssignment.objects.create(user=user, role=role, dealer=dealer)
    return user


def advisor_of(dealer):
    return staff_of(dealer, "service_advisor")


def make_operation(*, code=None, name="更换机油机滤", hours="0.8", **fields):
    from aftersales.workorders.models import LabourOperation

    code = code or f"OP{next(_codes):05d}"
    fields.setdefault("category", "maintenance")
    op, _ = LabourOperation.objects.get_or_create(
        code=code, defaults={"name": name, "default_hours": Decimal(hours), **fields}
    )
    return op


def make_rates(dealer, **rates):
    """Labour rates of ``dealer``: customer 120, warranty 100, insurance 130, internal 80
    per hour unless given."""
    from aftersales.workorders.models import LabourRate

    defaults = {"customer": "120", "warranty": "100", "insurance": "130", "internal": "80"}
    defaults.update(rates)
    for pay_type, rate in defaults.items():
        LabourRate.objects.update_or_create(
            dealer=dealer, pay_type=pay_type, defaults={"rate": Decimal(rate)}
        )


def make_bay(dealer, code="B01", name="1号工位", **fields):
    from aftersales.workorders.models import WorkshopBay

    bay, _ = WorkshopBay.objects.get_or_create(
        dealer=dealer, code=code, defaults={"name": name, **fields}
    )
    return bay


def make_repair_order(
    *, dealer, status=S.DRAFT, vehicle=None, advisor=None, lines=True, now=None, **fields
):
    """An order of ``dealer`` in ``status``. The vehicle (and its owner) is created when
    not given; ``lines`` adds one approved labour line (an assigned job once work may
    start) when the status implies an estimate. Its check-in, signature and start times
    are ``now`` (default: the clock's), so a test of a fixed day can set them before it."""
    from aftersales.crm.testing import make_customer, make_vehicle
    from aftersales.workorders.models import RepairOrder, RepairOrderLine

    advisor = advisor or advisor_of(dealer)
    if vehicle is None:
        vehicle = make_vehicle(owner=make_customer(dealer=dealer), dealer=dealer)
    now = now or timezone.now()
    status = S(status)
    data = {
        "dealer": dealer,
        "number": f"RO-T{next(_numbers):07d}",
        "status": status,
        "vehicle": vehicle,
        "customer_id": vehicle.owner_id,
        "contact_name": "张伟",
        "service_advisor": advisor,
    }
    if status in _RECEIVED:
        data.update(
            odometer_km=(vehicle.odometer_km or 10_000) + 100,
            fuel_level=FuelLevel.HALF,
            concern="前轮刹车有异响",
            covers_installed=True,
            checked_in_at=now,
        )
    reached = _ORDER.index(status)
    if status not in (S.DRAFT, S.CHECKED_IN, S.DIAGNOSING, S.CANCELLED):
        data.update(
            payment_method=PaymentMethod.WECHAT,
            old_parts=OldPartsDisposition.TAKE_HOME,
            promised_at=now + timezone.timedelta(hours=3),
        )
    if status in _SIGNED:
        data.update(
            signature_kind=SignatureKind.PAPER,
            signed_by_name="张伟",
            signed_at=now,
            approved_at=now,
        )
    if reached >= _ORDER.index(S.IN_PROGRESS) and status != S.CANCELLED:
        data["started_at"] = now
    if status == S.CANCELLED:
        data.update(cancel_reason="客户取消", cancelled_at=now)
    data.update(fields)
    order = RepairOrder.objects.create(**data)
    if lines and status not in (S.DRAFT, S.CHECKED_IN, S.DIAGNOSING):
        op = make_operation(code="OP-BRAKE-F", name="更换前刹车片", hours="1.2")
        decided = status in _SIGNED
        RepairOrderLine.objects.create(
            repair_order=order,
            kind=LineKind.LABOUR,
            operation=op,
            description=op.name,
            quantity=Decimal("1.2"),
            standard_hours=Decimal("1.2"),
            unit_price=Decimal("120"),
            amount=Decimal("144.00"),
            pay_type=PayType.CUSTOMER,
            approval=Approval.APPROVED if decided else Approval.PROPOSED,
            approval_channel=ApprovalChannel.SIGNATURE if decided else "",
            job_status=JobStatus.PENDING,
        )
        order.estimate_total = Decimal("144.00")
        order.save(update_fields=["estimate_total"])
    return order


# ---------------------------------------------------------------- quality (self-check, QC,
# delivery, follow-up)


def worked_on_by(order, technician, *, hours=1):
    """``technician`` clocked on and off the order's labour lines, which are then done:
    what the workshop leaves behind before the self-check."""
    from aftersales.workorders.models import ClockEntry

    end = timezone.now()
    start = end - timezone.timedelta(hours=hours)
    for line in order.lines.filter(kind=LineKind.LABOUR):
        ClockEntry.objects.create(
            dealer_id=order.dealer_id,
            repair_order=order,
            line=line,
            technician=technician,
            started_at=start,
            ended_at=end,
            reason="finished",
        )
    order.lines.filter(kind=LineKind.LABOUR).update(job_status=JobStatus.DONE)
    return order


def all_true(checklist):
    """Every item of ``checklist`` (a dict of key -> label) answered yes."""
    return dict.fromkeys(checklist, True)


# ---------------------------------------------------------------- workshop (dispatch and work)


def labour_line(order):
    """The order's first labour line (the job ``make_repair_order`` adds)."""
    return order.lines.filter(kind=LineKind.LABOUR).order_by("position", "id").first()


def add_labour_line(order, *, name="检查底盘", hours="0.5", approval=Approval.APPROVED, **fields):
    """Another labour line (a second job) on ``order``."""
    from aftersales.workorders.models import RepairOrderLine

    op = make_operation(name=name, hours=hours)
    return RepairOrderLine.objects.create(
        repair_order=order,
        kind=LineKind.LABOUR,
        operation=op,
        description=name,
        quantity=Decimal(hours),
        standard_hours=Decimal(hours),
        unit_price=Decimal("120"),
        amount=Decimal(hours) * 120,
        approval=approval,
        approval_channel=ApprovalChannel.COUNTER if approval == Approval.APPROVED else "",
        additional=approval != Approval.APPROVED,
        job_status=JobStatus.PENDING,
        **fields,
    )


def add_part_line(order, *, quantity="2", on_hand="10", reserve=True, part=None):
    """A part line on ``order`` drawn from the dealer's main warehouse (stocked with
    ``on_hand`` units), reserved for the line when ``reserve``; sets the order's warehouse."""
    from aftersales.parts.stock import Doc
    from aftersales.parts.stock import reserve as reserve_stock
    from aftersales.parts.testing import make_part, make_warehouse, stock_up
    from aftersales.workorders.models import RepairOrder, RepairOrderLine

    warehouse = make_warehouse(dealer=order.dealer)
    part = part or make_part()
    stock_up(warehouse=warehouse, part=part, quantity=on_hand)
    RepairOrder.objects.filter(pk=order.pk).update(warehouse=warehouse)
    order.warehouse = warehouse
    line = RepairOrderLine.objects.create(
        repair_order=order,
        kind=LineKind.PART,
        part=part,
        description=part.name,
        quantity=Decimal(quantity),
        unit_price=part.list_price,
        amount=part.list_price * Decimal(quantity),
        approval=Approval.APPROVED,
        approval_channel=ApprovalChannel.SIGNATURE,
    )
    if reserve:
        line.reservation = reserve_stock(
            actor=None,
            warehouse=warehouse,
            part=part,
            quantity=Decimal(quantity),
            key=line.key,
            doc=Doc(type="repair_order", id=order.id, number=order.number),
        )
        line.save(update_fields=["reservation"])
    return line
