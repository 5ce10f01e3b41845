"""Coupon services: issue (goodwill by staff, greetings by the jobs), void, expire.

Every write is one transaction with the actor, checked at the coupon's dealer (an OEM
coupon, ``dealer`` empty, needs the permission at OEM level), audited, and refused with a
coded, translated error that changes nothing. Redemption is in ``care.redeem``.

Codes are 12 characters from an alphabet without look-alikes (no 0/O, 1/I/L), drawn with
``secrets``: 31¹² ≈ 7.9 × 10¹⁷ codes, so a guessed code practically never exists; the
cashier may type them with or without the dashes of the printed form ``ABCD-EFGH-JKMN``.
"""

from __future__ import annotations

import datetime
import secrets
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.care.choices import CouponReason, CouponState
from aftersales.care.models import Coupon
from aftersales.core.access import allowed_at, require_at
from aftersales.core.audit import audit_create, audit_update, snapshot
from aftersales.core.errors import Conflict, NotFound, ValidationFailed

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12
ISSUE = "care.add_coupon"
VOID = "care.void_coupon"
VIEW = "care.view_coupon"
LARGEST_AMOUNT = Decimal("100000")
LONGEST_VALIDITY = 732  # days: two years


class CouponNotIssued(Conflict):
    code = "coupon_not_issued"


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def clean_code(raw) -> str:
    """A code as typed: upper-cased, without spaces and dashes."""
    return "".join(ch for ch in str(raw or "").upper() if ch.isalnum())


def _dealer_obj(dealer_id):
    from aftersales.org.models import Dealer

    return Dealer(pk=dealer_id) if dealer_id else None


def may(user, permission: str, coupon: Coupon) -> bool:
    return allowed_at(user, permission, dealer=_dealer_obj(coupon.dealer_id))


def _decimal(value, field, *, message):
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or number <= 0:
        raise ValidationFailed(message, fields={field: [message]})
    return number


def clean_terms(*, amount=None, percent=None, min_spend=None) -> dict:
    """The money terms of a coupon, checked: exactly one of an amount (yuan, up to
    100,000, at most two decimals) or a percentage (above 0, at most 100)."""
    amount = _decimal(amount, "amount", message=_("Enter an amount in yuan above zero."))
    percent = _decimal(percent, "percent", message=_("Enter a percentage above zero."))
    min_spend = _decimal(
        min_spend, "min_spend", message=_("Enter the minimum spend in yuan, or leave it empty.")
    )
    if (amount is None) == (percent is None):
        message = _("Give the coupon either an amount in yuan or a percentage, not both.")
        raise ValidationFailed(message, code="amount_or_percent", fields={"amount": [message]})
    if amount is not None:
        if amount != amount.quantize(Decimal("0.01")) or amount > LARGEST_AMOUNT:
            message = _("The amount has at most two decimal places and is at most %(max)s.") % {
                "max": LARGEST_AMOUNT
            }
            raise ValidationFailed(message, fields={"amount": [message]})
    if percent is not None and (percent > 100 or percent != percent.quantize(Decimal("0.01"))):
        message = _("A percentage is at most 100, with at most two decimal places.")
        raise ValidationFailed(message, fields={"percent": [message]})
    if min_spend is not None and min_spend != min_spend.quantize(Decimal("0.01")):
        message = _("The minimum spend has at most two decimal places.")
        raise ValidationFailed(message, fields={"min_spend": [message]})
    return {"amount": amount, "percent": percent, "min_spend": min_spend}


def clean_window(valid_from, valid_until, *, today=None) -> tuple[datetime.date, datetime.date]:
    today = today or timezone.localdate()
    valid_from = valid_from or today
    if valid_until is None:
        message = _("Say until when the coupon is valid.")
        raise ValidationFailed(message, fields={"valid_until": [message]})
    if valid_until < valid_from or valid_until < today:
        message = _("The last valid day must be today or later, and not before the first.")
        raise ValidationFailed(message, code="window", fields={"valid_until": [message]})
    if (valid_until - valid_from).days > LONGEST_VALIDITY:
        message = _("A coupon is valid for at most two years.")
        raise ValidationFailed(message, code="window", fields={"valid_until": [message]})
    return valid_from, valid_until


def insert_with_code(coupon: Coupon) -> Coupon:
    """Save a new coupon, drawing another code in the (astronomically unlikely) case
    that the drawn one exists."""
    for _attempt in range(5):
        coupon.code = new_code()
        try:
            with transaction.atomic():
                coupon.save(force_insert=True)
            return coupon
        except IntegrityError:
            if coupon.source_key and Coupon.objects.filter(source_key=coupon.source_key).exists():
                raise
            continue
    raise RuntimeError("could not draw a free coupon code")


# ---------------------------------------------------------------- issue


@transaction.atomic
def coupon_issue(
    *,
    actor,
    customer,
    dealer=None,
    amount=None,
    percent=None,
    min_spend=None,
    valid_from=None,
    valid_until=None,
    reason: str = CouponReason.GOODWILL,
    note: str = "",
) -> Coupon:
    """Give ``customer`` a coupon of ``dealer`` (empty: an OEM coupon, valid at every
    dealer; needs the permission at OEM level). The actor must see the customer (else
    404). Refused, changing nothing, when the terms or the window are wrong."""
    from aftersales.crm.models import Customer

    require_at(actor, ISSUE, dealer=dealer)
    visible = Customer.objects.restrict(actor, "view").filter(pk=getattr(customer, "pk", customer))
    customer = visible.first()
    if customer is None:
        raise NotFound()
    if reason not in CouponReason.values:
        message = _("Choose why the coupon is given.")
        raise ValidationFailed(message, fields={"reason": [message]})
    terms = clean_terms(amount=amount, percent=percent, min_spend=min_spend)
    valid_from, valid_until = clean_window(valid_from, valid_until)
    coupon = insert_with_code(
        Coupon(
            customer=customer,
            dealer=dealer,
            valid_from=valid_from,
            valid_until=valid_until,
            reason=reason,
            note=(note or "").strip()[:200],
            issued_by=actor,
            **terms,
        )
    )
    audit_create(coupon, actor=actor)
    return coupon


# ---------------------------------------------------------------- void


def locked_coupon(coupon) -> Coupon:
    pk = getattr(coupon, "pk", coupon)
    try:
        return Coupon.objects.select_for_update(of=("self",)).get(pk=pk)
    except Coupon.DoesNotExist:
        raise NotFound() from None


def _bump(coupon: Coupon, fields: list[str]) -> None:
    coupon.version = F("version") + 1
    coupon.save(update_fields=[*fields, "version"])
    coupon.refresh_from_db(fields=["version"])


@transaction.atomic
def coupon_void(*, actor, coupon, reason: str) -> Coupon:
    """Withdraw an issued coupon (e.g. given by mistake). A redeemed, expired or already
    void coupon is refused (409 ``coupon_not_issued``)."""
    coupon = locked_coupon(coupon)
    if not may(actor, VOID, coupon):
        if may(actor, VIEW, coupon):
            require_at(actor, VOID, dealer=_dealer_obj(coupon.dealer_id))
        raise NotFound()
    reason = (reason or "").strip()
    if not reason:
        message = _("Say why the coupon is voided.")
        raise ValidationFailed(message, code="reason", fields={"reason": [message]})
    if coupon.state != CouponState.ISSUED:
        raise CouponNotIssued(
            _("Coupon %(code)s is %(state)s: only an issued coupon can be voided.")
            % {"code": coupon.display_code, "state": coupon.get_state_display()}
        )
    before = snapshot(coupon)
    coupon.state = CouponState.VOID
    coupon.voided_by = actor
    coupon.voided_at = timezone.now()
    coupon.void_reason = reason[:200]
    _bump(coupon, ["state", "voided_by", "voided_at", "void_reason"])
    audit_update(coupon, actor=actor, before=before)
    return coupon


# ---------------------------------------------------------------- expire


def coupons_expire(*, today=None) -> int:
    """Issued coupons past their last valid day become expired (one statement; a
    re-run finds nothing). Returns how many expired."""
    today = today or timezone.localdate()
    return Coupon.objects.filter(state=CouponState.ISSUED, valid_until__lt=today).update(
        state=CouponState.EXPIRED, version=F("version") + 1
    )


# ---------------------------------------------------------------- greetings set-up

GREET_ADD = "care.add_holidaygreeting"
GREET_CHANGE = "care.change_holidaygreeting"
SETTINGS_CHANGE = "care.change_greetingsettings"


def clean_template(
    *,
    coupon_kind="",
    coupon_amount=None,
    coupon_percent=None,
    coupon_min_spend=None,
    coupon_valid_days=30,
) -> dict:
    """A greeting's coupon template, checked like a coupon's terms."""
    from aftersales.care.choices import CouponKind

    kind = coupon_kind or ""
    if kind not in CouponKind.values:
        message = _("Choose the kind of coupon, or none.")
        raise ValidationFailed(message, fields={"coupon_kind": [message]})
    try:
        days = int(coupon_valid_days or 30)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= 366:
        message = _("A greeting's coupon is valid for 1 to 366 days.")
        raise ValidationFailed(message, fields={"coupon_valid_days": [message]})
    if not kind:
        return {
            "coupon_kind": "",
            "coupon_amount": None,
            "coupon_percent": None,
            "coupon_min_spend": None,
            "coupon_valid_days": days,
        }
    terms = clean_terms(
        amount=coupon_amount if kind == CouponKind.AMOUNT else None,
        percent=coupon_percent if kind == CouponKind.PERCENT else None,
        min_spend=coupon_min_spend,
    )
    return {
        "coupon_kind": kind,
        "coupon_amount": terms["amount"],
        "coupon_percent": terms["percent"],
        "coupon_min_spend": terms["min_spend"],
        "coupon_valid_days": days,
    }


@transaction.atomic
def holiday_create(*, actor, name: str, date, text: str, dealer=None, **template):
    """Plan a holiday greeting: nationally (``dealer`` empty; OEM level) or for one
    dealer's customers. The day must be today or later; the text at most 300 characters."""
    from aftersales.care.models import HolidayGreeting

    require_at(actor, GREET_ADD, dealer=dealer)
    fields = {}
    name = (name or "").strip()
    text = (text or "").strip()
    if not name:
        fields["name"] = [_("Name the holiday.")]
    if not text:
        fields["text"] = [_("Write the greeting.")]
    elif len(text) > 300:
        fields["text"] = [_("A greeting has at most 300 characters.")]
    if date is None:
        fields["date"] = [_("Choose the day it is sent.")]
    elif date < timezone.localdate():
        fields["date"] = [_("The day must be today or later.")]
    if fields:
        raise ValidationFailed(" ".join(m for ms in fields.values() for m in ms), fields=fields)
    holiday = HolidayGreeting.objects.create(
        name=name[:60],
        date=date,
        text=text,
        dealer=dealer,
        created_by=actor,
        **clean_template(**template),
    )
    audit_create(holiday, actor=actor)
    return holiday


@transaction.atomic
def holiday_cancel(*, actor, holiday):
    """Cancel a planned holiday greeting (a sent one is refused)."""
    from aftersales.care.choices import HolidayStatus
    from aftersales.care.models import HolidayGreeting

    holiday = HolidayGreeting.objects.select_for_update().get(pk=holiday.pk)
    require_at(actor, GREET_CHANGE, dealer=_dealer_obj(holiday.dealer_id))
    if holiday.status != HolidayStatus.PLANNED:
        raise Conflict(
            _("This greeting is %(status)s: only a planned one can be cancelled.")
            % {"status": holiday.get_status_display()},
            code="holiday_not_planned",
        )
    before = snapshot(holiday)
    holiday.status = HolidayStatus.CANCELLED
    holiday.save(update_fields=["status"])
    audit_update(holiday, actor=actor, before=before)
    return holiday


@transaction.atomic
def greeting_settings_update(*, actor, dealer=None, birthday_enabled=None, **template):
    """Change the birthday greeting of the OEM (``dealer`` empty) or of one dealer (its own
    settings then override the OEM's for its customers)."""
    from aftersales.care.greetings import national_settings
    from aftersales.care.models import GreetingSettings

    require_at(actor, SETTINGS_CHANGE, dealer=dealer)
    if dealer is None:
        row = GreetingSettings.objects.select_for_update().get(pk=national_settings().pk)
    else:
        row, _created = GreetingSettings.objects.get_or_create(dealer=dealer)
        row = GreetingSettings.objects.select_for_update().get(pk=row.pk)
    before = snapshot(row)
    clean = clean_template(**template)
    for name, value in clean.items():
        setattr(row, name, value)
    if birthday_enabled is not None:
        row.birthday_enabled = bool(birthday_enabled)
    row.save()
    audit_update(row, actor=actor, before=before)
    return row
