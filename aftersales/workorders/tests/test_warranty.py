"""Warranty determination: the vehicle's terms, the powertrain, parts and the cases the
advisor leaves to the OEM. Built on unsaved catalogue records: the rules need no database."""

import datetime

import pytest
from django.utils import translation

from aftersales.catalogue.models import FuelType, Variant, VehicleModel
from aftersales.crm.models import Vehicle
from aftersales.parts.models import Part, PartCategory
from aftersales.workorders.choices import OperationCategory, WarrantyScope, WarrantyStatus
from aftersales.workorders.models import LabourOperation
from aftersales.workorders.warranty import (
    MARGIN_DAYS,
    MARGIN_KM,
    is_wear_part,
    line_warranty,
    months_later,
    vehicle_warranty,
)

IN, OUT, OEM = WarrantyStatus.IN, WarrantyStatus.OUT, WarrantyStatus.OEM_DECISION
SOLD = datetime.date(2024, 3, 2)  # vehicle term 3 y -> until 2027-03-01; powertrain 5 y
TODAY = datetime.date(2025, 6, 1)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def model(**terms):
    values = {
        "code": "S7",
        "name": "星驰 S7",
        "warranty_years": 3,
        "warranty_km": 100_000,
        "powertrain_years": 5,
        "powertrain_km": 150_000,
        "wear_part_exclusions": "刹车片\n雨刮片\n12V 蓄电池（1 年后）",
    }
    values.update(terms)
    return VehicleModel(**values)


def vehicle(*, fuel=FuelType.PETROL, vehicle_model=None, **fields):
    variant = Variant(
        code="S7-V", name="2024", vehicle_model=vehicle_model or model(), fuel_type=fuel
    )
    fields.setdefault("invoice_date", SOLD)
    return Vehicle(variant=variant, **fields)


def operation(scope=WarrantyScope.VEHICLE, category=OperationCategory.CHASSIS, name="更换减震器"):
    return LabourOperation(code="OP1", name=name, category=category, warranty_scope=scope)


def part(name="前减震器（左）", *, months=0, km=0, wear=False, category="SUSPENSION"):
    return Part(
        number="P1",
        name=name,
        warranty_months=months,
        warranty_km=km,
        wear_part=wear,
        category=PartCategory(code=category, name=category),
    )


# ------------------------------------------------------------------ the vehicle


def test_in_warranty_names_the_term_and_the_numbers():
    # given a car invoiced 2024-03-02 (3 years / 100,000 km) at 38,200 km
    car = vehicle()
    # when the advisor checks the vehicle
    result = vehicle_warranty(car, odometer_km=38_200, on=TODAY)
    # then it is in warranty, with the term and the reading in the reason
    assert result.status == IN
    assert (
        result.reason == "Vehicle warranty until 2027-03-01 / 100,000 km: in warranty (38,200 km)"
    )
    assert result.scope == WarrantyScope.VEHICLE


def test_out_of_warranty_by_time():
    result = vehicle_warranty(vehicle(), odometer_km=40_000, on=datetime.date(2027, 3, 2))
    assert result.status == OUT
    assert "ended on 2027-03-01" in result.reason


def test_last_day_is_still_covered_but_needs_the_oem_inside_the_margin():
    result = vehicle_warranty(vehicle(), odometer_km=40_000, on=datetime.date(2027, 3, 1))
    assert result.status == OEM
    assert "0 days left" in result.reason


def test_out_of_warranty_by_km_even_if_time_remains():
    result = vehicle_warranty(vehicle(), odometer_km=100_001, on=TODAY)
    assert result.status == OUT
    assert "100,001 km" in result.reason


def test_reading_equal_to_the_limit_is_within_the_margin():
    assert vehicle_warranty(vehicle(), odometer_km=100_000, on=TODAY).status == OEM


def test_vehicle_fields_win_over_the_model_terms():
    # given a vehicle with an extended warranty recorded on it
    car = vehicle(warranty_end=datetime.date(2029, 3, 1), warranty_km=200_000)
    # when checked at 150,000 km in 2028 (beyond the model's 3 years / 100,000 km)
    result = vehicle_warranty(car, odometer_km=150_000, on=datetime.date(2028, 1, 1))
    # then the vehicle's own term decides
    assert result.status == IN
    assert "2029-03-01 / 200,000 km" in result.reason


def test_sale_date_is_used_without_an_invoice_date():
    car = vehicle(invoice_date=None, sale_date=datetime.date(2022, 1, 10))
    result = vehicle_warranty(car, odometer_km=20_000, on=TODAY)
    assert result.status == OUT
    assert "2025-01-09" in result.reason


def test_no_start_known_needs_the_oem():
    car = vehicle(invoice_date=None)
    result = vehicle_warranty(car, odometer_km=20_000, on=TODAY)
    assert result.status == OEM
    assert "no warranty start known" in result.reason


def test_suspect_odometer_needs_the_oem():
    result = vehicle_warranty(vehicle(), odometer_km=20_000, on=TODAY, odometer_suspect=True)
    assert result.status == OEM
    assert "possibly tampered" in result.reason


def test_suspect_odometer_beyond_the_limit_is_still_out():
    result = vehicle_warranty(vehicle(), odometer_km=120_000, on=TODAY, odometer_suspect=True)
    assert result.status == OUT


def test_missing_odometer_needs_the_oem():
    assert vehicle_warranty(vehicle(), odometer_km=None, on=TODAY).status == OEM


@pytest.mark.parametrize(
    ("km", "on", "status"),
    [
        (100_000 - MARGIN_KM + 1, TODAY, OEM),
        (100_000 - MARGIN_KM, TODAY, IN),
        (50_000, datetime.date(2027, 3, 1) - datetime.timedelta(days=MARGIN_DAYS - 1), OEM),
        (50_000, datetime.date(2027, 3, 1) - datetime.timedelta(days=MARGIN_DAYS), IN),
    ],
)
def test_margin_before_a_limit_needs_the_oem(km, on, status):
    assert vehicle_warranty(vehicle(), odometer_km=km, on=on).status == status


# ------------------------------------------------------------------ lines


def test_maintenance_operation_is_never_warranty():
    op = operation(WarrantyScope.NONE, OperationCategory.MAINTENANCE, name="更换机油机滤")
    result = line_warranty(vehicle(), odometer_km=5_000, operation=op, on=TODAY)
    assert result.status == OUT
    assert "更换机油机滤" in result.reason and "never under warranty" in result.reason


def test_powertrain_lasts_longer_than_the_vehicle_term():
    # given a car beyond 3 years but within 5 years / 150,000 km
    on = datetime.date(2028, 1, 10)
    op = operation(WarrantyScope.POWERTRAIN, OperationCategory.ENGINE, name="更换变速箱")
    # when an engine operation and a body operation are checked
    engine = line_warranty(vehicle(), odometer_km=120_000, operation=op, on=on)
    body = line_warranty(vehicle(), odometer_km=120_000, operation=operation(), on=on)
    # then the powertrain term covers the engine, the vehicle term has ended for the body
    assert engine.status == IN and engine.scope == WarrantyScope.POWERTRAIN
    assert "Powertrain warranty until 2029-03-01 / 150,000 km" in engine.reason
    assert body.status == OUT


def test_powertrain_uses_the_vehicle_own_powertrain_fields():
    car = vehicle(powertrain_warranty_end=datetime.date(2026, 1, 1), powertrain_warranty_km=80_000)
    op = operation(WarrantyScope.POWERTRAIN)
    assert line_warranty(car, odometer_km=90_000, operation=op, on=TODAY).status == OUT


def test_wear_part_is_excluded_by_flag():
    pads = part("Some pad", wear=True)
    result = line_warranty(
        vehicle(), odometer_km=10_000, operation=operation(), part=pads, on=TODAY
    )
    assert result.status == OUT
    assert "wear part" in result.reason


def test_wear_part_is_excluded_by_the_model_list():
    # given a part not flagged but named in the model's exclusions
    pads = part("前刹车片（套）")
    assert is_wear_part(pads, model())
    result = line_warranty(vehicle(), odometer_km=10_000, part=pads, on=TODAY)
    assert result.status == OUT


def test_wear_part_with_its_own_term_is_covered_within_it():
    # given the 12 V battery: a wear part after its first year ("12V 蓄电池（1 年后）")
    battery = part("12V 蓄电池 60Ah", months=12, km=20_000, category="ELECTRIC")
    assert is_wear_part(battery, model())
    # when checked in the first year and after it
    first_year = line_warranty(
        vehicle(), odometer_km=9_000, part=battery, on=datetime.date(2024, 12, 1)
    )
    later = line_warranty(vehicle(), odometer_km=19_000, part=battery, on=TODAY)
    # then it is covered within its own term only
    assert first_year.status == IN
    assert later.status == OUT
    assert "wear part beyond its own term" in later.reason


def test_part_own_term_is_shorter_than_the_vehicle_term():
    # given a headlamp with 24 months / 100,000 km of its own on a 3-year car
    lamp = part("LED 大灯总成（左）", months=24, km=100_000, category="ELECTRIC")
    # when checked after 2 years (vehicle term still running)
    result = line_warranty(
        vehicle(),
        odometer_km=30_000,
        part=lamp,
        operation=operation(),
        on=datetime.date(2026, 4, 1),
    )
    # then the part's own term has ended
    assert result.status == OUT
    assert result.scope == "part"
    assert "Part warranty of LED 大灯总成（左） (24 months) until 2026-03-01" in result.reason


def test_part_within_both_terms_is_in_with_both_reasons():
    lamp = part("LED 大灯总成（左）", months=24, km=100_000, category="ELECTRIC")
    result = line_warranty(vehicle(), odometer_km=30_000, part=lamp, on=TODAY)
    assert result.status == IN
    assert "Vehicle warranty" in result.reason and "Part warranty" in result.reason


def test_part_without_own_term_follows_the_line_term():
    result = line_warranty(vehicle(), odometer_km=30_000, part=part(), on=TODAY)
    assert result.status == IN


def test_suspect_odometer_on_a_line_needs_the_oem():
    result = line_warranty(
        vehicle(), odometer_km=30_000, operation=operation(), on=TODAY, odometer_suspect=True
    )
    assert result.status == OEM


def test_margin_on_a_line_needs_the_oem():
    result = line_warranty(vehicle(), odometer_km=99_500, operation=operation(), on=TODAY)
    assert result.status == OEM
    assert "500 km left" in result.reason


def test_hv_item_beyond_vehicle_term_within_battery_term_needs_the_oem():
    # given an electric car beyond its 3-year vehicle warranty, within the battery term
    ev = vehicle(fuel=FuelType.BEV)
    on = datetime.date(2027, 6, 1)
    hv = operation(WarrantyScope.VEHICLE, OperationCategory.HV, name="更换车载充电机")
    # when an HV operation not marked as powertrain is checked
    result = line_warranty(ev, odometer_km=60_000, operation=hv, on=on)
    # then the advisor asks the OEM, and the reason names the battery term
    assert result.status == OEM
    assert "Battery / powertrain warranty until 2029-03-01" in result.reason
    # and an HV part on a normal operation does the same
    obc = part("车载充电机 OBC", category="NEV")
    assert line_warranty(ev, odometer_km=60_000, part=obc, on=on).status == OEM
    # while the same operation on a petrol car is simply out
    assert line_warranty(vehicle(), odometer_km=60_000, operation=hv, on=on).status == OUT


def test_hv_item_beyond_both_terms_is_out():
    ev = vehicle(fuel=FuelType.BEV)
    hv = operation(WarrantyScope.VEHICLE, OperationCategory.HV)
    result = line_warranty(ev, odometer_km=160_000, operation=hv, on=TODAY)
    assert result.status == OUT


def test_months_later_ends_the_day_before():
    assert months_later(datetime.date(2024, 3, 2), 24) == datetime.date(2026, 3, 1)
    assert months_later(datetime.date(2024, 1, 31), 1) == datetime.date(2024, 2, 29)
    assert months_later(datetime.date(2024, 12, 15), 1) == datetime.date(2025, 1, 14)
