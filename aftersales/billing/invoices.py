"""Invoices from a repair order (SPEC §7, issue 6 items 1, 2 and 4).

``invoice_prepare`` turns the order's approved lines into one *draft* invoice per payer
(pay type): the customer part, the warranty part (payer: the OEM, which pays it through a
warranty claim), the insurance part (payer: the insurer, with its claim/report number) and
the internal part. Run again after the order changed, it refreshes the drafts (keeping the
discounts already given on lines still there) and removes a draft whose lines are gone;
lines already on an issued invoice are never billed twice.

``invoice_update`` edits a draft: the fapiao (发票) details of the buyer (a company needs
its title and an 18-character unified social credit code with a valid check character),
the payer/insurer fields, line discounts and an invoice discount, each within the largest
discount of the actor's roles at the dealer (``setup.discount_limit_of``).

``invoice_issue`` gives the invoice its gap-free number (``core.numbering``) and freezes
it: after that every edit is refused with 409 ``invoice_issued``; corrections are credit
notes (``aftersales.billing.credit``). Every service locks the invoice row, checks the
``version`` the client saw (409 ``stale``), and writes the audit trail.

Amounts follow ``aftersales.billing.money`` (VAT split per line, ROUND_HALF_UP to 0.01).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as NumberInvalid

from aftersales.billing import setup
from aftersales.billing.choices import BuyerType, InvoiceStatus
from aftersales.billing.models import Invoice, InvoiceLine
from aftersales.billing.money import ZERO, money, percent_of, spread, vat_split
from aftersales.core import versioning
from aftersales.core.access import allowed_at, require_at
from aftersales.core.audit import audit_create, audit_delete, audit_update, snapshot
from aftersales.core.errors import Conflict, PermissionDenied, ValidationFailed
from aftersales.core.numbering import next_number
from aftersales.workorders.choices import Approval, EventKind, PayType, ROStatus
from aftersales.workorders.models import RepairOrder

S = ROStatus
PREPARE = "billing.add_invoice"
DISCOUNT = "billing.discount_invoice"
# An order is billed once the customer signed it, until it is closed.
BILLABLE = {
    S.APPROVED,
    S.IN_PROGRESS,
    S.WAITING_PARTS,
    S.PAUSED,
    S.SELF_CHECKED,
    S.QC_PASSED,
    S.QC_FAILED,
    S.REWORK,
    S.READY,
    S.DELIVERED,
}
# Payers who receive a fapiao from the dealer: a company among them needs its title and
# taxpayer ID. The warranty part is settled with the OEM through the claim and the
# internal part stays in the house.
FAPIAO_CHECKED = {PayType.CUSTOMER, PayType.INSURANCE}
EDITABLE_FIELDS = (
    "buyer_type",
    "title",
    "taxpayer_id",
    "buyer_address_phone",
    "buyer_bank_account",
    "payer_name",
    "insurer",
    "insurance_claim_number",
    "note",
)


class InvoiceIssued(Conflict):
    code = "invoice_issued"


StaleInvoice = versioning.StaleVersion


class NotBillable(Conflict):
    code = "not_billable"


class DiscountTooHigh(PermissionDenied):
    code = "discount_limit"


# ---------------------------------------------------------------- helpers


def _dealer_of(obj):
    from aftersales.org.models import Dealer

    return Dealer(pk=obj.dealer_id)


def locked_invoice(invoice, *, version=None) -> Invoice:
    """The invoice re-read under a row lock; with ``version``, refused (409 ``stale``)
    when someone saved it since."""
    return versioning.locked_row(
        Invoice.objects,
        invoice,
        version=version,
        stale_message=lambda row: _(
            "This invoice was changed by someone else in the meantime. Reload it and try again."
        ),
    )


def require_draft(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.DRAFT:
        raise InvoiceIssued(
            _(
                "Invoice %(number)s has been issued and cannot be changed; "
                "correct it with a credit note."
            )
            % {"number": invoice.number}
        )


def validate_taxpayer_id(value: str) -> str:
    """The unified social credit code (统一社会信用代码), compacted and upper-cased, or a
    translated ValidationFailed naming what is wrong."""
    raw = (value or "").strip()
    if not raw:
        message = _("A company buyer needs its taxpayer ID (unified social credit code).")
        raise ValidationFailed(message, code="taxpayer_id", fields={"taxpayer_id": [message]})
    try:
        return uscc.validate(raw.upper())
    except NumberInvalid:
        compact = uscc.compact(raw.upper())
        if len(compact) != 18:
            message = _(
                "The taxpayer ID must have 18 characters (it has %(n)d): "
                "check the unified social credit code."
            ) % {"n": len(compact)}
        else:
            message = _(
                "The taxpayer ID %(value)s is not a valid unified social credit code "
                "(its check character does not match)."
            ) % {"value": compact}
        raise ValidationFailed(
            message, code="taxpayer_id", fields={"taxpayer_id": [message]}
        ) from None


def _recalculate(invoice: Invoice, lines: list[InvoiceLine]) -> None:
    """Re-derive every line's gross/net/tax from its price, its own discount and its
    share of the invoice discount, then the invoice totals as sums of the lines."""
    after_own = [money(line.quantity * line.unit_price) - line.discount_amount for line in lines]
    shares = spread(invoice.invoice_discount, after_own)
    for line, amount, share in zip(lines, after_own, shares, strict=True):
        line.gross_amount = amount - share
        line.net_amount, line.tax_amount = vat_split(line.gross_amount, invoice.vat_rate)
    invoice.discount_amount = sum((line.discount_amount for line in lines), ZERO) + money(
        invoice.invoice_discount
    )
    invoice.gross_amount = sum((line.gross_amount for line in lines), ZERO)
    invoice.net_amount = sum((line.net_amount for line in lines), ZERO)
    invoice.tax_amount = sum((line.tax_amount for line in lines), ZERO)


def _save_lines(lines: list[InvoiceLine]) -> None:
    InvoiceLine.objects.bulk_update(
        lines, ["discount_amount", "gross_amount", "net_amount", "tax_amount"]
    )


def _bump(invoice: Invoice, fields: list[str]) -> None:
    invoice.version = F("version") + 1
    invoice.save(update_fields=[*fields, "version"])
    invoice.refresh_from_db(fields=["version"])


MONEY_FIELDS = ["invoice_discount", "discount_amount", "net_amount", "tax_amount", "gross_amount"]


def invoice_add_discount(invoice: Invoice, lines: list[InvoiceLine], amount, *, actor) -> None:
    """A discount granted outside the cashier's limits (a coupon redeemed) added to a draft
    invoice the caller holds locked (``locked_invoice``) with its ``lines``: spread over the
    lines with their VAT, the totals re-derived, a new version, audited."""
    before = snapshot(invoice)
    invoice.invoice_discount = money(invoice.invoice_discount + amount)
    _recalculate(invoice, lines)
    _save_lines(lines)
    _bump(invoice, MONEY_FIELDS)
    audit_update(invoice, actor=actor, before=before)


def _default_payer(order: RepairOrder, pay_type: str) -> dict:
    dealer = order.dealer
    if pay_type == PayType.WARRANTY:
        oem = dealer.region.oem
        return {"payer_name": oem.name, "buyer_type": BuyerType.COMPANY, "title": oem.name}
    if pay_type == PayType.INTERNAL:
        return {"payer_name": dealer.name, "buyer_type": BuyerType.COMPANY, "title": dealer.name}
    name = order.customer.name if order.customer_id else ""
    if pay_type == PayType.INSURANCE:
        return {"payer_name": "", "buyer_type": BuyerType.COMPANY, "title": ""}
    return {"payer_name": name, "buyer_type": BuyerType.PERSON, "title": name}


def _line_from(ro_line, position: int) -> InvoiceLine:
    code = ""
    if ro_line.operation_id:
        code = ro_line.operation.code
    elif ro_line.part_id:
        code = ro_line.part.number
    return InvoiceLine(
        ro_line=ro_line,
        position=position,
        kind=ro_line.kind,
        code=code[:40],
        description=ro_line.description[:200],
        quantity=ro_line.quantity,
        unit_price=ro_line.unit_price,
    )


# ---------------------------------------------------------------- prepare


@transaction.atomic
def invoice_prepare(*, actor, repair_order) -> list[Invoice]:
    """The order's draft invoices, one per pay type with lines not yet on an issued
    invoice, created or refreshed from the order's approved lines. Returns the drafts."""
    order = RepairOrder.objects.select_for_update(of=("self",)).get(pk=repair_order.pk)
    dealer = order.dealer
    require_at(actor, PREPARE, dealer=dealer)
    if order.status not in BILLABLE:
        raise NotBillable(
            _("Repair order %(number)s is %(status)s: it cannot be invoiced now.")
            % {"number": order.number, "status": order.get_status_display()}
        )
    rate = setup.billing_settings(dealer).vat_rate
    issued_line_ids = set(
        InvoiceLine.objects.filter(
            invoice__repair_order_id=order.pk, invoice__status=InvoiceStatus.ISSUED
        ).values_list("ro_line_id", flat=True)
    )
    by_pay_type: dict[str, list] = {}
    for ro_line in order.lines.filter(approval=Approval.APPROVED).select_related(
        "operation", "part"
    ):
        if ro_line.pk in issued_line_ids:
            continue
        by_pay_type.setdefault(ro_line.pay_type, []).append(ro_line)
    drafts = {
        invoice.pay_type: invoice
        for invoice in Invoice.objects.select_for_update(of=("self",)).filter(
            repair_order_id=order.pk, status=InvoiceStatus.DRAFT
        )
    }
    result = []
    for pay_type in PayType.values:
        ro_lines = by_pay_type.get(pay_type, [])
        draft = drafts.get(pay_type)
        if not ro_lines:
            if draft is not None:
                audit_delete(draft, actor=actor)
                draft.delete()
            continue
        if draft is None:
            draft = Invoice.objects.create(
                dealer=dealer,
                repair_order=order,
                customer_id=order.customer_id,
                pay_type=pay_type,
                vat_rate=rate,
                created_by=actor,
                **_default_payer(order, pay_type),
            )
            audit_create(draft, actor=actor)
            kept_discounts, before = {}, None
        else:
            before = snapshot(draft)
            kept_discounts = dict(draft.lines.values_list("ro_line_id", "discount_amount"))
            draft.lines.all().delete()
            draft.vat_rate = rate
        lines = []
        for position, ro_line in enumerate(ro_lines, start=1):
            line = _line_from(ro_line, position)
            listed = money(line.quantity * line.unit_price)
            kept = kept_discounts.get(ro_line.pk, ZERO)
            line.discount_amount = kept if kept <= listed else ZERO
            line.invoice = draft
            lines.append(line)
        subtotal = sum((money(x.quantity * x.unit_price) - x.discount_amount for x in lines), ZERO)
        if draft.invoice_discount > subtotal:
            draft.invoice_discount = ZERO
        _recalculate(draft, lines)
        InvoiceLine.objects.bulk_create(lines)
        if before is not None:
            _bump(
                draft,
                [
                    "vat_rate",
                    "invoice_discount",
                    "discount_amount",
                    "net_amount",
                    "tax_amount",
                    "gross_amount",
                ],
            )
            audit_update(draft, actor=actor, before=before)
        else:
            draft.save(
                update_fields=["discount_amount", "net_amount", "tax_amount", "gross_amount"]
            )
        result.append(draft)
    return result


# ---------------------------------------------------------------- update


def _amount(value, field) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or number < 0:
        message = _("Enter an amount of 0 or more.")
        raise ValidationFailed(message, fields={field: [message]})
    return money(number)


def _check_limit(actor, invoice, discount, base, what) -> None:
    if discount <= 0:
        return
    if not allowed_at(actor, DISCOUNT, dealer=_dealer_of(invoice)):
        raise DiscountTooHigh(_("You may not give discounts."))
    if discount > base:
        message = _("The discount on %(what)s cannot exceed its amount (%(amount)s).") % {
            "what": what,
            "amount": base,
        }
        raise ValidationFailed(message, code="discount_too_large", fields={"discount": [message]})
    limit = setup.discount_limit_of(actor, _dealer_of(invoice))
    if discount * 100 > limit * base:
        largest = (base * limit / 100).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        raise DiscountTooHigh(
            _(
                "A discount of %(amount)s (%(percent)s%%) on %(what)s is above your limit of "
                "%(limit)s%% (at most %(largest)s): ask someone with a higher limit "
                "(e.g. the service manager)."
            )
            % {
                "amount": discount,
                "percent": percent_of(discount, base),
                "what": what,
                "limit": limit,
                "largest": largest,
            }
        )


@transaction.atomic
def invoice_update(
    *,
    actor,
    invoice,
    version=None,
    line_discounts: dict | None = None,
    invoice_discount=None,
    **fields,
) -> Invoice:
    """Edit a draft: fapiao/payer fields (``EDITABLE_FIELDS``), ``line_discounts``
    ({invoice line id: amount}) and ``invoice_discount`` (an amount). Refused on an
    issued invoice (409 ``invoice_issued``); discounts above the actor's limit are refused
    (403 ``discount_limit``) and change nothing."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be changed: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))}
        )
    invoice = locked_invoice(invoice, version=version)
    require_at(actor, PREPARE, dealer=_dealer_of(invoice))
    require_draft(invoice)
    before = snapshot(invoice)
    changed = []
    for name, value in fields.items():
        value = "" if value is None else str(value).strip()
        if getattr(invoice, name) != value:
            setattr(invoice, name, value)
            changed.append(name)
    if invoice.buyer_type not in BuyerType.values:
        message = _("Choose the buyer type: individual or company.")
        raise ValidationFailed(message, fields={"buyer_type": [message]})
    if invoice.buyer_type == BuyerType.COMPANY and invoice.pay_type in FAPIAO_CHECKED:
        if not invoice.title:
            message = _("A company buyer needs the invoice title (the company's name).")
            raise ValidationFailed(message, code="title", fields={"title": [message]})
        invoice.taxpayer_id = validate_taxpayer_id(invoice.taxpayer_id)
    elif invoice.taxpayer_id:
        invoice.taxpayer_id = validate_taxpayer_id(invoice.taxpayer_id)
    for name in ("taxpayer_id",):
        if name not in changed and before.get(name) != getattr(invoice, name):
            changed.append(name)
    lines = list(invoice.lines.all())
    money_changed = False
    if line_discounts:
        by_id = {line.pk: line for line in lines}
        for line_id, value in line_discounts.items():
            line = by_id.get(int(line_id))
            if line is None:
                message = _("This line is not on the invoice.")
                raise ValidationFailed(message, fields={"line_discounts": [message]})
            discount = _amount(value, f"discount_{line.pk}")
            if discount != line.discount_amount:
                if discount > line.discount_amount:
                    _check_limit(
                        actor,
                        invoice,
                        discount,
                        money(line.quantity * line.unit_price),
                        line.description,
                    )
                line.discount_amount = discount
                money_changed = True
    if invoice_discount not in (None, ""):
        discount = _amount(invoice_discount, "invoice_discount")
        subtotal = sum((money(x.quantity * x.unit_price) - x.discount_amount for x in lines), ZERO)
        if discount > invoice.invoice_discount:
            _check_limit(actor, invoice, discount, subtotal, _("the invoice"))
        elif discount > subtotal:
            message = _("The discount on %(what)s cannot exceed its amount (%(amount)s).") % {
                "what": _("the invoice"),
                "amount": subtotal,
            }
            raise ValidationFailed(
                message, code="discount_too_large", fields={"invoice_discount": [message]}
            )
        if discount != invoice.invoice_discount:
            invoice.invoice_discount = discount
            money_changed = True
    if money_changed:
        _recalculate(invoice, lines)
        _save_lines(lines)
        changed += MONEY_FIELDS
    if changed:
        _bump(invoice, sorted(set(changed)))
        audit_update(invoice, actor=actor, before=before)
    return invoice


# ---------------------------------------------------------------- issue


def _issue_problems(invoice: Invoice) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if not invoice.lines.exists():
        problems["__all__"] = [_("The invoice has no lines.")]
    if invoice.pay_type == PayType.INSURANCE:
        if not invoice.insurer:
            problems["insurer"] = [_("Name the insurer who pays this invoice.")]
        if not invoice.insurance_claim_number:
            problems["insurance_claim_number"] = [_("Enter the insurer's claim / report number.")]
    if invoice.buyer_type == BuyerType.COMPANY and invoice.pay_type in FAPIAO_CHECKED:
        if not invoice.title:
            problems["title"] = [_("A company buyer needs the invoice title (the company's name).")]
        try:
            validate_taxpayer_id(invoice.taxpayer_id)
        except ValidationFailed as error:
            problems["taxpayer_id"] = [str(error.message)]
    return problems


@transaction.atomic
def invoice_issue(*, actor, invoice, version=None) -> Invoice:
    """Number and freeze a draft. Refused when already issued (409 ``invoice_issued``),
    stale (409 ``stale``) or incomplete (400, the missing fields named)."""
    invoice = locked_invoice(invoice, version=version)
    require_at(actor, PREPARE, dealer=_dealer_of(invoice))
    require_draft(invoice)
    problems = _issue_problems(invoice)
    if problems:
        raise ValidationFailed(
            _("The invoice cannot be issued yet: %(problems)s")
            % {"problems": " ".join(m for messages in problems.values() for m in messages)},
            code="incomplete",
            fields=problems,
        )
    before = snapshot(invoice)
    invoice.number = next_number(doc_type="INV", dealer=invoice.dealer)
    invoice.status = InvoiceStatus.ISSUED
    invoice.issued_by = actor
    invoice.issued_at = timezone.now()
    _bump(invoice, ["number", "status", "issued_by", "issued_at"])
    audit_update(invoice, actor=actor, before=before)
    _order_event(invoice, actor)
    return invoice


def _order_event(invoice: Invoice, actor) -> None:
    from aftersales.workorders.events import record_event

    record_event(
        invoice.repair_order,
        kind=EventKind.NOTE,
        actor=actor,
        message=_("Invoice %(number)s issued: %(amount)s (%(payer)s)")
        % {
            "number": invoice.number,
            "amount": invoice.gross_amount,
            "payer": invoice.get_pay_type_display(),
        },
    )
