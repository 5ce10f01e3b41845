"""Barcode labels: part and bin sheets rendered to PDF."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from aftersales.org.models import Dealer
from aftersales.parts import labels
from aftersales.parts.testing import bin_of, make_part, make_warehouse, stock_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf(demo_org):
    warehouse = make_warehouse(dealer=Dealer.objects.get(code="BJ01"), bins=("A-01-01",))
    part = make_part(
        number="LBL-001", name="前刹车片", name_en="Front brake pad", barcode="6901234500011"
    )
    item = stock_up(warehouse=warehouse, part=part, quantity=3, bin=bin_of(warehouse))
    return warehouse, part, item


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_code128_and_qr_are_svg_of_the_payload():
    assert b"<svg" in labels.code128_svg("LBL-001")
    assert b"<svg" in labels.qr_svg("BIN:12")
    assert labels.code128_svg("A") != labels.code128_svg("B")


def test_part_labels_pdf_carries_number_and_chinese_name(client, demo_org, shelf):
    warehouse, part, item = shelf
    client.force_login(demo_org["bj01-parts"])
    response = client.get(reverse("part-labels", args=[warehouse.pk]), {"copies": 2})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = _text(response.content)
    assert text.count("LBL-001") == 2
    assert "前刹车片" in text and "A-01-01" in text


def test_part_label_page_embeds_both_codes(client, demo_org, shelf):
    warehouse, part, item = shelf
    client.force_login(demo_org["bj01-parts"])
    html = client.get(
        reverse("part-labels", args=[warehouse.pk]), {"item": item.pk, "format": "html"}
    ).content.decode()
    assert html.count("data:image/svg+xml;base64,") == 2  # Code128 + QR
    assert 'alt="6901234500011"' in html  # the barcode, not the number, is encoded


def test_bin_labels_encode_the_bin_label_code(client, demo_org, shelf):
    warehouse = shelf[0]
    bin_ = bin_of(warehouse)
    client.force_login(demo_org["bj01-parts"])
    response = client.get(reverse("bin-labels", args=[warehouse.pk]))
    assert response.content.startswith(b"%PDF")
    assert f"BIN:{bin_.pk}" in _text(response.content)


def test_another_dealers_labels_are_404(client, demo_org, shelf):
    client.force_login(demo_org["sh01-parts"])
    assert client.get(reverse("part-labels", args=[shelf[0].pk])).status_code == 404
