"""Settlement and cashier (SPEC §7): invoices split by payer, credit notes, deposits,
payments and refunds, and the cashier's daily closing.

Amounts are ``Decimal`` CNY with 2 places. Repair-order prices include VAT (as Chinese
workshop prices do); an invoice line keeps its gross amount (incl. VAT), the net amount
(excl. VAT) and the tax. An issued invoice never changes except for the running totals
of what was paid and credited; corrections are credit notes. Every write goes through a
service in ``aftersales/billing``.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.billing.choices import (
    DEFAULT_VAT_RATE,
    BuyerType,
    DepositStatus,
    InvoiceStatus,
    PaymentKind,
    PaymentMethod,
)
from aftersales.core.access import RestrictedQuerySet
from aftersales.workorders.choices import LineKind, PayType

MONEY = {"max_digits": 12, "decimal_places": 2}
QTY = {"max_digits": 12, "decimal_places": 2}
RATE = {"max_digits": 5, "decimal_places": 4}
ZERO = Decimal("0")
USER = settings.AUTH_USER_MODEL


class BillingSettings(models.Model):
    """A dealer's VAT rate (13 % unless set) and its discount limits per role."""

    dealer = models.OneToOneField(
        "org.Dealer", on_delete=models.CASCADE, related_name="billing_settings"
    )
    vat_rate = models.DecimalField(
        _("VAT rate"),
        default=DEFAULT_VAT_RATE,
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("1"))],
        **RATE,
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("billing settings")
        verbose_name_plural = _("billing settings")

    def __str__(self):
        return f"{self.dealer} VAT {self.vat_rate}"


class DiscountLimit(models.Model):
    """The largest discount a role may give at a dealer, in per cent of the amount
    discounted (a line, or the invoice for an invoice discount)."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.CASCADE, related_name="+")
    role = models.CharField(_("role"), max_length=30)
    max_percent = models.DecimalField(
        _("largest discount (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("100"))],
    )

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("discount limit")
        verbose_name_plural = _("discount limits")
        constraints = [
            models.UniqueConstraint(fields=["dealer", "role"], name="billing_discount_role_once")
        ]

    def __str__(self):
        return f"{self.role} ≤ {self.max_percent} %"


class Invoice(models.Model):
    """What one payer owes for a repair order: the customer part, the warranty part (the
    OEM, through a claim), the insurance part (the insurer) or the internal part."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    repair_order = models.ForeignKey(
        "workorders.RepairOrder",
        on_delete=models.PROTECT,
        related_name="invoices",
        verbose_name=_("repair order"),
    )
    customer = models.ForeignKey(
        "crm.Customer", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    number = models.CharField(_("number"), max_length=30, blank=True)  # given on issue
    status = models.CharField(
        _("status"), max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    pay_type = models.CharField(_("payer"), max_length=10, choices=PayType.choices)
    payer_name = models.CharField(_("payer name"), max_length=100, blank=True)
    insurer = models.CharField(_("insurer"), max_length=100, blank=True)
    insurance_claim_number = models.CharField(
        _("insurance claim / report number"), max_length=50, blank=True
    )
    # fapiao (发票) details of the buyer
    buyer_type = models.CharField(
        _("buyer type"), max_length=10, choices=BuyerType.choices, default=BuyerType.PERSON
    )
    title = models.CharField(_("invoice title"), max_length=100, blank=True)
    taxpayer_id = models.CharField(_("taxpayer ID"), max_length=18, blank=True)
    buyer_address_phone = models.CharField(_("address and phone"), max_length=200, blank=True)
    buyer_bank_account = models.CharField(_("bank and account"), max_length=200, blank=True)
    vat_rate = models.DecimalField(_("VAT rate"), default=DEFAULT_VAT_RATE, **RATE)
    # totals (gross = incl. VAT = net + tax); discount is already deducted from them
    discount_amount = models.DecimalField(_("discount"), default=ZERO, **MONEY)
    invoice_discount = models.DecimalField(_("invoice discount"), default=ZERO, **MONEY)
    net_amount = models.DecimalField(_("amount excl. VAT"), default=ZERO, **MONEY)
    tax_amount = models.DecimalField(_("VAT"), default=ZERO, **MONEY)
    gross_amount = models.DecimalField(_("total incl. VAT"), default=ZERO, **MONEY)
    # running totals, changed only under the row lock by credit notes and payments
    credited_amount = models.DecimalField(_("credited"), default=ZERO, **MONEY)
    paid_amount = models.DecimalField(_("paid"), default=ZERO, **MONEY)  # payments − refunds
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    issued_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"
    audit_exclude = {"version"}

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-created_at", "-id"]
        permissions = [("discount_invoice", "Give discounts up to the role's limit")]
        constraints = [
            models.UniqueConstraint(
                fields=["dealer", "number"],
                condition=~Q(number=""),
                name="billing_invoice_number_once",
            ),
            models.CheckConstraint(
                condition=Q(status=InvoiceStatus.DRAFT) | ~Q(number=""),
                name="billing_invoice_issued_has_number",
            ),
        ]
        indexes = [
            models.Index(fields=["dealer", "status", "pay_type"], name="billing_invoice_open"),
            models.Index(fields=["dealer", "issued_at"], name="billing_invoice_issued"),
        ]

    def __str__(self):
        return self.number or f"#{self.pk}"

    @property
    def due_amount(self) -> Decimal:
        """What the payer still owes (negative: owed back to the payer)."""
        return self.gross_amount - self.credited_amount - self.paid_amount


class InvoiceLine(models.Model):
    """A line of an invoice, copied from the repair order's line when the invoice is
    prepared (the order may change later; the invoice keeps what was billed)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    ro_line = models.ForeignKey(
        "workorders.RepairOrderLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoice_lines",
    )
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(_("kind"), max_length=8, choices=LineKind.choices)
    code = models.CharField(_("code"), max_length=40, blank=True)  # operation code, part no.
    description = models.CharField(_("description"), max_length=200)
    quantity = models.DecimalField(_("quantity / hours"), default=Decimal("1"), **QTY)
    unit_price = models.DecimalField(_("unit price incl. VAT"), default=ZERO, **MONEY)
    discount_amount = models.DecimalField(_("discount"), default=ZERO, **MONEY)
    gross_amount = models.DecimalField(_("amount incl. VAT"), default=ZERO, **MONEY)
    net_amount = models.DecimalField(_("amount excl. VAT"), default=ZERO, **MONEY)
    tax_amount = models.DecimalField(_("VAT"), default=ZERO, **MONEY)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "invoice__dealer_id"

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["invoice_id", "position", "id"]

    def __str__(self):
        return self.description


class CreditNote(models.Model):
    """A correction or refund of an issued invoice (红字发票): it never edits the invoice,
    it lowers what is owed by its gross amount."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="credit_notes", verbose_name=_("invoice")
    )
    number = models.CharField(_("number"), max_length=30)
    reason = models.CharField(_("reason"), max_length=300)
    net_amount = models.DecimalField(_("amount excl. VAT"), default=ZERO, **MONEY)
    tax_amount = models.DecimalField(_("VAT"), default=ZERO, **MONEY)
    gross_amount = models.DecimalField(_("total incl. VAT"), default=ZERO, **MONEY)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["dealer", "number"], name="billing_credit_number_once")
        ]

    def __str__(self):
        return self.number


class CreditNoteLine(models.Model):
    """How much of one invoice line a credit note takes back."""

    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines")
    invoice_line = models.ForeignKey(InvoiceLine, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity / hours"), default=ZERO, **QTY)
    gross_amount = models.DecimalField(_("amount incl. VAT"), default=ZERO, **MONEY)
    net_amount = models.DecimalField(_("amount excl. VAT"), default=ZERO, **MONEY)
    tax_amount = models.DecimalField(_("VAT"), default=ZERO, **MONEY)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "credit_note__dealer_id"

    class Meta:
        verbose_name = _("credit-note line")
        verbose_name_plural = _("credit-note lines")

    def __str__(self):
        return f"{self.credit_note_id}: {self.gross_amount}"


class Deposit(models.Model):
    """Money the customer paid in advance (预付款/定金), usually at reception; later used
    to pay an invoice (a payment by the method "deposit") or refunded."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    repair_order = models.ForeignKey(
        "workorders.RepairOrder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deposits",
    )
    customer = models.ForeignKey(
        "crm.Customer", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    number = models.CharField(_("number"), max_length=30)
    method = models.CharField(_("paid by"), max_length=10, choices=PaymentMethod.choices)
    amount = models.DecimalField(
        _("amount"), validators=[MinValueValidator(Decimal("0.01"))], **MONEY
    )
    used_amount = models.DecimalField(_("used"), default=ZERO, **MONEY)
    refunded_amount = models.DecimalField(_("refunded"), default=ZERO, **MONEY)
    status = models.CharField(
        _("status"), max_length=10, choices=DepositStatus.choices, default=DepositStatus.OPEN
    )
    reference = models.CharField(_("reference"), max_length=60, blank=True)
    request_key = models.CharField(max_length=100, blank=True)
    cashier = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    business_day = models.DateField(_("business day"))
    created_at = models.DateTimeField(auto_now_add=True)
    # the refund of what was left (one per deposit), counted in that cashier's day
    refunded_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    refund_day = models.DateField(_("refunded on"), null=True, blank=True)
    refund_reason = models.CharField(_("reason for the refund"), max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("deposit")
        verbose_name_plural = _("deposits")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dealer", "number"], name="billing_deposit_number_once"
            ),
            models.UniqueConstraint(
                fields=["dealer", "request_key"],
                condition=~Q(request_key=""),
                name="billing_deposit_request_once",
            ),
            models.CheckConstraint(
                condition=Q(used_amount__gte=0) & Q(refunded_amount__gte=0),
                name="billing_deposit_not_negative",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def available(self) -> Decimal:
        return self.amount - self.used_amount - self.refunded_amount


class Payment(models.Model):
    """Money in (a payment) or out (a refund) against one invoice, taken by a cashier.
    ``amount`` is always positive; a refund names the payment it pays back. A retried
    request is recorded once: ``request_key`` is unique per invoice and kind."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="payments", verbose_name=_("invoice")
    )
    kind = models.CharField(
        _("kind"), max_length=10, choices=PaymentKind.choices, default=PaymentKind.PAYMENT
    )
    method = models.CharField(_("method"), max_length=10, choices=PaymentMethod.choices)
    amount = models.DecimalField(
        _("amount"), validators=[MinValueValidator(Decimal("0.01"))], **MONEY
    )
    tendered = models.DecimalField(
        _("cash handed over"), null=True, blank=True, **MONEY
    )  # cash only
    change = models.DecimalField(_("change"), default=ZERO, **MONEY)
    reference = models.CharField(_("reference"), max_length=60, blank=True)  # slip, trade no.
    deposit = models.ForeignKey(
        Deposit, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    refund_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="refunds"
    )
    credit_note = models.ForeignKey(
        CreditNote, on_delete=models.PROTECT, null=True, blank=True, related_name="refunds"
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)  # refunds
    request_key = models.CharField(max_length=100, blank=True)
    cashier = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    business_day = models.DateField(_("business day"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-id"]
        permissions = [("refund_payment", "Refund payments")]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "kind", "request_key"],
                condition=~Q(request_key=""),
                name="billing_payment_request_once",
            ),
        ]
        indexes = [
            models.Index(fields=["dealer", "cashier", "business_day"], name="billing_payment_day"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount}"

    @property
    def signed_amount(self) -> Decimal:
        return -self.amount if self.kind == PaymentKind.REFUND else self.amount


class CashClosing(models.Model):
    """One cashier's closed day: what the system took per method, the cash counted and
    the difference with its reason. No payment is taken for a closed cashier day."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, related_name="+")
    cashier = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    business_day = models.DateField(_("business day"))
    totals = models.JSONField(_("totals per method"), default=dict)  # {method: "12.30"}
    expected_cash = models.DecimalField(_("expected cash"), default=ZERO, **MONEY)
    counted_cash = models.DecimalField(_("counted cash"), default=ZERO, **MONEY)
    difference = models.DecimalField(_("difference"), default=ZERO, **MONEY)
    reason = models.CharField(_("reason for the difference"), max_length=300, blank=True)
    closed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("cash closing")
        verbose_name_plural = _("cash closings")
        ordering = ["-business_day", "cashier_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dealer", "cashier", "business_day"], name="billing_closing_once"
            )
        ]

    def __str__(self):
        return f"{self.cashier} {self.business_day}"
