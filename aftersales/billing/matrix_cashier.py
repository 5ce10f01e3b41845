"""Access-matrix declarations: cashier (see aftersales/testing/matrix.py).

Page forms are sent as JSON, so they see no fields: the pay, refund and deposit pages
answer with the screen showing the form's errors (200); the deposit refund, sent without
its key, redirects back with the error (302)."""

import datetime
import itertools

from aftersales.testing.matrix import Endpoint, declare

_seq = itertools.count(1)
_NO_KWARGS = lambda record: {}  # noqa: E731 - a URL reversed without arguments


def _key():
    return f"matrix-{next(_seq)}"


def _invoice(dealer):
    from aftersales.billing.testing import make_invoice

    return make_invoice(dealer=dealer, gross="500.00")


def _order(dealer):
    return _invoice(dealer).repair_order


def _payment(dealer):
    from aftersales.billing.payments import payment_take
    from aftersales.billing.testing import cashier_of

    return payment_take(
        actor=cashier_of(dealer), invoice=_invoice(dealer), method="card", amount="100", key=_key()
    )


def _deposit(dealer):
    from aftersales.billing.deposits import deposit_take
    from aftersales.billing.testing import cashier_of
    from aftersales.workorders.testing import make_repair_order

    order = make_repair_order(dealer=dealer, status="checked_in")
    return deposit_take(
        actor=cashier_of(dealer), repair_order=order, method="cash", amount="100", key=_key()
    )


def _closing(dealer):
    from django.utils import timezone

    from aftersales.billing.models import CashClosing
    from aftersales.billing.testing import cashier_of

    cashier = cashier_of(dealer)
    return CashClosing.objects.create(
        dealer=dealer,
        cashier=cashier,
        business_day=timezone.localdate() - datetime.timedelta(days=next(_seq)),
        closed_by=cashier,
    )


def _pay(record):
    return {"method": "card", "amount": "10.00", "idempotency_key": _key()}


def _refund(record):
    return {"amount": "10.00", "reason": "多收", "idempotency_key": _key()}


def _new_deposit(order):
    return {
        "repair_order": order.pk,
        "method": "cash",
        "amount": "50",
        "idempotency_key": _key(),
    }


def _report(record):
    return {"pk": "revenue-method"}


VIEW_PAY, ADD_PAY, REFUND = "billing.view_payment", "billing.add_payment", "billing.refund_payment"

declare(
    # API
    Endpoint("api:cashier-invoice-list", "api", "billing.view_invoice", make=_invoice),
    Endpoint(
        "api:cashier-invoice-detail", "api", "billing.view_invoice", make=_invoice, detail=True
    ),
    Endpoint(
        "api:cashier-invoice-pay",
        "api",
        ADD_PAY,
        make=_invoice,
        detail=True,
        method="post",
        data=_pay,
        ok_status=201,
    ),
    Endpoint("api:payment-list", "api", VIEW_PAY, make=_payment),
    Endpoint("api:payment-detail", "api", VIEW_PAY, make=_payment, detail=True),
    Endpoint(
        "api:payment-refund",
        "api",
        REFUND,
        make=_payment,
        detail=True,
        method="post",
        data=_refund,
        ok_status=201,
    ),
    Endpoint("api:deposit-list", "api", VIEW_PAY, make=_deposit),
    Endpoint(
        "api:deposit-list",
        "api",
        ADD_PAY,
        make=lambda dealer: _order(dealer),
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=_new_deposit,
        ok_status=201,
        scoped=False,  # the order is in the body: another dealer's answers 404 (tested)
    ),
    Endpoint("api:deposit-detail", "api", VIEW_PAY, make=_deposit, detail=True),
    Endpoint(
        "api:deposit-refund",
        "api",
        REFUND,
        make=_deposit,
        detail=True,
        method="post",
        data=lambda record: {"idempotency_key": _key(), "reason": "客户取消维修"},
        ok_status=201,
    ),
    Endpoint("api:cash-closing-list", "api", "billing.view_cashclosing", make=_closing),
    Endpoint(
        "api:cash-closing-list",
        "api",
        "billing.add_cashclosing",
        make=_closing,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=lambda record: {"counted_cash": "0"},
        ok_status=201,
        scoped=False,  # closes the caller's own day
    ),
    Endpoint(
        "api:cash-closing-detail", "api", "billing.view_cashclosing", make=_closing, detail=True
    ),
    Endpoint(
        "api:cash-closing-summary",
        "api",
        "billing.add_cashclosing",
        make=_closing,
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,  # the caller's own day
    ),
    Endpoint(
        "api:billing-report-detail",
        "api",
        VIEW_PAY,
        make=_payment,
        detail=True,
        url_kwargs=_report,
        scoped=False,  # figures of the reader's own scope
    ),
    # pages
    Endpoint("billing-cashier", "page", VIEW_PAY, make=_order),
    Endpoint("billing-cashier-order", "page", VIEW_PAY, make=_order, detail=True),
    Endpoint("billing-cashier-pay", "page", ADD_PAY, make=_invoice, detail=True, method="post"),
    Endpoint("billing-cashier-refund", "page", REFUND, make=_payment, detail=True, method="post"),
    Endpoint("billing-cashier-deposit", "page", ADD_PAY, make=_order, detail=True, method="post"),
    Endpoint(
        "billing-cashier-deposit-refund",
        "page",
        REFUND,
        make=_deposit,
        detail=True,
        method="post",
        ok_status=302,
    ),
    Endpoint("billing-receipt", "page", VIEW_PAY, make=_payment, detail=True),
    Endpoint("billing-closing", "page", "billing.view_cashclosing", make=_closing),
    Endpoint(
        "billing-closing",
        "page",
        "billing.add_cashclosing",
        make=_closing,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        scoped=False,
    ),
    Endpoint(
        "billing-reports",
        "page",
        VIEW_PAY,
        make=_payment,
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,
    ),
    Endpoint(
        "billing-reports-export",
        "page",
        VIEW_PAY,
        make=_payment,
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,
    ),
)
