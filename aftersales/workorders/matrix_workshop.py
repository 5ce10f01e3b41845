"""Access-matrix declarations of the workshop area (see aftersales/testing/matrix.py).

The matrix's user "with the permission" is a fresh person holding the granting role: a
technician who is not assigned to the job, so clocking on answers 409 ``not_assigned`` and
clocking off 409 ``not_clocked_on`` (the permission passed; the business rule refused).
The technician's own lists (``my-jobs``) are declared without a record: what they hold is
tested in tests/test_boards.py and test_workshop_views.py. Page actions answer 200 with the
re-rendered fragment (a refusal is shown inside it)."""

import itertools

from aftersales.testing.matrix import Endpoint, declare

_NO_KWARGS = lambda record: {}  # noqa: E731 - a URL reversed without arguments
_seq = itertools.count(1)


def _order(dealer, status="approved"):
    from aftersales.crm.testing import make_customer, make_vehicle
    from aftersales.org.models import RoleAssignment, User
    from aftersales.workorders.testing import make_repair_order

    n = next(_seq)
    advisor = User.objects.create(username=f"mx-ws-sa{n}", dealer=dealer)
    RoleAssignment.objects.create(user=advisor, role="service_advisor", dealer=dealer)
    vehicle = make_vehicle(owner=make_customer(dealer=dealer), dealer=dealer)
    return make_repair_order(dealer=dealer, status=status, vehicle=vehicle, advisor=advisor)


def _job(dealer):
    """An approved job of an approved order, with a technician of the dealer at hand."""
    from aftersales.org.models import RoleAssignment, User
    from aftersales.workorders.testing import labour_line

    line = labour_line(_order(dealer))
    tech = User.objects.create(username=f"mx-ws-tech{next(_seq)}", dealer=dealer)
    RoleAssignment.objects.create(user=tech, role="technician", dealer=dealer)
    line.tech = tech
    return line


def _assign_body(line):
    line.repair_order.refresh_from_db()
    return {"technicians": [line.tech.pk], "version": line.repair_order.version}


def _dispatchable(dealer):
    """An approved order with its job and a technician (``order.job``)."""
    line = _job(dealer)
    order = line.repair_order
    order.job = line
    return order


def _dispatch_body(order):
    order.refresh_from_db()
    return {
        "version": order.version,
        "jobs": [{"line": order.job.pk, "technicians": [order.job.tech.pk]}],
    }


def _running(dealer):
    return _order(dealer, "in_progress")


def _paused(dealer):
    return _order(dealer, "paused")


def _version(order):
    order.refresh_from_db()
    return {"version": order.version, "reason": "matrix"}


def _part_line(dealer):
    from aftersales.workorders.testing import add_part_line

    return add_part_line(_running(dealer), quantity="2")


def _issued_part_line(dealer):
    from aftersales.workorders import workshop

    line = _part_line(dealer)
    workshop.parts_issue(actor=None, line=line, idempotency_key="matrix")
    return line


def _key(prefix):
    return lambda record: {"quantity": "1", "idempotency_key": f"{prefix}-{next(_seq)}"}


_PAGE_ACTIONS = [
    ("ro-job-assign", "workorders.dispatch_repairorder", _job),
    ("ro-job-clock-on", "workorders.work_repairorder", _job),
    ("ro-job-clock-off", "workorders.work_repairorder", _job),
    ("ro-work-pause", "workorders.work_repairorder", _running),
    ("ro-work-wait", "workorders.work_repairorder", _running),
    ("ro-work-resume", "workorders.work_repairorder", _paused),
    ("ro-part-issue", "parts.issue_stockitem", _part_line),
    ("ro-part-return", "parts.issue_stockitem", _issued_part_line),
]

declare(
    # pages
    Endpoint("repair-order-list", "page", "workorders.view_repairorder", make=_order),
    Endpoint("workshop-board", "page", "workorders.dispatch_repairorder", make=_job),
    Endpoint(
        "my-jobs",
        "page",
        "workorders.work_repairorder",
        make=_job,
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,
    ),
    Endpoint("ro-work-panel", "page", "workorders.view_repairorder", make=_order, detail=True),
    *[
        Endpoint(name, "page", permission, make=make, detail=True, method="post")
        for name, permission, make in _PAGE_ACTIONS
    ],
    # API
    Endpoint(
        "api:ro-job-list",
        "api",
        "workorders.work_repairorder",
        make=_job,
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,
    ),
    Endpoint(
        "api:ro-job-assign",
        "api",
        "workorders.dispatch_repairorder",
        make=_job,
        detail=True,
        method="post",
        data=_assign_body,
    ),
    Endpoint(
        "api:ro-job-clock-on",
        "api",
        "workorders.work_repairorder",
        make=_job,
        detail=True,
        method="post",
        ok_status=409,
    ),
    Endpoint(
        "api:ro-job-clock-off",
        "api",
        "workorders.work_repairorder",
        make=_job,
        detail=True,
        method="post",
        data=lambda record: {"reason": "finished"},
        ok_status=409,
    ),
    Endpoint(
        "api:ro-part-line-issue",
        "api",
        "parts.issue_stockitem",
        make=_part_line,
        detail=True,
        method="post",
        data=_key("mx-issue"),
    ),
    Endpoint(
        "api:ro-part-line-return",
        "api",
        "parts.issue_stockitem",
        make=_issued_part_line,
        detail=True,
        method="post",
        data=_key("mx-return"),
    ),
    Endpoint("api:ro-workshop-sa-board", "api", "workorders.view_repairorder", make=_order),
    Endpoint(
        "api:ro-workshop-foreman-board",
        "api",
        "workorders.dispatch_repairorder",
        make=_job,
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,
    ),
    Endpoint(
        "api:ro-workshop-dispatch",
        "api",
        "workorders.dispatch_repairorder",
        make=_dispatchable,
        detail=True,
        method="post",
        data=_dispatch_body,
    ),
    Endpoint(
        "api:ro-workshop-pause",
        "api",
        "workorders.work_repairorder",
        make=_running,
        detail=True,
        method="post",
        data=_version,
    ),
    Endpoint(
        "api:ro-workshop-wait-for-parts",
        "api",
        "workorders.work_repairorder",
        make=_running,
        detail=True,
        method="post",
        data=_version,
    ),
    Endpoint(
        "api:ro-workshop-resume",
        "api",
        "workorders.work_repairorder",
        make=_paused,
        detail=True,
        method="post",
        data=_version,
    ),
    Endpoint(
        "api:ro-workshop-hours",
        "api",
        "workorders.view_repairorder",
        make=_order,
        detail=True,
    ),
)
