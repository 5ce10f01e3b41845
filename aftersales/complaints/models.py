"""Complaint management for the OEM's customer-service centre (SPEC §9, source document
001): informal complaints (抱怨) judged by the agent, formal complaints (投诉) filed,
classified and graded by the complaint specialist, handled by a dealer under its region's
supervision, supported by a VRT, escalated by the goodwill-cost authorization matrix, and
closed on one of four conditions.

Every write goes through ``aftersales.complaints.services``; every status change through
``complaint_transition`` against ``choices.TRANSITIONS``. Time limits are counted in
Chinese working days (``aftersales.complaints.clock``).
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.complaints.choices import (
    CaseKind,
    CaseStatus,
    Category,
    Channel,
    ClosureCondition,
    ComplaintStatus,
    EscalationReason,
    EventKind,
    FollowUpOutcome,
    Grade,
    Responsibility,
    StepKind,
    StepStatus,
)
from aftersales.core.access import RestrictedQuerySet, user_scope

MONEY = {"max_digits": 12, "decimal_places": 2}
ZERO = Decimal("0")
USER = settings.AUTH_USER_MODEL


def default_warn_at():
    return [50, 80]


def default_weights():
    return {"on_time": 40, "count": 20, "repeat": 15, "escalated": 15, "satisfaction": 10}


class ViaComplaintQuerySet(RestrictedQuerySet):
    """Rows of a complaint (steps, escalations, follow-ups): whoever may see the complaint
    (or act on it with ``action``) may see them; the rows' own model permissions are not
    granted to any role."""

    def restrict(self, user, action: str = "view"):
        scope = user_scope(user, f"complaints.{action}_complaint")
        if scope.everything:
            return self
        if scope.empty:
            return self.none()
        return self.filter(self.scope_condition(scope))


class ComplaintSettings(models.Model):
    """The OEM's complaint rules (one row): the time limit of each grade in working days,
    when to warn, the limits of the VRT and the dealer's plan, whether waiting for the
    customer may pause the clock, the follow-up delay and the dealer assessment weights."""

    urgent_days = models.PositiveSmallIntegerField(
        _("urgent: working days"), default=1, validators=[MinValueValidator(1)]
    )
    general_days = models.PositiveSmallIntegerField(
        _("general: working days"), default=3, validators=[MinValueValidator(1)]
    )
    major_days = models.PositiveSmallIntegerField(
        _("major: working days"), default=5, validators=[MinValueValidator(1)]
    )
    warn_at = models.JSONField(
        _("warn at (per cent of the time used)"),
        default=default_warn_at,
        help_text=_("Percentages of the time limit at which the responsible people are warned."),
    )
    vrt_days = models.PositiveSmallIntegerField(
        _("VRT conclusion: working days"), default=2, validators=[MinValueValidator(1)]
    )
    plan_days = models.PositiveSmallIntegerField(
        _("dealer plan: working days"), default=1, validators=[MinValueValidator(1)]
    )
    pause_allowed = models.BooleanField(
        _("waiting for the customer may pause the clock"), default=True
    )
    follow_up_days = models.PositiveSmallIntegerField(
        _("satisfaction follow-up after (working days)"), default=2
    )
    assessment_weights = models.JSONField(
        _("dealer assessment weights"),
        default=default_weights,
        help_text=_(
            "Points of each measure in the dealer assessment: on_time, count, repeat, "
            "escalated, satisfaction."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("complaint settings")
        verbose_name_plural = _("complaint settings")

    def __str__(self):
        return str(_("complaint settings"))

    def days_for(self, grade: str) -> int:
        return {
            Grade.URGENT: self.urgent_days,
            Grade.GENERAL: self.general_days,
            Grade.MAJOR: self.major_days,
        }[grade]

    @classmethod
    def current(cls) -> "ComplaintSettings":
        settings_row = cls.objects.order_by("pk").first()
        return settings_row or cls.objects.create()


class GoodwillLevel(models.Model):
    """A row of the goodwill-cost authorization matrix (客户关怀费用授权): goodwill from
    ``min_amount`` up to ``max_amount`` (open-ended when empty) must be decided by a
    holder of ``role``."""

    min_amount = models.DecimalField(_("from (CNY)"), default=ZERO, **MONEY)
    max_amount = models.DecimalField(_("up to (CNY)"), null=True, blank=True, **MONEY)
    role = models.CharField(_("decided by"), max_length=30)
    level = models.PositiveSmallIntegerField(_("level"), default=1)

    class Meta:
        verbose_name = _("goodwill authorization level")
        verbose_name_plural = _("goodwill authorization matrix")
        ordering = ["min_amount"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_amount__isnull=True) | Q(max_amount__gt=models.F("min_amount")),
                name="complaints_goodwill_range",
            )
        ]

    def __str__(self):
        return f"{self.min_amount}–{self.max_amount or '∞'}: {self.role}"


class Complaint(models.Model):
    """A customer's complaint, from the first contact (an informal 抱怨 or a dealer's
    forward) through filing, handling and closure. ``dealer`` is the handling dealer (the
    forwarding dealer until the specialist assigns one); complaints without a dealer are
    seen at OEM level only."""

    number = models.CharField(_("number"), max_length=30, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ComplaintStatus.choices, default=ComplaintStatus.NEW
    )
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    # who complains, about what
    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("customer"),
    )
    vehicle = models.ForeignKey(
        "crm.Vehicle",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("vehicle"),
    )
    contact_name = models.CharField(_("contact name"), max_length=60)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    subject = models.CharField(_("subject"), max_length=120)
    description = models.TextField(_("the customer's words"))
    expectation = models.TextField(_("what the customer asks for"), blank=True)
    repair_orders = models.ManyToManyField(
        "workorders.RepairOrder", blank=True, related_name="complaints"
    )
    # who handles it
    source_dealer = models.ForeignKey(
        "org.Dealer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("forwarded by dealer"),
    )
    dealer = models.ForeignKey(
        "org.Dealer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handling dealer"),
    )
    region = models.ForeignKey(
        "org.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region"),
    )
    received_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("received by")
    )
    specialist = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("complaint specialist"),
    )
    # judgement (pre-processing)
    judged_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    judgement = models.TextField(_("judgement"), blank=True)
    reply = models.TextField(_("reply to the customer"), blank=True)
    # filing
    category = models.CharField(_("type"), max_length=10, choices=Category.choices, blank=True)
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices, blank=True)
    limit_days = models.PositiveSmallIntegerField(_("time limit (working days)"), null=True)
    deadline_at = models.DateTimeField(_("deadline"), null=True, blank=True)
    deadline_provisional = models.BooleanField(
        _("deadline beyond the published holiday calendar"), default=False
    )
    # the clock: paused while waiting for the customer (where allowed)
    paused_since = models.DateTimeField(_("paused since"), null=True, blank=True)
    paused_total = models.DurationField(_("paused working time"), null=True, blank=True)
    # escalation and goodwill
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    goodwill_amount = models.DecimalField(
        _("approved goodwill (CNY)"), null=True, blank=True, **MONEY
    )
    # closure
    closure_condition = models.CharField(
        _("closure condition"), max_length=20, choices=ClosureCondition.choices, blank=True
    )
    closure_evidence = models.TextField(_("evidence for the closure"), blank=True)
    closed_on_time = models.BooleanField(_("closed within the limit"), null=True)
    handling_days = models.DecimalField(
        _("handling time (working days)"), max_digits=7, decimal_places=2, null=True
    )
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    # when each step happened
    received_at = models.DateTimeField(pgettext_lazy("complaint", "received"), db_index=True)
    judged_at = models.DateTimeField(_("judged"), null=True, blank=True)
    filed_at = models.DateTimeField(_("filed"), null=True, blank=True, db_index=True)
    # the clock's start: the filing, or the last reopening
    clock_started_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, db_index=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"
    audit_exclude = {"version"}

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_at", "-id"]
        permissions = [
            ("judge_complaint", "Judge complaints valid or invalid"),
            ("file_complaint", "File, classify, grade and assign complaints"),
            ("handle_complaint", "Submit and carry out the dealer's handling plan"),
            ("support_complaint", "Record VRT conclusions and technical solutions"),
            ("escalate_complaint", "Escalate complaints"),
            ("decide_complaint", "Decide escalated complaints and goodwill"),
            ("close_complaint", "Close and reopen complaints"),
            ("comment_complaint", "Comment on complaints"),
            ("export_complaint", "Export complaint reports"),
        ]
        indexes = [
            models.Index(fields=["status", "deadline_at"], name="complaints_open_deadline"),
            # the running complaints in deadline order (overdue, due soon, waiting for
            # support): the closed million are never read (``selectors.RUNNING_SQL``)
            models.Index(
                fields=["deadline_at"],
                condition=Q(status__in=["filed", "handling"]),
                name="complaints_running_deadline",
            ),
            # the queues before filing (to judge, to file) in arrival order
            models.Index(fields=["status", "received_at"], name="complaints_status_received"),
            models.Index(fields=["dealer", "status"], name="complaints_dealer_status"),
        ]

    def __str__(self):
        return self.number


class ComplaintStep(models.Model):
    """A time-limited piece of work inside a complaint: the VRT's technical conclusion and
    solution, the departments' proposal, the dealer's handling plan or its execution."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(_("step"), max_length=10, choices=StepKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=StepStatus.choices, default=StepStatus.OPEN
    )
    due_at = models.DateTimeField(pgettext_lazy("deadline", "due"), db_index=True)
    due_provisional = models.BooleanField(default=False)
    limit_days = models.PositiveSmallIntegerField(_("time limit (working days)"))
    # VRT
    members = models.ManyToManyField(USER, blank=True, related_name="+")
    departments = models.CharField(_("departments"), max_length=200, blank=True)
    defect_exists = models.BooleanField(_("quality defect exists"), null=True)
    responsibility = models.CharField(
        _("responsibility"), max_length=10, choices=Responsibility.choices, blank=True
    )
    # the result: conclusion and solution (VRT), proposal, plan, execution report
    conclusion = models.TextField(_("conclusion"), blank=True)
    solution = models.TextField(_("solution / plan"), blank=True)
    goodwill_amount = models.DecimalField(
        _("goodwill asked for (CNY)"), null=True, blank=True, **MONEY
    )
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, related_name="+")
    acknowledged_by_region_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by_dealer_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ViaComplaintQuerySet.as_manager()
    access_dealer_field = "complaint__dealer_id"

    class Meta:
        verbose_name = _("complaint step")
        verbose_name_plural = _("complaint steps")
        ordering = ["complaint_id", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["complaint", "kind"],
                condition=Q(status="open"),
                name="complaints_one_open_step_per_kind",
            )
        ]
        # the open steps of a kind (the VRT task list, the waiting-for-VRT queue)
        indexes = [
            models.Index(
                fields=["kind", "complaint"],
                condition=Q(status="open"),
                name="complaints_open_step_kind",
            )
        ]

    def __str__(self):
        return f"{self.complaint_id}: {self.get_kind_display()}"

    @property
    def late(self) -> bool:
        if self.status == StepStatus.OPEN:
            from django.utils import timezone

            return timezone.now() > self.due_at
        return bool(self.done_at and self.done_at > self.due_at)


class ComplaintPause(models.Model):
    """A stretch during which the clock stood still, waiting for the customer."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    started_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    ended_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["complaint"],
                condition=Q(ended_at__isnull=True),
                name="complaints_one_running_pause",
            )
        ]

    def __str__(self):
        return f"{self.complaint_id}: {self.reason}"


class ComplaintAlert(models.Model):
    """A time-limit warning sent (one per complaint or step and threshold, so the clock
    job never warns twice)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="alerts")
    step = models.ForeignKey(
        ComplaintStep, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    threshold = models.PositiveSmallIntegerField()  # % of the limit used; 100 = breach
    reopen_round = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["complaint", "threshold", "reopen_round"],
                condition=Q(step__isnull=True),
                name="complaints_one_alert_per_threshold",
            ),
            models.UniqueConstraint(
                fields=["step", "threshold"],
                condition=Q(step__isnull=False),
                name="complaints_one_step_alert_per_threshold",
            ),
        ]

    def __str__(self):
        return f"{self.complaint_id}: {self.threshold}%"


class Escalation(models.Model):
    """An escalation (升级): why, to which level of the goodwill matrix, and the decision
    of the manager who holds that level."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="escalations")
    reason = models.CharField(_("reason"), max_length=12, choices=EscalationReason.choices)
    level = models.PositiveSmallIntegerField(_("level"))
    role = models.CharField(_("to be decided by"), max_length=30)
    amount = models.DecimalField(_("goodwill involved (CNY)"), default=ZERO, **MONEY)
    note = models.TextField(_("note"), blank=True)
    raised_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, related_name="+")
    raised_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    approved_amount = models.DecimalField(
        _("approved goodwill (CNY)"), null=True, blank=True, **MONEY
    )
    decision = models.TextField(_("decision"), blank=True)

    objects = ViaComplaintQuerySet.as_manager()
    access_dealer_field = "complaint__dealer_id"

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["raised_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["complaint", "reason"],
                condition=Q(decided_at__isnull=True),
                name="complaints_one_open_escalation_per_reason",
            )
        ]

    def __str__(self):
        return f"{self.complaint_id}: {self.get_reason_display()} L{self.level}"


class ComplaintEvent(models.Model):
    """One line of a complaint's history: who did what, when."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    kind = models.CharField(max_length=14, choices=EventKind.choices)
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10, blank=True)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.complaint_id}: {self.kind}"


class ComplaintFollowUp(models.Model):
    """The satisfaction follow-up after closure (回访), and the care action offered."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="follow_ups")
    due_at = models.DateTimeField(pgettext_lazy("deadline", "due"), db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=FollowUpOutcome.choices, blank=True
    )
    score = models.PositiveSmallIntegerField(
        _("satisfaction (1-5)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    remarks = models.TextField(_("remarks"), blank=True)
    care_action = models.CharField(_("care action"), max_length=200, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, related_name="+")

    objects = ViaComplaintQuerySet.as_manager()
    access_dealer_field = "complaint__dealer_id"

    class Meta:
        ordering = ["due_at", "id"]

    def __str__(self):
        return f"{self.complaint_id}: {self.due_at:%Y-%m-%d}"


class LegalCase(models.Model):
    """An arbitration, a lawsuit or a public-opinion crisis arising from complaints, with
    the legal or PR staff involved."""

    number = models.CharField(_("number"), max_length=30, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=CaseKind.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    complaints = models.ManyToManyField(Complaint, related_name="cases")
    staff = models.ManyToManyField(USER, blank=True, related_name="+")
    body = models.CharField(_("court, arbitration body or media"), max_length=120, blank=True)
    opened_on = models.DateField(_("opened"))
    hearing_on = models.DateField(_("hearing / next date"), null=True, blank=True)
    closed_on = models.DateField(_("closed"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("arbitration, lawsuit or crisis")
        verbose_name_plural = _("arbitrations, lawsuits and crises")
        ordering = ["-opened_on", "-id"]

    def __str__(self):
        return f"{self.number} {self.title}"


__all__ = [
    "Complaint",
    "ComplaintAlert",
    "ComplaintEvent",
    "ComplaintFollowUp",
    "ComplaintPause",
    "ComplaintSettings",
    "ComplaintStep",
    "Escalation",
    "GoodwillLevel",
    "LegalCase",
]
