"""Taking payments and refunds against issued invoices (SPEC §7, issue 6 item 3).

``payment_take`` and ``payment_refund`` lock the invoice row, so the running total
``Invoice.paid_amount`` (payments − refunds) only changes one request at a time, and check
against what is due (or, for a refund, what the refunded payment still holds) under that
lock. Every request carries a client key: a retried or double-clicked request returns the
first payment and records nothing. Two lines of defence make that hold with concurrent
requests: ``core.idempotency.once`` (one key row per user, scope and key, inserted first in
the same transaction) and the database's unique ``(invoice, kind, request_key)``, checked
again under the invoice lock, for a retry that arrives under another user.

Amounts are ``Decimal`` CNY with two places; an amount with more places is refused rather
than rounded (the cashier types what changes hands). Cash may be handed over in excess of
the amount paid: ``change = tendered − amount``. A cashier whose day is closed
(``closing.py``) takes no more payments or refunds that day.
"""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.billing.choices import InvoiceStatus, PaymentKind, PaymentMethod
from aftersales.billing.models import CashClosing, Deposit, Invoice, Payment
from aftersales.billing.money import parse_money
from aftersales.core.access import allowed_at
from aftersales.core.audit import audit_create, audit_update, snapshot
from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from aftersales.core.idempotency import clean_key, once

ZERO = Decimal("0")
# methods whose payments carry the provider's trade number (交易单号) in ``reference``
TRADE_NUMBER_METHODS = {PaymentMethod.WECHAT, PaymentMethod.ALIPAY}


class OverPayment(Conflict):
    code = "over_due"


class DayClosed(Conflict):
    code = "day_closed"


class NotIssued(Conflict):
    code = "not_issued"


class KeyReused(Conflict):
    code = "key_reused"


# ---------------------------------------------------------------- helpers


def business_day(now=None):
    """The cashier's business day: the local (Asia/Shanghai) date of the moment."""
    return timezone.localdate(now)


def require_billing(actor, permission: str, dealer_id: int, *, visible: str) -> None:
    """``permission`` at the dealer, or refuse: 404 when the actor may not even see the
    record there (another dealer's invoice), 403 otherwise."""
    from aftersales.org.models import Dealer

    dealer = Dealer(pk=dealer_id)
    if allowed_at(actor, permission, dealer=dealer):
        return
    if allowed_at(actor, visible, dealer=dealer):
        raise PermissionDenied()
    raise NotFound()


def lock_cashier(cashier) -> None:
    """Serialise a cashier's money movements with the closing of their day: both lock the
    cashier's user row, so no payment slips in while the day's totals are counted."""
    from django.contrib.auth import get_user_model

    list(get_user_model().objects.select_for_update().filter(pk=cashier.pk).values_list("pk"))


def require_day_open(*, actor, dealer_id: int, day) -> None:
    """Refuse when the actor's cash day is closed (and hold it open until commit)."""
    if actor is None:
        return
    lock_cashier(actor)
    if CashClosing.objects.filter(dealer_id=dealer_id, cashier=actor, business_day=day).exists():
        raise DayClosed(
            _(
                "Your cash day %(day)s is closed: no more payments or refunds can be "
                "recorded under your name today."
            )
            % {"day": day.isoformat()}
        )


def _locked_invoice(invoice) -> Invoice:
    pk = getattr(invoice, "pk", invoice)
    try:
        return Invoice.objects.select_for_update(of=("self",)).get(pk=pk)
    except Invoice.DoesNotExist:
        raise NotFound() from None


def _required_key(key) -> str:
    key = clean_key(key)
    if not key:
        raise ValidationFailed(
            _("A payment request needs an idempotency key, so that a retry is recorded once."),
            code="idempotency_key_required",
        )
    return key


def _existing(invoice_id: int, kind: str, key: str):
    return Payment.objects.filter(invoice_id=invoice_id, kind=kind, request_key=key).first()


def _same_request(payment: Payment, **expected) -> None:
    """A key sent again must describe the same request: otherwise it was reused by
    mistake, and answering with the first payment would hide that."""
    different = [
        name
        for name, value in expected.items()
        if value is not None and getattr(payment, name) != value
    ]
    if different:
        raise KeyReused(
            _(
                "This idempotency key was already used for a different request "
                "(%(fields)s). Send a new key for a new payment."
            )
            % {"fields": ", ".join(different)}
        )


def _insert(payment: Payment) -> Payment:
    """Insert ``payment``; if the unique request key says an equal request got in first
    (only possible without the invoice lock, i.e. never on PostgreSQL), return that one."""
    try:
        with transaction.atomic():
            payment.save(force_insert=True)
    except IntegrityError:
        first = _existing(payment.invoice_id, payment.kind, payment.request_key)
        if first is None:
            raise
        first.replayed = True
        return first
    payment.replayed = False
    return payment


def _after_change(invoice: Invoice, actor) -> None:
    from aftersales.billing.settlement import settle_after_payment

    settle_after_payment(invoice=invoice, actor=actor)


# ---------------------------------------------------------------- payments


@transaction.atomic
def payment_take(
    *,
    actor,
    invoice: Invoice | int,
    method: str,
    amount,
    tendered=None,
    reference: str = "",
    deposit: Deposit | int | None = None,
    key: str,
) -> Payment:
    """Take ``amount`` from the invoice's payer by ``method``. Returns the payment, with
    ``replayed`` True when ``key`` was sent before (nothing new is recorded then)."""
    key = _required_key(key)
    invoice_id = getattr(invoice, "pk", invoice)
    dealer_id = Invoice.objects.filter(pk=invoice_id).values_list("dealer_id", flat=True).first()
    if dealer_id is None:
        raise NotFound()
    require_billing(actor, "billing.add_payment", dealer_id, visible="billing.view_invoice")
    if method not in PaymentMethod.values:
        raise ValidationFailed(
            _("Choose a payment method."), fields={"method": [_("Unknown payment method.")]}
        )
    amount = parse_money(amount)
    tendered = parse_money(tendered, field="tendered") if tendered not in (None, "") else None
    reference = (reference or "").strip()
    deposit_id = getattr(deposit, "pk", deposit)

    def act():
        return _take(
            actor=actor,
            invoice_id=invoice_id,
            method=method,
            amount=amount,
            tendered=tendered,
            reference=reference,
            deposit_id=deposit_id,
            key=key,
        )

    payment, acted = once(
        user=actor, scope=f"billing.payment:{invoice_id}", key=key, action=act, model=Payment
    )
    if not acted:
        payment.replayed = True
    if payment.replayed:
        _same_request(payment, kind=PaymentKind.PAYMENT, method=method, amount=amount)
    return payment


def _take(*, actor, invoice_id, method, amount, tendered, reference, deposit_id, key) -> Payment:
    invoice = _locked_invoice(invoice_id)
    first = _existing(invoice.pk, PaymentKind.PAYMENT, key)
    if first is not None:  # the same request under another user's key row
        first.replayed = True
        return first
    if invoice.status != InvoiceStatus.ISSUED:
        raise NotIssued(
            _("Invoice %(invoice)s is not issued yet: only issued invoices can be paid.")
            % {"invoice": invoice}
        )
    day = business_day()
    require_day_open(actor=actor, dealer_id=invoice.dealer_id, day=day)
    due = invoice.due_amount
    if amount > due:
        raise OverPayment(
            _(
                "%(amount)s is more than the %(due)s still due on invoice %(invoice)s. "
                "For cash, enter the amount due and the cash handed over: the change is "
                "worked out."
            )
            % {"amount": amount, "due": max(due, ZERO), "invoice": invoice},
            fields={"amount": [_("At most %(due)s.") % {"due": max(due, ZERO)}]},
        )
    change = ZERO
    if method == PaymentMethod.CASH:
        if tendered is not None:
            if tendered < amount:
                raise ValidationFailed(
                    _(
                        "The cash handed over (%(tendered)s) is less than the amount paid "
                        "(%(amount)s)."
                    )
                    % {"tendered": tendered, "amount": amount},
                    code="short_tendered",
                    fields={"tendered": [_("At least %(amount)s.") % {"amount": amount}]},
                )
            change = tendered - amount
    elif tendered is not None:
        raise ValidationFailed(
            _("Only cash payments have cash handed over and change."),
            fields={"tendered": [_("Leave empty unless paying in cash.")]},
        )
    if method in TRADE_NUMBER_METHODS and not reference:
        raise ValidationFailed(
            _("Enter the trade number of the %(method)s payment (shown on the payer's phone).")
            % {"method": PaymentMethod(method).label},
            code="missing_reference",
            fields={
                "reference": [
                    _("Required for %(method)s.") % {"method": PaymentMethod(method).label}
                ]
            },
        )
    if len(reference) > 60:
        raise ValidationFailed(
            _("The reference has at most 60 characters."), fields={"reference": [_("Too long.")]}
        )
    deposit = None
    if method == PaymentMethod.DEPOSIT:
        deposit = _use_deposit(invoice=invoice, deposit_id=deposit_id, amount=amount)
    elif deposit_id:
        raise ValidationFailed(
            _("A deposit is only used with the method “deposit”."),
            fields={"deposit": [_("Not expected.")]},
        )
    payment = _insert(
        Payment(
            dealer_id=invoice.dealer_id,
            invoice=invoice,
            kind=PaymentKind.PAYMENT,
            method=method,
            amount=amount,
            tendered=tendered if method == PaymentMethod.CASH else None,
            change=change,
            reference=reference or (deposit.number if deposit else ""),
            deposit=deposit,
            request_key=key,
            cashier=actor,
            business_day=day,
        )
    )
    if payment.replayed:
        return payment
    if deposit is not None:
        _save_deposit(deposit, actor=actor, used=amount)
    invoice.paid_amount += amount
    invoice.save(update_fields=["paid_amount"])
    audit_create(payment, actor=actor)
    _after_change(invoice, actor)
    return payment


def _use_deposit(*, invoice: Invoice, deposit_id, amount) -> Deposit:
    if not deposit_id:
        raise ValidationFailed(
            _("Choose the deposit to pay from."), fields={"deposit": [_("Required.")]}
        )
    deposit = (
        Deposit.objects.select_for_update(of=("self",))
        .filter(pk=deposit_id, dealer_id=invoice.dealer_id)
        .first()
    )
    if deposit is None:
        raise NotFound(_("Deposit not found."))
    if deposit.repair_order_id and deposit.repair_order_id != invoice.repair_order_id:
        raise ValidationFailed(
            _("Deposit %(deposit)s was taken for another repair order.") % {"deposit": deposit},
            code="deposit_other_order",
            fields={"deposit": [_("Another repair order's deposit.")]},
        )
    if amount > deposit.available:
        raise OverPayment(
            _("Deposit %(deposit)s has only %(available)s left.")
            % {"deposit": deposit, "available": deposit.available},
            code="deposit_short",
            fields={"amount": [_("At most %(available)s.") % {"available": deposit.available}]},
        )
    return deposit


def _save_deposit(deposit: Deposit, *, actor, used=ZERO, refunded=ZERO, **changes) -> None:
    """Move the deposit's running totals (under its row lock) and set ``changes``."""
    from aftersales.billing.choices import DepositStatus

    before = snapshot(deposit)
    deposit.used_amount += used
    deposit.refunded_amount += refunded
    deposit.status = DepositStatus.OPEN if deposit.available > ZERO else DepositStatus.USED
    deposit.version += 1
    for name, value in changes.items():
        setattr(deposit, name, value)
    deposit.save(update_fields=["used_amount", "refunded_amount", "status", "version", *changes])
    audit_update(deposit, actor=actor, before=before)


# ---------------------------------------------------------------- refunds


def refundable(payment: Payment) -> Decimal:
    """What ``payment`` still holds: its amount less the refunds of it."""
    from django.db.models import Sum

    refunded = payment.refunds.aggregate(s=Sum("amount"))["s"] or ZERO
    return payment.amount - refunded


@transaction.atomic
def payment_refund(
    *,
    actor,
    payment: Payment | int,
    amount,
    reason: str,
    key: str,
    credit_note=None,
) -> Payment:
    """Pay back up to what ``payment`` still holds, by the same method (a deposit payment
    goes back to its deposit). Returns the refund (``replayed`` as for payments)."""
    key = _required_key(key)
    payment_id = getattr(payment, "pk", payment)
    row = Payment.objects.filter(pk=payment_id).values("dealer_id", "invoice_id", "kind").first()
    if row is None:
        raise NotFound()
    require_billing(
        actor, "billing.refund_payment", row["dealer_id"], visible="billing.view_payment"
    )
    if row["kind"] != PaymentKind.PAYMENT:
        raise ValidationFailed(_("A refund cannot be refunded."), code="not_a_payment")
    amount = parse_money(amount)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Give the reason for the refund."), fields={"reason": [_("Required.")]}
        )
    if len(reason) > 300:
        raise ValidationFailed(
            _("The reason has at most 300 characters."), fields={"reason": [_("Too long.")]}
        )
    credit_note_id = getattr(credit_note, "pk", credit_note)

    def act():
        return _refund(
            actor=actor,
            invoice_id=row["invoice_id"],
            payment_id=payment_id,
            amount=amount,
            reason=reason,
            key=key,
            credit_note_id=credit_note_id,
        )

    refund, acted = once(
        user=actor, scope=f"billing.refund:{row['invoice_id']}", key=key, action=act, model=Payment
    )
    if not acted:
        refund.replayed = True
    if refund.replayed:
        _same_request(refund, kind=PaymentKind.REFUND, refund_of_id=payment_id, amount=amount)
    return refund


def _refund(*, actor, invoice_id, payment_id, amount, reason, key, credit_note_id) -> Payment:
    invoice = _locked_invoice(invoice_id)
    first = _existing(invoice.pk, PaymentKind.REFUND, key)
    if first is not None:
        first.replayed = True
        return first
    original = Payment.objects.get(pk=payment_id)
    day = business_day()
    require_day_open(actor=actor, dealer_id=invoice.dealer_id, day=day)
    holds = refundable(original)
    if amount > holds:
        raise OverPayment(
            _("Payment of %(paid)s still holds %(holds)s: a refund cannot be more.")
            % {"paid": original.amount, "holds": holds},
            code="refund_over",
            fields={"amount": [_("At most %(holds)s.") % {"holds": holds}]},
        )
    credit = None
    if credit_note_id:
        from aftersales.billing.models import CreditNote

        credit = CreditNote.objects.filter(pk=credit_note_id, invoice_id=invoice.pk).first()
        if credit is None:
            raise ValidationFailed(
                _("The credit note belongs to another invoice."),
                fields={"credit_note": [_("Not a credit note of this invoice.")]},
            )
    deposit = None
    if original.deposit_id:
        deposit = Deposit.objects.select_for_update(of=("self",)).get(pk=original.deposit_id)
    refund = _insert(
        Payment(
            dealer_id=invoice.dealer_id,
            invoice=invoice,
            kind=PaymentKind.REFUND,
            method=original.method,
            amount=amount,
            reference=original.reference,
            deposit=deposit,
            refund_of=original,
            credit_note=credit,
            reason=reason,
            request_key=key,
            cashier=actor,
            business_day=day,
        )
    )
    if refund.replayed:
        return refund
    if deposit is not None:  # the money goes back to the deposit it came from
        _save_deposit(deposit, actor=actor, used=-amount)
    invoice.paid_amount -= amount
    invoice.save(update_fields=["paid_amount"])
    audit_create(refund, actor=actor)
    return refund
