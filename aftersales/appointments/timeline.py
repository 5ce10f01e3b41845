"""Bookings in the customer 360 timeline (issue 7 item 9): each booking of the customer
the viewer may see, at the time it was made, with when the car is (or was) expected and
what became of it. Autodiscovered by ``crm.timeline.customer_timeline``; one query of at
most ``limit`` rows, scoped with ``restrict``."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.crm.timeline import TimelineEntry, timeline_source


@timeline_source("appointments.booking")
def booking_entries(customer, user, limit, before):
    from aftersales.appointments.models import Booking

    rows = (
        Booking.objects.restrict(user, "view")
        .filter(customer=customer)
        .select_related("dealer", "vehicle")
    )
    if before is not None:
        rows = rows.filter(created_at__lt=before)
    for booking in rows.order_by("-created_at", "-id")[:limit]:
        yield TimelineEntry(
            at=booking.created_at,
            kind="appointments.booking",
            title=_("Booking %(number)s for %(when)s: %(service)s (%(status)s)")
            % {
                "number": booking.number,
                "when": timezone.localtime(booking.starts_at).strftime("%Y-%m-%d %H:%M"),
                "service": booking.get_service_type_display(),
                "status": booking.get_status_display(),
            },
            detail=_("%(plate)s · %(dealer)s · via %(channel)s")
            % {
                "plate": booking.vehicle.plate or booking.vehicle.vin,
                "dealer": booking.dealer.name,
                "channel": booking.get_channel_display(),
            },
            url=reverse("booking-detail", args=[booking.pk]),
            icon="calendar-check",
        )
