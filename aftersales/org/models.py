"""The organisation: one OEM, its sales regions, its dealers, and the people who work there."""

import datetime

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.core.access import RestrictedQuerySet
from aftersales.core.workdays import OpeningHours, deadline
from aftersales.org.roles import ROLE_LEVEL, Level, Role

mobile_validator = RegexValidator(
    r"^1[3-9]\d{9}$", _("Enter a mainland China mobile number: 11 digits starting with 1.")
)


class Oem(models.Model):
    """The car maker (主机厂) that runs the network; there is one."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("OEM")
        verbose_name_plural = _("OEMs")

    def __str__(self):
        return self.name


class Region(models.Model):
    """A sales/after-sales region (大区) that coordinates and supervises its dealers."""

    oem = models.ForeignKey(Oem, on_delete=models.PROTECT, related_name="regions")
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)

    objects = RestrictedQuerySet.as_manager()
    access_region_field = "id"

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Dealer(models.Model):
    """A dealer (经销商 / 4S店): the service business that handles cars and owners."""

    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="dealers", verbose_name=_("region")
    )
    code = models.CharField(
        _("code"),
        max_length=12,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9]{2,12}$", _("Use 2-12 capital letters/digits."))],
    )
    name = models.CharField(_("name"), max_length=100)
    city = models.CharField(_("city"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("service phone"), max_length=30, blank=True)
    opens_at = models.TimeField(_("service opens at"), default=datetime.time(8, 30))
    closes_at = models.TimeField(_("service closes at"), default=datetime.time(18, 0))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "id"

    class Meta:
        verbose_name = _("dealer")
        verbose_name_plural = _("dealers")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    def clean(self):
        if self.opens_at and self.closes_at and self.opens_at >= self.closes_at:
            raise ValidationError({"closes_at": _("Closing time must be after opening time.")})

    @property
    def opening_hours(self) -> OpeningHours:
        return OpeningHours(open=self.opens_at, close=self.closes_at)

    def deadline(self, start, working_days: int):
        """Closing time of the n-th working day from ``start`` at this dealer (Chinese
        public holidays and make-up working days included)."""
        return deadline(start, working_days, self.opening_hours)


class StaffManager(UserManager.from_queryset(RestrictedQuerySet)):
    pass


class User(AbstractUser):
    """A person who signs in: dealer, region or OEM staff. Signs in by username or mobile."""

    mobile = models.CharField(
        _("mobile number"),
        max_length=11,
        unique=True,
        null=True,
        blank=True,
        validators=[mobile_validator],
    )
    display_name = models.CharField(_("display name"), max_length=50, blank=True)
    dealer = models.ForeignKey(
        Dealer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("home dealer"),
        help_text=_("The dealer the person works for; empty for region and OEM staff."),
    )
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("home region"),
    )

    objects = StaffManager()
    access_dealer_field = "dealer_id"
    access_region_field = None

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def __str__(self):
        return self.display_name or self.get_full_name() or self.username


class RoleAssignment(models.Model):
    """A role a person holds at one org unit (a dealer, a region, or the OEM)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    dealer = models.ForeignKey(
        Dealer, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"
    access_region_field = "region_id"

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "dealer"],
                condition=Q(dealer__isnull=False),
                name="org_role_unique_at_dealer",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "region"],
                condition=Q(region__isnull=False),
                name="org_role_unique_at_region",
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=Q(region__isnull=True, dealer__isnull=True),
                name="org_role_unique_at_oem",
            ),
            models.CheckConstraint(
                condition=Q(dealer__isnull=True) | Q(region__isnull=True),
                name="org_roleassignment_one_unit",
            ),
        ]

    def __str__(self):
        return f"{self.get_role_display()} @ {self.unit}"

    @property
    def level(self) -> str:
        return ROLE_LEVEL[self.role]

    @property
    def unit(self):
        return self.dealer or self.region or Oem.objects.first()


__all__ = ["Oem", "Region", "Dealer", "User", "RoleAssignment", "Level", "Role"]
