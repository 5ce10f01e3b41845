"""Access-matrix declarations of the repair-order page, its header and timeline panels and
the generic API (list, detail, step, cancel, timeline)."""

from aftersales.testing.matrix import Endpoint, declare

VIEW = "workorders.view_repairorder"


def _checked_in(dealer):
    from aftersales.workorders.testing import make_repair_order

    return make_repair_order(dealer=dealer, status="checked_in")


def _estimated(dealer):
    from aftersales.workorders.testing import make_repair_order

    return make_repair_order(dealer=dealer, status="estimated")


declare(
    Endpoint("repair-order-detail", "page", VIEW, make=_checked_in, detail=True),
    Endpoint("repair-order-header", "page", VIEW, make=_checked_in, detail=True),
    Endpoint("ro-timeline-panel", "page", VIEW, make=_checked_in, detail=True),
    Endpoint(
        "repair-order-transition",
        "page",
        VIEW,
        make=_checked_in,
        detail=True,
        method="post",
        data=None,
        ok_status=302,
    ),
    Endpoint("api:repair-order-list", "api", VIEW, make=_checked_in),
    Endpoint("api:repair-order-detail", "api", VIEW, make=_checked_in, detail=True),
    Endpoint("api:repair-order-events", "api", VIEW, make=_checked_in, detail=True),
    Endpoint(
        "api:repair-order-transition",
        "api",
        VIEW,
        make=_checked_in,
        detail=True,
        method="post",
        data=lambda order: {"to": "diagnosing", "version": order.version},
    ),
    Endpoint(
        "api:repair-order-cancel",
        "api",
        "workorders.cancel_repairorder",
        make=_estimated,
        detail=True,
        method="post",
        data=lambda order: {"reason": "客户改期"},
    ),
)
