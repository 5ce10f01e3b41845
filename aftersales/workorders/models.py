"""The service visit (SPEC §4): the OEM's labour-operation catalogue and maintenance
packages, each dealer's labour rates, bays and service settings, and the repair order
(任务委托书) with its lines, workshop jobs, clock entries, checks, photos, timeline and
follow-up call.

Every write goes through a service (reception, estimate, authorization, workshop, quality,
delivery, follow-up modules); every status change goes through
``transitions.repair_order_transition`` against ``choices.TRANSITIONS``.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.core.access import RestrictedQuerySet
from aftersales.workorders.choices import (
    CATEGORY_BAY,
    Approval,
    ApprovalChannel,
    BayKind,
    CallOutcome,
    CheckKind,
    ClockReason,
    EventKind,
    FollowUpStatus,
    FuelLevel,
    JobStatus,
    LineKind,
    OldPartsDisposition,
    OperationCategory,
    PaymentMethod,
    PayType,
    ROKind,
    ROStatus,
    SignatureKind,
    WarrantyScope,
    WarrantyStatus,
)

MONEY = {"max_digits": 12, "decimal_places": 2}
HOURS = {"max_digits": 6, "decimal_places": 2}
QTY = {"max_digits": 12, "decimal_places": 2}
ZERO = Decimal("0")
USER = settings.AUTH_USER_MODEL


# ------------------------------------------------------------------ OEM catalogue


class LabourOperation(models.Model):
    """A labour operation code (工时项目) of the OEM's catalogue, e.g. "replace front brake
    pads", with its default standard hours and the warranty that covers it."""

    code = models.CharField(_("operation code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    category = models.CharField(
        _("category"), max_length=12, choices=OperationCategory.choices, db_index=True
    )
    warranty_scope = models.CharField(
        _("warranty"), max_length=12, choices=WarrantyScope.choices, default=WarrantyScope.VEHICLE
    )
    default_hours = models.DecimalField(
        _("standard hours"), validators=[MinValueValidator(Decimal("0.01"))], **HOURS
    )
    bay_kind = models.CharField(
        _("bay kind"),
        max_length=10,
        choices=BayKind.choices,
        blank=True,
        help_text=_("The kind of bay the job needs; empty: the usual one for its category."),
    )
    active = models.BooleanField(_("active"), default=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("labour operation")
        verbose_name_plural = _("labour operations")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def needs_bay(self) -> str:
        """The bay kind this operation's job needs (its own, or its category's usual one)."""
        return self.bay_kind or CATEGORY_BAY.get(self.category, BayKind.GENERAL)


class LabourTime(models.Model):
    """The standard hours of an operation on one model, or on one variant of it (the
    variant's row wins over the model's; the operation's default applies otherwise)."""

    operation = models.ForeignKey(
        LabourOperation, on_delete=models.CASCADE, related_name="times", verbose_name=_("operation")
    )
    vehicle_model = models.ForeignKey(
        "catalogue.VehicleModel",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("vehicle model"),
    )
    variant = models.ForeignKey(
        "catalogue.Variant",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("variant"),
    )
    hours = models.DecimalField(
        _("standard hours"), validators=[MinValueValidator(Decimal("0.01"))], **HOURS
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("standard labour time")
        verbose_name_plural = _("standard labour times")
        constraints = [
            models.UniqueConstraint(
                fields=["operation", "vehicle_model"],
                condition=Q(variant__isnull=True),
                name="workorders_labourtime_model_once",
            ),
            models.UniqueConstraint(
                fields=["operation", "variant"],
                condition=Q(variant__isnull=False),
                name="workorders_labourtime_variant_once",
            ),
        ]

    def __str__(self):
        return f"{self.operation.code} {self.hours} h"


class MaintenancePackage(models.Model):
    """A maintenance package (保养套餐): the operations and parts of one service interval,
    for one model or for every model."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    vehicle_model = models.ForeignKey(
        "catalogue.VehicleModel",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("vehicle model"),
        help_text=_("Empty: for every model."),
    )
    interval_km = models.PositiveIntegerField(_("every (km)"), null=True, blank=True)
    interval_months = models.PositiveSmallIntegerField(_("every (months)"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("maintenance package")
        verbose_name_plural = _("maintenance packages")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class PackageOperation(models.Model):
    package = models.ForeignKey(
        MaintenancePackage, on_delete=models.CASCADE, related_name="operations"
    )
    operation = models.ForeignKey(LabourOperation, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["package", "operation"], name="workorders_packageop_once"
            )
        ]

    def __str__(self):
        return f"{self.package_id}:{self.operation_id}"


class PackagePart(models.Model):
    package = models.ForeignKey(MaintenancePackage, on_delete=models.CASCADE, related_name="parts")
    part = models.ForeignKey("parts.Part", on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(
        _("quantity"), validators=[MinValueValidator(Decimal("0.01"))], **QTY
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["package", "part"], name="workorders_packagepart_once")
        ]

    # ------------------------------------------------------------------ dealer set-up

    def __str__(self):
        return f"{self.package_id}:{self.part_id} × {self.quantity}"


class LabourRate(models.Model):
    """A dealer's price of one labour hour for one pay type (工时单价)."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    pay_type = models.CharField(_("pay type"), max_length=10, choices=PayType.choices)
    rate = models.DecimalField(_("rate per hour"), validators=[MinValueValidator(ZERO)], **MONEY)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("labour rate")
        verbose_name_plural = _("labour rates")
        ordering = ["dealer_id", "pay_type"]
        constraints = [
            models.UniqueConstraint(fields=["dealer", "pay_type"], name="workorders_rate_once")
        ]

    def __str__(self):
        return f"{self.get_pay_type_display()} {self.rate}"


class WorkshopBay(models.Model):
    """A work bay (工位) of a dealer's workshop."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("code"), max_length=10)
    name = models.CharField(_("name"), max_length=40)
    kind = models.CharField(
        _("kind"), max_length=10, choices=BayKind.choices, default=BayKind.GENERAL
    )
    active = models.BooleanField(_("active"), default=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("work bay")
        verbose_name_plural = _("work bays")
        ordering = ["dealer_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["dealer", "code"], name="workorders_bay_code")
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class ServiceSettings(models.Model):
    """A dealer's service-visit settings: follow-up timing, the comeback window and the
    working day used to promise completion times. ``for_dealer`` gives defaults when the
    dealer has saved none."""

    dealer = models.OneToOneField(
        "org.Dealer", on_delete=models.PROTECT, related_name="service_settings"
    )
    follow_up_after_hours = models.PositiveSmallIntegerField(
        _("follow-up call opens after (hours)"), default=24
    )
    follow_up_due_hours = models.PositiveSmallIntegerField(
        _("follow-up call due within (hours)"),
        default=72,
        help_text=_("Counted from the delivery; between 24 hours and 3 days is usual."),
    )
    follow_up_attempts = models.PositiveSmallIntegerField(
        _("call attempts before giving up"), default=3, validators=[MinValueValidator(1)]
    )
    low_score = models.PositiveSmallIntegerField(
        _("alert the service manager at scores up to"), default=3
    )
    comeback_days = models.PositiveSmallIntegerField(
        _("comeback window (days)"), default=30, validators=[MinValueValidator(1)]
    )
    workday_start = models.TimeField(_("workshop opens"), default="08:30")
    workday_end = models.TimeField(_("workshop closes"), default="18:00")

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("service settings")
        verbose_name_plural = _("service settings")

    def __str__(self):
        return str(self.dealer)

    @classmethod
    def for_dealer(cls, dealer) -> "ServiceSettings":
        dealer_id = getattr(dealer, "pk", dealer)
        found = cls.objects.filter(dealer_id=dealer_id).first()
        return found or cls(dealer_id=dealer_id)


# ------------------------------------------------------------------ the repair order


class RepairOrder(models.Model):
    """A repair order (任务委托书 / 工单): one visit of one vehicle, from reception to
    delivery and settlement. Its status changes only through the transition table."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("RO number"), max_length=30, unique=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ROStatus.choices, default=ROStatus.DRAFT
    )
    kind = models.CharField(_("kind"), max_length=12, choices=ROKind.choices, default=ROKind.REPAIR)
    vehicle = models.ForeignKey(
        "crm.Vehicle",
        on_delete=models.PROTECT,
        related_name="repair_orders",
        verbose_name=_("vehicle"),
    )
    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="repair_orders",
        verbose_name=_("customer"),
    )
    contact_name = models.CharField(_("brought in by"), max_length=50, blank=True)
    contact_mobile = models.CharField(_("contact mobile"), max_length=20, blank=True)
    service_advisor = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("service advisor")
    )
    warehouse = models.ForeignKey(
        "parts.Warehouse",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("parts warehouse"),
    )
    # reception (接车)
    odometer_km = models.PositiveIntegerField(_("odometer (km)"), null=True, blank=True)
    odometer_suspect = models.BooleanField(
        _("odometer lower than before"), default=False
    )  # possible tampering: a reason is required to go on
    odometer_reason = models.CharField(
        _("reason for the lower reading"), max_length=200, blank=True
    )
    fuel_level = models.CharField(
        _("fuel / charge level"), max_length=3, choices=FuelLevel.choices, blank=True
    )
    concern = models.TextField(_("customer's concern (in their words)"), blank=True)
    diagnosis = models.TextField(_("diagnosis"), blank=True)
    valuables = models.CharField(_("valuables in the car"), max_length=200, blank=True)
    covers_installed = models.BooleanField(_("protective covers installed"), default=False)
    walkaround = models.JSONField(
        _("walk-around marks"), default=list, blank=True
    )  # [{"x": 0-100, "y": 0-100, "kind": "scratch|dent|crack|chip|other", "note": ""}]
    walkaround_note = models.CharField(_("walk-around remarks"), max_length=300, blank=True)
    # warranty for the whole vehicle at reception
    warranty_status = models.CharField(
        _("warranty"), max_length=3, choices=WarrantyStatus.choices, blank=True, default=""
    )
    warranty_reason = models.CharField(_("warranty reason"), max_length=300, blank=True)
    # estimate terms (估价)
    payment_method = models.CharField(
        _("payment method"), max_length=10, choices=PaymentMethod.choices, blank=True
    )
    old_parts = models.CharField(
        _("old parts"), max_length=12, choices=OldPartsDisposition.choices, blank=True
    )
    free_wash = models.BooleanField(_("free wash"), default=True)
    promised_at = models.DateTimeField(_("promised completion"), null=True, blank=True)
    estimate_total = models.DecimalField(_("estimate total"), default=ZERO, **MONEY)
    # authorization (客户签字)
    signature_kind = models.CharField(
        _("signature"), max_length=6, choices=SignatureKind.choices, blank=True
    )
    signature = models.FileField(
        _("signature image"), upload_to="workorders/signatures/%Y/%m/", blank=True
    )
    signed_by_name = models.CharField(_("signed by"), max_length=50, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    # quality and comebacks
    rework_count = models.PositiveSmallIntegerField(_("reworks"), default=0)
    comeback_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="comebacks",
        verbose_name=_("comeback of"),
    )
    # delivery (交车)
    delivery_checks = models.JSONField(_("delivery check"), default=dict, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)
    # when each step happened
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    started_at = models.DateTimeField(_("work started"), null=True, blank=True)
    work_done_at = models.DateTimeField(_("work finished"), null=True, blank=True)
    qc_passed_at = models.DateTimeField(_("QC passed"), null=True, blank=True)
    ready_at = models.DateTimeField(_("ready for delivery"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("opened"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"
    audit_exclude = {"version", "walkaround", "estimate_total"}

    class Meta:
        verbose_name = _("repair order")
        verbose_name_plural = _("repair orders")
        ordering = ["-created_at", "-id"]
        indexes = [
            # the boards: a dealer's orders by status
            models.Index(fields=["dealer", "status", "promised_at"], name="workorders_ro_board"),
            # comeback detection and the vehicle's history
            models.Index(fields=["vehicle", "-created_at"], name="workorders_ro_vehicle"),
            models.Index(fields=["customer", "-created_at"], name="workorders_ro_customer"),
        ]
        permissions = [
            ("authorize_repairorder", "Record the customer's approval"),
            ("dispatch_repairorder", "Dispatch jobs to technicians and bays"),
            ("work_repairorder", "Clock on jobs and self-check"),
            ("inspect_repairorder", "Inspect work (QC)"),
            ("deliver_repairorder", "Deliver vehicles"),
            ("close_repairorder", "Close settled repair orders"),
            ("cancel_repairorder", "Cancel repair orders"),
        ]

    def __str__(self):
        return self.number


class RepairOrderLine(models.Model):
    """One line of a repair order: a labour operation (which is also a workshop job),
    a part, sublet work or a fee; priced for its pay type, with its own warranty
    decision and the customer's approval."""

    repair_order = models.ForeignKey(RepairOrder, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(_("kind"), max_length=8, choices=LineKind.choices)
    position = models.PositiveSmallIntegerField(default=0)
    operation = models.ForeignKey(
        LabourOperation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("operation"),
    )
    part = models.ForeignKey(
        "parts.Part",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("part"),
    )
    package = models.ForeignKey(
        MaintenancePackage, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    description = models.CharField(_("description"), max_length=200)
    quantity = models.DecimalField(_("quantity / hours"), default=Decimal("1"), **QTY)
    standard_hours = models.DecimalField(_("standard hours"), default=ZERO, **HOURS)
    unit_price = models.DecimalField(_("unit price"), default=ZERO, **MONEY)
    amount = models.DecimalField(_("amount"), default=ZERO, **MONEY)
    pay_type = models.CharField(
        _("pay type"), max_length=10, choices=PayType.choices, default=PayType.CUSTOMER
    )
    warranty_status = models.CharField(
        _("warranty"), max_length=3, choices=WarrantyStatus.choices, blank=True, default=""
    )
    warranty_reason = models.CharField(_("warranty reason"), max_length=300, blank=True)
    fitment_warning = models.CharField(_("fitment warning"), max_length=200, blank=True)
    # the customer's decision
    additional = models.BooleanField(
        _("found during the work"), default=False
    )  # needs its own approval
    approval = models.CharField(
        _("customer decision"), max_length=10, choices=Approval.choices, default=Approval.PROPOSED
    )
    approval_channel = models.CharField(
        _("approved how"), max_length=10, choices=ApprovalChannel.choices, blank=True
    )
    approved_by_name = models.CharField(_("decided by (customer)"), max_length=50, blank=True)
    approval_recorded_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )  # the staff member who called or took the decision
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # the workshop job (labour lines)
    job_status = models.CharField(
        _("job"), max_length=10, choices=JobStatus.choices, blank=True, default=""
    )
    bay = models.ForeignKey(
        WorkshopBay, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actual_hours = models.DecimalField(_("actual hours"), default=ZERO, **HOURS)
    # parts: what stock holds and what went to the car
    reservation = models.ForeignKey(
        "parts.Reservation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    issued_qty = models.DecimalField(_("issued"), default=ZERO, **QTY)
    returned_qty = models.DecimalField(_("returned"), default=ZERO, **QTY)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "repair_order__dealer_id"

    class Meta:
        verbose_name = _("repair-order line")
        verbose_name_plural = _("repair-order lines")
        ordering = ["repair_order_id", "position", "id"]
        indexes = [models.Index(fields=["repair_order", "kind"], name="workorders_line_kind")]

    def __str__(self):
        return self.description

    @property
    def key(self) -> str:
        """The stable key of this line in the parts ledger (reservations, issues)."""
        return f"ro-line:{self.pk}"


class JobAssignment(models.Model):
    """A technician assigned to a labour line by the foreman."""

    line = models.ForeignKey(RepairOrderLine, on_delete=models.CASCADE, related_name="assignments")
    technician = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    assigned_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, related_name="+")
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["line", "technician"], name="workorders_assign_once")
        ]

    def __str__(self):
        return f"{self.line_id} → {self.technician_id}"


class ClockEntry(models.Model):
    """A technician's time on one job: clocked on, clocked off (with why). A technician
    has at most one open entry (a database constraint)."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    repair_order = models.ForeignKey(RepairOrder, on_delete=models.CASCADE, related_name="clock")
    line = models.ForeignKey(RepairOrderLine, on_delete=models.CASCADE, related_name="clock")
    technician = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(_("clocked on"))
    ended_at = models.DateTimeField(_("clocked off"), null=True, blank=True)
    reason = models.CharField(_("why off"), max_length=12, choices=ClockReason.choices, blank=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("clock entry")
        verbose_name_plural = _("clock entries")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["technician"],
                condition=Q(ended_at__isnull=True),
                name="workorders_one_open_clock",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="workorders_clock_forward",
            ),
        ]
        indexes = [models.Index(fields=["dealer", "started_at"], name="workorders_clock_day")]

    def __str__(self):
        return f"{self.technician_id} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def hours(self) -> Decimal:
        if self.ended_at is None:
            return ZERO
        return (Decimal((self.ended_at - self.started_at).total_seconds()) / 3600).quantize(
            Decimal("0.01")
        )


class QualityCheck(models.Model):
    """A technician's self-check, an inspector's QC or the SA's delivery check."""

    repair_order = models.ForeignKey(RepairOrder, on_delete=models.CASCADE, related_name="checks")
    kind = models.CharField(_("check"), max_length=10, choices=CheckKind.choices)
    passed = models.BooleanField(_("passed"))
    items = models.JSONField(_("checklist"), default=dict)  # {item key: true/false}
    remarks = models.TextField(_("remarks"), blank=True)
    checked_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField(auto_now_add=True)
    round = models.PositiveSmallIntegerField(default=0)  # the order's rework count then

    class Meta:
        verbose_name = _("check")
        verbose_name_plural = _("checks")
        ordering = ["checked_at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} {'✓' if self.passed else '✗'}"


class PhotoKind(models.TextChoices):
    WALKAROUND = "walkaround", _("Walk-around")
    DAMAGE = "damage", _("Damage")
    DIAGNOSIS = "diagnosis", _("Diagnosis")
    OLD_PART = "old_part", _("Old part")
    DELIVERY = "delivery", _("Delivery")


class RepairOrderPhoto(models.Model):
    """A photo taken at reception, during diagnosis or of an old part."""

    repair_order = models.ForeignKey(RepairOrder, on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(_("kind"), max_length=10, choices=PhotoKind.choices)
    image = models.FileField(_("image"), upload_to="workorders/photos/%Y/%m/")
    content_type = models.CharField(max_length=40)
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.caption or self.get_kind_display()


class RepairOrderEvent(models.Model):
    """One step in the order's timeline: who did what, when (status changes, lines,
    customer decisions, dispatch, clocking, parts, checks)."""

    repair_order = models.ForeignKey(RepairOrder, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    kind = models.CharField(max_length=10, choices=EventKind.choices)
    from_status = models.CharField(max_length=20, choices=ROStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ROStatus.choices, blank=True)
    message = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("repair-order event")
        verbose_name_plural = _("repair-order events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["repair_order", "at"], name="workorders_event_ro")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}"


class FollowUp(models.Model):
    """The DCRC's call after delivery (回访): due a configurable time after the hand-over;
    its outcome and the customer's 1-5 scores."""

    repair_order = models.OneToOneField(
        RepairOrder, on_delete=models.CASCADE, related_name="follow_up"
    )
    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=12, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN
    )
    opens_at = models.DateTimeField(_("call from"))
    due_at = models.DateTimeField(_("call by"), db_index=True)
    attempts = models.PositiveSmallIntegerField(_("calls made"), default=0)
    assigned_to = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    scores = models.JSONField(_("scores"), default=dict, blank=True)  # {question: 1-5}
    remarks = models.TextField(_("remarks"), blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    alerted_at = models.DateTimeField(_("service manager alerted"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("follow-up call")
        verbose_name_plural = _("follow-up calls")
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["dealer", "status", "due_at"], name="workorders_fu_queue")]

    def __str__(self):
        return f"{self.repair_order} {self.get_status_display()}"


class FollowUpCall(models.Model):
    """One call attempt of a follow-up."""

    follow_up = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="calls")
    outcome = models.CharField(_("outcome"), max_length=12, choices=CallOutcome.choices)
    remarks = models.CharField(_("remarks"), max_length=300, blank=True)
    called_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    called_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["called_at", "id"]

    def __str__(self):
        return self.get_outcome_display()
