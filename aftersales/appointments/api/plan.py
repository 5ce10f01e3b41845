"""Day-plan API (/api/appointments/day-plans/): the plans the user may see, building a
dealer's plan for a day, optimising it again, pinning and moving its jobs."""

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

from aftersales.appointments import dayplan
from aftersales.appointments.models import DayPlan, PlannedJob
from aftersales.core.access import allowed_at
from aftersales.core.api import ERROR
from aftersales.core.drf import ScopedByActionMixin
from aftersales.core.errors import NotFound

REFUSED = OpenApiResponse(ERROR, description="A move that breaks a rule (code says which).")


class PlannedJobSerializer(serializers.ModelSerializer):
    key = serializers.CharField(read_only=True)
    label = serializers.SerializerMethodField()
    technician_name = serializers.SerializerMethodField()
    bay_code = serializers.CharField(source="bay.code", read_only=True)

    class Meta:
        model = PlannedJob
        fields = [
            "id",
            "key",
            "label",
            "line",
            "booking",
            "technician",
            "technician_name",
            "bay",
            "bay_code",
            "starts_at",
            "ends_at",
            "due_at",
            "late_minutes",
            "pinned",
        ]
        read_only_fields = fields

    def get_label(self, job) -> str:
        if job.line_id:
            return f"{job.line.repair_order.number} {job.line.description}"
        return f"{job.booking.number} {job.booking.get_service_type_display()}"

    def get_technician_name(self, job) -> str:
        return str(job.technician)


class DayPlanSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="optimal, feasible, greedy or empty")
    dealer_code = serializers.CharField(source="dealer.code", read_only=True)

    class Meta:
        model = DayPlan
        fields = [
            "id",
            "dealer",
            "dealer_code",
            "day",
            "status",
            "revision",
            "objective",
            "bound",
            "solve_seconds",
            "late_minutes",
            "idle_minutes",
            "unplaced",
            "planned_at",
        ]
        read_only_fields = fields


class DayPlanDetailSerializer(DayPlanSerializer):
    jobs = PlannedJobSerializer(many=True, read_only=True)

    class Meta(DayPlanSerializer.Meta):
        fields = [*DayPlanSerializer.Meta.fields, "jobs"]
        read_only_fields = fields


class PlanBuildSerializer(serializers.Serializer):
    dealer = serializers.IntegerField(required=False, help_text="Default: the user's dealer.")
    day = serializers.DateField()


class PinSerializer(serializers.Serializer):
    job = serializers.IntegerField()
    pinned = serializers.BooleanField(default=True)


class MoveSerializer(serializers.Serializer):
    job = serializers.IntegerField()
    technician = serializers.IntegerField()
    bay = serializers.IntegerField()
    starts_at = serializers.DateTimeField()


def _valid(serializer_class, data):
    payload = serializer_class(data=data)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


@extend_schema_view(
    list=extend_schema(
        summary="Day plans the user may see",
        parameters=[
            OpenApiParameter("dealer", OpenApiTypes.INT),
            OpenApiParameter("day", OpenApiTypes.DATE),
        ],
    ),
    retrieve=extend_schema(summary="One day plan with its jobs"),
)
class DayPlanViewSet(
    ScopedByActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = DayPlan.objects.select_related("dealer").order_by("-day", "dealer_id")
    serializer_class = DayPlanSerializer
    action_verbs = {"create": "change", "optimise": "change", "pin": "change", "move": "change"}

    def get_queryset(self):
        rows = super().get_queryset()
        params = self.request.query_params
        if self.action == "list":
            if params.get("dealer", "").isdigit():
                rows = rows.filter(dealer_id=int(params["dealer"]))
            if params.get("day"):
                rows = rows.filter(day=params["day"])
        elif self.action == "retrieve":
            rows = rows.prefetch_related(
                "jobs__technician", "jobs__bay", "jobs__line__repair_order", "jobs__booking"
            )
        return rows

    def get_serializer_class(self):
        return DayPlanSerializer if self.action == "list" else DayPlanDetailSerializer

    def _out(self, plan, code=status.HTTP_200_OK):
        fresh = (
            self.get_queryset()
            .model.objects.prefetch_related(
                "jobs__technician", "jobs__bay", "jobs__line__repair_order", "jobs__booking"
            )
            .get(pk=plan.pk)
        )
        return Response(DayPlanDetailSerializer(fresh).data, status=code)

    @extend_schema(
        summary="Plan a dealer's day (the optimiser; pinned jobs stay)",
        request=PlanBuildSerializer,
        responses={201: DayPlanDetailSerializer, 400: ERROR, 404: ERROR},
    )
    def create(self, request):
        from aftersales.org.models import Dealer

        data = _valid(PlanBuildSerializer, request.data)
        dealer_id = data.get("dealer") or request.user.dealer_id
        dealer = Dealer.objects.filter(pk=dealer_id).first() if dealer_id else None
        if dealer is None or not allowed_at(
            request.user, "appointments.change_dayplan", dealer=dealer
        ):
            raise NotFound(fields={"dealer": [_("Not found.")]})
        plan = dayplan.day_plan_build(actor=request.user, dealer=dealer, day=data["day"])
        return self._out(plan, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Optimise the plan again (pinned and started jobs stay)",
        request=None,
        responses={200: DayPlanDetailSerializer, 400: ERROR},
    )
    @action(detail=True, methods=["post"])
    def optimise(self, request, pk=None):
        plan = self.get_object()
        plan = dayplan.day_plan_build(actor=request.user, dealer=plan.dealer, day=plan.day)
        return self._out(plan)

    def _job(self, plan, job_id):
        job = PlannedJob.objects.filter(plan=plan, pk=job_id).first()
        if job is None:
            raise NotFound(fields={"job": [_("Not found.")]})
        return job

    @extend_schema(
        summary="Pin or unpin a job",
        request=PinSerializer,
        responses={200: DayPlanDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def pin(self, request, pk=None):
        plan = self.get_object()
        data = _valid(PinSerializer, request.data)
        dayplan.planned_job_pin(
            actor=request.user, job=self._job(plan, data["job"]), pinned=data["pinned"]
        )
        return self._out(plan)

    @extend_schema(
        summary="Move a job to a technician, bay and time (it is pinned there)",
        request=MoveSerializer,
        responses={200: DayPlanDetailSerializer, 409: REFUSED},
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        plan = self.get_object()
        data = _valid(MoveSerializer, request.data)
        dayplan.planned_job_move(
            actor=request.user,
            job=self._job(plan, data["job"]),
            technician=data["technician"],
            bay=data["bay"],
            starts_at=data["starts_at"],
        )
        return self._out(plan)


def register(router):
    router.register("appointments/day-plans", DayPlanViewSet, basename="day-plan")
