"""Parts API: purchase orders, goods receipts, purchase suggestions and reorder levels.

Reads go through ``restrict`` (another dealer's id answers 404); writes call the services
in ``parts.purchasing`` and ``parts.reorder``, whose coded errors the API turns into
``{"code", "message", "fields"}`` (an illegal status change or an over-receipt is 409).
A receipt is booked once per ``Idempotency-Key`` header: a retry returns the first one."""

import django_filters
from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aftersales.core.api import ERROR, IDEMPOTENCY
from aftersales.core.drf import FilterBackend, ScopedByActionMixin
from aftersales.core.errors import ValidationFailed
from aftersales.core.idempotency import once, request_key
from aftersales.parts import purchasing, reorder
from aftersales.parts.choices import PurchaseOrderStatus
from aftersales.parts.models import (
    Bin,
    GoodsReceipt,
    GoodsReceiptLine,
    Part,
    PurchaseOrder,
    PurchaseOrderLine,
    StockItem,
    Warehouse,
)

INVALID = OpenApiResponse(ERROR, description="Invalid input; `fields` says what is wrong.")
CONFLICT = OpenApiResponse(
    ERROR,
    description="Refused by the order's state (code illegal_transition, po_closed, "
    "over_receipt, idempotency_key_reused).",
)


class PartsViewSet(ScopedByActionMixin, viewsets.GenericViewSet):
    """Permission per action (``action_verbs``), rows scoped with ``restrict``."""

    filter_backends = [FilterBackend]

    def filter_queryset(self, queryset):
        if self.detail:
            return queryset
        return super().filter_queryset(queryset)


# ---------------------------------------------------------------- serializers


class PurchaseOrderLineSerializer(serializers.ModelSerializer):
    part_number = serializers.CharField(source="part.number", read_only=True)
    part_name = serializers.CharField(source="part.name", read_only=True)
    open_quantity = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)

    class Meta:
        model = PurchaseOrderLine
        fields = [
            "id",
            "part",
            "part_number",
            "part_name",
            "quantity",
            "unit_cost",
            "received",
            "open_quantity",
        ]
        read_only_fields = fields


class PurchaseOrderSerializer(serializers.ModelSerializer):
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    lines = PurchaseOrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = PurchaseOrder
        fields = [
            "id",
            "number",
            "dealer",
            "warehouse",
            "warehouse_code",
            "status",
            "status_display",
            "urgent",
            "allow_over_receipt",
            "expected_on",
            "note",
            "created_at",
            "submitted_at",
            "closed_at",
            "version",
            "lines",
        ]
        read_only_fields = fields


class PurchaseLineInSerializer(serializers.Serializer):
    part = serializers.IntegerField(required=False, help_text="Part id (or give part_number).")
    part_number = serializers.CharField(required=False, help_text="Part number or barcode.")
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2)
    unit_cost = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True
    )

    def validate(self, attrs):
        ref = attrs.get("part") or attrs.get("part_number")
        if not ref:
            raise serializers.ValidationError({"part": [_("Give a part id or a part number.")]})
        if attrs.get("part"):
            part = Part.objects.filter(pk=attrs["part"]).first()
        else:
            code = attrs["part_number"].strip()
            part = Part.objects.filter(Q(number__iexact=code) | Q(barcode=code)).first()
        if part is None:
            raise serializers.ValidationError({"part": [_("No part with this number.")]})
        attrs["part_obj"] = part
        return attrs


class PurchaseOrderCreateSerializer(serializers.Serializer):
    warehouse = serializers.IntegerField()
    lines = PurchaseLineInSerializer(many=True, required=False)
    urgent = serializers.BooleanField(default=False)
    expected_on = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    allow_over_receipt = serializers.BooleanField(default=False)
    substitute = serializers.BooleanField(
        default=False, help_text="Order the replacement of a superseded part instead of refusing."
    )


class PurchaseOrderUpdateSerializer(serializers.Serializer):
    urgent = serializers.BooleanField(required=False)
    expected_on = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)
    allow_over_receipt = serializers.BooleanField(required=False)


class PurchaseLineSetSerializer(PurchaseLineInSerializer):
    substitute = serializers.BooleanField(default=False)
    increment = serializers.BooleanField(
        default=False, help_text="Add to the line's quantity (a scan) instead of replacing it."
    )


class PurchaseLineRemoveSerializer(serializers.Serializer):
    line = serializers.IntegerField()


class PurchaseReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class PurchaseReceiveLineSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Purchase-order line id.")
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2)
    bin = serializers.IntegerField(required=False, allow_null=True)


class PurchaseReceiveSerializer(serializers.Serializer):
    lines = PurchaseReceiveLineSerializer(many=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class GoodsReceiptLineSerializer(serializers.ModelSerializer):
    part_number = serializers.CharField(source="order_line.part.number", read_only=True)
    bin_code = serializers.CharField(source="bin.code", read_only=True, default=None)

    class Meta:
        model = GoodsReceiptLine
        fields = ["id", "order_line", "part_number", "bin", "bin_code", "quantity", "unit_cost"]
        read_only_fields = fields


class GoodsReceiptSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    lines = GoodsReceiptLineSerializer(many=True, read_only=True)

    class Meta:
        model = GoodsReceipt
        fields = ["id", "number", "order", "order_number", "dealer", "received_at", "note", "lines"]
        read_only_fields = fields


class SuggestionSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="item.pk", help_text="Stock item id.")
    warehouse = serializers.IntegerField(source="item.warehouse_id")
    part = serializers.IntegerField(source="part.pk", help_text="Part to order.")
    part_number = serializers.CharField(source="part.number")
    stocked_part_number = serializers.CharField(source="item.part.number")
    available = serializers.DecimalField(max_digits=14, decimal_places=2)
    on_order = serializers.DecimalField(max_digits=14, decimal_places=2)
    shortage = serializers.DecimalField(max_digits=14, decimal_places=2)
    min_qty = serializers.DecimalField(source="item.min_qty", max_digits=12, decimal_places=2)
    max_qty = serializers.DecimalField(source="item.max_qty", max_digits=12, decimal_places=2)
    quantity = serializers.IntegerField(help_text="Suggested whole units to order.")


class SuggestionOrderSerializer(serializers.Serializer):
    warehouse = serializers.IntegerField()
    lines = PurchaseLineInSerializer(many=True)
    urgent = serializers.BooleanField(default=False)


class StockLevelSerializer(serializers.ModelSerializer):
    part_number = serializers.CharField(source="part.number", read_only=True)
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)
    available = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)

    class Meta:
        model = StockItem
        fields = [
            "id",
            "warehouse",
            "warehouse_code",
            "part",
            "part_number",
            "on_hand",
            "reserved",
            "available",
            "min_qty",
            "max_qty",
            "default_bin",
            "low_alerted_at",
        ]
        read_only_fields = fields


class StockLevelUpdateSerializer(serializers.Serializer):
    min_qty = serializers.CharField()
    max_qty = serializers.CharField()
    default_bin = serializers.IntegerField(required=False, allow_null=True)


# ---------------------------------------------------------------- purchase orders


class PurchaseOrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=PurchaseOrderStatus.choices)
    warehouse = django_filters.NumberFilter(field_name="warehouse_id")
    number = django_filters.CharFilter(field_name="number", lookup_expr="icontains")

    class Meta:
        model = PurchaseOrder
        fields = ["status", "warehouse", "number"]


def _warehouse(user, pk) -> Warehouse:
    found = Warehouse.objects.restrict(user, "view").filter(pk=pk).first()
    if found is None:
        raise ValidationFailed(
            _("Unknown warehouse."), fields={"warehouse": [_("Unknown warehouse.")]}
        )
    return found


def _lines(data):
    return [
        (line["part_obj"], line["quantity"], line.get("unit_cost"))
        for line in data.get("lines", [])
    ]


@extend_schema_view(
    list=extend_schema(summary="Purchase orders (filters: status, warehouse, number)"),
    retrieve=extend_schema(summary="One purchase order with its lines"),
)
class PurchaseOrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PartsViewSet):
    """Purchase orders to the OEM parts centre: draft → submitted → partly received →
    received, or cancelled before anything arrives."""

    queryset = PurchaseOrder.objects.select_related("warehouse").prefetch_related(
        Prefetch("lines", queryset=PurchaseOrderLine.objects.select_related("part"))
    )
    serializer_class = PurchaseOrderSerializer
    filterset_class = PurchaseOrderFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_verbs = {"create": "add", "receive": "receive"}

    def _out(self, order, code=status.HTTP_200_OK):
        order = (
            self.get_queryset()
            .model.objects.prefetch_related(
                Prefetch("lines", queryset=PurchaseOrderLine.objects.select_related("part"))
            )
            .select_related("warehouse")
            .get(pk=order.pk)
        )
        return Response(PurchaseOrderSerializer(order).data, status=code)

    @extend_schema(
        summary="Create a draft purchase order (idempotent by Idempotency-Key)",
        description="A retry with the same `Idempotency-Key` answers 200 with the order the "
        "first request created, and creates nothing.",
        request=PurchaseOrderCreateSerializer,
        responses={201: PurchaseOrderSerializer, 200: PurchaseOrderSerializer, 400: INVALID},
    )
    def create(self, request):
        payload = PurchaseOrderCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        warehouse, lines = _warehouse(request.user, data["warehouse"]), _lines(data)
        order, acted = once(
            user=request.user,
            scope="parts.purchase_order_create",
            key=request_key(request),
            action=lambda: purchasing.purchase_order_create(
                actor=request.user,
                warehouse=warehouse,
                lines=lines,
                urgent=data["urgent"],
                expected_on=data.get("expected_on"),
                note=data["note"],
                allow_over_receipt=data["allow_over_receipt"],
                substitute=data["substitute"],
            ),
            model=PurchaseOrder,
        )
        return self._out(order, status.HTTP_201_CREATED if acted else status.HTTP_200_OK)

    @extend_schema(
        summary="Change a draft's header",
        request=PurchaseOrderUpdateSerializer,
        responses={200: PurchaseOrderSerializer, 400: INVALID, 409: CONFLICT},
    )
    def partial_update(self, request, pk=None):
        order = self.get_object()
        payload = PurchaseOrderUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        order = purchasing.purchase_order_update(
            actor=request.user, order=order, **payload.validated_data
        )
        return self._out(order)

    @extend_schema(
        summary="Add or change a line of a draft (by part id, number or barcode)",
        request=PurchaseLineSetSerializer,
        responses={200: PurchaseOrderSerializer, 400: INVALID, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path="lines")
    def lines(self, request, pk=None):
        order = self.get_object()
        payload = PurchaseLineSetSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        purchasing.purchase_order_line_set(
            actor=request.user,
            order=order,
            part=data["part_obj"],
            quantity=data["quantity"],
            unit_cost=data.get("unit_cost"),
            substitute=data["substitute"],
            increment=data["increment"],
        )
        return self._out(order)

    @extend_schema(
        summary="Remove a line from a draft",
        request=PurchaseLineRemoveSerializer,
        responses={200: PurchaseOrderSerializer, 400: INVALID, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path="remove-line", url_name="remove-line")
    def remove_line(self, request, pk=None):
        order = self.get_object()
        payload = PurchaseLineRemoveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        line = get_object_or_404(PurchaseOrderLine, order=order, pk=payload.validated_data["line"])
        purchasing.purchase_order_line_remove(actor=request.user, order=order, line=line)
        return self._out(order)

    @extend_schema(
        summary="Submit a draft to the parts centre",
        request=None,
        responses={200: PurchaseOrderSerializer, 400: INVALID, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        order = purchasing.purchase_order_submit(actor=request.user, order=self.get_object())
        return self._out(order)

    @extend_schema(
        summary="Cancel an order (only before anything is received)",
        request=PurchaseReasonSerializer,
        responses={200: PurchaseOrderSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        payload = PurchaseReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        order = purchasing.purchase_order_cancel(
            actor=request.user, order=self.get_object(), reason=payload.validated_data["reason"]
        )
        return self._out(order)

    @extend_schema(
        summary="Close a partly received order: the open quantities will not come",
        request=PurchaseReasonSerializer,
        responses={200: PurchaseOrderSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path="close-short", url_name="close-short")
    def close_short(self, request, pk=None):
        payload = PurchaseReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        order = purchasing.purchase_order_close_short(
            actor=request.user, order=self.get_object(), reason=payload.validated_data["reason"]
        )
        return self._out(order)

    @extend_schema(
        summary="Receive goods against the order (idempotent by Idempotency-Key)",
        parameters=[IDEMPOTENCY],
        request=PurchaseReceiveSerializer,
        responses={201: GoodsReceiptSerializer, 400: INVALID, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        order = self.get_object()
        payload = PurchaseReceiveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        entries = payload.validated_data["lines"]
        bin_ids = {e["bin"] for e in entries if e.get("bin")}
        bins = {b.pk: b for b in Bin.objects.filter(pk__in=bin_ids, warehouse=order.warehouse)}
        if bin_ids - set(bins):
            raise ValidationFailed(
                _("A bin is not in warehouse %(warehouse)s.") % {"warehouse": order.warehouse.code},
                fields={"bin": [_("Not in this warehouse.")]},
            )
        receipt = purchasing.purchase_order_receive(
            actor=request.user,
            order=order,
            lines=[(e["line"], e["quantity"], bins.get(e.get("bin"))) for e in entries],
            idempotency_key=request_key(request) or None,
            note=payload.validated_data["note"],
        )
        receipt = _receipts().get(pk=receipt.pk)
        return Response(GoodsReceiptSerializer(receipt).data, status=status.HTTP_201_CREATED)


def _receipts():
    return GoodsReceipt.objects.select_related("order").prefetch_related(
        Prefetch(
            "lines", queryset=GoodsReceiptLine.objects.select_related("order_line__part", "bin")
        )
    )


class GoodsReceiptFilter(django_filters.FilterSet):
    order = django_filters.NumberFilter(field_name="order_id")
    number = django_filters.CharFilter(field_name="number", lookup_expr="icontains")

    class Meta:
        model = GoodsReceipt
        fields = ["order", "number"]


@extend_schema_view(
    list=extend_schema(summary="Goods receipts (filters: order, number)"),
    retrieve=extend_schema(summary="One goods receipt"),
)
class GoodsReceiptViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PartsViewSet):
    """Deliveries booked against purchase orders."""

    queryset = _receipts()
    serializer_class = GoodsReceiptSerializer
    filterset_class = GoodsReceiptFilter

    def required_permission(self) -> str:
        return "parts.view_purchaseorder"

    def get_queryset(self):
        queryset = viewsets.GenericViewSet.get_queryset(self)  # scoped by its orders below
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        return queryset.filter(
            order__in=PurchaseOrder.objects.restrict(self.request.user, "view").values("pk")
        )


# ---------------------------------------------------------------- suggestions and levels

WAREHOUSE_PARAM = OpenApiParameter(
    "warehouse", OpenApiTypes.INT, description="Only this warehouse (default: all you see)."
)


class SuggestionViewSet(PartsViewSet):
    """Purchase suggestions from min/max, open orders and unserved demand."""

    queryset = StockItem.objects.all()
    serializer_class = SuggestionSerializer

    def required_permission(self) -> str:
        return "parts.add_purchaseorder" if self.action == "order" else "parts.view_purchaseorder"

    @extend_schema(
        summary="Purchase suggestions",
        parameters=[WAREHOUSE_PARAM],
        responses={200: SuggestionSerializer(many=True)},
    )
    def list(self, request):
        warehouses = Warehouse.objects.restrict(request.user, "view").filter(active=True)
        if request.query_params.get("warehouse"):
            try:
                warehouses = warehouses.filter(pk=int(request.query_params["warehouse"]))
            except ValueError:
                raise ValidationFailed(fields={"warehouse": [_("Not a number.")]}) from None
        rows = []
        for warehouse in warehouses:  # a dealer has a handful of warehouses
            rows.extend(reorder.purchase_suggestions(request.user, warehouse))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(SuggestionSerializer(page, many=True).data)

    @extend_schema(
        summary="Create a draft purchase order from chosen suggestions",
        request=SuggestionOrderSerializer,
        responses={201: PurchaseOrderSerializer, 400: INVALID},
    )
    @action(detail=False, methods=["post"])
    def order(self, request):
        payload = SuggestionOrderSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        order = reorder.purchase_order_from_suggestions(
            actor=request.user,
            warehouse=_warehouse(request.user, data["warehouse"]),
            lines=[(line["part_obj"], line["quantity"]) for line in data["lines"]],
            urgent=data["urgent"],
        )
        order = PurchaseOrderViewSet.queryset.get(pk=order.pk)
        return Response(PurchaseOrderSerializer(order).data, status=status.HTTP_201_CREATED)


class StockLevelFilter(django_filters.FilterSet):
    warehouse = django_filters.NumberFilter(field_name="warehouse_id")
    low = django_filters.BooleanFilter(method="filter_low", label="Only items below minimum")

    class Meta:
        model = StockItem
        fields = ["warehouse"]

    def filter_low(self, queryset, name, value):
        from django.db.models import F

        if value:
            return queryset.filter(min_qty__gt=0, on_hand__lt=F("min_qty") + F("reserved"))
        return queryset


@extend_schema_view(
    list=extend_schema(summary="Reorder levels of stock items (filters: warehouse, low)"),
    retrieve=extend_schema(summary="One stock item's reorder levels"),
)
class StockLevelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PartsViewSet):
    """Min/max reorder points per stock item."""

    queryset = StockItem.objects.select_related("part", "warehouse").order_by(
        "warehouse__code", "part__number"
    )
    serializer_class = StockLevelSerializer
    filterset_class = StockLevelFilter
    http_method_names = ["get", "patch", "head", "options"]

    @extend_schema(
        summary="Set min, max and the default bin",
        request=StockLevelUpdateSerializer,
        responses={200: StockLevelSerializer, 400: INVALID},
    )
    def partial_update(self, request, pk=None):
        item = self.get_object()
        payload = StockLevelUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        default_bin = None
        if data.get("default_bin"):
            default_bin = Bin.objects.filter(
                pk=data["default_bin"], warehouse_id=item.warehouse_id
            ).first()
            if default_bin is None:
                raise ValidationFailed(fields={"default_bin": [_("Not in this warehouse.")]})
        item = reorder.stock_item_set_levels(
            actor=request.user,
            item=item,
            min_qty=data["min_qty"],
            max_qty=data["max_qty"],
            default_bin=default_bin,
        )
        item = self.get_queryset().get(pk=item.pk)
        return Response(StockLevelSerializer(item).data)


def register(router):
    router.register("parts/purchase-orders", PurchaseOrderViewSet, basename="purchaseorder")
    router.register("parts/receipts", GoodsReceiptViewSet, basename="goodsreceipt")
    router.register("parts/suggestions", SuggestionViewSet, basename="purchase-suggestion")
    router.register("parts/levels", StockLevelViewSet, basename="stocklevel")
