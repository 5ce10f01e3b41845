"""The labour catalogue and the dealer's set-up: look-ups and services."""

import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from aftersales.catalogue.demo import load_catalogue_demo
from aftersales.catalogue.models import Variant, VehicleModel
from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.models import AuditLog
from aftersales.crm.models import Vehicle
from aftersales.org.models import Dealer
from aftersales.parts.testing import make_part
from aftersales.workorders import labour
from aftersales.workorders.models import (
    LabourOperation,
    LabourRate,
    LabourTime,
    MaintenancePackage,
    ServiceSettings,
    WorkshopBay,
)
from aftersales.workorders.testing import make_operation, make_rates

pytestmark = pytest.mark.django_db


@pytest.fixture
def cat(db):
    load_catalogue_demo()
    x3 = VehicleModel.objects.get(code="X3")
    return {
        "x3": x3,
        "x3_2024": Variant.objects.get(code="X3-15T-2024"),
        "x3_other": Variant.objects.filter(vehicle_model=x3).exclude(code="X3-15T-2024").first(),
        "s7": VehicleModel.objects.get(code="S7"),
    }


@pytest.fixture
def bj01(demo_org):
    return Dealer.objects.get(code="BJ01")


# ------------------------------------------------------------------ look-ups


def test_standard_hours_prefers_variant_then_model_then_default(cat):
    # given an operation with a default, a model time and a variant time
    op = make_operation(code="OP-SH", hours="2.0")
    LabourTime.objects.create(operation=op, vehicle_model=cat["x3"], hours=Decimal("1.5"))
    LabourTime.objects.create(
        operation=op, vehicle_model=cat["x3"], variant=cat["x3_2024"], hours=Decimal("1.2")
    )
    s7_variant = Variant.objects.filter(vehicle_model=cat["s7"]).first()
    # then each variant gets the most specific time
    assert labour.standard_hours(op, cat["x3_2024"]) == Decimal("1.20")
    assert labour.standard_hours(op, cat["x3_other"]) == Decimal("1.50")
    assert labour.standard_hours(op, s7_variant) == Decimal("2.00")
    assert labour.standard_hours(op, None) == Decimal("2.00")


def test_standard_hours_is_one_query(cat, django_assert_num_queries):
    op = make_operation(code="OP-SH1", hours="2.0")
    with django_assert_num_queries(1):
        labour.standard_hours(op, cat["x3_2024"])


def test_labour_rate_found_and_missing(bj01):
    # given BJ01 with only a customer rate
    LabourRate.objects.create(dealer=bj01, pay_type="customer", rate=Decimal("150"))
    assert labour.labour_rate(bj01, "customer") == Decimal("150.00")
    # when the warranty rate is asked for, then the error names the pay type
    with translation.override("en"), pytest.raises(ValidationFailed) as err:
        labour.labour_rate(bj01, "warranty")
    assert err.value.code == "no_labour_rate"
    assert "Warranty" in str(err.value.message)


def test_packages_for_puts_the_matching_interval_first(cat):
    # given packages for X3, for every model, for another model and an inactive one
    x3, s7 = cat["x3"], cat["s7"]
    p10 = MaintenancePackage.objects.create(code="P10", name="1万公里", interval_km=10_000)
    p40 = MaintenancePackage.objects.create(
        code="P40", name="4万公里", interval_km=40_000, vehicle_model=x3
    )
    p5 = MaintenancePackage.objects.create(code="P5", name="首保", interval_km=5_000)
    MaintenancePackage.objects.create(code="PS7", name="S7", interval_km=10_000, vehicle_model=s7)
    MaintenancePackage.objects.create(code="POLD", name="old", interval_km=10_000, active=False)
    car = Vehicle(variant=cat["x3_2024"])
    # when the car comes in at 39,600 km
    found = labour.packages_for(car, 39_600)
    # then the 40,000 km service comes first, then the 10,000 (also due), then the rest
    assert found == [p40, p10, p5]
    # and at 15,000 km the 5,000 km interval matches (15,000 is a multiple) and 10,000 not
    assert labour.packages_for(car, 15_000)[0] == p5


# ------------------------------------------------------------------ operations and times


def test_operation_create_and_update_by_the_oem_admin(demo_org):
    admin = demo_org["oem-admin"]
    # when the OEM admin creates an operation
    op = labour.labour_operation_create(
        actor=admin, code="br-01", name="更换前刹车片", category="chassis", default_hours="1.2"
    )
    # then it is stored with the code in capitals, audited
    assert op.code == "BR-01" and op.default_hours == Decimal("1.20")
    assert AuditLog.objects.filter(object_id=str(op.pk), action="create").exists()
    # when it is changed
    labour.labour_operation_update(actor=admin, operation=op, default_hours="1.5", active=False)
    op.refresh_from_db()
    assert (op.default_hours, op.active) == (Decimal("1.50"), False)
    assert AuditLog.objects.filter(object_id=str(op.pk), action="update").exists()


@pytest.mark.parametrize("user", ["bj01-admin", "bj01-svcmgr", "north-rm", "oem-analyst"])
def test_operation_create_refused_without_the_oem_permission(demo_org, user):
    with pytest.raises(PermissionDenied):
        labour.labour_operation_create(
            actor=demo_org[user], code="X1", name="x", category="other", default_hours="1"
        )
    assert not LabourOperation.objects.filter(code="X1").exists()


@pytest.mark.parametrize(
    ("field", "data"),
    [
        ("code", {"code": "bad code!"}),
        ("name", {"name": "  "}),
        ("category", {"category": "nope"}),
        ("default_hours", {"default_hours": "0"}),
        ("default_hours", {"default_hours": "abc"}),
        ("default_hours", {"default_hours": "1.234"}),
        ("warranty_scope", {"warranty_scope": "forever"}),
    ],
)
def test_operation_create_validates(demo_org, field, data):
    values = {"code": "OK1", "name": "检查", "category": "diagnosis", "default_hours": "1"}
    values.update(data)
    with pytest.raises(ValidationFailed) as err:
        labour.labour_operation_create(actor=demo_org["oem-admin"], **values)
    assert field in err.value.fields
    assert not LabourOperation.objects.exists()


def test_operation_code_is_unique_and_never_changes(demo_org):
    admin = demo_org["oem-admin"]
    op = make_operation(code="DUP")
    with pytest.raises(ValidationFailed) as err:
        labour.labour_operation_create(
            actor=admin, code="dup", name="x", category="other", default_hours="1"
        )
    assert "code" in err.value.fields
    with pytest.raises(ValidationFailed):
        labour.labour_operation_update(actor=admin, operation=op, code="NEW")


def test_labour_time_set_replaces_and_remove(demo_org, cat):
    admin = demo_org["oem-admin"]
    op = make_operation(code="OP-T")
    # when a model time is set twice and a variant time once
    first = labour.labour_time_set(actor=admin, operation=op, vehicle_model=cat["x3"], hours="1.0")
    again = labour.labour_time_set(actor=admin, operation=op, vehicle_model=cat["x3"], hours="1.1")
    labour.labour_time_set(
        actor=admin, operation=op, vehicle_model=cat["x3"], variant=cat["x3_2024"], hours="0.9"
    )
    # then the model row was replaced, and both apply
    assert first.pk == again.pk and LabourTime.objects.filter(operation=op).count() == 2
    assert labour.standard_hours(op, cat["x3_other"]) == Decimal("1.10")
    assert labour.standard_hours(op, cat["x3_2024"]) == Decimal("0.90")
    # when the variant's time is removed, the model's applies again
    labour.labour_time_remove(
        actor=admin, labour_time=LabourTime.objects.get(variant=cat["x3_2024"])
    )
    assert labour.standard_hours(op, cat["x3_2024"]) == Decimal("1.10")


def test_labour_time_refuses_a_variant_of_another_model(demo_org, cat):
    op = make_operation(code="OP-T2")
    with pytest.raises(ValidationFailed) as err:
        labour.labour_time_set(
            actor=demo_org["oem-admin"],
            operation=op,
            vehicle_model=cat["s7"],
            variant=cat["x3_2024"],
            hours="1",
        )
    assert "variant" in err.value.fields
    assert not LabourTime.objects.exists()


def test_labour_time_refused_to_a_dealer(demo_org, cat):
    with pytest.raises(PermissionDenied):
        labour.labour_time_set(
            actor=demo_org["bj01-svcmgr"],
            operation=make_operation(code="OP-T3"),
            vehicle_model=cat["x3"],
            hours="1",
        )


# ------------------------------------------------------------------ packages


def test_package_create_and_update_contents(demo_org, cat):
    admin = demo_org["oem-admin"]
    oil, filt = make_part(name="机油"), make_part(name="机滤")
    change = make_operation(code="PK-OIL")
    check = make_operation(code="PK-CHK")
    # when a package is created with an operation and two parts
    package = labour.package_create(
        actor=admin,
        code="x3-10k",
        name="X3 1万公里保养",
        vehicle_model=cat["x3"],
        interval_km=10_000,
        interval_months=12,
        operations=[change],
        parts=[(oil, "4"), (filt, 1)],
    )
    # then it holds them
    assert package.code == "X3-10K"
    assert [po.operation for po in package.operations.all()] == [change]
    assert {(pp.part_id, pp.quantity) for pp in package.parts.all()} == {
        (oil.pk, Decimal("4.00")),
        (filt.pk, Decimal("1.00")),
    }
    # when its operations are replaced and the name changed (parts untouched)
    labour.package_update(actor=admin, package=package, name="新名", operations=[change, check])
    package.refresh_from_db()
    assert package.name == "新名"
    assert package.operations.count() == 2 and package.parts.count() == 2
    assert AuditLog.objects.filter(object_id=str(package.pk), action="update").count() >= 2


def test_package_validates_contents(demo_org):
    admin = demo_org["oem-admin"]
    oil = make_part()
    with pytest.raises(ValidationFailed) as err:
        labour.package_create(actor=admin, code="P1", name="x", parts=[(oil, 1), (oil, 2)])
    assert "parts" in err.value.fields
    with pytest.raises(ValidationFailed) as err:
        labour.package_create(actor=admin, code="P1", name="x", parts=[(oil, "0")])
    assert "parts" in err.value.fields
    with pytest.raises(ValidationFailed) as err:
        labour.package_create(actor=admin, code="P1", name="x", interval_km=-5)
    assert "interval_km" in err.value.fields
    assert not MaintenancePackage.objects.exists()


def test_package_refused_to_a_dealer(demo_org):
    with pytest.raises(PermissionDenied):
        labour.package_create(actor=demo_org["bj01-admin"], code="P1", name="x")


# ------------------------------------------------------------------ dealer set-up


def test_labour_rate_set_creates_then_updates(demo_org, bj01):
    manager = demo_org["bj01-svcmgr"]
    rate = labour.labour_rate_set(actor=manager, dealer=bj01, pay_type="customer", rate="180")
    again = labour.labour_rate_set(actor=manager, dealer=bj01, pay_type="customer", rate="190.5")
    assert rate.pk == again.pk and again.rate == Decimal("190.50")
    assert labour.labour_rate(bj01, "customer") == Decimal("190.50")


@pytest.mark.parametrize("user", ["tj01-svcmgr", "bj01-sa", "bj01-tech"])
def test_labour_rate_set_refused_elsewhere_or_without_role(demo_org, bj01, user):
    with pytest.raises(PermissionDenied):
        labour.labour_rate_set(actor=demo_org[user], dealer=bj01, pay_type="customer", rate="1")
    assert not LabourRate.objects.exists()


@pytest.mark.parametrize(
    ("pay_type", "rate"), [("gift", "100"), ("customer", "-1"), ("customer", "x")]
)
def test_labour_rate_set_validates(demo_org, bj01, pay_type, rate):
    make_rates(bj01)
    with pytest.raises(ValidationFailed):
        labour.labour_rate_set(
            actor=demo_org["bj01-svcmgr"], dealer=bj01, pay_type=pay_type, rate=rate
        )
    assert LabourRate.objects.get(dealer=bj01, pay_type="customer").rate == Decimal("120")


def test_bay_create_update_and_unique_code(demo_org, bj01):
    admin = demo_org["bj01-admin"]
    bay = labour.bay_create(actor=admin, dealer=bj01, code="b01", name="1号工位", kind="quick")
    assert (bay.code, bay.kind) == ("B01", "quick")
    labour.bay_update(actor=admin, bay=bay, name="快修1", active=False)
    bay.refresh_from_db()
    assert (bay.name, bay.active) == ("快修1", False)
    with pytest.raises(ValidationFailed) as err:
        labour.bay_create(actor=admin, dealer=bj01, code="B01", name="dup")
    assert "code" in err.value.fields
    with pytest.raises(ValidationFailed):
        labour.bay_create(actor=admin, dealer=bj01, code="B02", name="x", kind="spaceship")
    with pytest.raises(PermissionDenied):
        labour.bay_create(actor=demo_org["tj01-admin"], dealer=bj01, code="B03", name="x")
    assert WorkshopBay.objects.count() == 1


def test_service_settings_update_creates_and_validates(demo_org, bj01):
    manager = demo_org["bj01-svcmgr"]
    # when saved the first time
    s = labour.service_settings_update(
        actor=manager,
        dealer=bj01,
        follow_up_after_hours=24,
        follow_up_due_hours=48,
        comeback_days=45,
        workday_start=datetime.time(8, 0),
        workday_end="17:30",
    )
    assert ServiceSettings.for_dealer(bj01).pk == s.pk
    assert (s.follow_up_due_hours, s.comeback_days, s.workday_end) == (
        48,
        45,
        datetime.time(17, 30),
    )
    assert AuditLog.objects.filter(object_id=str(s.pk), action="create").exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"follow_up_due_hours": 12}, "follow_up_due_hours"),
        ({"follow_up_due_hours": 24 * 7 + 1}, "follow_up_due_hours"),
        ({"follow_up_after_hours": 60, "follow_up_due_hours": 48}, "follow_up_due_hours"),
        ({"comeback_days": 0}, "comeback_days"),
        ({"comeback_days": 366}, "comeback_days"),
        ({"workday_start": "18:00", "workday_end": "08:00"}, "workday_end"),
        ({"workday_start": "late"}, "workday_start"),
        ({"follow_up_attempts": 0}, "follow_up_attempts"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_service_settings_update_refuses_bad_values(demo_org, bj01, changes, field):
    with pytest.raises(ValidationFailed) as err:
        labour.service_settings_update(actor=demo_org["bj01-svcmgr"], dealer=bj01, **changes)
    assert field in err.value.fields
    assert not ServiceSettings.objects.exists()


def test_service_settings_refused_to_an_advisor(demo_org, bj01):
    with pytest.raises(PermissionDenied):
        labour.service_settings_update(actor=demo_org["bj01-sa"], dealer=bj01, comeback_days=10)
