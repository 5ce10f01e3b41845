"""Service reminders (SPEC §10): the OEM's reminder rules, the inspection schedule, service
campaigns, recalls and the reminders themselves: one row per vehicle, kind and due month,
computed set-based by the monthly run (``aftersales.reminders.monthly``) and worked by the
dealer's DCRC."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.core.access import RestrictedQuerySet
from aftersales.core.models import MessageChannel
from aftersales.reminders.choices import (
    ONCE_KINDS,
    CampaignScope,
    ReminderKind,
    ReminderStatus,
    TaskKind,
    Trigger,
    VehicleClass,
)


class ReminderSettings(models.Model):
    """The OEM's reminder rules (one row): the return window, how a vehicle's distance per
    day is estimated from its odometer history, and when lapsed owners stop being
    reminded."""

    return_window_days = models.PositiveSmallIntegerField(
        _("returned within (days after the due date)"),
        default=45,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    default_km_per_day = models.PositiveSmallIntegerField(
        _("default distance per day (km)"),
        default=40,
        validators=[MinValueValidator(1), MaxValueValidator(500)],
        help_text=_("Used when a vehicle's odometer history is too thin for an estimate."),
    )
    min_km_per_day = models.PositiveSmallIntegerField(
        _("lowest estimate (km per day)"), default=3, validators=[MinValueValidator(1)]
    )
    max_km_per_day = models.PositiveSmallIntegerField(
        _("highest estimate (km per day)"), default=300, validators=[MinValueValidator(1)]
    )
    history_days = models.PositiveSmallIntegerField(
        _("estimate from the readings of the last (days)"),
        default=730,
        validators=[MinValueValidator(30)],
    )
    min_history_days = models.PositiveSmallIntegerField(
        _("readings must span at least (days)"), default=30, validators=[MinValueValidator(1)]
    )
    lapsed_after_months = models.PositiveSmallIntegerField(
        _("stop maintenance reminders after (months overdue)"),
        default=24,
        validators=[MinValueValidator(1)],
    )
    quiet_from = models.TimeField(_("no calls or messages from"), null=True, blank=True)
    quiet_until = models.TimeField(_("no calls or messages until"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("reminder rules")
        verbose_name_plural = _("reminder rules")

    def __str__(self):
        return str(_("reminder rules"))

    @classmethod
    def current(cls) -> "ReminderSettings":
        """The saved rules, or the defaults (unsaved) while the OEM has not set any."""
        return cls.objects.order_by("pk").first() or cls()


class InspectionStep(models.Model):
    """One line of an annual-inspection schedule (年审): an inspection is due every
    ``every_months`` from ``from_month`` to ``until_month`` (months after registration,
    both included; no end when empty). The default schedule (private small passenger
    cars, rules in force since October 2022) is ``schedule.DEFAULT_INSPECTION_STEPS``;
    rows here replace it for their vehicle class."""

    vehicle_class = models.CharField(
        _("vehicle class"),
        max_length=20,
        choices=VehicleClass.choices,
        default=VehicleClass.PRIVATE_SMALL_PASSENGER,
    )
    from_month = models.PositiveSmallIntegerField(
        _("from (months after registration)"), validators=[MinValueValidator(1)]
    )
    until_month = models.PositiveSmallIntegerField(
        _("until (months after registration)"), null=True, blank=True
    )
    every_months = models.PositiveSmallIntegerField(
        _("every (months)"), validators=[MinValueValidator(1)]
    )
    on_site = models.BooleanField(_("on-site test needed"), default=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("inspection schedule step")
        verbose_name_plural = _("inspection schedule")
        ordering = ["vehicle_class", "from_month"]

    def __str__(self):
        return f"{self.from_month}-{self.until_month or '…'}/{self.every_months}"


class Campaign(models.Model):
    """A service campaign (服务活动, source 2-7): national ones by the OEM, local ones by a
    dealer for its own vehicles. Its target says which vehicles are reminded: models,
    model years, regions, last visit before a date (all that are given must hold)."""

    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("content"), blank=True)
    scope = models.CharField(_("scope"), max_length=10, choices=CampaignScope.choices)
    dealer = models.ForeignKey(
        "org.Dealer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dealer"),
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    vehicle_models = models.ManyToManyField(
        "catalogue.VehicleModel", blank=True, related_name="+", verbose_name=_("vehicle models")
    )
    model_years = models.JSONField(_("model years"), default=list, blank=True)
    regions = models.ManyToManyField(
        "org.Region", blank=True, related_name="+", verbose_name=_("regions")
    )
    last_visit_before = models.DateField(_("last visit before"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("service campaign")
        verbose_name_plural = _("service campaigns")
        ordering = ["-starts_on", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scope=CampaignScope.NATIONAL, dealer__isnull=True)
                | Q(scope=CampaignScope.LOCAL, dealer__isnull=False),
                name="reminders_campaign_scope_dealer",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="reminders_campaign_dates",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class Recall(models.Model):
    """A recall (召回) of the OEM: the affected vehicles come as an uploaded VIN list; each
    vehicle's reminder stays open until the recall work is done on it."""

    code = models.CharField(_("code"), max_length=30, unique=True)
    title = models.CharField(_("title"), max_length=100)
    remedy = models.TextField(_("remedy"), blank=True)
    starts_on = models.DateField(_("starts on"))
    operation = models.ForeignKey(
        "workorders.LabourOperation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("labour operation of the recall work"),
        help_text=_(
            "A repair order delivered with this operation finished marks the vehicle done."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("recall")
        verbose_name_plural = _("recalls")
        ordering = ["-starts_on", "code"]

    def __str__(self):
        return f"{self.code} {self.title}"


class RecallVehicle(models.Model):
    """One vehicle of a recall's VIN list, and whether the recall work was done on it."""

    recall = models.ForeignKey(Recall, on_delete=models.CASCADE, related_name="vehicles")
    vehicle = models.ForeignKey("crm.Vehicle", on_delete=models.PROTECT, related_name="+")
    line = models.PositiveIntegerField(_("line of the uploaded list"))
    done_on = models.DateField(_("work done on"), null=True, blank=True)
    done_order = models.ForeignKey(
        "workorders.RepairOrder", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("recalled vehicle")
        verbose_name_plural = _("recalled vehicles")
        constraints = [
            models.UniqueConstraint(fields=["recall", "vehicle"], name="reminders_recall_vehicle")
        ]

    def __str__(self):
        return f"{self.recall_id}: {self.vehicle_id}"


class Reminder(models.Model):
    """One reminder of one vehicle for one kind and due date (车辆提醒单 line): computed by
    the monthly run for the month it is due in, belonging to the dealer that serves the
    vehicle, and worked by that dealer's DCRC: a phone reminder for an unregistered owner,
    a phone follow-up for a registered one (who had a WeChat message). It counts as
    returned when the vehicle opens a repair order within the return window."""

    kind = models.CharField(_("kind"), max_length=15, choices=ReminderKind.choices)
    month = models.DateField(_("month"), help_text=_("The first day of the month it is due in."))
    due_date = models.DateField(_("due date"))
    trigger = models.CharField(
        _("due by"), max_length=4, choices=Trigger.choices, blank=True, default=""
    )
    due_km = models.PositiveIntegerField(_("due at (km)"), null=True, blank=True)
    on_site = models.BooleanField(_("on-site inspection"), default=False)
    # indexes: a reminder row is written by the hundred thousand each month, so only the
    # indexes the screens and jobs use (the unique keys lead with the vehicle; the dealer's
    # worklist index leads with the dealer)
    vehicle = models.ForeignKey(
        "crm.Vehicle",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("vehicle"),
        db_index=False,
    )
    customer = models.ForeignKey(
        "crm.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    dealer = models.ForeignKey(
        "org.Dealer",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("dealer"),
        db_index=False,
    )
    registered = models.BooleanField(_("owner registered on WeChat"), default=False)
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
        verbose_name=_("service campaign"),
        db_index=False,
    )
    recall = models.ForeignKey(
        Recall,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
        verbose_name=_("recall"),
        db_index=False,
    )
    status = models.CharField(
        _("status"), max_length=15, choices=ReminderStatus.choices, default=ReminderStatus.OPEN
    )
    status_at = models.DateTimeField(_("status since"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("calls made"), default=0)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("DCRC agent"),
        db_index=False,
    )
    note = models.TextField(_("notes"), blank=True)
    last_call_at = models.DateTimeField(_("last call at"), null=True, blank=True)
    next_call_at = models.DateTimeField(_("call again at"), null=True, blank=True)
    booking = models.ForeignKey(
        "appointments.Booking",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("booking"),
        db_index=False,
    )
    return_by = models.DateField(_("counts as returned until"))
    returned_order = models.ForeignKey(
        "workorders.RepairOrder",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("returned with repair order"),
        db_index=False,
    )
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("service reminder")
        verbose_name_plural = _("service reminders")
        ordering = ["due_date", "id"]
        permissions = [
            ("work_reminder", "Work the reminder list and record call outcomes"),
            ("assign_reminder", "Assign reminders to DCRC agents"),
            ("export_reminder", "Reminder statistics and exports"),
        ]
        constraints = [
            # a re-run of the monthly job never duplicates: one row per vehicle, kind and
            # month; once-in-a-life kinds once per vehicle; campaigns and recalls once each
            models.UniqueConstraint(
                fields=["vehicle", "kind", "month"],
                condition=Q(campaign__isnull=True, recall__isnull=True),
                name="reminders_once_a_month",
            ),
            models.UniqueConstraint(
                fields=["vehicle", "kind"],
                condition=Q(kind__in=ONCE_KINDS),
                name="reminders_once_a_life",
            ),
            models.UniqueConstraint(
                fields=["vehicle", "campaign"],
                condition=Q(campaign__isnull=False),
                name="reminders_once_a_campaign",
            ),
            models.UniqueConstraint(
                fields=["vehicle", "recall"],
                condition=Q(recall__isnull=False),
                name="reminders_once_a_recall",
            ),
        ]
        indexes = [
            models.Index(fields=["dealer", "month", "status"], name="reminders_dealer_month"),
            models.Index(fields=["month", "kind"], name="reminders_month_kind"),
            models.Index(fields=["return_by"], name="reminders_return_by"),
            models.Index(
                fields=["campaign"],
                condition=Q(campaign__isnull=False),
                name="reminders_by_campaign",
            ),
            models.Index(
                fields=["recall"], condition=Q(recall__isnull=False), name="reminders_by_recall"
            ),
            models.Index(
                fields=["assigned_to", "month"],
                condition=Q(assigned_to__isnull=False),
                name="reminders_agent_month",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.due_date}"

    @property
    def task_kind(self) -> str:
        return TaskKind.PHONE_FOLLOW_UP if self.registered else TaskKind.PHONE_REMINDER


class ReminderRun(models.Model):
    """One monthly run (for every dealer or one): when it ran and what it added per kind."""

    month = models.DateField(_("month"))
    dealer = models.ForeignKey(
        "org.Dealer", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    added = models.JSONField(_("added per kind"), default=dict)
    error = models.TextField(_("error"), blank=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("reminder run")
        verbose_name_plural = _("reminder runs")
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.started_at}"


class ReminderMessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")  # in the outbox, waiting (quiet hours, retries)
    SENT = "sent", _("Sent")  # the provider accepted it
    FAILED = "failed", _("Failed")  # given up by the outbox (or refused for good)
    SKIPPED = "skipped", _("Not sent")  # no message on purpose: see skip_reason


class ReminderMessageSkip(models.TextChoices):
    NO_CONSENT = "no_consent", _("No marketing consent")
    NO_CHANNEL = "no_channel", _("No WeChat and no mobile number")
    MERGED = "merged", _("Customer record merged")


class ReminderMessage(models.Model):
    """A message to the owner about a reminder on one channel (SPEC 2-12: the WeChat
    template message with a booking link, or a text message), and what became of it. A
    skipped row says why the owner got nothing (quiet hours only delay a message)."""

    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="messages")
    channel = models.CharField(_("channel"), max_length=10, choices=MessageChannel.choices)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ReminderMessageStatus.choices,
        default=ReminderMessageStatus.QUEUED,
    )
    skip_reason = models.CharField(
        _("not sent because"), max_length=20, choices=ReminderMessageSkip.choices, blank=True
    )
    outbox = models.ForeignKey(
        "core.OutboxMessage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("outgoing message"),
    )
    provider_msgid = models.CharField(_("provider message id"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "reminder__dealer_id"

    class Meta:
        verbose_name = _("reminder message")
        verbose_name_plural = _("reminder messages")
        ordering = ["created_at", "id"]
        constraints = [
            # a re-run of the send job never queues twice: one row per reminder and channel
            models.UniqueConstraint(fields=["reminder", "channel"], name="reminders_message_once")
        ]
        indexes = [
            models.Index(
                fields=["status"],
                condition=Q(status="queued"),
                name="reminders_message_queued",
            )
        ]

    def __str__(self):
        return f"{self.reminder_id} {self.channel} {self.status}"


# The reminder statistics table (提醒统计表), kept in its own module.
from aftersales.reminders.models_statistics import ReminderStatistic  # noqa: E402,F401
