"""Access-matrix declarations: the workshop capacity page (see aftersales/testing/matrix.py)."""

import datetime

from aftersales.testing.matrix import Endpoint, declare


def _settings(dealer):
    from aftersales.appointments.models import ScheduleSettings
    from aftersales.appointments.testing import make_capacity

    make_capacity(dealer)
    return ScheduleSettings.objects.get(dealer=dealer)


declare(
    Endpoint("schedule-setup", "page", "appointments.view_schedulesettings", make=_settings),
    Endpoint(
        "schedule-setup",
        "page",
        "appointments.change_schedulesettings",
        make=_settings,
        detail=True,
        url_kwargs=lambda record: {},
        method="post",
        ok_status=302,
        scoped=False,  # the dealers the user holds the permission at, never another one
    ),
)


# ---------------------------------------------------------------- the capacity API

VIEW, CHANGE = "appointments.view_schedulesettings", "appointments.change_schedulesettings"
_NO_KWARGS = lambda record: {}  # noqa: E731 - a URL reversed without arguments


def _closed(dealer):
    from django.utils import timezone

    from aftersales.appointments.models import ClosedDay

    return ClosedDay.objects.create(
        dealer=dealer, day=timezone.localdate() + datetime.timedelta(days=20), reason="盘点"
    )


def _technician(dealer):
    from aftersales.appointments.testing import make_technician

    return make_technician(dealer)


def _advisor(dealer):
    from aftersales.appointments.testing import make_advisor

    return make_advisor(dealer)


def _role_holder(role):
    def make(dealer):
        from aftersales.appointments.testing import make_user

        return make_user(dealer, role)

    return make


def _absence(dealer):
    from django.utils import timezone

    from aftersales.appointments.models import Absence

    starts = timezone.now() + datetime.timedelta(days=2)
    return Absence.objects.create(
        dealer=dealer,
        user=_technician(dealer).user,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=4),
        reason="培训",
    )


def _absence_data(record):
    return {
        "dealer": record.dealer_id,
        "user": record.user_id,
        "starts_at": (record.starts_at + datetime.timedelta(days=1)).isoformat(),
        "ends_at": (record.ends_at + datetime.timedelta(days=1)).isoformat(),
        "reason": "年假",
    }


def _crud(name, make, *, create=None, update=None, delete=False, create_status=201):
    """list + detail (view); create (change, the dealer in the body), update, delete."""
    endpoints = [
        Endpoint(f"api:{name}-list", "api", VIEW, make=make),
        Endpoint(f"api:{name}-detail", "api", VIEW, make=make, detail=True),
    ]
    if create is not None:
        maker, data = create
        endpoints.append(
            Endpoint(
                f"api:{name}-list",
                "api",
                CHANGE,
                make=maker,
                detail=True,
                url_kwargs=_NO_KWARGS,
                method="post",
                data=data,
                ok_status=create_status,
                scoped=False,  # the dealer is in the body: another dealer's is 404 (tested)
            )
        )
    if update is not None:
        endpoints.append(
            Endpoint(
                f"api:{name}-detail",
                "api",
                CHANGE,
                make=make,
                detail=True,
                method="patch",
                data=update,
            )
        )
    if delete:
        endpoints.append(
            Endpoint(
                f"api:{name}-detail",
                "api",
                CHANGE,
                make=make,
                detail=True,
                method="delete",
                ok_status=204,
            )
        )
    return endpoints


declare(
    *_crud(
        "schedule-settings",
        _settings,
        create=(_settings, lambda record: {"dealer": record.dealer_id, "slot_minutes": 30}),
        create_status=200,  # the row exists: saved again
        update=lambda record: {"reception_minutes": 20},
    ),
    *_crud(
        "closed-day",
        _closed,
        create=(
            _closed,
            lambda record: {
                "dealer": record.dealer_id,
                "day": (record.day + datetime.timedelta(days=1)).isoformat(),
                "reason": "公司活动",
            },
        ),
        delete=True,
    ),
    *_crud(
        "technician",
        _technician,
        create=(
            _role_holder("technician"),
            lambda user: {"dealer": user.dealer_id, "user": user.pk, "bay_kinds": ["general"]},
        ),
        update=lambda record: {"shift_end": "17:00", "categories": ["maintenance"]},
    ),
    *_crud(
        "advisor",
        _advisor,
        create=(
            _role_holder("service_advisor"),
            lambda user: {"dealer": user.dealer_id, "user": user.pk, "weekdays": [0, 1, 2, 3, 4]},
        ),
        update=lambda record: {"reception_end": "16:30"},
    ),
    *_crud("absence", _absence, create=(_absence, _absence_data), delete=True),
)
