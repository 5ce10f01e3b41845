"""Access-matrix declarations of the parts purchasing endpoints and pages (see
aftersales/testing/matrix.py)."""

from aftersales.testing.matrix import Endpoint, declare


def _warehouse(dealer):
    from aftersales.parts.testing import make_warehouse

    return make_warehouse(dealer=dealer)


def _draft(dealer):
    """A draft order of ``dealer`` with one line (``record.line``)."""
    from aftersales.parts import purchasing
    from aftersales.parts.testing import make_part

    order = purchasing.purchase_order_create(
        actor=None, warehouse=_warehouse(dealer), lines=[(make_part(), 5)]
    )
    order.line = order.lines.get()
    return order


def _submitted(dealer):
    from aftersales.parts import purchasing

    order = _draft(dealer)
    order = purchasing.purchase_order_submit(actor=None, order=order)
    order.line = order.lines.get()
    return order


def _partly_received(dealer):
    from aftersales.parts import purchasing

    order = _submitted(dealer)
    purchasing.purchase_order_receive(actor=None, order=order, lines=[(order.line, 1, None)])
    order.refresh_from_db()
    return order


def _receipt(dealer):
    from aftersales.parts import purchasing

    order = _submitted(dealer)
    return purchasing.purchase_order_receive(actor=None, order=order, lines=[(order.line, 2, None)])


def _low_item(dealer):
    """A stock item of ``dealer`` below its minimum (it shows in suggestions and low stock)."""
    from django.db import transaction

    from aftersales.parts import reorder
    from aftersales.parts.stock import item_for
    from aftersales.parts.testing import make_part

    with transaction.atomic():
        item = item_for(warehouse=_warehouse(dealer), part=make_part())
    return reorder.stock_item_set_levels(actor=None, item=item, min_qty=2, max_qty=6)


def _nothing(record):
    return {}


def _with_line(record):
    return {"pk": record.pk, "line": record.line.pk}


def _submit(record):
    return {"pk": record.pk, "action": "submit"}


def _new_order(warehouse):
    from aftersales.parts.testing import make_part

    return {"warehouse": warehouse.pk, "lines": [{"part": make_part().pk, "quantity": "3"}]}


def _suggested_order(item):
    return {"warehouse": item.warehouse_id, "lines": [{"part": item.part_id, "quantity": "4"}]}


PO = "parts.view_purchaseorder"

declare(
    # API: purchase orders
    Endpoint("api:purchaseorder-list", "api", PO, make=_draft),
    Endpoint(
        "api:purchaseorder-list",
        "api",
        "parts.add_purchaseorder",
        make=_warehouse,
        detail=True,
        url_kwargs=_nothing,
        method="post",
        data=_new_order,
        ok_status=201,
        scoped=False,
    ),
    Endpoint("api:purchaseorder-detail", "api", PO, make=_draft, detail=True),
    Endpoint(
        "api:purchaseorder-detail",
        "api",
        "parts.change_purchaseorder",
        make=_draft,
        detail=True,
        method="patch",
        data=lambda order: {"note": "周五前到货"},
    ),
    Endpoint(
        "api:purchaseorder-lines",
        "api",
        "parts.change_purchaseorder",
        make=_draft,
        detail=True,
        method="post",
        data=lambda order: {"part": order.line.part_id, "quantity": "7"},
    ),
    Endpoint(
        "api:purchaseorder-remove-line",
        "api",
        "parts.change_purchaseorder",
        make=_draft,
        detail=True,
        method="post",
        data=lambda order: {"line": order.line.pk},
    ),
    Endpoint(
        "api:purchaseorder-submit",
        "api",
        "parts.change_purchaseorder",
        make=_draft,
        detail=True,
        method="post",
    ),
    Endpoint(
        "api:purchaseorder-cancel",
        "api",
        "parts.change_purchaseorder",
        make=_submitted,
        detail=True,
        method="post",
    ),
    Endpoint(
        "api:purchaseorder-close-short",
        "api",
        "parts.change_purchaseorder",
        make=_partly_received,
        detail=True,
        method="post",
    ),
    Endpoint(
        "api:purchaseorder-receive",
        "api",
        "parts.receive_purchaseorder",
        make=_submitted,
        detail=True,
        method="post",
        data=lambda order: {"lines": [{"line": order.line.pk, "quantity": "1"}]},
        ok_status=201,
    ),
    # API: receipts
    Endpoint("api:goodsreceipt-list", "api", PO, make=_receipt),
    Endpoint("api:goodsreceipt-detail", "api", PO, make=_receipt, detail=True),
    # API: suggestions and reorder levels
    Endpoint("api:purchase-suggestion-list", "api", PO, make=_low_item),
    Endpoint(
        "api:purchase-suggestion-order",
        "api",
        "parts.add_purchaseorder",
        make=_low_item,
        detail=True,
        url_kwargs=_nothing,
        method="post",
        data=_suggested_order,
        ok_status=201,
        scoped=False,
    ),
    Endpoint("api:stocklevel-list", "api", "parts.view_stockitem", make=_low_item),
    Endpoint("api:stocklevel-detail", "api", "parts.view_stockitem", make=_low_item, detail=True),
    Endpoint(
        "api:stocklevel-detail",
        "api",
        "parts.change_stockitem",
        make=_low_item,
        detail=True,
        method="patch",
        data=lambda item: {"min_qty": "1", "max_qty": "4"},
    ),
    # pages
    Endpoint("purchase-order-list", "page", PO, make=_draft),
    Endpoint(
        "purchase-order-create",
        "page",
        "parts.add_purchaseorder",
        make=_warehouse,
        detail=True,
        url_kwargs=_nothing,
        scoped=False,
    ),
    Endpoint("purchase-order-detail", "page", PO, make=_draft, detail=True),
    Endpoint(
        "purchase-order-scan",
        "page",
        "parts.change_purchaseorder",
        make=_draft,
        detail=True,
        method="post",
        ok_status=302,
    ),
    Endpoint(
        "purchase-order-line",
        "page",
        "parts.change_purchaseorder",
        make=_draft,
        detail=True,
        url_kwargs=_with_line,
        method="post",
        ok_status=302,
    ),
    Endpoint(
        "purchase-order-action",
        "page",
        "parts.change_purchaseorder",
        make=_draft,
        detail=True,
        url_kwargs=_submit,
        method="post",
        ok_status=302,
    ),
    Endpoint(
        "purchase-order-receive",
        "page",
        "parts.receive_purchaseorder",
        make=_submitted,
        detail=True,
    ),
    Endpoint("purchase-suggestions", "page", PO, make=_low_item),
    Endpoint(
        "purchase-suggestions-order",
        "page",
        "parts.add_purchaseorder",
        make=_low_item,
        detail=True,
        url_kwargs=_nothing,
        method="post",
        ok_status=302,
        scoped=False,
    ),
    Endpoint("low-stock-list", "page", "parts.view_stockitem", make=_low_item),
    Endpoint("stock-levels-edit", "page", "parts.change_stockitem", make=_low_item, detail=True),
)
