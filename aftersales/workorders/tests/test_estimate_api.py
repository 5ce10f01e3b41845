"""The estimate's API and panel: idempotent line creation, stale versions, another
dealer's order, signing with a base64 PNG, the htmx panel and its actions."""

import base64
import io

import pytest
from django.urls import reverse
from PIL import Image, ImageDraw

from aftersales.org.models import Dealer
from aftersales.workorders.choices import ROStatus
from aftersales.workorders.testing import make_rates, make_repair_order

pytestmark = pytest.mark.django_db
S = ROStatus


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def bj(demo_org):
    dealer = Dealer.objects.get(code="BJ01")
    make_rates(dealer)
    return dealer


@pytest.fixture
def sa_client(client, demo_org):
    client.force_login(demo_org["bj01-sa"])
    return client


def signature_data_url() -> str:
    image = Image.new("RGBA", (200, 80), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(5, 70), (100, 10), (190, 60)], fill=(0, 0, 0, 255), width=3)
    out = io.BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def test_a_retried_line_post_with_the_same_key_adds_one_line(bj, sa_client):
    order = make_repair_order(dealer=bj, status=S.ESTIMATED)
    url = reverse("api:ro-estimate-lines", kwargs={"pk": order.pk})
    body = {"kind": "fee", "description": "环保费", "amount": "15", "version": order.version}
    first = sa_client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = sa_client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.content
    assert again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert order.lines.filter(kind="fee").count() == 1


def test_a_stale_version_answers_409(bj, sa_client):
    order = make_repair_order(dealer=bj, status=S.ESTIMATED)
    url = reverse("api:ro-estimate-lines", kwargs={"pk": order.pk})
    body = {"kind": "fee", "description": "x", "amount": "1", "version": order.version - 1 + 5}
    response = sa_client.post(url, body, content_type="application/json")
    assert response.status_code == 409
    assert response.json()["code"] == "stale"
    assert not order.lines.filter(kind="fee").exists()


def test_another_dealers_order_answers_404(bj, client, demo_org):
    order = make_repair_order(dealer=bj, status=S.ESTIMATED)
    client.force_login(demo_org["tj01-sa"])
    api = client.get(reverse("api:ro-estimate-totals", kwargs={"pk": order.pk}))
    page = client.get(reverse("ro-estimate-panel", kwargs={"pk": order.pk}))
    assert (api.status_code, page.status_code) == (404, 404)


def test_signing_through_the_api_with_a_base64_png(bj, sa_client):
    order = make_repair_order(dealer=bj, status=S.ESTIMATED)
    response = sa_client.post(
        reverse("api:ro-estimate-sign", kwargs={"pk": order.pk}),
        {
            "kind": "screen",
            "signed_by_name": "张伟",
            "signature_png": signature_data_url(),
            "version": order.version,
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == S.APPROVED
    order.refresh_from_db()
    assert order.signature.name


def test_totals_endpoint(bj, sa_client):
    order = make_repair_order(dealer=bj, status=S.ESTIMATED)
    data = sa_client.get(reverse("api:ro-estimate-totals", kwargs={"pk": order.pk})).json()
    assert data["total"] == "144.00"
    assert data["by_pay_type"]["customer"]["labour"] == "144.00"
    assert data["promised_suggestion"]


def test_the_panel_shows_lines_totals_and_the_signature_pad(bj, sa_client):
    order = make_repair_order(dealer=bj, status=S.ESTIMATED)
    response = sa_client.get(reverse("ro-estimate-panel", kwargs={"pk": order.pk}))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html  # a fragment
    assert "更换前刹车片" in html and "144.00" in html
    assert "<canvas" in html


def test_a_panel_action_answers_with_the_panel_and_hx_trigger(bj, sa_client):
    order = make_repair_order(dealer=bj, status=S.ESTIMATED)
    response = sa_client.post(
        reverse("ro-estimate-action", kwargs={"pk": order.pk}),
        {"action": "fee", "description": "环保费", "amount": "12", "version": order.version},
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "ro-changed"
    assert "环保费" in response.content.decode()
    order.refresh_from_db()
    assert str(order.estimate_total) == "156.00"


def test_a_blank_signature_on_the_panel_shows_the_reason(bj, sa_client):
    order = make_repair_order(dealer=bj, status=S.ESTIMATED)
    response = sa_client.post(
        reverse("ro-estimate-action", kwargs={"pk": order.pk}),
        {
            "action": "sign",
            "kind": "screen",
            "signed_by_name": "张伟",
            "signature_png": "",
            "version": order.version,
        },
    )
    assert response.status_code == 200
    assert "HX-Trigger" not in response
    assert "alert-danger" in response.content.decode()
    order.refresh_from_db()
    assert order.status == S.ESTIMATED


def test_signing_on_the_panel_with_a_drawn_signature(bj, sa_client):
    order = make_repair_order(dealer=bj, status=S.ESTIMATED)
    response = sa_client.post(
        reverse("ro-estimate-action", kwargs={"pk": order.pk}),
        {
            "action": "sign",
            "kind": "screen",
            "signed_by_name": "张伟",
            "signature_png": signature_data_url(),
            "version": order.version,
        },
    )
    assert response["HX-Trigger"] == "ro-changed"
    order.refresh_from_db()
    assert order.status == S.APPROVED


def test_declined_recommendations_per_vehicle(bj, sa_client):
    from aftersales.workorders.models import RepairOrderLine

    order = make_repair_order(dealer=bj, status=S.DELIVERED)
    line = RepairOrderLine.objects.create(
        repair_order=order, kind="fee", description="空调清洗", approval="declined", amount=80
    )
    url = reverse("api:ro-declined-list") + f"?vehicle={order.vehicle_id}"
    rows = sa_client.get(url).json()["results"]
    assert [row["id"] for row in rows] == [line.pk]


def test_labour_search_shows_hours_and_price(bj, sa_client):
    from aftersales.workorders.testing import make_operation

    order = make_repair_order(dealer=bj, status=S.ESTIMATED)
    make_operation(code="OP-SRCH", name="四轮定位", hours="1.5")
    response = sa_client.get(
        reverse("ro-estimate-search", kwargs={"pk": order.pk}) + "?kind=labour&q=四轮"
    )
    html = response.content.decode()
    assert "OP-SRCH" in html and "180.00" in html
