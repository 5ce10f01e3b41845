"""Demo settlement data: invoices, payments, refunds, credit notes, deposits and cash
closings for the demo repair orders of the six demo dealers (run after
``workorders.demo``; ``claims.demo`` runs after it).

What each dealer gets:

* every **closed** order: issued invoices, one per payer kind of its approved lines
  (customer / warranty / insurance / internal), issued shortly before the car was handed
  over; the customer invoice paid in full on the day the order closed, by cash (with
  change), WeChat Pay, Alipay or bank card, some split into two payments; a few customer
  invoices name a company buyer for the fapiao (valid unified social credit code);
* warranty and insurance invoices mostly paid by the OEM or the insurer by bank transfer
  3-15 days later (at most today); the oldest still outstanding, its issue backdated to
  95 days ago (with four or more such invoices the next one to 40 days, with seven or more
  a third to 70 days), so the receivables ageing fills its buckets; the order's timeline
  keeps the real moment of issue;
* every **delivered** order: issued invoices, the customer part unpaid or partly paid
  (the cars waiting at the cashier);
* one open deposit on an order in progress; one partial credit note, with its reason,
  on a closed order's customer invoice, refunded to the customer;
* a cash closing for every past day of the cashier's with money movements (totals per
  method from that day's payments, refunds and deposits; counted cash = expected except
  one day with a small difference and its reason); today stays open.

Amounts follow ``billing.money``: an invoice line's gross is the repair-order line's
amount (prices include VAT), net and tax from ``vat_split`` at the dealer's rate
(ROUND_HALF_UP to 0.01 per line), the invoice totals are the sums of its lines,
``paid_amount`` = payments − refunds and ``credited_amount`` = its credit notes.

Written with ``bulk_create`` (like an import: no services, no audit rows), deterministic
per dealer (``random.Random`` seeded with the dealer code) and idempotent: a dealer with
an invoice on one of its closed orders is left alone. Numbers follow
``core.numbering.next_number``'s format (``INV-``, ``CN-``, ``DP-<dealer>-<year>-nnnnnn``)
and the dealer's sequences are advanced past them.
"""

import contextlib
import datetime
import random
import time
from collections import defaultdict
from decimal import ROUND_CEILING, Decimal

from django.db import transaction
from django.utils import timezone
from stdnum.cn import uscc

from aftersales.billing.choices import (
    BuyerType,
    DepositStatus,
    InvoiceStatus,
    PaymentKind,
    PaymentMethod,
)
from aftersales.billing.money import ZERO, money, vat_split
from aftersales.workorders.choices import Approval, EventKind, PayType, ROStatus

S = ROStatus
M = PaymentMethod
DEMO_DEALERS = ["BJ01", "TJ01", "SH01", "HZ01", "GZ01", "SZ01"]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
EPOCH = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
M1 = datetime.timedelta(minutes=1)
D1 = datetime.timedelta(days=1)
# ages (days) given to a dealer's oldest outstanding warranty/insurance invoices
OUTSTANDING_AGES = [95, 40, 70]
PAYER_LABEL = {
    PayType.CUSTOMER: "客户",
    PayType.WARRANTY: "保修",
    PayType.INSURANCE: "保险",
    PayType.INTERNAL: "内部",
}
# (city, district code of the unified social credit code, street, phone prefix, bank)
CITIES = {
    "BJ01": ("北京", "110105", "朝阳区建国路 88 号", "010", "中国工商银行北京建国路支行"),
    "TJ01": ("天津", "120101", "和平区南京路 126 号", "022", "中国建设银行天津和平支行"),
    "SH01": ("上海", "310115", "浦东新区张杨路 500 号", "021", "招商银行上海浦东支行"),
    "HZ01": ("杭州", "330106", "西湖区文三路 90 号", "0571", "中国银行杭州西湖支行"),
    "GZ01": ("广州", "440106", "天河区体育西路 103 号", "020", "中国农业银行广州天河支行"),
    "SZ01": ("深圳", "440305", "南山区科技园南路 18 号", "0755", "平安银行深圳南山支行"),
}
COMPANY_WORDS = ["华信", "瑞丰", "恒通", "嘉禾", "远景", "启明", "新源", "博雅"]
COMPANY_KINDS = ["科技", "贸易", "物流", "建设工程", "文化传媒", "餐饮管理"]
INSURERS = [
    ("中国人民财产保险股份有限公司", "RDAA"),
    ("中国平安财产保险股份有限公司", "PAIC"),
    ("中国太平洋财产保险股份有限公司", "CPIC"),
]
CREDIT_REASONS = [
    "工时按标准工时重新核算，退还多收的工时费",
    "客户反映免费洗车未做，经服务经理同意退还部分费用",
    "配件按活动价结算，退还差价",
]
CASH_SHORT = "钱箱短款 %s 元：高峰时段找零失误，已报服务经理"
# how the customer part of a closed order is paid: (weight, methods)
SCENARIOS = [
    (20, [M.CASH]),
    (28, [M.WECHAT]),
    (18, [M.ALIPAY]),
    (12, [M.CARD]),
    (8, [M.CARD, M.WECHAT]),
    (7, [M.CASH, M.ALIPAY]),
    (7, [M.WECHAT, M.CASH]),
]


@contextlib.contextmanager
def _explicit_times(*model_fields):
    """Write the historic times the demo sets: auto_now(_add) switched off meanwhile."""
    saved = []
    for model, name in model_fields:
        f = model._meta.get_field(name)
        saved.append((f, f.auto_now, f.auto_now_add))
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def make_uscc(rng, district: str = "110105") -> str:
    """A valid 18-character unified social credit code (enterprise, ``district``): 17
    characters drawn from the code's alphabet and its check character."""
    body = "91" + district + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    return body + uscc.calc_check_digit(body)


def _local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _day(moment) -> datetime.date:
    return timezone.localdate(moment)


def _reference(rng, method: str, moment) -> str:
    stamp = timezone.localtime(moment).strftime("%Y%m%d")
    if method == M.WECHAT:
        return f"4200{rng.randint(10**5, 10**6 - 1)}{stamp}{rng.randint(10**9, 10**10 - 1)}"
    if method == M.ALIPAY:
        return f"{stamp}2200{rng.randint(10**15, 10**16 - 1)}"
    if method == M.CARD:
        return f"POS{rng.randint(10**11, 10**12 - 1)}"
    if method == M.TRANSFER:
        return f"网银{stamp}{rng.randint(10**7, 10**8 - 1)}"
    return ""


class _Book:
    """The rows being written for one dealer and the numbers they take."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.invoices, self.lines, self.notes, self.note_lines = [], [], [], []
        self.payments, self.refunds, self.deposits, self.events = [], [], [], []
        self.paid = defaultdict(list)  # invoice (id()) -> its payments

    def pay(self, rng, invoice, method, amount, moment, cashier, *, tendered=None):
        from aftersales.billing.models import Payment

        payment = Payment(
            dealer=self.ctx.dealer,
            invoice=invoice,
            kind=PaymentKind.PAYMENT,
            method=method,
            amount=amount,
            tendered=tendered,
            change=(tendered - amount) if tendered is not None else ZERO,
            reference=_reference(rng, method, moment),
            cashier=cashier,
            business_day=_day(moment),
            created_at=moment,
        )
        invoice.paid_amount += amount
        self.payments.append(payment)
        self.paid[id(invoice)].append(payment)
        return payment


class _Dealer:
    def __init__(self, dealer):
        from aftersales.billing.setup import billing_settings
        from aftersales.org.models import User

        self.dealer = dealer
        code = dealer.code.lower()
        users = {u.username: u for u in User.objects.filter(username__startswith=f"{code}-")}
        self.sa = users[f"{code}-sa"]
        self.cashier = users.get(f"{code}-cashier", self.sa)
        self.rate = billing_settings(dealer).vat_rate
        self.oem = dealer.region.oem.name if dealer.region_id else dealer.name
        self.city = CITIES.get(dealer.code, CITIES["BJ01"])


def _cash_tendered(rng, amount: Decimal) -> Decimal:
    """What the customer hands over: the amount rounded up to 100 (or 50), sometimes a
    note more."""
    step = Decimal(rng.choice([50, 100, 100]))
    tendered = (amount / step).to_integral_value(rounding=ROUND_CEILING) * step
    if tendered == amount and rng.random() < 0.5:
        tendered += step
    return money(tendered)


def _split(rng, gross: Decimal) -> Decimal:
    """The first of two payments: a round part of the amount."""
    part = money(gross * Decimal(rng.randint(30, 70)) / 100)
    if gross > 200:
        part = money((part / 100).to_integral_value() * 100) or money(100)
    return part if ZERO < part < gross else money(gross / 2)


def _buyer(rng, ctx: _Dealer, invoice) -> None:
    """A company buyer for the fapiao (some customer invoices)."""
    city, district, street, phone, bank = ctx.city
    name = f"{city}{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_KINDS)}有限公司"
    invoice.buyer_type = BuyerType.COMPANY
    invoice.title = name
    invoice.taxpayer_id = make_uscc(rng, district)
    invoice.buyer_address_phone = f"{city}市{street} {phone}-{rng.randint(60000000, 89999999)}"
    invoice.buyer_bank_account = f"{bank} {rng.randint(10**18, 10**19 - 1)}"


def _insurer(rng, ctx: _Dealer, invoice, issued) -> None:
    name, prefix = rng.choice(INSURERS)
    invoice.insurer = name
    invoice.payer_name = name
    invoice.buyer_type = BuyerType.COMPANY
    invoice.title = name
    invoice.taxpayer_id = make_uscc(random.Random(name), "110102")
    invoice.insurance_claim_number = (
        f"{prefix}{timezone.localtime(issued):%Y%m%d}{rng.randint(10**7, 10**8 - 1)}"
    )


def _invoices_of(rng, ctx: _Dealer, book: _Book, order, ro_lines, issued) -> list:
    """The issued invoices of ``order``, one per payer kind, with their lines."""
    from aftersales.billing.models import Invoice, InvoiceLine

    by_pay_type = defaultdict(list)
    for line in ro_lines:
        by_pay_type[line.pay_type].append(line)
    made = []
    for pay_type in PayType.values:
        lines = by_pay_type.get(pay_type)
        if not lines:
            continue
        at = issued - rng.randint(0, 3) * M1
        invoice = Invoice(
            dealer=ctx.dealer,
            repair_order=order,
            customer_id=order.customer_id,
            status=InvoiceStatus.ISSUED,
            pay_type=pay_type,
            vat_rate=ctx.rate,
            created_by=ctx.sa,
            created_at=at - rng.randint(3, 20) * M1,
            issued_by=ctx.sa,
            issued_at=at,
        )
        name = order.customer.name if order.customer_id else ""
        if pay_type == PayType.CUSTOMER:
            invoice.payer_name = invoice.title = name
            if rng.random() < 0.18:
                _buyer(rng, ctx, invoice)
        elif pay_type == PayType.WARRANTY:
            invoice.payer_name = invoice.title = ctx.oem
            invoice.buyer_type = BuyerType.COMPANY
        elif pay_type == PayType.INSURANCE:
            _insurer(rng, ctx, invoice, at)
        else:
            invoice.payer_name = invoice.title = ctx.dealer.name
            invoice.buyer_type = BuyerType.COMPANY
        rows = []
        for position, ro_line in enumerate(lines, start=1):
            gross = money(ro_line.quantity * ro_line.unit_price)
            net, tax = vat_split(gross, ctx.rate)
            code = ro_line.operation.code if ro_line.operation_id else ""
            code = code or (ro_line.part.number if ro_line.part_id else "")
            rows.append(
                InvoiceLine(
                    invoice=invoice,
                    ro_line=ro_line,
                    position=position,
                    kind=ro_line.kind,
                    code=code[:40],
                    description=ro_line.description[:200],
                    quantity=ro_line.quantity,
                    unit_price=ro_line.unit_price,
                    gross_amount=gross,
                    net_amount=net,
                    tax_amount=tax,
                )
            )
        invoice.gross_amount = sum((x.gross_amount for x in rows), ZERO)
        invoice.net_amount = sum((x.net_amount for x in rows), ZERO)
        invoice.tax_amount = sum((x.tax_amount for x in rows), ZERO)
        invoice.demo_lines = rows
        book.invoices.append(invoice)
        book.lines += rows
        made.append(invoice)
    return made


def _pay_customer(rng, book: _Book, invoice, moment, cashier) -> None:
    """The customer part of a closed order, paid in full at ``moment``."""
    weights = [w for w, _methods in SCENARIOS]
    methods = rng.choices([m for _w, m in SCENARIOS], weights=weights)[0]
    gross = invoice.gross_amount
    if len(methods) == 1 or gross < 2:
        methods, amounts = methods[:1], [gross]
    else:
        first = _split(rng, gross)
        amounts = [first, gross - first]
    # paid the minutes before ``moment`` but on its day: an order closed just after
    # midnight has its payments on that day too, not on the evening before
    midnight = _local(_day(moment), 0)
    for index, (method, amount) in enumerate(zip(methods, amounts, strict=True)):
        at = max(
            moment - (len(amounts) - index) * M1, midnight + index * datetime.timedelta(seconds=1)
        )
        tendered = _cash_tendered(rng, amount) if method == M.CASH else None
        book.pay(rng, invoice, method, amount, at, cashier, tendered=tendered)


def _load_dealer(ctx: _Dealer, rng, now) -> dict:
    from aftersales.billing.models import (
        CashClosing,
        CreditNote,
        CreditNoteLine,
        Deposit,
        Invoice,
        InvoiceLine,
        Payment,
    )
    from aftersales.workorders.events import actor_label
    from aftersales.workorders.models import RepairOrder, RepairOrderEvent, RepairOrderLine

    dealer, cashier = ctx.dealer, ctx.cashier
    today = _day(now)
    orders = list(
        RepairOrder.objects.filter(dealer=dealer, status__in=[S.CLOSED, S.DELIVERED])
        .exclude(delivered_at__isnull=True)
        .select_related("customer")
        .order_by("delivered_at", "id")
    )
    lines_of = defaultdict(list)
    for line in (
        RepairOrderLine.objects.filter(repair_order__in=orders, approval=Approval.APPROVED)
        .select_related("operation", "part")
        .order_by("repair_order_id", "position", "id")
    ):
        lines_of[line.repair_order_id].append(line)
    book = _Book(ctx)
    receivable = []  # warranty/insurance invoices of closed orders
    for order in orders:
        if not lines_of[order.pk]:
            continue
        issued = order.delivered_at - rng.randint(5, 30) * M1
        invoices = _invoices_of(rng, ctx, book, order, lines_of[order.pk], issued)
        for invoice in invoices:
            if invoice.pay_type == PayType.CUSTOMER:
                if order.status == S.CLOSED:
                    _pay_customer(rng, book, invoice, order.closed_at or issued + 20 * M1, cashier)
                elif rng.random() < 0.4 and invoice.gross_amount > 200:
                    # paid in part before the car was handed over; the rest is due
                    part = _split(rng, invoice.gross_amount)
                    method = rng.choice([M.WECHAT, M.ALIPAY, M.CARD])
                    book.pay(rng, invoice, method, part, order.delivered_at - 3 * M1, cashier)
            elif invoice.pay_type in (PayType.WARRANTY, PayType.INSURANCE):
                if order.status == S.CLOSED:
                    receivable.append(invoice)
    # warranty/insurance of closed orders: the oldest stay outstanding (aged), the rest
    # paid by transfer some days after issue unless that day has not come yet
    receivable.sort(key=lambda i: (i.issued_at, i.pay_type))
    aged = 1 if len(receivable) <= 3 else 2 if len(receivable) <= 6 else 3
    # each age goes to the oldest invoice still unaged whose order closed on or after that
    # day, so that no invoice is dated after its order closed
    ages = {}
    for age in OUTSTANDING_AGES[:aged]:
        day = today - age * D1
        pick = next(
            (i for i in receivable if id(i) not in ages and _day(i.repair_order.closed_at) >= day),
            None,
        )
        if pick is not None:
            ages[id(pick)] = day
    for invoice in receivable:
        if id(invoice) in ages:
            moved = _local(ages[id(invoice)], 9, rng.randint(0, 59)) - invoice.issued_at
            invoice.demo_event_at = invoice.issued_at
            invoice.issued_at += moved
            invoice.created_at += moved
            continue
        issued_on = _day(invoice.issued_at)
        if issued_on >= today:
            continue  # issued today: not paid yet
        paid_day = min(issued_on + rng.randint(3, 15) * D1, today)
        at = _local(paid_day, rng.randint(9, 16), rng.randint(0, 59))
        book.pay(rng, invoice, M.TRANSFER, invoice.gross_amount, at, cashier)

    # a partial credit note on a closed order's customer invoice, refunded
    credited = _credit_note(rng, ctx, book, today)

    # one open deposit on an order in progress
    deposit = None
    in_progress = (
        RepairOrder.objects.filter(dealer=dealer, status=S.IN_PROGRESS)
        .order_by("created_at", "id")
        .first()
    )
    if in_progress is not None:
        at = min((in_progress.checked_in_at or in_progress.created_at) + 6 * M1, now)
        method = rng.choice([M.WECHAT, M.ALIPAY, M.CASH, M.CARD])
        deposit = Deposit(
            dealer=dealer,
            repair_order=in_progress,
            customer_id=in_progress.customer_id,
            method=method,
            amount=money(rng.choice([500, 800, 1000, 2000])),
            status=DepositStatus.OPEN,
            reference=_reference(rng, method, at),
            cashier=cashier,
            business_day=_day(at),
            created_at=at,
        )
        book.deposits.append(deposit)

    # numbers, in the order the documents were made
    _number(dealer, "INV", sorted(book.invoices, key=lambda i: (i.issued_at, i.pay_type)))
    _number(dealer, "CN", book.notes, when=lambda n: n.created_at)
    _number(dealer, "DP", book.deposits, when=lambda d: d.created_at)

    with _explicit_times((Invoice, "created_at")):
        Invoice.objects.bulk_create(book.invoices, batch_size=500)
    InvoiceLine.objects.bulk_create(book.lines, batch_size=500)
    with _explicit_times((CreditNote, "created_at")):
        CreditNote.objects.bulk_create(book.notes)
    CreditNoteLine.objects.bulk_create(book.note_lines)
    with _explicit_times((Deposit, "created_at")):
        Deposit.objects.bulk_create(book.deposits)
    with _explicit_times((Payment, "created_at")):
        Payment.objects.bulk_create(book.payments, batch_size=500)
        Payment.objects.bulk_create(book.refunds)

    closings = _closings(rng, ctx, book, today)
    with _explicit_times((CashClosing, "closed_at")):
        CashClosing.objects.bulk_create(closings, batch_size=500)

    # the orders' timelines note each issued invoice (as invoice_issue does)
    events = [
        RepairOrderEvent(
            repair_order_id=invoice.repair_order_id,
            at=getattr(invoice, "demo_event_at", invoice.issued_at),
            actor=ctx.sa,
            actor_name=actor_label(ctx.sa),
            kind=EventKind.NOTE,
            message=f"发票 {invoice.number} 已开具：{invoice.gross_amount}"
            f"（{PAYER_LABEL[invoice.pay_type]}）",
            data={"demo": True, "invoice": invoice.pk},
        )
        for invoice in book.invoices
    ]
    with _explicit_times((RepairOrderEvent, "at")):
        RepairOrderEvent.objects.bulk_create(events, batch_size=500)
    return {
        "invoices": len(book.invoices),
        "lines": len(book.lines),
        "payments": len(book.payments),
        "refunds": len(book.refunds),
        "credit_notes": len(book.notes),
        "credited": credited,
        "deposits": len(book.deposits),
        "closings": len(closings),
    }


def _credit_note(rng, ctx: _Dealer, book: _Book, today) -> Decimal:
    """A partial credit note (with its reason) on a customer invoice of a closed order
    issued at least five days ago, and the refund of that amount to the customer."""
    from aftersales.billing.models import CreditNote, CreditNoteLine, Payment

    candidates = [
        invoice
        for invoice in book.invoices
        if invoice.pay_type == PayType.CUSTOMER
        and invoice.repair_order.status == S.CLOSED
        and _day(invoice.issued_at) <= today - 5 * D1
        and any(line.gross_amount >= 100 for line in invoice.demo_lines)
        and any(p.method != M.CASH and p.amount >= 20 for p in book.paid[id(invoice)])
    ]
    if not candidates:
        return ZERO
    invoice = rng.choice(candidates)
    line = max(invoice.demo_lines, key=lambda x: (x.gross_amount, -x.position))
    # refunded to the card or wallet it came from (a cash refund could leave the day short)
    largest = max((p for p in book.paid[id(invoice)] if p.method != M.CASH), key=lambda p: p.amount)
    gross = min(money(line.gross_amount * Decimal(rng.choice([10, 15, 20])) / 100), largest.amount)
    gross = money(gross.to_integral_value()) or money(1)
    net, tax = vat_split(gross, invoice.vat_rate)
    day = _day(invoice.issued_at) + rng.randint(1, 3) * D1
    at = _local(day, rng.randint(10, 16), rng.randint(0, 59))
    reason = rng.choice(CREDIT_REASONS)
    note = CreditNote(
        dealer=ctx.dealer,
        invoice=invoice,
        reason=reason,
        net_amount=net,
        tax_amount=tax,
        gross_amount=gross,
        created_by=ctx.cashier,
        created_at=at,
    )
    book.notes.append(note)
    book.note_lines.append(
        CreditNoteLine(
            credit_note=note,
            invoice_line=line,
            quantity=ZERO,
            gross_amount=gross,
            net_amount=net,
            tax_amount=tax,
        )
    )
    invoice.credited_amount += gross
    book.refunds.append(
        Payment(
            dealer=ctx.dealer,
            invoice=invoice,
            kind=PaymentKind.REFUND,
            method=largest.method,
            amount=gross,
            reference=largest.reference,
            refund_of=largest,
            credit_note=note,
            reason=reason,
            cashier=ctx.cashier,
            business_day=day,
            created_at=at + 5 * M1,
        )
    )
    invoice.paid_amount -= gross
    return gross


def _closings(rng, ctx: _Dealer, book: _Book, today) -> list:
    """The cashier's closed days: every past day with money movements."""
    from aftersales.billing.models import CashClosing

    totals = defaultdict(lambda: dict.fromkeys(PaymentMethod.values, ZERO))
    last = defaultdict(lambda: EPOCH)
    for payment in book.payments + book.refunds:
        sign = -1 if payment.kind == PaymentKind.REFUND else 1
        totals[payment.business_day][payment.method] += sign * payment.amount
        last[payment.business_day] = max(last[payment.business_day], payment.created_at)
    for deposit in book.deposits:
        totals[deposit.business_day][deposit.method] += deposit.amount
        last[deposit.business_day] = max(last[deposit.business_day], deposit.created_at)
    days = sorted(day for day in totals if day < today)
    with_cash = [day for day in days if totals[day][M.CASH] >= 50]
    short_day = rng.choice(with_cash) if with_cash else None
    closings = []
    for day in days:
        sums = totals[day]
        expected = sums[M.CASH]
        counted, reason = expected, ""
        if day == short_day:
            short = money(rng.choice([2, 5, 10]))
            counted, reason = expected - short, CASH_SHORT % short
        closings.append(
            CashClosing(
                dealer=ctx.dealer,
                cashier=ctx.cashier,
                business_day=day,
                totals={method: str(money(value)) for method, value in sums.items()},
                expected_cash=expected,
                counted_cash=counted,
                difference=counted - expected,
                reason=reason,
                closed_by=ctx.cashier,
                closed_at=max(_local(day, 18, 30), last[day] + 10 * M1),
            )
        )
    return closings


def _number(dealer, doc_type: str, rows: list, when=lambda i: i.issued_at) -> None:
    """Give ``rows`` (in order) numbers in next_number's format and advance the dealer's
    sequence of ``doc_type`` per year past them."""
    from aftersales.core.models import NumberSequence

    sequences = {}
    for row in rows:
        year = _day(when(row)).year
        if year not in sequences:
            found = NumberSequence.objects.filter(dealer=dealer, doc_type=doc_type, year=year)
            sequences[year] = found.values_list("last_value", flat=True).first() or 0
        sequences[year] += 1
        row.number = f"{doc_type}-{dealer.code}-{year}-{sequences[year]:06d}"
    for year, last in sequences.items():
        updated = NumberSequence.objects.filter(dealer=dealer, doc_type=doc_type, year=year).update(
            last_value=last
        )
        if not updated:
            NumberSequence.objects.create(
                dealer=dealer, doc_type=doc_type, year=year, last_value=last
            )


def load_billing_demo(stdout=None) -> dict:
    """Load the demo settlement data (after ``load_workorders_demo``). Idempotent: a
    dealer with an invoice on one of its closed orders is skipped."""
    from aftersales.billing.models import Invoice
    from aftersales.org.models import Dealer

    started = time.perf_counter()
    now = timezone.now()
    result = defaultdict(int)
    result["dealers"] = 0
    for dealer in (
        Dealer.objects.filter(code__in=DEMO_DEALERS).select_related("region__oem").order_by("code")
    ):
        if Invoice.objects.filter(dealer=dealer, repair_order__status=S.CLOSED).exists():
            continue
        rng = random.Random(f"billing-demo-{dealer.code}")
        with transaction.atomic():
            counts = _load_dealer(_Dealer(dealer), rng, now)
        if not counts["invoices"]:
            continue
        result["dealers"] += 1
        for key, value in counts.items():
            result[key] += value
    result = dict(result)
    if "credited" in result:
        result["credited"] = str(result["credited"])
    result["seconds"] = round(time.perf_counter() - started, 2)
    if stdout is not None:
        stdout.write(f"billing demo: {result}\n")
    return result
