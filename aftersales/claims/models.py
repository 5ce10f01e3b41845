"""Warranty claims to the OEM (SPEC §5): the warranty lines of a repair order become a
claim (索赔单) the dealer submits and the OEM reviews, approves (possibly for less),
rejects or asks more about, and finally pays.

Every write goes through ``aftersales.claims.services``; every status change through
``claim_transition`` against ``choices.TRANSITIONS``. Amounts are ``Decimal`` with 2 places;
each line's amount is rounded ROUND_HALF_UP to 0.01 and the totals are sums of lines.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.claims.choices import ClaimEventKind, ClaimLineKind, ClaimStatus, ReturnStatus
from aftersales.core.access import RestrictedQuerySet

MONEY = {"max_digits": 12, "decimal_places": 2}
QTY = {"max_digits": 12, "decimal_places": 2}
ZERO = Decimal("0")
USER = settings.AUTH_USER_MODEL


class SymptomCode(models.Model):
    """The OEM's code for what the customer or technician observed (现象代码), e.g.
    "B12 noise when braking"."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("symptom code")
        verbose_name_plural = _("symptom codes")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class CauseCode(models.Model):
    """The OEM's code for why the part failed (原因代码), e.g. "C03 material defect"."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("cause code")
        verbose_name_plural = _("cause codes")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class WarrantyClaim(models.Model):
    """A warranty claim: what a dealer asks the OEM to pay for the warranty lines of one
    repair order, with the evidence (VIN, odometer, failure date, causal part, symptom and
    cause codes, photos) and the OEM's decision and payment."""

    dealer = models.ForeignKey(
        "org.Dealer", on_delete=models.PROTECT, related_name="+", verbose_name=_("dealer")
    )
    number = models.CharField(_("claim number"), max_length=30, unique=True)
    repair_order = models.ForeignKey(
        "workorders.RepairOrder",
        on_delete=models.PROTECT,
        related_name="warranty_claims",
        verbose_name=_("repair order"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ClaimStatus.choices, default=ClaimStatus.DRAFT
    )
    vehicle = models.ForeignKey(
        "crm.Vehicle", on_delete=models.PROTECT, related_name="+", verbose_name=_("vehicle")
    )
    vin = models.CharField(_("VIN"), max_length=17, blank=True)
    odometer_km = models.PositiveIntegerField(_("odometer (km)"), null=True, blank=True)
    failure_date = models.DateField(_("failure date"), null=True, blank=True)
    causal_part = models.ForeignKey(
        "parts.Part",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("causal part"),
    )
    symptom_code = models.ForeignKey(
        SymptomCode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("symptom code"),
    )
    cause_code = models.ForeignKey(
        CauseCode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cause code"),
    )
    description = models.TextField(_("failure description"), blank=True)
    # amounts (sums of the lines, each rounded ROUND_HALF_UP to 0.01)
    claimed_labour = models.DecimalField(_("claimed labour"), default=ZERO, **MONEY)
    claimed_parts = models.DecimalField(_("claimed parts"), default=ZERO, **MONEY)
    claimed_total = models.DecimalField(_("claimed total"), default=ZERO, **MONEY)
    approved_amount = models.DecimalField(
        _("approved amount"), null=True, blank=True, validators=[MinValueValidator(ZERO)], **MONEY
    )
    paid_amount = models.DecimalField(
        _("paid amount"), null=True, blank=True, validators=[MinValueValidator(ZERO)], **MONEY
    )
    payment_reference = models.CharField(_("payment reference"), max_length=60, blank=True)
    # the OEM's words
    info_request = models.TextField(_("information requested"), blank=True)
    dealer_answer = models.TextField(_("dealer's answer"), blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    reviewer = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewer"),
    )
    created_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("created by")
    )
    # when each step happened
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    info_requested_at = models.DateTimeField(_("information requested"), null=True, blank=True)
    resubmitted_at = models.DateTimeField(_("resubmitted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    settled_at = models.DateTimeField(_("settled"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"
    audit_exclude = {"version"}

    class Meta:
        verbose_name = _("warranty claim")
        verbose_name_plural = _("warranty claims")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("submit_warrantyclaim", "Submit warranty claims to the OEM"),
            ("review_warrantyclaim", "Review warranty claims"),
            ("settle_warrantyclaim", "Record warranty claims as paid"),
        ]
        constraints = [
            # one claim per repair order that is still alive: a rejected claim frees the RO
            models.UniqueConstraint(
                fields=["repair_order"],
                condition=~Q(status="rejected"),
                name="claims_one_open_claim_per_ro",
            ),
            models.CheckConstraint(
                condition=Q(approved_amount__isnull=True)
                | Q(approved_amount__lte=models.F("claimed_total")),
                name="claims_approved_within_claimed",
            ),
        ]
        indexes = [
            models.Index(fields=["dealer", "status", "submitted_at"], name="claims_dealer_status"),
            models.Index(fields=["status", "submitted_at"], name="claims_review_queue"),
        ]

    def __str__(self):
        return self.number


class ClaimLine(models.Model):
    """One line of a claim, copied from a warranty line of the repair order: a labour
    operation (hours × the dealer's warranty rate) or a part (quantity × unit price), with
    the failed part's return status."""

    claim = models.ForeignKey(WarrantyClaim, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(_("kind"), max_length=8, choices=ClaimLineKind.choices)
    position = models.PositiveSmallIntegerField(default=0)
    ro_line = models.ForeignKey(
        "workorders.RepairOrderLine",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    operation = models.ForeignKey(
        "workorders.LabourOperation",
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
    description = models.CharField(_("description"), max_length=200)
    hours = models.DecimalField(_("hours"), default=ZERO, **QTY)
    rate = models.DecimalField(_("rate per hour"), default=ZERO, **MONEY)
    quantity = models.DecimalField(_("quantity"), default=ZERO, **QTY)
    unit_price = models.DecimalField(_("unit price"), default=ZERO, **MONEY)
    amount = models.DecimalField(_("amount"), default=ZERO, **MONEY)
    return_status = models.CharField(
        _("old part"), max_length=10, choices=ReturnStatus.choices, blank=True
    )
    return_updated_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "claim__dealer_id"

    class Meta:
        verbose_name = _("claim line")
        verbose_name_plural = _("claim lines")
        ordering = ["claim_id", "position", "id"]

    def __str__(self):
        return self.description


class ClaimPhoto(models.Model):
    """Evidence for a claim: a photo of the repair order referenced, or an image uploaded
    to the claim (checked to be a real image). Served only through the access-checked
    ``claim-photo`` view."""

    claim = models.ForeignKey(WarrantyClaim, on_delete=models.CASCADE, related_name="photos")
    ro_photo = models.ForeignKey(
        "workorders.RepairOrderPhoto",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    image = models.FileField(_("image"), upload_to="claims/photos/%Y/%m/", blank=True)
    content_type = models.CharField(max_length=40, blank=True)
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("claim photo")
        verbose_name_plural = _("claim photos")
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "ro_photo"],
                condition=Q(ro_photo__isnull=False),
                name="claims_ro_photo_once",
            )
        ]

    def __str__(self):
        return self.caption or f"photo {self.pk}"


class ClaimEvent(models.Model):
    """One step of a claim's timeline: who did what, when, with the note they wrote."""

    claim = models.ForeignKey(WarrantyClaim, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    kind = models.CharField(max_length=10, choices=ClaimEventKind.choices)
    from_status = models.CharField(max_length=20, choices=ClaimStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ClaimStatus.choices, blank=True)
    message = models.CharField(max_length=300, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("claim event")
        verbose_name_plural = _("claim events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["claim", "at"], name="claims_event_claim")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}"
