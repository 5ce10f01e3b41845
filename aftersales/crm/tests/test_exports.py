"""Excel export of the customer and vehicle lists: the same rows as the filtered list page,
scoped to the user's dealer, phone numbers masked for roles that do not call customers,
never a full resident ID number, and a clear refusal above the size limit."""

import datetime
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from aftersales.catalogue.demo import load_catalogue_demo
from aftersales.catalogue.models import Variant
from aftersales.crm import exports
from aftersales.crm.choices import RelationshipKind, Segment
from aftersales.crm.models import Customer, DealerVehicle, Vehicle
from aftersales.crm.services import odometer_record
from aftersales.crm.testing import make_customer, make_vehicle, valid_id_number, valid_vin
from aftersales.crm.validators import mask_mobile
from aftersales.org.models import Dealer
from aftersales.org.roles import PERMISSIONS, Role

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def dealers(demo_org):
    load_catalogue_demo()
    return Dealer.objects.get(code="BJ01"), Dealer.objects.get(code="SH01")


@pytest.fixture
def book(dealers):
    """Customers at BJ01 with segments, tags, cities and vehicles; one customer at SH01."""
    bj, sh = dealers
    people = {
        "loyal_vip": make_customer(dealer=bj, name="王芳", city="北京", tags=["VIP"]),
        "regular": make_customer(dealer=bj, name="李娜", city="天津"),
        "plain": make_customer(
            dealer=bj, name="张伟", city="北京", id_number=valid_id_number(seq=77)
        ),
        "elsewhere": make_customer(dealer=sh, name="陈静", city="北京", tags=["VIP"]),
    }
    Customer.objects.filter(pk=people["loyal_vip"].pk).update(segment=Segment.LOYAL)
    Customer.objects.filter(pk=people["regular"].pk).update(segment=Segment.REGULAR)
    x3 = Variant.objects.get(code="X3-15T-2024")
    e6 = Variant.objects.filter(vehicle_model__code="E6").order_by("code").first()
    people["x3"] = make_vehicle(owner=people["plain"], dealer=bj, variant=x3)
    people["e6_old"] = make_vehicle(
        owner=people["loyal_vip"],
        dealer=bj,
        variant=e6,
        vin=valid_vin(e6.vin_prefix, e6.model_year),
        sale_date=datetime.date(2019, 1, 5),
        invoice_date=datetime.date(2019, 1, 5),
    )
    people["sh_car"] = make_vehicle(owner=people["elsewhere"], dealer=sh, variant=x3)
    return people


def page(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def rows_of(response) -> list[tuple]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    sheet = workbook.worksheets[0]
    header, keys, *rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(keys, r, strict=True)) for r in rows]


@pytest.mark.parametrize(
    "query", ["", "segment=loyal", "tag=VIP", "city=北", "city=北&tag=VIP", "segment=lost"]
)
def test_customer_export_holds_the_rows_of_the_filtered_list_page(demo_org, book, query):
    client = page(demo_org["bj01-svcmgr"])
    # given the list page with some filters
    listed = client.get(reverse("customer-list") + "?" + query).context["object_list"]
    # when the same query string is exported
    exported = rows_of(client.get(reverse("customer-export") + "?" + query))
    # then the export has exactly the page's customers (none of another dealer's)
    assert sorted(r["name"] for r in exported) == sorted(c.name for c in listed)
    assert "陈静" not in {r["name"] for r in exported}


def test_customer_export_of_a_search_holds_the_customers_found(demo_org, book):
    client = page(demo_org["bj01-svcmgr"])
    plate = book["x3"].plate
    exported = rows_of(client.get(reverse("customer-export"), {"q": plate}))
    assert [r["name"] for r in exported] == ["张伟"]
    assert exported[0]["plates"] == plate and exported[0]["vehicles"] == 1


def test_customer_export_shows_full_mobiles_to_contact_roles_and_never_a_full_id(demo_org, book):
    # given a service manager (may call customers)
    exported = rows_of(page(demo_org["bj01-svcmgr"]).get(reverse("customer-export")))
    plain = next(r for r in exported if r["name"] == "张伟")
    # then the mobile is whole, the ID number masked, and the full number is nowhere
    assert plain["mobile"] == book["plain"].mobile
    full_id = valid_id_number(seq=77)
    assert plain["id_number_masked"] == full_id[:6] + "********" + full_id[-4:]
    assert all(full_id not in str(v) for r in exported for v in r.values())
    vip = next(r for r in exported if r["name"] == "王芳")
    assert (vip["tags"], vip["segment"], vip["city"]) == ("VIP", "Loyal", "北京")


def test_customer_export_masks_mobiles_for_a_role_without_contact_rights(
    demo_org, book, monkeypatch
):
    # given a role that may export but not call customers (configured so for this test)
    monkeypatch.setitem(
        PERMISSIONS,
        Role.DCRC_MANAGER,
        PERMISSIONS[Role.DCRC_MANAGER] - {"crm.contact_customer"},
    )
    # when its holder exports
    exported = rows_of(page(demo_org["bj01-dcrcmgr"]).get(reverse("customer-export")))
    # then every mobile is masked
    plain = next(r for r in exported if r["name"] == "张伟")
    assert plain["mobile"] == mask_mobile(book["plain"].mobile)
    assert all("****" in r["mobile"] for r in exported)


@pytest.mark.parametrize("query", ["", "warranty=in", "warranty=out", "model={e6}", "q={tail}"])
def test_vehicle_export_holds_the_rows_of_the_filtered_list_page(demo_org, book, query):
    client = page(demo_org["bj01-svcmgr"])
    query = query.format(e6=book["e6_old"].variant.vehicle_model_id, tail=book["x3"].vin[-8:])
    listed = client.get(reverse("vehicle-list") + "?" + query).context["object_list"]
    exported = rows_of(client.get(reverse("vehicle-export") + "?" + query))
    assert sorted(r["vin"] for r in exported) == sorted(v.vin for v in listed)
    assert book["sh_car"].vin not in {r["vin"] for r in exported}


def test_vehicle_export_columns_and_warranty(demo_org, book):
    manager = demo_org["bj01-svcmgr"]
    odometer_record(actor=manager, vehicle=book["x3"], km=15000, read_on=timezone.localdate())
    exported = {r["vin"]: r for r in rows_of(page(manager).get(reverse("vehicle-export")))}
    x3 = exported[book["x3"].vin]
    assert (x3["variant_code"], x3["model"], x3["odometer_km"]) == ("X3-15T-2024", "星驰 X3", 15000)
    assert x3["owner"] == "张伟" and x3["owner_mobile"] == book["plain"].mobile
    assert x3["warranty_end"].date() == book["x3"].warranty_end
    assert x3["in_warranty"] == ("是" if book["x3"].warranty_end >= timezone.localdate() else "否")
    assert exported[book["e6_old"].vin]["in_warranty"] == "否"


def test_vehicle_export_masks_owners_the_user_has_no_relationship_with(demo_org, book):
    # given SH01 knows a BJ01 vehicle (say it serviced it) but has no link to its owner
    DealerVehicle.objects.create(
        dealer=Dealer.objects.get(code="SH01"), vehicle=book["x3"], kind=RelationshipKind.SERVICED
    )
    # when SH01's manager exports the vehicles
    exported = {
        r["vin"]: r for r in rows_of(page(demo_org["sh01-svcmgr"]).get(reverse("vehicle-export")))
    }
    # then the car is there, its owner only masked
    row = exported[book["x3"].vin]
    assert row["owner"] == "张*" and row["owner_mobile"] == mask_mobile(book["plain"].mobile)
    assert exported[book["sh_car"].vin]["owner"] == "陈静"


def test_an_export_above_the_limit_is_refused_with_a_message(demo_org, book, monkeypatch):
    monkeypatch.setattr(exports, "MAX_ROWS", 1)
    client = page(demo_org["bj01-svcmgr"])
    response = client.get(reverse("customer-export"), {"city": "北"})
    assert response.status_code == 302
    assert response["Location"] == reverse("customer-list") + "?city=%E5%8C%97"
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == [
        "This list has 2 rows; an export holds at most 1. Narrow the list with the filters "
        "and export again."
    ]


def test_roles_without_export_rights_get_403(demo_org, book):
    client = page(demo_org["bj01-sa"])
    assert client.get(reverse("customer-export")).status_code == 403
    assert client.get(reverse("vehicle-export")).status_code == 403


def test_exports_have_a_fixed_number_of_queries(demo_org, dealers, django_assert_max_num_queries):
    bj, _sh = dealers
    manager = demo_org["bj01-svcmgr"]
    client = page(manager)
    counts = []
    for extra in (2, 20):
        for _ in range(extra):
            owner = make_customer(dealer=bj, tags=["VIP"])
            make_vehicle(owner=owner, dealer=bj)
        client.get(reverse("customer-export"))  # warm the session and role caches
        with django_assert_max_num_queries(12) as captured:
            rows_of(client.get(reverse("customer-export")))
        counts.append(len(captured))
        with django_assert_max_num_queries(12):
            rows_of(client.get(reverse("vehicle-export")))
    assert counts[0] == counts[1]
    assert Vehicle.objects.restrict(manager, "view").count() == 22


def test_vehicle_export_accepts_the_apis_in_warranty_spelling(demo_org, book):
    client = page(demo_org["bj01-svcmgr"])
    by_page = rows_of(client.get(reverse("vehicle-export") + "?warranty=out"))
    by_api = rows_of(client.get(reverse("vehicle-export") + "?in_warranty=0"))
    assert [r["vin"] for r in by_api] == [r["vin"] for r in by_page]
    assert book["e6_old"].vin in {r["vin"] for r in by_api}


def test_every_export_of_personal_data_is_audited(demo_org, book):
    from aftersales.core.models import AuditAction, AuditLog

    manager = demo_org["bj01-svcmgr"]
    # when the manager exports the VIP customers and then the vehicle list
    rows_of(page(manager).get(reverse("customer-export"), {"tag": "VIP"}))
    rows_of(page(manager).get(reverse("vehicle-export")))
    # then two export entries name the manager, the list, the filter and the row counts
    entries = list(AuditLog.objects.filter(action=AuditAction.EXPORT, actor=manager).order_by("id"))
    assert [e.changes["list"][1] for e in entries] == ["customers", "vehicles"]
    assert entries[0].changes["rows"][1] == 1
    assert entries[0].changes["filters"][1] == {"tag": "VIP"}
    assert entries[1].changes["rows"][1] == 2
