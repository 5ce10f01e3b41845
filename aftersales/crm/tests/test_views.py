"""The CRM staff pages: customer list and search, create/edit with the version check,
the customer 360 with ID reveal and timeline paging, vehicles with odometer readings and
transfer of ownership, reception lookup, duplicates and merge, segment thresholds."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aftersales.core.models import AuditAction, AuditLog
from aftersales.crm.models import Customer, CustomerTag, OdometerReading, SegmentRule, Vehicle
from aftersales.crm.services import customer_update, odometer_record
from aftersales.crm.testing import (
    make_customer,
    make_vehicle,
    unique_plate,
    valid_id_number,
    valid_vin,
)
from aftersales.org.models import Dealer

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def org(demo_org):
    return demo_org


@pytest.fixture
def bj(org):
    return Dealer.objects.get(code="BJ01")


@pytest.fixture
def sh(org):
    return Dealer.objects.get(code="SH01")


@pytest.fixture
def sa(org):
    return org["bj01-sa"]


def signed_in(client, user):
    client.force_login(user)
    return client


def html(response) -> str:
    return response.content.decode()


def customer_of(dealer, **data):
    return make_customer(dealer=dealer, **data)


def vehicle_of(owner, dealer, **data):
    return make_vehicle(owner=owner, dealer=dealer, **data)


def field_errors(response, field) -> list[str]:
    return [str(e) for e in response.context["form"].errors.get(field, [])]


# --- customer list and search ------------------------------------------------------------


def test_customer_list_shows_the_dealers_customers_only(client, org, bj, sh):
    # given a customer at BJ01 and one at SH01
    ours = customer_of(bj, name="赵敏")
    theirs = customer_of(sh, name="孙丽")
    # when BJ01's advisor opens the customer list
    response = signed_in(client, org["bj01-sa"]).get(reverse("customer-list"))
    # then only BJ01's customer is listed
    listed = {c.pk for c in response.context["object_list"]}
    assert ours.pk in listed
    assert theirs.pk not in listed
    assert "孙丽" not in html(response)


def test_mobile_is_masked_for_staff_who_do_not_call_customers(client, org, bj):
    # given a BJ01 customer
    customer = customer_of(bj, mobile="13912345678")
    # when a technician (no "see full phone numbers") opens the list
    masked = html(signed_in(client, org["bj01-tech"]).get(reverse("customer-list")))
    # then the number is masked
    assert "139****5678" in masked
    assert "13912345678" not in masked
    # and the advisor, who calls customers, sees it in full
    full = html(signed_in(client, org["bj01-sa"]).get(reverse("customer-list")))
    assert customer.mobile in full


def test_customer_list_filters_by_segment_tag_and_city(client, sa, bj):
    # given customers in different segments, cities and with different tags
    loyal = customer_of(bj, name="钱进", city="北京", tags=["VIP"])
    lost = customer_of(bj, name="李退", city="天津")
    Customer.objects.filter(pk=loyal.pk).update(segment="loyal")
    Customer.objects.filter(pk=lost.pk).update(segment="lost")
    client = signed_in(client, sa)

    def listed(**params):
        response = client.get(reverse("customer-list"), params)
        return {c.pk for c in response.context["object_list"]}

    # when filtered by segment, by tag and by city, then only the matching ones are listed
    assert listed(segment="loyal") == {loyal.pk}
    assert listed(segment="lost") == {lost.pk}
    assert listed(tag="VIP") == {loyal.pk}
    assert listed(city="天津") == {lost.pk}
    # and the segment is shown as a badge
    assert 'data-segment="loyal"' in html(client.get(reverse("customer-list")))


def test_search_by_plate_and_vin_tail_links_to_vehicle_and_owner(client, sa, bj):
    # given a BJ01 customer with a vehicle
    owner = customer_of(bj, name="周杰")
    vehicle = vehicle_of(owner, bj, plate="京N8A321")
    client = signed_in(client, sa)
    for query in ("京N8A321", vehicle.vin[-8:], vehicle.vin):
        # when the advisor searches by plate, by the VIN's last 8, by the full VIN
        response = client.get(reverse("customer-list"), {"q": query})
        # then the vehicle is the hit, linking to the vehicle and its owner's 360
        hits = response.context["hits"]
        assert [(h.kind, h.id) for h in hits] == [("vehicle", vehicle.pk)], query
        page = html(response)
        assert reverse("vehicle-detail", args=[vehicle.pk]) in page
        assert reverse("customer-detail", args=[owner.pk]) in page
        assert response.context["object_list"].count() == 0  # hits replace the list


def test_search_by_mobile_and_id_number_finds_the_customer(client, sa, bj):
    id_number = valid_id_number(seq=456)
    customer = customer_of(bj, name="吴磊", mobile="13700001111", id_number=id_number)
    client = signed_in(client, sa)
    for query in ("137 0000 1111", id_number):
        response = client.get(reverse("customer-list"), {"q": query})
        assert [(h.kind, h.id) for h in response.context["hits"]] == [("customer", customer.pk)]


def test_search_does_not_reach_another_dealers_customers(client, org, sh):
    # given an SH01 customer with a vehicle
    vehicle = vehicle_of(customer_of(sh, name="郑爽"), sh)
    client = signed_in(client, org["bj01-sa"])
    # when BJ01 searches by the VIN's last 8 and by the name
    for query in (vehicle.vin[-8:], "郑爽"):
        response = client.get(reverse("customer-list"), {"q": query}, **EN)
        # then nothing is found
        assert response.context["hits"] == []
        assert "Nothing found" in html(response)


def test_export_and_import_buttons_follow_permissions_and_keep_the_filter(client, org, bj):
    # given a service manager (may export and import) and a technician (may not)
    manager = signed_in(client, org["bj01-svcmgr"])
    # when the manager filters the customer list and the vehicle list
    customers = html(manager.get(reverse("customer-list"), {"segment": "loyal", "city": "北京"}))
    vehicles = html(manager.get(reverse("vehicle-list"), {"warranty": "in", "page": "1"}))
    # then the export links carry the same filters (not the page), and import is offered
    export = re.search(r'href="([^"]+)"[^>]*data-action="export"', customers)[1]
    assert export.startswith(reverse("customer-export") + "?")
    assert "segment=loyal" in export and "city=" in export
    export = re.search(r'href="([^"]+)"[^>]*data-action="export"', vehicles)[1]
    assert export == reverse("vehicle-export") + "?warranty=in"
    assert f'href="{reverse("import-list")}"' in customers
    # and the technician has neither button
    tech = signed_in(client, org["bj01-tech"])
    for url in (reverse("customer-list"), reverse("vehicle-list")):
        page = html(tech.get(url))
        assert 'data-action="export"' not in page
        assert 'data-action="import"' not in page


# --- create and edit --------------------------------------------------------------------


def test_create_with_an_invalid_mobile_shows_the_error_and_keeps_the_input(client, sa):
    client = signed_in(client, sa)
    # when the advisor registers a customer with a 10-digit mobile
    response = client.post(
        reverse("customer-create"),
        {"name": "冯刚", "mobile": "1391234567", "contact_channel": "sms", "city": "北京"},
        **EN,
    )
    # then the form comes back with the error next to the mobile field, and nothing is saved
    assert response.status_code == 200
    assert field_errors(response, "mobile") == ["A mobile number has 11 digits, not 10."]
    assert 'value="冯刚"' in html(response)
    assert not Customer.objects.filter(name="冯刚").exists()


def test_required_field_errors_are_translated(client, sa):
    # given the default (Chinese) interface
    # when the form is sent without a name
    response = signed_in(client, sa).post(
        reverse("customer-create"), {"mobile": "13912340000", "contact_channel": "sms"}
    )
    # then the error next to the name is in Chinese
    assert field_errors(response, "name") == ["此项为必填项。"]


def test_create_registers_the_customer_with_tags_at_the_dealer(client, sa, org):
    id_number = valid_id_number(birth=datetime.date(1990, 2, 3), seq=111)
    response = signed_in(client, sa).post(
        reverse("customer-create"),
        {
            "name": "  冯 刚 ",
            "mobile": "139-1234-5670",
            "id_number": id_number,
            "contact_channel": "wechat",
            "quiet_from": "21:00",
            "quiet_until": "08:00",
            "marketing_consent": "on",
            "tags": "VIP，车队, VIP",
        },
    )
    customer = Customer.objects.get(mobile="13912345670")
    assert response.status_code == 302
    assert response["Location"] == reverse("customer-detail", args=[customer.pk])
    assert customer.name == "冯 刚"
    assert customer.birthday == datetime.date(1990, 2, 3)
    assert customer.quiet_from == datetime.time(21, 0)
    assert customer.marketing_consent is True
    assert sorted(customer.tags.values_list("name", flat=True)) == ["VIP", "车队"]
    assert customer.origin_dealer == sa.dealer
    # and the other dealer cannot open it
    other = signed_in(client, org["sh01-sa"])
    assert other.get(reverse("customer-detail", args=[customer.pk])).status_code == 404


def test_technician_may_not_create_or_edit_customers(client, org, bj):
    customer = customer_of(bj)
    client = signed_in(client, org["bj01-tech"])
    assert client.get(reverse("customer-create")).status_code == 403
    assert client.get(reverse("customer-edit", args=[customer.pk])).status_code == 403


def test_edit_saves_the_change_and_bumps_the_version(client, sa, bj):
    customer = customer_of(bj, name="韩梅", city="北京", tags=["VIP"])
    client = signed_in(client, sa)
    form = client.get(reverse("customer-edit", args=[customer.pk])).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(city="天津", tags="VIP, 车队", version=customer.version)
    data.pop("marketing_consent")
    response = client.post(reverse("customer-edit", args=[customer.pk]), data)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.city == "天津"
    assert customer.version == 2
    assert sorted(customer.tags.values_list("name", flat=True)) == ["VIP", "车队"]


def test_stale_version_is_refused_with_409_and_keeps_the_users_input(client, sa, bj):
    # given a customer someone else changed after the advisor opened the form
    customer = customer_of(bj, name="韩梅", city="北京")
    client = signed_in(client, sa)
    opened_version = customer.version
    customer_update(actor=sa, customer=customer, version=opened_version, address="望京街 1 号")
    # when the advisor saves their change with the version they opened
    response = client.post(
        reverse("customer-edit", args=[customer.pk]),
        {
            "name": "韩梅",
            "mobile": customer.mobile,
            "contact_channel": "sms",
            "city": "上海",
            "version": opened_version,
        },
        **EN,
    )
    # then it is refused with 409 and the conflict message, the typed city is kept
    assert response.status_code == 409
    page = html(response)
    assert "Someone else changed this customer after you opened it" in page
    assert 'value="上海"' in page
    # and the record keeps the other person's change only
    customer.refresh_from_db()
    assert (customer.city, customer.address) == ("北京", "望京街 1 号")


def test_edit_errors_from_the_service_are_shown_next_to_the_field(client, sa, bj):
    customer = customer_of(bj)
    client = signed_in(client, sa)
    response = client.post(
        reverse("customer-edit", args=[customer.pk]),
        {
            "name": customer.name,
            "mobile": customer.mobile,
            "contact_channel": "sms",
            "quiet_from": "21:00",
            "version": customer.version,
        },
        **EN,
    )
    assert response.status_code == 200
    assert field_errors(response, "quiet_until") == [
        "Give both ends of the quiet hours, or neither."
    ]
    assert "is-invalid" in html(response)


# --- customer 360 -----------------------------------------------------------------------


def test_customer_360_shows_data_vehicles_warranty_history_and_timeline(client, sa, bj):
    # given a customer with a vehicle in warranty and two odometer readings
    customer = customer_of(bj, name="林峰", city="北京", tags=["VIP"], id_number=valid_id_number())
    today = timezone.localdate()
    vehicle = vehicle_of(customer, bj, plate="京A6B789", sale_date=today, invoice_date=today)
    odometer_record(actor=sa, vehicle=vehicle, km=1200, read_on=today)
    # when the advisor opens the 360
    response = signed_in(client, sa).get(reverse("customer-detail", args=[customer.pk]), **EN)
    page = html(response)
    # then the header, the vehicles with warranty state, ownership, odometer and timeline show
    assert response.status_code == 200
    assert "林峰" in page and "VIP" in page
    assert "京A6B789" in page and vehicle.vin in page
    assert 'data-warranty="active"' in page
    assert customer.id_number_masked in page
    assert [v.pk for v in response.context["vehicles"]] == [vehicle.pk]
    assert [o.vehicle_id for o in response.context["ownerships"]] == [vehicle.pk]
    assert [r.km for r in response.context["odometer"]] == [1200]
    timeline = response.context["timeline"]
    assert [e.at for e in timeline] == sorted((e.at for e in timeline), reverse=True)
    assert any(e.kind == "crm.odometer" for e in timeline)


def test_360_masks_the_phone_and_hides_reveal_for_a_technician(client, org, bj):
    customer = customer_of(bj, mobile="13811112222", id_number=valid_id_number())
    tech = html(
        signed_in(client, org["bj01-tech"]).get(reverse("customer-detail", args=[customer.pk]))
    )
    assert "138****2222" in tech and "13811112222" not in tech
    assert 'data-action="reveal-id"' not in tech
    manager = html(
        signed_in(client, org["bj01-svcmgr"]).get(reverse("customer-detail", args=[customer.pk]))
    )
    assert 'data-action="reveal-id"' in manager
    assert 'data-action="reveal-id"' not in html(
        signed_in(client, org["bj01-sa"]).get(reverse("customer-detail", args=[customer.pk]))
    )


def test_reveal_returns_the_number_as_a_fragment_and_audits_it(client, org, bj):
    # given a customer with an ID number and the BJ01 service manager
    number = valid_id_number(seq=321)
    customer = customer_of(bj, id_number=number)
    client = signed_in(client, org["bj01-svcmgr"])
    # when the manager presses "reveal" (an htmx POST)
    response = client.post(
        reverse("customer-reveal-id", args=[customer.pk]), HTTP_HX_REQUEST="true"
    )
    # then the number comes back in a fragment, and the reveal is audited
    assert response.status_code == 200
    assert number in html(response)
    assert "<html" not in html(response)
    assert AuditLog.objects.filter(
        action=AuditAction.REVEAL, object_id=customer.pk, actor=org["bj01-svcmgr"]
    ).exists()


def test_reveal_is_refused_without_the_permission_and_404_elsewhere(client, org, bj):
    customer = customer_of(bj, id_number=valid_id_number())
    url = reverse("customer-reveal-id", args=[customer.pk])
    assert signed_in(client, org["bj01-sa"]).post(url).status_code == 403
    assert signed_in(client, org["sh01-svcmgr"]).post(url).status_code == 404
    assert signed_in(client, org["bj01-svcmgr"]).get(url).status_code == 405
    assert not AuditLog.objects.filter(action=AuditAction.REVEAL).exists()


def test_timeline_pages_older_entries_with_before(client, sa, bj):
    # given a customer whose vehicle has 60 odometer readings, one a day
    customer = customer_of(bj)
    vehicle = vehicle_of(customer, bj, sale_date=datetime.date(2024, 1, 1))
    start = datetime.date(2024, 1, 2)
    OdometerReading.objects.bulk_create(
        OdometerReading(
            vehicle=vehicle, km=100 * n, read_on=start + datetime.timedelta(days=n), source="manual"
        )
        for n in range(60)
    )
    client = signed_in(client, sa)
    # when the 360 opens, then it shows the newest page and a link to older entries
    response = client.get(reverse("customer-detail", args=[customer.pk]))
    first_page = response.context["timeline"]
    older_url = response.context["older_url"]
    assert len(first_page) == 50 and older_url
    # when htmx asks for the older entries
    fragment = client.get(older_url, HTTP_HX_REQUEST="true")
    # then only entries older than the last shown come back, as a fragment
    older = fragment.context["timeline"]
    assert older and all(e.at < first_page[-1].at for e in older)
    assert "<html" not in html(fragment)
    assert 'data-kind="crm.odometer"' in html(fragment)


def test_possible_duplicates_are_shown_on_the_360_with_a_merge_link(client, org, bj):
    first = customer_of(bj, name="陈静")
    second = customer_of(bj, name="陈静", phone2=first.mobile)
    client = signed_in(client, org["bj01-svcmgr"])
    response = client.get(reverse("customer-detail", args=[first.pk]), **EN)
    assert [d.customer.pk for d in response.context["duplicates"]] == [second.pk]
    page = html(response)
    assert "Same phone number" in page
    assert reverse("customer-merge", args=[first.pk, second.pk]) in page


def test_merged_customer_link_leads_to_the_survivor(client, org, bj):
    survivor, duplicate = customer_of(bj), customer_of(bj)
    client = signed_in(client, org["bj01-svcmgr"])
    client.post(reverse("customer-merge", args=[survivor.pk, duplicate.pk]))
    response = client.get(reverse("customer-detail", args=[duplicate.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("customer-detail", args=[survivor.pk])
    outsider = signed_in(client, org["sh01-svcmgr"])
    assert outsider.get(reverse("customer-detail", args=[duplicate.pk])).status_code == 404


# --- duplicates and merge ---------------------------------------------------------------


def test_duplicate_list_shows_pairs_of_the_dealer_only(client, org, bj, sh):
    first = customer_of(bj, name="陈静")
    second = customer_of(bj, name="陈静", phone2=first.mobile)
    elsewhere = customer_of(sh, name="何洁")
    customer_of(sh, name="何洁", phone2=elsewhere.mobile)
    response = signed_in(client, org["bj01-svcmgr"]).get(reverse("duplicate-list"))
    pairs = [(p.first.pk, p.second.pk) for p in response.context["object_list"]]
    assert pairs == [(first.pk, second.pk)]
    assert signed_in(client, org["bj01-sa"]).get(reverse("duplicate-list")).status_code == 403


def test_merge_confirm_page_compares_both_records(client, org, bj):
    a = customer_of(bj, name="陈静", city="北京")
    b = customer_of(bj, name="陈静", city="天津")
    response = signed_in(client, org["bj01-svcmgr"]).get(
        reverse("customer-merge", args=[a.pk, b.pk])
    )
    assert response.status_code == 200
    page = html(response)
    assert "北京" in page and "天津" in page
    city = next(r for r in response.context["rows"] if r["values"] == ["北京", "天津"])
    assert city["differs"]


def test_merge_keeps_the_chosen_record_and_moves_vehicles(client, org, bj):
    # given two records of the same person, the second with a vehicle
    a, b = customer_of(bj, name="陈静"), customer_of(bj, name="陈静")
    vehicle = vehicle_of(b, bj)
    # when the manager merges, keeping the second one
    response = signed_in(client, org["bj01-svcmgr"]).post(
        reverse("customer-merge", args=[a.pk, b.pk]), {"survivor": b.pk}
    )
    # then the first is folded into the second, which keeps its vehicle
    assert response.status_code == 302
    assert response["Location"] == reverse("customer-detail", args=[b.pk])
    a.refresh_from_db()
    assert a.merged_into_id == b.pk
    assert Vehicle.objects.get(pk=vehicle.pk).owner_id == b.pk


def test_merge_is_refused_for_other_dealers_records_and_without_permission(client, org, bj, sh):
    a, b, theirs = customer_of(bj), customer_of(bj), customer_of(sh)
    manager = signed_in(client, org["bj01-svcmgr"])
    assert manager.get(reverse("customer-merge", args=[a.pk, theirs.pk])).status_code == 404
    assert manager.get(reverse("customer-merge", args=[a.pk, a.pk])).status_code == 404
    advisor = signed_in(client, org["bj01-sa"])
    assert advisor.post(reverse("customer-merge", args=[a.pk, b.pk])).status_code == 403
    assert not Customer.objects.filter(merged_into__isnull=False).exists()


# --- vehicles ---------------------------------------------------------------------------


def _vehicle_form(variant_pk, **data):
    return {"vin": valid_vin(), "plate": unique_plate(), "variant": variant_pk, **data}


@pytest.fixture
def variant(org):
    from aftersales.catalogue.demo import load_catalogue_demo
    from aftersales.catalogue.models import Variant

    load_catalogue_demo()
    return Variant.objects.get(code="X3-15T-2024")


def test_vehicle_with_a_wrong_check_digit_is_refused_with_the_expected_digit(
    client, sa, bj, variant
):
    owner = customer_of(bj)
    vin = valid_vin(variant.vin_prefix, variant.model_year)
    wrong = vin[:8] + ("1" if vin[8] != "1" else "2") + vin[9:]
    url = reverse("vehicle-create") + f"?owner={owner.pk}"
    response = signed_in(client, sa).post(url, _vehicle_form(variant.pk, vin=wrong), **EN)
    assert response.status_code == 200
    assert field_errors(response, "vin") == [
        f"VIN check digit (9th character) should be {vin[8]}, not {wrong[8]}."
    ]
    assert not Vehicle.objects.filter(owner=owner).exists()


def test_vehicle_create_registers_it_with_warranty_and_odometer(client, sa, bj, variant):
    owner = customer_of(bj)
    vin = valid_vin(variant.vin_prefix, variant.model_year)
    response = signed_in(client, sa).post(
        reverse("vehicle-create") + f"?owner={owner.pk}",
        _vehicle_form(
            variant.pk,
            vin=vin.lower(),
            plate="京ad12345",
            sale_date="2025-05-01",
            invoice_date="2025-05-02",
            odometer_km="35",
            selling_dealer=bj.pk,
        ),
    )
    vehicle = Vehicle.objects.get(vin=vin)
    assert response.status_code == 302
    assert response["Location"] == reverse("vehicle-detail", args=[vehicle.pk])
    assert vehicle.owner == owner and vehicle.plate == "京AD12345"
    assert vehicle.warranty_end == datetime.date(2028, 5, 1)
    assert vehicle.odometer_km == 35
    assert vehicle.selling_dealer == bj


def test_vehicle_create_needs_a_visible_owner(client, org, sh, variant):
    theirs = customer_of(sh)
    client = signed_in(client, org["bj01-sa"])
    url = reverse("vehicle-create") + f"?owner={theirs.pk}"
    assert client.get(url).status_code == 404
    assert client.post(url, _vehicle_form(variant.pk)).status_code == 404


def test_vehicle_create_without_owner_finds_the_owner_by_mobile(client, sa, bj):
    owner = customer_of(bj, mobile="13655556666")
    client = signed_in(client, sa)
    response = client.get(reverse("vehicle-create"), {"mobile": "136 5555 6666"})
    assert response.status_code == 302
    assert response["Location"] == reverse("vehicle-create") + f"?owner={owner.pk}"
    unknown = client.get(reverse("vehicle-create"), {"mobile": "13655550000"}, **EN)
    assert "None of your customers has this mobile number" in html(unknown)


def test_variant_select_is_grouped_by_model(client, sa, bj, variant):
    owner = customer_of(bj)
    page = html(signed_in(client, sa).get(reverse("vehicle-create") + f"?owner={owner.pk}"))
    assert re.search(r'<optgroup label="[^"]*星驰 X3">', page)


def test_vehicle_detail_shows_warranty_from_the_catalogue(client, sa, bj):
    owner = customer_of(bj)
    vehicle = vehicle_of(owner, bj, sale_date=datetime.date(2020, 1, 10), invoice_date=None)
    response = signed_in(client, sa).get(reverse("vehicle-detail", args=[vehicle.pk]), **EN)
    page = html(response)
    assert response.context["vehicle"].warranty.state == "expired_date"
    assert "2023-01-09" in page  # 3 years from the sale date
    assert 'data-warranty="expired_date"' in page


def test_odometer_reading_is_recorded_and_a_rollback_is_refused(client, sa, bj):
    vehicle = vehicle_of(customer_of(bj), bj, sale_date=datetime.date(2024, 3, 1))
    client = signed_in(client, sa)
    url = reverse("vehicle-odometer", args=[vehicle.pk])
    ok = client.post(url, {"km": "12000", "read_on": "2025-01-05", "source": "reception"})
    assert ok.status_code == 302
    vehicle.refresh_from_db()
    assert vehicle.odometer_km == 12000
    back = client.post(url, {"km": "9000", "read_on": "2025-02-01", "source": "manual"}, **EN)
    assert back.status_code == 200
    assert back.context["odometer_form"].errors["km"] == [
        "Lower than an earlier reading (12000 km)."
    ]
    assert OdometerReading.objects.filter(vehicle=vehicle).count() == 1


def test_transfer_of_ownership_by_mobile(client, sa, bj, sh):
    seller = customer_of(bj, name="卖家")
    buyer = customer_of(bj, name="买家", mobile="13577778888")
    vehicle = vehicle_of(seller, bj, sale_date=datetime.date(2024, 3, 1))
    client = signed_in(client, sa)
    url = reverse("vehicle-transfer", args=[vehicle.pk])
    # an unknown mobile (or another dealer's customer) is refused next to the field
    stranger = customer_of(sh, mobile="13500001234")
    refused = client.post(
        url,
        {"mobile": stranger.mobile, "on_date": "2025-06-01", "reason": "transfer", "version": 1},
        **EN,
    )
    assert refused.context["transfer_form"].errors["mobile"] == [
        "None of your customers has this mobile number. Register the customer first."
    ]
    response = client.post(
        url,
        {"mobile": "135 7777 8888", "on_date": "2025-06-01", "reason": "transfer", "version": 1},
    )
    assert response.status_code == 302
    vehicle.refresh_from_db()
    assert vehicle.owner == buyer
    page = html(client.get(reverse("vehicle-detail", args=[vehicle.pk])))
    assert "卖家" in page and "买家" in page


def test_vehicle_edit_refuses_a_stale_version(client, sa, bj, variant):
    vehicle = vehicle_of(customer_of(bj), bj, colour="白")
    client = signed_in(client, sa)
    data = {
        "vin": vehicle.vin,
        "plate": vehicle.plate,
        "variant": vehicle.variant_id,
        "colour": "黑",
        "sale_date": "2024-03-01",
        "invoice_date": "2024-03-01",
        "version": vehicle.version,
    }
    assert client.post(reverse("vehicle-edit", args=[vehicle.pk]), data).status_code == 302
    vehicle.refresh_from_db()
    assert (vehicle.colour, vehicle.version) == ("黑", 2)
    stale = client.post(reverse("vehicle-edit", args=[vehicle.pk]), {**data, "colour": "红"}, **EN)
    assert stale.status_code == 409
    assert "Someone else changed this vehicle" in html(stale)
    vehicle.refresh_from_db()
    assert vehicle.colour == "黑"


def test_vehicle_pages_of_another_dealer_answer_404(client, org, sh):
    vehicle = vehicle_of(customer_of(sh), sh)
    client = signed_in(client, org["bj01-sa"])
    for name in ("vehicle-detail", "vehicle-edit"):
        assert client.get(reverse(name, args=[vehicle.pk])).status_code == 404
    for name in ("vehicle-odometer", "vehicle-transfer"):
        assert client.post(reverse(name, args=[vehicle.pk]), {"km": 1}).status_code == 404


def test_vehicle_list_filters_by_vin_tail_plate_model_and_warranty(client, sa, bj):
    from aftersales.catalogue.models import Variant

    owner = customer_of(bj)
    today = timezone.localdate()
    new = vehicle_of(owner, bj, plate="京A11111", sale_date=today, invoice_date=today)
    old = vehicle_of(
        owner,
        bj,
        plate="京B22222",
        sale_date=datetime.date(2019, 1, 1),
        invoice_date=datetime.date(2019, 1, 1),
        variant=Variant.objects.get(code="S7-20T-2022"),
    )
    client = signed_in(client, sa)

    def listed(**params):
        return {v.pk for v in client.get(reverse("vehicle-list"), params).context["object_list"]}

    assert listed(q=new.vin[-8:]) == {new.pk}
    assert listed(q=old.vin[-6:]) == {old.pk}
    assert listed(q="京b") == {old.pk}
    assert listed(model=old.variant.vehicle_model_id) == {old.pk}
    assert listed(warranty="in") == {new.pk}
    assert listed(warranty="out") == {old.pk}


# --- reception --------------------------------------------------------------------------


def test_reception_finds_another_dealers_vehicle_with_a_reception_card_only(client, org, bj):
    # given a BJ01 customer's vehicle
    owner = customer_of(bj, name="高远", mobile="13922223333")
    vehicle = vehicle_of(owner, bj, plate="京C33333")
    client = signed_in(client, org["sh01-sa"])
    for query in (vehicle.vin.lower(), "京C33333"):
        # when SH01's advisor looks it up by exact VIN or plate
        response = client.get(reverse("reception"), {"q": query})
        page = html(response)
        # then the card shows the car and the owner's name with a masked phone, no links
        assert response.context["vehicle"] == vehicle
        assert "高远" in page and "139****3333" in page and "13922223333" not in page
        assert reverse("vehicle-detail", args=[vehicle.pk]) not in page
        assert reverse("customer-detail", args=[owner.pk]) not in page
    # and a partial VIN finds nothing
    assert client.get(reverse("reception"), {"q": vehicle.vin[-8:]}).context["vehicle"] is None


def test_reception_links_into_the_records_of_the_dealers_own_vehicle(client, sa, bj):
    owner = customer_of(bj, mobile="13922224444")
    vehicle = vehicle_of(owner, bj)
    page = html(signed_in(client, sa).get(reverse("reception"), {"q": vehicle.plate}))
    assert reverse("vehicle-detail", args=[vehicle.pk]) in page
    assert reverse("customer-detail", args=[owner.pk]) in page
    assert "13922224444" in page


# --- segment thresholds -----------------------------------------------------------------


def test_segment_rule_page_shows_thresholds_and_counts(client, org, bj):
    Customer.objects.filter(pk=customer_of(bj).pk).update(segment="at_risk")
    response = signed_in(client, org["bj01-svcmgr"]).get(reverse("segment-rule"))
    assert response.status_code == 200
    counts = {s["value"]: s["count"] for s in response.context["segments"]}
    assert counts["at_risk"] == 1 and counts["loyal"] == 0
    assert str(SegmentRule.current().lost_after_days) in html(response)
    assert reverse("segment-rule-edit") not in html(response)  # may look, not change


def test_oem_admin_changes_the_thresholds_and_bad_values_are_refused(client, org):
    client = signed_in(client, org["oem-admin"])
    initial = client.get(reverse("segment-rule-edit")).context["form"].initial
    bad = client.post(
        reverse("segment-rule-edit"), {**initial, "lost_after_days": 100, "at_risk_after_days": 200}
    )
    assert bad.status_code == 200
    assert bad.context["form"].errors["lost_after_days"]
    assert SegmentRule.current().lost_after_days == 450
    ok = client.post(reverse("segment-rule-edit"), {**initial, "lost_after_days": 500})
    assert ok.status_code == 302
    assert SegmentRule.current().lost_after_days == 500
    advisor = signed_in(client, org["bj01-svcmgr"])
    assert advisor.get(reverse("segment-rule-edit")).status_code == 403


# --- navigation -------------------------------------------------------------------------


def _menu(client):
    return re.findall(r'data-menu="([\w-]+)"', html(client.get(reverse("home"))))


def test_menu_offers_the_crm_pages_by_permission(client, org):
    advisor = _menu(signed_in(client, org["bj01-sa"]))
    assert {"reception", "customer-list", "vehicle-list", "vehicle-model-list"} <= set(advisor)
    assert "duplicate-list" not in advisor and "segment-rule" not in advisor
    manager = _menu(signed_in(client, org["bj01-svcmgr"]))
    assert {"duplicate-list", "segment-rule", "import-list"} <= set(manager)
    assert "import-list" not in advisor


# --- query counts -----------------------------------------------------------------------


def _queries(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_pages_keep_a_fixed_query_count(client, org, bj, django_assert_max_num_queries):
    manager = signed_in(client, org["bj01-svcmgr"])
    owner = customer_of(bj, tags=["VIP"])
    vehicle_of(owner, bj)
    a = customer_of(bj, name="陈静")
    customer_of(bj, name="陈静", phone2=a.mobile)
    pages = [reverse(n) for n in ("customer-list", "vehicle-list", "duplicate-list")]
    few = {url: _queries(manager, url) for url in pages}
    # more customers, each with tags and vehicles, and more duplicate pairs
    for n in range(12):
        extra = customer_of(bj, name=f"客户{n}", tags=["VIP", f"T{n}"])
        vehicle_of(extra, bj)
        customer_of(bj, name=f"客户{n}", phone2=extra.mobile)
    for url in pages:
        with django_assert_max_num_queries(few[url]):
            manager.get(url)
    with django_assert_max_num_queries(12):
        manager.get(reverse("customer-list"))


def test_detail_pages_keep_a_fixed_query_count(client, sa, bj, django_assert_max_num_queries):
    client = signed_in(client, sa)
    customer = customer_of(bj, tags=["VIP"])
    vehicle = vehicle_of(customer, bj, sale_date=datetime.date(2024, 1, 1))
    odometer_record(actor=sa, vehicle=vehicle, km=100, read_on=datetime.date(2024, 2, 1))
    urls = [
        reverse("customer-detail", args=[customer.pk]),
        reverse("vehicle-detail", args=[vehicle.pk]),
    ]
    few = {url: _queries(client, url) for url in urls}
    for _n in range(4):
        more = vehicle_of(customer, bj, sale_date=datetime.date(2024, 1, 1))
        odometer_record(actor=sa, vehicle=more, km=50, read_on=datetime.date(2024, 2, 1))
    for n in range(10):
        odometer_record(
            actor=sa, vehicle=vehicle, km=200 + n, read_on=datetime.date(2024, 3, 1 + n)
        )
    for url in urls:
        with django_assert_max_num_queries(few[url]):
            client.get(url)


def test_customer_tags_for_the_form_come_from_the_tag_table(client, sa):
    CustomerTag.objects.create(name="车队客户")
    page = html(signed_in(client, sa).get(reverse("customer-create")))
    assert '<option value="车队客户">' in page
