"""Access-matrix declarations: bookings and slots (see aftersales/testing/matrix.py)."""

import itertools

from aftersales.testing.matrix import Endpoint, declare

# The owner's booking page from a signed link needs no login (the token is the key):
# anonymous access, bad and expired tokens are tested in tests/test_booking_pages.py.

_seq = itertools.count(1)
_NO_KWARGS = lambda record: {}  # noqa: E731 - a URL reversed without arguments


def _booking(dealer):
    from aftersales.appointments.testing import make_booking

    return make_booking(dealer)


def _dealer(dealer):
    from aftersales.appointments.testing import make_capacity

    make_capacity(dealer)
    return dealer


def _new_booking(record):
    from django.utils import timezone

    from aftersales.appointments.slots import find_slots

    vehicle = record.vehicle
    first = timezone.localdate(record.starts_at)
    slot = find_slots(
        dealer=record.dealer, first=first, last=first, bay_kind="quick", hours=1, limit=40
    )[-1]
    return {
        "dealer": record.dealer_id,
        "vehicle": vehicle.pk,
        "service_type": "maintenance",
        "channel": "phone",
        "starts_at": slot.starts_at.isoformat(),
        "idempotency_key": f"matrix-booking-{next(_seq)}",
    }


def _reschedule(record):
    from datetime import timedelta

    return {
        "version": record.version,
        "starts_at": (record.starts_at + timedelta(days=1)).isoformat(),
    }


def _check_in(record):
    return {"version": record.version, "odometer_km": 20_000, "fuel_level": "50"}


declare(
    Endpoint("api:booking-list", "api", "appointments.view_booking", make=_booking),
    Endpoint("api:booking-detail", "api", "appointments.view_booking", make=_booking, detail=True),
    Endpoint(
        "api:booking-list",
        "api",
        "appointments.add_booking",
        make=_booking,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=_new_booking,
        ok_status=201,
        scoped=False,  # the dealer is in the body: another dealer's answers 404 (tested)
    ),
    Endpoint(
        "api:booking-confirm",
        "api",
        "appointments.change_booking",
        make=_booking,
        detail=True,
        method="post",
        data=lambda record: {"version": record.version},
    ),
    Endpoint(
        "api:booking-reschedule",
        "api",
        "appointments.change_booking",
        make=_booking,
        detail=True,
        method="post",
        data=_reschedule,
    ),
    Endpoint(
        "api:booking-cancel",
        "api",
        "appointments.cancel_booking",
        make=_booking,
        detail=True,
        method="post",
        data=lambda record: {"version": record.version, "reason": "客户改期"},
    ),
    Endpoint(
        "api:booking-check-in",
        "api",
        "appointments.checkin_booking",
        make=_booking,
        detail=True,
        method="post",
        data=_check_in,
        ok_status=201,
    ),
    Endpoint(
        "api:booking-slots-detail",
        "api",
        "appointments.view_booking",
        make=_dealer,
        detail=True,
    ),
    # pages (forms are sent as JSON, so the actions see no fields: they redirect back with
    # the error, 302)
    Endpoint("appointment-calendar", "page", "appointments.view_booking", make=_booking),
    Endpoint(
        "booking-new",
        "page",
        "appointments.add_booking",
        make=_booking,
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,  # the form of the user's own dealer
    ),
    Endpoint(
        "booking-slots",
        "page",
        "appointments.view_booking",
        make=_booking,
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,  # the free times of the user's own dealers
    ),
    Endpoint("booking-detail", "page", "appointments.view_booking", make=_booking, detail=True),
    Endpoint(
        "booking-confirm",
        "page",
        "appointments.change_booking",
        make=_booking,
        detail=True,
        method="post",
        ok_status=302,
    ),
    Endpoint(
        "booking-reschedule",
        "page",
        "appointments.change_booking",
        make=_booking,
        detail=True,
        method="post",
        ok_status=302,
    ),
    Endpoint(
        "booking-cancel",
        "page",
        "appointments.cancel_booking",
        make=_booking,
        detail=True,
        method="post",
        ok_status=302,
    ),
    Endpoint(
        "booking-check-in",
        "page",
        "appointments.checkin_booking",
        make=_booking,
        detail=True,
        method="post",
        ok_status=302,
    ),
)
