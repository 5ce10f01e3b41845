"""Access-matrix declarations of the DCRC worklist API (see aftersales/testing/matrix.py)."""

from aftersales.testing.matrix import Endpoint, declare

VIEW = "reminders.view_reminder"
_NO_KWARGS = lambda record: {}  # noqa: E731 - a list URL reversed without arguments


def _reminder(dealer):
    from aftersales.reminders.testing import make_reminder

    return make_reminder(dealer)


def _assign_data(record):
    from aftersales.appointments.testing import make_user

    return {"ids": [record.pk], "agent": make_user(record.dealer, "dcrc_agent").pk}


declare(
    Endpoint("api:reminder-list", "api", VIEW, make=_reminder),
    Endpoint("api:reminder-detail", "api", VIEW, make=_reminder, detail=True),
    Endpoint(
        "api:reminder-vehicle-sheet",
        "api",
        VIEW,
        make=_reminder,
        detail=True,
        url_kwargs=lambda record: {"vehicle_id": record.vehicle_id},
    ),
    Endpoint(
        "api:reminder-call",
        "api",
        "reminders.work_reminder",
        make=_reminder,
        detail=True,
        method="post",
        data=lambda record: {"outcome": "reminded", "note": "已提醒"},
    ),
    Endpoint(
        "api:reminder-assign",
        "api",
        "reminders.assign_reminder",
        make=_reminder,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=_assign_data,
    ),
)
