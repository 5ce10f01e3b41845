"""The printed repair order (任务委托书) and delivery sheet (交车单)."""

import io
import re
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from aftersales.core.errors import Conflict
from aftersales.org.models import Dealer
from aftersales.workorders.choices import (
    Approval,
    CheckKind,
    LineKind,
    PayType,
    ROStatus,
    SignatureKind,
)
from aftersales.workorders.models import QualityCheck, RepairOrderLine
from aftersales.workorders.printing import (
    delivery_sheet_html,
    delivery_sheet_pdf,
    next_service,
    repair_order_html,
    repair_order_pdf,
)
from aftersales.workorders.testing import make_repair_order

S = ROStatus
# a 1×1 transparent PNG: the smallest "signature"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000050001"
    "0d0a2db40000000049454e44ae426082"
)


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def bj01(demo_org):
    return Dealer.objects.get(code="BJ01")


def _order(dealer, status=S.APPROVED, **fields):
    order = make_repair_order(
        dealer=dealer, status=status, concern="方向盘抖动，高速明显", **fields
    )
    RepairOrderLine.objects.create(
        repair_order=order,
        kind=LineKind.PART,
        description="前刹车片（套）",
        quantity=Decimal("1"),
        unit_price=Decimal("468.00"),
        amount=Decimal("468.00"),
        pay_type=PayType.WARRANTY,
        approval=Approval.APPROVED,
    )
    RepairOrderLine.objects.create(
        repair_order=order,
        kind=LineKind.LABOUR,
        description="四轮定位（客户拒绝）",
        quantity=Decimal("1"),
        unit_price=Decimal("120.00"),
        amount=Decimal("120.00"),
        approval=Approval.DECLINED,
    )
    return order


def test_repair_order_pdf_carries_the_order(bj01, demo_org):
    # given an approved order with a labour line, a warranty part and a declined line
    order = _order(bj01)
    # when the advisor prints it
    text = text_of(repair_order_pdf(order, user=demo_org["bj01-sa"]))
    # then the PDF holds the document name, number, plate, concern, lines and the total
    assert "任务委托书" in text
    assert order.number in text
    assert order.vehicle.plate in text
    assert "方向盘抖动" in text
    assert "更换前刹车片" in text  # the labour line of make_repair_order
    assert "前刹车片（套）" in text
    assert "612.00" in text  # 144.00 labour + 468.00 part; the declined line is not counted
    assert "四轮定位（客户拒绝）" in text  # listed under declined recommendations
    assert "北京星驰望京店" in text  # the dealer header


def test_mobile_is_masked_for_users_who_may_not_see_numbers(bj01, demo_org):
    order = _order(bj01)
    mobile = order.customer.mobile
    # the advisor sees the full number, the technician a masked one
    assert mobile in repair_order_html(order, user=demo_org["bj01-sa"])
    html = repair_order_html(order, user=demo_org["bj01-tech"])
    assert mobile not in html
    assert f"{mobile[:3]}****{mobile[-4:]}" in html


def test_signature_image_or_paper_is_shown(bj01, demo_org):
    on_paper = _order(bj01)
    assert on_paper.signature_kind == SignatureKind.PAPER
    assert "data:image" not in repair_order_html(on_paper, user=demo_org["bj01-sa"])
    on_screen = _order(bj01, signature_kind=SignatureKind.SCREEN)
    on_screen.signature.save("sig.png", ContentFile(PNG), save=True)
    html = repair_order_html(on_screen, user=demo_org["bj01-sa"])
    assert "data:image/png;base64," in html


def test_the_document_is_chinese_whatever_the_ui_language(bj01, demo_org):
    order = _order(bj01)
    user = demo_org["bj01-sa"]
    with translation.override("zh-hans"):
        chinese = repair_order_html(order, user=user)
    with translation.override("en"):
        english_ui = repair_order_html(order, user=user)
    # the labels are the Chinese ones (e.g. "VIN" reads 车架号) and the whole document is
    # the same as printed from the Chinese UI, but for the print time
    assert "车架号" in english_ui and ">VIN<" not in english_ui
    moment = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")
    assert moment.sub("", english_ui) == moment.sub("", chinese)


def test_delivery_sheet_needs_qc_passed(bj01, demo_org):
    order = _order(bj01, status=S.SELF_CHECKED)
    with pytest.raises(Conflict) as refused:
        delivery_sheet_pdf(order, user=demo_org["bj01-sa"])
    assert refused.value.code == "not_qc_passed"


def test_delivery_sheet_shows_work_parts_qc_and_next_service(bj01, demo_org):
    order = _order(bj01, status=S.READY, delivery_checks={"work_explained": True})
    QualityCheck.objects.create(
        repair_order=order, kind=CheckKind.QC, passed=True, checked_by=demo_org["bj01-qc"]
    )
    html = delivery_sheet_html(order, user=demo_org["bj01-sa"])
    text = text_of(delivery_sheet_pdf(order, user=demo_org["bj01-sa"]))
    assert "交车单" in text and order.number in text
    assert "前刹车片（套）" in text and "更换前刹车片" in text
    assert "四轮定位" not in text  # declined: not done
    assert str(demo_org["bj01-qc"]) in html
    due = next_service(order)
    assert due["km"] > order.odometer_km and due["km"] % 5_000 == 0
    assert str(due["km"]) in text


def test_next_service_is_the_first_service_for_a_new_car(bj01):
    order = make_repair_order(dealer=bj01, status=S.QC_PASSED, odometer_km=1_200)
    assert next_service(order)["km"] == order.vehicle.variant.vehicle_model.first_service_km


# ---------------------------------------------------------------- pages and API


def test_print_page_answers_an_inline_pdf(client, bj01, demo_org):
    order = _order(bj01)
    client.force_login(demo_org["bj01-sa"])
    response = client.get(reverse("ro-print", kwargs={"pk": order.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{order.number}-repair-order.pdf"'
    assert order.number in text_of(response.content)


def test_print_page_in_english_still_prints_chinese(client, bj01, demo_org):
    order = _order(bj01)
    client.force_login(demo_org["bj01-sa"])
    client.cookies["django_language"] = "en"
    response = client.get(reverse("ro-print", kwargs={"pk": order.pk}), HTTP_ACCEPT_LANGUAGE="en")
    assert "任务委托书" in text_of(response.content)


def test_delivery_sheet_page_refuses_before_qc_with_a_message(client, bj01, demo_org):
    order = _order(bj01, status=S.IN_PROGRESS)
    client.force_login(demo_org["bj01-sa"])
    response = client.get(reverse("ro-delivery-sheet", kwargs={"pk": order.pk}))
    assert response.status_code == 409
    assert response["Content-Type"].startswith("text/html")
    assert reverse("repair-order-detail", kwargs={"pk": order.pk}) in response.content.decode()


def test_another_dealers_order_is_404(client, bj01, demo_org):
    order = _order(bj01)
    client.force_login(demo_org["sh01-sa"])
    assert client.get(reverse("ro-print", kwargs={"pk": order.pk})).status_code == 404
    api = client.get(reverse("api:ro-print-repair-order", kwargs={"pk": order.pk}))
    assert api.status_code == 404 and api.json()["code"] == "not_found"


def test_api_gives_both_pdfs_and_409_before_qc(client, bj01, demo_org):
    order = _order(bj01, status=S.QC_PASSED)
    early = _order(bj01, status=S.APPROVED)
    client.force_login(demo_org["bj01-sa"])
    url = reverse("api:ro-print-repair-order", kwargs={"pk": order.pk})
    assert url == f"/api/workorders/print/{order.pk}/repair-order.pdf/"
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    sheet = client.get(reverse("api:ro-print-delivery-sheet", kwargs={"pk": order.pk}))
    assert sheet.status_code == 200 and "交车单" in text_of(sheet.content)
    refused = client.get(reverse("api:ro-print-delivery-sheet", kwargs={"pk": early.pk}))
    assert refused.status_code == 409 and refused.json()["code"] == "not_qc_passed"
