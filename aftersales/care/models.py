"""Customer care (SPEC §10): coupons, birthday and holiday greetings.

A coupon (优惠券) is a single-use discount handed to one customer: an amount in yuan or a
percentage of labour and parts (exactly one), with an optional minimum spend and a
validity window. A dealer's coupon is redeemable at that dealer only; an OEM coupon
(``dealer`` empty) at every dealer. It is redeemed on the customer invoice of a repair
order at settlement (``care.redeem``); voiding or deleting that invoice releases it.

Greetings go out through the outbox on the day (``care.greetings``): birthdays by a daily
job, holidays (``HolidayGreeting``) nationally or for one dealer's customers, each with an
optional coupon made from the settings' or the holiday's coupon template.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from aftersales.care.choices import CouponKind, CouponReason, CouponState, HolidayStatus
from aftersales.core.access import RestrictedQuerySet

MONEY = {"max_digits": 12, "decimal_places": 2}
PERCENT = {
    "max_digits": 5,
    "decimal_places": 2,
    "validators": [MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
}
USER = settings.AUTH_USER_MODEL


class CouponQuerySet(RestrictedQuerySet):
    def scope_condition(self, scope):
        """A dealer's own coupons, and the OEM's coupons of customers the dealer serves."""
        from aftersales.crm.models import DealerCustomer

        served = DealerCustomer.objects.filter(
            customer_id=OuterRef("customer_id"), dealer_id__in=scope.dealer_ids
        )
        return Q(dealer_id__in=scope.dealer_ids) | (Q(dealer__isnull=True) & Exists(served))


class Coupon(models.Model):
    """A single-use discount given to one customer, by a dealer or by the OEM."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    customer = models.ForeignKey(
        "crm.Customer", on_delete=models.PROTECT, related_name="coupons", verbose_name=_("customer")
    )
    # the issuing dealer, where alone it is redeemable; empty: the OEM's, valid everywhere
    dealer = models.ForeignKey(
        "org.Dealer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dealer"),
    )
    amount = models.DecimalField(_("amount (yuan)"), null=True, blank=True, **MONEY)
    percent = models.DecimalField(_("percentage"), null=True, blank=True, **PERCENT)
    min_spend = models.DecimalField(_("minimum spend"), null=True, blank=True, **MONEY)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    reason = models.CharField(_("reason"), max_length=10, choices=CouponReason.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=CouponState.choices, default=CouponState.ISSUED
    )
    # a job's coupon carries the key of what it was issued for (birthday of a year, a
    # holiday for a customer): the unique key makes a re-run issue nothing twice
    source_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    holiday = models.ForeignKey(
        "care.HolidayGreeting", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    issued_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )  # empty: issued by a job
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    # the redemption: the invoice, where and by whom, and the discount it gave
    invoice = models.ForeignKey(
        "billing.Invoice",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invoice"),
    )
    credit_note = models.ForeignKey(
        "billing.CreditNote", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )  # when redeemed on an issued invoice
    redeemed_dealer = models.ForeignKey(
        "org.Dealer", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    redeemed_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    redeemed_at = models.DateTimeField(_("redeemed at"), null=True, blank=True)
    discount = models.DecimalField(_("discount given"), null=True, blank=True, **MONEY)
    voided_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("reason for voiding"), max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = CouponQuerySet.as_manager()
    access_dealer_field = "dealer_id"
    audit_exclude = {"version"}

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        ordering = ["-issued_at", "-id"]
        permissions = [
            ("void_coupon", "Void coupons"),
            ("redeem_coupon", "Redeem coupons on invoices"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(amount__isnull=False) & Q(percent__isnull=True))
                | (Q(amount__isnull=True) & Q(percent__isnull=False)),
                name="care_coupon_amount_or_percent",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("valid_from")),
                name="care_coupon_valid_window",
            ),
            models.CheckConstraint(
                condition=~Q(state=CouponState.REDEEMED) | Q(redeemed_at__isnull=False),
                name="care_coupon_redeemed_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "state"], name="care_coupon_customer"),
            models.Index(fields=["dealer", "state", "valid_until"], name="care_coupon_dealer"),
            models.Index(fields=["state", "valid_until"], name="care_coupon_expiry"),
        ]

    def __str__(self):
        return self.code

    @property
    def display_code(self) -> str:
        """The code in groups of four, as printed for the customer."""
        return "-".join(self.code[i : i + 4] for i in range(0, len(self.code), 4))

    @property
    def value_label(self) -> str:
        if self.amount is not None:
            return f"¥{self.amount}"
        return f"{self.percent.normalize():f}%"


class CouponTemplate(models.Model):
    """What coupon a greeting gives: none, an amount or a percentage, with an optional
    minimum spend, valid for a number of days from the greeting."""

    coupon_kind = models.CharField(
        _("coupon"), max_length=10, choices=CouponKind.choices, blank=True, default=""
    )
    coupon_amount = models.DecimalField(_("coupon amount (yuan)"), null=True, blank=True, **MONEY)
    coupon_percent = models.DecimalField(_("coupon percentage"), null=True, blank=True, **PERCENT)
    coupon_min_spend = models.DecimalField(
        _("coupon minimum spend"), null=True, blank=True, **MONEY
    )
    coupon_valid_days = models.PositiveSmallIntegerField(
        _("coupon valid for (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(366)],
    )

    class Meta:
        abstract = True

    @property
    def gives_coupon(self) -> bool:
        return bool(self.coupon_kind)


class GreetingSettings(CouponTemplate):
    """Birthday greetings of the OEM (``dealer`` empty: the national default) or of one
    dealer (overrides the OEM's for the customers it serves): on or off, and the coupon."""

    dealer = models.OneToOneField(
        "org.Dealer", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    birthday_enabled = models.BooleanField(_("send birthday greetings"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("greeting settings")
        verbose_name_plural = _("greeting settings")

    def __str__(self):
        return f"greetings {self.dealer_id or 'OEM'}"


class HolidayQuerySet(RestrictedQuerySet):
    def scope_condition(self, scope):
        """A dealer's own holiday greetings and the national ones."""
        return Q(dealer_id__in=scope.dealer_ids) | Q(dealer__isnull=True)


class HolidayGreeting(CouponTemplate):
    """A holiday greeting (节日问候), e.g. Spring Festival: its text goes to every customer
    with marketing consent on the day — nationally (``dealer`` empty) or the customers of
    one dealer — with an optional coupon."""

    name = models.CharField(_("holiday"), max_length=60)
    date = models.DateField(_("date"))
    text = models.TextField(_("greeting text"), max_length=300)
    dealer = models.ForeignKey(
        "org.Dealer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dealer"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=HolidayStatus.choices, default=HolidayStatus.PLANNED
    )
    sent_count = models.PositiveIntegerField(_("greetings sent"), default=0)
    coupon_count = models.PositiveIntegerField(_("coupons issued"), default=0)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = HolidayQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("holiday greeting")
        verbose_name_plural = _("holiday greetings")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["status", "date"], name="care_holiday_due")]

    def __str__(self):
        return f"{self.name} {self.date}"
