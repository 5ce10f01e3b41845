"""Access-matrix declarations of the complaint pages (see aftersales/testing/matrix.py).

``make(dealer)`` builds a complaint at the matrix's test dealer through the services,
acting as the few users ``make_complaint`` needs (created here when missing, so the
matrix does not load the whole demo organisation). Pages whose permission only OEM roles
hold (intake, workbench, VRT tasks, follow-ups, cases, settings) are ``scoped=False``; the
dealer-side scoping of the same complaints is tested with the list, the page and its
forms. Page forms are sent as JSON, so they see no fields: they answer with the page and
the form's errors (200), or a redirect where an empty form is a valid request."""

from aftersales.testing.matrix import Endpoint, declare

VIEW = "complaints.view_complaint"
_NO_KWARGS = lambda record: {}  # noqa: E731 - a URL reversed without arguments


def _users(dealer):
    """The OEM agent and specialist, and the dealer's managers, that the builders act as."""
    from aftersales.org.models import RoleAssignment, User
    from aftersales.org.roles import Role

    code = dealer.code.lower()
    for username, role, at_dealer in (
        ("oem-csagent", Role.CS_AGENT, None),
        ("oem-complaint", Role.COMPLAINT_SPECIALIST, None),
        (f"{code}-svcmgr", Role.SERVICE_MANAGER, dealer),
        (f"{code}-dcrcmgr", Role.DCRC_MANAGER, dealer),
    ):
        user, created = User.objects.get_or_create(
            username=username, defaults={"dealer": at_dealer}
        )
        if created:
            RoleAssignment.objects.create(user=user, role=role, dealer=at_dealer)


def _complaint(status, **options):
    def make(dealer):
        from aftersales.complaints.testing import make_complaint

        _users(dealer)
        return make_complaint(dealer=dealer, status=status, **options)

    return make


def _vrt_step(dealer):
    from aftersales.complaints import services
    from aftersales.complaints.testing import oem_user

    complaint = _complaint("handling", category="quality")(dealer)
    specialist = oem_user("complaint")
    return services.step_open(
        actor=specialist, complaint=complaint, kind="vrt", members=[specialist]
    )


def _follow_up(dealer):
    complaint = _complaint("closed")(dealer)
    return complaint.follow_ups.get()


def _case(dealer):
    from aftersales.complaints import services
    from aftersales.complaints.testing import oem_user

    complaint = _complaint("handling")(dealer)
    return services.case_open(
        actor=oem_user("complaint"), kind="lawsuit", title="诉讼", complaints=[complaint]
    )


def _settings(dealer):
    from aftersales.complaints.models import ComplaintSettings

    return ComplaintSettings.current()


declare(
    Endpoint(
        "complaint-home",
        "page",
        VIEW,
        make=_complaint("handling"),
        detail=True,
        url_kwargs=_NO_KWARGS,
        ok_status=302,  # to the screen the user's role works in
        scoped=False,
    ),
    Endpoint("complaint-list", "page", VIEW, make=_complaint("handling")),
    Endpoint("complaint-detail", "page", VIEW, make=_complaint("handling"), detail=True),
    Endpoint(
        "complaint-action",
        "page",
        "complaints.comment_complaint",
        make=_complaint("handling"),
        detail=True,
        url_kwargs=lambda c: {"pk": c.pk, "action": "comment"},
        method="post",
        data=lambda c: {},
        ok_status=200,  # the complaint page with the form's error
    ),
    Endpoint(
        "complaint-new",
        "page",
        "complaints.add_complaint",
        make=_complaint("new"),
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,  # a blank form; the dealers offered are the user's own
    ),
    Endpoint(
        "complaint-new",
        "page",
        "complaints.add_complaint",
        make=_complaint("new"),
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=lambda c: {},
        scoped=False,
    ),
    Endpoint(
        "complaint-intake",
        "page",
        "complaints.judge_complaint",
        make=_complaint("new"),
        scoped=False,
    ),
    Endpoint(
        "complaint-workbench",
        "page",
        "complaints.file_complaint",
        make=_complaint("new", forwarded=True),  # the first queue: forwarded, to judge
        scoped=False,
    ),
    Endpoint(
        "complaint-vrt-tasks",
        "page",
        "complaints.support_complaint",
        make=_vrt_step,
        scoped=False,  # and the VRT's members (tests/test_pages.py)
    ),
    Endpoint(
        "complaint-follow-ups",
        "page",
        "complaints.judge_complaint",
        make=_follow_up,
        scoped=False,
    ),
    Endpoint("complaint-case-list", "page", "complaints.view_legalcase", make=_case, scoped=False),
    Endpoint(
        "complaint-case-detail",
        "page",
        "complaints.view_legalcase",
        make=_case,
        detail=True,
        scoped=False,
    ),
    Endpoint(
        "complaint-case-new",
        "page",
        "complaints.add_legalcase",
        make=_case,
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,
    ),
    Endpoint(
        "complaint-case-new",
        "page",
        "complaints.add_legalcase",
        make=_case,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=lambda case: {},
        scoped=False,
    ),
    Endpoint(
        "complaint-case-update",
        "page",
        "complaints.change_legalcase",
        make=_case,
        detail=True,
        method="post",
        data=lambda case: {},
        ok_status=302,  # nothing to change is a valid update
        scoped=False,
    ),
    Endpoint(
        "complaint-settings",
        "page",
        "complaints.view_complaintsettings",
        make=_settings,
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,
    ),
    Endpoint(
        "complaint-settings-save",
        "page",
        "complaints.change_complaintsettings",
        make=_settings,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=lambda row: {},
        scoped=False,
    ),
    Endpoint(
        "complaint-goodwill-save",
        "page",
        "complaints.change_goodwilllevel",
        make=_settings,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=lambda row: {},
        scoped=False,
    ),
)
