"""Settlement reports (issue 6 item 7): daily revenue by payment method and by pay type,
and accounts receivable (insurance and warranty invoices still outstanding, with their
age). Figures are aggregated by the database, one query per table whatever the period or
the number of dealers; rows are scoped with ``restrict`` (a dealer's staff see their
dealer, a region manager the region, the OEM everything) and ``dealer`` narrows further.

Revenue is money taken: payments and deposits less refunds of both, on the cashier's
business day (a deposit refund on the day it was refunded). Payments
from a deposit are the use of money already taken (shown in their own column, left out
of "money taken" so a deposit is not counted twice: once when taken, once when used).
"""

import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, DecimalField, F, Q, Sum, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.billing.choices import CENT, InvoiceStatus, PaymentKind, PaymentMethod
from aftersales.billing.deposits import deposits_visible
from aftersales.billing.models import Invoice, Payment
from aftersales.workorders.choices import PayType

ZERO = Decimal("0")
_MONEY = DecimalField(max_digits=14, decimal_places=2)
RECEIVABLE_PAY_TYPES = (PayType.INSURANCE, PayType.WARRANTY)
# ageing buckets in days since issue: (key, label, lowest age, highest age)
AGE_BUCKETS = (
    ("age_0_30", gettext_lazy("0-30 days"), 0, 30),
    ("age_31_60", gettext_lazy("31-60 days"), 31, 60),
    ("age_61_90", gettext_lazy("61-90 days"), 61, 90),
    ("age_over_90", gettext_lazy("Over 90 days"), 91, None),
)
MAX_ROWS = 1000  # receivable rows listed; the totals always cover all

REPORTS = {
    "revenue-method": gettext_lazy("Daily revenue by payment method"),
    "revenue-pay-type": gettext_lazy("Daily revenue by pay type"),
    "receivables": gettext_lazy("Accounts receivable (insurance and warranty)"),
}


@dataclass
class Report:
    name: str
    title: str
    columns: list  # (key, label)
    rows: list[dict]
    totals: dict = field(default_factory=dict)
    note: str = ""


def _cents(value) -> Decimal:
    return Decimal(value or ZERO).quantize(CENT)


def _signed():
    return Case(
        When(kind=PaymentKind.REFUND, then=-F("amount")),
        default=F("amount"),
        output_field=_MONEY,
    )


def _payments(user, since, until, dealer):
    rows = Payment.objects.restrict(user, "view").filter(
        business_day__gte=since, business_day__lte=until
    )
    if dealer is not None:
        rows = rows.filter(dealer_id=getattr(dealer, "pk", dealer))
    return rows.order_by()


def _days(since, until):
    count = (until - since).days + 1
    return [until - datetime.timedelta(days=n) for n in range(count)]


def revenue_by_method(user, *, since, until, dealer=None) -> Report:
    """One row per day, newest first: net money per method, deposits taken and refunded,
    money taken."""
    methods = [m for m in PaymentMethod if m != PaymentMethod.DEPOSIT]
    table = {day: dict.fromkeys(PaymentMethod.values, ZERO) for day in _days(since, until)}
    for row in (
        _payments(user, since, until, dealer)
        .values("business_day", "method")
        .annotate(total=Sum(_signed()))
    ):
        table[row["business_day"]][row["method"]] += row["total"] or ZERO
    deposits = deposits_visible(user).filter(business_day__gte=since, business_day__lte=until)
    if dealer is not None:
        deposits = deposits.filter(dealer_id=getattr(dealer, "pk", dealer))
    taken = dict.fromkeys(table, ZERO)
    for row in deposits.order_by().values("business_day", "method").annotate(total=Sum("amount")):
        table[row["business_day"]][row["method"]] += row["total"] or ZERO
        taken[row["business_day"]] += row["total"] or ZERO
    # a deposit refund is money out on its own day, by the method the deposit was paid with
    refunds = deposits_visible(user).filter(refund_day__gte=since, refund_day__lte=until)
    if dealer is not None:
        refunds = refunds.filter(dealer_id=getattr(dealer, "pk", dealer))
    refunded = dict.fromkeys(table, ZERO)
    for row in (
        refunds.order_by().values("refund_day", "method").annotate(total=Sum("refunded_amount"))
    ):
        table[row["refund_day"]][row["method"]] -= row["total"] or ZERO
        refunded[row["refund_day"]] += row["total"] or ZERO
    rows = []
    totals = dict.fromkeys(
        [*PaymentMethod.values, "deposits_taken", "deposits_refunded", "total"], ZERO
    )
    for day, sums in table.items():
        row = {
            "day": day,
            "deposits_taken": _cents(taken[day]),
            "deposits_refunded": _cents(refunded[day]),
        }
        for method in PaymentMethod.values:
            row[method] = _cents(sums[method])
        row["total"] = _cents(sum((sums[m] for m in methods), ZERO))
        for key in totals:
            totals[key] += row[key]
        rows.append(row)
    columns = [("day", _("Day"))]
    columns += [(m.value, m.label) for m in methods]
    columns += [
        ("deposits_taken", _("of which deposits taken")),
        ("deposits_refunded", _("of which deposits refunded")),
        ("total", _("Money taken")),
        (PaymentMethod.DEPOSIT.value, _("Paid from deposits")),
    ]
    return Report(
        "revenue-method",
        str(REPORTS["revenue-method"]),
        columns,
        rows,
        totals,
        note=_(
            "Payments and deposits less refunds, by the cashier's business day; "
            "%(since)s to %(until)s."
        )
        % {"since": since.isoformat(), "until": until.isoformat()},
    )


def revenue_by_pay_type(user, *, since, until, dealer=None) -> Report:
    """One row per day: payments less refunds per payer kind of the invoice."""
    table = {day: dict.fromkeys(PayType.values, ZERO) for day in _days(since, until)}
    for row in (
        _payments(user, since, until, dealer)
        .values("business_day", "invoice__pay_type")
        .annotate(total=Sum(_signed()))
    ):
        table[row["business_day"]][row["invoice__pay_type"]] += row["total"] or ZERO
    rows, totals = [], dict.fromkeys([*PayType.values, "total"], ZERO)
    for day, sums in table.items():
        row = {"day": day, **{p: _cents(sums[p]) for p in PayType.values}}
        row["total"] = _cents(sum(sums.values(), ZERO))
        for key in totals:
            totals[key] += row[key]
        rows.append(row)
    columns = [("day", _("Day")), *[(p.value, p.label) for p in PayType], ("total", _("Total"))]
    return Report(
        "revenue-pay-type",
        str(REPORTS["revenue-pay-type"]),
        columns,
        rows,
        totals,
        note=_("Payments less refunds (deposits used included), %(since)s to %(until)s.")
        % {"since": since.isoformat(), "until": until.isoformat()},
    )


def _outstanding(user, dealer):
    invoices = Invoice.objects.restrict(user, "view").filter(
        status=InvoiceStatus.ISSUED, pay_type__in=RECEIVABLE_PAY_TYPES
    )
    if dealer is not None:
        invoices = invoices.filter(dealer_id=getattr(dealer, "pk", dealer))
    due = F("gross_amount") - F("credited_amount") - F("paid_amount")
    return invoices.annotate(due=due).filter(due__gt=0)


def receivables(user, *, as_of=None, dealer=None) -> Report:
    """Insurance and warranty invoices with money still due, oldest first, with their age
    in days since issue; totals per payer kind and age bucket (one aggregate query)."""
    as_of = as_of or timezone.localdate()
    outstanding = _outstanding(user, dealer)
    rows = []
    listed = outstanding.select_related("dealer", "repair_order").order_by("issued_at", "id")
    for invoice in listed[:MAX_ROWS]:
        issued = timezone.localdate(invoice.issued_at) if invoice.issued_at else as_of
        age = (as_of - issued).days
        rows.append(
            {
                "dealer": invoice.dealer.code,
                "number": invoice.number,
                "pay_type": invoice.get_pay_type_display(),
                "payer": invoice.insurer or invoice.payer_name,
                "claim": invoice.insurance_claim_number,
                "repair_order": invoice.repair_order.number,
                "issued": issued,
                "age": age,
                "bucket": str(_bucket(age)),
                "due": _cents(invoice.due),
                "id": invoice.pk,
            }
        )
    sums = {}
    for key, _label, low, high in AGE_BUCKETS:
        for pay_type in RECEIVABLE_PAY_TYPES:
            cond = Q(pay_type=pay_type)
            newest = as_of - datetime.timedelta(days=low)
            cond &= Q(issued_at__date__lte=newest)
            if high is not None:
                cond &= Q(issued_at__date__gte=as_of - datetime.timedelta(days=high))
            sums[f"{pay_type}_{key}"] = Sum("due", filter=cond)
    figures = outstanding.order_by().aggregate(**sums) if rows else {}
    totals = {"due": ZERO}
    for name, value in figures.items():
        totals[name] = _cents(value)
        totals["due"] += _cents(value)
    columns = [
        ("dealer", _("Dealer")),
        ("number", _("Invoice")),
        ("pay_type", _("Payer kind")),
        ("payer", _("Payer")),
        ("claim", _("Claim / report number")),
        ("repair_order", _("Repair order")),
        ("issued", _("Issued on")),
        ("age", _("Age (days)")),
        ("bucket", _("Age bucket")),
        ("due", _("Outstanding")),
    ]
    note = _("Outstanding on %(day)s.") % {"day": as_of.isoformat()}
    if len(rows) == MAX_ROWS:
        note += " " + _("Only the oldest %(n)d invoices are listed.") % {"n": MAX_ROWS}
    return Report("receivables", str(REPORTS["receivables"]), columns, rows, totals, note)


def ageing_table(report: Report) -> list[dict]:
    """The receivables' totals as rows: one per age bucket, a column per payer kind."""
    table = []
    for key, label, _low, _high in AGE_BUCKETS:
        row = {"bucket": str(label)}
        for pay_type in RECEIVABLE_PAY_TYPES:
            row[pay_type] = report.totals.get(f"{pay_type}_{key}", ZERO)
        table.append(row)
    return table


def _bucket(age: int):
    for _key, label, low, high in AGE_BUCKETS:
        if age >= low and (high is None or age <= high):
            return label
    return AGE_BUCKETS[0][1]  # issued "in the future" (clock skew): the newest bucket


def run(name: str, user, *, since=None, until=None, dealer=None) -> Report:
    until = until or timezone.localdate()
    since = since or until - datetime.timedelta(days=6)
    if name == "revenue-method":
        return revenue_by_method(user, since=since, until=until, dealer=dealer)
    if name == "revenue-pay-type":
        return revenue_by_pay_type(user, since=since, until=until, dealer=dealer)
    if name == "receivables":
        return receivables(user, as_of=until, dealer=dealer)
    raise KeyError(name)


def to_excel(reports: list[Report]) -> bytes:
    """One sheet per report; amounts stay exact decimals with two places."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for report in reports:
        sheet = book.create_sheet(report.name[:31])
        sheet.append([report.title])
        sheet["A1"].font = Font(bold=True, size=13)
        if report.note:
            sheet.append([report.note])
        sheet.append([])
        sheet.append([str(label) for _key, label in report.columns])
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for row in report.rows:
            sheet.append([_cell(row.get(key)) for key, _label in report.columns])
            _formats(sheet)
        if report.totals and report.name != "receivables":
            sheet.append(
                [_("Total")] + [_cell(report.totals.get(k)) for k, _label in report.columns[1:]]
            )
            _formats(sheet)
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
        if report.name == "receivables":
            sheet.append([])
            sheet.append([_("Age bucket"), *[str(p.label) for p in RECEIVABLE_PAY_TYPES]])
            for row in ageing_table(report):
                sheet.append([row["bucket"], *[row[p] for p in RECEIVABLE_PAY_TYPES]])
                _formats(sheet)
        for column in sheet.columns:
            sheet.column_dimensions[column[0].column_letter].width = 16
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _formats(sheet):
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, Decimal):
            cell.number_format = "#,##0.00"


def _cell(value):
    if isinstance(value, datetime.date):
        return value.isoformat()
    if value is None or isinstance(value, int | Decimal | str):
        return value
    return str(value)  # lazy translations
