"""Reception API and pages: open (idempotent), update with version, check in, photos,
comeback; the start-visit page and the reception panel."""

import base64
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from aftersales.crm.testing import make_customer, make_vehicle
from aftersales.org.models import Dealer
from aftersales.workorders import reception
from aftersales.workorders.choices import ROStatus
from aftersales.workorders.models import RepairOrder, RepairOrderPhoto

S = ROStatus
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def bj01(demo_org):
    return Dealer.objects.get(code="BJ01")


@pytest.fixture
def vehicle(bj01):
    return make_vehicle(owner=make_customer(dealer=bj01), dealer=bj01, odometer_km=5_000)


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def png():
    buffer = io.BytesIO()
    Image.new("RGB", (5, 5), (0, 0, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


OPEN = "/api/workorders/reception/"


# ---------------------------------------------------------------- API


def test_api_open_is_idempotent(demo_org, vehicle):
    client = api(demo_org["bj01-sa"])
    first = client.post(
        OPEN, {"plate": vehicle.plate, "concern": "异响"}, format="json", HTTP_IDEMPOTENCY_KEY="a1"
    )
    again = client.post(
        OPEN, {"plate": vehicle.plate, "concern": "异响"}, format="json", HTTP_IDEMPOTENCY_KEY="a1"
    )
    assert first.status_code == 201, first.content
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert RepairOrder.objects.filter(vehicle=vehicle).count() == 1
    # without the key a second open is refused, naming the open order
    third = client.post(OPEN, {"vin": vehicle.vin}, format="json")
    assert third.status_code == 409 and third.json()["code"] == "already_open"
    assert first.json()["number"] in third.json()["message"]


def test_api_open_finds_another_dealers_car_by_plate_but_not_by_id(demo_org, vehicle):
    client = api(demo_org["tj01-sa"])
    by_id = client.post(OPEN, {"vehicle": vehicle.pk}, format="json")
    assert by_id.status_code == 400 and "vehicle" in by_id.json()["fields"]
    by_plate = client.post(OPEN, {"plate": vehicle.plate}, format="json")
    assert by_plate.status_code == 201
    assert by_plate.json()["dealer_code"] == "TJ01"


def test_api_reception_flow(demo_org, vehicle):
    client = api(demo_org["bj01-sa"])
    order = client.post(OPEN, {"vin": vehicle.vin}, format="json").json()
    url = f"{OPEN}{order['id']}/"
    assert {r["field"] for r in order["check_in_refusals"]} >= {"odometer_km", "concern"}
    # a lower odometer answers with a warning
    changed = client.patch(
        url,
        {
            "version": order["version"],
            "odometer_km": 4_000,
            "fuel_level": "75",
            "concern": "发动机故障灯亮",
            "covers_installed": True,
            "walkaround": [{"x": 20, "y": 30, "kind": "dent"}],
        },
        format="json",
    )
    body = changed.json()
    assert changed.status_code == 200, body
    assert body["odometer_suspect"] and "5000" in body["warnings"][0]
    assert [r["code"] for r in body["check_in_refusals"]] == ["odometer_reason"]
    # a stale version is refused
    stale = client.patch(url, {"version": order["version"], "concern": "x"}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "stale"
    # bad marks are refused with the field named
    bad = client.patch(
        url,
        {"version": body["version"], "walkaround": [{"x": 500, "y": 1, "kind": "dent"}]},
        format="json",
    )
    assert bad.status_code == 400 and "walkaround" in bad.json()["fields"]
    refused = client.post(f"{url}check-in/", {"version": body["version"]}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "odometer_reason"
    body = client.patch(
        url, {"version": body["version"], "odometer_reason": "换过仪表"}, format="json"
    ).json()
    checked = client.post(f"{url}check-in/", {"version": body["version"]}, format="json")
    assert checked.status_code == 200 and checked.json()["status"] == S.CHECKED_IN


def test_api_other_dealer_gets_404(demo_org, vehicle, bj01):
    order = reception.repair_order_open(actor=demo_org["bj01-sa"], dealer=bj01, vehicle=vehicle)
    client = api(demo_org["tj01-sa"])
    assert client.get(f"{OPEN}{order.pk}/").status_code == 404
    assert client.patch(f"{OPEN}{order.pk}/", {"version": 1}, format="json").status_code == 404


def test_api_photos(demo_org, vehicle, bj01):
    order = reception.repair_order_open(actor=demo_org["bj01-sa"], dealer=bj01, vehicle=vehicle)
    client = api(demo_org["bj01-sa"])
    url = f"{OPEN}{order.pk}/photos/"
    upload = SimpleUploadedFile("x.jpg", png(), content_type="image/jpeg")
    made = client.post(url, {"image": upload, "kind": "damage"}, format="multipart")
    assert made.status_code == 201, made.content
    # a renamed text file is refused
    fake = SimpleUploadedFile("y.jpg", b"hello", content_type="image/jpeg")
    refused = client.post(url, {"image": fake, "kind": "damage"}, format="multipart")
    assert refused.status_code == 400 and refused.json()["code"] == "not_an_image"
    # base64 JSON works too, once per key
    data = {"image_base64": base64.b64encode(png()).decode(), "kind": "walkaround"}
    client.post(url, data, format="json", HTTP_IDEMPOTENCY_KEY="p1")
    client.post(url, data, format="json", HTTP_IDEMPOTENCY_KEY="p1")
    listed = client.get(url).json()
    assert [p["kind"] for p in listed] == ["damage", "walkaround"]
    file = client.get(listed[0]["url"])
    assert file.status_code == 200 and file["Content-Type"] == "image/png"
    assert b"".join(file.streaming_content) == png()
    # a parts clerk sees the order but may not add photos; another dealer sees nothing
    clerk = api(demo_org["bj01-parts"]).post(url, data, format="json")
    assert clerk.status_code == 403
    assert api(demo_org["tj01-sa"]).get(listed[0]["url"]).status_code == 404
    assert api(demo_org["bj01-sa"]).delete(listed[0]["url"]).status_code == 204
    assert RepairOrderPhoto.objects.filter(repair_order=order).count() == 1


def test_api_comeback(demo_org, vehicle, bj01):
    from aftersales.workorders.testing import make_repair_order

    earlier = make_repair_order(dealer=bj01, status=S.CLOSED, vehicle=vehicle)
    order = reception.repair_order_open(actor=demo_org["bj01-sa"], dealer=bj01, vehicle=vehicle)
    client = api(demo_org["bj01-sa"])
    answer = client.post(
        f"{OPEN}{order.pk}/comeback/",
        {"version": order.version, "comeback_of": earlier.number},
        format="json",
    )
    assert answer.status_code == 200 and answer.json()["comeback_of_number"] == earlier.number


# ---------------------------------------------------------------- pages


def test_start_visit_page_finds_the_car_and_opens_the_order(client, demo_org, vehicle):
    client.force_login(demo_org["bj01-sa"])
    page = client.get(reverse("repair-order-new"), {"q": vehicle.plate.lower()})
    assert page.status_code == 200
    html = page.content.decode()
    assert vehicle.vin in html and vehicle.owner.mobile in html
    key = page.context["form"]["idempotency_key"].value()
    data = {"vehicle": vehicle.pk, "q": vehicle.plate, "kind": "repair", "idempotency_key": key}
    opened = client.post(reverse("repair-order-new"), data)
    again = client.post(reverse("repair-order-new"), data)
    assert opened.status_code == 302 and again["Location"] == opened["Location"]
    assert RepairOrder.objects.filter(vehicle=vehicle).count() == 1


def test_start_visit_page_says_when_nothing_is_found(client, demo_org):
    client.force_login(demo_org["bj01-sa"])
    page = client.get(reverse("repair-order-new"), {"q": "京Z00000"})
    assert page.status_code == 200 and page.context["error"]
    assert page.context["form"] is None


def test_panel_actions_answer_the_panel_and_trigger_a_refresh(client, demo_org, vehicle, bj01):
    order = reception.repair_order_open(actor=demo_org["bj01-sa"], dealer=bj01, vehicle=vehicle)
    client.force_login(demo_org["bj01-sa"])
    panel = client.get(reverse("ro-reception-panel", args=[order.pk]))
    assert panel.status_code == 200 and b"<html" not in panel.content
    assert b'id="check-in-button"' in panel.content and b"disabled" in panel.content
    saved = client.post(
        reverse("ro-reception-save", args=[order.pk]),
        {
            "version": order.version,
            "odometer_km": "5100",
            "fuel_level": "25",
            "concern": "雨刮异响",
            "covers_installed__present": "1",
            "covers_installed": "on",
        },
    )
    assert saved.status_code == 200 and saved["HX-Trigger"] == "ro-changed"
    order.refresh_from_db()
    assert (order.odometer_km, order.fuel_level, order.covers_installed) == (5100, "25", True)
    marks = json.dumps([{"x": 50, "y": 10, "kind": "scratch", "note": ""}])
    client.post(
        reverse("ro-reception-save", args=[order.pk]),
        {"version": order.version, "walkaround": marks},
    )
    order.refresh_from_db()
    assert order.walkaround[0]["kind"] == "scratch" and order.covers_installed
    # a stale form shows the message and changes nothing
    stale = client.post(
        reverse("ro-reception-save", args=[order.pk]), {"version": 1, "concern": "别的"}
    )
    assert "HX-Trigger" not in stale and b"reception-error" in stale.content
    checked = client.post(
        reverse("ro-reception-check-in", args=[order.pk]), {"version": order.version}
    )
    assert checked["HX-Trigger"] == "ro-changed"
    order.refresh_from_db()
    assert order.status == S.CHECKED_IN


def test_panel_photo_upload_and_access(client, demo_org, vehicle, bj01):
    order = reception.repair_order_open(actor=demo_org["bj01-sa"], dealer=bj01, vehicle=vehicle)
    client.force_login(demo_org["bj01-sa"])
    upload = SimpleUploadedFile("cam.jpg", png(), content_type="image/jpeg")
    answer = client.post(
        reverse("ro-reception-photo-add", args=[order.pk]), {"image": upload, "kind": "damage"}
    )
    assert answer["HX-Trigger"] == "ro-changed"
    photo = RepairOrderPhoto.objects.get(repair_order=order)
    url = reverse("ro-photo", args=[order.pk, photo.pk])
    assert url.encode() in answer.content
    assert client.get(url)["Content-Type"] == "image/png"
    client.force_login(demo_org["tj01-sa"])
    assert client.get(url).status_code == 404
    # the file is not reachable as public media
    assert client.get("/media/" + photo.image.name).status_code == 404


def test_panel_queries_do_not_grow_with_photos_and_marks(
    client, demo_org, vehicle, bj01, django_assert_max_num_queries
):
    order = reception.repair_order_open(actor=demo_org["bj01-sa"], dealer=bj01, vehicle=vehicle)
    for _ in range(5):
        reception.photo_add(
            actor=demo_org["bj01-sa"],
            repair_order=order,
            upload=SimpleUploadedFile("a.png", png()),
            kind="damage",
        )
    client.force_login(demo_org["bj01-sa"])
    client.get(reverse("ro-reception-panel", args=[order.pk]))
    with django_assert_max_num_queries(25):
        client.get(reverse("ro-reception-panel", args=[order.pk]))


def test_panel_shows_the_comeback_flag_with_its_link(client, demo_org, vehicle, bj01):
    from django.utils import timezone

    from aftersales.workorders.testing import make_repair_order

    earlier = make_repair_order(
        dealer=bj01, status=S.DELIVERED, vehicle=vehicle, delivered_at=timezone.now()
    )
    order = make_repair_order(
        dealer=bj01, status=S.CHECKED_IN, vehicle=vehicle, comeback_of=earlier
    )
    client.force_login(demo_org["bj01-sa"])
    html = client.get(reverse("ro-reception-panel", args=[order.pk])).content.decode()
    assert 'id="comeback-flag"' in html and earlier.number in html
    assert reverse("repair-order-detail", args=[earlier.pk]) in html
    cleared = client.post(
        reverse("ro-reception-comeback", args=[order.pk]), {"version": order.version, "clear": "1"}
    )
    assert cleared["HX-Trigger"] == "ro-changed" and b'id="comeback-flag"' not in cleared.content
