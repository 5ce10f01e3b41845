"""The cashier's pages: the settlement screen (find a repair order by number or plate,
see its invoices and what is due, take payments by several methods with the change shown
for cash, refunds, deposits, print the receipt), the cash closing and the reports.

Writes go through the services; a refused request re-renders the page with the service's
message and changes nothing. Each money form carries a one-time idempotency key, so a
double-click or a resent form is recorded once. Rows are scoped with ``restrict``:
another dealer's id answers 404.
"""

from django.contrib import messages
from django.db.models import DecimalField, Exists, F, OuterRef, Subquery, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from aftersales.billing import closing, deposits, payments, receipts, reports, settlement
from aftersales.billing.api.cashier import excel_response
from aftersales.billing.choices import InvoiceStatus, PaymentKind, PaymentMethod
from aftersales.billing.forms_cashier import (
    ClosingForm,
    DepositForm,
    PaymentForm,
    RefundForm,
    ReportForm,
)
from aftersales.billing.models import CashClosing, Invoice, Payment
from aftersales.core.access import allowed_at, user_has_perm, user_scope
from aftersales.core.errors import ServiceError
from aftersales.core.pages import PermissionPage
from aftersales.workorders import selectors
from aftersales.workorders.choices import PayType, ROStatus

WAITING_LIMIT = 50


def _pdf(content: bytes, filename: str):
    from django.http import HttpResponse

    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _errors_to_form(form, exc: ServiceError):
    placed = False
    for field, errors in (exc.fields or {}).items():
        if field in form.fields:
            for error in errors:
                form.add_error(field, str(error))
            placed = True
    form.add_error(None, str(exc.message))
    return placed


# ---------------------------------------------------------------- search / waiting list


class CashierHomeView(PermissionPage, View):
    """Find an order by RO number, plate or VIN; without a search, the delivered orders
    whose customer invoice is still due (waiting at the counter)."""

    permission = "billing.view_payment"

    def get(self, request):
        q = (request.GET.get("q") or "").strip()
        if q:
            orders = settlement.cashier_orders(request.user, q, limit=WAITING_LIMIT)
            if len(orders) == 1:
                return redirect("billing-cashier-order", orders[0].pk)
        else:
            due = Invoice.objects.filter(
                repair_order=OuterRef("pk"),
                status=InvoiceStatus.ISSUED,
                pay_type=PayType.CUSTOMER,
            ).exclude(gross_amount=F("credited_amount") + F("paid_amount"))
            # what the customer still owes on the order, shown at the counter
            owed = (
                due.values("repair_order")
                .annotate(owed=Sum(F("gross_amount") - F("credited_amount") - F("paid_amount")))
                .values("owed")
            )
            orders = list(
                selectors.repair_orders(request.user)
                .filter(status=ROStatus.DELIVERED)
                .filter(Exists(due))
                .annotate(amount_due=Subquery(owed, output_field=DecimalField()))
                .order_by("delivered_at", "id")[:WAITING_LIMIT]
            )
        return render(
            request,
            "billing/cashier_home.html",
            {"q": q, "object_list": orders, "searched": bool(q)},
        )


# ---------------------------------------------------------------- one order


def _order_context(request, order, *, pay_forms=None, refund_forms=None, deposit_form=None):
    user = request.user
    dealer = order.dealer
    invoices = settlement.order_invoices(user, order)
    open_deposits = deposits.open_deposits(order)
    may_pay = allowed_at(user, "billing.add_payment", dealer=dealer)
    may_refund = allowed_at(user, "billing.refund_payment", dealer=dealer)
    pay_forms = pay_forms or {}
    refund_forms = refund_forms or {}
    rows = []
    for invoice in invoices:
        held = {}
        for p in invoice.payments.all():
            if p.kind == PaymentKind.REFUND:
                held[p.refund_of_id] = held.get(p.refund_of_id, 0) + p.amount
        entries = []
        for p in invoice.payments.all():
            holds = p.amount - held.get(p.pk, 0) if p.kind == PaymentKind.PAYMENT else None
            form = refund_forms.get(p.pk)
            if form is None and holds and may_refund:
                form = RefundForm(initial={"amount": holds}, prefix=f"r{p.pk}")
            entries.append({"payment": p, "holds": holds, "refund_form": form})
        due = invoice.due_amount
        form = pay_forms.get(invoice.pk)
        if form is None and may_pay and invoice.status == InvoiceStatus.ISSUED and due > 0:
            form = PaymentForm(
                initial={"amount": due, "method": PaymentMethod.CASH},
                deposits=open_deposits,
                prefix=f"p{invoice.pk}",
            )
        rows.append({"invoice": invoice, "due": due, "payments": entries, "pay_form": form})
    day_closed = (
        user.dealer_id == order.dealer_id
        and CashClosing.objects.filter(
            dealer_id=order.dealer_id, cashier=user, business_day=payments.business_day()
        ).exists()
    )
    refusals = [] if order.status == ROStatus.CLOSED else settlement.settlement_refusals(order)
    return {
        "order": order,
        "rows": rows,
        "deposits": deposits.Deposit.objects.filter(repair_order=order).order_by("created_at"),
        "deposit_form": deposit_form
        or (
            DepositForm(prefix="d")
            if may_pay and order.status not in (ROStatus.CLOSED, ROStatus.CANCELLED)
            else None
        ),
        "may_pay": may_pay,
        "may_refund": may_refund,
        "day_closed": day_closed,
        "refusals": refusals,
    }


def _order(request, pk):
    return selectors.order_or_404(request.user, pk)


class CashierOrderView(PermissionPage, View):
    permission = "billing.view_payment"

    def get(self, request, pk):
        order = _order(request, pk)
        return render(request, "billing/cashier_order.html", _order_context(request, order))


class CashierPayView(PermissionPage, View):
    permission = "billing.add_payment"

    def post(self, request, pk):
        invoice = get_object_or_404(Invoice.objects.restrict(request.user, "view"), pk=pk)
        order = _order(request, invoice.repair_order_id)
        form = PaymentForm(
            request.POST, deposits=deposits.open_deposits(order), prefix=f"p{invoice.pk}"
        )
        if form.is_valid():
            data = form.cleaned_data
            try:
                payment = payments.payment_take(
                    actor=request.user,
                    invoice=invoice,
                    method=data["method"],
                    amount=data["amount"],
                    tendered=data.get("tendered"),
                    reference=data.get("reference") or "",
                    deposit=data.get("deposit"),
                    key=data.get("idempotency_key") or "",
                )
            except ServiceError as exc:
                _errors_to_form(form, exc)
            else:
                text = _("Payment of %(amount)s by %(method)s recorded.") % {
                    "amount": payment.amount,
                    "method": payment.get_method_display(),
                }
                if payment.change:
                    text += " " + _("Change to give: %(change)s.") % {"change": payment.change}
                messages.success(request, text)
                return redirect(
                    reverse("billing-cashier-order", args=[order.pk]) + f"?receipt={payment.pk}"
                )
        context = _order_context(request, order, pay_forms={invoice.pk: form})
        return render(request, "billing/cashier_order.html", context)


class CashierRefundView(PermissionPage, View):
    permission = "billing.refund_payment"

    def post(self, request, pk):
        payment = get_object_or_404(Payment.objects.restrict(request.user, "view"), pk=pk)
        order = _order(request, payment.invoice.repair_order_id)
        form = RefundForm(request.POST, prefix=f"r{payment.pk}")
        if form.is_valid():
            data = form.cleaned_data
            try:
                refund = payments.payment_refund(
                    actor=request.user,
                    payment=payment,
                    amount=data["amount"],
                    reason=data["reason"],
                    key=data.get("idempotency_key") or "",
                )
            except ServiceError as exc:
                _errors_to_form(form, exc)
            else:
                messages.success(
                    request,
                    _("Refund of %(amount)s by %(method)s recorded.")
                    % {"amount": refund.amount, "method": refund.get_method_display()},
                )
                return redirect(
                    reverse("billing-cashier-order", args=[order.pk]) + f"?receipt={refund.pk}"
                )
        context = _order_context(request, order, refund_forms={payment.pk: form})
        return render(request, "billing/cashier_order.html", context)


class CashierDepositView(PermissionPage, View):
    permission = "billing.add_payment"

    def post(self, request, pk):
        order = _order(request, pk)
        form = DepositForm(request.POST, prefix="d")
        if form.is_valid():
            data = form.cleaned_data
            try:
                deposit = deposits.deposit_take(
                    actor=request.user,
                    repair_order=order,
                    method=data["method"],
                    amount=data["amount"],
                    reference=data.get("reference") or "",
                    key=data.get("idempotency_key") or "",
                )
            except ServiceError as exc:
                _errors_to_form(form, exc)
            else:
                messages.success(
                    request,
                    _("Deposit %(number)s of %(amount)s taken.")
                    % {"number": deposit.number, "amount": deposit.amount},
                )
                return redirect("billing-cashier-order", order.pk)
        context = _order_context(request, order, deposit_form=form)
        return render(request, "billing/cashier_order.html", context)


class CashierDepositRefundView(PermissionPage, View):
    permission = "billing.refund_payment"

    def post(self, request, pk):
        deposit = get_object_or_404(deposits.deposits_visible(request.user), pk=pk)
        try:
            refunded = deposits.deposit_refund(
                actor=request.user,
                deposit=deposit,
                reason=request.POST.get("reason") or "",
                key=(request.POST.get("idempotency_key") or "").strip(),
            )
        except ServiceError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(
                request,
                _("What was left of deposit %(number)s (%(amount)s) is refunded.")
                % {"number": refunded.number, "amount": refunded.refunded_amount},
            )
        if deposit.repair_order_id:
            return redirect("billing-cashier-order", deposit.repair_order_id)
        return redirect("billing-cashier")


class ReceiptView(PermissionPage, View):
    permission = "billing.view_payment"

    def get(self, request, pk):
        payment = get_object_or_404(Payment.objects.restrict(request.user, "view"), pk=pk)
        return _pdf(
            receipts.receipt_pdf(payment, user=request.user), receipts.receipt_filename(payment)
        )


# ---------------------------------------------------------------- cash closing


class ClosingView(PermissionPage, View):
    """The cashier's day so far and the closing form; the closed days the user may see."""

    permission = "billing.view_cashclosing"

    def _render(self, request, form, status=200):
        user = request.user
        day = payments.business_day()
        summary = None
        if user.dealer_id and allowed_at(user, "billing.add_cashclosing", dealer=user.dealer):
            summary = closing.day_summary(dealer_id=user.dealer_id, cashier_id=user.pk, day=day)
            summary["rows"] = [
                (label, summary["totals"][value]) for value, label in PaymentMethod.choices
            ]
        closings = (
            CashClosing.objects.restrict(user, "view")
            .select_related("cashier", "dealer")
            .order_by("-business_day", "-id")[:60]
        )
        return render(
            request,
            "billing/closing_page.html",
            {
                "summary": summary,
                "methods": PaymentMethod.choices,
                "form": form,
                "object_list": list(closings),
            },
            status=status,
        )

    def get(self, request):
        return self._render(request, ClosingForm())

    def post(self, request):
        if not user_has_perm(request.user, "billing.add_cashclosing"):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        form = ClosingForm(request.POST)
        if form.is_valid():
            try:
                record = closing.cash_closing_create(
                    actor=request.user,
                    counted_cash=form.cleaned_data["counted_cash"],
                    reason=form.cleaned_data["reason"],
                )
            except ServiceError as exc:
                _errors_to_form(form, exc)
            else:
                messages.success(
                    request,
                    _("Cash day %(day)s closed; difference %(difference)s.")
                    % {"day": record.business_day.isoformat(), "difference": record.difference},
                )
                return redirect("billing-closing")
        return self._render(request, form)


# ---------------------------------------------------------------- reports


def _report_dealers(user):
    from aftersales.org.models import Dealer

    scope = user_scope(user, "billing.view_payment")
    dealers = Dealer.objects.order_by("code")
    if not scope.everything:
        dealers = dealers.filter(pk__in=scope.dealer_ids)
    return list(dealers)


class ReportsView(PermissionPage, View):
    permission = "billing.view_payment"

    def _report(self, request):
        dealers = _report_dealers(request.user)
        data = request.GET if request.GET else None
        form = ReportForm(data, dealers=dealers) if data else ReportForm(dealers=dealers)
        if data is not None and not form.is_valid():
            return form, None
        values = form.cleaned_data if data is not None else {}
        name = values.get("report") or "revenue-method"
        report = reports.run(
            name,
            request.user,
            since=values.get("since"),
            until=values.get("until"),
            dealer=values.get("dealer"),
        )
        return form, report

    def get(self, request):
        form, report = self._report(request)
        context = {"form": form, "report": report, "query": request.GET.urlencode()}
        if report is not None:
            keys = [key for key, _label in report.columns]
            context["cells"] = [[_shown(row.get(k)) for k in keys] for row in report.rows]
            context["total_cells"] = [_shown(report.totals.get(k)) for k in keys[1:]]
        if report is not None and report.name == "receivables":
            context["ageing"] = reports.ageing_table(report)
            context["receivable_types"] = reports.RECEIVABLE_PAY_TYPES
        return render(request, "billing/report_page.html", context)


def _shown(value):
    import datetime
    from decimal import Decimal

    if isinstance(value, datetime.date):
        return {"text": value.isoformat(), "number": False}
    return {"text": "" if value is None else value, "number": isinstance(value, Decimal | int)}


class ReportExportView(ReportsView):
    def get(self, request):
        form, report = self._report(request)
        if report is None:
            raise Http404
        return excel_response(reports.to_excel([report]), f"{report.name}.xlsx")
