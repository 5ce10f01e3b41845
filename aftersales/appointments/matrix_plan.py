"""Access-matrix declarations: day plans (see aftersales/testing/matrix.py)."""

from aftersales.testing.matrix import Endpoint, declare

_NO_KWARGS = lambda record: {}  # noqa: E731 - a URL reversed without arguments


def _plan(dealer):
    from aftersales.appointments.testing import make_day_plan

    return make_day_plan(dealer)


def _job(record):
    return record.jobs.order_by("id").first()


VIEW, CHANGE = "appointments.view_dayplan", "appointments.change_dayplan"

declare(
    Endpoint("api:day-plan-list", "api", VIEW, make=_plan),
    Endpoint("api:day-plan-detail", "api", VIEW, make=_plan, detail=True),
    Endpoint(
        "api:day-plan-list",
        "api",
        CHANGE,
        make=_plan,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=lambda record: {"dealer": record.dealer_id, "day": record.day.isoformat()},
        ok_status=201,
        scoped=False,  # the dealer is in the body: another dealer's answers 404 (tested)
    ),
    Endpoint("api:day-plan-optimise", "api", CHANGE, make=_plan, detail=True, method="post"),
    Endpoint(
        "api:day-plan-pin",
        "api",
        CHANGE,
        make=_plan,
        detail=True,
        method="post",
        data=lambda record: {"job": _job(record).pk, "pinned": True},
    ),
    Endpoint(
        "api:day-plan-move",
        "api",
        CHANGE,
        make=_plan,
        detail=True,
        method="post",
        data=lambda record: {
            "job": _job(record).pk,
            "technician": _job(record).technician_id,
            "bay": _job(record).bay_id,
            "starts_at": _job(record).starts_at.isoformat(),
        },
    ),
)


def _job_record(dealer):
    return _job(_plan(dealer))


def _plan_today(dealer):
    from django.utils import timezone

    from aftersales.appointments.dayplan import day_plan_build
    from aftersales.appointments.testing import make_capacity

    make_capacity(dealer)
    return day_plan_build(actor=None, dealer=dealer, day=timezone.localdate(), time_limit=1.0)


declare(
    Endpoint("day-plan", "page", VIEW, make=_plan_today),
    Endpoint(
        "day-plan-optimise",
        "page",
        CHANGE,
        make=_plan,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        ok_status=302,
        scoped=False,  # the dealers the user holds the permission at, never another one
    ),
    Endpoint(
        "planned-job-pin",
        "page",
        CHANGE,
        make=_job_record,
        detail=True,
        method="post",
        ok_status=302,
    ),
    Endpoint(
        "planned-job-move",
        "page",
        CHANGE,
        make=_job_record,
        detail=True,
        method="post",
        ok_status=302,
    ),
)
