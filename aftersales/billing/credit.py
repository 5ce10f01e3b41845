"""Credit notes (红字发票): the only way to correct an issued invoice (issue 6 item 2).

``credit_note_create(actor=, invoice=, lines=[{"invoice_line": id, "quantity": q} or
{"invoice_line": id, "amount": a}], reason=)`` or ``full=True`` takes back part or all of an
issued invoice. Under the invoice's row lock it checks that no line is credited beyond what
remains of it, numbers the note gap-free (``CN-<dealer>-<year>-nnnnnn``), and raises the
invoice's ``credited_amount``. A quantity credits the line's gross amount pro rata (rounded
half up to 0.01); the last credit of a line takes exactly what remains, so a line credited
in full sums to its gross, net and tax exactly. When the payer has already paid more than is
owed after the note, ``refund_due(invoice)`` says how much to pay back (the cashier's refund
service pays it).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import F, Sum
from django.utils.translation import gettext as _

from aftersales.billing.choices import InvoiceStatus
from aftersales.billing.invoices import _dealer_of, locked_invoice
from aftersales.billing.models import CreditNote, CreditNoteLine, Invoice
from aftersales.billing.money import ZERO, money, vat_split
from aftersales.core.access import require_at
from aftersales.core.audit import audit_create
from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.core.numbering import next_number

ADD = "billing.add_creditnote"


class NotIssued(Conflict):
    code = "invoice_not_issued"


class OverCredit(ValidationFailed):
    code = "over_credit"


def credited_by_line(invoice: Invoice) -> dict[int, dict[str, Decimal]]:
    """{invoice line id: {"gross", "net", "tax", "quantity"}} already credited."""
    rows = (
        CreditNoteLine.objects.filter(credit_note__invoice_id=invoice.pk)
        .values("invoice_line_id")
        .annotate(
            gross=Sum("gross_amount"),
            net=Sum("net_amount"),
            tax=Sum("tax_amount"),
            quantity=Sum("quantity"),
        )
        .order_by()
    )
    return {row["invoice_line_id"]: row for row in rows}


def remaining_by_line(invoice: Invoice) -> dict[int, Decimal]:
    """{invoice line id: gross amount still creditable}."""
    credited = credited_by_line(invoice)
    return {
        line.pk: line.gross_amount - (credited.get(line.pk, {}).get("gross") or ZERO)
        for line in invoice.lines.all()
    }


def refund_due(invoice: Invoice) -> Decimal:
    """What the payer has paid beyond what they now owe (0 when nothing)."""
    owed = invoice.gross_amount - invoice.credited_amount
    return max(invoice.paid_amount - owed, ZERO)


def _decimal(value, field) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or number <= 0:
        message = _("Enter a number greater than 0.")
        raise ValidationFailed(message, fields={field: [message]})
    return number


@transaction.atomic
def credit_note_create(
    *, actor, invoice, reason: str, lines: list[dict] | None = None, full: bool = False
) -> CreditNote:
    """A credit note against an issued invoice. Refused, changing nothing: on a draft
    (409 ``invoice_not_issued``), without a reason, or beyond what remains uncredited on
    a line (400 ``over_credit``, the line and what remains named)."""
    invoice = locked_invoice(invoice)
    require_at(actor, ADD, dealer=_dealer_of(invoice))
    if invoice.status != InvoiceStatus.ISSUED:
        raise NotIssued(_("Only an issued invoice can be credited; change the draft instead."))
    reason = (reason or "").strip()
    if not reason:
        message = _("Give the reason for the credit note.")
        raise ValidationFailed(message, code="reason", fields={"reason": [message]})
    invoice_lines = {line.pk: line for line in invoice.lines.all()}
    credited = credited_by_line(invoice)
    if full:
        requests = [{"invoice_line": pk, "all": True} for pk in invoice_lines]
    else:
        requests = list(lines or [])
    planned: list[CreditNoteLine] = []
    seen = set()
    for request in requests:
        raw = request.get("invoice_line")
        line = invoice_lines.get(int(getattr(raw, "pk", raw) or 0))
        if line is None or line.pk in seen:
            message = _("Choose each line of this invoice at most once.")
            raise ValidationFailed(message, fields={"lines": [message]})
        seen.add(line.pk)
        done = credited.get(line.pk, {})
        left_gross = line.gross_amount - (done.get("gross") or ZERO)
        left_net = line.net_amount - (done.get("net") or ZERO)
        left_qty = line.quantity - (done.get("quantity") or ZERO)
        if request.get("all"):
            if left_gross <= 0:
                continue
            gross, quantity = left_gross, max(left_qty, ZERO)
        elif request.get("quantity") not in (None, ""):
            quantity = _decimal(request["quantity"], "quantity")
            if quantity > left_qty:
                raise OverCredit(
                    _("Line %(line)s: only %(left)s of its quantity remains to be credited.")
                    % {"line": line.description, "left": left_qty},
                    fields={"lines": [line.pk]},
                )
            gross = (
                left_gross
                if quantity == left_qty
                else money(line.gross_amount * quantity / line.quantity)
            )
        else:
            gross = money(_decimal(request.get("amount"), "amount"))
            quantity = ZERO
        if gross > left_gross:
            raise OverCredit(
                _("Line %(line)s: only %(left)s remains to be credited (asked: %(asked)s).")
                % {"line": line.description, "left": left_gross, "asked": gross},
                fields={"lines": [line.pk]},
            )
        if gross <= 0:
            continue
        if gross == left_gross:
            net = left_net
            tax = gross - net
        else:
            net, tax = vat_split(gross, invoice.vat_rate)
        planned.append(
            CreditNoteLine(
                invoice_line=line,
                quantity=quantity,
                gross_amount=gross,
                net_amount=net,
                tax_amount=tax,
            )
        )
    if not planned:
        message = _("Nothing to credit: choose at least one line with an amount left.")
        raise ValidationFailed(message, code="empty", fields={"lines": [message]})
    note = CreditNote.objects.create(
        dealer_id=invoice.dealer_id,
        invoice=invoice,
        number=next_number(doc_type="CN", dealer=invoice.dealer),
        reason=reason[:300],
        gross_amount=sum((x.gross_amount for x in planned), ZERO),
        net_amount=sum((x.net_amount for x in planned), ZERO),
        tax_amount=sum((x.tax_amount for x in planned), ZERO),
        created_by=actor,
    )
    for row in planned:
        row.credit_note = note
    CreditNoteLine.objects.bulk_create(planned)
    Invoice.objects.filter(pk=invoice.pk).update(
        credited_amount=F("credited_amount") + note.gross_amount, version=F("version") + 1
    )
    invoice.refresh_from_db(fields=["credited_amount", "version", "paid_amount"])
    audit_create(note, actor=actor)
    note.invoice = invoice
    note.refund_due = refund_due(invoice)
    # a credit that leaves nothing due settles a delivered order as a payment would
    from aftersales.billing.settlement import settle_after_payment

    settle_after_payment(invoice=invoice, actor=actor)
    return note
