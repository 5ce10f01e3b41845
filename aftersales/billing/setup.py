"""A dealer's settlement set-up: its VAT rate and the largest discount each role may give.

``billing_settings(dealer)`` reads (or creates with the defaults) the dealer's settings;
``discount_limits(dealer)`` gives {role: largest discount in %}, the dealer's own figures
over the defaults (service advisor 5 %, service manager 20 %, cashier 0 %, dealer
administrator 20 %, any other role 0 %); ``discount_limit_of(actor, dealer)`` is the
highest limit among the roles the actor holds at the dealer. The service manager changes
them with ``billing_settings_update``.
"""

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.billing.models import BillingSettings, DiscountLimit
from aftersales.core.access import require_at
from aftersales.core.audit import audit_create, audit_update, snapshot
from aftersales.core.errors import ValidationFailed
from aftersales.org.roles import Role

DEFAULT_LIMITS: dict[str, Decimal] = {
    Role.SERVICE_ADVISOR: Decimal("5"),
    Role.SERVICE_MANAGER: Decimal("20"),
    Role.CASHIER: Decimal("0"),
    Role.DEALER_ADMIN: Decimal("20"),
}
# The roles whose limit the settings page shows (those that may discount at all).
LIMIT_ROLES = [Role.SERVICE_ADVISOR, Role.SERVICE_MANAGER, Role.CASHIER, Role.DEALER_ADMIN]
CHANGE = "billing.change_billingsettings"


def billing_settings(dealer) -> BillingSettings:
    """The dealer's settings, created with the defaults (VAT 13 %) on first use."""
    settings, _created = BillingSettings.objects.get_or_create(dealer_id=dealer.pk)
    return settings


def discount_limits(dealer) -> dict[str, Decimal]:
    limits = {str(role): value for role, value in DEFAULT_LIMITS.items()}
    for role, value in DiscountLimit.objects.filter(dealer_id=dealer.pk).values_list(
        "role", "max_percent"
    ):
        limits[role] = value
    return limits


def discount_limit_of(actor, dealer) -> Decimal:
    """The highest discount (in %) ``actor`` may give at ``dealer``: the largest limit
    among the roles they hold there (0 without any); a superuser has no limit."""
    if actor is None or actor.is_superuser:
        return Decimal("100")
    from aftersales.org.models import RoleAssignment

    roles = set(
        RoleAssignment.objects.filter(
            user_id=actor.pk, dealer_id=dealer.pk, active=True
        ).values_list("role", flat=True)
    )
    limits = discount_limits(dealer)
    return max((limits.get(role, Decimal("0")) for role in roles), default=Decimal("0"))


def _percent(value, field) -> Decimal:
    try:
        number = Decimal(str(value).strip().rstrip("%"))
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or number < 0 or number > 100:
        message = _("Enter a percentage between 0 and 100.")
        raise ValidationFailed(message, fields={field: [message]})
    return number.quantize(Decimal("0.01"))


@transaction.atomic
def billing_settings_update(*, actor, dealer, vat_rate_percent=None, limits=None):
    """Set the dealer's VAT rate (given in %, e.g. 13) and/or discount limits
    ({role: %}). Changes nothing when a value is out of range."""
    require_at(actor, CHANGE, dealer=dealer)
    settings = BillingSettings.objects.select_for_update().get(pk=billing_settings(dealer).pk)
    before = snapshot(settings)
    rate = None
    if vat_rate_percent not in (None, ""):
        rate = (_percent(vat_rate_percent, "vat_rate") / 100).quantize(Decimal("0.0001"))
    clean = {}
    for role, value in (limits or {}).items():
        if role not in Role.values:
            message = _("Unknown role %(role)s.") % {"role": role}
            raise ValidationFailed(message, fields={"limits": [message]})
        clean[role] = _percent(value, f"limit_{role}")
    if rate is not None and rate != settings.vat_rate:
        settings.vat_rate = rate
        settings.save(update_fields=["vat_rate", "updated_at"])
        audit_update(settings, actor=actor, before=before)
    for role, value in clean.items():
        row, created = DiscountLimit.objects.get_or_create(
            dealer_id=dealer.pk, role=role, defaults={"max_percent": value}
        )
        if created:
            audit_create(row, actor=actor)
        elif row.max_percent != value:
            old = snapshot(row)
            row.max_percent = value
            row.save(update_fields=["max_percent"])
            audit_update(row, actor=actor, before=old)
    return settings
