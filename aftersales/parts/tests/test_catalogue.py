"""Parts catalogue: the demo data, the API, the lookup pages and the admin."""

import time
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from aftersales.core.models import AuditLog
from aftersales.crm.testing import valid_vin
from aftersales.org.models import Dealer, User
from aftersales.parts.demo_catalogue import ean13, load_parts_catalogue_demo
from aftersales.parts.models import Fitment, Part, PartCategory
from aftersales.parts.testing import make_part, make_warehouse, stock_up


@pytest.fixture
def demo_parts(db):
    load_parts_catalogue_demo()


@pytest.fixture
def sa_client(client, demo_org):
    client.force_login(demo_org["bj01-sa"])
    return client


def _x3_2024_vin():
    return valid_vin("LXCX3A15", 2024)


# ---------------------------------------------------------------- demo data


def test_demo_catalogue_is_realistic_fast_and_idempotent(db):
    # when loaded
    started = time.monotonic()
    first = load_parts_catalogue_demo()
    elapsed = time.monotonic() - started
    # then about 800 parts in 12 categories, quickly
    assert elapsed < 5
    assert 700 <= first["parts"] <= 1000
    assert PartCategory.objects.count() == 12
    parts = list(Part.objects.all())
    for part in parts:
        assert Decimal("0.59") <= part.dealer_cost / part.list_price <= Decimal("0.76")
        if part.barcode and len(part.barcode) == 13 and part.barcode.startswith("69"):
            assert ean13(part.barcode[:12]) == part.barcode
    assert any(p.universal for p in parts) and any(p.wear_part for p in parts)
    assert Part.objects.filter(category__code="NEV").count() > 20
    # supersession: some chains of three, old numbers inactive
    chains = [p for p in parts if p.superseded_by_id]
    assert chains and all(not p.active for p in chains)
    assert Part.objects.filter(superseded_by__superseded_by__isnull=False).exists()
    # fitments reach every demo model
    assert Fitment.objects.values("vehicle_model").distinct().count() == 9
    # when loaded again, then nothing is added
    assert load_parts_catalogue_demo()["created"] == 0
    assert Part.objects.count() == first["parts"]


def test_demo_vin_lists_parts_of_its_model(demo_parts, demo_org):
    from aftersales.parts.lookup import parts_for_vin

    result = parts_for_vin(demo_org["bj01-sa"], _x3_2024_vin(), universal=True)
    assert result.decode.variant.code == "X3-15T-2024"
    assert result.count > 40
    names = " ".join(p.name for p in result.parts)
    assert "星驰 X3" in names and "星驰 S5" not in names


# ---------------------------------------------------------------- API


def test_api_search_ranks_the_exact_number_first_with_its_replacement(sa_client, db):
    new = make_part(number="9990000002", name="空调滤芯 新")
    old = make_part(number="9990000001", name="空调滤芯 9990000002", superseded_by=new)
    response = sa_client.get("/api/parts/parts/", {"q": "999-000-0002"})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["number"], r["match"]) for r in rows] == [("9990000002", "number")]
    rows = sa_client.get("/api/parts/parts/", {"q": "空调滤芯"}).json()["results"]
    assert [(r["number"], r["match"]) for r in rows] == [
        ("9990000001", "name"),
        ("9990000002", "name"),
    ]
    assert rows[0]["replacement"]["number"] == "9990000002"
    assert rows[1]["replacement"] is None
    detail = sa_client.get(f"/api/parts/parts/{old.pk}/").json()
    assert [p["number"] for p in detail["chain"]] == ["9990000002"]
    assert detail["replacement"]["id"] == new.pk
    assert sa_client.get(f"/api/parts/parts/{new.pk}/").json()["supersedes"][0]["id"] == old.pk


def test_api_fitment_by_vin(sa_client, demo_parts):
    response = sa_client.get("/api/parts/fitment/", {"vin": _x3_2024_vin(), "page_size": 10})
    assert response.status_code == 200
    body = response.json()
    assert body["vehicle"]["resolved"] == "decoded"
    assert body["vehicle"]["variant"]["code"] == "X3-15T-2024"
    assert body["count"] > 10 and len(body["results"]) == 10


@pytest.mark.parametrize(
    ("vin", "status", "code"),
    [
        ("", 400, "empty_vin"),
        ("LXC123", 400, "invalid_vin"),
        (valid_vin("LZZZZZ99", 2024), 404, "unknown_vin_prefix"),
    ],
)
def test_api_fitment_bad_vin(sa_client, demo_parts, vin, status, code):
    with translation.override("en"):
        response = sa_client.get("/api/parts/fitment/", {"vin": vin}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == status
    body = response.json()
    assert body["code"] == code
    assert body["fields"]["vin"] and body["message"]


def test_api_needs_view_part(client, demo_org):
    client.force_login(User.objects.create(username="no-roles"))
    assert client.get("/api/parts/parts/").status_code == 403
    assert client.get("/api/parts/categories/").status_code == 403
    assert client.get("/api/parts/fitment/", {"vin": _x3_2024_vin()}).status_code == 403


def test_api_lists_keep_a_fixed_query_count(sa_client, demo_parts, django_assert_max_num_queries):
    sa_client.get("/api/parts/parts/")  # warm caches (session, roles)
    for size in (5, 50):
        with django_assert_max_num_queries(9):
            assert sa_client.get("/api/parts/parts/", {"page_size": size}).status_code == 200
        with django_assert_max_num_queries(9):
            response = sa_client.get("/api/parts/parts/", {"q": "刹车", "page_size": size})
            assert len(response.json()["results"]) == size
        with django_assert_max_num_queries(10):
            response = sa_client.get(
                "/api/parts/fitment/", {"vin": _x3_2024_vin(), "page_size": size}
            )
            assert response.status_code == 200


# ---------------------------------------------------------------- pages


def test_lookup_page_vin_mode_shows_vehicle_groups_and_my_stock(sa_client, demo_parts):
    # given stock of an X3 brake pad at BJ01 and at SH01
    pad = Part.objects.filter(name__startswith="前刹车片（套） 星驰 X3", active=True).get()
    stock_up(warehouse=make_warehouse(dealer=Dealer.objects.get(code="BJ01")), part=pad, quantity=3)
    stock_up(warehouse=make_warehouse(dealer=Dealer.objects.get(code="SH01")), part=pad, quantity=9)
    # when the BJ01 advisor scans the VIN
    response = sa_client.get(reverse("part-lookup"), {"q": _x3_2024_vin().lower()})
    # then the vehicle, the fitting parts by category and BJ01's quantity show
    assert response.status_code == 200
    ctx = response.context
    assert ctx["mode"] == "vin" and ctx["fitment"].decode.variant.code == "X3-15T-2024"
    assert {cat.code for cat, _parts in ctx["groups"]} >= {"BRAKE", "FILTER"}
    shown = {p.pk: p for p in ctx["object_list"]}
    assert shown[pad.pk].available == 3
    html = response.content.decode()
    assert "星驰 X3" in html and "autofocus" in html


def test_lookup_page_search_browse_and_errors(sa_client, demo_parts):
    part = Part.objects.filter(active=True, superseded_by__isnull=True).order_by("number")[5]
    response = sa_client.get(reverse("part-lookup"), {"q": part.number})
    assert response.context["mode"] == "search"
    assert response.context["object_list"][0] == part
    browse = sa_client.get(reverse("part-lookup"))
    assert browse.context["mode"] == "browse" and len(browse.context["object_list"]) == 50
    with translation.override("en"):
        unknown = sa_client.get(
            reverse("part-lookup"), {"q": valid_vin("LZZZZZ99", 2024)}, HTTP_ACCEPT_LANGUAGE="en"
        )
    assert unknown.status_code == 200 and "LZZZZZ99" in unknown.context["error"]
    # a 17-character entry that is no valid VIN is searched as a part and explained
    bad = sa_client.get(reverse("part-lookup"), {"q": "ABCDEFGHJKLMNPRST"})
    assert bad.context["mode"] == "search" and bad.context["error"]


def test_lookup_page_keeps_a_fixed_query_count(
    sa_client, demo_parts, django_assert_max_num_queries
):
    sa_client.get(reverse("part-lookup"))
    with django_assert_max_num_queries(14):
        assert sa_client.get(reverse("part-lookup"), {"q": "刹车"}).status_code == 200
    with django_assert_max_num_queries(16):
        assert sa_client.get(reverse("part-lookup"), {"q": _x3_2024_vin()}).status_code == 200


def test_part_detail_page_shows_chain_fitment_and_stock(sa_client, demo_parts):
    old = Part.objects.filter(superseded_by__superseded_by__isnull=False).first()
    stock_up(
        warehouse=make_warehouse(dealer=Dealer.objects.get(code="BJ01")),
        part=old.superseded_by,
        quantity=4,
    )
    response = sa_client.get(reverse("part-detail", args=[old.pk]))
    assert response.status_code == 200
    assert response.context["replacement"] == old.superseded_by.superseded_by
    middle = sa_client.get(reverse("part-detail", args=[old.superseded_by.pk]))
    assert middle.context["supersedes"] == [old]
    assert [s.on_hand for s in middle.context["stock"]] == [4]
    assert middle.context["fitments"]


def test_pages_need_view_part(client, demo_org, db):
    part = make_part()
    assert client.get(reverse("part-lookup")).status_code == 302  # anonymous → login
    client.force_login(User.objects.create(username="no-roles"))
    assert client.get(reverse("part-lookup")).status_code == 403
    assert client.get(reverse("part-detail", args=[part.pk])).status_code == 403


# ---------------------------------------------------------------- admin


def test_admin_edits_are_audited_and_loops_refused(client, db):
    admin = User.objects.create_superuser(username="root", password="x-Long-pass-2026")
    client.force_login(admin)
    new = make_part(number="ADM0002")
    old = make_part(number="ADM0001", superseded_by=new)
    form = {
        "number": "adm-0002",
        "name": "新件",
        "name_en": "New",
        "category": new.category_id,
        "unit": "pc",
        "list_price": "10.00",
        "dealer_cost": "7.00",
        "barcode": "",
        "warranty_months": "12",
        "warranty_km": "0",
        "superseded_by": str(old.pk),
        "active": "on",
        "fitments-TOTAL_FORMS": "0",
        "fitments-INITIAL_FORMS": "0",
    }
    url = reverse("admin:parts_part_change", args=[new.pk])
    with translation.override("en"):
        response = client.post(url, form, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200  # the form again, with the error
    assert "loop" in str(response.context["adminform"].form.errors["superseded_by"])
    new.refresh_from_db()
    assert new.superseded_by_id is None
    form["superseded_by"] = ""
    before = AuditLog.objects.count()
    assert client.post(url, form).status_code == 302
    new.refresh_from_db()
    assert new.number == "ADM0002" and new.barcode is None
    assert AuditLog.objects.count() == before + 1
    found = client.get(reverse("admin:parts_part_changelist"), {"q": "ADM0001"})
    assert list(found.context["cl"].result_list) == [old]


def test_the_fast_part_rows_answer_exactly_what_the_part_serializer_does(db):
    from aftersales.parts.api.catalogue import PartSerializer, part_row
    from aftersales.parts.lookup import annotate_replacements
    from aftersales.parts.testing import make_part

    # given a superseded part (with a replacement) and a current one
    new = make_part(number="NEW-ROW-1", barcode="6901234567892")
    old = make_part(number="OLD-ROW-1", superseded_by=new, active=False)
    parts = list(
        Part.objects.select_related("category", "superseded_by").filter(pk__in=[old.pk, new.pk])
    )
    annotate_replacements(parts)
    # then the hand-written rows equal the serializer's output, field for field
    assert [part_row(p) for p in parts] == [dict(PartSerializer(p).data) for p in parts]
