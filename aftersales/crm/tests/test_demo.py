"""The demo customers and vehicles: big enough, valid, consistent, loaded once, and each
dealer sees only its own."""

import datetime
import itertools
import time
from collections import Counter, defaultdict

import pytest
from django.db.models import Count
from django.utils import timezone

from aftersales.catalogue.demo import load_catalogue_demo
from aftersales.catalogue.models import Variant
from aftersales.core.models import AuditLog
from aftersales.crm import pii, selectors
from aftersales.crm.demo import (
    CITY_ID_CODES,
    CITY_PLATES,
    OWNER_USERNAME,
    TAGS,
    load_crm_demo,
    plan_demo,
)
from aftersales.crm.models import (
    Customer,
    CustomerTag,
    DealerCustomer,
    DealerVehicle,
    OdometerReading,
    Ownership,
    ServiceVisit,
    Vehicle,
)
from aftersales.crm.services import apply_warranty
from aftersales.crm.validators import (
    id_birth_date,
    id_gender,
    mask_id_number,
    normalise_id_number,
    normalise_mobile,
    normalise_plate,
    normalise_vin,
    vin_year_code,
)
from aftersales.org.models import Dealer, RoleAssignment, User

DEMO_DEALERS = ["BJ01", "TJ01", "SH01", "HZ01", "GZ01", "SZ01"]
WARRANTY = [
    "warranty_start",
    "warranty_end",
    "warranty_km",
    "powertrain_warranty_end",
    "powertrain_warranty_km",
]


@pytest.fixture
def demo(demo_org):
    started = time.perf_counter()
    result = load_crm_demo()
    seconds = time.perf_counter() - started
    print(f"\ncrm demo step: {seconds:.1f} s for {result['customers']} customers")
    result["measured_seconds"] = seconds
    return result


def _table_counts():
    return {
        model.__name__: model.objects.count()
        for model in (
            Customer,
            Vehicle,
            Ownership,
            OdometerReading,
            ServiceVisit,
            DealerCustomer,
            DealerVehicle,
            CustomerTag,
            Customer.tags.through,
            User,
            AuditLog,
        )
    }


def test_demo_step_loads_a_realistic_mix_of_customers_and_vehicles_quickly(demo):
    # given the demo organisation and catalogue, when the CRM demo step runs (fixture)
    # then it is well under a minute and big enough for the demo
    assert demo["created"] is True
    assert demo["measured_seconds"] < 60
    assert Customer.objects.count() >= 2_000
    assert Vehicle.objects.count() >= 2_500
    per_dealer = Counter(DealerCustomer.objects.values_list("dealer__code", flat=True))
    assert set(per_dealer) == set(DEMO_DEALERS)
    assert min(per_dealer.values()) >= 300
    # about half have an ID number, about 60 % agreed to marketing
    customers = Customer.objects.count()
    assert 0.4 < Customer.objects.exclude(id_number_hash="").count() / customers < 0.6
    assert 0.5 < Customer.objects.filter(marketing_consent=True).count() / customers < 0.7
    assert Customer.objects.exclude(quiet_from=None).count() > customers / 5
    # some customers own two cars, fleets own several; ~5 % of cars changed hands
    owned = Counter(Customer.objects.annotate(n=Count("vehicles")).values_list("n", flat=True))
    assert owned[2] > 200 and sum(v for n, v in owned.items() if n >= 3) >= 6
    vehicles = Vehicle.objects.count()
    transferred = Vehicle.objects.annotate(n=Count("ownerships")).filter(n=2).count()
    assert 0.03 < transferred / vehicles < 0.07
    assert Vehicle.objects.annotate(n=Count("ownerships")).filter(n__gt=2).count() == 0
    # a third of the new-energy cars carry 8-character green plates, no other car does
    nev = Vehicle.objects.filter(variant__fuel_type__in=["bev", "phev", "erev"])
    green = Vehicle.objects.filter(plate__regex=r"^.{8}$")
    assert 0.25 < green.count() / nev.count() < 0.42
    assert not green.exclude(pk__in=nev.values("pk")).exists()
    # some cars are also serviced at a second dealer
    assert DealerVehicle.objects.filter(kind="serviced").count() > 30
    # every tag is used; visits of every kind
    used = Counter(Customer.tags.through.objects.values_list("customertag__name", flat=True))
    assert set(used) == set(TAGS)
    kinds = Counter(ServiceVisit.objects.values_list("kind", flat=True))
    assert {"maintenance", "repair", "warranty", "accident"} <= set(kinds)
    assert kinds["maintenance"] > ServiceVisit.objects.count() / 2
    # and the three kinds of likely duplicates for the duplicates page
    same_id = (
        Customer.objects.exclude(id_number_hash="")
        .values("id_number_hash")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert same_id.count() >= 8
    mobiles = set(Customer.objects.values_list("mobile", flat=True))
    assert Customer.objects.filter(phone2__in=mobiles).count() >= 8
    by_name = defaultdict(list)
    for name, mobile in Customer.objects.values_list("name", "mobile"):
        by_name[name].append(mobile)
    typos = sum(
        1
        for numbers in by_name.values()
        for a, b in itertools.combinations(numbers, 2)
        if sum(x != y for x, y in zip(a, b, strict=True)) == 1
    )
    assert typos >= 8


def test_every_demo_identifier_passes_the_validators_and_histories_add_up(demo):
    # given the loaded demo (fixture)
    today = timezone.localdate()
    customers = list(Customer.objects.select_related("origin_dealer"))
    # then every mobile is valid and unique, every ID number valid, of the dealer's city
    assert len({c.mobile for c in customers}) == len(customers)
    for customer in customers:
        assert normalise_mobile(customer.mobile) == customer.mobile
        assert not customer.mobile.startswith("1380000")  # the staff's numbers
        assert bool(customer.quiet_from) == bool(customer.quiet_until)
        if customer.contact_channel == "email":
            assert customer.email
        if not customer.id_number_hash:
            assert customer.id_number_encrypted == customer.id_number_masked == ""
            continue
        number = pii.decrypt(customer.id_number_encrypted)
        assert normalise_id_number(number) == number
        assert pii.blind_index(number) == customer.id_number_hash
        assert mask_id_number(number) == customer.id_number_masked
        assert customer.birthday == id_birth_date(number)
        assert customer.gender == id_gender(number)
        assert 1960 <= customer.birthday.year <= 2002
        city_codes = {code for code, _first, _last in CITY_ID_CODES[customer.origin_dealer.city]}
        assert number[:6] in city_codes
    # every VIN is valid and made from its variant; every plate valid and of the city
    vehicles = list(Vehicle.objects.select_related("variant__vehicle_model", "selling_dealer"))
    assert len({v.plate for v in vehicles}) == len(vehicles)
    for vehicle in vehicles:
        variant = vehicle.variant
        assert normalise_vin(vehicle.vin) == vehicle.vin
        assert vehicle.vin[:8] == variant.vin_prefix
        assert vehicle.vin[9] == vin_year_code(variant.model_year)
        assert (vehicle.vin_last8, vehicle.vin_last6) == (vehicle.vin[-8:], vehicle.vin[-6:])
        assert normalise_plate(vehicle.plate) == vehicle.plate
        province, letters = CITY_PLATES[vehicle.selling_dealer.city]
        assert vehicle.plate[0] == province and vehicle.plate[1] in letters
        # dates consistent with the model year; warranty from the invoice date
        assert datetime.date(2022, 1, 1) <= vehicle.sale_date < today
        assert variant.model_year - 1 <= vehicle.sale_date.year <= variant.model_year
        assert vehicle.sale_date - datetime.timedelta(days=5) <= vehicle.invoice_date
        assert vehicle.invoice_date <= vehicle.sale_date
        expected = Vehicle(
            variant=variant, sale_date=vehicle.sale_date, invoice_date=vehicle.invoice_date
        )
        apply_warranty(expected)
        assert [getattr(vehicle, f) for f in WARRANTY] == [getattr(expected, f) for f in WARRANTY]
        assert vehicle.warranty_start == vehicle.invoice_date
        assert vehicle.insurance_expiry > vehicle.sale_date
    # odometer histories: 2 to 8 readings, from the sale on, never going back, plausible
    readings = defaultdict(list)
    for row in OdometerReading.objects.order_by("read_on", "id").values_list(
        "vehicle_id", "read_on", "km"
    ):
        readings[row[0]].append(row[1:])
    by_id = {v.pk: v for v in vehicles}
    for vehicle_id, rows in readings.items():
        vehicle = by_id[vehicle_id]
        assert 2 <= len(rows) <= 8
        assert rows[0][0] == vehicle.sale_date
        assert all(a[1] < b[1] and a[0] <= b[0] for a, b in itertools.pairwise(rows))
        assert rows[-1] == (vehicle.odometer_on, vehicle.odometer_km)
        days = (rows[-1][0] - rows[0][0]).days
        if days > 180:
            assert rows[-1][1] / days * 365 < 90_000
    assert set(readings) == set(by_id)
    # every visit has the reading of its day, and belongs to who owned the car that day
    owners = defaultdict(list)
    for vehicle_id, customer_id, start, end in Ownership.objects.values_list(
        "vehicle_id", "customer_id", "started_on", "ended_on"
    ):
        owners[vehicle_id].append((customer_id, start, end))
    for visit in ServiceVisit.objects.all():
        assert (visit.visited_on, visit.odometer_km) in readings[visit.vehicle_id]
        assert any(
            customer == visit.customer_id
            and start <= visit.visited_on
            and (not end or visit.visited_on < end)
            for customer, start, end in owners[visit.vehicle_id]
        )
        assert visit.amount >= 0
    # the current owner has the one open ownership row
    for vehicle in vehicles:
        current = [o for o in owners[vehicle.pk] if o[2] is None]
        assert [o[0] for o in current] == [vehicle.owner_id]


def test_running_the_demo_twice_adds_nothing_and_prints_the_same_owner(demo):
    # given the loaded demo (fixture)
    before = _table_counts()
    # when it runs again
    again = load_crm_demo()
    # then nothing was added and the same demo owner is reported
    assert again["created"] is False
    assert _table_counts() == before
    assert again["owner_login"] == demo["owner_login"]
    assert again["registration_demo"] == demo["registration_demo"]
    # the owner login: password demo-2026, no roles, linked to the printed customer
    owner = demo["owner_login"]
    user = User.objects.get(username=OWNER_USERNAME)
    assert user.check_password("demo-2026")
    assert not RoleAssignment.objects.filter(user=user).exists()
    customer = Customer.objects.get(user=user)
    assert (customer.mobile, customer.name) == (owner["mobile"], owner["customer"])
    assert customer.id_number_hash == pii.blind_index(owner["id_number"])
    vehicle = Vehicle.objects.get(vin_last8=owner["vin_last8"])
    assert (vehicle.owner, vehicle.vin, vehicle.plate) == (customer, owner["vin"], owner["plate"])
    # the registration walk-through: VIN tail, ID and mobile of a current owner, no login
    registration = demo["registration_demo"]
    candidate = Vehicle.objects.get(vin=registration["vin"]).owner
    assert candidate.user is None
    assert candidate.mobile == registration["mobile"]
    assert candidate.id_number_hash == pii.blind_index(registration["id_number"])


def test_each_dealer_sees_only_its_own_demo_customers_and_vehicles(demo, demo_org):
    # given the loaded demo (fixture)
    linked_customers = defaultdict(set)
    for dealer_code, customer_id in DealerCustomer.objects.values_list(
        "dealer__code", "customer_id"
    ):
        linked_customers[dealer_code].add(customer_id)
    linked_vehicles = defaultdict(set)
    for dealer_code, vehicle_id in DealerVehicle.objects.values_list("dealer__code", "vehicle_id"):
        linked_vehicles[dealer_code].add(vehicle_id)
    # then no demo customer or vehicle is left without a dealer
    assert set().union(*linked_customers.values()) == set(
        Customer.objects.values_list("pk", flat=True)
    )
    assert set().union(*linked_vehicles.values()) == set(
        Vehicle.objects.values_list("pk", flat=True)
    )
    for code in DEMO_DEALERS:
        advisor = demo_org[f"{code.lower()}-sa"]
        # when a service advisor lists customers and vehicles
        seen = set(selectors.customers(advisor).values_list("pk", flat=True))
        cars = set(selectors.vehicles(advisor).values_list("pk", flat=True))
        # then exactly the dealer's related ones, including all it registered
        assert seen == linked_customers[code]
        assert cars == linked_vehicles[code]
        dealer = Dealer.objects.get(code=code)
        assert (
            set(Customer.objects.filter(origin_dealer=dealer).values_list("pk", flat=True)) <= seen
        )
        others = set(
            Customer.objects.exclude(dealer_links__dealer=dealer).values_list("pk", flat=True)
        )
        assert others and not (seen & others)
    # a region manager sees its two dealers' customers, the OEM everyone
    north = set(selectors.customers(demo_org["north-rm"]).values_list("pk", flat=True))
    assert north == linked_customers["BJ01"] | linked_customers["TJ01"]
    assert selectors.customers(demo_org["oem-csagent"]).count() == Customer.objects.count()


def test_demo_plan_is_deterministic(demo_org):
    # given the demo dealers and catalogue
    load_catalogue_demo()
    dealers = list(Dealer.objects.filter(code__in=DEMO_DEALERS).select_related("region"))
    dealers.sort(key=lambda d: DEMO_DEALERS.index(d.code))
    variants = list(Variant.objects.select_related("vehicle_model").order_by("code"))
    end = datetime.date(2026, 11, 20)
    # when the data set is drawn twice
    first = plan_demo(dealers, variants, end=end)
    second = plan_demo(dealers, variants, end=end)
    # then it is the same data
    assert [(p.name, p.mobile, p.id_number) for p in first.people] == [
        (p.name, p.mobile, p.id_number) for p in second.people
    ]
    assert [(v.vin, v.plate, v.sale_date, len(v.visits)) for v in first.vehicles] == [
        (v.vin, v.plate, v.sale_date, len(v.visits)) for v in second.vehicles
    ]


def test_prefix_and_duplicate_lookups_have_their_indexes(db):
    # given the migrated database (crm.0002_search_indexes)
    from django.db import connection

    with connection.cursor() as cursor:
        indexes = {
            table: connection.introspection.get_constraints(cursor, table)
            for table in ("crm_customer", "crm_vehicle")
        }
    # then phone2 (the duplicate check of every 360 page) is indexed on both databases
    assert "crm_customer_phone2_lookup" in indexes["crm_customer"]
    if connection.vendor == "sqlite":
        # and a plate or name prefix search (LIKE 'x%' ESCAPE) is a range scan of an index
        plate = Vehicle.objects.filter(plate__startswith="京A1")
        name = Customer.objects.filter(name__startswith="王")
        assert "USING COVERING INDEX crm_vehicle_plate_prefix (plate>? AND plate<?)" in (
            plate.only("plate").explain()
        )
        assert "USING COVERING INDEX crm_customer_name_prefix (name>? AND name<?)" in (
            name.only("name").explain()
        )
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'crm_customer_name_prefix'"
            )
            assert "varchar_pattern_ops" in cursor.fetchone()[0]
