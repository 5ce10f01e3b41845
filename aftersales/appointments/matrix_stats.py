"""Access-matrix declarations: booking statistics (see aftersales/testing/matrix.py)."""

from aftersales.testing.matrix import Endpoint, declare


def _booking(dealer):
    from aftersales.appointments.testing import make_booking

    return make_booking(dealer)


declare(
    Endpoint(
        "api:booking-stats-list",
        "api",
        "appointments.view_booking",
        make=_booking,
        detail=True,
        url_kwargs=lambda record: {},
        scoped=False,  # figures of the reader's own scope (tested in test_stats.py)
    ),
    Endpoint("appointment-stats", "page", "appointments.view_booking", make=_booking),
)
