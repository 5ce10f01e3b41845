"""The core rules of customers and vehicles: identifiers, visibility, versions."""

import datetime

import pytest
from django.utils import translation

from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.crm import selectors
from aftersales.crm.models import Customer, Vehicle
from aftersales.crm.services import customer_update, odometer_record, ownership_transfer
from aftersales.crm.testing import make_customer, make_vehicle, valid_id_number, valid_vin
from aftersales.crm.validators import normalise_plate, normalise_vin
from aftersales.org.models import Dealer


def test_vin_check_digit_is_enforced_with_the_expected_digit():
    vin = valid_vin()
    assert normalise_vin(vin.lower()) == vin
    wrong = vin[:8] + ("1" if vin[8] != "1" else "2") + vin[9:]
    with translation.override("en"), pytest.raises(Exception) as exc:
        normalise_vin(wrong)
    assert f"should be {vin[8]}" in str(exc.value)


@pytest.mark.parametrize("plate", ["京A12345", "沪AD12345", "粤B1234挂", "京A12345D", "浙AFA1234"])
def test_mainland_plates_are_accepted(plate):
    assert normalise_plate(plate.lower()) == plate


@pytest.mark.parametrize("plate", ["A12345", "京A1234", "京AI2345", "京A123456789"])
def test_bad_plates_are_refused(plate):
    with pytest.raises(Exception):  # noqa: B017 - DjangoValidationError, message checked elsewhere
        normalise_plate(plate)


def test_customer_visible_to_the_registering_dealer_only(demo_org):
    bj = Dealer.objects.get(code="BJ01")
    customer = make_customer(dealer=bj, actor=demo_org["bj01-sa"], id_number=valid_id_number())
    assert customer.birthday == datetime.date(1985, 6, 15)
    assert customer.id_number_masked.startswith("110105") and "*" in customer.id_number_masked
    assert selectors.customers(demo_org["bj01-sa"]).filter(pk=customer.pk).exists()
    assert not selectors.customers(demo_org["sh01-sa"]).filter(pk=customer.pk).exists()
    assert selectors.customers(demo_org["north-rm"]).filter(pk=customer.pk).exists()
    assert not selectors.customers(demo_org["east-rm"]).filter(pk=customer.pk).exists()
    assert selectors.customers(demo_org["oem-csagent"]).filter(pk=customer.pk).exists()


def test_stale_version_is_refused_with_409(demo_org):
    sa = demo_org["bj01-sa"]
    customer = make_customer(dealer=sa.dealer, actor=sa)
    customer_update(actor=sa, customer=customer, version=1, city="北京")
    with pytest.raises(Conflict) as exc:
        customer_update(actor=sa, customer=customer, version=1, city="天津")
    assert exc.value.status == 409
    assert Customer.objects.get(pk=customer.pk).city == "北京"


def test_reception_finds_another_dealers_vehicle_by_exact_vin_only(demo_org):
    bj_sa, sh_sa = demo_org["bj01-sa"], demo_org["sh01-sa"]
    owner = make_customer(dealer=bj_sa.dealer, actor=bj_sa)
    vehicle = make_vehicle(owner=owner, dealer=bj_sa.dealer, actor=bj_sa, odometer_km=10)
    assert not selectors.vehicles(sh_sa).filter(pk=vehicle.pk).exists()
    assert selectors.reception_lookup(sh_sa, vehicle.vin) == vehicle
    assert selectors.reception_lookup(sh_sa, vehicle.plate) == vehicle
    assert selectors.reception_lookup(sh_sa, vehicle.vin[-8:]) is None
    assert selectors.search(sh_sa, vehicle.vin[-8:]) == []
    hits = selectors.search(bj_sa, vehicle.vin[-8:])
    assert [(h.kind, h.id) for h in hits] == [("vehicle", vehicle.pk)]


def test_odometer_never_goes_back_and_transfer_keeps_history(demo_org):
    sa = demo_org["bj01-sa"]
    owner = make_customer(dealer=sa.dealer, actor=sa)
    vehicle = make_vehicle(owner=owner, dealer=sa.dealer, actor=sa)
    odometer_record(actor=sa, vehicle=vehicle, km=5000, read_on=datetime.date(2024, 9, 1))
    with pytest.raises(ValidationFailed) as exc:
        odometer_record(actor=sa, vehicle=vehicle, km=4000, read_on=datetime.date(2024, 10, 1))
    assert exc.value.code == "odometer_rollback"
    buyer = make_customer(dealer=sa.dealer, actor=sa, name="李娜")
    ownership_transfer(
        actor=sa, vehicle=vehicle, new_owner=buyer, on_date=datetime.date(2025, 1, 1)
    )
    vehicle = Vehicle.objects.get(pk=vehicle.pk)
    assert vehicle.owner == buyer
    assert list(vehicle.ownerships.values_list("customer__name", "ended_on")) == [
        ("李娜", None),
        ("张伟", datetime.date(2025, 1, 1)),
    ]
