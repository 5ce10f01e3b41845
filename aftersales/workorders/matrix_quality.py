"""Access-matrix declarations of the quality area: the order's quality panel and its
steps (self-check, QC, ready, delivery, close), the QC queue and the follow-up calls (see
aftersales/testing/matrix.py).

The matrix's users are made after the record, so none of them clocked on the order: the
technician's self-check is answered with the panel showing the refusal (page) or 400 for
an empty checklist (API). Page forms are sent as JSON, so they see no fields and the
panel shows the error (200)."""

import datetime
import itertools

from aftersales.testing.matrix import Endpoint, declare
from aftersales.workorders.choices import ROStatus

S = ROStatus
_seq = itertools.count(1)
_NO_KWARGS = lambda record: {}  # noqa: E731 - a list URL reversed without arguments


def _order(status):
    def make(dealer):
        from aftersales.org.models import User
        from aftersales.workorders.testing import make_repair_order

        advisor = User.objects.create(username=f"mq-sa-{next(_seq)}", dealer=dealer)
        return make_repair_order(dealer=dealer, status=status, advisor=advisor)

    return make


def _settled(dealer):
    """A delivered order whose customer part is invoiced and paid: the cashier may close it."""
    from aftersales.billing.testing import settle

    order = _order(S.DELIVERED)(dealer)
    settle(order)
    return order


def _follow_up(dealer):
    from django.utils import timezone

    from aftersales.workorders.models import FollowUp

    order = _order(S.DELIVERED)(dealer)
    now = timezone.now()
    return FollowUp.objects.create(
        repair_order=order,
        dealer=dealer,
        opens_at=now - datetime.timedelta(hours=1),
        due_at=now + datetime.timedelta(hours=24),
    )


def _all_true(checklist):
    return dict.fromkeys(checklist, True)


def _qc_pass(record):
    from aftersales.workorders.quality import QC_ITEMS

    return {"version": record.version, "items": _all_true(QC_ITEMS), "passed": True}


def _deliver(record):
    from aftersales.workorders.delivery import delivery_checks_for

    return {"version": record.version, "checks": _all_true(delivery_checks_for(record))}


def _version(record):
    return {"version": record.version}


def _empty_checklist(record):
    return {"version": record.version, "items": {}}


def _declined(record):
    return {"version": record.version, "outcome": "declined"}


_PANEL_POSTS = (
    ("ro-quality-self-check", "workorders.work_repairorder", _order(S.IN_PROGRESS)),
    ("ro-quality-qc", "workorders.inspect_repairorder", _order(S.SELF_CHECKED)),
    ("ro-quality-ready", "workorders.deliver_repairorder", _order(S.QC_PASSED)),
    ("ro-quality-deliver", "workorders.deliver_repairorder", _order(S.READY)),
    ("ro-quality-close", "workorders.close_repairorder", _settled),
)

declare(
    # pages
    Endpoint(
        "ro-quality-panel",
        "page",
        "workorders.view_repairorder",
        make=_order(S.SELF_CHECKED),
        detail=True,
    ),
    *[
        Endpoint(name, "page", permission, make=make, detail=True, method="post")
        for name, permission, make in _PANEL_POSTS
    ],
    Endpoint("qc-queue", "page", "workorders.inspect_repairorder", make=_order(S.SELF_CHECKED)),
    Endpoint("follow-up-list", "page", "workorders.view_followup", make=_follow_up),
    Endpoint("follow-up-detail", "page", "workorders.view_followup", make=_follow_up, detail=True),
    Endpoint(
        "follow-up-call",
        "page",
        "workorders.change_followup",
        make=_follow_up,
        detail=True,
        method="post",
        ok_status=400,  # sent as JSON: no outcome chosen, the form shows the error
    ),
    # API
    Endpoint(
        "api:ro-quality-detail",
        "api",
        "workorders.view_repairorder",
        make=_order(S.SELF_CHECKED),
        detail=True,
    ),
    Endpoint(
        "api:ro-quality-self-check",
        "api",
        "workorders.work_repairorder",
        make=_order(S.IN_PROGRESS),
        detail=True,
        method="post",
        data=_empty_checklist,
        ok_status=400,  # every item must be answered
    ),
    Endpoint(
        "api:ro-quality-qc",
        "api",
        "workorders.inspect_repairorder",
        make=_order(S.SELF_CHECKED),
        detail=True,
        method="post",
        data=_qc_pass,
    ),
    Endpoint(
        "api:ro-quality-ready",
        "api",
        "workorders.deliver_repairorder",
        make=_order(S.QC_PASSED),
        detail=True,
        method="post",
        data=_version,
    ),
    Endpoint(
        "api:ro-quality-deliver",
        "api",
        "workorders.deliver_repairorder",
        make=_order(S.READY),
        detail=True,
        method="post",
        data=_deliver,
    ),
    Endpoint(
        "api:ro-quality-close",
        "api",
        "workorders.close_repairorder",
        make=_settled,
        detail=True,
        method="post",
        data=_version,
    ),
    Endpoint("api:follow-up-list", "api", "workorders.view_followup", make=_follow_up),
    Endpoint(
        "api:follow-up-detail", "api", "workorders.view_followup", make=_follow_up, detail=True
    ),
    Endpoint(
        "api:follow-up-record-call",
        "api",
        "workorders.change_followup",
        make=_follow_up,
        detail=True,
        method="post",
        data=_declined,
    ),
)
