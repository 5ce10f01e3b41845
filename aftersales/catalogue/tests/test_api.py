"""The read-only catalogue API: brands, models with their warranty terms, wear parts and
service intervals, and variants with their filters."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aftersales.catalogue.demo import load_catalogue_demo
from aftersales.catalogue.models import Brand, FuelType, Variant, VehicleModel

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(demo_org):
    load_catalogue_demo()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(demo_org["bj01-tech"])  # any dealer staff reads the catalogue
    return client


def _all(client, url, **params):
    response = client.get(url, {"page_size": 200, **params})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_brands_are_listed(client):
    rows = _all(client, reverse("api:brand-list"))
    assert [(b["code"], b["name"]) for b in rows] == [("XC", "星驰"), ("XCEV", "星驰新能源")]


def test_a_model_shows_its_warranty_wear_parts_intervals_and_variant_count(client):
    model = VehicleModel.objects.get(code="E6")
    response = client.get(reverse("api:vehiclemodel-detail", args=[model.pk]))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["brand"]["code"] == "XCEV"
    assert body["warranty"] == {"years": 4, "km": 120_000}
    assert body["powertrain_warranty"] == {"years": 8, "km": 200_000}
    assert body["first_service"] == {"months": 12, "km": 10_000}
    assert body["service_interval"] == {"months": 12, "km": 20_000}
    assert body["wear_parts"][:3] == ["刹车片", "刹车盘", "雨刮片"]
    assert body["variants_count"] == Variant.objects.filter(vehicle_model=model).count() == 6


def test_models_list_in_catalogue_order_with_their_variant_counts(client):
    rows = _all(client, reverse("api:vehiclemodel-list"))
    assert [r["code"] for r in rows] == list(
        VehicleModel.objects.order_by("brand__code", "code").values_list("code", flat=True)
    )
    counts = {r["code"]: r["variants_count"] for r in rows}
    assert counts["S5"] == 7 and counts["E9"] == 2
    assert [
        r["code"]
        for r in _all(
            client, reverse("api:vehiclemodel-list"), brand=Brand.objects.get(code="XCEV").pk
        )
    ] == ["E3", "E6", "E9"]


def test_variant_filters(client):
    url = reverse("api:variant-list")
    x5 = VehicleModel.objects.get(code="X5")
    rows = _all(client, url, model=x5.pk)
    assert {r["code"] for r in rows} == set(
        Variant.objects.filter(vehicle_model=x5).values_list("code", flat=True)
    )
    assert all(r["vehicle_model"]["code"] == "X5" for r in rows)
    rows = _all(client, url, fuel_type=FuelType.PHEV)
    assert {r["code"].split("-")[0] for r in rows} == {"X5", "M8"}
    assert all(r["is_new_energy"] and r["fuel_type_display"] for r in rows)
    rows = _all(client, url, model_year=2022)
    assert rows and all(r["model_year"] == 2022 for r in rows)
    Variant.objects.filter(code="S5-15L-2022").update(active=False)
    assert [r["code"] for r in _all(client, url, active="false")] == ["S5-15L-2022"]
    response = client.get(url, {"fuel_type": "steam"})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["fuel_type"]


def test_the_catalogue_is_read_only_through_the_api(client, demo_org):
    variant = Variant.objects.first()
    admin = Client()
    admin.force_login(demo_org["oem-admin"])
    assert admin.post(reverse("api:variant-list"), {}, "application/json").status_code == 405
    url = reverse("api:variant-detail", args=[variant.pk])
    assert admin.patch(url, {"name": "x"}, "application/json").status_code == 405
    assert admin.delete(url).status_code == 405
    assert Variant.objects.get(pk=variant.pk).name == variant.name


def test_catalogue_lists_use_a_fixed_number_of_queries(client):
    def queries(url, page_size):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, {"page_size": page_size})
        assert len(response.json()["results"]) == min(page_size, response.json()["count"])
        return len(captured)

    for name in ("api:vehiclemodel-list", "api:variant-list"):
        url = reverse(name)
        assert queries(url, 2) == queries(url, 40)
