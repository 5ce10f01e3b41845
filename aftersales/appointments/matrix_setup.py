"""Access-matrix declarations: the workshop capacity page (see aftersales/testing/matrix.py)."""

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
