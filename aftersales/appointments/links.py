"""The owner's booking link (SPEC §3): a signed token in a reminder or a campaign message
that opens the booking page with the dealer, the vehicle, the service type and (when
given) the maintenance package already filled in.

The token is signed with the site's secret (``django.core.signing``) and expires after
``LINK_MAX_AGE``: nobody can change what it carries, and an old message stops working.
It carries ids only (no name, plate or mobile), so a forwarded link reveals nothing; the
page still asks for the contact mobile before it books.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core import signing
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from aftersales.appointments.choices import ServiceType
from aftersales.core.errors import NotFound, ValidationFailed

# A campaign runs for weeks; a link older than this is refused as expired.
LINK_MAX_AGE = datetime.timedelta(days=45)
SALT = "aftersales.appointments.booking-link"
URL_NAME = "booking-link"  # the owner's booking page, /appointments/book/<token>/


@dataclass(frozen=True)
class BookingLink:
    """What an owner's link pre-fills."""

    dealer: object  # org.Dealer
    vehicle: object  # crm.Vehicle
    service_type: str
    package: object | None  # workorders.MaintenancePackage


def booking_token(*, dealer, vehicle, service_type: str, package=None) -> str:
    """The signed token of a link for ``vehicle`` to book ``service_type`` at ``dealer``."""
    if service_type not in ServiceType.values:
        message = _("Choose the service type.")
        raise ValidationFailed(message, fields={"service_type": [message]})
    data = {
        "d": getattr(dealer, "pk", dealer),
        "v": getattr(vehicle, "pk", vehicle),
        "s": service_type,
    }
    if package is not None:
        data["p"] = getattr(package, "pk", package)
    return signing.dumps(data, salt=SALT, compress=True)


def booking_link(*, dealer, vehicle, service_type: str, package=None) -> str:
    """The URL path of the owner's booking page for ``vehicle`` (put the site's address in
    front of it in a message)."""
    token = booking_token(
        dealer=dealer, vehicle=vehicle, service_type=service_type, package=package
    )
    try:
        return reverse(URL_NAME, args=[token])
    except NoReverseMatch:  # the page is not routed (yet): the path it will have
        return f"/appointments/book/{token}/"


def read_booking_link(token: str, *, max_age: datetime.timedelta = LINK_MAX_AGE) -> BookingLink:
    """The dealer, vehicle, service type and package a link carries. A token that was
    tampered with or cut short answers ``link_invalid`` (404), an old one ``link_expired``
    (400, with what to do); a dealer, vehicle or package no longer there ``not_found``."""
    from aftersales.crm.models import Vehicle
    from aftersales.org.models import Dealer
    from aftersales.workorders.models import MaintenancePackage

    try:
        data = signing.loads(token or "", salt=SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise ValidationFailed(
            _("This booking link has expired. Call the dealer or ask for a new link."),
            code="link_expired",
        ) from None
    except signing.BadSignature:
        raise NotFound(_("This booking link is not valid."), code="link_invalid") from None
    if not isinstance(data, dict) or data.get("s") not in ServiceType.values:
        raise NotFound(_("This booking link is not valid."), code="link_invalid")
    dealer = Dealer.objects.filter(pk=data.get("d"), active=True).first()
    vehicle = Vehicle.objects.select_related("owner").filter(pk=data.get("v")).first()
    package = None
    if data.get("p") is not None:
        package = MaintenancePackage.objects.filter(pk=data["p"], active=True).first()
        if package is None:
            raise NotFound(_("The service package of this link is no longer offered."))
    if dealer is None or vehicle is None:
        raise NotFound(_("The dealer or the vehicle of this link no longer exists."))
    return BookingLink(dealer=dealer, vehicle=vehicle, service_type=data["s"], package=package)
