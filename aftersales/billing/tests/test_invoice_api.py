"""The invoice API: prepare, edit the draft, issue, credit notes, PDF; bad input answers
with a coded error and changes nothing (aftersales/billing/api/invoices.py)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from aftersales.billing.models import CreditNote, Invoice
from aftersales.billing.testing import make_invoice
from aftersales.billing.tests.conftest import VALID_USCC

D = Decimal
pytestmark = pytest.mark.django_db


def _api(client, user):
    client.force_login(user)
    return client


def _prepare(client, order):
    response = client.post(
        reverse("api:billing-invoice-prepare", kwargs={"repair_order": order.pk})
    )
    assert response.status_code == 200, response.content
    return {row["pay_type"]: row for row in response.json()}


def test_prepare_edit_and_issue_through_the_api(client, mixed_order, demo_org):
    api = _api(client, demo_org["bj01-sa"])
    customer = _prepare(api, mixed_order)["customer"]
    assert D(customer["gross_amount"]) == D("370.00") and len(customer["lines"]) == 2
    url = reverse("api:billing-invoice-detail", kwargs={"pk": customer["id"]})
    line_id = customer["lines"][1]["id"]
    response = api.patch(
        url,
        {
            "version": customer["version"],
            "buyer_type": "company",
            "title": "北京某某科技有限公司",
            "taxpayer_id": VALID_USCC,
            "line_discounts": {str(line_id): "10.00"},
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert D(body["gross_amount"]) == D("360.00") and body["taxpayer_id"] == VALID_USCC
    response = api.post(
        reverse("api:billing-invoice-issue", kwargs={"pk": customer["id"]}),
        {"version": body["version"]},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "issued" and response.json()["number"]


def test_editing_an_issued_invoice_answers_409(client, bj01, demo_org):
    invoice = make_invoice(dealer=bj01)
    api = _api(client, demo_org["bj01-sa"])
    response = api.patch(
        reverse("api:billing-invoice-detail", kwargs={"pk": invoice.pk}),
        {"version": invoice.version, "note": "改"},
        content_type="application/json",
    )
    assert response.status_code == 409 and response.json()["code"] == "invoice_issued"
    invoice.refresh_from_db()
    assert invoice.note == ""


def test_bad_taxpayer_id_and_discount_over_the_limit(client, mixed_order, demo_org):
    api = _api(client, demo_org["bj01-sa"])
    customer = _prepare(api, mixed_order)["customer"]
    url = reverse("api:billing-invoice-detail", kwargs={"pk": customer["id"]})
    response = api.patch(
        url,
        {
            "version": customer["version"],
            "buyer_type": "company",
            "title": "北京某某科技有限公司",
            "taxpayer_id": "91110000600037341M",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "taxpayer_id" and "taxpayer_id" in response.json()["fields"]
    response = api.patch(
        url,
        {"version": customer["version"], "invoice_discount": "100.00"},
        content_type="application/json",
    )
    assert response.status_code == 403 and response.json()["code"] == "discount_limit"
    invoice = Invoice.objects.get(pk=customer["id"])
    assert invoice.gross_amount == D("370.00") and invoice.buyer_type == "person"


def test_stale_version_answers_409(client, mixed_order, demo_org):
    api = _api(client, demo_org["bj01-sa"])
    customer = _prepare(api, mixed_order)["customer"]
    url = reverse("api:billing-invoice-detail", kwargs={"pk": customer["id"]})
    api.patch(url, {"version": 1, "note": "a"}, content_type="application/json")
    response = api.patch(url, {"version": 1, "note": "b"}, content_type="application/json")
    assert response.status_code == 409 and response.json()["code"] == "stale"


def test_credit_note_is_written_once_per_idempotency_key(client, bj01, demo_org):
    invoice = make_invoice(dealer=bj01, gross="1130.00", paid_amount=D("1130.00"))
    api = _api(client, demo_org["bj01-cashier"])
    url = reverse("api:billing-invoice-credit-notes", kwargs={"pk": invoice.pk})
    line = invoice.lines.get()
    body = {"reason": "少收工时", "lines": [{"invoice_line": line.pk, "amount": "113.00"}]}
    first = api.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="cn-1")
    again = api.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="cn-1")
    assert first.status_code == 201 and again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["refund_due"] == "113.00"
    assert CreditNote.objects.filter(invoice=invoice).count() == 1
    invoice.refresh_from_db()
    assert invoice.credited_amount == D("113.00")


def test_a_credit_larger_than_what_remains_answers_400(client, bj01, demo_org):
    invoice = make_invoice(dealer=bj01, gross="100.00")
    api = _api(client, demo_org["bj01-cashier"])
    line = invoice.lines.get()
    response = api.post(
        reverse("api:billing-invoice-credit-notes", kwargs={"pk": invoice.pk}),
        {"reason": "x", "lines": [{"invoice_line": line.pk, "amount": "100.01"}]},
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json()["code"] == "over_credit"
    assert not CreditNote.objects.exists()


def test_another_dealers_invoice_answers_404(client, bj01, tj01, demo_org):
    invoice = make_invoice(dealer=tj01, status="draft")
    api = _api(client, demo_org["bj01-sa"])
    url = reverse("api:billing-invoice-detail", kwargs={"pk": invoice.pk})
    assert api.get(url).status_code == 404
    response = api.patch(url, {"version": 1, "note": "x"}, content_type="application/json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    issue = reverse("api:billing-invoice-issue", kwargs={"pk": invoice.pk})
    assert api.post(issue, {"version": 1}, content_type="application/json").status_code == 404
    invoice.refresh_from_db()
    assert invoice.status == "draft" and invoice.note == ""


def test_list_filters_and_keeps_a_fixed_number_of_queries(
    client, bj01, demo_org, django_assert_max_num_queries
):
    for _ in range(3):
        make_invoice(dealer=bj01)
    draft = make_invoice(dealer=bj01, status="draft")
    api = _api(client, demo_org["bj01-sa"])
    url = reverse("api:billing-invoice-list")
    with django_assert_max_num_queries(8):
        response = api.get(url, {"page_size": 50})
    assert response.json()["count"] == 4
    for _ in range(10):
        make_invoice(dealer=bj01)
    with django_assert_max_num_queries(8):
        response = api.get(url, {"page_size": 50, "status": "draft"})
    assert [row["id"] for row in response.json()["results"]] == [draft.pk]


def test_pdf_through_the_api(client, bj01, demo_org):
    invoice = make_invoice(dealer=bj01)
    api = _api(client, demo_org["bj01-sa"])
    response = api.get(reverse("api:billing-invoice-pdf", kwargs={"pk": invoice.pk}))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
