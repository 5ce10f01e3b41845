"""Appointments and workshop scheduling (SPEC §3): each dealer's capacity (schedule
settings, closed days, technicians with their skills and shifts, service advisors with
their reception hours, absences), the bookings taken from every channel with their
history, and the foreman's day plan.

The bays themselves are ``workorders.WorkshopBay``; the dealer's opening hours are
``workorders.ServiceSettings.workday_start/workday_end`` (one place for both the promised
completion times and the booking calendar).
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.appointments.choices import (
    BookingEventKind,
    BookingStatus,
    Channel,
    PlanStatus,
    ServiceType,
)
from aftersales.core.access import RestrictedQuerySet
from aftersales.workorders.choices import BayKind

USER = settings.AUTH_USER_MODEL
HOURS = {"max_digits": 6, "decimal_places": 2}
ALL_WEEKDAYS = [0, 1, 2, 3, 4, 5, 6]  # Monday = 0, as datetime.date.weekday()


def _all_weekdays():
    return list(ALL_WEEKDAYS)


class ScheduleSettings(models.Model):
    """A dealer's booking rules: which weekdays the service department opens, whether it
    closes on the official public holidays, the calendar grid, how long an advisor's
    reception takes, the grace time before a no-show and how far ahead customers book.
    ``for_dealer`` gives the defaults when the dealer has saved none. The row is also the
    dealer's booking lock: bookings are written with it locked, so two bookings racing for
    the last slot are serialised and the second sees the first."""

    dealer = models.OneToOneField(
        "org.Dealer", on_delete=models.PROTECT, related_name="schedule_settings"
    )
    open_weekdays = models.JSONField(
        _("open on weekdays"), default=_all_weekdays
    )  # [0..6], Monday = 0; Chinese 4S service departments usually open every day
    closed_on_public_holidays = models.BooleanField(
        _("closed on the official public holidays"), default=False
    )
    slot_minutes = models.PositiveSmallIntegerField(
        _("calendar step (minutes)"),
        default=15,
        validators=[MinValueValidator(5), MaxValueValidator(60)],
    )
    reception_minutes = models.PositiveSmallIntegerField(
        _("reception time per booking (minutes)"),
        default=15,
        validators=[MinValueValidator(5), MaxValueValidator(120)],
    )
    no_show_grace_minutes = models.PositiveSmallIntegerField(
        _("no-show after (minutes late)"), default=30, validators=[MinValueValidator(5)]
    )
    horizon_days = models.PositiveSmallIntegerField(
        _("bookable days ahead"), default=30, validators=[MinValueValidator(1)]
    )
    reminder_hour = models.PositiveSmallIntegerField(
        _("send the day-before reminder at (hour)"),
        default=10,
        validators=[MinValueValidator(6), MaxValueValidator(21)],
    )

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("booking settings")
        verbose_name_plural = _("booking settings")

    def __str__(self):
        return str(self.dealer)

    @classmethod
    def for_dealer(cls, dealer) -> "ScheduleSettings":
        dealer_id = getattr(dealer, "pk", dealer)
        found = cls.objects.filter(dealer_id=dealer_id).first()
        return found or cls(dealer_id=dealer_id)


class ClosedDay(models.Model):
    """A day the dealer's service department is closed (besides its weekly closed days and,
    when it says so, the public holidays): stocktake day, company event."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    day = models.DateField(_("day"))
    reason = models.CharField(_("reason"), max_length=100)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("closed day")
        verbose_name_plural = _("closed days")
        ordering = ["dealer_id", "day"]
        constraints = [
            models.UniqueConstraint(fields=["dealer", "day"], name="appointments_closed_once")
        ]

    def __str__(self):
        return f"{self.day} {self.reason}"


# no break (both empty) or one that ends after it starts
BREAK_VALID = Q(break_start__isnull=True, break_end__isnull=True) | Q(
    break_end__gt=models.F("break_start")
)


class Technician(models.Model):
    """A technician's place in the workshop's capacity: the bay kinds and operation
    categories they may work on (skills) and their weekly shift."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    bay_kinds = models.JSONField(_("bay kinds"), default=list)  # [BayKind]
    categories = models.JSONField(_("operation categories"), default=list)  # [OperationCategory]
    weekdays = models.JSONField(_("works on weekdays"), default=_all_weekdays)  # [0..6]
    shift_start = models.TimeField(_("shift starts"), default="08:30")
    shift_end = models.TimeField(_("shift ends"), default="17:30")
    # a daily break within the shift (lunch); none when both are empty. A job may run
    # over it: the technician pauses and the car stays in its bay.
    break_start = models.TimeField(_("break from"), null=True, blank=True)
    break_end = models.TimeField(_("break until"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("technician")
        verbose_name_plural = _("technicians")
        ordering = ["dealer_id", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["dealer", "user"], name="appointments_tech_once"),
            models.CheckConstraint(
                condition=Q(shift_end__gt=models.F("shift_start")),
                name="appointments_tech_shift_forward",
            ),
            models.CheckConstraint(condition=BREAK_VALID, name="appointments_tech_break"),
        ]

    def __str__(self):
        return str(self.user)


class Advisor(models.Model):
    """A service advisor's reception hours: bookings are received by an advisor, one at a
    time, for ``ScheduleSettings.reception_minutes`` each."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    weekdays = models.JSONField(_("receives on weekdays"), default=_all_weekdays)
    reception_start = models.TimeField(_("reception from"), default="08:30")
    reception_end = models.TimeField(_("reception until"), default="17:00")
    # a daily break within the reception hours; none when both are empty
    break_start = models.TimeField(_("break from"), null=True, blank=True)
    break_end = models.TimeField(_("break until"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("service advisor")
        verbose_name_plural = _("service advisors")
        ordering = ["dealer_id", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["dealer", "user"], name="appointments_advisor_once"),
            models.CheckConstraint(
                condition=Q(reception_end__gt=models.F("reception_start")),
                name="appointments_advisor_hours_forward",
            ),
            models.CheckConstraint(condition=BREAK_VALID, name="appointments_advisor_break"),
        ]

    def __str__(self):
        return str(self.user)


class Absence(models.Model):
    """A technician or advisor away (leave, training, sick) from ``starts_at`` to
    ``ends_at``: no capacity then."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=100, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, related_name="+")

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["dealer_id", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="appointments_absence_forward"
            )
        ]
        indexes = [models.Index(fields=["dealer", "starts_at"], name="appointments_absence_day")]

    def __str__(self):
        return f"{self.user} {self.starts_at:%Y-%m-%d}"


class Booking(models.Model):
    """A booking (预约): a vehicle expected at a dealer at a time for a service, holding
    an advisor's reception slot, a bay and a technician for the standard hours of its
    operations. Its status changes only through the transition table; every change is a
    ``BookingEvent``."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("booking number"), max_length=30, unique=True)
    status = models.CharField(
        _("status"), max_length=12, choices=BookingStatus.choices, default=BookingStatus.REQUESTED
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    service_type = models.CharField(_("service type"), max_length=12, choices=ServiceType.choices)
    vehicle = models.ForeignKey(
        "crm.Vehicle", on_delete=models.PROTECT, related_name="bookings", verbose_name=_("vehicle")
    )
    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bookings",
        verbose_name=_("customer"),
    )
    contact_name = models.CharField(_("contact"), max_length=50, blank=True)
    contact_mobile = models.CharField(_("contact mobile"), max_length=20, blank=True)
    concern = models.TextField(_("concern"), blank=True)
    package = models.ForeignKey(
        "workorders.MaintenancePackage",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("maintenance package"),
    )
    bay_kind = models.CharField(
        _("bay kind"), max_length=10, choices=BayKind.choices, default=BayKind.GENERAL
    )
    hours = models.DecimalField(_("standard hours"), default=Decimal("1"), **HOURS)
    starts_at = models.DateTimeField(_("arrives at"), db_index=True)
    ends_at = models.DateTimeField(_("work done by"))  # starts_at + the hours on the grid
    advisor = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("service advisor")
    )
    bay = models.ForeignKey(
        "workorders.WorkshopBay",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("bay"),
    )
    technician = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("technician")
    )
    repair_order = models.OneToOneField(
        "workorders.RepairOrder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="booking",
        verbose_name=_("repair order"),
    )
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, related_name="+")
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    no_show_at = models.DateTimeField(_("marked no-show"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)
    reschedules = models.PositiveSmallIntegerField(_("rescheduled"), default=0)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("booked"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"
    audit_exclude = {"version"}

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["starts_at", "id"]
        indexes = [
            # the calendar and the slot finder: a dealer's bookings by time
            models.Index(fields=["dealer", "starts_at"], name="appointments_booking_day"),
            models.Index(fields=["vehicle", "-starts_at"], name="appointments_booking_vehicle"),
            models.Index(fields=["customer", "-starts_at"], name="appointments_booking_customer"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="appointments_booking_forward"
            )
        ]
        permissions = [
            ("checkin_booking", "Check in booked cars"),
            ("cancel_booking", "Cancel bookings"),
        ]

    def __str__(self):
        return self.number


class BookingOperation(models.Model):
    """A labour operation the booking plans, with its standard hours for the vehicle."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="operations")
    operation = models.ForeignKey(
        "workorders.LabourOperation", on_delete=models.PROTECT, related_name="+"
    )
    hours = models.DecimalField(_("standard hours"), **HOURS)

    class Meta:
        ordering = ["booking_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "operation"], name="appointments_booking_op_once"
            )
        ]

    def __str__(self):
        return f"{self.operation_id} {self.hours} h"


class BookingEvent(models.Model):
    """One step in a booking's history: booked, confirmed, moved (from and to), cancelled,
    checked in, no-show, message sent. Append-only."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("what"), max_length=12, choices=BookingEventKind.choices)
    actor = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, related_name="+")
    actor_label = models.CharField(max_length=100, blank=True)  # name at the time, or the job
    from_starts_at = models.DateTimeField(null=True, blank=True)
    to_starts_at = models.DateTimeField(null=True, blank=True)
    message = models.CharField(_("message"), max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("booking event")
        verbose_name_plural = _("booking events")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.booking_id} {self.kind}"


class DayPlan(models.Model):
    """The foreman's plan of one workshop day: which technician and bay take each job and
    when. Re-optimising replaces the unpinned jobs; ``revision`` counts the runs."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    day = models.DateField(_("day"))
    status = models.CharField(
        _("plan"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.EMPTY
    )
    revision = models.PositiveIntegerField(default=0)
    objective = models.BigIntegerField(null=True, blank=True)
    bound = models.BigIntegerField(null=True, blank=True)  # the best bound the solver proved
    solve_seconds = models.FloatField(null=True, blank=True)
    late_minutes = models.PositiveIntegerField(_("minutes late in all"), default=0)
    idle_minutes = models.PositiveIntegerField(_("idle technician minutes"), default=0)
    unplaced = models.JSONField(default=list, blank=True)  # [{"job": key, "reason": text}]
    planned_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, related_name="+")
    planned_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("day plan")
        verbose_name_plural = _("day plans")
        ordering = ["dealer_id", "-day"]
        constraints = [
            models.UniqueConstraint(fields=["dealer", "day"], name="appointments_plan_once")
        ]

    def __str__(self):
        return f"{self.dealer_id} {self.day}"


class PlannedJob(models.Model):
    """One job on the day plan: a labour line of an open repair order, or a booking not
    yet arrived, on a technician and a bay from ``starts_at`` to ``ends_at``. A pinned job
    stays where the foreman put it when the rest is re-optimised."""

    plan = models.ForeignKey(DayPlan, on_delete=models.CASCADE, related_name="jobs")
    line = models.ForeignKey(
        "workorders.RepairOrderLine",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    booking = models.ForeignKey(
        Booking, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    technician = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    bay = models.ForeignKey("workorders.WorkshopBay", on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    due_at = models.DateTimeField(_("promised"), null=True, blank=True)
    late_minutes = models.PositiveIntegerField(default=0)
    pinned = models.BooleanField(_("pinned"), default=False)

    class Meta:
        verbose_name = _("planned job")
        verbose_name_plural = _("planned jobs")
        ordering = ["plan_id", "starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(line__isnull=False) & Q(booking__isnull=True))
                | (Q(line__isnull=True) & Q(booking__isnull=False)),
                name="appointments_job_line_or_booking",
            ),
            models.UniqueConstraint(fields=["plan", "line"], name="appointments_job_line_once"),
            models.UniqueConstraint(
                fields=["plan", "booking"], name="appointments_job_booking_once"
            ),
        ]

    def __str__(self):
        return f"{self.plan_id} {self.starts_at:%H:%M}"

    @property
    def key(self) -> str:
        return f"line:{self.line_id}" if self.line_id else f"booking:{self.booking_id}"
