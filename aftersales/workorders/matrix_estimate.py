"""Access-matrix declarations of the estimate area (see aftersales/testing/matrix.py).

Records are repair orders (or their lines) of the dealer under test, built directly in
the status each action needs; another dealer's user gets 404 for every one of them."""

import itertools

from aftersales.testing.matrix import Endpoint, declare

_seq = itertools.count(1)


def _advisor(dealer):
    from aftersales.org.models import User

    return User.objects.create(username=f"mx-est-{next(_seq)}", dealer=dealer)


def _order(dealer, status="estimated", **fields):
    from aftersales.workorders.testing import make_rates, make_repair_order

    make_rates(dealer)
    return make_repair_order(dealer=dealer, status=status, advisor=_advisor(dealer), **fields)


def _estimated(dealer):
    return _order(dealer)


def _line(dealer):
    return _estimated(dealer).lines.get()


def _additional(dealer):
    from aftersales.workorders.models import RepairOrderLine

    order = _order(dealer, status="in_progress")
    return RepairOrderLine.objects.create(
        repair_order=order, kind="fee", description="环保费", amount=10, additional=True
    )


def _declined(dealer):
    line = _additional(dealer)
    line.approval = "declined"
    line.save(update_fields=["approval"])
    return line


def _version(record):
    return {"version": record.version}


def _line_version(record):
    record.repair_order.refresh_from_db()
    return {"version": record.repair_order.version}


def _fee(record):
    return {"kind": "fee", "description": "环保费", "amount": "10", "version": record.version}


def _package(record):
    from aftersales.workorders.models import MaintenancePackage, PackageOperation
    from aftersales.workorders.testing import make_operation

    n = next(_seq)
    package = MaintenancePackage.objects.create(code=f"MX{n}", name="保养")
    op = make_operation(code=f"MX-OP{n}", warranty_scope="none")
    PackageOperation.objects.create(package=package, operation=op)
    return {"package": package.pk, "version": record.version}


def _terms(record):
    return {
        "payment_method": "cash",
        "old_parts": "leave",
        "free_wash": True,
        "version": record.version,
    }


def _sign(record):
    return {"kind": "paper", "signed_by_name": "张伟", "version": record.version}


def _decide(record):
    return {
        **_line_version(record),
        "decision": "approved",
        "channel": "counter",
        "customer_name": "张伟",
    }


def _update(record):
    return {**_line_version(record), "quantity": "2"}


CHANGE = "workorders.change_repairorder"
AUTHORIZE = "workorders.authorize_repairorder"
VIEW = "workorders.view_repairorder"

declare(
    # pages
    Endpoint("ro-estimate-panel", "page", VIEW, make=_estimated, detail=True),
    Endpoint(
        "ro-estimate-action",
        "page",
        CHANGE,
        make=_estimated,
        detail=True,
        method="post",
        data=lambda record: {},  # no action: the panel shows "Unknown action."
    ),
    Endpoint("ro-estimate-search", "page", CHANGE, make=_estimated, detail=True),
    # API
    Endpoint("api:ro-estimate-lines", "api", VIEW, make=_estimated, detail=True),
    Endpoint(
        "api:ro-estimate-lines",
        "api",
        CHANGE,
        make=_estimated,
        detail=True,
        method="post",
        data=_fee,
        ok_status=201,
    ),
    Endpoint(
        "api:ro-estimate-package",
        "api",
        CHANGE,
        make=_estimated,
        detail=True,
        method="post",
        data=_package,
        ok_status=201,
    ),
    Endpoint(
        "api:ro-estimate-terms",
        "api",
        CHANGE,
        make=_estimated,
        detail=True,
        method="post",
        data=_terms,
    ),
    Endpoint("api:ro-estimate-totals", "api", VIEW, make=_estimated, detail=True),
    Endpoint(
        "api:ro-estimate-send",
        "api",
        CHANGE,
        make=_estimated,
        detail=True,
        method="post",
        data=_version,
    ),
    Endpoint(
        "api:ro-estimate-sign",
        "api",
        AUTHORIZE,
        make=_estimated,
        detail=True,
        method="post",
        data=_sign,
    ),
    Endpoint("api:ro-estimate-line-detail", "api", VIEW, make=_line, detail=True),
    Endpoint(
        "api:ro-estimate-line-detail",
        "api",
        CHANGE,
        make=_line,
        detail=True,
        method="patch",
        data=_update,
    ),
    Endpoint(
        "api:ro-estimate-line-detail",
        "api",
        CHANGE,
        make=_line,
        detail=True,
        method="delete",
        data=_line_version,
        ok_status=204,
    ),
    Endpoint(
        "api:ro-estimate-line-decide",
        "api",
        AUTHORIZE,
        make=_additional,
        detail=True,
        method="post",
        data=_decide,
    ),
    Endpoint("api:ro-declined-list", "api", VIEW, make=_declined),
)
