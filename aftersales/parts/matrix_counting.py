"""Access-matrix declarations of the parts counting endpoints and pages (stocktakes and
transfers). Transfers are visible to both of their dealers; the matrix's records are
transfers between two warehouses of one dealer, so the other dealer's user gets 404.
Creates are declared ``detail=True`` with no URL kwargs (as in crm/matrix_api.py)."""

import itertools

from aftersales.testing.matrix import Endpoint, declare

_seq = itertools.count(1)
_NO_KWARGS = lambda record: {}  # noqa: E731 - a list URL reversed without arguments


def _warehouse(dealer):
    from aftersales.parts.testing import make_warehouse

    n = next(_seq)
    return make_warehouse(dealer=dealer, code=f"W{n}", bins=(f"M-{n}",))


def _stocktake(dealer, *, stocked=False, status=None):
    from aftersales.parts.models import Stocktake
    from aftersales.parts.stocktake import stocktake_start
    from aftersales.parts.testing import make_part, stock_up

    warehouse = _warehouse(dealer)
    if stocked:
        stock_up(warehouse=warehouse, part=make_part(), quantity=3, bin=warehouse.bins.first())
    stocktake = stocktake_start(actor=None, warehouse=warehouse)
    if status is not None:
        Stocktake.objects.filter(pk=stocktake.pk).update(status=status)
        stocktake.refresh_from_db()
    return stocktake


def _in_review(dealer):
    return _stocktake(dealer, status="review")


def _count_data(stocktake):
    line = stocktake.lines.select_related("bin", "item__part").first()
    return {"bin": line.bin.barcode, "part": line.item.part.number, "counted": "2"}


def _transfer(dealer, *, status=None, shipped=False):
    from aftersales.parts.models import Transfer
    from aftersales.parts.testing import make_part, stock_up
    from aftersales.parts.transfers import transfer_request, transfer_ship

    source, target = _warehouse(dealer), _warehouse(dealer)
    part = make_part()
    stock_up(warehouse=source, part=part, quantity=5, unit_cost="10")
    transfer = transfer_request(
        actor=None, from_warehouse=source, to_warehouse=target, lines=[(part, 2)]
    )
    if shipped:
        transfer = transfer_ship(actor=None, transfer=transfer)
    if status is not None:
        Transfer.objects.filter(pk=transfer.pk).update(status=status)
        transfer.refresh_from_db()
    return transfer


def _requested(dealer):
    return _transfer(dealer, status="requested")


def _in_transit(dealer):
    return _transfer(dealer, shipped=True)


def _transfer_data(transfer):
    line = transfer.lines.select_related("part").first()
    return {
        "from_warehouse": transfer.from_warehouse_id,
        "to_warehouse": transfer.to_warehouse_id,
        "lines": [{"part": line.part.number, "quantity": "1"}],
    }


def _post(name, permission, make, ok_status=200, **extra):
    return Endpoint(
        name, "api", permission, make=make, detail=True, method="post", ok_status=ok_status, **extra
    )


def _step(step):
    return lambda record: {"pk": record.pk, "step": step}


declare(
    # stocktakes: API
    Endpoint("api:stocktake-list", "api", "parts.view_stocktake", make=_stocktake),
    Endpoint(
        "api:stocktake-list",
        "api",
        "parts.add_stocktake",
        make=_warehouse,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=lambda warehouse: {"warehouse": warehouse.pk},
        ok_status=201,
        scoped=False,
    ),
    Endpoint("api:stocktake-detail", "api", "parts.view_stocktake", make=_stocktake, detail=True),
    _post(
        "api:stocktake-count",
        "parts.count_stocktake",
        lambda dealer: _stocktake(dealer, stocked=True),
        data=_count_data,
    ),
    _post("api:stocktake-submit", "parts.count_stocktake", _stocktake),
    _post("api:stocktake-reopen", "parts.count_stocktake", _in_review),
    _post("api:stocktake-approve", "parts.approve_stocktake", _in_review),
    _post("api:stocktake-cancel", "parts.add_stocktake", _stocktake),
    # stocktakes: pages
    Endpoint("stocktake-list", "page", "parts.view_stocktake", make=_stocktake),
    Endpoint(
        "stocktake-start",
        "page",
        "parts.add_stocktake",
        make=_warehouse,
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,
    ),
    Endpoint("stocktake-detail", "page", "parts.view_stocktake", make=_stocktake, detail=True),
    Endpoint("stocktake-count", "page", "parts.view_stocktake", make=_stocktake, detail=True),
    Endpoint(
        "stocktake-action",
        "page",
        "parts.count_stocktake",
        make=_stocktake,
        detail=True,
        url_kwargs=_step("submit"),
        method="post",
        ok_status=302,
    ),
    # transfers: API
    Endpoint("api:transfer-list", "api", "parts.view_transfer", make=_transfer),
    Endpoint(
        "api:transfer-list",
        "api",
        "parts.add_transfer",
        make=_transfer,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=_transfer_data,
        ok_status=201,
        scoped=False,
    ),
    Endpoint("api:transfer-detail", "api", "parts.view_transfer", make=_transfer, detail=True),
    _post("api:transfer-approve", "parts.approve_transfer", _requested),
    _post("api:transfer-reject", "parts.approve_transfer", _requested),
    _post("api:transfer-ship", "parts.change_transfer", _transfer),
    _post("api:transfer-receive", "parts.change_transfer", _in_transit),
    _post("api:transfer-cancel", "parts.change_transfer", _transfer),
    # transfers: pages
    Endpoint("transfer-list", "page", "parts.view_transfer", make=_transfer),
    Endpoint(
        "transfer-request",
        "page",
        "parts.add_transfer",
        make=_warehouse,
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,
    ),
    Endpoint("transfer-detail", "page", "parts.view_transfer", make=_transfer, detail=True),
    Endpoint(
        "transfer-action",
        "page",
        "parts.change_transfer",
        make=_transfer,
        detail=True,
        url_kwargs=_step("ship"),
        method="post",
        ok_status=302,
    ),
)
