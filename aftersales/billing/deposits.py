"""Deposits (预付款/定金): money taken at reception against a repair order, used later
to pay that order's invoice (a payment by the method "deposit", see ``payments.py``) and
what is left refunded at the end.

A deposit's running totals (``used_amount``, ``refunded_amount``) change only under its
row lock; ``available`` = amount − used − refunded never goes below zero (a database check
backs it). Taking a deposit needs an idempotency key like a payment does: besides
``core.idempotency.once`` the key is stored in ``Deposit.request_key`` (unique per dealer)
and looked up again under the cashier's lock, for a retry that arrives under another user.
The refund records who paid it back, on which business day and why: it is money out of
that cashier's drawer in the cash closing (``closing.closing_totals``).
"""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from aftersales.billing.choices import DepositStatus, PaymentMethod
from aftersales.billing.models import Deposit
from aftersales.billing.money import parse_money
from aftersales.billing.payments import (
    TRADE_NUMBER_METHODS,
    KeyReused,
    _required_key,
    _save_deposit,
    business_day,
    require_billing,
    require_day_open,
)
from aftersales.core.audit import audit_create
from aftersales.core.errors import Conflict, NotFound, ValidationFailed
from aftersales.core.idempotency import once
from aftersales.core.numbering import next_number

ZERO = Decimal("0")
DEPOSIT_METHODS = [m for m in PaymentMethod.values if m != PaymentMethod.DEPOSIT]


@transaction.atomic
def deposit_take(
    *, actor, repair_order, method: str, amount, reference: str = "", key: str
) -> Deposit:
    """Take a deposit for ``repair_order`` (an open order of the cashier's dealer)."""
    from aftersales.workorders.choices import FINAL
    from aftersales.workorders.models import RepairOrder

    key = _required_key(key)
    order_id = getattr(repair_order, "pk", repair_order)
    order = RepairOrder.objects.filter(pk=order_id).first()
    if order is None:
        raise NotFound()
    require_billing(
        actor, "billing.add_payment", order.dealer_id, visible="workorders.view_repairorder"
    )
    if method not in DEPOSIT_METHODS:
        raise ValidationFailed(
            _("Choose how the deposit is paid."), fields={"method": [_("Unknown payment method.")]}
        )
    amount = parse_money(amount)
    reference = (reference or "").strip()
    if method in TRADE_NUMBER_METHODS and not reference:
        raise ValidationFailed(
            _("Enter the trade number of the %(method)s payment (shown on the payer's phone).")
            % {"method": PaymentMethod(method).label},
            code="missing_reference",
            fields={"reference": [_("Required.")]},
        )
    if len(reference) > 60:
        raise ValidationFailed(
            _("The reference has at most 60 characters."), fields={"reference": [_("Too long.")]}
        )

    def act():
        first = _existing(order.dealer_id, key)
        if first is not None:  # the same request under another user's key row
            return first
        if order.status in FINAL:
            raise Conflict(
                _("Repair order %(number)s is %(status)s: it takes no deposit.")
                % {"number": order.number, "status": order.get_status_display()},
                code="order_closed",
            )
        day = business_day()
        require_day_open(actor=actor, dealer_id=order.dealer_id, day=day)
        deposit = Deposit(
            dealer_id=order.dealer_id,
            repair_order=order,
            customer_id=order.customer_id,
            number=next_number(doc_type="DP", dealer=order.dealer),
            method=method,
            amount=amount,
            reference=reference,
            request_key=key,
            cashier=actor,
            business_day=day,
        )
        try:
            with transaction.atomic():
                deposit.save(force_insert=True)
        except IntegrityError:  # the unique request key: an equal request got in first
            first = _existing(order.dealer_id, key)
            if first is None:
                raise
            return first
        deposit.replayed = False
        audit_create(deposit, actor=actor)
        return deposit

    deposit, acted = once(
        user=actor, scope=f"billing.deposit:{order.pk}", key=key, action=act, model=Deposit
    )
    deposit.replayed = not acted or getattr(deposit, "replayed", True)
    if deposit.replayed:
        _same_request(deposit, repair_order_id=order.pk, method=method, amount=amount)
    return deposit


def _existing(dealer_id: int, key: str) -> Deposit | None:
    first = Deposit.objects.filter(dealer_id=dealer_id, request_key=key).first()
    if first is not None:
        first.replayed = True
    return first


def _same_request(deposit: Deposit, **expected) -> None:
    """A key sent again must describe the same deposit, or it was reused by mistake."""
    different = [name for name, value in expected.items() if getattr(deposit, name) != value]
    if different:
        raise KeyReused(
            _(
                "This idempotency key was already used for a different request "
                "(%(fields)s). Send a new key for a new payment."
            )
            % {"fields": ", ".join(different)}
        )


@transaction.atomic
def deposit_refund(*, actor, deposit: Deposit | int, reason: str, key: str) -> Deposit:
    """Pay back what is left of the deposit (by the method it was paid with), as money
    out of the actor's cash day (refused once that day is closed). A retry with the same
    key answers the same deposit; a second refund finds nothing left."""
    key = _required_key(key)
    deposit_id = getattr(deposit, "pk", deposit)
    dealer_id = Deposit.objects.filter(pk=deposit_id).values_list("dealer_id", flat=True).first()
    if dealer_id is None:
        raise NotFound()
    require_billing(actor, "billing.refund_payment", dealer_id, visible="billing.view_payment")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Give the reason for the refund."),
            code="reason_required",
            fields={"reason": [_("Required.")]},
        )
    if len(reason) > 300:
        raise ValidationFailed(
            _("The reason has at most 300 characters."), fields={"reason": [_("Too long.")]}
        )

    def act():
        # locks in the order payments take them: the cashier's day, then the deposit
        day = business_day()
        require_day_open(actor=actor, dealer_id=dealer_id, day=day)
        row = Deposit.objects.select_for_update(of=("self",)).get(pk=deposit_id)
        left = row.available
        if left <= ZERO or row.status == DepositStatus.USED:
            raise Conflict(
                _("Deposit %(deposit)s has nothing left to refund.") % {"deposit": row},
                code="nothing_left",
            )
        _save_deposit(
            row,
            actor=actor,
            refunded=left,
            refunded_by=actor,
            refund_day=day,
            refund_reason=reason,
        )
        return row

    row, acted = once(
        user=actor, scope=f"billing.deposit-refund:{deposit_id}", key=key, action=act, model=Deposit
    )
    row.replayed = not acted
    return row


def deposits_visible(user, action: str = "view"):
    """Deposits where the user may see (or, ``action="add"``, take) payments: deposits
    have no permissions of their own; they follow the payments'."""
    from aftersales.core.access import user_scope

    scope = user_scope(user, f"billing.{action}_payment")
    if scope.everything:
        return Deposit.objects.all()
    return Deposit.objects.filter(dealer_id__in=scope.dealer_ids)


def open_deposits(order) -> list[Deposit]:
    """The order's deposits with something left to use or refund."""
    return list(
        Deposit.objects.filter(repair_order=order, status=DepositStatus.OPEN).order_by(
            "created_at", "id"
        )
    )
