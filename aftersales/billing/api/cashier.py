"""Settlement API: the cashier (see aftersales/config/api_urls.py).

* ``billing/cashier-invoices/`` issued invoices still to settle (``?q=`` RO number, plate
  or VIN; ``?all=1`` also the settled ones); ``{id}/pay/`` takes a payment.
* ``billing/payments/`` payments and refunds; ``{id}/refund/`` refunds one.
* ``billing/deposits/`` deposits (POST takes one against a repair order); ``{id}/refund/``
  refunds what is left.
* ``billing/cash-closings/`` closed cashier days (POST closes the caller's day);
  ``summary/`` the caller's day so far.
* ``billing/reports/{name}/`` revenue by method, by pay type, receivables (``?export=xlsx``).

Every POST that moves money needs an ``Idempotency-Key`` header (or an ``idempotency_key``
field): a retry answers 200 with the first result and records nothing; the first answer is
201. Reads are scoped with ``restrict``: another dealer's id answers 404.
"""

import datetime

from django.db.models import F
from django.http import HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aftersales.billing import closing, deposits, payments, reports
from aftersales.billing.choices import InvoiceStatus, PaymentMethod
from aftersales.billing.models import CashClosing, Deposit, Invoice, Payment
from aftersales.core.api import ERROR, IDEMPOTENCY
from aftersales.core.drf import ActionPermission
from aftersales.core.errors import ValidationFailed
from aftersales.core.idempotency import request_key

INVALID = OpenApiResponse(ERROR, description="Invalid input; `fields` says what is wrong.")
REFUSED = OpenApiResponse(
    ERROR, description="Refused in the current state: over_due, not_issued, day_closed, ..."
)


class CashierViewSet(viewsets.GenericViewSet):
    """Permission per action (``rules``: action → (permission, restrict verb)); rows
    scoped with ``restrict`` for that verb."""

    permission_classes = [ActionPermission]
    rules: dict[str, tuple[str, str]] = {}

    def _rule(self):
        return self.rules.get(self.action) or self.rules["list"]

    def required_permission(self) -> str:
        return self._rule()[0]

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        return queryset.restrict(self.request.user, self._rule()[1])


def _key(request) -> str:
    key = request_key(request)
    if not key:
        raise ValidationFailed(
            _("Send an Idempotency-Key header with every payment request."),
            code="idempotency_key_required",
        )
    return key


# ---------------------------------------------------------------- serializers


class PaymentSerializer(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    cashier_name = serializers.CharField(source="cashier.__str__", read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "invoice",
            "invoice_number",
            "kind",
            "method",
            "amount",
            "tendered",
            "change",
            "reference",
            "deposit",
            "refund_of",
            "credit_note",
            "reason",
            "cashier",
            "cashier_name",
            "business_day",
            "created_at",
        ]


class InvoiceDueSerializer(serializers.ModelSerializer):
    repair_order_number = serializers.CharField(source="repair_order.number", read_only=True)
    plate = serializers.CharField(source="repair_order.vehicle.plate", read_only=True)
    due_amount = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "status",
            "pay_type",
            "payer_name",
            "insurer",
            "repair_order",
            "repair_order_number",
            "plate",
            "gross_amount",
            "credited_amount",
            "paid_amount",
            "due_amount",
            "issued_at",
        ]


class InvoiceDetailSerializer(InvoiceDueSerializer):
    payments = PaymentSerializer(many=True, read_only=True)

    class Meta(InvoiceDueSerializer.Meta):
        fields = [*InvoiceDueSerializer.Meta.fields, "payments"]


class PayRequest(serializers.Serializer):
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    amount = serializers.CharField(help_text='Yuan with at most 2 decimals, e.g. "128.50".')
    tendered = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, help_text="Cash handed over (cash only)."
    )
    reference = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Trade number (WeChat/Alipay), slip.",
    )
    deposit = serializers.IntegerField(required=False, allow_null=True)


class PaymentOut(PaymentSerializer):
    invoice_due = serializers.DecimalField(
        source="invoice.due_amount", max_digits=12, decimal_places=2, read_only=True
    )

    class Meta(PaymentSerializer.Meta):
        fields = [*PaymentSerializer.Meta.fields, "invoice_due"]


class RefundRequest(serializers.Serializer):
    amount = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    credit_note = serializers.IntegerField(required=False, allow_null=True)


class DepositSerializer(serializers.ModelSerializer):
    available = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    repair_order_number = serializers.CharField(source="repair_order.number", read_only=True)

    class Meta:
        model = Deposit
        fields = [
            "id",
            "number",
            "repair_order",
            "repair_order_number",
            "method",
            "amount",
            "used_amount",
            "refunded_amount",
            "available",
            "status",
            "reference",
            "cashier",
            "business_day",
            "created_at",
            "refunded_by",
            "refund_day",
            "refund_reason",
        ]


class DepositRequest(serializers.Serializer):
    repair_order = serializers.IntegerField()
    method = serializers.ChoiceField(choices=deposits.DEPOSIT_METHODS)
    amount = serializers.CharField()
    reference = serializers.CharField(required=False, allow_blank=True, default="")


class DepositRefundRequest(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class ClosingSerializer(serializers.ModelSerializer):
    cashier_name = serializers.CharField(source="cashier.__str__", read_only=True)

    class Meta:
        model = CashClosing
        fields = [
            "id",
            "dealer",
            "cashier",
            "cashier_name",
            "business_day",
            "totals",
            "expected_cash",
            "counted_cash",
            "difference",
            "reason",
            "closed_by",
            "closed_at",
        ]


class ClosingRequest(serializers.Serializer):
    counted_cash = serializers.CharField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


def _out(serializer_class, instance, replayed: bool):
    return Response(
        serializer_class(instance).data,
        status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED,
    )


# ---------------------------------------------------------------- invoices to settle


class CashierInvoiceViewSet(CashierViewSet):
    queryset = Invoice.objects.select_related("repair_order__vehicle")
    serializer_class = InvoiceDueSerializer
    rules = {
        "list": ("billing.view_invoice", "view"),
        "retrieve": ("billing.view_invoice", "view"),
        "pay": ("billing.add_payment", "view"),
    }

    @extend_schema(
        summary="Issued invoices still to settle",
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="RO number, plate or VIN"),
            OpenApiParameter("all", OpenApiTypes.BOOL, description="also settled invoices"),
        ],
    )
    def list(self, request):
        from aftersales.workorders import selectors

        rows = self.get_queryset().filter(status=InvoiceStatus.ISSUED)
        if request.query_params.get("all") not in ("1", "true"):
            rows = rows.annotate(
                open_due=F("gross_amount") - F("credited_amount") - F("paid_amount")
            ).exclude(open_due=0)
        q = request.query_params.get("q", "").strip().upper()
        if q:
            orders = selectors.search(selectors.repair_orders(request.user), q).values("pk")
            rows = rows.filter(repair_order__in=orders)
        page = self.paginate_queryset(rows.order_by("-issued_at", "-id"))
        return self.get_paginated_response(InvoiceDueSerializer(page, many=True).data)

    @extend_schema(summary="An invoice with what is due and its payments")
    def retrieve(self, request, pk=None):
        invoice = self.get_object()
        return Response(InvoiceDetailSerializer(invoice).data)

    @extend_schema(
        summary="Take a payment (idempotent: Idempotency-Key required)",
        description="Cash may carry `tendered` (cash handed over): the change is "
        "`tendered − amount`. No amount above what is due is taken. A retry with the same "
        "key answers 200 with the first payment and records nothing.",
        request=PayRequest,
        parameters=[IDEMPOTENCY],
        responses={201: PaymentOut, 200: PaymentOut, 400: INVALID, 409: REFUSED},
    )
    @action(detail=True, methods=["post"])
    def pay(self, request, pk=None):
        invoice = self.get_object()
        key = _key(request)
        data = PayRequest(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        payment = payments.payment_take(
            actor=request.user,
            invoice=invoice,
            method=values["method"],
            amount=values["amount"],
            tendered=values.get("tendered") or None,
            reference=values.get("reference", ""),
            deposit=values.get("deposit"),
            key=key,
        )
        payment.invoice.refresh_from_db()
        return _out(PaymentOut, payment, payment.replayed)


# ---------------------------------------------------------------- payments and refunds


class PaymentViewSet(CashierViewSet):
    queryset = Payment.objects.select_related("invoice", "cashier")
    serializer_class = PaymentSerializer
    rules = {
        "list": ("billing.view_payment", "view"),
        "retrieve": ("billing.view_payment", "view"),
        "refund": ("billing.refund_payment", "refund"),
    }

    @extend_schema(
        summary="Payments and refunds",
        parameters=[
            OpenApiParameter("invoice", OpenApiTypes.INT),
            OpenApiParameter("day", OpenApiTypes.DATE, description="business day"),
        ],
    )
    def list(self, request):
        rows = self.get_queryset()
        invoice = request.query_params.get("invoice")
        if invoice and invoice.isdigit():
            rows = rows.filter(invoice_id=int(invoice))
        day = parse_date(request.query_params.get("day") or "")
        if day:
            rows = rows.filter(business_day=day)
        page = self.paginate_queryset(rows.order_by("-created_at", "-id"))
        return self.get_paginated_response(PaymentSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(PaymentSerializer(self.get_object()).data)

    @extend_schema(
        summary="Refund (part of) a payment (idempotent: Idempotency-Key required)",
        description="Never more than what the payment still holds; by the same method (a "
        "deposit payment goes back to its deposit). A reason is required.",
        request=RefundRequest,
        parameters=[IDEMPOTENCY],
        responses={201: PaymentOut, 200: PaymentOut, 400: INVALID, 409: REFUSED},
    )
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        payment = self.get_object()
        key = _key(request)
        data = RefundRequest(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        refund = payments.payment_refund(
            actor=request.user,
            payment=payment,
            amount=values["amount"],
            reason=values["reason"],
            key=key,
            credit_note=values.get("credit_note"),
        )
        refund.invoice.refresh_from_db()
        return _out(PaymentOut, refund, refund.replayed)


# ---------------------------------------------------------------- deposits


class DepositViewSet(CashierViewSet):
    queryset = Deposit.objects.select_related("repair_order")
    serializer_class = DepositSerializer
    rules = {
        "list": ("billing.view_payment", "view"),
        "retrieve": ("billing.view_payment", "view"),
        "create": ("billing.add_payment", "add"),
        "refund": ("billing.refund_payment", "refund"),
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Deposit.objects.none()
        verb = self._rule()[1]
        return deposits.deposits_visible(self.request.user, verb).select_related("repair_order")

    @extend_schema(
        summary="Deposits",
        parameters=[OpenApiParameter("repair_order", OpenApiTypes.INT)],
    )
    def list(self, request):
        rows = self.get_queryset()
        order = request.query_params.get("repair_order")
        if order and order.isdigit():
            rows = rows.filter(repair_order_id=int(order))
        page = self.paginate_queryset(rows.order_by("-created_at", "-id"))
        return self.get_paginated_response(DepositSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(DepositSerializer(self.get_object()).data)

    @extend_schema(
        summary="Take a deposit against a repair order (Idempotency-Key required)",
        request=DepositRequest,
        parameters=[IDEMPOTENCY],
        responses={201: DepositSerializer, 200: DepositSerializer, 400: INVALID, 409: REFUSED},
    )
    def create(self, request):
        key = _key(request)
        data = DepositRequest(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        deposit = deposits.deposit_take(
            actor=request.user,
            repair_order=values["repair_order"],
            method=values["method"],
            amount=values["amount"],
            reference=values.get("reference", ""),
            key=key,
        )
        return _out(DepositSerializer, deposit, deposit.replayed)

    @extend_schema(
        summary="Refund what is left of a deposit (Idempotency-Key required)",
        request=DepositRefundRequest,
        parameters=[IDEMPOTENCY],
        responses={201: DepositSerializer, 200: DepositSerializer, 409: REFUSED},
    )
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        deposit = self.get_object()
        key = _key(request)
        deposit = deposits.deposit_refund(
            actor=request.user, deposit=deposit, reason=request.data.get("reason", ""), key=key
        )
        return _out(DepositSerializer, deposit, deposit.replayed)


# ---------------------------------------------------------------- cash closing


class DaySummarySerializer(serializers.Serializer):
    day = serializers.DateField()
    totals = serializers.DictField(child=serializers.DecimalField(max_digits=14, decimal_places=2))
    expected_cash = serializers.DecimalField(max_digits=14, decimal_places=2)
    taken = serializers.DecimalField(max_digits=14, decimal_places=2)
    closed = serializers.BooleanField()


class CashClosingViewSet(CashierViewSet):
    queryset = CashClosing.objects.select_related("cashier")
    serializer_class = ClosingSerializer
    rules = {
        "list": ("billing.view_cashclosing", "view"),
        "retrieve": ("billing.view_cashclosing", "view"),
        "summary": ("billing.add_cashclosing", "add"),
        "create": ("billing.add_cashclosing", "add"),
    }

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset().order_by("-business_day", "-id"))
        return self.get_paginated_response(ClosingSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(ClosingSerializer(self.get_object()).data)

    @extend_schema(summary="The caller's cash day so far", responses={200: DaySummarySerializer})
    @action(detail=False, methods=["get"])
    def summary(self, request):
        user = request.user
        if user.dealer_id is None:
            raise ValidationFailed(_("Only a dealer's cashier has a cash day."), code="no_dealer")
        day = payments.business_day()
        summary = closing.day_summary(dealer_id=user.dealer_id, cashier_id=user.pk, day=day)
        return Response(
            DaySummarySerializer(
                {
                    "day": day,
                    "totals": summary["totals"],
                    "expected_cash": summary["expected_cash"],
                    "taken": summary["taken"],
                    "closed": summary["closing"] is not None,
                }
            ).data
        )

    @extend_schema(
        summary="Close the caller's cash day (Idempotency-Key accepted)",
        description="The counted cash against the expected cash; a difference needs a "
        "reason. Afterwards the caller takes no more payments or refunds today. Closing "
        "again answers 409 already_closed.",
        request=ClosingRequest,
        parameters=[IDEMPOTENCY],
        responses={201: ClosingSerializer, 400: INVALID, 409: REFUSED},
    )
    def create(self, request):
        data = ClosingRequest(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        record = closing.cash_closing_create(
            actor=request.user, counted_cash=values["counted_cash"], reason=values["reason"]
        )
        return _out(ClosingSerializer, record, False)


# ---------------------------------------------------------------- reports


class ReportViewSet(viewsets.ViewSet):
    permission_classes = [ActionPermission]
    lookup_value_regex = "[a-z-]+"

    def required_permission(self) -> str:
        return "billing.view_payment"

    @extend_schema(
        summary="A settlement report (revenue-method, revenue-pay-type, receivables)",
        parameters=[
            OpenApiParameter("since", OpenApiTypes.DATE),
            OpenApiParameter("until", OpenApiTypes.DATE),
            OpenApiParameter("dealer", OpenApiTypes.INT),
            OpenApiParameter("export", OpenApiTypes.STR, description="xlsx: an Excel file"),
        ],
        responses={200: OpenApiTypes.OBJECT, 404: ERROR},
    )
    def retrieve(self, request, pk=None):
        from django.http import Http404

        if pk not in reports.REPORTS:
            raise Http404
        since, until, dealer = report_arguments(request.query_params)
        report = reports.run(pk, request.user, since=since, until=until, dealer=dealer)
        if request.query_params.get("export") == "xlsx":
            return excel_response(reports.to_excel([report]), f"{pk}-{until or ''}.xlsx")
        return Response(
            {
                "name": report.name,
                "title": report.title,
                "note": report.note,
                "columns": [{"key": k, "label": str(label)} for k, label in report.columns],
                "rows": [{k: _plain(v) for k, v in row.items()} for row in report.rows],
                "totals": {k: _plain(v) for k, v in report.totals.items()},
            }
        )


def _plain(value):
    if isinstance(value, datetime.date):
        return value.isoformat()
    if value is None or isinstance(value, int | str):
        return value
    return str(value)


MAX_DAYS = 366


def report_arguments(params):
    """(since, until, dealer id) from query parameters; a period longer than a year or
    reversed is refused."""
    until = parse_date(params.get("until") or "") or timezone.localdate()
    since = parse_date(params.get("since") or "") or until - datetime.timedelta(days=6)
    if since > until or (until - since).days >= MAX_DAYS:
        raise ValidationFailed(
            _("Choose a period of at most a year, the start before the end."),
            fields={"since": [_("Invalid period.")]},
        )
    dealer = params.get("dealer")
    return since, until, int(dealer) if dealer and str(dealer).isdigit() else None


def excel_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def register(router):
    router.register("billing/cashier-invoices", CashierInvoiceViewSet, basename="cashier-invoice")
    router.register("billing/payments", PaymentViewSet, basename="payment")
    router.register("billing/deposits", DepositViewSet, basename="deposit")
    router.register("billing/cash-closings", CashClosingViewSet, basename="cash-closing")
    router.register("billing/reports", ReportViewSet, basename="billing-report")
