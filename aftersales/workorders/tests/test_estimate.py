"""The estimate (issue 5 item 5): pricing per pay type, warranty per line, fitment and
supersession of parts, reservations and shortages, packages, totals, promised time."""

import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from aftersales.core.errors import ValidationFailed
from aftersales.core.workdays import CALENDAR_TZ
from aftersales.org.models import Dealer, RoleAssignment
from aftersales.workorders import estimate
from aftersales.workorders.choices import (
    Approval,
    EventKind,
    LineKind,
    PayType,
    ROStatus,
    WarrantyStatus,
)
from aftersales.workorders.models import (
    MaintenancePackage,
    PackageOperation,
    PackagePart,
    RepairOrderLine,
)
from aftersales.workorders.testing import make_operation, make_rates, make_repair_order
from aftersales.workorders.transitions import StaleVersion

pytestmark = pytest.mark.django_db
S = ROStatus


@pytest.fixture
def bj(demo_org):
    dealer = Dealer.objects.get(code="BJ01")
    make_rates(dealer)
    return dealer


@pytest.fixture
def sa(demo_org):
    return demo_org["bj01-sa"]


def fresh_vehicle(dealer, **fields):
    """A vehicle bought a year ago: in its whole-vehicle warranty."""
    from aftersales.crm.testing import make_customer, make_vehicle

    bought = datetime.date.today() - datetime.timedelta(days=365)
    fields.setdefault("sale_date", bought)
    fields.setdefault("invoice_date", bought)
    return make_vehicle(owner=make_customer(dealer=dealer), dealer=dealer, **fields)


def order_of(dealer, status=S.CHECKED_IN, **fields):
    fields.setdefault("vehicle", fresh_vehicle(dealer))
    return make_repair_order(dealer=dealer, status=status, lines=False, **fields)


def fitting_part(vehicle, **fields):
    from aftersales.parts.models import Fitment
    from aftersales.parts.testing import make_part

    part = make_part(**fields)
    Fitment.objects.create(part=part, vehicle_model_id=vehicle.variant.vehicle_model_id)
    return part


# ---------------------------------------------------------------- labour pricing


def test_labour_line_is_standard_hours_times_the_rate_of_its_pay_type(bj, sa):
    # given an order and an operation of 1.25 standard hours outside warranty
    order = order_of(bj)
    op = make_operation(code="OP-WASH", hours="1.25", warranty_scope="none")
    # when the advisor adds it
    line = estimate.line_add_labour(
        actor=sa, repair_order=order, version=order.version, operation=op
    )
    # then it is priced at the customer rate and the order's total follows
    assert line.kind == LineKind.LABOUR
    assert line.pay_type == PayType.CUSTOMER
    assert (line.quantity, line.unit_price, line.amount) == (
        Decimal("1.25"),
        Decimal("120.00"),
        Decimal("150.00"),
    )
    assert line.job_status == "pending"
    assert line.approval == Approval.PROPOSED and not line.additional
    order.refresh_from_db()
    assert order.estimate_total == Decimal("150.00")
    assert order.version == 2
    assert order.events.filter(kind=EventKind.LINE).count() == 1


def test_labour_amount_rounds_half_up_to_the_cent(bj, sa):
    make_rates(bj, internal="133.33")
    order = order_of(bj)
    op = make_operation(code="OP-R", hours="0.33", warranty_scope="none")
    line = estimate.line_add_labour(
        actor=sa,
        repair_order=order,
        version=order.version,
        operation=op,
        pay_type=PayType.INTERNAL,
        hours="0.45",
    )
    # 0.45 × 133.33 = 59.9985 → 60.00
    assert line.amount == Decimal("60.00")
    assert line.standard_hours == Decimal("0.33")


def test_in_warranty_labour_goes_to_warranty_at_the_warranty_rate(bj, sa):
    order = order_of(bj)
    op = make_operation(code="OP-BRK", hours="1.00", warranty_scope="vehicle")
    line = estimate.line_add_labour(
        actor=sa, repair_order=order, version=order.version, operation=op
    )
    assert line.warranty_status == WarrantyStatus.IN
    assert line.pay_type == PayType.WARRANTY
    assert line.amount == Decimal("100.00")
    assert line.warranty_reason


def test_needs_oem_decision_stays_with_the_customer_and_shows_why(bj, sa):
    order = order_of(bj, odometer_suspect=True, odometer_reason="仪表更换")
    op = make_operation(code="OP-BRK2", hours="1.00", warranty_scope="vehicle")
    with translation.override("en"):  # the reason is written in the advisor's language
        line = estimate.line_add_labour(
            actor=sa, repair_order=order, version=order.version, operation=op
        )
    assert line.warranty_status == WarrantyStatus.OEM_DECISION
    assert line.pay_type == PayType.CUSTOMER
    assert "OEM" in line.warranty_reason


def test_warranty_pay_type_is_refused_for_work_out_of_warranty(bj, sa):
    order = order_of(bj)
    op = make_operation(code="OP-OIL", hours="0.5", warranty_scope="none")
    with pytest.raises(ValidationFailed) as refused:
        estimate.line_add_labour(
            actor=sa,
            repair_order=order,
            version=order.version,
            operation=op,
            pay_type=PayType.WARRANTY,
        )
    assert refused.value.code == "out_of_warranty"
    assert not order.lines.exists()


def test_a_stale_version_is_refused_and_changes_nothing(bj, sa):
    order = order_of(bj)
    op = make_operation(code="OP-X", hours="1", warranty_scope="none")
    estimate.line_add_labour(actor=sa, repair_order=order, version=order.version, operation=op)
    with pytest.raises(StaleVersion) as refused:
        estimate.line_add_labour(actor=sa, repair_order=order, version=order.version, operation=op)
    assert refused.value.status == 409
    assert order.lines.count() == 1


def test_another_dealers_advisor_may_not_change_the_estimate(bj, sa, demo_org):
    from aftersales.core.errors import PermissionDenied

    order = order_of(bj)
    with pytest.raises(PermissionDenied):
        estimate.line_add_fee(
            actor=demo_org["tj01-sa"],
            repair_order=order,
            version=order.version,
            description="环保费",
            amount="10",
        )


# ---------------------------------------------------------------- parts


def test_a_part_that_does_not_fit_the_vehicle_is_refused(bj, sa):
    from aftersales.catalogue.models import VehicleModel
    from aftersales.parts.models import Fitment
    from aftersales.parts.testing import make_part

    order = order_of(bj)
    other_model = VehicleModel.objects.exclude(pk=order.vehicle.variant.vehicle_model_id).first()
    part = make_part()
    Fitment.objects.create(part=part, vehicle_model=other_model)
    with pytest.raises(ValidationFailed) as refused:
        estimate.line_add_part(
            actor=sa, repair_order=order, version=order.version, part=part, quantity=1
        )
    assert refused.value.code == "part_does_not_fit"
    assert part.number in str(refused.value.message)
    assert not order.lines.exists()


def test_a_universal_part_fits_every_vehicle(bj, sa):
    from aftersales.parts.testing import make_part

    order = order_of(bj)
    part = make_part(universal=True, list_price=Decimal("35.50"))
    line = estimate.line_add_part(
        actor=sa, repair_order=order, version=order.version, part=part, quantity=2
    )
    assert (line.unit_price, line.amount) == (Decimal("35.50"), Decimal("71.00"))


def test_a_superseded_number_is_replaced_by_the_current_one(bj, sa):
    from aftersales.parts.testing import make_part

    order = order_of(bj)
    new = fitting_part(order.vehicle, list_price=Decimal("99.00"))
    old = make_part(superseded_by=new)
    line = estimate.line_add_part(
        actor=sa, repair_order=order, version=order.version, part=old, quantity=1
    )
    assert line.part_id == new.pk
    assert line.unit_price == Decimal("99.00")
    assert old.number in line.fitment_warning and new.number in line.fitment_warning


def test_available_stock_is_reserved_and_the_rest_recorded_as_shortage(bj, sa):
    from aftersales.parts.models import PartDemand, StockItem
    from aftersales.parts.testing import make_warehouse, stock_up

    warehouse = make_warehouse(dealer=bj)
    order = order_of(bj, warehouse=warehouse)
    part = fitting_part(order.vehicle)
    stock_up(warehouse=warehouse, part=part, quantity=3)
    # when 5 are put on the order
    line = estimate.line_add_part(
        actor=sa, repair_order=order, version=order.version, part=part, quantity=5
    )
    # then 3 are reserved for the line, 2 are to order
    assert line.reservation.quantity == Decimal("3")
    assert line.reservation.key == line.key
    assert line.reservation.doc_number == order.number
    assert estimate.line_stock(line) == {"reserved": Decimal("3"), "to_order": Decimal("2")}
    assert StockItem.objects.get(warehouse=warehouse, part=part).reserved == Decimal("3")
    short = PartDemand.objects.get(key=f"{line.key}:short")
    assert (short.quantity, short.served) == (Decimal("2"), False)


def test_changing_the_quantity_reserves_again(bj, sa):
    from aftersales.parts.models import StockItem
    from aftersales.parts.testing import make_warehouse, stock_up

    warehouse = make_warehouse(dealer=bj)
    order = order_of(bj, warehouse=warehouse)
    part = fitting_part(order.vehicle)
    stock_up(warehouse=warehouse, part=part, quantity=4)
    line = estimate.line_add_part(
        actor=sa, repair_order=order, version=order.version, part=part, quantity=4
    )
    order.refresh_from_db()
    line = estimate.line_update(actor=sa, line=line, version=order.version, quantity="1")
    assert line.reservation.quantity == Decimal("1")
    assert line.amount == Decimal("120.00")
    assert StockItem.objects.get(warehouse=warehouse, part=part).reserved == Decimal("1")


def test_removing_a_part_line_releases_its_reservation(bj, sa):
    from aftersales.parts.choices import ReservationStatus
    from aftersales.parts.models import StockItem
    from aftersales.parts.testing import make_warehouse, stock_up

    warehouse = make_warehouse(dealer=bj)
    order = order_of(bj, warehouse=warehouse)
    part = fitting_part(order.vehicle)
    stock_up(warehouse=warehouse, part=part, quantity=2)
    line = estimate.line_add_part(
        actor=sa, repair_order=order, version=order.version, part=part, quantity=2
    )
    reservation = line.reservation
    order.refresh_from_db()
    estimate.line_remove(actor=sa, line=line, version=order.version)
    reservation.refresh_from_db()
    order.refresh_from_db()
    assert reservation.status == ReservationStatus.RELEASED
    assert StockItem.objects.get(warehouse=warehouse, part=part).reserved == 0
    assert not order.lines.exists()
    assert order.estimate_total == 0


def test_an_order_without_a_warehouse_reserves_nothing(bj, sa):
    order = order_of(bj)
    part = fitting_part(order.vehicle)
    line = estimate.line_add_part(
        actor=sa, repair_order=order, version=order.version, part=part, quantity=1
    )
    assert line.reservation is None


def test_a_line_with_parts_issued_cannot_be_removed(bj, sa):
    order = order_of(bj)
    line = estimate.line_add_fee(
        actor=sa, repair_order=order, version=order.version, description="环保费", amount="20"
    )
    RepairOrderLine.objects.filter(pk=line.pk).update(issued_qty=1)
    order.refresh_from_db()
    with pytest.raises(estimate.LineLocked):
        estimate.line_remove(actor=sa, line=line, version=order.version)
    assert order.lines.count() == 1


# ---------------------------------------------------------------- packages and totals


def test_a_package_adds_its_operations_and_parts_once(bj, sa):
    order = order_of(bj)
    package = MaintenancePackage.objects.create(code="PK10", name="一万公里保养")
    op = make_operation(code="OP-PK", hours="0.8", warranty_scope="none")
    part = fitting_part(order.vehicle)
    PackageOperation.objects.create(package=package, operation=op)
    PackagePart.objects.create(package=package, part=part, quantity=Decimal("4"))
    lines = estimate.package_apply(
        actor=sa, repair_order=order, version=order.version, package=package
    )
    assert sorted(line.kind for line in lines) == ["labour", "part"]
    order.refresh_from_db()
    assert order.estimate_total == Decimal("96.00") + Decimal("480.00")
    # applying it again adds nothing
    again = estimate.package_apply(
        actor=sa, repair_order=order, version=order.version, package=package
    )
    assert {line.pk for line in again} == {line.pk for line in lines}
    assert order.lines.count() == 2


def test_totals_by_pay_type_leave_declined_lines_apart(bj, sa, django_assert_num_queries):
    order = order_of(bj)
    for kind, amount, pay_type in (
        ("sublet", "300", PayType.INSURANCE),
        ("fee", "20", PayType.CUSTOMER),
        ("fee", "5.55", PayType.CUSTOMER),
    ):
        adder = estimate.line_add_sublet if kind == "sublet" else estimate.line_add_fee
        adder(
            actor=sa,
            repair_order=order,
            version=order.version,
            description=kind,
            amount=amount,
            pay_type=pay_type,
        )
        order.refresh_from_db()
    op = make_operation(code="OP-T", hours="2", warranty_scope="none")
    estimate.line_add_labour(actor=sa, repair_order=order, version=order.version, operation=op)
    RepairOrderLine.objects.filter(repair_order=order, description="fee", amount=20).update(
        approval=Approval.DECLINED
    )
    with django_assert_num_queries(1):
        totals = estimate.estimate_totals(order)
    assert totals["by_pay_type"]["customer"] == {
        "labour": Decimal("240.00"),
        "part": Decimal("0.00"),
        "sublet": Decimal("0.00"),
        "fee": Decimal("5.55"),
        "total": Decimal("245.55"),
    }
    assert totals["by_pay_type"]["insurance"]["sublet"] == Decimal("300.00")
    assert totals["total"] == Decimal("545.55")
    assert totals["declined"] == Decimal("20.00")


def test_a_missing_rate_refuses_the_line(bj, sa):
    from aftersales.workorders.models import LabourRate

    LabourRate.objects.filter(dealer=bj, pay_type="customer").delete()
    order = order_of(bj)
    op = make_operation(code="OP-NR", hours="1", warranty_scope="none")
    with pytest.raises(ValidationFailed) as refused:
        estimate.line_add_labour(actor=sa, repair_order=order, version=order.version, operation=op)
    assert refused.value.code == "no_labour_rate"


# ---------------------------------------------------------------- additional work


def test_lines_added_after_signing_are_additional_and_wait_for_a_decision(bj, sa):
    order = order_of(bj, status=S.IN_PROGRESS)
    op = make_operation(code="OP-ADD", hours="1", warranty_scope="none")
    line = estimate.line_add_labour(
        actor=sa, repair_order=order, version=order.version, operation=op
    )
    assert line.additional and line.approval == Approval.PROPOSED


def test_lines_cannot_be_added_once_the_work_passed_qc(bj, sa):
    order = order_of(bj, status=S.QC_PASSED)
    with pytest.raises(estimate.WorkFinished):
        estimate.line_add_fee(
            actor=sa, repair_order=order, version=order.version, description="x", amount="1"
        )


# ---------------------------------------------------------------- promised time


def _at(*args):
    return datetime.datetime(*args, tzinfo=CALENDAR_TZ)


def _labour_order(dealer, hours, status=S.ESTIMATED):
    order = order_of(dealer, status=status)
    RepairOrderLine.objects.create(
        repair_order=order,
        kind=LineKind.LABOUR,
        description="job",
        quantity=Decimal(hours),
        standard_hours=Decimal(hours),
        job_status="pending",
    )
    return order


def test_promised_time_skips_the_night_and_the_weekend(bj):
    # Friday 27 November 2026 16:00, 3 hours of work, an empty workshop
    order = _labour_order(bj, "3")
    promised = estimate.promised_time(order, now=_at(2026, 11, 27, 16, 0))
    # 2 hours on Friday until 18:00, 1 hour from Monday 08:30
    assert promised == _at(2026, 11, 30, 9, 30)


def test_promised_time_skips_public_holidays(bj):
    # Wednesday 30 September 2026 17:00; 1-7 October is the National Day holiday
    order = _labour_order(bj, "3")
    promised = estimate.promised_time(order, now=_at(2026, 9, 30, 17, 0))
    assert promised == _at(2026, 10, 8, 10, 30)


def test_promised_time_follows_the_dealers_working_hours(bj):
    from aftersales.workorders.models import ServiceSettings

    ServiceSettings.objects.create(
        dealer=bj, workday_start=datetime.time(9, 0), workday_end=datetime.time(17, 0)
    )
    order = _labour_order(bj, "2")
    promised = estimate.promised_time(order, now=_at(2026, 11, 26, 7, 0))
    assert promised == _at(2026, 11, 26, 11, 0)


def test_promised_time_adds_the_workshop_load_shared_by_the_technicians(bj, demo_org):
    from aftersales.org.models import User

    technicians = RoleAssignment.objects.filter(role="technician", dealer=bj, active=True)
    while technicians.values("user").distinct().count() < 2:
        user = User.objects.create(username=f"tech-extra-{technicians.count()}", dealer=bj)
        RoleAssignment.objects.create(user=user, role="technician", dealer=bj)
    count = technicians.values("user").distinct().count()
    # another order holds 4 h (1 h of it done), a finished job and a cancelled order do not count
    busy = _labour_order(bj, "4", status=S.IN_PROGRESS)
    busy.lines.update(actual_hours=Decimal("1"))
    done = _labour_order(bj, "5", status=S.IN_PROGRESS)
    done.lines.update(job_status="done")
    _labour_order(bj, "7", status=S.CANCELLED)
    _labour_order(Dealer.objects.get(code="TJ01"), "9", status=S.IN_PROGRESS)
    order = _labour_order(bj, "1")
    load, techs = estimate.workshop_load(order)
    assert (load, techs) == (Decimal("3"), count)
    promised = estimate.promised_time(order, now=_at(2026, 11, 26, 9, 0))
    expected = _at(2026, 11, 26, 9, 0) + datetime.timedelta(hours=1 + 3 / count)
    assert abs(promised - expected) < datetime.timedelta(minutes=5)
    assert promised >= expected


def test_terms_default_to_the_promised_time_and_refuse_the_past(bj, sa):
    from django.utils import timezone

    order = _labour_order(bj, "1", status=S.CHECKED_IN)
    order = estimate.estimate_set_terms(
        actor=sa,
        repair_order=order,
        version=order.version,
        payment_method="wechat",
        old_parts="take_home",
        free_wash=False,
    )
    assert order.promised_at > timezone.now()
    assert (order.payment_method, order.old_parts, order.free_wash) == (
        "wechat",
        "take_home",
        False,
    )
    with pytest.raises(ValidationFailed) as refused:
        estimate.estimate_set_terms(
            actor=sa,
            repair_order=order,
            version=order.version,
            payment_method="cash",
            old_parts="leave",
            free_wash=True,
            promised_at=timezone.now() - datetime.timedelta(hours=2),
        )
    assert "promised_at" in refused.value.fields
    order.refresh_from_db()
    assert order.payment_method == "wechat"


def test_a_batch_looks_up_fitment_stock_and_labour_times_once_whatever_its_size(bj, sa):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from aftersales.parts.models import PartDemand
    from aftersales.parts.testing import make_warehouse, stock_up

    warehouse = make_warehouse(dealer=bj)
    order = order_of(bj, warehouse=warehouse)
    parts = [fitting_part(order.vehicle) for _ in range(4)]
    for part in parts:
        stock_up(warehouse=warehouse, part=part, quantity=2)
    ops = [make_operation(code=f"APBT{n}", hours="1.0") for n in range(3)]
    lines = [{"kind": "labour", "operation": op} for op in ops] + [
        {"kind": "part", "part": part, "quantity": "3"} for part in parts
    ]

    with CaptureQueriesContext(connection) as queries:
        added = estimate.estimate_add_lines(
            actor=sa, repair_order=order, version=order.version, lines=lines
        )

    def reads(table):
        return [
            q for q in queries if q["sql"].startswith("SELECT") and f'FROM "{table}"' in q["sql"]
        ]

    # one read of each for the seven lines
    assert len(reads("parts_fitment")) == 1
    assert len(reads("workorders_labourtime")) == 1
    assert len(reads("parts_stockitem")) == 1
    # and each part line reserved what there was, the rest counted as a shortage
    part_lines = [line for line in added if line.kind == "part"]
    assert [line.reservation.quantity for line in part_lines] == [Decimal("2")] * 4
    demands = PartDemand.objects.filter(key__in=[line.key for line in part_lines])
    shortages = PartDemand.objects.filter(key__in=[f"{line.key}:short" for line in part_lines])
    assert demands.count() == 4 and {d.served for d in demands} == {True}
    assert shortages.count() == 4 and {s.quantity for s in shortages} == {Decimal("1")}
