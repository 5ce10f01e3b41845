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
