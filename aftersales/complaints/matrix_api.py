"""Access-matrix declarations of the complaint API (see aftersales/testing/matrix.py).

Judging, filing, assigning, limits, pauses, escalating, closing, follow-ups, legal cases
and the settings are held by OEM roles only, so those endpoints see every dealer's
complaints and are declared ``scoped=False`` (the dealer-side scoping of the same rows is
tested with the dealer endpoints). Steps whose permission the service checks (support,
comment, a step's record or acknowledgment) are declared with that permission: a user
who may only see the complaint passes the viewset and is refused by the service (403).
The owner's endpoints are tested in tests/test_api.py (any signed-in owner login)."""

from aftersales.testing.matrix import Endpoint, declare

VIEW = "complaints.view_complaint"
_NO_KWARGS = lambda record: {}  # noqa: E731 - a list URL reversed without arguments


def _complaint(status="handling", category="service"):
    def make(dealer):
        from aftersales.complaints.testing import make_complaint

        return make_complaint(dealer=dealer, status=status, category=category)

    return make


def _filed(dealer):
    """A filed complaint forwarded by ``dealer`` (so it is the dealer's while unassigned)."""
    from aftersales.complaints.testing import make_complaint

    return make_complaint(dealer=dealer, status="filed", forwarded=True)


def _forwarded(status):
    def make(dealer):
        from aftersales.complaints.testing import make_complaint

        return make_complaint(dealer=dealer, status=status, forwarded=True)

    return make


def _proposal(done=False):
    def make(dealer):
        from aftersales.complaints import services
        from aftersales.complaints.testing import make_complaint, oem_user

        complaint = make_complaint(dealer=dealer, category="sales")
        step = services.step_open(
            actor=oem_user("complaint"), complaint=complaint, kind="proposal", departments="销售部"
        )
        if done:
            step = services.step_record(
                actor=oem_user("complaint"), step=step, solution="退还加装费用"
            )
        return step

    return make


def _escalation(dealer):
    from aftersales.complaints import services
    from aftersales.complaints.testing import make_complaint, oem_user

    complaint = make_complaint(dealer=dealer)
    return services.complaint_escalate(
        actor=oem_user("complaint"), complaint=complaint, amount="500", note="客户要求补偿"
    )


def _follow_up(dealer):
    return _complaint("closed")(dealer).follow_ups.get()


def _case(dealer):
    from aftersales.complaints import services
    from aftersales.complaints.testing import make_complaint, oem_user

    return services.case_open(
        actor=oem_user("legal"),
        kind="arbitration",
        title="消费纠纷仲裁",
        complaints=[make_complaint(dealer=dealer)],
    )


def _settings(dealer):
    from aftersales.complaints.models import ComplaintSettings

    return ComplaintSettings.current()


def _post(name, permission, make, data, *, scoped=True, ok_status=200):
    return Endpoint(
        name,
        "api",
        permission,
        make=make,
        detail=True,
        method="post",
        data=data,
        scoped=scoped,
        ok_status=ok_status,
    )


declare(
    Endpoint("api:complaint-list", "api", VIEW, make=_complaint()),
    Endpoint("api:complaint-detail", "api", VIEW, make=_complaint(), detail=True),
    Endpoint(
        "api:complaint-list",
        "api",
        "complaints.add_complaint",
        make=lambda dealer: dealer,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=lambda dealer: {
            "channel": "dealer",
            "dealer": dealer.pk,
            "contact_name": "张先生",
            "subject": "等待时间过长",
            "description": "保养等了四个小时",
        },
        ok_status=201,
    ),
    _post(
        "api:complaint-judge",
        "complaints.judge_complaint",
        _complaint("new"),
        lambda c: {"decision": "to_file", "judgement": "有效", "version": c.version},
        scoped=False,
    ),
    _post(
        "api:complaint-file",
        "complaints.file_complaint",
        _complaint("to_file"),
        lambda c: {"category": "service", "grade": "general", "version": c.version},
        scoped=False,
    ),
    _post(
        "api:complaint-assign",
        "complaints.file_complaint",
        _filed,
        lambda c: {"dealer": c.dealer_id, "version": c.version},
        scoped=False,
    ),
    _post(
        "api:complaint-limit",
        "complaints.file_complaint",
        _complaint(),
        lambda c: {"limit_days": 2, "reason": "媒体关注", "version": c.version},
        scoped=False,
    ),
    _post(
        "api:complaint-support",
        "complaints.file_complaint",
        _complaint(category="sales"),
        lambda c: {"kind": "proposal", "departments": "销售部", "version": c.version},
        scoped=False,
    ),
    _post(
        "api:complaint-plan",
        "complaints.handle_complaint",
        _complaint(),
        lambda c: {"plan": "免费检查", "version": c.version},
    ),
    _post(
        "api:complaint-execution",
        "complaints.handle_complaint",
        lambda dealer: _plan_submitted(dealer),
        lambda c: {"report": "已完成", "version": c.version},
    ),
    _post(
        "api:complaint-comment",
        "complaints.comment_complaint",
        _complaint(),
        lambda c: {"text": "请尽快联系客户"},
    ),
    _post(
        "api:complaint-pause",
        "complaints.file_complaint",
        _complaint(),
        lambda c: {"reason": "等待客户提供照片", "version": c.version},
        scoped=False,
    ),
    _post(
        "api:complaint-resume",
        "complaints.file_complaint",
        lambda dealer: _paused(dealer),
        lambda c: {"version": c.version},
        scoped=False,
    ),
    _post(
        "api:complaint-escalate",
        "complaints.escalate_complaint",
        _complaint(),
        lambda c: {"note": "客户情绪激动", "amount": "1000", "version": c.version},
        scoped=False,
    ),
    _post(
        "api:complaint-close",
        "complaints.close_complaint",
        _complaint(),
        lambda c: {"condition": "withdrawn", "evidence": "客户撤诉录音", "version": c.version},
        scoped=False,
    ),
    _post(
        "api:complaint-reopen",
        "complaints.close_complaint",
        _complaint("closed"),
        lambda c: {"reason": "问题复发", "version": c.version},
        scoped=False,
    ),
    Endpoint("api:complaint-step-detail", "api", VIEW, make=_proposal(), detail=True),
    _post(
        "api:complaint-step-record",
        "complaints.file_complaint",
        _proposal(),
        lambda step: {"solution": "退还加装费用"},
        scoped=False,
    ),
    _post(
        "api:complaint-step-acknowledge",
        "complaints.handle_complaint",
        _proposal(done=True),
        None,
    ),
    Endpoint("api:complaint-escalation-list", "api", VIEW, make=_escalation),
    Endpoint("api:complaint-escalation-detail", "api", VIEW, make=_escalation, detail=True),
    _post(
        "api:complaint-escalation-decide",
        "complaints.decide_complaint",
        _escalation,
        lambda e: {"decision": "同意补偿保养券", "approved_amount": "500"},
    ),
    Endpoint("api:complaint-follow-up-list", "api", VIEW, make=_follow_up),
    Endpoint("api:complaint-follow-up-detail", "api", VIEW, make=_follow_up, detail=True),
    _post(
        "api:complaint-follow-up-record",
        "complaints.judge_complaint",
        _follow_up,
        lambda f: {"outcome": "reached", "score": 5},
        scoped=False,
    ),
    Endpoint(
        "api:complaint-case-list", "api", "complaints.view_legalcase", make=_case, scoped=False
    ),
    Endpoint(
        "api:complaint-case-detail",
        "api",
        "complaints.view_legalcase",
        make=_case,
        detail=True,
        scoped=False,
    ),
    Endpoint(
        "api:complaint-case-list",
        "api",
        "complaints.add_legalcase",
        make=_complaint(),
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=lambda c: {"kind": "crisis", "title": "微博舆情", "complaints": [c.pk]},
        ok_status=201,
        scoped=False,
    ),
    Endpoint(
        "api:complaint-case-detail",
        "api",
        "complaints.change_legalcase",
        make=_case,
        detail=True,
        method="patch",
        data=lambda case: {"outcome": "已和解"},
        scoped=False,
    ),
    Endpoint(
        "api:complaint-settings-current",
        "api",
        "complaints.view_complaintsettings",
        make=_settings,
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,
    ),
    Endpoint(
        "api:complaint-settings-current",
        "api",
        "complaints.change_complaintsettings",
        make=_settings,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="patch",
        data=lambda s: {"general_days": 3},
        scoped=False,
    ),
)


def _plan_submitted(dealer):
    from aftersales.complaints import services
    from aftersales.complaints.testing import dealer_user, make_complaint

    complaint = make_complaint(dealer=dealer)
    services.plan_submit(actor=dealer_user(dealer), complaint=complaint, plan="免费检查")
    complaint.refresh_from_db()
    return complaint


def _paused(dealer):
    from aftersales.complaints import services
    from aftersales.complaints.testing import make_complaint, oem_user

    complaint = make_complaint(dealer=dealer)
    return services.complaint_pause(
        actor=oem_user("complaint"), complaint=complaint, reason="等待客户"
    )
