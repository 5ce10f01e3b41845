"""Quality API: the self-check, QC, ready, delivery check and closing of a repair order
(under ``workorders/quality/<order id>/...``) and the DCRC's follow-up calls (under
``workorders/follow-ups/``).

Orders and follow-ups are scoped with ``restrict`` for the step's permission (another
dealer's id answers 404). Writes carry the ``version`` the client last read (a stale one
answers 409 ``stale``) and accept an ``Idempotency-Key`` header: a retried request acts
once and answers with the current state."""

import django_filters
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aftersales.core.api import ERROR, IDEMPOTENCY
from aftersales.core.drf import FilterBackend, ScopedByActionMixin
from aftersales.core.idempotency import once, request_key
from aftersales.crm.selectors import shown_mobile
from aftersales.workorders import followup as followup_services
from aftersales.workorders.choices import CallOutcome, FollowUpStatus
from aftersales.workorders.delivery import (
    delivery_checks_for,
    delivery_record,
    repair_order_close,
    repair_order_ready,
)
from aftersales.workorders.models import (
    FollowUp,
    FollowUpCall,
    QualityCheck,
    RepairOrder,
)
from aftersales.workorders.quality import QC_ITEMS, SELF_CHECK_ITEMS, qc_record, self_check_record

# ---------------------------------------------------------------- serializers


class QualityCheckSerializer(serializers.ModelSerializer):
    checked_by_name = serializers.SerializerMethodField()

    class Meta:
        model = QualityCheck
        fields = [
            "id",
            "kind",
            "passed",
            "items",
            "remarks",
            "round",
            "checked_by",
            "checked_by_name",
            "checked_at",
        ]

    def get_checked_by_name(self, check) -> str:
        user = check.checked_by
        return str(user)


class QualityStateSerializer(serializers.ModelSerializer):
    """An order as the quality steps see it: status, version, reworks and every check."""

    checks = QualityCheckSerializer(many=True, read_only=True)
    delivery_items = serializers.SerializerMethodField()
    self_check_items = serializers.SerializerMethodField()
    qc_items = serializers.SerializerMethodField()
    follow_up = serializers.SerializerMethodField()

    class Meta:
        model = RepairOrder
        fields = [
            "id",
            "number",
            "status",
            "version",
            "rework_count",
            "work_done_at",
            "qc_passed_at",
            "ready_at",
            "delivered_at",
            "closed_at",
            "delivery_checks",
            "self_check_items",
            "qc_items",
            "delivery_items",
            "checks",
            "follow_up",
        ]

    def get_follow_up(self, order) -> int | None:
        found = FollowUp.objects.filter(repair_order=order).values_list("pk", flat=True)
        return next(iter(found), None)

    def get_self_check_items(self, order) -> dict[str, str]:
        return {key: str(label) for key, label in SELF_CHECK_ITEMS.items()}

    def get_qc_items(self, order) -> dict[str, str]:
        return {key: str(label) for key, label in QC_ITEMS.items()}

    def get_delivery_items(self, order) -> dict[str, str]:
        return {key: str(label) for key, label in delivery_checks_for(order).items()}


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)


class SelfCheckSerializer(VersionSerializer):
    items = serializers.DictField(child=serializers.BooleanField(allow_null=True))
    remarks = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class QcSerializer(VersionSerializer):
    items = serializers.DictField(child=serializers.BooleanField(allow_null=True))
    passed = serializers.BooleanField()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class DeliverSerializer(VersionSerializer):
    checks = serializers.DictField(child=serializers.BooleanField(allow_null=True))
    remarks = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class FollowUpCallSerializer(serializers.ModelSerializer):
    class Meta:
        model = FollowUpCall
        fields = ["id", "outcome", "remarks", "called_by", "called_at"]


class FollowUpSerializer(serializers.ModelSerializer):
    repair_order_number = serializers.CharField(source="repair_order.number", read_only=True)
    plate = serializers.CharField(source="repair_order.vehicle.plate", read_only=True)
    customer_name = serializers.SerializerMethodField()
    mobile = serializers.SerializerMethodField()

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "repair_order",
            "repair_order_number",
            "dealer",
            "plate",
            "customer_name",
            "mobile",
            "status",
            "opens_at",
            "due_at",
            "attempts",
            "assigned_to",
            "scores",
            "remarks",
            "completed_at",
            "completed_by",
            "alerted_at",
            "version",
        ]

    def get_customer_name(self, fu) -> str:
        customer = fu.repair_order.customer
        return customer.name if customer else fu.repair_order.contact_name

    def get_mobile(self, fu) -> str:
        """Masked unless the user may contact customers."""
        customer = fu.repair_order.customer
        mobile = fu.repair_order.contact_mobile or (customer.mobile if customer else "")
        return shown_mobile(self.context["request"].user, mobile) if mobile else ""


class FollowUpDetailSerializer(FollowUpSerializer):
    calls = FollowUpCallSerializer(many=True, read_only=True)

    class Meta(FollowUpSerializer.Meta):
        fields = FollowUpSerializer.Meta.fields + ["calls"]


class RecordCallSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)
    outcome = serializers.ChoiceField(choices=CallOutcome.choices)
    scores = serializers.DictField(child=serializers.IntegerField(), required=False, default=dict)
    remarks = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


# ---------------------------------------------------------------- orders


def _valid(serializer_class, request):
    payload = serializer_class(data=request.data)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


@extend_schema_view(
    retrieve=extend_schema(
        summary="An order's quality state: status, version, reworks, checklists and checks"
    )
)
class QualityViewSet(ScopedByActionMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = RepairOrder.objects.all()
    serializer_class = QualityStateSerializer
    action_verbs = {
        "self_check": "work",
        "qc": "inspect",
        "ready": "deliver",
        "deliver": "deliver",
        "close": "close",
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action != "retrieve":
            # a step: the scope check; the service reads the order again under its lock
            return queryset.only("id", "dealer_id")
        return queryset.prefetch_related("checks__checked_by")

    def _state(self, order):
        order = (
            self.get_queryset()
            .model.objects.prefetch_related("checks__checked_by")
            .get(pk=order.pk)
        )
        return Response(QualityStateSerializer(order, context=self.get_serializer_context()).data)

    def _once(self, scope, act):
        order, _acted = once(
            user=self.request.user,
            scope=scope,
            key=request_key(self.request),
            action=act,
            model=RepairOrder,
        )
        return self._state(order)

    @extend_schema(
        summary="Record the technician's self-check (every item true → self-checked)",
        request=SelfCheckSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: QualityStateSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"], url_path="self-check")
    def self_check(self, request, pk=None):
        order = self.get_object()
        data = _valid(SelfCheckSerializer, request)
        return self._once(
            "ro-self-check",
            lambda: self_check_record(
                actor=request.user,
                repair_order=order,
                version=data["version"],
                items=data["items"],
                remarks=data["remarks"],
            ),
        )

    @extend_schema(
        summary="Record the QC: pass (every item true) or fail (reason and failed items)",
        description="Refused with 409 `same_person` when the inspector clocked on the order.",
        request=QcSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: QualityStateSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def qc(self, request, pk=None):
        order = self.get_object()
        data = _valid(QcSerializer, request)
        return self._once(
            "ro-qc",
            lambda: qc_record(
                actor=request.user,
                repair_order=order,
                version=data["version"],
                items=data["items"],
                passed=data["passed"],
                reason=data["reason"],
            ),
        )

    @extend_schema(
        summary="Ready for delivery (the customer is told by SMS and in the app)",
        request=VersionSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: QualityStateSerializer, 403: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def ready(self, request, pk=None):
        order = self.get_object()
        data = _valid(VersionSerializer, request)
        return self._once(
            "ro-ready",
            lambda: repair_order_ready(
                actor=request.user, repair_order=order, version=data["version"]
            ),
        )

    @extend_schema(
        summary="Record the delivery check and hand the car over (→ delivered)",
        request=DeliverSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: QualityStateSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def deliver(self, request, pk=None):
        order = self.get_object()
        data = _valid(DeliverSerializer, request)
        return self._once(
            "ro-deliver",
            lambda: delivery_record(
                actor=request.user,
                repair_order=order,
                version=data["version"],
                checks=data["checks"],
                remarks=data["remarks"],
            ),
        )

    @extend_schema(
        summary="Close the order: settled at the cashier (→ closed)",
        request=VersionSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: QualityStateSerializer, 403: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        order = self.get_object()
        data = _valid(VersionSerializer, request)
        return self._once(
            "ro-close",
            lambda: repair_order_close(
                actor=request.user, repair_order=order, version=data["version"]
            ),
        )


# ---------------------------------------------------------------- follow-ups


class FollowUpFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=FollowUpStatus.choices)
    due = django_filters.ChoiceFilter(
        choices=[(k, str(v)) for k, v in followup_services.DUE_CHOICES.items()],
        method="by_due",
        label="now, overdue, upcoming or done",
    )
    dealer = django_filters.NumberFilter(field_name="dealer_id")
    repair_order = django_filters.NumberFilter(field_name="repair_order_id")

    class Meta:
        model = FollowUp
        fields = ["status", "dealer", "repair_order"]

    def by_due(self, queryset, name, value):
        return followup_services.by_due(queryset, value)


@extend_schema_view(
    list=extend_schema(
        summary="Follow-up calls (filters: status, due=now|overdue|upcoming|done, dealer, "
        "repair_order)"
    ),
    retrieve=extend_schema(summary="One follow-up with its calls"),
)
class FollowUpViewSet(
    ScopedByActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = FollowUp.objects.select_related(
        "repair_order", "repair_order__vehicle", "repair_order__customer"
    ).order_by("due_at", "id")
    serializer_class = FollowUpSerializer
    filter_backends = [FilterBackend]
    filterset_class = FollowUpFilter
    action_verbs = {"record_call": "change"}

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("calls")
        return queryset

    def get_serializer_class(self):
        return FollowUpDetailSerializer if self.action == "retrieve" else FollowUpSerializer

    @extend_schema(
        summary="Record one call: reached (scores 1-5 per question, nps 0-10), not reached "
        "or declined",
        request=RecordCallSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: FollowUpDetailSerializer, 400: ERROR, 403: ERROR, 409: ERROR},
    )
    @action(detail=True, methods=["post"], url_path="calls")
    def record_call(self, request, pk=None):
        fu = self.get_object()
        data = _valid(RecordCallSerializer, request)
        fu, _acted = once(
            user=request.user,
            scope="follow-up-call",
            key=request_key(request),
            action=lambda: followup_services.follow_up_record_call(
                actor=request.user,
                follow_up=fu,
                version=data["version"],
                outcome=data["outcome"],
                scores=data["scores"],
                remarks=data["remarks"],
            ),
            model=FollowUp,
        )
        fu = self.get_queryset().model.objects.prefetch_related("calls").get(pk=fu.pk)
        return Response(FollowUpDetailSerializer(fu, context=self.get_serializer_context()).data)


def register(router):
    router.register("workorders/quality", QualityViewSet, basename="ro-quality")
    router.register("workorders/follow-ups", FollowUpViewSet, basename="follow-up")
