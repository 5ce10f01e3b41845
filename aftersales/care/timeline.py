"""Coupons in the customer 360 timeline: each coupon the viewer may see, when it was
given (value, why, by whom, valid until) and, for redeemed ones, when and on which invoice
it was used. Autodiscovered by ``crm.timeline.customer_timeline``; two queries of at most
``limit`` rows, scoped with ``restrict``."""

from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.care.choices import CouponState
from aftersales.crm.timeline import TimelineEntry, timeline_source


def _coupons(customer, user):
    from aftersales.care.models import Coupon

    return (
        Coupon.objects.restrict(user, "view")
        .filter(customer=customer)
        .select_related("dealer", "invoice", "redeemed_dealer")
    )


def _url(coupon) -> str:
    return reverse("care-coupon-list") + f"?q={coupon.code}"


@timeline_source("care.coupon")
def coupon_entries(customer, user, limit, before):
    rows = _coupons(customer, user)
    if before is not None:
        rows = rows.filter(issued_at__lt=before)
    for coupon in rows.order_by("-issued_at", "-id")[:limit]:
        issuer = coupon.dealer.name if coupon.dealer_id else _("the OEM")
        yield TimelineEntry(
            at=coupon.issued_at,
            kind="care.coupon",
            title=_("Coupon %(code)s given: %(value)s (%(reason)s)")
            % {
                "code": coupon.display_code,
                "value": coupon.value_label,
                "reason": coupon.get_reason_display(),
            },
            detail=_("by %(issuer)s, valid until %(day)s · %(state)s")
            % {
                "issuer": issuer,
                "day": coupon.valid_until.isoformat(),
                "state": coupon.get_state_display(),
            },
            url=_url(coupon),
            icon="gift",
        )


@timeline_source("care.coupon_redeemed")
def redeemed_entries(customer, user, limit, before):
    rows = _coupons(customer, user).filter(state=CouponState.REDEEMED)
    if before is not None:
        rows = rows.filter(redeemed_at__lt=before)
    for coupon in rows.order_by("-redeemed_at", "-id")[:limit]:
        yield TimelineEntry(
            at=coupon.redeemed_at,
            kind="care.coupon_redeemed",
            title=_("Coupon %(code)s redeemed: %(discount)s off")
            % {"code": coupon.display_code, "discount": coupon.discount},
            detail=_("invoice %(invoice)s at %(dealer)s")
            % {
                "invoice": coupon.invoice or _("(draft)"),
                "dealer": coupon.redeemed_dealer.name if coupon.redeemed_dealer_id else "",
            },
            url=_url(coupon),
            icon="receipt-cutoff",
        )
