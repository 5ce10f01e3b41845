"""Access-matrix declarations: invoices, credit notes and the billing settings (see
aftersales/testing/matrix.py). Records are invoices of the dealer under test, built with
``billing.testing.make_invoice``; another dealer's user gets 404 for each of them."""

import itertools

from aftersales.testing.matrix import Endpoint, declare

_seq = itertools.count(1)


def _advisor(dealer):
    from aftersales.org.models import User

    return User.objects.create(username=f"mx-inv-{next(_seq)}", dealer=dealer)


def _order(dealer):
    from aftersales.workorders.testing import make_repair_order

    return make_repair_order(dealer=dealer, status="delivered", advisor=_advisor(dealer))


def _issued(dealer):
    from aftersales.billing.testing import make_invoice

    return make_invoice(dealer=dealer, repair_order=_order(dealer))


def _draft(dealer):
    from aftersales.billing.testing import make_invoice

    return make_invoice(dealer=dealer, repair_order=_order(dealer), status="draft")


def _credit_note(dealer):
    from aftersales.billing.models import CreditNote, CreditNoteLine

    invoice = _issued(dealer)
    line = invoice.lines.get()
    note = CreditNote.objects.create(
        dealer=dealer,
        invoice=invoice,
        number=f"MX-CN-{next(_seq)}",
        reason="退货",
        gross_amount=line.gross_amount,
        net_amount=line.net_amount,
        tax_amount=line.tax_amount,
        created_by=invoice.created_by,
    )
    CreditNoteLine.objects.create(
        credit_note=note,
        invoice_line=line,
        gross_amount=line.gross_amount,
        net_amount=line.net_amount,
        tax_amount=line.tax_amount,
    )
    return note


def _settings(dealer):
    from aftersales.billing.setup import billing_settings

    return billing_settings(dealer)


VIEW = "billing.view_invoice"
ADD = "billing.add_invoice"
CREDIT = "billing.add_creditnote"

declare(
    # API
    Endpoint("api:billing-invoice-list", "api", VIEW, make=_issued),
    Endpoint("api:billing-invoice-detail", "api", VIEW, make=_issued, detail=True),
    Endpoint(
        "api:billing-invoice-detail",
        "api",
        ADD,
        make=_draft,
        detail=True,
        method="patch",
        data=lambda invoice: {"version": invoice.version, "note": "矩阵"},
    ),
    Endpoint(
        "api:billing-invoice-issue",
        "api",
        ADD,
        make=_draft,
        detail=True,
        method="post",
        data=lambda invoice: {"version": invoice.version},
    ),
    Endpoint(
        "api:billing-invoice-prepare",
        "api",
        ADD,
        make=_order,
        detail=True,
        method="post",
        url_kwargs=lambda order: {"repair_order": order.pk},
    ),
    Endpoint(
        "api:billing-invoice-credit-notes",
        "api",
        CREDIT,
        make=_issued,
        detail=True,
        method="post",
        data=lambda invoice: {"reason": "退货", "full": True},
        ok_status=201,
    ),
    Endpoint("api:billing-invoice-pdf", "api", VIEW, make=_issued, detail=True),
    Endpoint("api:billing-creditnote-list", "api", VIEW, make=_credit_note),
    Endpoint("api:billing-creditnote-detail", "api", VIEW, make=_credit_note, detail=True),
    Endpoint("api:billing-creditnote-pdf", "api", VIEW, make=_credit_note, detail=True),
    # pages
    Endpoint("invoice-list", "page", VIEW, make=_issued),
    Endpoint("invoice-detail", "page", VIEW, make=_draft, detail=True),
    # a post without a body re-shows the invoice with the form's errors
    Endpoint("invoice-edit", "page", ADD, make=_draft, detail=True, method="post"),
    Endpoint("invoice-issue", "page", ADD, make=_draft, detail=True, method="post"),
    Endpoint("invoice-pdf", "page", VIEW, make=_issued, detail=True),
    Endpoint("credit-note-create", "page", CREDIT, make=_issued, detail=True),
    Endpoint("credit-note-detail", "page", VIEW, make=_credit_note, detail=True),
    Endpoint("credit-note-pdf", "page", VIEW, make=_credit_note, detail=True),
    Endpoint(
        "invoice-prepare", "page", ADD, make=_order, detail=True, method="post", ok_status=302
    ),
    Endpoint(
        "billing-settings-dealer",
        "page",
        "billing.view_billingsettings",
        make=_settings,
        detail=True,
        url_kwargs=lambda settings: {"dealer": settings.dealer_id},
    ),
    # the menu entry: a redirect to the user's own dealer, whoever they are
    Endpoint(
        "billing-settings",
        "page",
        "billing.view_billingsettings",
        make=_settings,
        detail=True,
        url_kwargs=lambda settings: {},
        ok_status=302,
        scoped=False,
    ),
)
