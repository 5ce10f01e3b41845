"""The vehicle catalogue pages: models with warranty terms and service intervals, and a
model's variants."""

import pytest
from django.urls import reverse

from aftersales.catalogue.demo import load_catalogue_demo
from aftersales.catalogue.models import Brand, FuelType, Variant, VehicleModel

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(demo_org):
    load_catalogue_demo()
    return demo_org


def test_model_list_shows_every_model_with_warranty_and_service_intervals(client, catalogue):
    # given the demo catalogue and a service advisor
    client.force_login(catalogue["bj01-sa"])
    # when they open the catalogue (in English)
    response = client.get(reverse("vehicle-model-list"), HTTP_ACCEPT_LANGUAGE="en")
    # then every model is listed with its terms, the variant count and the fuel types
    assert response.status_code == 200
    models = list(response.context["object_list"])
    assert len(models) == VehicleModel.objects.count()
    x5 = next(m for m in models if m.code == "X5")
    assert x5.variant_count == Variant.objects.filter(vehicle_model=x5).count()
    page = response.content.decode()
    assert "4 y / 120000 km" in page  # X5 vehicle warranty
    assert "6 mo / 5000 km" in page  # first service
    e6 = next(m for m in models if m.code == "E6")
    assert e6.fuel_labels == [FuelType.BEV.label]


def test_model_list_filters_by_brand_and_search(client, catalogue):
    client.force_login(catalogue["bj01-sa"])
    nev = Brand.objects.get(code="XCEV")
    by_brand = client.get(reverse("vehicle-model-list"), {"brand": nev.pk})
    assert [m.code for m in by_brand.context["object_list"]] == ["E3", "E6", "E9"]
    searched = client.get(reverse("vehicle-model-list"), {"q": "x7"})
    assert [m.code for m in searched.context["object_list"]] == ["X7"]


def test_model_detail_lists_variants_newest_year_first(client, catalogue):
    client.force_login(catalogue["bj01-tech"])
    x3 = VehicleModel.objects.get(code="X3")
    response = client.get(reverse("vehicle-model-detail", args=[x3.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    variants = response.context["variants"]
    assert {v.pk for v in variants} == set(x3.variants.values_list("pk", flat=True))
    years = [v.model_year for v in variants]
    assert years == sorted(years, reverse=True)
    page = response.content.decode()
    assert variants[0].engine in page and variants[0].vin_prefix in page
    for part in x3.wear_parts:
        assert part in page


def test_model_detail_offers_the_admin_only_to_catalogue_editors(client, catalogue):
    x3 = VehicleModel.objects.get(code="X3")
    url = reverse("vehicle-model-detail", args=[x3.pk])
    client.force_login(catalogue["oem-admin"])
    assert client.get(url).context["admin_url"]
    client.force_login(catalogue["bj01-admin"])
    assert client.get(url).context["admin_url"] is None


def test_unknown_model_answers_404(client, catalogue):
    client.force_login(catalogue["bj01-sa"])
    assert client.get(reverse("vehicle-model-detail", args=[999_999])).status_code == 404


def test_catalogue_pages_keep_a_fixed_query_count(client, catalogue, django_assert_max_num_queries):
    client.force_login(catalogue["bj01-sa"])
    brand = Brand.objects.get(code="XC")
    with django_assert_max_num_queries(10):
        client.get(reverse("vehicle-model-list"))
    # given many more models, each with variants
    for n in range(20):
        model = VehicleModel.objects.create(brand=brand, code=f"T{n}", name=f"测试 T{n}")
        Variant.objects.bulk_create(
            Variant(
                vehicle_model=model,
                code=f"T{n}-{year}",
                name="标准型",
                model_year=year,
                engine="1.5T",
                fuel_type=FuelType.PETROL,
            )
            for year in (2024, 2025, 2026)
        )
    # then the list and a detail page still take the same few queries
    with django_assert_max_num_queries(10):
        response = client.get(reverse("vehicle-model-list"))
    assert len(response.context["object_list"]) == VehicleModel.objects.count()
    with django_assert_max_num_queries(10):
        client.get(reverse("vehicle-model-detail", args=[model.pk]))
