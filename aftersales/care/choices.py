"""Choices of customer care (SPEC §10): coupon states and reasons, greeting states."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CouponState(models.TextChoices):
    ISSUED = "issued", pgettext_lazy("coupon", "Issued")  # handed to the customer, may be redeemed
    REDEEMED = "redeemed", _("Redeemed")  # used on an invoice (single use)
    EXPIRED = "expired", _("Expired")  # not used before its last valid day
    VOID = "void", _("Void")  # withdrawn by the dealer or the OEM


class CouponReason(models.TextChoices):
    BIRTHDAY = "birthday", _("Birthday")
    HOLIDAY = "holiday", _("Holiday greeting")
    GOODWILL = "goodwill", _("Goodwill")
    CAMPAIGN = "campaign", _("Campaign")


class CouponKind(models.TextChoices):
    """What a greeting's coupon template gives (none: a greeting without a coupon)."""

    NONE = "", _("No coupon")
    AMOUNT = "amount", _("Amount off (yuan)")
    PERCENT = "percent", _("Percentage off labour and parts")


class HolidayStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")  # waits for its day
    SENT = "sent", _("Sent")  # the day's job went through every target customer
    CANCELLED = "cancelled", _("Cancelled")  # will not be sent
