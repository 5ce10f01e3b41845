"""The repair-order API: the list (the boards' and integrations' feed), one order with
its lines, the generic status step, cancelling and the timeline. Each area adds its own
actions (reception, estimate, workshop, quality) in its module next to this one.

Reads are scoped with ``restrict`` (another dealer's id answers 404). A step is refused
with 409 and ``{"code", "message", "fields"}``: ``illegal_transition`` (not in the table),
``guard_failed`` / ``missing_data`` / ``not_authorized`` (something the step needs is
missing) or ``stale`` (the order changed since the client read its ``version``)."""

import django_filters
from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aftersales.core.api import ERROR
from aftersales.core.drf import FilterBackend, ScopedByActionMixin
from aftersales.workorders import selectors
from aftersales.workorders.choices import ROStatus
from aftersales.workorders.models import RepairOrder, RepairOrderEvent, RepairOrderLine
from aftersales.workorders.orders import repair_order_cancel
from aftersales.workorders.transitions import repair_order_transition


class VehicleBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    vin = serializers.CharField()
    plate = serializers.CharField()
    variant = serializers.CharField()


class RepairOrderListSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    dealer_code = serializers.CharField(source="dealer.code", read_only=True)
    vehicle = VehicleBriefSerializer(read_only=True)
    customer_name = serializers.CharField(source="customer.name", default="", read_only=True)
    service_advisor_name = serializers.SerializerMethodField()
    late = serializers.SerializerMethodField()

    class Meta:
        model = RepairOrder
        fields = [
            "id",
            "number",
            "status",
            "status_label",
            "kind",
            "dealer",
            "dealer_code",
            "vehicle",
            "customer",
            "customer_name",
            "service_advisor",
            "service_advisor_name",
            "promised_at",
            "late",
            "estimate_total",
            "warranty_status",
            "rework_count",
            "comeback_of",
            "created_at",
            "version",
        ]

    def get_service_advisor_name(self, order) -> str:
        user = order.service_advisor
        return str(user)

    def get_late(self, order) -> bool:
        return selectors.is_late(order, self.context.get("now"))


class RepairOrderLineSerializer(serializers.ModelSerializer):
    operation_code = serializers.CharField(source="operation.code", default="", read_only=True)
    part_number = serializers.CharField(source="part.number", default="", read_only=True)

    class Meta:
        model = RepairOrderLine
        fields = [
            "id",
            "kind",
            "position",
            "operation",
            "operation_code",
            "part",
            "part_number",
            "description",
            "quantity",
            "standard_hours",
            "unit_price",
            "amount",
            "pay_type",
            "warranty_status",
            "warranty_reason",
            "fitment_warning",
            "additional",
            "approval",
            "approval_channel",
            "approved_by_name",
            "decided_at",
            "job_status",
            "bay",
            "actual_hours",
            "issued_qty",
            "returned_qty",
        ]


class RepairOrderDetailSerializer(RepairOrderListSerializer):
    lines = RepairOrderLineSerializer(many=True, read_only=True)

    class Meta(RepairOrderListSerializer.Meta):
        fields = RepairOrderListSerializer.Meta.fields + [
            "contact_name",
            "odometer_km",
            "odometer_suspect",
            "odometer_reason",
            "fuel_level",
            "concern",
            "diagnosis",
            "valuables",
            "covers_installed",
            "walkaround",
            "walkaround_note",
            "warranty_reason",
            "payment_method",
            "old_parts",
            "free_wash",
            "signature_kind",
            "signed_by_name",
            "signed_at",
            "delivery_checks",
            "cancel_reason",
            "checked_in_at",
            "approved_at",
            "started_at",
            "work_done_at",
            "qc_passed_at",
            "ready_at",
            "delivered_at",
            "closed_at",
            "cancelled_at",
            "lines",
        ]


class RepairOrderEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = RepairOrderEvent
        fields = ["id", "at", "kind", "actor", "actor_name", "from_status", "to_status", "message"]


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=ROStatus.choices)
    version = serializers.IntegerField(required=False, min_value=1)
    note = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)
    version = serializers.IntegerField(required=False, min_value=1)


class RepairOrderFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ROStatus.choices)
    dealer = django_filters.NumberFilter(field_name="dealer_id")
    vehicle = django_filters.NumberFilter(field_name="vehicle_id")
    customer = django_filters.NumberFilter(field_name="customer_id")
    service_advisor = django_filters.NumberFilter(field_name="service_advisor_id")
    opened_from = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    opened_to = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte")
    q = django_filters.CharFilter(method="search", label="RO number, plate or VIN (last 6/8)")
    late = django_filters.BooleanFilter(method="late_only")

    class Meta:
        model = RepairOrder
        fields = ["status", "dealer", "vehicle", "customer", "service_advisor"]

    def search(self, queryset, name, value):
        return selectors.search(queryset, value)

    def late_only(self, queryset, name, value):
        late = {"status__in": selectors.LATE_WHEN, "promised_at__lt": timezone.now()}
        return queryset.filter(**late) if value else queryset.exclude(**late)


@extend_schema_view(
    list=extend_schema(
        summary="Repair orders (filters: status (repeatable), dealer, vehicle, customer, "
        "service_advisor, opened_from/to, q, late)"
    ),
    retrieve=extend_schema(summary="One repair order with its lines"),
)
class RepairOrderViewSet(
    ScopedByActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Repair orders of the dealers the user may see."""

    queryset = RepairOrder.objects.all()
    serializer_class = RepairOrderListSerializer
    filter_backends = [FilterBackend]
    filterset_class = RepairOrderFilter
    # the step's own guard checks the role; reading the order is enough to ask
    action_verbs = {"transition": "view", "events": "view", "cancel": "cancel"}

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action not in ("list", "retrieve"):
            # a step or the timeline: the scope check; the service reads the row again
            return queryset.only("id", "dealer_id")
        queryset = queryset.select_related(
            "dealer", "vehicle__variant__vehicle_model", "customer", "service_advisor"
        )
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch(
                    "lines", queryset=RepairOrderLine.objects.select_related("operation", "part")
                )
            )
        return queryset

    def get_serializer_class(self):
        return (
            RepairOrderDetailSerializer
            if self.action == "retrieve"
            else super().get_serializer_class()
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def _detail(self, order):
        order = (
            self.get_queryset()
            .model.objects.select_related(
                "dealer", "vehicle__variant__vehicle_model", "customer", "service_advisor"
            )
            .prefetch_related(
                Prefetch(
                    "lines", queryset=RepairOrderLine.objects.select_related("operation", "part")
                )
            )
            .get(pk=order.pk)
        )
        return Response(
            RepairOrderDetailSerializer(order, context=self.get_serializer_context()).data
        )

    @extend_schema(
        summary="Move the order to another status (the generic step)",
        description="Steps with their own data (check-in, signing, QC, delivery…) have their "
        "own endpoints; this one takes any step the table and the guards allow.",
        request=TransitionSerializer,
        responses={200: RepairOrderDetailSerializer, 403: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        payload = TransitionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        order = repair_order_transition(
            repair_order=self.get_object(),
            to=data["to"],
            actor=request.user,
            version=data.get("version"),
            note=data["note"],
        )
        return self._detail(order)

    @extend_schema(
        summary="Cancel the order before work starts (gives reserved parts back)",
        request=CancelSerializer,
        responses={200: RepairOrderDetailSerializer, 403: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        payload = CancelSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        order = repair_order_cancel(
            actor=request.user,
            repair_order=self.get_object(),
            version=payload.validated_data.get("version"),
            reason=payload.validated_data["reason"],
        )
        return self._detail(order)

    @extend_schema(
        summary="The order's timeline: every step with who and when",
        responses={200: RepairOrderEventSerializer(many=True)},
    )
    @action(detail=True, methods=["get"])
    def events(self, request, pk=None):
        order = self.get_object()
        rows = order.events.order_by("at", "id")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(RepairOrderEventSerializer(page, many=True).data)


def register(router):
    router.register("workorders/repair-orders", RepairOrderViewSet, basename="repair-order")
