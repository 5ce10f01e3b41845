"""Settlement API: invoices and credit notes.

``/api/billing/invoices/`` lists and shows a dealer's invoices (scoped with ``restrict``:
another dealer's id answers 404). ``POST .../prepare/<repair order id>/`` prepares or
refreshes the order's draft invoices (one per payer; safe to repeat). ``PATCH
.../<id>/`` edits a draft (fapiao details, payer, discounts; ``version`` required) and
``POST .../<id>/issue/`` numbers and freezes it; an issued invoice answers 409
``invoice_issued`` to every edit. ``POST .../<id>/credit-notes/`` writes a credit note
(``Idempotency-Key``: a retry writes one note). ``.../<id>/pdf/`` is the Chinese PDF.
``/api/billing/credit-notes/`` lists and shows credit notes, with their PDF.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aftersales.billing import credit, invoices, printing
from aftersales.billing.choices import BuyerType
from aftersales.billing.models import CreditNote, CreditNoteLine, Invoice, InvoiceLine
from aftersales.core.api import ERROR, IDEMPOTENCY
from aftersales.core.drf import ScopedByActionMixin
from aftersales.core.idempotency import once, request_key
from aftersales.workorders.models import RepairOrder
from aftersales.workorders.views_printing import pdf_response

PDF = OpenApiResponse(OpenApiTypes.BINARY, description="application/pdf")

# ---------------------------------------------------------------- serializers


class InvoiceLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = [
            "id",
            "ro_line",
            "position",
            "kind",
            "code",
            "description",
            "quantity",
            "unit_price",
            "discount_amount",
            "net_amount",
            "tax_amount",
            "gross_amount",
        ]


class InvoiceListSerializer(serializers.ModelSerializer):
    repair_order_number = serializers.CharField(source="repair_order.number", read_only=True)
    due_amount = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "dealer",
            "number",
            "status",
            "pay_type",
            "repair_order",
            "repair_order_number",
            "payer_name",
            "net_amount",
            "tax_amount",
            "gross_amount",
            "credited_amount",
            "paid_amount",
            "due_amount",
            "issued_at",
            "created_at",
            "version",
        ]


class CreditNoteLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditNoteLine
        fields = ["id", "invoice_line", "quantity", "net_amount", "tax_amount", "gross_amount"]


class CreditNoteSerializer(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    lines = CreditNoteLineSerializer(many=True, read_only=True)

    class Meta:
        model = CreditNote
        fields = [
            "id",
            "dealer",
            "number",
            "invoice",
            "invoice_number",
            "reason",
            "net_amount",
            "tax_amount",
            "gross_amount",
            "created_at",
            "lines",
        ]


class InvoiceDetailSerializer(InvoiceListSerializer):
    lines = InvoiceLineSerializer(many=True, read_only=True)
    credit_notes = CreditNoteSerializer(many=True, read_only=True)

    class Meta(InvoiceListSerializer.Meta):
        fields = [
            *InvoiceListSerializer.Meta.fields,
            "vat_rate",
            "buyer_type",
            "title",
            "taxpayer_id",
            "buyer_address_phone",
            "buyer_bank_account",
            "insurer",
            "insurance_claim_number",
            "discount_amount",
            "invoice_discount",
            "note",
            "lines",
            "credit_notes",
        ]


class InvoiceUpdateSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    buyer_type = serializers.ChoiceField(choices=BuyerType.choices, required=False)
    title = serializers.CharField(max_length=100, required=False, allow_blank=True)
    taxpayer_id = serializers.CharField(max_length=30, required=False, allow_blank=True)
    buyer_address_phone = serializers.CharField(max_length=200, required=False, allow_blank=True)
    buyer_bank_account = serializers.CharField(max_length=200, required=False, allow_blank=True)
    payer_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    insurer = serializers.CharField(max_length=100, required=False, allow_blank=True)
    insurance_claim_number = serializers.CharField(max_length=50, required=False, allow_blank=True)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)
    invoice_discount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False
    )
    line_discounts = serializers.DictField(
        child=serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0),
        required=False,
        help_text="{invoice line id: discount amount incl. VAT}",
    )


class IssueSerializer(serializers.Serializer):
    version = serializers.IntegerField()


class CreditLineRequestSerializer(serializers.Serializer):
    invoice_line = serializers.IntegerField()
    quantity = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False
    )
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)


class CreditNoteCreateSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)
    full = serializers.BooleanField(default=False)
    lines = CreditLineRequestSerializer(many=True, required=False)


class CreditNoteResultSerializer(CreditNoteSerializer):
    refund_due = serializers.SerializerMethodField()

    class Meta(CreditNoteSerializer.Meta):
        fields = [*CreditNoteSerializer.Meta.fields, "refund_due"]

    def get_refund_due(self, note) -> str:
        return str(credit.refund_due(note.invoice))


# ---------------------------------------------------------------- views


def _detail_queryset():
    return Invoice.objects.select_related("repair_order").prefetch_related(
        "lines", "credit_notes__lines", "credit_notes__invoice"
    )


class InvoiceViewSet(
    ScopedByActionMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Invoice.objects.select_related("repair_order")
    action_verbs = {"partial_update": "add", "issue": "add", "prepare": "add", "pdf": "view"}
    filterset_fields = ["status", "pay_type", "repair_order"]

    def required_permission(self) -> str:
        if self.action == "credit_notes":
            return "billing.add_creditnote"
        return super().required_permission()

    def permission_verb(self) -> str:
        if self.action == "credit_notes":
            return "view"
        return super().permission_verb()

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action != "list":
            queryset = queryset.prefetch_related(
                "lines", "credit_notes__lines", "credit_notes__invoice"
            )
        return queryset

    def get_serializer_class(self):
        if self.action == "list":
            return InvoiceListSerializer
        return InvoiceDetailSerializer

    def _detail(self, invoice, code=status.HTTP_200_OK):
        invoice = _detail_queryset().get(pk=invoice.pk)
        return Response(InvoiceDetailSerializer(invoice).data, status=code)

    @extend_schema(
        summary="Prepare (or refresh) the repair order's draft invoices, one per payer",
        request=None,
        responses={200: InvoiceDetailSerializer(many=True), 404: ERROR, 409: ERROR},
    )
    @action(detail=False, methods=["post"], url_path=r"prepare/(?P<repair_order>\d+)")
    def prepare(self, request, repair_order=None):
        order = get_object_or_404(
            RepairOrder.objects.restrict(request.user, "view"), pk=repair_order
        )
        drafts = invoices.invoice_prepare(actor=request.user, repair_order=order)
        rows = _detail_queryset().filter(pk__in=[d.pk for d in drafts])
        return Response(InvoiceDetailSerializer(rows, many=True).data)

    @extend_schema(
        summary="Edit a draft invoice: fapiao details, payer, discounts",
        request=InvoiceUpdateSerializer,
        responses={200: InvoiceDetailSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    def partial_update(self, request, pk=None):
        invoice = self.get_object()
        data = InvoiceUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        version = values.pop("version")
        line_discounts = values.pop("line_discounts", None)
        invoice_discount = values.pop("invoice_discount", None)
        invoice = invoices.invoice_update(
            actor=request.user,
            invoice=invoice,
            version=version,
            line_discounts=line_discounts,
            invoice_discount=invoice_discount,
            **values,
        )
        return self._detail(invoice)

    @extend_schema(
        summary="Issue the invoice: gap-free number, immutable afterwards",
        request=IssueSerializer,
        responses={200: InvoiceDetailSerializer, 400: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        invoice = self.get_object()
        data = IssueSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invoice = invoices.invoice_issue(
            actor=request.user, invoice=invoice, version=data.validated_data["version"]
        )
        return self._detail(invoice)

    @extend_schema(
        summary="Credit an issued invoice (in part or in full)",
        parameters=[IDEMPOTENCY],
        request=CreditNoteCreateSerializer,
        responses={201: CreditNoteResultSerializer, 400: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"], url_path="credit-notes", url_name="credit-notes")
    def credit_notes(self, request, pk=None):
        invoice = self.get_object()
        data = CreditNoteCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        note, _acted = once(
            user=request.user,
            scope=f"billing-credit-note:{invoice.pk}",
            key=request_key(request),
            action=lambda: credit.credit_note_create(
                actor=request.user,
                invoice=invoice,
                reason=values["reason"],
                full=values["full"],
                lines=[dict(x) for x in values.get("lines") or []],
            ),
            model=CreditNote,
        )
        note = (
            CreditNote.objects.select_related("invoice").prefetch_related("lines").get(pk=note.pk)
        )
        return Response(CreditNoteResultSerializer(note).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="The invoice as a Chinese A4 PDF", responses={200: PDF})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        invoice = self.get_object()
        content = printing.invoice_pdf(invoice, user=request.user)
        return pdf_response(content, printing.pdf_filename(invoice, "invoice"))


class CreditNoteViewSet(ScopedByActionMixin, viewsets.ReadOnlyModelViewSet):
    queryset = CreditNote.objects.select_related("invoice").prefetch_related("lines")
    serializer_class = CreditNoteSerializer
    filterset_fields = ["invoice"]

    def required_permission(self) -> str:
        return "billing.view_invoice"

    def get_queryset(self):
        queryset = self.queryset
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        return queryset.filter(invoice__in=Invoice.objects.restrict(self.request.user, "view"))

    @extend_schema(summary="The credit note as a Chinese A4 PDF", responses={200: PDF})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        note = self.get_object()
        content = printing.credit_note_pdf(note, user=request.user)
        return pdf_response(content, printing.pdf_filename(note, "credit-note"))


def register(router):
    router.register("billing/invoices", InvoiceViewSet, basename="billing-invoice")
    router.register("billing/credit-notes", CreditNoteViewSet, basename="billing-creditnote")
