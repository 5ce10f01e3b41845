"""Parts API: warehouses and bins, stock, the ledger, reservations, manual movements and
the reports (see aftersales/config/api_urls.py).

Reads are scoped with ``restrict`` (another dealer's id answers 404). Writes call
``aftersales.parts.warehouses``; a write that books stock needs an ``Idempotency-Key``
header (or an ``idempotency_key`` field): repeating the request with the same key books
nothing more and answers with the first result."""

import datetime

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aftersales.core.access import user_has_perm
from aftersales.core.api import ERROR, IDEMPOTENCY
from aftersales.core.drf import ActionPermission, ScopedByActionMixin
from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.idempotency import request_key
from aftersales.parts import reports, selectors, warehouses
from aftersales.parts.choices import MoveKind, ReservationStatus
from aftersales.parts.models import Bin, Part, Reservation, StockItem, StockMove, Warehouse


class StockViewSet(ScopedByActionMixin, viewsets.GenericViewSet):
    def paginated(self, rows, serializer_class):
        page = self.paginate_queryset(rows)
        data = serializer_class(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- serializers


class BinSerializer(serializers.ModelSerializer):
    barcode = serializers.CharField(read_only=True)

    class Meta:
        model = Bin
        fields = ["id", "warehouse", "code", "barcode", "active"]


class WarehouseSerializer(serializers.ModelSerializer):
    dealer_code = serializers.CharField(source="dealer.code", read_only=True)

    class Meta:
        model = Warehouse
        fields = ["id", "dealer", "dealer_code", "code", "name", "active"]


class WarehouseCreateSerializer(serializers.Serializer):
    dealer = serializers.IntegerField()
    code = serializers.CharField(max_length=20)
    name = serializers.CharField(max_length=60)


class BinCreateSerializer(serializers.Serializer):
    code = serializers.CharField(
        max_length=2000, help_text="One code, or a range such as A-01-01..A-01-10."
    )


class StockItemSerializer(serializers.ModelSerializer):
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)
    part_number = serializers.CharField(source="part.number", read_only=True)
    part_name = serializers.CharField(source="part.name", read_only=True)
    part_name_en = serializers.CharField(source="part.name_en", read_only=True)
    barcode = serializers.CharField(source="part.barcode", read_only=True)
    category = serializers.CharField(source="part.category.code", read_only=True)
    available = serializers.DecimalField(
        source="available_qty", max_digits=12, decimal_places=2, read_only=True
    )
    value = serializers.DecimalField(
        source="stock_value", max_digits=20, decimal_places=2, read_only=True
    )
    default_bin_code = serializers.CharField(
        source="default_bin.code", read_only=True, default=None
    )

    class Meta:
        model = StockItem
        fields = [
            "id",
            "dealer",
            "warehouse",
            "warehouse_code",
            "part",
            "part_number",
            "part_name",
            "part_name_en",
            "barcode",
            "category",
            "on_hand",
            "reserved",
            "available",
            "in_transit",
            "min_qty",
            "max_qty",
            "avg_cost",
            "value",
            "default_bin",
            "default_bin_code",
            "last_moved_at",
        ]


class StockMoveSerializer(serializers.ModelSerializer):
    part_number = serializers.CharField(source="part.number", read_only=True)
    bin_code = serializers.CharField(source="bin.code", read_only=True, default=None)
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = StockMove
        fields = [
            "id",
            "at",
            "warehouse",
            "item",
            "part",
            "part_number",
            "bin",
            "bin_code",
            "kind",
            "quantity",
            "unit_cost",
            "on_hand_after",
            "avg_cost_after",
            "doc_type",
            "doc_id",
            "doc_number",
            "reason",
            "actor",
            "actor_name",
        ]

    def get_actor_name(self, move) -> str:
        return str(move.actor) if move.actor_id else ""


class ReservationSerializer(serializers.ModelSerializer):
    part_number = serializers.CharField(source="item.part.number", read_only=True)
    warehouse = serializers.IntegerField(source="item.warehouse_id", read_only=True)

    class Meta:
        model = Reservation
        fields = [
            "id",
            "item",
            "warehouse",
            "part_number",
            "quantity",
            "issued",
            "status",
            "doc_type",
            "doc_id",
            "doc_number",
            "expires_at",
            "created_at",
            "closed_at",
        ]


class ReservationCreateSerializer(serializers.Serializer):
    warehouse = serializers.IntegerField()
    part = serializers.CharField(help_text="Part id, number or barcode.")
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2)
    doc_type = serializers.CharField(max_length=20)
    doc_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    doc_id = serializers.IntegerField(required=False, allow_null=True)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    idempotency_key = serializers.CharField(required=False, max_length=64)


class MovementSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["issue", "return", "adjust", "relocate"])
    warehouse = serializers.IntegerField()
    part = serializers.CharField(help_text="Part id, number or barcode.")
    quantity = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="Positive; signed for adjust."
    )
    bin = serializers.IntegerField(required=False, allow_null=True)
    to_bin = serializers.IntegerField(required=False, allow_null=True, help_text="relocate")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200)
    idempotency_key = serializers.CharField(required=False, max_length=64)


MOVEMENT_PERMISSIONS = {
    "issue": "parts.issue_stockitem",
    "return": "parts.issue_stockitem",
    "adjust": "parts.adjust_stockitem",
    "relocate": "parts.change_stockitem",
}


def find_part(value) -> Part:
    value = str(value or "").strip()
    part = None
    if value.isdigit():
        part = Part.objects.filter(pk=int(value)).first()
    if part is None and value:
        part = (
            Part.objects.filter(number=value.upper()).first()
            or Part.objects.filter(barcode=value).first()
        )
    if part is None:
        raise ValidationFailed(
            _("No part with number or barcode %(code)s.") % {"code": value},
            fields={"part": [_("Unknown part.")]},
        )
    return part


# ---------------------------------------------------------------- warehouses


@extend_schema_view(
    list=extend_schema(summary="Warehouses the user may see"),
    retrieve=extend_schema(summary="One warehouse"),
)
class WarehouseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, StockViewSet):
    queryset = Warehouse.objects.select_related("dealer").order_by("dealer__code", "code")
    serializer_class = WarehouseSerializer

    @extend_schema(
        summary="Create a warehouse at a dealer (parts.change_warehouse there)",
        request=WarehouseCreateSerializer,
        responses={201: WarehouseSerializer, 400: ERROR, 403: ERROR},
    )
    def create(self, request):
        from aftersales.org.models import Dealer

        body = WarehouseCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        dealer = get_object_or_404(Dealer, pk=body.validated_data["dealer"])
        warehouse = warehouses.warehouse_create(
            actor=request.user,
            dealer=dealer,
            code=body.validated_data["code"],
            name=body.validated_data["name"],
        )
        return Response(WarehouseSerializer(warehouse).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The warehouse's bins (GET) or add bins, one or a range (POST)",
        request=BinCreateSerializer,
        responses={200: BinSerializer(many=True), 201: BinSerializer(many=True), 400: ERROR},
    )
    @action(detail=True, methods=["get", "post"])
    def bins(self, request, pk=None):
        warehouse = self.get_object()
        if request.method == "POST":
            body = BinCreateSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            created = warehouses.bin_create(
                actor=request.user, warehouse=warehouse, code=body.validated_data["code"]
            )
            return Response(BinSerializer(created, many=True).data, status=201)
        rows = Bin.objects.filter(warehouse=warehouse).order_by("code")
        return self.paginated(rows, BinSerializer)


# ---------------------------------------------------------------- stock


@extend_schema_view(
    list=extend_schema(
        summary="Stock items (part × warehouse) the user may see",
        parameters=[
            OpenApiParameter("warehouse", OpenApiTypes.INT),
            OpenApiParameter("dealer", OpenApiTypes.INT),
            OpenApiParameter("category", OpenApiTypes.INT),
            OpenApiParameter("low", OpenApiTypes.BOOL, description="Below the minimum only."),
            OpenApiParameter("q", OpenApiTypes.STR, description="Number, name, barcode, bin."),
        ],
    ),
    retrieve=extend_schema(summary="One stock item"),
)
class StockItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, StockViewSet):
    queryset = StockItem.objects.all()
    serializer_class = StockItemSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return StockItem.objects.none()
        params = self.request.query_params
        if self.detail:
            return selectors.stock_items(self.request.user)
        return selectors.stock_items(
            self.request.user,
            warehouse=_int(params.get("warehouse")),
            dealer=_int(params.get("dealer")),
            category=_int(params.get("category")),
            low=params.get("low") in ("1", "true", "yes"),
            q=params.get("q"),
        )

    @extend_schema(
        summary="The item's ledger, newest first",
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, enum=list(MoveKind.values)),
        ],
        responses=StockMoveSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def ledger(self, request, pk=None):
        if not user_has_perm(request.user, "parts.view_stockmove"):
            raise PermissionDenied()
        item = self.get_object()
        rows = selectors.ledger(request.user, item=item, kind=request.query_params.get("kind"))
        return self.paginated(rows, StockMoveSerializer)


@extend_schema_view(
    list=extend_schema(
        summary="Stock ledger lines the user may see, newest first",
        parameters=[
            OpenApiParameter("warehouse", OpenApiTypes.INT),
            OpenApiParameter("part", OpenApiTypes.INT),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=list(MoveKind.values)),
            OpenApiParameter("doc_type", OpenApiTypes.STR),
            OpenApiParameter("doc_number", OpenApiTypes.STR),
        ],
    ),
    retrieve=extend_schema(summary="One ledger line"),
)
class StockMoveViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, StockViewSet):
    queryset = StockMove.objects.all()
    serializer_class = StockMoveSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return StockMove.objects.none()
        p = self.request.query_params
        return selectors.ledger(
            self.request.user,
            warehouse=_int(p.get("warehouse")),
            part=_int(p.get("part")),
            kind=p.get("kind"),
            doc_type=p.get("doc_type"),
            doc_number=p.get("doc_number"),
        )


# ---------------------------------------------------------------- reservations


@extend_schema_view(
    list=extend_schema(
        summary="Reservations the user may see",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=list(ReservationStatus.values)),
            OpenApiParameter("doc_type", OpenApiTypes.STR),
            OpenApiParameter("doc_number", OpenApiTypes.STR),
        ],
    ),
    retrieve=extend_schema(summary="One reservation"),
)
class ReservationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, StockViewSet):
    queryset = Reservation.objects.all()
    serializer_class = ReservationSerializer
    action_verbs = {"create": "add", "release": "change"}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Reservation.objects.none()
        p = self.request.query_params
        qs = selectors.reservations(
            self.request.user,
            status=p.get("status") if not self.detail else None,
            doc_type=p.get("doc_type") if not self.detail else None,
            doc_number=p.get("doc_number") if not self.detail else None,
        )
        return qs

    @extend_schema(
        summary="Reserve stock for a document line (Idempotency-Key: reserves once)",
        parameters=[IDEMPOTENCY],
        request=ReservationCreateSerializer,
        responses={
            201: ReservationSerializer,
            400: ERROR,
            404: ERROR,
            409: OpenApiResponse(
                ERROR, description="Not enough available (the message says how many are available)."
            ),
        },
    )
    def create(self, request):
        body = ReservationCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        warehouse = get_object_or_404(
            Warehouse.objects.restrict(request.user, "view"), pk=data["warehouse"]
        )
        reservation = warehouses.reservation_create(
            actor=request.user,
            warehouse=warehouse,
            part=find_part(data["part"]),
            quantity=data["quantity"],
            doc_type=data["doc_type"],
            doc_number=data.get("doc_number", ""),
            doc_id=data.get("doc_id"),
            expires_at=data.get("expires_at"),
            idempotency_key=request_key(request),
        )
        reservation = selectors.reservations(request.user).get(pk=reservation.pk)
        return Response(ReservationSerializer(reservation).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Release what is still open of a reservation (idempotent)",
        request=None,
        responses={200: ReservationSerializer, 404: ERROR},
    )
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        reservation = get_object_or_404(
            Reservation.objects.restrict(request.user, "change").select_related(
                "item__warehouse__dealer"
            ),
            pk=pk,
        )
        warehouses.reservation_release(actor=request.user, reservation=reservation)
        reservation = selectors.reservations(request.user).get(pk=reservation.pk)
        return Response(ReservationSerializer(reservation).data)


# ---------------------------------------------------------------- movements


class MovementViewSet(viewsets.GenericViewSet):
    """Manual stock movements: counter issue, return, adjustment (with a reason), bin move."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = MovementSerializer
    queryset = StockMove.objects.none()

    @extend_schema(
        summary="Book a manual movement (issue / return / adjust / relocate)",
        parameters=[IDEMPOTENCY],
        request=MovementSerializer,
        responses={
            201: StockMoveSerializer(many=True),
            400: ERROR,
            403: ERROR,
            404: ERROR,
            409: OpenApiResponse(
                ERROR,
                description="Not enough stock (code "
                "insufficient_stock; the message states the available "
                "quantity).",
            ),
        },
    )
    def create(self, request):
        kind = request.data.get("kind")
        needed = MOVEMENT_PERMISSIONS.get(kind)
        if needed and not user_has_perm(request.user, needed):
            raise PermissionDenied()
        body = MovementSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        user = request.user
        warehouse = get_object_or_404(
            Warehouse.objects.restrict(user, "view").select_related("dealer"),
            pk=data["warehouse"],
        )
        part = find_part(data["part"])
        bins = Bin.objects.filter(warehouse=warehouse)
        bin_ = get_object_or_404(bins, pk=data["bin"]) if data.get("bin") else None
        key = request_key(request)
        common = {"actor": user, "warehouse": warehouse, "part": part, "idempotency_key": key}
        if kind == "issue":
            moves = warehouses.stock_issue(
                **common, quantity=data["quantity"], bin=bin_, reason=data.get("reason", "")
            )
        elif kind == "return":
            moves = warehouses.stock_return(
                **common, quantity=data["quantity"], bin=bin_, reason=data.get("reason", "")
            )
        elif kind == "adjust":
            moves = warehouses.stock_adjust(
                **common, quantity=data["quantity"], bin=bin_, reason=data.get("reason", "")
            )
        else:
            item = get_object_or_404(StockItem, warehouse=warehouse, part=part)
            to_bin = get_object_or_404(bins, pk=data["to_bin"]) if data.get("to_bin") else None
            moves = warehouses.stock_relocate(
                actor=user,
                item=item,
                from_bin=bin_,
                to_bin=to_bin,
                quantity=data["quantity"],
                idempotency_key=key,
            )
        rows = StockMove.objects.filter(pk__in=[m.pk for m in moves]).select_related(
            "part", "bin", "actor"
        )
        return Response(StockMoveSerializer(rows, many=True).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------- reports


class ReportViewSet(viewsets.ViewSet):
    """The parts reports (parts.view_stockmove), scoped to the user's dealers."""

    permission_classes = [ActionPermission]
    lookup_value_regex = "[a-z-]+"

    def required_permission(self):
        if self.request.query_params.get("export") == "xlsx":
            return "parts.export_stockmove"
        return "parts.view_stockmove"

    @extend_schema(
        summary="One report: stock-value, turnover, dead-stock or fill-rate",
        parameters=[
            OpenApiParameter("dealer", OpenApiTypes.INT),
            OpenApiParameter("warehouse", OpenApiTypes.INT),
            OpenApiParameter("since", OpenApiTypes.DATE),
            OpenApiParameter("until", OpenApiTypes.DATE, description="Exclusive."),
            OpenApiParameter("days", OpenApiTypes.INT, description="Dead stock: N days."),
            OpenApiParameter(
                "export",
                OpenApiTypes.STR,
                enum=["xlsx"],
                description="xlsx: an Excel file (parts.export_stockmove).",
            ),
        ],
        responses={200: OpenApiTypes.OBJECT, 404: ERROR},
    )
    def retrieve(self, request, pk=None):
        if pk not in reports.REPORTS:
            from django.http import Http404

            raise Http404
        report = run_report(pk, request.user, request.query_params)
        if request.query_params.get("export") == "xlsx":
            return excel_response(report)
        return Response(
            {
                "name": report.name,
                "title": report.title,
                "note": report.note,
                "columns": [{"key": k, "label": str(label)} for k, label in report.columns],
                "rows": report.rows,
                "totals": report.totals,
            }
        )


def _date(value, default):
    parsed = parse_date(value or "") if value else None
    if parsed is None:
        return default
    return timezone.make_aware(datetime.datetime.combine(parsed, datetime.time.min))


def run_report(name, user, params):
    now = timezone.now()
    until = _date(params.get("until"), now)
    since = _date(params.get("since"), until - datetime.timedelta(days=90))
    days = _int(params.get("days")) or reports.DEAD_DAYS
    dealer = _int(params.get("dealer"))
    warehouse = _int(params.get("warehouse"))
    from aftersales.org.models import Dealer

    return reports.run(
        name,
        user,
        dealer=Dealer(pk=dealer) if dealer else None,
        warehouse=Warehouse(pk=warehouse) if warehouse else None,
        since=since,
        until=until,
        days=max(1, min(days, 3650)),
    )


def excel_response(report) -> HttpResponse:
    response = HttpResponse(
        reports.to_excel(report),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    stamp = timezone.localdate().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="parts-{report.name}-{stamp}.xlsx"'
    return response


def register(router):
    router.register("parts/warehouses", WarehouseViewSet, basename="warehouse")
    router.register("parts/stock", StockItemViewSet, basename="stockitem")
    router.register("parts/moves", StockMoveViewSet, basename="stockmove")
    router.register("parts/reservations", ReservationViewSet, basename="reservation")
    router.register("parts/movements", MovementViewSet, basename="stockmovement")
    router.register("parts/reports", ReportViewSet, basename="partsreport")
