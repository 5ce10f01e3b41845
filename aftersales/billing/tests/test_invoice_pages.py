"""Invoice pages: list, invoice view with the fapiao form while a draft, issue, PDF,
credit note, prepare from the repair order, settings (aftersales/billing/views_invoices.py)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from aftersales.billing.models import CreditNote, Invoice
from aftersales.billing.setup import discount_limits
from aftersales.billing.testing import make_invoice
from aftersales.billing.tests.conftest import VALID_USCC

D = Decimal
pytestmark = pytest.mark.django_db


def test_prepare_button_makes_drafts_and_shows_them(client, mixed_order, demo_org):
    client.force_login(demo_org["bj01-sa"])
    response = client.post(reverse("invoice-prepare", kwargs={"pk": mixed_order.pk}))
    assert response.status_code == 302
    assert response["Location"].endswith(f"?repair_order={mixed_order.pk}")
    assert Invoice.objects.filter(repair_order=mixed_order, status="draft").count() == 4
    page = client.get(response["Location"])
    assert page.status_code == 200 and len(page.context["object_list"]) == 4


def test_draft_page_edits_fapiao_and_issues(client, mixed_order, demo_org):
    client.force_login(demo_org["bj01-sa"])
    client.post(reverse("invoice-prepare", kwargs={"pk": mixed_order.pk}))
    invoice = Invoice.objects.get(repair_order=mixed_order, pay_type="customer")
    page = client.get(reverse("invoice-detail", kwargs={"pk": invoice.pk}))
    assert page.status_code == 200 and page.context["form"] is not None
    assert b'data-action="issue-invoice"' in page.content
    data = {
        "version": invoice.version,
        "buyer_type": "company",
        "title": "北京某某科技有限公司",
        "taxpayer_id": VALID_USCC,
        "invoice_discount": "3.70",
    }
    response = client.post(reverse("invoice-edit", kwargs={"pk": invoice.pk}), data)
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.taxpayer_id == VALID_USCC and invoice.gross_amount == D("366.30")
    response = client.post(
        reverse("invoice-issue", kwargs={"pk": invoice.pk}), {"version": invoice.version}
    )
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == "issued"
    # then the page has no edit path any more
    page = client.get(reverse("invoice-detail", kwargs={"pk": invoice.pk}))
    assert page.context["form"] is None and b'data-form="invoice-edit"' not in page.content
    assert b'data-action="issue-invoice"' not in page.content


def test_bad_taxpayer_id_on_the_page_shows_the_error_and_saves_nothing(
    client, mixed_order, demo_org
):
    client.force_login(demo_org["bj01-sa"])
    client.post(reverse("invoice-prepare", kwargs={"pk": mixed_order.pk}))
    invoice = Invoice.objects.get(repair_order=mixed_order, pay_type="customer")
    data = {
        "version": invoice.version,
        "buyer_type": "company",
        "title": "北京某某科技有限公司",
        "taxpayer_id": "91110000600037341M",
    }
    response = client.post(reverse("invoice-edit", kwargs={"pk": invoice.pk}), data)
    assert response.status_code == 200
    assert response.context["form"].errors["taxpayer_id"]
    invoice.refresh_from_db()
    assert invoice.buyer_type == "person" and invoice.taxpayer_id == ""


def test_discount_over_the_limit_on_the_page(client, mixed_order, demo_org):
    client.force_login(demo_org["bj01-sa"])
    client.post(reverse("invoice-prepare", kwargs={"pk": mixed_order.pk}))
    invoice = Invoice.objects.get(repair_order=mixed_order, pay_type="customer")
    response = client.post(
        reverse("invoice-edit", kwargs={"pk": invoice.pk}),
        {"version": invoice.version, "buyer_type": "person", "invoice_discount": "50"},
    )
    assert response.status_code == 200 and "5%" in str(response.context["error"])
    invoice.refresh_from_db()
    assert invoice.invoice_discount == 0


def test_posting_to_an_issued_invoice_is_refused(client, bj01, demo_org):
    invoice = make_invoice(dealer=bj01)
    client.force_login(demo_org["bj01-sa"])
    response = client.post(
        reverse("invoice-edit", kwargs={"pk": invoice.pk}),
        {"version": invoice.version, "buyer_type": "person", "note": "x"},
    )
    assert response.status_code == 409
    invoice.refresh_from_db()
    assert invoice.note == ""


def test_credit_note_page(client, bj01, demo_org):
    invoice = make_invoice(dealer=bj01, gross="226.00")
    line = invoice.lines.get()
    client.force_login(demo_org["bj01-cashier"])
    url = reverse("credit-note-create", kwargs={"pk": invoice.pk})
    form = client.get(url)
    assert form.status_code == 200
    key = form.context["form"]["idempotency_key"].value()
    too_much = client.post(
        url, {"reason": "x", f"amount_{line.pk}": "226.01", "idempotency_key": "k0"}
    )
    assert too_much.status_code == 200 and "226.00" in str(too_much.context["error"])
    data = {"reason": "退货", f"amount_{line.pk}": "113.00", "idempotency_key": key}
    response = client.post(url, data)
    again = client.post(url, data)
    assert response.status_code == 302 and again.status_code == 302
    note = CreditNote.objects.get(invoice=invoice)
    assert response["Location"] == reverse("credit-note-detail", kwargs={"pk": note.pk})
    assert note.gross_amount == D("113.00")
    page = client.get(response["Location"])
    assert page.status_code == 200 and note.number.encode() in page.content
    pdf = client.get(reverse("credit-note-pdf", kwargs={"pk": note.pk}))
    assert pdf.content.startswith(b"%PDF")


def test_another_dealers_invoice_is_a_404(client, tj01, demo_org):
    invoice = make_invoice(dealer=tj01, status="draft")
    client.force_login(demo_org["bj01-sa"])
    assert client.get(reverse("invoice-detail", kwargs={"pk": invoice.pk})).status_code == 404
    response = client.post(
        reverse("invoice-edit", kwargs={"pk": invoice.pk}),
        {"version": 1, "buyer_type": "person", "note": "x"},
    )
    assert response.status_code == 404
    invoice.refresh_from_db()
    assert invoice.note == ""


def test_list_page_filters_with_a_fixed_number_of_queries(
    client, bj01, demo_org, django_assert_max_num_queries
):
    for _ in range(3):
        make_invoice(dealer=bj01, pay_type="insurance")
    customer = make_invoice(dealer=bj01)
    client.force_login(demo_org["bj01-sa"])
    url = reverse("invoice-list")
    client.get(url)  # warm the session and the role cache
    with django_assert_max_num_queries(14):
        response = client.get(url)
    assert len(response.context["object_list"]) == 4
    for _ in range(10):
        make_invoice(dealer=bj01)
    with django_assert_max_num_queries(14):
        response = client.get(url, {"pay_type": "insurance"})
    assert customer not in response.context["object_list"]
    assert len(response.context["object_list"]) == 3


def test_service_manager_sets_vat_and_limits(client, bj01, demo_org):
    client.force_login(demo_org["bj01-svcmgr"])
    home = client.get(reverse("billing-settings"))
    assert home["Location"] == reverse("billing-settings-dealer", kwargs={"dealer": bj01.pk})
    url = home["Location"]
    assert client.get(url).status_code == 200
    data = {
        "vat_rate_percent": "6",
        "limit_service_advisor": "8",
        "limit_service_manager": "25",
        "limit_cashier": "0",
        "limit_dealer_admin": "20",
    }
    assert client.post(url, data).status_code == 302
    assert discount_limits(bj01)["service_advisor"] == D("8")
    bad = client.post(url, {**data, "limit_cashier": "101"})
    assert bad.status_code == 200 and bad.context["form"].errors
    assert discount_limits(bj01)["cashier"] == D("0")
