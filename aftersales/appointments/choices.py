"""Statuses of a booking (预约) and the one table of allowed steps (SPEC §3), the booking
channels and service types, and the day plan's job states.

``TRANSITIONS`` is what ``aftersales.appointments.bookings`` checks every status change
against; a step not in it is refused with ``illegal_transition`` (HTTP 409).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    APP = "app", _("App")
    WEB = "web", _("Website")
    WECHAT = "wechat", _("WeChat")
    WALK_IN = "walk_in", _("Walk-in")
    DCRC = "dcrc", _("DCRC outbound call")
    REMINDER = "reminder", _("Reminder link")


class ServiceType(models.TextChoices):
    MAINTENANCE = "maintenance", _("Maintenance")
    REPAIR = "repair", pgettext_lazy("service type", "Repair")
    WARRANTY = "warranty", _("Warranty")
    CAMPAIGN = "campaign", _("Campaign / recall")
    INSPECTION = "inspection", _("Inspection")


class BookingStatus(models.TextChoices):
    REQUESTED = (
        "requested",
        pgettext_lazy("booking status", "Requested"),
    )  # asked for; the dealer has not confirmed it yet
    CONFIRMED = "confirmed", _("Confirmed")  # the time is promised to the customer
    CHECKED_IN = "checked_in", _("Checked in")  # the car arrived: a repair order exists; final
    NO_SHOW = "no_show", _("No-show")  # the customer did not come within the grace time; final
    CANCELLED = "cancelled", _("Cancelled")  # called off by the customer or the dealer; final


B = BookingStatus

TRANSITIONS: dict[str, set[str]] = {
    B.REQUESTED: {B.CONFIRMED, B.CHECKED_IN, B.NO_SHOW, B.CANCELLED},
    B.CONFIRMED: {B.CHECKED_IN, B.NO_SHOW, B.CANCELLED},
    B.CHECKED_IN: set(),
    B.NO_SHOW: set(),
    B.CANCELLED: set(),
}

# Holding capacity: the slot finder counts these bookings as load.
HOLDING = {B.REQUESTED, B.CONFIRMED}
# Nothing more happens to these.
FINAL = {B.CHECKED_IN, B.NO_SHOW, B.CANCELLED}


class BookingEventKind(models.TextChoices):
    CREATED = "created", _("Booked")
    CONFIRMED = "confirmed", _("Confirmed")
    RESCHEDULED = "rescheduled", _("Rescheduled")
    CANCELLED = "cancelled", _("Cancelled")
    CHECKED_IN = "checked_in", _("Checked in")
    NO_SHOW = "no_show", _("No-show")
    MESSAGE = "message", _("Message sent")
    CHANGED = "changed", _("Changed")


class PlanStatus(models.TextChoices):
    OPTIMAL = "optimal", _("Optimal")  # CP-SAT proved it the best
    FEASIBLE = "feasible", _("Feasible")  # a good plan, not proved the best in the time given
    GREEDY = "greedy", _("First come, first served")  # no solver plan: the greedy fallback
    EMPTY = "empty", _("Nothing to plan")


def transition_diagram() -> str:
    """The transition table as a Mermaid state diagram (docs/appointments.md shows it; a
    test keeps the two equal)."""
    lines = ["stateDiagram-v2", "    [*] --> requested", "    [*] --> confirmed"]
    for source, targets in TRANSITIONS.items():
        for target in sorted(targets):
            lines.append(f"    {source} --> {target}")
    for final in sorted(FINAL):
        lines.append(f"    {final} --> [*]")
    return "\n".join(lines)
