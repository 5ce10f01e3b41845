"""Access-matrix declarations of the parts stock endpoints and pages (see
aftersales/testing/matrix.py).

Screens reached without a record (movement forms, "new warehouse", the reports) are
declared ``detail=True`` with no URL kwargs and ``scoped=False``: a user acts at their own
dealer; what they see there is scoped by the services and tested in
parts/tests/test_stock_views.py and test_reports.py. Movement and reservation POSTs name
the record's warehouse in their body, so another dealer's user gets 404."""

import itertools

from aftersales.testing.matrix import Endpoint, declare

_NO_KWARGS = lambda record: {}  # noqa: E731 - a list URL reversed without arguments
_keys = itertools.count(1)


def _item(dealer):
    """A stock item of ``dealer`` with 5 units in bin A-01-01."""
    from aftersales.parts.testing import bin_of, make_part, make_warehouse, stock_up

    warehouse = make_warehouse(dealer=dealer, bins=("A-01-01", "A-01-02"))
    return stock_up(
        warehouse=warehouse, part=make_part(), quantity=5, bin=bin_of(warehouse, "A-01-01")
    )


def _warehouse(dealer):
    return _item(dealer).warehouse


def _bin(dealer):
    from aftersales.parts.testing import bin_of

    return bin_of(_warehouse(dealer), "A-01-02")


def _move(dealer):
    return _item(dealer).moves.first()


def _reservation(dealer):
    from aftersales.parts.stock import Doc, reserve
    from aftersales.parts.testing import make_part, make_warehouse, stock_up

    warehouse = make_warehouse(dealer=dealer)
    part = make_part()
    stock_up(warehouse=warehouse, part=part, quantity=5)
    return reserve(
        actor=None,
        warehouse=warehouse,
        part=part,
        quantity=1,
        key=f"matrix-{next(_keys)}",
        doc=Doc(type="test", number="T-1"),
    )


def _issue(record):
    return {
        "kind": "issue",
        "warehouse": record.warehouse_id,
        "part": record.part.number,
        "quantity": "1",
        "idempotency_key": f"matrix-issue-{next(_keys)}",
    }


def _relocate(record):
    from aftersales.parts.testing import bin_of

    return {
        "kind": "relocate",
        "warehouse": record.warehouse_id,
        "part": record.part.number,
        "quantity": "1",
        "bin": bin_of(record.warehouse, "A-01-01").pk,
        "to_bin": bin_of(record.warehouse, "A-01-02").pk,
        "idempotency_key": f"matrix-move-{next(_keys)}",
    }


def _adjust(record):
    return {**_issue(record), "kind": "adjust", "quantity": "-1", "reason": "damaged"}


def _reserve(record):
    return {
        "warehouse": record.warehouse_id,
        "part": record.part.number,
        "quantity": "1",
        "doc_type": "counter",
        "doc_number": "C-1",
        "idempotency_key": f"matrix-reserve-{next(_keys)}",
    }


def _bins_body(record):
    return {"code": f"Z-{next(_keys):03d}"}


def _report(record):
    return {"pk": "stock-value"}


def _export(record):
    return {"name": "stock-value"}


declare(
    # pages
    Endpoint("stock-list", "page", "parts.view_stockitem", make=_item),
    Endpoint("stock-card", "page", "parts.view_stockitem", make=_item, detail=True),
    Endpoint(
        "stock-scan",
        "page",
        "parts.view_stockitem",
        make=_item,
        detail=True,
        url_kwargs=_NO_KWARGS,
        ok_status=404,  # no code given: nothing found
        scoped=False,
    ),
    *[
        Endpoint(
            name,
            "page",
            permission,
            make=_item,
            detail=True,
            url_kwargs=_NO_KWARGS,
            scoped=False,
        )
        for name, permission in (
            ("stock-issue", "parts.issue_stockitem"),
            ("stock-return", "parts.issue_stockitem"),
            ("stock-adjust", "parts.adjust_stockitem"),
            ("stock-relocate", "parts.change_stockitem"),
            ("warehouse-create", "parts.change_warehouse"),
            ("parts-reports", "parts.view_stockmove"),
        )
    ],
    Endpoint("warehouse-list", "page", "parts.view_warehouse", make=_warehouse),
    Endpoint("warehouse-detail", "page", "parts.view_warehouse", make=_warehouse, detail=True),
    Endpoint(
        "warehouse-bins-add",
        "page",
        "parts.change_warehouse",
        make=_warehouse,
        detail=True,
        method="post",
        data=_bins_body,  # sent as JSON: the form sees no fields and shows the page again
    ),
    Endpoint(
        "bin-deactivate",
        "page",
        "parts.change_warehouse",
        make=_bin,
        detail=True,
        method="post",
        ok_status=302,
    ),
    Endpoint("part-labels", "page", "parts.view_stockitem", make=_warehouse, detail=True),
    Endpoint("bin-labels", "page", "parts.view_warehouse", make=_warehouse, detail=True),
    Endpoint(
        "parts-report-export",
        "page",
        "parts.export_stockmove",
        make=_item,
        detail=True,
        url_kwargs=_export,
        scoped=False,
    ),
    # API
    Endpoint("api:warehouse-list", "api", "parts.view_warehouse", make=_warehouse),
    Endpoint("api:warehouse-detail", "api", "parts.view_warehouse", make=_warehouse, detail=True),
    Endpoint("api:warehouse-bins", "api", "parts.view_warehouse", make=_warehouse, detail=True),
    Endpoint(
        "api:warehouse-bins",
        "api",
        "parts.change_warehouse",
        make=_warehouse,
        detail=True,
        method="post",
        data=_bins_body,
        ok_status=201,
    ),
    Endpoint("api:stockitem-list", "api", "parts.view_stockitem", make=_item),
    Endpoint("api:stockitem-detail", "api", "parts.view_stockitem", make=_item, detail=True),
    Endpoint("api:stockitem-ledger", "api", "parts.view_stockmove", make=_item, detail=True),
    Endpoint("api:stockmove-list", "api", "parts.view_stockmove", make=_move),
    Endpoint("api:stockmove-detail", "api", "parts.view_stockmove", make=_move, detail=True),
    Endpoint("api:reservation-list", "api", "parts.view_reservation", make=_reservation),
    Endpoint(
        "api:reservation-detail", "api", "parts.view_reservation", make=_reservation, detail=True
    ),
    Endpoint(
        "api:reservation-list",
        "api",
        "parts.add_reservation",
        make=_item,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=_reserve,
        ok_status=201,
    ),
    Endpoint(
        "api:reservation-release",
        "api",
        "parts.change_reservation",
        make=_reservation,
        detail=True,
        method="post",
    ),
    Endpoint(
        "api:stockmovement-list",
        "api",
        "parts.issue_stockitem",
        make=_item,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=_issue,
        ok_status=201,
    ),
    Endpoint(
        "api:partsreport-detail",
        "api",
        "parts.view_stockmove",
        make=_item,
        detail=True,
        url_kwargs=_report,
        scoped=False,
    ),
)

# Declared for the record; the matrix keys endpoints by name and method, so only one POST
# per URL name is checked there. The adjust and relocate variants are exercised in
# parts/tests/test_stock_views.py.
ADJUST_BODY, RELOCATE_BODY = _adjust, _relocate
