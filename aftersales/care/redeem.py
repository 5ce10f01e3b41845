"""Redeeming a coupon on a repair order's customer invoice at settlement.

Billing defines discounts; a coupon uses the two it offers, whichever fits the invoice:

* a **draft** invoice: the coupon raises the invoice discount (``Invoice.invoice_discount``,
  spread over the lines with their VAT: billing's ``invoice_add_discount``), so the
  fapiao is issued for the discounted amount;
* an **issued** invoice (never edited): the coupon is a credit note (红字发票) named after
  it, spread over the lines it applies to, which lowers what is due (billing's
  ``credit_note_create``; it settles a delivered order when nothing is left due).

An amount coupon gives its amount; a percentage coupon that percentage of the labour and
parts lines (after the discounts already on them). Either is capped at what is due.

Single use under races: the invoice row is locked first (as billing does), then the coupon
row (``select_for_update``), and the state moves issued → redeemed with a conditional
``UPDATE … WHERE state = 'issued'``: of two cashiers redeeming one code, one wins and the
other is told when and where it was redeemed. Refusals are coded (409, the reason in the
message): unknown code, not yet valid, expired, void, redeemed, another customer's,
another dealer's, below the minimum spend, nothing to discount.

Releasing: a draft invoice that is deleted (billing removes a draft whose lines are gone)
releases its coupons (a ``pre_delete`` receiver); ``coupon_release`` takes a coupon back
from a draft (the discount is removed) or from an issued invoice credited in full (the
settlement was reversed). A released coupon is issued again (expired when past its days).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from aftersales.billing.choices import InvoiceStatus
from aftersales.billing.invoices import invoice_add_discount
from aftersales.billing.money import ZERO, money, spread
from aftersales.care.choices import CouponState
from aftersales.care.models import Coupon
from aftersales.care.services import clean_code, locked_coupon
from aftersales.core.access import allowed_at
from aftersales.core.audit import audit_event, audit_update, snapshot
from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from aftersales.workorders.choices import LineKind, PayType

REDEEM = "care.redeem_coupon"
DISCOUNTED_KINDS = {LineKind.LABOUR, LineKind.PART}


class CouponRefused(Conflict):
    code = "coupon_refused"


@dataclass
class Quote:
    """What a coupon would give on an invoice: the discount and the amount it is taken
    from (``base``), or the refusal."""

    coupon: Coupon | None
    discount: Decimal = ZERO
    base: Decimal = ZERO
    refusal: CouponRefused | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None


def _refuse(code: str, message: str) -> CouponRefused:
    return CouponRefused(message, code=code)


def _day(value) -> str:
    return formats.date_format(value, "Y-m-d")


def state_refusal(coupon: Coupon | None, code: str, *, today=None) -> CouponRefused | None:
    """Why ``coupon`` cannot be used at all today (None: it can)."""
    today = today or timezone.localdate()
    if coupon is None:
        return _refuse(
            "coupon_unknown",
            _("There is no coupon %(code)s: check the code on the customer's message.")
            % {"code": code},
        )
    shown = coupon.display_code
    if coupon.state == CouponState.REDEEMED:
        return _refuse(
            "coupon_redeemed",
            _("Coupon %(code)s was already redeemed on %(day)s (invoice %(invoice)s).")
            % {
                "code": shown,
                "day": _day(timezone.localtime(coupon.redeemed_at)),
                "invoice": coupon.invoice or "—",
            },
        )
    if coupon.state == CouponState.VOID:
        return _refuse(
            "coupon_void",
            _("Coupon %(code)s was voided: %(reason)s")
            % {"code": shown, "reason": coupon.void_reason},
        )
    if coupon.state == CouponState.EXPIRED or coupon.valid_until < today:
        return _refuse(
            "coupon_expired",
            _("Coupon %(code)s expired: it was valid until %(day)s.")
            % {"code": shown, "day": _day(coupon.valid_until)},
        )
    if coupon.valid_from > today:
        return _refuse(
            "coupon_not_yet_valid",
            _("Coupon %(code)s is not valid yet: it may be used from %(day)s.")
            % {"code": shown, "day": _day(coupon.valid_from)},
        )
    return None


def _remaining(invoice, lines) -> dict[int, Decimal]:
    """Each line's gross amount still standing (after credit notes on issued invoices)."""
    if invoice.status == InvoiceStatus.DRAFT:
        return {line.pk: line.gross_amount for line in lines}
    from aftersales.billing.credit import credited_by_line

    credited = credited_by_line(invoice)
    return {
        line.pk: line.gross_amount - (credited.get(line.pk, {}).get("gross") or ZERO)
        for line in lines
    }


def quote(coupon: Coupon | None, invoice, *, code: str = "", today=None, lines=None) -> Quote:
    """What ``coupon`` gives on ``invoice``, or why it is refused. Reads only."""
    refusal = state_refusal(coupon, code, today=today)
    if refusal is not None:
        return Quote(coupon, refusal=refusal)
    shown = coupon.display_code
    if invoice.pay_type != PayType.CUSTOMER:
        return Quote(
            coupon,
            refusal=_refuse(
                "coupon_not_customer_invoice",
                _("Coupons are redeemed on the customer's invoice, not on a %(payer)s invoice.")
                % {"payer": invoice.get_pay_type_display()},
            ),
        )
    if invoice.customer_id != coupon.customer_id:
        return Quote(
            coupon,
            refusal=_refuse(
                "coupon_other_customer",
                _("Coupon %(code)s belongs to another customer: it is not transferable.")
                % {"code": shown},
            ),
        )
    if coupon.dealer_id and coupon.dealer_id != invoice.dealer_id:
        return Quote(
            coupon,
            refusal=_refuse(
                "coupon_other_dealer",
                _("Coupon %(code)s was issued by %(dealer)s and is redeemable there only.")
                % {"code": shown, "dealer": coupon.dealer.name},
            ),
        )
    lines = list(invoice.lines.all()) if lines is None else lines
    remaining = _remaining(invoice, lines)
    spent = sum(remaining.values(), ZERO)
    due = invoice.due_amount if invoice.status == InvoiceStatus.ISSUED else invoice.gross_amount
    if coupon.min_spend is not None and spent < coupon.min_spend:
        return Quote(
            coupon,
            refusal=_refuse(
                "coupon_below_minimum",
                _(
                    "Coupon %(code)s needs a spend of at least %(min)s; this invoice comes "
                    "to %(amount)s."
                )
                % {"code": shown, "min": coupon.min_spend, "amount": spent},
            ),
        )
    if coupon.amount is not None:
        base = spent
        discount = coupon.amount
    else:
        base = sum((remaining[line.pk] for line in lines if line.kind in DISCOUNTED_KINDS), ZERO)
        discount = money(base * coupon.percent / 100)
    discount = min(discount, max(due, ZERO))
    if discount <= 0:
        return Quote(
            coupon,
            refusal=_refuse(
                "coupon_nothing_due",
                _("Nothing on this invoice can be discounted with coupon %(code)s.")
                % {"code": shown},
            ),
        )
    return Quote(coupon, discount=discount, base=base)


# ---------------------------------------------------------------- check (no write)


def coupon_check(*, actor, code, invoice=None) -> Quote:
    """What a code would give (on ``invoice`` when given), without redeeming it. The
    invoice must be one the actor may redeem on (else 404 / 403)."""
    code = clean_code(code)
    coupon = Coupon.objects.select_related("dealer").filter(code=code).first() if code else None
    if invoice is None:
        return Quote(coupon, refusal=state_refusal(coupon, code))
    invoice = _invoice_for(actor, invoice)
    return quote(coupon, invoice, code=code)


def _invoice_for(actor, invoice, *, lock=False, version=None):
    from aftersales.billing.invoices import locked_invoice
    from aftersales.billing.models import Invoice
    from aftersales.org.models import Dealer

    pk = getattr(invoice, "pk", invoice)
    dealer_id = Invoice.objects.filter(pk=pk).values_list("dealer_id", flat=True).first()
    if dealer_id is None:
        raise NotFound()
    dealer = Dealer(pk=dealer_id)
    if not allowed_at(actor, REDEEM, dealer=dealer):
        if allowed_at(actor, "billing.view_invoice", dealer=dealer):
            raise PermissionDenied()
        raise NotFound()
    if lock:
        return locked_invoice(pk, version=version)
    return Invoice.objects.get(pk=pk)


# ---------------------------------------------------------------- redeem


@transaction.atomic
def coupon_redeem(*, actor, code, invoice, version=None) -> Coupon:
    """Redeem the coupon ``code`` on ``invoice`` (the customer invoice of a repair order)
    and return it (``discount`` says what it gave). Refused with the reason (409
    ``coupon_*``) changing nothing."""
    code = clean_code(code)
    if not code:
        message = _("Enter the coupon code.")
        raise ValidationFailed(message, code="coupon_code", fields={"code": [message]})
    invoice = _invoice_for(actor, invoice, lock=True, version=version)
    coupon = (
        Coupon.objects.select_for_update(of=("self",))
        .select_related("dealer")
        .filter(code=code)
        .first()
    )
    lines = list(invoice.lines.all())
    offer = quote(coupon, invoice, code=code, lines=lines)
    if not offer.ok:
        raise offer.refusal
    now = timezone.now()
    claimed = Coupon.objects.filter(pk=coupon.pk, state=CouponState.ISSUED).update(
        state=CouponState.REDEEMED,
        invoice=invoice,
        redeemed_dealer_id=invoice.dealer_id,
        redeemed_by=actor,
        redeemed_at=now,
        discount=offer.discount,
    )
    if not claimed:  # only without row locks; the lock makes the check above see it
        coupon.refresh_from_db()
        raise state_refusal(coupon, code) or _refuse("coupon_redeemed", _("Already redeemed."))
    before = snapshot(coupon)
    if invoice.status == InvoiceStatus.DRAFT:
        invoice_add_discount(invoice, lines, offer.discount, actor=actor)
        note = None
    else:
        note = _credit_issued(invoice, lines, coupon, offer, actor=actor)
    coupon = Coupon.objects.select_related("dealer", "invoice").get(pk=coupon.pk)
    if note is not None:
        coupon.credit_note = note
        coupon.save(update_fields=["credit_note"])
    audit_update(coupon, actor=actor, before=before)
    return coupon


def _credit_issued(invoice, lines, coupon, offer: Quote, *, actor):
    from aftersales.billing.credit import credit_note_create

    remaining = _remaining(invoice, lines)
    chosen = [
        line
        for line in lines
        if remaining[line.pk] > 0 and (coupon.amount is not None or line.kind in DISCOUNTED_KINDS)
    ]
    shares = spread(offer.discount, [remaining[line.pk] for line in chosen])
    requested = [
        {"invoice_line": line.pk, "amount": share}
        for line, share in zip(chosen, shares, strict=True)
        if share > 0
    ]
    return credit_note_create(
        actor=actor,
        invoice=invoice,
        lines=requested,
        reason=_("Coupon %(code)s") % {"code": coupon.display_code},
    )


# ---------------------------------------------------------------- release


class CouponNotRedeemed(Conflict):
    code = "coupon_not_redeemed"


class InvoiceStillStands(Conflict):
    code = "invoice_not_reversed"


def _released_state(coupon: Coupon, today) -> str:
    return CouponState.EXPIRED if coupon.valid_until < today else CouponState.ISSUED


RELEASED = {
    "invoice": None,
    "credit_note": None,
    "redeemed_dealer": None,
    "redeemed_by": None,
    "redeemed_at": None,
    "discount": None,
}


@transaction.atomic
def coupon_release(*, actor, coupon) -> Coupon:
    """Take a redeemed coupon back: from a draft invoice (its discount is removed), from
    a deleted invoice, or from an issued invoice credited in full. Refused while the
    issued invoice still stands (409 ``invoice_not_reversed``)."""
    from aftersales.billing.invoices import locked_invoice
    from aftersales.org.models import Dealer

    coupon = locked_coupon(coupon)
    where = coupon.redeemed_dealer_id or coupon.dealer_id
    if not allowed_at(actor, REDEEM, dealer=Dealer(pk=where) if where else None):
        raise NotFound()
    if coupon.state != CouponState.REDEEMED:
        raise CouponNotRedeemed(
            _("Coupon %(code)s is %(state)s: only a redeemed coupon can be released.")
            % {"code": coupon.display_code, "state": coupon.get_state_display()}
        )
    if coupon.invoice_id:
        # lock order: invoice before coupon, as in redeem; the coupon's lock is already
        # held, so a concurrent redeem of it waits on us and then sees the new state
        invoice = locked_invoice(coupon.invoice_id)
        if invoice.status == InvoiceStatus.DRAFT:
            lines = list(invoice.lines.all())
            invoice_add_discount(
                invoice, lines, -min(coupon.discount or ZERO, invoice.invoice_discount), actor=actor
            )
        elif invoice.credited_amount < invoice.gross_amount:
            raise InvoiceStillStands(
                _(
                    "Invoice %(invoice)s still stands: the coupon is released only when the "
                    "invoice is credited in full (the settlement is reversed)."
                )
                % {"invoice": invoice}
            )
    before = snapshot(coupon)
    for name, value in RELEASED.items():
        setattr(coupon, name, value)
    coupon.state = _released_state(coupon, timezone.localdate())
    from aftersales.care.services import _bump

    _bump(coupon, ["state", *RELEASED])
    audit_update(coupon, actor=actor, before=before)
    return coupon


@receiver(pre_delete, sender="billing.Invoice", dispatch_uid="care-release-coupons")
def release_on_invoice_delete(sender, instance, **kwargs):
    """A draft invoice deleted by billing (its lines left the order) gives its coupons
    back to their customers."""
    today = timezone.localdate()
    for coupon in Coupon.objects.select_for_update().filter(
        invoice_id=instance.pk, state=CouponState.REDEEMED
    ):
        coupon_state = _released_state(coupon, today)
        Coupon.objects.filter(pk=coupon.pk).update(state=coupon_state, **RELEASED)
        audit_event(
            coupon,
            actor=None,
            action="release",
            changes={"state": [CouponState.REDEEMED, coupon_state], "invoice": [instance.pk, None]},
        )
