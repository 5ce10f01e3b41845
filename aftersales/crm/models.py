"""Customers and their vehicles (SPEC §2): the records every later process hangs off.

Visibility: a dealer sees a customer or vehicle when it has a relationship with it
(``DealerCustomer`` / ``DealerVehicle``: it sold or serviced the car, or registered the
customer). Regions see their dealers' relationships, OEM staff everything. Exact VIN or
plate lookups at reception are the one way past this, in ``selectors.reception_lookup``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from aftersales.core.access import RestrictedQuerySet
from aftersales.crm.choices import (
    ContactChannel,
    CustomerSource,
    Gender,
    ImportMode,
    ImportStatus,
    OdometerSource,
    OwnershipReason,
    RelationshipKind,
    Segment,
    VisitKind,
)


class CustomerQuerySet(RestrictedQuerySet):
    def scope_condition(self, scope):
        return Exists(
            DealerCustomer.objects.filter(
                customer_id=OuterRef("pk"), dealer_id__in=scope.dealer_ids
            )
        )

    def live(self):
        """Customers not merged into another one."""
        return self.filter(merged_into__isnull=True)


class VehicleQuerySet(RestrictedQuerySet):
    def scope_condition(self, scope):
        return Exists(
            DealerVehicle.objects.filter(vehicle_id=OuterRef("pk"), dealer_id__in=scope.dealer_ids)
        )


class CustomerTag(models.Model):
    """A label staff put on customers (VIP, fleet, complaint history…), shared network-wide."""

    name = models.CharField(_("name"), max_length=30, unique=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer tag")
        verbose_name_plural = _("customer tags")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Customer(models.Model):
    """A person (or company) who owns or drives our vehicles (客户/车主)."""

    name = models.CharField(_("name"), max_length=50)
    mobile = models.CharField(_("mobile number"), max_length=11)
    phone2 = models.CharField(_("other phone"), max_length=20, blank=True)
    id_number_encrypted = models.TextField(blank=True, editable=False)
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    id_number_masked = models.CharField(_("resident ID number"), max_length=18, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    contact_channel = models.CharField(
        _("preferred contact channel"),
        max_length=10,
        choices=ContactChannel.choices,
        default=ContactChannel.SMS,
    )
    quiet_from = models.TimeField(_("do not disturb from"), null=True, blank=True)
    quiet_until = models.TimeField(_("do not disturb until"), null=True, blank=True)
    marketing_consent = models.BooleanField(_("agrees to marketing messages"), default=False)
    marketing_consent_at = models.DateTimeField(_("consent given or withdrawn at"), null=True)
    # the owner's openid on the OEM's WeChat official account (bound through the OAuth web
    # flow when they open the owner site from WeChat): template messages go there
    wechat_openid = models.CharField(_("WeChat openid"), max_length=64, blank=True, db_index=True)
    tags = models.ManyToManyField(CustomerTag, blank=True, related_name="customers")
    segment = models.CharField(_("segment"), max_length=10, choices=Segment.choices, blank=True)
    segment_at = models.DateTimeField(_("in this segment since"), null=True, blank=True)
    loyalty_points = models.IntegerField(_("loyalty points"), default=0)
    notes = models.TextField(_("notes"), blank=True)
    source = models.CharField(
        _("source"), max_length=15, choices=CustomerSource.choices, default=CustomerSource.MANUAL
    )
    origin_dealer = models.ForeignKey(
        "org.Dealer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registered by dealer"),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customer",
        verbose_name=_("owner login"),
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_from",
        verbose_name=_("merged into"),
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CustomerQuerySet.as_manager()
    audit_exclude = {"id_number_encrypted", "id_number_hash", "version"}

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-id"]
        permissions = [
            ("reveal_customer", "Reveal the full resident ID number"),
            ("merge_customer", "Merge duplicate customers"),
            ("import_customer", "Import customers and vehicles"),
            ("export_customer", "Export customer lists"),
            ("contact_customer", "See full phone numbers"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["mobile"],
                condition=Q(merged_into__isnull=True),
                name="crm_customer_mobile_unique_live",
            )
        ]
        indexes = [
            models.Index(fields=["name"], name="crm_customer_name"),
            models.Index(fields=["segment"], name="crm_customer_segment"),
        ]

    def __str__(self):
        return self.name


class Vehicle(models.Model):
    """One car, identified by its VIN; its current owner and what we know of its life."""

    vin = models.CharField(_("VIN"), max_length=17, unique=True)
    vin_last8 = models.CharField(max_length=8, db_index=True, editable=False)
    vin_last6 = models.CharField(max_length=6, db_index=True, editable=False)
    plate = models.CharField(_("plate number"), max_length=8, blank=True, db_index=True)
    variant = models.ForeignKey(
        "catalogue.Variant", on_delete=models.PROTECT, related_name="+", verbose_name=_("variant")
    )
    colour = models.CharField(_("colour"), max_length=20, blank=True)
    engine_number = models.CharField(_("engine number"), max_length=30, blank=True)
    sale_date = models.DateField(_("sale date"), null=True, blank=True)
    invoice_date = models.DateField(_("invoice date (开票日期)"), null=True, blank=True)
    selling_dealer = models.ForeignKey(
        "org.Dealer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("selling dealer"),
    )
    warranty_start = models.DateField(_("warranty start"), null=True, blank=True)
    warranty_end = models.DateField(_("vehicle warranty until"), null=True, blank=True)
    warranty_km = models.PositiveIntegerField(_("vehicle warranty up to (km)"), null=True)
    powertrain_warranty_end = models.DateField(_("powertrain warranty until"), null=True)
    powertrain_warranty_km = models.PositiveIntegerField(
        _("powertrain warranty up to (km)"), null=True
    )
    insurance_expiry = models.DateField(_("insurance expires"), null=True, blank=True)
    last_inspection = models.DateField(_("last annual inspection"), null=True, blank=True)
    odometer_km = models.PositiveIntegerField(_("odometer (km)"), null=True, blank=True)
    odometer_on = models.DateField(_("odometer read on"), null=True, blank=True)
    owner = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="vehicles",
        verbose_name=_("owner"),
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = VehicleQuerySet.as_manager()
    audit_exclude = {"vin_last8", "vin_last6", "version"}

    class Meta:
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        ordering = ["-id"]

    def __str__(self):
        return self.plate or self.vin

    def save(self, *args, **kwargs):
        self.vin_last8, self.vin_last6 = self.vin[-8:], self.vin[-6:]
        super().save(*args, **kwargs)


class Ownership(models.Model):
    """Who owned a vehicle from when to when; the open row is the current owner."""

    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="ownerships")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="ownerships")
    started_on = models.DateField(_("owner from"))
    ended_on = models.DateField(_("owner until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=12, choices=OwnershipReason.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("ownership")
        verbose_name_plural = _("ownership history")
        ordering = ["-started_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle"],
                condition=Q(ended_on__isnull=True),
                name="crm_ownership_one_current",
            )
        ]

    def __str__(self):
        return f"{self.vehicle} → {self.customer}"


class OdometerReading(models.Model):
    """One reading of a vehicle's odometer: every visit records one."""

    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="readings")
    km = models.PositiveIntegerField(_("odometer (km)"))
    read_on = models.DateField(_("read on"))
    source = models.CharField(_("source"), max_length=15, choices=OdometerSource.choices)
    dealer = models.ForeignKey(
        "org.Dealer", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("odometer reading")
        verbose_name_plural = _("odometer readings")
        ordering = ["-read_on", "-id"]
        indexes = [models.Index(fields=["vehicle", "read_on"], name="crm_reading_vehicle_day")]

    def __str__(self):
        return f"{self.km} km @ {self.read_on}"


class DealerCustomer(models.Model):
    """A dealer's relationship with a customer: the dealer may find and serve them."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="dealer_links")
    kind = models.CharField(max_length=12, choices=RelationshipKind.choices)
    since = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dealer", "customer"], name="crm_dealercustomer_once")
        ]
        indexes = [models.Index(fields=["customer", "dealer"], name="crm_dealercustomer_cust")]

    def __str__(self):
        return f"{self.dealer_id} ↔ {self.customer_id}"


class DealerVehicle(models.Model):
    """A dealer's relationship with a vehicle: it sold it, or has serviced it."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="dealer_links")
    kind = models.CharField(max_length=12, choices=RelationshipKind.choices)
    since = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dealer", "vehicle"], name="crm_dealervehicle_once")
        ]
        indexes = [models.Index(fields=["vehicle", "dealer"], name="crm_dealervehicle_veh")]

    def __str__(self):
        return f"{self.dealer_id} ↔ {self.vehicle_id}"


class ServiceVisit(models.Model):
    """One finished service visit: what segmentation (recency, frequency, monetary) and
    the history count. Closed repair orders write one; legacy DMS history is imported."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="visits")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="visits")
    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    visited_on = models.DateField(_("visit date"))
    kind = models.CharField(_("kind"), max_length=12, choices=VisitKind.choices)
    amount = models.DecimalField(_("amount paid"), max_digits=12, decimal_places=2, default=0)
    odometer_km = models.PositiveIntegerField(_("odometer (km)"), null=True, blank=True)
    reference = models.CharField(_("document number"), max_length=40, blank=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("service visit")
        verbose_name_plural = _("service visits")
        ordering = ["-visited_on", "-id"]
        indexes = [models.Index(fields=["customer", "visited_on"], name="crm_visit_customer_day")]

    def __str__(self):
        return f"{self.visited_on} {self.get_kind_display()}"


class SegmentRule(models.Model):
    """The thresholds of the RFM segmentation; one row, edited by the OEM."""

    window_months = models.PositiveSmallIntegerField(
        _("count visits of the last (months)"), default=24
    )
    at_risk_after_days = models.PositiveSmallIntegerField(
        _("at risk after (days without a visit)"), default=240
    )
    lost_after_days = models.PositiveSmallIntegerField(
        _("lost after (days without a visit)"), default=450
    )
    loyal_min_visits = models.PositiveSmallIntegerField(_("loyal: at least (visits)"), default=4)
    loyal_min_amount = models.DecimalField(
        _("loyal: at least (CNY spent)"), max_digits=12, decimal_places=2, default=6000
    )
    regular_min_visits = models.PositiveSmallIntegerField(
        _("regular: at least (visits)"), default=2
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("segment rule")
        verbose_name_plural = _("segment rules")

    def __str__(self):
        return str(_("Segment thresholds"))

    @classmethod
    def current(cls):
        return cls.objects.order_by("id").first() or cls()


class ImportJob(models.Model):
    """One upload of customers and vehicles (.xlsx or .csv), validated row by row and run
    as a job; its progress and error report are shown to whoever uploaded it."""

    dealer = models.ForeignKey(
        "org.Dealer", on_delete=models.PROTECT, related_name="+", verbose_name=_("dealer")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(upload_to="crm/imports/")
    original_name = models.CharField(_("file"), max_length=200)
    mode = models.CharField(_("mode"), max_length=15, choices=ImportMode.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows checked"), default=0)
    imported_rows = models.PositiveIntegerField(_("rows imported"), default=0)
    error_rows = models.PositiveIntegerField(_("rows with errors"), default=0)
    customers_created = models.PositiveIntegerField(_("customers created"), default=0)
    vehicles_created = models.PositiveIntegerField(_("vehicles created"), default=0)
    error_report = models.FileField(upload_to="crm/import-errors/", blank=True)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-id"]

    def __str__(self):
        return self.original_name

    @property
    def progress(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0


class RegistrationCode(models.Model):
    """A one-time SMS code sent to an owner who asked to link their login to their
    customer record. Stored hashed; expires; single use; a few wrong tries."""

    mobile = models.CharField(max_length=11, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    wrong_tries = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.mobile[:3]}****{self.mobile[-4:]} @ {self.created_at}"


class SmsQuota(models.Model):
    """Codes sent to one number on one day: the atomic counter behind the send limits."""

    mobile = models.CharField(max_length=11)
    day = models.DateField()
    sent = models.PositiveSmallIntegerField(default=0)
    last_sent_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mobile", "day"], name="crm_smsquota_once")]

    def __str__(self):
        return f"{self.day}: {self.sent}"
