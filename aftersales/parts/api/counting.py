"""Parts API: stocktakes and transfers (see aftersales/config/api_urls.py).

Reads go through ``restrict`` (another dealer's id answers 404; a transfer is visible to
both of its dealers). Writes call ``parts.stocktake`` / ``parts.transfers``. Creating a
stocktake or a transfer accepts an ``Idempotency-Key`` header: a retry with the same key
answers the first result and creates nothing. Counts are idempotent by nature when they
set the quantity (``counted``); approve, ship and receive are guarded by the status and
by the ledger's posting keys, so a retry answers 409 and posts nothing twice.
"""

from django.db.models import Count, Q
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
from aftersales.core.drf import ScopedByActionMixin
from aftersales.core.errors import ValidationFailed
from aftersales.core.idempotency import once, request_key
from aftersales.parts import stocktake as services
from aftersales.parts import transfers
from aftersales.parts.choices import StocktakeStatus
from aftersales.parts.models import Bin, Part, Stocktake, StocktakeLine, Transfer, Warehouse

INVALID = OpenApiResponse(ERROR, description="Invalid input; `fields` says what is wrong.")
REFUSED = OpenApiResponse(ERROR, description="Not allowed in the current status (code says why).")


class CountingViewSet(ScopedByActionMixin, viewsets.GenericViewSet):
    """Stocktake and transfer viewsets: permission per action, rows scoped."""


def idempotent(request, scope: str, run, model):
    """Run ``run()`` once per ``Idempotency-Key`` (aftersales/core/idempotency.py); a
    retry, even a concurrent one, gets the first result. Returns (record, was_retry)."""
    record, acted = once(
        user=request.user,
        scope=f"parts.{scope}",
        key=request_key(request),
        action=run,
        model=model,
    )
    return record, not acted


# ---------------------------------------------------------------- serializers


class StocktakeLineSerializer(serializers.ModelSerializer):
    bin = serializers.CharField(source="bin.code")
    part = serializers.CharField(source="item.part.number")
    part_name = serializers.CharField(source="item.part.name")
    expected = serializers.SerializerMethodField()

    class Meta:
        model = StocktakeLine
        fields = [
            "id",
            "bin",
            "part",
            "part_name",
            "expected",
            "counted",
            "counted_at",
            "moved_since",
            "variance",
        ]

    def get_expected(self, line) -> str | None:
        if self.context.get("hide_expected"):
            return None
        return str(line.expected)


class StocktakeSerializer(serializers.ModelSerializer):
    warehouse_code = serializers.CharField(source="warehouse.code")
    lines_total = serializers.IntegerField(read_only=True)
    lines_counted = serializers.IntegerField(read_only=True)

    class Meta:
        model = Stocktake
        fields = [
            "id",
            "number",
            "status",
            "warehouse",
            "warehouse_code",
            "blind",
            "note",
            "created_at",
            "approved_at",
            "lines_total",
            "lines_counted",
        ]


class StocktakeDetailSerializer(StocktakeSerializer):
    lines = serializers.SerializerMethodField()

    class Meta(StocktakeSerializer.Meta):
        fields = [*StocktakeSerializer.Meta.fields, "lines"]

    def get_lines(self, stocktake) -> list:
        hide = stocktake.blind and stocktake.status == StocktakeStatus.COUNTING
        lines = list(stocktake.lines.select_related("bin", "item__part"))
        if stocktake.status != StocktakeStatus.APPROVED:
            services.reconcile(lines)  # what approval would post now
        if hide:
            for line in lines:
                line.moved_since, line.variance = None, None
        return StocktakeLineSerializer(lines, many=True, context={"hide_expected": hide}).data


class StocktakeStartSerializer(serializers.Serializer):
    warehouse = serializers.IntegerField()
    bins = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    blind = serializers.BooleanField(required=False, default=True)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class CountSerializer(serializers.Serializer):
    bin = serializers.CharField(help_text="Bin code or its label 'BIN:<id>'.")
    part = serializers.CharField(help_text="Part number or part barcode.")
    counted = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, help_text="Sets the count."
    )
    add = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, help_text="Adds to the count (a scan)."
    )


class SubmitSerializer(serializers.Serializer):
    uncounted_as_zero = serializers.BooleanField(required=False, default=False)


def find_part(code: str) -> Part | None:
    code = (code or "").strip()
    if not code:
        return None
    return Part.objects.filter(Q(number__iexact=code) | Q(barcode=code)).first()


# ---------------------------------------------------------------- stocktakes


def _stocktakes():
    return (
        Stocktake.objects.select_related("warehouse")
        .annotate(
            lines_total=Count("lines"),
            lines_counted=Count("lines", filter=Q(lines__counted__isnull=False)),
        )
        .order_by("-created_at", "-id")
    )


@extend_schema_view(
    list=extend_schema(summary="Stocktakes of the user's warehouses"),
    retrieve=extend_schema(
        summary="One stocktake with its count sheet (expected hidden on blind counts)",
        responses=StocktakeDetailSerializer,
    ),
)
class StocktakeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CountingViewSet):
    queryset = _stocktakes()
    serializer_class = StocktakeSerializer
    action_verbs = {
        "create": "add",
        "count": "count",
        "submit": "count",
        "reopen": "count",
        "approve": "approve",
        "cancel": "add",
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        status_filter = self.request.query_params.get("status")
        if self.action == "list" and status_filter:
            queryset = queryset.filter(status=status_filter)
        return queryset

    def get_serializer_class(self):
        return StocktakeDetailSerializer if self.action != "list" else StocktakeSerializer

    def _out(self, stocktake, code=status.HTTP_200_OK):
        fresh = _stocktakes().get(pk=stocktake.pk)
        return Response(StocktakeDetailSerializer(fresh).data, status=code)

    @extend_schema(
        summary="Start a count: snapshot the warehouse (or the chosen bins)",
        parameters=[IDEMPOTENCY],
        request=StocktakeStartSerializer,
        responses={201: StocktakeDetailSerializer, 400: INVALID, 409: REFUSED},
    )
    def create(self, request):
        payload = StocktakeStartSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        warehouse = (
            Warehouse.objects.restrict(request.user, "view").filter(pk=data["warehouse"]).first()
        )
        if warehouse is None:
            raise ValidationFailed(fields={"warehouse": [_("No such warehouse.")]})
        bins = list(Bin.objects.filter(warehouse=warehouse, pk__in=data["bins"]))
        if len(bins) != len(set(data["bins"])):
            raise ValidationFailed(fields={"bins": [_("Not in this warehouse.")]})
        stocktake, _again = idempotent(
            request,
            "stocktake",
            lambda: services.stocktake_start(
                actor=request.user,
                warehouse=warehouse,
                bins=bins,
                blind=data["blind"],
                note=data["note"],
            ),
            Stocktake,
        )
        return self._out(stocktake, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Enter a count: scanned bin label or code, part number or barcode",
        request=CountSerializer,
        responses={
            200: StocktakeLineSerializer,
            400: INVALID,
            409: REFUSED,
        },
    )
    @action(detail=True, methods=["post"])
    def count(self, request, pk=None):
        stocktake = self.get_object()
        payload = CountSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        bin_ = services.bin_for_code(stocktake.warehouse, data["bin"])
        if bin_ is None:
            raise ValidationFailed(
                _("No bin %(code)s in this warehouse.") % {"code": data["bin"]},
                fields={"bin": [_("Unknown bin.")]},
            )
        part = find_part(data["part"])
        if part is None:
            raise ValidationFailed(
                _("No part with number or barcode %(code)s.") % {"code": data["part"]},
                fields={"part": [_("Unknown part.")]},
            )
        line = services.stocktake_count(
            actor=request.user,
            stocktake=stocktake,
            bin=bin_,
            part=part,
            counted=data.get("counted"),
            add=data.get("add"),
        )
        line = StocktakeLine.objects.select_related("bin", "item__part").get(pk=line.pk)
        hide = stocktake.blind
        return Response(StocktakeLineSerializer(line, context={"hide_expected": hide}).data)

    @extend_schema(
        summary="Counting finished: send to review",
        request=SubmitSerializer,
        responses={200: StocktakeDetailSerializer, 409: REFUSED},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        payload = SubmitSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        stocktake = services.stocktake_submit(
            actor=request.user,
            stocktake=self.get_object(),
            uncounted_as_zero=payload.validated_data["uncounted_as_zero"],
        )
        return self._out(stocktake)

    @extend_schema(
        summary="Back from review to counting",
        request=None,
        responses={200: StocktakeDetailSerializer, 409: REFUSED},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._out(services.stocktake_reopen(actor=request.user, stocktake=self.get_object()))

    @extend_schema(
        summary="Approve: post the reconciled variances to the ledger",
        request=None,
        responses={200: StocktakeDetailSerializer, 409: REFUSED},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._out(
            services.stocktake_approve(actor=request.user, stocktake=self.get_object())
        )

    @extend_schema(
        summary="Abandon the count (nothing is posted)",
        request=None,
        responses={200: StocktakeDetailSerializer, 409: REFUSED},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._out(services.stocktake_cancel(actor=request.user, stocktake=self.get_object()))


# ---------------------------------------------------------------- transfers


class PartsTransferLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    part = serializers.CharField(source="part.number")
    part_name = serializers.CharField(source="part.name")
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2)
    unit_cost = serializers.DecimalField(max_digits=14, decimal_places=4)
    received = serializers.DecimalField(max_digits=12, decimal_places=2)


class PartsTransferSerializer(serializers.ModelSerializer):
    from_warehouse_code = serializers.CharField(source="from_warehouse.code")
    to_warehouse_code = serializers.CharField(source="to_warehouse.code")
    from_dealer_code = serializers.CharField(source="from_dealer.code")
    to_dealer_code = serializers.CharField(source="to_dealer.code")
    line_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Transfer
        fields = [
            "id",
            "number",
            "status",
            "from_warehouse",
            "from_warehouse_code",
            "from_dealer_code",
            "to_warehouse",
            "to_warehouse_code",
            "to_dealer_code",
            "note",
            "requested_at",
            "decided_at",
            "shipped_at",
            "received_at",
            "line_count",
        ]


class PartsTransferDetailSerializer(PartsTransferSerializer):
    lines = PartsTransferLineSerializer(many=True)

    class Meta(PartsTransferSerializer.Meta):
        fields = [*PartsTransferSerializer.Meta.fields, "lines"]


class TransferLineInSerializer(serializers.Serializer):
    part = serializers.CharField(help_text="Part number or barcode.")
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2)


class TransferRequestSerializer(serializers.Serializer):
    from_warehouse = serializers.IntegerField()
    to_warehouse = serializers.IntegerField()
    lines = TransferLineInSerializer(many=True)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)


class ReceiveSerializer(serializers.Serializer):
    bins = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        default=dict,
        help_text="Line id → bin code or label; lines left out go to the default bin.",
    )


def _transfers():
    return (
        Transfer.objects.select_related(
            "from_warehouse", "to_warehouse", "from_dealer", "to_dealer"
        )
        .annotate(line_count=Count("lines"))
        .order_by("-requested_at", "-id")
    )


@extend_schema_view(
    list=extend_schema(
        summary="Transfers in and out of the user's warehouses",
        parameters=[
            OpenApiParameter("direction", OpenApiTypes.STR, enum=["incoming", "outgoing"]),
            OpenApiParameter("status", OpenApiTypes.STR),
        ],
    ),
    retrieve=extend_schema(
        summary="One transfer with its lines", responses=PartsTransferDetailSerializer
    ),
)
class TransferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CountingViewSet):
    queryset = _transfers()
    serializer_class = PartsTransferSerializer
    action_verbs = {
        "create": "add",
        "approve": "approve",
        "reject": "approve",
        "ship": "change",
        "receive": "change",
        "cancel": "change",  # the service decides which side may withdraw it
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action != "list":
            return queryset.prefetch_related("lines__part")
        params = self.request.query_params
        if params.get("status"):
            queryset = queryset.filter(status=params["status"])
        direction = params.get("direction")
        if direction in ("incoming", "outgoing"):
            from aftersales.core.access import user_scope

            scope = user_scope(self.request.user, "parts.view_transfer")
            if not scope.everything:
                field = "to_dealer_id__in" if direction == "incoming" else "from_dealer_id__in"
                queryset = queryset.filter(**{field: scope.dealer_ids})
        return queryset

    def get_serializer_class(self):
        return PartsTransferSerializer if self.action == "list" else PartsTransferDetailSerializer

    def _out(self, transfer, code=status.HTTP_200_OK):
        fresh = _transfers().prefetch_related("lines__part").get(pk=transfer.pk)
        return Response(PartsTransferDetailSerializer(fresh).data, status=code)

    @extend_schema(
        summary="Request a transfer (approved at once within one dealer)",
        parameters=[IDEMPOTENCY],
        request=TransferRequestSerializer,
        responses={201: PartsTransferDetailSerializer, 400: INVALID, 403: OpenApiResponse(ERROR)},
    )
    def create(self, request):
        payload = TransferRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        # the source may be another dealer's warehouse of the region (the service checks
        # the region; the sending dealer approves)
        source = (
            Warehouse.objects.filter(pk=data["from_warehouse"], active=True)
            .select_related("dealer")
            .first()
        )
        target = (
            Warehouse.objects.restrict(request.user, "view").filter(pk=data["to_warehouse"]).first()
        )
        errors = {}
        if source is None:
            errors["from_warehouse"] = [_("No such warehouse.")]
        if target is None:
            errors["to_warehouse"] = [_("No such warehouse.")]
        lines = []
        for number, row in enumerate(data["lines"], start=1):
            part = find_part(row["part"])
            if part is None:
                errors[f"lines.{number}.part"] = [
                    _("No part with number or barcode %(code)s.") % {"code": row["part"]}
                ]
            lines.append((part, row["quantity"]))
        if errors:
            raise ValidationFailed(fields=errors)
        transfer, _again = idempotent(
            request,
            "transfer",
            lambda: transfers.transfer_request(
                actor=request.user,
                from_warehouse=source,
                to_warehouse=target,
                lines=lines,
                note=data["note"],
            ),
            Transfer,
        )
        return self._out(transfer, status.HTTP_201_CREATED)

    @extend_schema(
        summary="The sending dealer approves",
        request=None,
        responses={200: PartsTransferDetailSerializer, 409: REFUSED},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._out(transfers.transfer_approve(actor=request.user, transfer=self.get_object()))

    @extend_schema(
        summary="The sending dealer refuses",
        request=RejectSerializer,
        responses={200: PartsTransferDetailSerializer, 409: REFUSED},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        payload = RejectSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._out(
            transfers.transfer_reject(
                actor=request.user,
                transfer=self.get_object(),
                reason=payload.validated_data["reason"],
            )
        )

    @extend_schema(
        summary="Ship: the units leave the source and are in transit",
        request=None,
        responses={200: PartsTransferDetailSerializer, 409: REFUSED},
    )
    @action(detail=True, methods=["post"])
    def ship(self, request, pk=None):
        return self._out(transfers.transfer_ship(actor=request.user, transfer=self.get_object()))

    @extend_schema(
        summary="Receive: book the units into the destination at the shipped cost",
        request=ReceiveSerializer,
        responses={200: PartsTransferDetailSerializer, 400: INVALID, 409: REFUSED},
    )
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        transfer = self.get_object()
        payload = ReceiveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        bins = {}
        for line_id, code in payload.validated_data["bins"].items():
            bin_ = services.bin_for_code(transfer.to_warehouse, code)
            if bin_ is None:
                raise ValidationFailed(
                    _("No bin %(code)s in this warehouse.") % {"code": code},
                    fields={"bins": [_("Unknown bin.")]},
                )
            if str(line_id).isdigit():
                bins[int(line_id)] = bin_
        return self._out(
            transfers.transfer_receive(actor=request.user, transfer=transfer, bins=bins)
        )

    @extend_schema(
        summary="Withdraw before shipping",
        request=None,
        responses={200: PartsTransferDetailSerializer, 409: REFUSED},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._out(transfers.transfer_cancel(actor=request.user, transfer=self.get_object()))


def register(router):
    router.register("parts/stocktakes", StocktakeViewSet, basename="stocktake")
    router.register("parts/transfers", TransferViewSet, basename="transfer")
