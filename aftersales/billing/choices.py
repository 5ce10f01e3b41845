"""Choices of settlement (SPEC §7)."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.workorders.choices import PayType  # noqa: F401  (an invoice's payer kind)

# China's standard VAT rate on repair services and parts; each dealer may set its own.
DEFAULT_VAT_RATE = Decimal("0.13")
CENT = Decimal("0.01")


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")  # being prepared: lines and discounts may change
    # numbered and immutable; corrections are credit notes
    ISSUED = "issued", pgettext_lazy("invoice", "Issued")


class BuyerType(models.TextChoices):
    PERSON = "person", _("Individual")
    COMPANY = "company", _("Company")


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Bank card")
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")
    TRANSFER = "transfer", _("Bank transfer")
    DEPOSIT = "deposit", _("Deposit / prepayment")


class PaymentKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    REFUND = "refund", _("Refund")


class DepositStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("deposit", "Open")  # some of it is still to be used or refunded
    USED = "used", _("Used")  # nothing left


class CashClosingStatus(models.TextChoices):
    CLOSED = "closed", _("Closed")
