"""API of the labour catalogue and the dealer's workshop set-up."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from aftersales.catalogue.demo import load_catalogue_demo
from aftersales.catalogue.models import Variant, VehicleModel
from aftersales.org.models import Dealer
from aftersales.parts.testing import make_part
from aftersales.workorders.models import (
    LabourOperation,
    LabourRate,
    LabourTime,
    MaintenancePackage,
    ServiceSettings,
    WorkshopBay,
)
from aftersales.workorders.testing import make_bay, make_operation, make_rates

pytestmark = pytest.mark.django_db
API = "/api/workorders"


@pytest.fixture
def api(demo_org):
    def as_(username):
        client = APIClient()
        client.force_authenticate(demo_org[username])
        return client

    return as_


@pytest.fixture
def bj01(demo_org):
    return Dealer.objects.get(code="BJ01")


# ------------------------------------------------------------------ operations


def test_operations_list_filters(api):
    make_operation(code="BR-01", name="更换前刹车片", category="chassis")
    make_operation(code="OIL-01", name="更换机油机滤", category="maintenance")
    client = api("bj01-tech")

    def codes(**params):
        response = client.get(f"{API}/operations/", params)
        assert response.status_code == 200
        return [row["code"] for row in response.json()["results"]]

    assert codes() == ["BR-01", "OIL-01"]
    assert codes(code="br-01") == ["BR-01"]
    assert codes(category="maintenance") == ["OIL-01"]
    assert codes(q="刹车") == ["BR-01"]


def test_operations_list_query_count_is_fixed(api, django_assert_max_num_queries):
    client = api("bj01-sa")
    for i in range(60):
        make_operation(code=f"Q{i:03d}")
    with django_assert_max_num_queries(6):
        response = client.get(f"{API}/operations/", {"page_size": 50})
    assert len(response.json()["results"]) == 50


def test_operation_detail_has_its_times(api):
    load_catalogue_demo()
    op = make_operation(code="BR-02")
    x3 = VehicleModel.objects.get(code="X3")
    LabourTime.objects.create(operation=op, vehicle_model=x3, hours=Decimal("1.4"))
    body = api("bj01-sa").get(f"{API}/operations/{op.pk}/").json()
    assert body["code"] == "BR-02"
    assert [(t["vehicle_model_code"], t["variant"], t["hours"]) for t in body["times"]] == [
        ("X3", None, "1.40")
    ]


def test_operation_create_acts_once_per_key(api):
    client = api("oem-admin")
    data = {"code": "br-03", "name": "更换后刹车片", "category": "chassis", "default_hours": "1.1"}
    first = client.post(f"{API}/operations/", data, format="json", HTTP_IDEMPOTENCY_KEY="k-op-1")
    again = client.post(f"{API}/operations/", data, format="json", HTTP_IDEMPOTENCY_KEY="k-op-1")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert LabourOperation.objects.filter(code="BR-03").count() == 1


def test_operation_create_errors(api):
    data = {"code": "X1", "name": "x", "category": "other", "default_hours": "0"}
    response = api("oem-admin").post(f"{API}/operations/", data, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and "default_hours" in response.json()["fields"]
    response = api("bj01-admin").post(
        f"{API}/operations/", {**data, "default_hours": "1"}, format="json"
    )
    assert response.status_code == 403
    assert not LabourOperation.objects.exists()


def test_operation_patch(api):
    op = make_operation(code="BR-04", hours="1")
    client = api("oem-admin")
    response = client.patch(
        f"{API}/operations/{op.pk}/", {"default_hours": "2.5", "warranty_scope": "powertrain"}
    )
    assert response.status_code == 200
    assert response.json()["default_hours"] == "2.50"
    response = client.patch(f"{API}/operations/{op.pk}/", {"code": "OTHER"}, format="json")
    assert response.status_code == 400
    op.refresh_from_db()
    assert (op.code, op.warranty_scope) == ("BR-04", "powertrain")


# ------------------------------------------------------------------ standard times


def test_labour_time_set_and_remove(api):
    load_catalogue_demo()
    op = make_operation(code="BR-05")
    x3 = VehicleModel.objects.get(code="X3")
    variant = Variant.objects.get(code="X3-15T-2024")
    client = api("oem-admin")
    body = {"operation": op.pk, "vehicle_model": x3.pk, "variant": variant.pk, "hours": "0.8"}
    response = client.post(f"{API}/labour-times/", body, format="json")
    assert response.status_code == 201 and response.json()["variant_code"] == "X3-15T-2024"
    listed = api("bj01-sa").get(f"{API}/labour-times/", {"operation": op.pk}).json()
    assert [row["hours"] for row in listed["results"]] == ["0.80"]
    refused = api("bj01-admin").delete(f"{API}/labour-times/{response.json()['id']}/")
    assert refused.status_code == 403
    assert client.delete(f"{API}/labour-times/{response.json()['id']}/").status_code == 204
    assert not LabourTime.objects.exists()


# ------------------------------------------------------------------ packages


def test_package_create_and_patch(api):
    make_operation(code="PK-OIL")
    make_operation(code="PK-CHK")
    make_part(number="OIL-4L")
    client = api("oem-admin")
    body = {
        "code": "p-10k",
        "name": "1万公里保养",
        "interval_km": 10000,
        "operations": ["PK-OIL"],
        "parts": [{"part": "OIL-4L", "quantity": "4"}],
    }
    response = client.post(f"{API}/packages/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-p-1")
    assert response.status_code == 201
    created = response.json()
    assert [o["code"] for o in created["operations"]] == ["PK-OIL"]
    assert [(p["number"], p["quantity"]) for p in created["parts"]] == [("OIL-4L", "4.00")]
    response = client.patch(
        f"{API}/packages/{created['id']}/", {"operations": ["PK-OIL", "PK-CHK"]}, format="json"
    )
    assert response.status_code == 200
    assert sorted(o["code"] for o in response.json()["operations"]) == ["PK-CHK", "PK-OIL"]
    assert len(response.json()["parts"]) == 1
    bad = client.post(
        f"{API}/packages/",
        {**body, "code": "P2", "parts": [{"part": "NOPE", "quantity": "1"}]},
        format="json",
    )
    assert bad.status_code == 400 and "parts" in bad.json()["fields"]
    assert MaintenancePackage.objects.count() == 1


# ------------------------------------------------------------------ dealer set-up


def test_rates_are_scoped_and_set(api, bj01):
    tj01 = Dealer.objects.get(code="TJ01")
    make_rates(bj01)
    make_rates(tj01)
    listed = api("bj01-sa").get(f"{API}/labour-rates/").json()["results"]
    assert {row["dealer_code"] for row in listed} == {"BJ01"}
    assert len(listed) == 4
    manager = api("bj01-svcmgr")
    body = {"dealer": bj01.pk, "pay_type": "customer", "rate": "188"}
    response = manager.post(f"{API}/labour-rates/", body, format="json")
    assert response.status_code == 201 and response.json()["rate"] == "188.00"
    other = api("tj01-svcmgr").post(f"{API}/labour-rates/", body | {"rate": "1"}, format="json")
    assert other.status_code == 404
    rate = LabourRate.objects.get(dealer=bj01, pay_type="warranty")
    assert manager.patch(f"{API}/labour-rates/{rate.pk}/", {"rate": "-5"}).status_code == 400
    assert manager.patch(f"{API}/labour-rates/{rate.pk}/", {"rate": "99"}).status_code == 200
    assert (
        api("tj01-svcmgr").patch(f"{API}/labour-rates/{rate.pk}/", {"rate": "1"}).status_code == 404
    )
    assert LabourRate.objects.get(dealer=bj01, pay_type="customer").rate == Decimal("188")
    assert LabourRate.objects.get(pk=rate.pk).rate == Decimal("99")


def test_bays_create_and_patch(api, bj01):
    make_bay(Dealer.objects.get(code="TJ01"), code="T01")
    admin = api("bj01-admin")
    body = {"dealer": bj01.pk, "code": "b02", "name": "2号工位", "kind": "alignment"}
    response = admin.post(f"{API}/bays/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-bay-1")
    assert response.status_code == 201 and response.json()["code"] == "B02"
    again = admin.post(f"{API}/bays/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-bay-1")
    assert again.status_code == 201 and again.json()["id"] == response.json()["id"]
    duplicate = admin.post(f"{API}/bays/", body, format="json")
    assert duplicate.status_code == 400 and "code" in duplicate.json()["fields"]
    bay_id = response.json()["id"]
    assert admin.patch(f"{API}/bays/{bay_id}/", {"active": False}).json()["active"] is False
    listed = api("bj01-foreman").get(f"{API}/bays/").json()["results"]
    assert [row["code"] for row in listed] == ["B02"]
    assert WorkshopBay.objects.filter(dealer=bj01).count() == 1


def test_service_settings_defaults_and_update(api, bj01):
    manager = api("bj01-svcmgr")
    # given no saved settings, the defaults are answered
    body = manager.get(f"{API}/service-settings/{bj01.pk}/").json()
    assert (body["id"], body["comeback_days"], body["follow_up_due_hours"]) == (None, 30, 72)
    # a bad value is refused and nothing is saved
    response = manager.patch(
        f"{API}/service-settings/{bj01.pk}/", {"workday_start": "19:00"}, format="json"
    )
    assert response.status_code == 400 and "workday_end" in response.json()["fields"]
    assert not ServiceSettings.objects.exists()
    # a good one is saved
    response = manager.patch(
        f"{API}/service-settings/{bj01.pk}/", {"comeback_days": 45}, format="json"
    )
    assert response.status_code == 200 and response.json()["comeback_days"] == 45
    assert ServiceSettings.for_dealer(bj01).comeback_days == 45
    # another dealer's manager gets 404 both ways
    other = api("tj01-svcmgr")
    assert other.get(f"{API}/service-settings/{bj01.pk}/").status_code == 404
    assert (
        other.patch(
            f"{API}/service-settings/{bj01.pk}/", {"comeback_days": 5}, format="json"
        ).status_code
        == 404
    )
