"""Cash closing (日结, issue 6 item 5): per cashier and business day, what the system
recorded per payment method against the cash counted in the drawer.

``closing_totals`` sums the cashier's payments (less refunds) and deposits taken (less
deposits refunded) that day per method, in the database. ``cash_closing_create`` records
them with the counted cash and the difference (counted − expected cash); a difference
other than zero needs a reason. Afterwards that cashier's day takes no more payments,
refunds, deposits or deposit refunds (``payments.require_day_open``): both sides lock the
cashier's user row, so no payment can slip in while the totals are counted.
"""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.billing.choices import CENT, PaymentKind, PaymentMethod
from aftersales.billing.models import CashClosing, Deposit, Payment
from aftersales.billing.money import parse_money
from aftersales.billing.payments import business_day, lock_cashier
from aftersales.core.access import require_at
from aftersales.core.audit import audit_create
from aftersales.core.errors import Conflict, ValidationFailed

ZERO = Decimal("0")


class AlreadyClosed(Conflict):
    code = "already_closed"


def closing_totals(*, dealer_id: int, cashier_id: int, day) -> dict:
    """{method: Decimal} net money of the cashier's day, every method present; three
    queries. Money in: payments and deposits taken; money out: refunds of payments and
    deposits refunded that day by this cashier (by the method the deposit was paid with).
    The "deposit" method is money already held (deposits used), shown for completeness
    and not counted in the drawer."""
    totals = dict.fromkeys(PaymentMethod.values, ZERO)
    rows = (
        Payment.objects.filter(dealer_id=dealer_id, cashier_id=cashier_id, business_day=day)
        .order_by()
        .values("kind", "method")
        .annotate(total=Sum("amount"))
    )
    for row in rows:
        sign = -1 if row["kind"] == PaymentKind.REFUND else 1
        totals[row["method"]] += sign * row["total"]
    taken = (
        Deposit.objects.filter(dealer_id=dealer_id, cashier_id=cashier_id, business_day=day)
        .order_by()
        .values("method")
        .annotate(total=Sum("amount"))
    )
    for row in taken:
        totals[row["method"]] += row["total"]
    refunded = (
        Deposit.objects.filter(dealer_id=dealer_id, refunded_by_id=cashier_id, refund_day=day)
        .order_by()
        .values("method")
        .annotate(total=Sum("refunded_amount"))
    )
    for row in refunded:
        totals[row["method"]] -= row["total"]
    return {method: Decimal(total).quantize(CENT) for method, total in totals.items()}


def day_summary(*, dealer_id: int, cashier_id: int, day) -> dict:
    """What the closing page shows before closing: the totals, the expected cash and the
    closing if the day is already closed."""
    totals = closing_totals(dealer_id=dealer_id, cashier_id=cashier_id, day=day)
    closing = CashClosing.objects.filter(
        dealer_id=dealer_id, cashier_id=cashier_id, business_day=day
    ).first()
    return {
        "day": day,
        "totals": totals,
        "expected_cash": totals[PaymentMethod.CASH],
        "taken": sum((v for k, v in totals.items() if k != PaymentMethod.DEPOSIT), ZERO),
        "closing": closing,
    }


@transaction.atomic
def cash_closing_create(
    *, actor, counted_cash, reason: str = "", day=None, cashier=None, dealer=None
) -> CashClosing:
    """Close ``cashier``'s (default: the actor's) ``day`` (default: today) at ``dealer``
    (default: the actor's dealer)."""
    dealer = dealer or getattr(actor, "dealer", None)
    if dealer is None:
        raise ValidationFailed(_("Choose the dealer whose cash day is closed."), code="no_dealer")
    require_at(actor, "billing.add_cashclosing", dealer=dealer)
    cashier = cashier or actor
    today = business_day()
    day = day or today
    if day > today:
        raise ValidationFailed(
            _("A day that has not begun cannot be closed."), fields={"day": [_("In the future.")]}
        )
    counted = parse_money(counted_cash, field="counted_cash", positive=False)
    if counted < ZERO:
        raise ValidationFailed(
            _("Counted cash cannot be negative."), fields={"counted_cash": [_("Negative.")]}
        )
    reason = (reason or "").strip()
    lock_cashier(cashier)
    if CashClosing.objects.filter(dealer=dealer, cashier=cashier, business_day=day).exists():
        raise AlreadyClosed(
            _("The cash day %(day)s of %(cashier)s is already closed.")
            % {"day": day.isoformat(), "cashier": cashier}
        )
    totals = closing_totals(dealer_id=dealer.pk, cashier_id=cashier.pk, day=day)
    expected = totals[PaymentMethod.CASH]
    difference = counted - expected
    if difference != ZERO and not reason:
        raise ValidationFailed(
            _(
                "The counted cash differs from the expected %(expected)s by %(difference)s: "
                "give the reason."
            )
            % {"expected": expected, "difference": difference},
            code="reason_required",
            fields={"reason": [_("Required when there is a difference.")]},
        )
    if len(reason) > 300:
        raise ValidationFailed(
            _("The reason has at most 300 characters."), fields={"reason": [_("Too long.")]}
        )
    try:
        with transaction.atomic():
            closing = CashClosing.objects.create(
                dealer=dealer,
                cashier=cashier,
                business_day=day,
                totals={k: str(v) for k, v in totals.items()},
                expected_cash=expected,
                counted_cash=counted,
                difference=difference,
                reason=reason,
                closed_by=actor,
            )
    except IntegrityError:
        raise AlreadyClosed(
            _("The cash day %(day)s of %(cashier)s is already closed.")
            % {"day": day.isoformat(), "cashier": cashier}
        ) from None
    audit_create(closing, actor=actor)
    return closing


def closed_at(closing) -> str:
    return timezone.localtime(closing.closed_at).strftime("%Y-%m-%d %H:%M")
