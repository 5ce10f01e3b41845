"""The CRM API: customers, vehicles, the 360, reveal, merge, reception lookup and search.
Access per role and dealer is also covered by the generic matrix; these tests check what
the answers contain and that bad input is refused with a clear message and changes
nothing."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aftersales.catalogue.models import Variant
from aftersales.core.models import AuditAction, AuditLog
from aftersales.crm.choices import Segment, VisitKind
from aftersales.crm.models import Customer, CustomerTag, OdometerReading, ServiceVisit, Vehicle
from aftersales.crm.services import customer_update, odometer_record
from aftersales.crm.testing import (
    make_customer,
    make_vehicle,
    unique_mobile,
    unique_plate,
    valid_id_number,
    valid_vin,
)
from aftersales.org.models import Dealer

pytestmark = pytest.mark.django_db


def api(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    if code is not None:
        assert body["code"] == code
    return body


def customer_url(customer, name="detail"):
    return reverse(f"api:customer-{name}", args=[customer.pk])


def vehicle_url(vehicle, name="detail"):
    return reverse(f"api:vehicle-{name}", args=[vehicle.pk])


@pytest.fixture
def bj(demo_org):
    return Dealer.objects.get(code="BJ01")


@pytest.fixture
def sa(demo_org):
    return demo_org["bj01-sa"]


def owned_vehicle(actor, **data):
    owner = make_customer(dealer=actor.dealer, actor=actor, name=data.pop("name", "张伟"))
    return make_vehicle(owner=owner, dealer=actor.dealer, actor=actor, **data)


# ---------------------------------------------------------------- customers: create


def test_create_customer_stores_the_id_number_protected_and_answers_it_masked(sa):
    # given a service advisor and a new customer's details with a resident ID number
    number = valid_id_number(datetime.date(1990, 2, 3), seq=457)
    mobile = unique_mobile()
    # when they register the customer
    response = api(sa).post(
        reverse("api:customer-list"),
        {"name": " 王  芳 ", "mobile": mobile, "id_number": number, "tags": ["VIP", "车队"]},
        content_type="application/json",
    )
    # then the customer is created at their dealer with the birthday from the ID number
    assert response.status_code == 201, response.content
    body = response.json()
    customer = Customer.objects.get(pk=body["id"])
    assert (body["name"], body["mobile"], body["birthday"]) == ("王 芳", mobile, "1990-02-03")
    assert body["tags"] == ["VIP", "车队"]
    assert body["version"] == 1
    # and the ID number only ever appears masked: no full number, ciphertext or hash
    assert body["id_number"] == f"{number[:6]}********{number[-4:]}"
    text = response.content.decode()
    assert number not in text
    assert customer.id_number_encrypted not in text
    assert customer.id_number_hash not in text
    assert not {"id_number_encrypted", "id_number_hash"} & set(body)
    assert customer.origin_dealer_id == sa.dealer_id
    assert AuditLog.objects.filter(object_id=customer.pk, action=AuditAction.CREATE).exists()


def test_create_customer_with_a_bad_mobile_says_what_is_wrong_and_creates_nothing(sa):
    before = Customer.objects.count()
    response = api(sa).post(
        reverse("api:customer-list"),
        {"name": "王芳", "mobile": "1381234567"},
        content_type="application/json",
    )
    body = error(response, 400, "invalid")
    assert body["fields"]["mobile"] == ["A mobile number has 11 digits, not 10."]
    assert Customer.objects.count() == before


def test_create_customer_with_a_bad_id_check_digit_names_the_expected_digit(sa):
    number = valid_id_number()
    wrong = number[:17] + ("1" if number[17] != "1" else "2")
    response = api(sa).post(
        reverse("api:customer-list"),
        {"name": "王芳", "mobile": unique_mobile(), "id_number": wrong},
        content_type="application/json",
    )
    body = error(response, 400, "invalid")
    assert body["fields"]["id_number"] == [
        f"ID number check digit should be {number[17]}, not {wrong[17]}."
    ]


def test_create_customer_refuses_fields_that_cannot_be_set(sa):
    response = api(sa).post(
        reverse("api:customer-list"),
        {"name": "王芳", "mobile": unique_mobile(), "segment": "loyal", "version": 7},
        content_type="application/json",
    )
    body = error(response, 400, "invalid")
    assert set(body["fields"]) == {"segment", "version"}
    assert not Customer.objects.filter(name="王芳").exists()


def test_a_taken_mobile_is_refused(sa):
    taken = make_customer(dealer=sa.dealer, actor=sa)
    response = api(sa).post(
        reverse("api:customer-list"),
        {"name": "李四", "mobile": taken.mobile},
        content_type="application/json",
    )
    body = error(response, 400, "invalid")
    assert "already belongs to another customer" in body["fields"]["mobile"][0]


def test_oem_staff_register_a_customer_at_the_dealer_they_name(demo_org):
    agent = demo_org["oem-csagent"]
    sh = Dealer.objects.get(code="SH01")
    url = reverse("api:customer-list")
    # given an OEM customer-service agent registering a customer for SH01
    response = api(agent).post(
        url, {"name": "赵敏", "mobile": unique_mobile(), "dealer": sh.pk}, "application/json"
    )
    # then the customer belongs to SH01: its staff see it, BJ01's do not
    assert response.status_code == 201, response.content
    customer_id = response.json()["id"]
    assert response.json()["origin_dealer"] == sh.pk
    assert api(demo_org["sh01-sa"]).get(f"/api/crm/customers/{customer_id}/").status_code == 200
    assert api(demo_org["bj01-sa"]).get(f"/api/crm/customers/{customer_id}/").status_code == 404
    # without a dealer the customer is the OEM's alone (e.g. a hotline caller)
    response = api(agent).post(url, {"name": "赵敏", "mobile": unique_mobile()}, "application/json")
    assert response.status_code == 201, response.content
    assert response.json()["origin_dealer"] is None
    assert (
        api(demo_org["sh01-sa"]).get(f"/api/crm/customers/{response.json()['id']}/").status_code
        == 404
    )


def test_a_dealer_user_cannot_register_a_customer_at_another_dealer(sa):
    sh = Dealer.objects.get(code="SH01")
    response = api(sa).post(
        reverse("api:customer-list"),
        {"name": "赵敏", "mobile": unique_mobile(), "dealer": sh.pk},
        content_type="application/json",
    )
    error(response, 403, "permission_denied")


# ---------------------------------------------------------------- customers: change


def test_patch_with_the_current_version_changes_the_customer(sa):
    customer = make_customer(dealer=sa.dealer, actor=sa)
    response = api(sa).patch(
        customer_url(customer),
        {"version": 1, "city": "北京", "quiet_from": "21:00", "quiet_until": "08:00"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["city"], body["quiet_from"], body["version"]) == ("北京", "21:00:00", 2)
    assert Customer.objects.get(pk=customer.pk).city == "北京"


def test_patch_with_a_stale_version_is_409_and_changes_nothing(sa):
    # given a customer someone else changed after we read version 1
    customer = make_customer(dealer=sa.dealer, actor=sa)
    customer_update(actor=sa, customer=customer, version=1, city="北京")
    # when we send our change with version 1
    response = api(sa).patch(
        customer_url(customer), {"version": 1, "city": "天津"}, content_type="application/json"
    )
    # then it is refused as stale and their change stands
    body = error(response, 409, "stale_version")
    assert "Reload" in body["message"]
    assert Customer.objects.get(pk=customer.pk).city == "北京"


def test_patch_without_a_version_is_refused(sa):
    customer = make_customer(dealer=sa.dealer, actor=sa)
    response = api(sa).patch(
        customer_url(customer), {"city": "天津"}, content_type="application/json"
    )
    body = error(response, 400, "invalid")
    assert list(body["fields"]) == ["version"]
    assert Customer.objects.get(pk=customer.pk).city == ""


def test_bad_email_is_refused_by_field(sa):
    customer = make_customer(dealer=sa.dealer, actor=sa)
    response = api(sa).patch(
        customer_url(customer),
        {"version": 1, "email": "not-an-address"},
        content_type="application/json",
    )
    body = error(response, 400, "invalid")
    assert list(body["fields"]) == ["email"]


def test_customers_cannot_be_deleted_or_replaced(sa):
    customer = make_customer(dealer=sa.dealer, actor=sa)
    assert api(sa).delete(customer_url(customer)).status_code == 405
    assert api(sa).put(customer_url(customer), {}, "application/json").status_code == 405
    assert Customer.objects.filter(pk=customer.pk).exists()


# ---------------------------------------------------------------- masking and reveal


def test_mobile_is_masked_for_roles_that_do_not_call_customers(demo_org, sa):
    customer = make_customer(dealer=sa.dealer, actor=sa, phone2="13912345678")
    masked = f"{customer.mobile[:3]}****{customer.mobile[-4:]}"
    # a technician sees the masked numbers, in the list and the record
    tech = api(demo_org["bj01-tech"])
    row = tech.get(reverse("api:customer-list")).json()["results"][0]
    assert (row["mobile"], row["phone2"]) == (masked, "139****5678")
    assert tech.get(customer_url(customer)).json()["mobile"] == masked
    assert customer.mobile not in tech.get(customer_url(customer, "360")).content.decode()
    # a service advisor, who calls owners, sees them in full
    assert api(sa).get(customer_url(customer)).json()["mobile"] == customer.mobile


def test_reveal_is_refused_to_roles_without_the_right(sa):
    customer = make_customer(dealer=sa.dealer, actor=sa, id_number=valid_id_number())
    response = api(sa).post(customer_url(customer, "reveal-id"))
    error(response, 403, "permission_denied")
    assert not AuditLog.objects.filter(action=AuditAction.REVEAL).exists()


def test_reveal_answers_the_full_number_and_is_audited(demo_org, sa):
    number = valid_id_number(seq=321)
    customer = make_customer(dealer=sa.dealer, actor=sa, id_number=number)
    manager = demo_org["bj01-svcmgr"]
    response = api(manager).post(customer_url(customer, "reveal-id"))
    assert response.status_code == 200, response.content
    assert response.json() == {"id_number": number}
    assert response["Cache-Control"] == "no-store"
    entry = AuditLog.objects.get(action=AuditAction.REVEAL)
    assert (entry.object_id, entry.actor_id) == (str(customer.pk), manager.pk)


def test_reveal_of_another_dealers_customer_is_404(demo_org, sa):
    customer = make_customer(dealer=sa.dealer, actor=sa, id_number=valid_id_number())
    error(api(demo_org["sh01-svcmgr"]).post(customer_url(customer, "reveal-id")), 404, "not_found")
    assert not AuditLog.objects.filter(action=AuditAction.REVEAL).exists()


# ---------------------------------------------------------------- cross-dealer


def test_another_dealers_customer_and_vehicle_answer_404_and_stay_out_of_lists(demo_org, sa):
    vehicle = owned_vehicle(sa)
    customer = vehicle.owner
    other = api(demo_org["sh01-sa"])
    for url in (
        customer_url(customer),
        customer_url(customer, "360"),
        vehicle_url(vehicle),
        vehicle_url(vehicle, "odometer"),
        vehicle_url(vehicle, "ownerships"),
    ):
        error(other.get(url), 404, "not_found")
    error(
        other.patch(customer_url(customer), {"version": 1, "city": "上海"}, "application/json"),
        404,
    )
    error(
        other.post(vehicle_url(vehicle, "odometer"), {"km": 99_999}, "application/json"),
        404,
    )
    assert other.get(reverse("api:customer-list")).json()["results"] == []
    assert other.get(reverse("api:vehicle-list")).json()["results"] == []
    assert Customer.objects.get(pk=customer.pk).city == ""
    assert not OdometerReading.objects.filter(vehicle=vehicle).exists()


def test_a_vehicle_cannot_be_registered_to_another_dealers_customer(demo_org, sa):
    customer = make_customer(dealer=sa.dealer, actor=sa)
    variant = Variant.objects.get(code="X3-15T-2024") if Variant.objects.exists() else None
    if variant is None:
        owned_vehicle(sa)  # loads the demo catalogue
        variant = Variant.objects.get(code="X3-15T-2024")
    response = api(demo_org["sh01-sa"]).post(
        reverse("api:vehicle-list"),
        {"owner": customer.pk, "vin": valid_vin(variant.vin_prefix), "variant": variant.pk},
        content_type="application/json",
    )
    body = error(response, 400, "invalid")
    assert list(body["fields"]) == ["owner"]
    assert not Vehicle.objects.filter(owner=customer).exists()


# ---------------------------------------------------------------- customer list


def test_customer_list_filters(demo_org, sa):
    # given customers with different segments, tags, consent and relationships
    loyal = make_customer(dealer=sa.dealer, actor=sa, name="欧阳娜", tags=["VIP"], city="北京")
    Customer.objects.filter(pk=loyal.pk).update(segment=Segment.LOYAL, marketing_consent=True)
    plain = make_customer(dealer=sa.dealer, actor=sa, name="李雷", city="天津")
    tj = Dealer.objects.get(code="TJ01")
    at_tj = make_customer(dealer=tj, name="韩梅梅")
    rm = api(demo_org["north-rm"])

    def ids(client, **params):
        response = client.get(reverse("api:customer-list"), params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids(api(sa), segment="loyal") == {loyal.pk}
    assert ids(api(sa), tag="VIP") == {loyal.pk}
    assert ids(api(sa), city="天津") == {plain.pk}
    assert ids(api(sa), marketing_consent="true") == {loyal.pk}
    assert ids(api(sa), q="欧阳") == {loyal.pk}
    assert ids(api(sa), q=plain.mobile) == {plain.pk}
    assert ids(api(sa), q=plain.mobile[-4:]) == {plain.pk}
    today = timezone.localdate()
    assert ids(api(sa), created_after=today.isoformat()) == {loyal.pk, plain.pk}
    assert ids(api(sa), created_before=(today - datetime.timedelta(days=1)).isoformat()) == set()
    # a region manager sees both dealers and narrows by the related dealer
    assert ids(rm) >= {loyal.pk, plain.pk, at_tj.pk}
    assert ids(rm, dealer=tj.pk) == {at_tj.pk}
    # ordering
    names = [r["name"] for r in api(sa).get("/api/crm/customers/?ordering=name").json()["results"]]
    assert names == sorted(names)


def test_merged_customers_leave_the_list_and_point_to_the_survivor(demo_org, sa):
    survivor = make_customer(dealer=sa.dealer, actor=sa)
    duplicate = make_customer(dealer=sa.dealer, actor=sa)
    manager = api(demo_org["bj01-svcmgr"])
    response = manager.post(
        customer_url(survivor, "merge"), {"duplicate": duplicate.pk}, "application/json"
    )
    assert response.status_code == 200, response.content
    ids = {r["id"] for r in api(sa).get(reverse("api:customer-list")).json()["results"]}
    assert ids == {survivor.pk}
    # the dealer's relationship moved to the survivor; OEM staff still open the old record
    error(api(sa).get(customer_url(duplicate)), 404)
    merged = api(demo_org["oem-csagent"]).get(customer_url(duplicate)).json()
    assert merged["merged_into"] == survivor.pk


def test_customer_list_query_count_does_not_grow_with_the_page(sa):
    def count_queries(n):
        Customer.objects.all().delete()
        for i in range(n):
            make_customer(dealer=sa.dealer, actor=sa, name=f"客户{i}", tags=["VIP", f"T{i}"])
        client = api(sa)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("api:customer-list"), {"page_size": 50})
        assert response.status_code == 200
        assert len(response.json()["results"]) == n
        assert all(len(row["tags"]) == 2 for row in response.json()["results"])
        return len(queries)

    assert count_queries(2) == count_queries(20)


def test_customer_list_stays_within_a_fixed_number_of_queries(sa, django_assert_max_num_queries):
    for i in range(12):
        make_customer(dealer=sa.dealer, actor=sa, tags=["VIP"], name=f"客户{i}")
    client = api(sa)
    # session, user, roles, count, page, tags
    with django_assert_max_num_queries(6):
        assert len(client.get(reverse("api:customer-list")).json()["results"]) == 12


# ---------------------------------------------------------------- customer 360


def test_customer_360_shows_vehicles_history_visits_and_timeline(demo_org, sa):
    # given a customer with a car, two odometer readings, a visit and a tag
    vehicle = owned_vehicle(sa, odometer_km=15)
    customer = vehicle.owner
    customer_update(actor=sa, customer=customer, version=1, tags=["VIP"])
    Customer.objects.filter(pk=customer.pk).update(segment=Segment.REGULAR)
    odometer_record(actor=sa, vehicle=vehicle, km=8_000, read_on=datetime.date(2024, 9, 1))
    ServiceVisit.objects.create(
        customer=customer,
        vehicle=vehicle,
        dealer=sa.dealer,
        visited_on=datetime.date(2024, 9, 1),
        kind=VisitKind.MAINTENANCE,
        amount="560.00",
        odometer_km=8_000,
    )
    # when the 360 is read
    response = api(sa).get(customer_url(customer, "360"))
    # then it has the customer, vehicles with model, warranty and odometer, and the history
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["customer"]["id"] == customer.pk
    assert (body["segment"], body["segment_display"]) == ("regular", "Regular")
    assert body["tags"] == ["VIP"]
    assert body["visit_count"] == 1
    [car] = body["vehicles"]
    assert car["vin"] == vehicle.vin
    assert car["model"]["code"] == "X3"
    assert (car["warranty_start"], car["warranty_end"]) == ("2024-03-01", "2027-02-28")
    assert car["warranty_km"] == 100_000
    assert car["odometer_km"] == 8_000
    assert [o["customer"] for o in body["ownerships"]] == [customer.pk]
    assert [r["km"] for r in body["odometer"]] == [8_000, 15]
    assert all(r["recorded_by_name"] for r in body["odometer"])
    kinds = [entry["kind"] for entry in body["timeline"]]
    assert {"crm.customer", "crm.ownership", "crm.odometer", "crm.visits"} <= set(kinds)
    moments = [entry["at"] for entry in body["timeline"]]
    assert moments == sorted(moments, reverse=True)


def test_customer_360_timeline_pages_with_before_and_limit(sa):
    vehicle = owned_vehicle(sa, odometer_km=10)
    for month, km in ((5, 1_000), (7, 2_000), (9, 3_000), (11, 4_000)):
        odometer_record(actor=sa, vehicle=vehicle, km=km, read_on=datetime.date(2024, month, 1))
    url = customer_url(vehicle.owner, "360")
    client = api(sa)
    first = client.get(url, {"limit": 3}).json()
    assert len(first["timeline"]) == 3
    assert first["timeline_next_before"] == first["timeline"][-1]["at"]
    second = client.get(url, {"limit": 3, "before": first["timeline_next_before"]}).json()
    assert second["timeline"]
    assert all(e["at"] < first["timeline_next_before"] for e in second["timeline"])
    everything = client.get(url, {"limit": 200}).json()
    assert everything["timeline_next_before"] is None
    assert len(everything["timeline"]) > len(first["timeline"])


def test_customer_360_query_count_does_not_grow_with_the_vehicles(sa):
    def count_queries(n):
        owner = make_customer(dealer=sa.dealer, actor=sa)
        for i in range(n):
            vehicle = make_vehicle(owner=owner, dealer=sa.dealer, actor=sa, odometer_km=10)
            odometer_record(
                actor=sa, vehicle=vehicle, km=500 + i, read_on=datetime.date(2024, 6, 1)
            )
        client = api(sa)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(customer_url(owner, "360"))
        assert len(response.json()["vehicles"]) == n
        assert len(response.json()["odometer"]) == 2 * n
        return len(queries)

    assert count_queries(1) == count_queries(4)


def test_customer_360_refuses_bad_paging(sa):
    customer = make_customer(dealer=sa.dealer, actor=sa)
    client = api(sa)
    body = error(client.get(customer_url(customer, "360"), {"before": "yesterday"}), 400)
    assert list(body["fields"]) == ["before"]
    body = error(client.get(customer_url(customer, "360"), {"limit": 0}), 400)
    assert body["fields"]["limit"] == ["Give a number from 1 to 200."]


# ---------------------------------------------------------------- merge and duplicates


def test_merge_via_the_api_moves_the_vehicles_and_is_audited(demo_org, sa):
    survivor = make_customer(dealer=sa.dealer, actor=sa, name="刘洋")
    duplicate_car = owned_vehicle(sa, name="刘洋")
    duplicate = duplicate_car.owner
    manager = demo_org["bj01-svcmgr"]
    response = api(manager).post(
        customer_url(survivor, "merge"), {"duplicate": duplicate.pk}, "application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["id"] == survivor.pk
    assert response.json()["phone2"] == duplicate.mobile
    assert Vehicle.objects.get(pk=duplicate_car.pk).owner_id == survivor.pk
    assert Customer.objects.get(pk=duplicate.pk).merged_into_id == survivor.pk
    assert AuditLog.objects.filter(action=AuditAction.MERGE, actor=manager).count() == 2


def test_merge_is_refused_without_the_right_and_for_unseen_or_same_customers(demo_org, sa):
    survivor = make_customer(dealer=sa.dealer, actor=sa)
    duplicate = make_customer(dealer=sa.dealer, actor=sa)
    elsewhere = make_customer(dealer=Dealer.objects.get(code="SH01"))
    url = customer_url(survivor, "merge")
    error(api(sa).post(url, {"duplicate": duplicate.pk}, "application/json"), 403)
    manager = api(demo_org["bj01-svcmgr"])
    body = error(manager.post(url, {"duplicate": elsewhere.pk}, "application/json"), 400)
    assert body["fields"] == {"duplicate": ["No such customer."]}
    error(manager.post(url, {"duplicate": survivor.pk}, "application/json"), 400, "merge_same")
    error(manager.post(url, {}, "application/json"), 400, "invalid")
    assert not Customer.objects.filter(merged_into__isnull=False).exists()


def test_duplicates_lists_customers_with_the_same_id_number(demo_org, sa):
    number = valid_id_number(seq=555)
    first = make_customer(dealer=sa.dealer, actor=sa, name="陈静", id_number=number)
    second = make_customer(dealer=sa.dealer, actor=sa, name="陈静", id_number=number)
    make_customer(dealer=sa.dealer, actor=sa, name="周杰")
    response = api(demo_org["bj01-svcmgr"]).get(customer_url(first, "duplicates"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert [row["customer"]["id"] for row in body["results"]] == [second.pk]
    assert "same_id" in body["results"][0]["reasons"]
    assert body["count"] == 1
    error(api(sa).get(customer_url(first, "duplicates")), 403)


# ---------------------------------------------------------------- vehicles


@pytest.fixture
def variant(sa):
    owned_vehicle(sa)  # loads the demo catalogue
    return Variant.objects.select_related("vehicle_model").get(code="X3-15T-2024")


def test_create_vehicle_computes_warranty_and_records_the_first_reading(sa, variant):
    owner = make_customer(dealer=sa.dealer, actor=sa)
    vin = valid_vin(variant.vin_prefix, variant.model_year)
    response = api(sa).post(
        reverse("api:vehicle-list"),
        {
            "owner": owner.pk,
            "vin": vin.lower(),
            "plate": "京ad 12345",
            "variant": variant.pk,
            "sale_date": "2025-04-10",
            "invoice_date": "2025-04-12",
            "odometer_km": 12,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["vin"], body["plate"]) == (vin, "京AD12345")
    assert (body["warranty_start"], body["warranty_end"]) == ("2025-04-12", "2028-04-11")
    assert body["powertrain_warranty_end"] == "2030-04-11"
    assert (body["owner"], body["owner_name"], body["odometer_km"]) == (owner.pk, owner.name, 12)
    assert body["model"]["code"] == "X3" and body["in_warranty"] is True
    assert OdometerReading.objects.filter(vehicle_id=body["id"], km=12).exists()


def test_bad_vin_check_digit_says_the_expected_digit_and_creates_nothing(sa, variant):
    owner = make_customer(dealer=sa.dealer, actor=sa)
    vin = valid_vin(variant.vin_prefix)
    wrong = vin[:8] + ("1" if vin[8] != "1" else "2") + vin[9:]
    before = Vehicle.objects.count()
    response = api(sa).post(
        reverse("api:vehicle-list"),
        {"owner": owner.pk, "vin": wrong, "variant": variant.pk, "plate": "京A1234"},
        content_type="application/json",
    )
    body = error(response, 400, "invalid")
    assert body["fields"]["vin"] == [
        f"VIN check digit (9th character) should be {vin[8]}, not {wrong[8]}."
    ]
    assert body["fields"]["plate"] == [
        "A plate has 7 characters (8 for new-energy vehicles), not 6."
    ]
    assert Vehicle.objects.count() == before


def test_vehicle_patch_checks_the_version(sa):
    vehicle = owned_vehicle(sa)
    client = api(sa)
    response = client.patch(
        vehicle_url(vehicle), {"version": 1, "colour": "珍珠白"}, "application/json"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["colour"], response.json()["version"]) == ("珍珠白", 2)
    response = client.patch(
        vehicle_url(vehicle), {"version": 1, "colour": "曜石黑"}, "application/json"
    )
    error(response, 409, "stale_version")
    assert Vehicle.objects.get(pk=vehicle.pk).colour == "珍珠白"
    body = error(client.patch(vehicle_url(vehicle), {"owner": 1}, "application/json"), 400)
    assert set(body["fields"]) == {"owner", "version"}


def test_vehicle_list_filters(demo_org, sa):
    old = owned_vehicle(sa, sale_date=datetime.date(2018, 1, 5), invoice_date=None)
    new = owned_vehicle(sa, plate="京AD54321")
    ev = Variant.objects.get(code="E6-520-2024")
    electric = owned_vehicle(
        sa, variant=ev, vin=valid_vin(ev.vin_prefix, ev.model_year), plate="京AF12345"
    )
    client = api(sa)

    def ids(**params):
        response = client.get(reverse("api:vehicle-list"), params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids(plate="京ad54321") == {new.pk}
    assert ids(vin=new.vin.lower()) == {new.pk}
    assert ids(vin_tail=new.vin[-8:]) == {new.pk}
    assert ids(vin_tail=new.vin[-6:].lower()) == {new.pk}
    assert ids(in_warranty="false") == {old.pk}
    assert ids(in_warranty="true") == {new.pk, electric.pk}
    assert ids(fuel_type="bev") == {electric.pk}
    assert ids(model=ev.vehicle_model_id) == {electric.pk}
    assert ids(variant=ev.pk) == {electric.pk}
    assert ids(owner=old.owner_id) == {old.pk}
    body = error(client.get(reverse("api:vehicle-list"), {"vin_tail": "12345"}), 400)
    assert body["fields"]["vin_tail"] == ["Give the last 6 or the last 8 characters of the VIN."]


def test_vehicle_list_query_count_does_not_grow_with_the_page(sa):
    def count_queries(n):
        Vehicle.objects.all().delete()
        for _i in range(n):
            owned_vehicle(sa)
        client = api(sa)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("api:vehicle-list"), {"page_size": 50})
        assert len(response.json()["results"]) == n
        return len(queries)

    assert count_queries(2) == count_queries(15)


def test_vehicle_list_stays_within_a_fixed_number_of_queries(sa, django_assert_max_num_queries):
    for _i in range(8):
        owned_vehicle(sa)
    client = api(sa)
    # session, user, roles, count, page (with variant, model and owner joined)
    with django_assert_max_num_queries(5):
        assert len(client.get(reverse("api:vehicle-list")).json()["results"]) == 8


def test_odometer_readings_are_listed_and_recorded_and_never_go_back(sa):
    vehicle = owned_vehicle(sa, odometer_km=10)
    client = api(sa)
    url = vehicle_url(vehicle, "odometer")
    response = client.post(url, {"km": 9_500, "read_on": "2024-12-01"}, "application/json")
    assert response.status_code == 201, response.content
    assert (response.json()["km"], response.json()["source"]) == (9_500, "manual")
    response = client.post(url, {"km": 9_000, "read_on": "2025-01-01"}, "application/json")
    body = error(response, 400, "odometer_rollback")
    assert "odometers do not go back" in body["message"]
    rows = client.get(url).json()["results"]
    assert [r["km"] for r in rows] == [9_500, 10]
    assert Vehicle.objects.get(pk=vehicle.pk).odometer_km == 9_500


def test_transfer_changes_the_owner_keeps_history_and_checks_the_version(sa):
    vehicle = owned_vehicle(sa)
    buyer = make_customer(dealer=sa.dealer, actor=sa, name="孙丽")
    client = api(sa)
    url = vehicle_url(vehicle, "transfer")
    error(
        client.post(url, {"new_owner": buyer.pk, "version": 99}, "application/json"),
        409,
        "stale_version",
    )
    response = client.post(
        url, {"new_owner": buyer.pk, "on_date": "2025-06-01", "version": 1}, "application/json"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["owner"], response.json()["version"]) == (buyer.pk, 2)
    history = client.get(vehicle_url(vehicle, "ownerships")).json()["results"]
    assert [(o["customer"], o["started_on"], o["ended_on"]) for o in history] == [
        (buyer.pk, "2025-06-01", None),
        (vehicle.owner_id, "2024-03-01", "2025-06-01"),
    ]
    assert AuditLog.objects.filter(object_id=vehicle.pk, action=AuditAction.TRANSFER).exists()


def test_transfer_to_an_unseen_customer_is_refused(sa):
    vehicle = owned_vehicle(sa)
    stranger = make_customer(dealer=Dealer.objects.get(code="GZ01"))
    response = api(sa).post(
        vehicle_url(vehicle, "transfer"),
        {"new_owner": stranger.pk, "version": 1},
        content_type="application/json",
    )
    body = error(response, 400)
    assert body["fields"] == {"new_owner": ["No such customer."]}
    assert Vehicle.objects.get(pk=vehicle.pk).owner_id == vehicle.owner_id


# ---------------------------------------------------------------- reception lookup


def test_reception_finds_another_dealers_vehicle_by_exact_vin_or_plate(demo_org, sa):
    # given a vehicle sold and serviced at BJ01 only
    vehicle = owned_vehicle(sa, plate=unique_plate())
    owner = vehicle.owner
    shanghai = api(demo_org["sh01-sa"])
    url = reverse("api:vehicle-lookup-list")
    # when SH01 reception types its VIN (lower case, spaced) or its plate
    for q in (vehicle.vin.lower(), f"{vehicle.vin[:8]} {vehicle.vin[8:]}", vehicle.plate):
        response = shanghai.get(url, {"q": q})
        # then they get the reception card, with the owner's mobile masked
        assert response.status_code == 200, (q, response.content)
        card = response.json()
        assert (card["id"], card["vin"], card["plate"]) == (vehicle.pk, vehicle.vin, vehicle.plate)
        assert (card["brand"], card["model"]) == ("星驰", "星驰 X3")
        assert card["owner_name"] == owner.name
        assert card["owner_mobile"] == f"{owner.mobile[:3]}****{owner.mobile[-4:]}"
        assert card["warranty"]["vehicle_until"] == "2027-02-28"
        assert (card["dealer_relationship"], card["can_open"]) == (False, False)
    # while the selling dealer's card says it already knows the car
    card = api(sa).get(url, {"q": vehicle.vin}).json()
    assert (card["dealer_relationship"], card["can_open"]) == (True, True)


def test_reception_lookup_does_not_work_with_partial_vins_names_or_phones(demo_org, sa):
    vehicle = owned_vehicle(sa, name="欧阳修")
    shanghai = api(demo_org["sh01-sa"])
    url = reverse("api:vehicle-lookup-list")
    for q in (
        vehicle.vin[-8:],
        vehicle.vin[-6:],
        vehicle.vin[:16],
        vehicle.plate[:-1],
        "欧阳修",
        vehicle.owner.mobile,
    ):
        body = error(shanghai.get(url, {"q": q}), 404, "not_found")
        assert body["message"] == "No vehicle has this VIN or plate number."
    body = error(shanghai.get(url, {"q": "  "}), 400, "empty_query")
    assert body["message"] == "Enter the full VIN or the plate number."


# ---------------------------------------------------------------- search


def test_search_ranks_exact_matches_first(sa):
    # given a car with plate 京A12345 and one whose plate only starts with it
    exact = owned_vehicle(sa, plate="京A12345")
    prefix = owned_vehicle(sa, plate="京A12345D")
    response = api(sa).get(reverse("api:crm-search-list"), {"q": "京a12345"})
    assert response.status_code == 200, response.content
    hits = response.json()["results"]
    assert [(h["kind"], h["id"]) for h in hits] == [("vehicle", exact.pk), ("vehicle", prefix.pk)]
    assert hits[0]["rank"] > hits[1]["rank"]
    # and an exact name ranks above a name that starts with it
    same = make_customer(dealer=sa.dealer, actor=sa, name="李娜")
    longer = make_customer(dealer=sa.dealer, actor=sa, name="李娜娜")
    hits = api(sa).get(reverse("api:crm-search-list"), {"q": "李娜"}).json()["results"]
    assert [h["id"] for h in hits] == [same.pk, longer.pk]
    assert hits[0]["match"] == "name"


def test_search_is_scoped_and_an_empty_query_is_explained(demo_org, sa):
    vehicle = owned_vehicle(sa, name="欧阳修")
    shanghai = api(demo_org["sh01-sa"])
    url = reverse("api:crm-search-list")
    assert shanghai.get(url, {"q": "欧阳修"}).json() == {"count": 0, "results": []}
    assert shanghai.get(url, {"q": vehicle.vin[-8:]}).json()["results"] == []
    hits = api(sa).get(url, {"q": vehicle.vin[-8:]}).json()["results"]
    assert [(h["kind"], h["id"], h["match"]) for h in hits] == [("vehicle", vehicle.pk, "vin_tail")]
    body = error(api(sa).get(url, {"q": ""}), 400, "empty_query")
    assert body["fields"]["q"] == [body["message"]]
    assert "phone number" in body["message"]


# ---------------------------------------------------------------- tags and visits


def test_tags_are_listed_by_name(sa):
    make_customer(dealer=sa.dealer, actor=sa, tags=["车队", "VIP"])
    names = [t["name"] for t in api(sa).get(reverse("api:customertag-list")).json()["results"]]
    assert names == sorted(CustomerTag.objects.values_list("name", flat=True))
    assert set(names) == {"车队", "VIP"}


def test_visits_are_scoped_to_the_dealer_and_filter_by_customer(
    demo_org, sa, django_assert_max_num_queries
):
    first, second = owned_vehicle(sa), owned_vehicle(sa)
    visits = [
        ServiceVisit.objects.create(
            customer=v.owner,
            vehicle=v,
            dealer=sa.dealer,
            visited_on=datetime.date(2025, 3, 1),
            kind=VisitKind.REPAIR,
            amount="1200.00",
        )
        for v in (first, second)
    ]
    url = reverse("api:servicevisit-list")
    client = api(sa)
    with django_assert_max_num_queries(5):  # session, user, roles, count, page
        assert len(client.get(url).json()["results"]) == 2
    rows = client.get(url, {"customer": first.owner_id}).json()["results"]
    assert [(r["id"], r["amount"], r["dealer_name"]) for r in rows] == [
        (visits[0].pk, "1200.00", sa.dealer.name)
    ]
    assert api(demo_org["sh01-sa"]).get(url).json()["results"] == []
    # read-only: nobody writes visits through the API (closed repair orders do)
    assert api(sa).post(url, {}, "application/json").status_code in (403, 405)
    assert ServiceVisit.objects.count() == 2
