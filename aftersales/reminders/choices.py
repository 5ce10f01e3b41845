"""Kinds, triggers and DCRC statuses of service reminders (SPEC §10, source document 001,
steps 2-9 to 2-15)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ReminderKind(models.TextChoices):
    FIRST_SERVICE = "first_service", _("First service (首保)")
    MAINTENANCE = "maintenance", _("Maintenance (保养)")
    WARRANTY = "warranty", _("Warranty expiry (质保)")
    INSURANCE = "insurance", _("Insurance renewal (保险)")
    INSPECTION = "inspection", _("Annual inspection (年审)")
    BIRTHDAY = "birthday", _("Birthday care")
    CAMPAIGN = "campaign", _("Service campaign")
    RECALL = "recall", _("Recall")


# The order a worklist shows a vehicle's reminders in: recalls outrank everything.
KIND_PRIORITY = {
    ReminderKind.RECALL: 0,
    ReminderKind.FIRST_SERVICE: 1,
    ReminderKind.MAINTENANCE: 2,
    ReminderKind.WARRANTY: 3,
    ReminderKind.INSPECTION: 4,
    ReminderKind.INSURANCE: 5,
    ReminderKind.CAMPAIGN: 6,
    ReminderKind.BIRTHDAY: 7,
}

# Kinds that happen once in a vehicle's life: one reminder per vehicle, whatever the month.
ONCE_KINDS = (ReminderKind.FIRST_SERVICE, ReminderKind.WARRANTY)


class Trigger(models.TextChoices):
    """What made a reminder due, for the kinds that have two limits."""

    TIME = "time", pgettext_lazy("reminder trigger", "Time")  # the months ran out first
    KM = "km", _("Distance")  # the odometer reaches the limit first (estimated)


class ReminderStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("reminder status", "Open")  # no call made yet
    REMINDED = "reminded", _("Reminded")  # the owner was told
    NOT_REACHED = "not_reached", _("Not reached")  # nobody answered: call again
    DECLINED = "declined", _("Declined")  # the owner does not want to come
    BOOKED = "booked", _("Booked")  # the owner made an appointment
    WRONG_NUMBER = "wrong_number", _("Wrong number")  # the number is not the owner's


class TaskKind(models.TextChoices):
    """The DCRC's task for a reminder (SPEC 2-12/2-13): unregistered owners get no WeChat
    message, so the call is the reminder; registered ones were messaged, so it is a
    follow-up."""

    PHONE_REMINDER = "phone_reminder", _("Phone reminder")
    PHONE_FOLLOW_UP = "phone_follow_up", _("Phone follow-up")


class CampaignScope(models.TextChoices):
    NATIONAL = "national", _("National (by the OEM)")
    LOCAL = "local", _("Local (by a dealer)")


class VehicleClass(models.TextChoices):
    """Vehicle classes with an inspection schedule of their own."""

    PRIVATE_SMALL_PASSENGER = "private_small", _("Private small passenger car (not a van)")
