"""API of the workshop area (routes under 'workorders/...').

* ``workorders/jobs/`` — the technician's own jobs (GET), and per job (a labour line):
  ``assign`` (foreman), ``clock-on``, ``clock-off``.
* ``workorders/part-lines/<id>/issue|return/`` — the parts clerk issues a part line to the
  car and takes unused units back (``Idempotency-Key``: a retry books once).
* ``workorders/workshop/`` — the boards (``sa-board``, ``foreman-board``) and, per order,
  ``pause``, ``wait-for-parts``, ``resume`` and ``hours`` (actual against standard).

Rows are scoped through ``RepairOrder.objects.restrict(user, 'view')``: another dealer's id
answers 404. Refusals answer 409 with ``{"code", "message", "fields"}``.
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from aftersales.core.access import user_has_perm
from aftersales.core.drf import ActionPermission
from aftersales.core.errors import ValidationFailed
from aftersales.core.idempotency import request_key
from aftersales.workorders import boards, workshop
from aftersales.workorders.choices import ClockReason, LineKind
from aftersales.workorders.models import ClockEntry, RepairOrder, RepairOrderLine

VIEW = "workorders.view_repairorder"


# ---------------------------------------------------------------- serializers


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return str(user)


class JobSerializer(serializers.ModelSerializer):
    repair_order_number = serializers.CharField(source="repair_order.number", read_only=True)
    repair_order_status = serializers.CharField(source="repair_order.status", read_only=True)
    repair_order_version = serializers.IntegerField(source="repair_order.version", read_only=True)
    plate = serializers.CharField(source="repair_order.vehicle.plate", read_only=True)
    bay_code = serializers.CharField(source="bay.code", read_only=True, default=None)
    technicians = serializers.SerializerMethodField()
    running = serializers.SerializerMethodField()

    class Meta:
        model = RepairOrderLine
        fields = [
            "id",
            "repair_order",
            "repair_order_number",
            "repair_order_status",
            "repair_order_version",
            "plate",
            "description",
            "standard_hours",
            "actual_hours",
            "job_status",
            "bay",
            "bay_code",
            "technicians",
            "running",
        ]

    def get_technicians(self, line) -> list[int]:
        people = getattr(line, "technicians", None)
        if people is None:
            return [a.technician_id for a in line.assignments.all()]
        return [p.pk for p in people]

    def get_running(self, line) -> bool:
        return bool(getattr(line, "running", False))


class PartLineSerializer(serializers.ModelSerializer):
    part_number = serializers.CharField(source="part.number", read_only=True)

    class Meta:
        model = RepairOrderLine
        fields = [
            "id",
            "repair_order",
            "part",
            "part_number",
            "description",
            "quantity",
            "reservation",
            "issued_qty",
            "returned_qty",
        ]


class ClockSerializer(serializers.ModelSerializer):
    hours = serializers.DecimalField(max_digits=6, decimal_places=2, read_only=True)
    repair_order_number = serializers.CharField(source="repair_order.number", read_only=True)
    repair_order_version = serializers.IntegerField(source="repair_order.version", read_only=True)

    class Meta:
        model = ClockEntry
        fields = [
            "id",
            "repair_order",
            "repair_order_number",
            "repair_order_version",
            "line",
            "technician",
            "started_at",
            "ended_at",
            "reason",
            "hours",
        ]


class BoardOrderSerializer(serializers.ModelSerializer):
    plate = serializers.CharField(source="vehicle.plate", read_only=True)
    vin = serializers.CharField(source="vehicle.vin", read_only=True)
    late = serializers.BooleanField(read_only=True)
    advisor = serializers.CharField(source="service_advisor.username", read_only=True)

    class Meta:
        model = RepairOrder
        fields = [
            "id",
            "number",
            "status",
            "plate",
            "vin",
            "promised_at",
            "late",
            "advisor",
            "version",
        ]


class AssignSerializer(serializers.Serializer):
    technicians = serializers.ListField(child=serializers.IntegerField(), min_length=1)
    bay = serializers.IntegerField(required=False, allow_null=True)
    version = serializers.IntegerField()


class DispatchJobSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    technicians = serializers.ListField(child=serializers.IntegerField(), min_length=1)
    bay = serializers.IntegerField(required=False, allow_null=True)


class DispatchSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    jobs = DispatchJobSerializer(many=True)


class ClockOffSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ClockReason.choices)
    technician = serializers.IntegerField(
        required=False, allow_null=True, help_text="A foreman clocking off someone who forgot."
    )


class QuantitySerializer(serializers.Serializer):
    quantity = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True
    )
    idempotency_key = serializers.CharField(required=False, allow_blank=True)


class StepSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200)


HOURS = inline_serializer(
    "JobHours",
    fields={
        "standard": serializers.DecimalField(max_digits=8, decimal_places=2),
        "actual": serializers.DecimalField(max_digits=8, decimal_places=2),
        "jobs": serializers.ListField(child=serializers.DictField()),
        "technicians": serializers.ListField(child=serializers.DictField()),
    },
)


def _orders(request):
    return RepairOrder.objects.restrict(request.user, "view")


class AnyActionPermission(ActionPermission):
    """The user must hold, somewhere, one of the permissions the view names for the
    action (``view.required_permissions()``)."""

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        return any(user_has_perm(user, p) for p in view.required_permissions())


class _PermissionByAction:
    permission_classes = [AnyActionPermission]
    permissions_by_action: dict[str, str | tuple[str, ...]] = {}

    def required_permissions(self) -> tuple[str, ...]:
        found = self.permissions_by_action.get(self.action, VIEW)
        return found if isinstance(found, tuple) else (found,)

    def required_permission(self) -> str:
        return self.required_permissions()[0]


# ---------------------------------------------------------------- jobs


class JobViewSet(_PermissionByAction, viewsets.GenericViewSet):
    """Workshop jobs (approved labour lines)."""

    serializer_class = JobSerializer
    permissions_by_action = {
        "list": workshop.WORK,
        "assign": workshop.DISPATCH,
        "clock_on": workshop.WORK,
        "clock_off": (workshop.WORK, workshop.DISPATCH),
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RepairOrderLine.objects.none()
        lines = RepairOrderLine.objects.filter(
            repair_order__in=_orders(self.request), kind=LineKind.LABOUR
        )
        if self.action in ("clock_on", "clock_off"):
            # the scope check; the service reads the line again under the order's lock
            return lines.only("id", "repair_order_id")
        return lines.select_related("repair_order", "repair_order__vehicle", "bay")

    @extend_schema(summary="My jobs (assigned, not done) and my running clock")
    def list(self, request):
        mine = boards.technician_jobs(request.user)
        return Response(
            {
                "results": JobSerializer(mine.jobs, many=True).data,
                "clock": ClockSerializer(mine.clock).data if mine.clock else None,
            }
        )

    def _answer(self, line):
        line = self.get_queryset().prefetch_related("assignments").get(pk=line.pk)
        return Response(JobSerializer(line).data)

    @extend_schema(request=AssignSerializer, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        line = self.get_object()
        data = AssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        workshop.job_assign(
            actor=request.user,
            line=line,
            technicians=data.validated_data["technicians"],
            bay=data.validated_data.get("bay"),
            version=data.validated_data["version"],
        )
        return self._answer(line)

    @extend_schema(request=None, responses=ClockSerializer)
    @action(detail=True, methods=["post"], url_path="clock-on")
    def clock_on(self, request, pk=None):
        entry = workshop.clock_on(actor=request.user, line=self.get_object())
        return Response(ClockSerializer(entry).data, status=201)

    @extend_schema(request=ClockOffSerializer, responses=ClockSerializer)
    @action(detail=True, methods=["post"], url_path="clock-off")
    def clock_off(self, request, pk=None):
        line = self.get_object()
        data = ClockOffSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        technician = None
        if data.validated_data.get("technician"):
            from aftersales.org.models import User

            technician = User.objects.filter(pk=data.validated_data["technician"]).first()
            if technician is None:
                raise ValidationFailed(
                    _("Unknown technician."), fields={"technician": [_("Unknown technician.")]}
                )
        entry = workshop.clock_off(
            actor=request.user,
            line=line,
            reason=data.validated_data["reason"],
            technician=technician,
        )
        return Response(ClockSerializer(entry).data)


# ---------------------------------------------------------------- parts lines


class PartLineViewSet(_PermissionByAction, viewsets.GenericViewSet):
    """Part lines of repair orders: issue to the car, return unused units."""

    serializer_class = PartLineSerializer
    permissions_by_action = {"issue": workshop.ISSUE, "return_": workshop.ISSUE}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RepairOrderLine.objects.none()
        return RepairOrderLine.objects.filter(
            repair_order__in=_orders(self.request), kind=LineKind.PART
        ).select_related("part")

    @extend_schema(request=QuantitySerializer, responses=PartLineSerializer)
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        line = self.get_object()
        data = QuantitySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        line = workshop.parts_issue(
            actor=request.user,
            line=line,
            quantity=data.validated_data.get("quantity"),
            idempotency_key=request_key(request),
        )
        return Response(PartLineSerializer(line).data)

    @extend_schema(request=QuantitySerializer, responses=PartLineSerializer)
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        line = self.get_object()
        data = QuantitySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        line = workshop.parts_return(
            actor=request.user,
            line=line,
            quantity=data.validated_data.get("quantity"),
            idempotency_key=request_key(request),
        )
        return Response(PartLineSerializer(line).data)


# ---------------------------------------------------------------- orders and boards


class WorkshopViewSet(_PermissionByAction, viewsets.GenericViewSet):
    """The boards, and the workshop steps of one order."""

    serializer_class = BoardOrderSerializer
    permissions_by_action = {
        "sa_board": VIEW,
        "foreman_board": workshop.DISPATCH,
        "pause": (workshop.WORK, workshop.DISPATCH),
        "wait_for_parts": (workshop.WORK, workshop.DISPATCH),
        "resume": (workshop.WORK, workshop.DISPATCH),
        "hours": VIEW,
        "dispatch_jobs": workshop.DISPATCH,
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RepairOrder.objects.none()
        return _orders(self.request)

    @extend_schema(summary="The service advisor's board: open orders, late first")
    @action(detail=False, methods=["get"], url_path="sa-board")
    def sa_board(self, request):
        rows = boards.sa_board(
            request.user,
            status=request.query_params.get("status", ""),
            q=request.query_params.get("q", ""),
            mine=request.query_params.get("mine") in ("1", "true"),
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(BoardOrderSerializer(page, many=True).data)

    @extend_schema(summary="The foreman's board: jobs per technician and bay, the queue")
    @action(detail=False, methods=["get"], url_path="foreman-board")
    def foreman_board(self, request):
        board = boards.foreman_board(request.user, dealer_id=request.query_params.get("dealer"))
        return Response(
            {
                "dealer": board.dealer_id,
                "columns": [
                    {
                        "technician": UserRefSerializer(c.technician).data,
                        "jobs": [j.pk for j in c.jobs],
                        "clock": ClockSerializer(c.clock).data if c.clock else None,
                    }
                    for c in board.columns
                ],
                "queue": [j.pk for j in board.queue],
                "bays": [
                    {"id": bay.pk, "code": bay.code, "jobs": [j.pk for j in jobs]}
                    for bay, jobs in board.bays
                ],
                "jobs": JobSerializer(board.jobs, many=True).data,
            }
        )

    def _step_order(self):
        """The order of a step, scope-checked: the service reads it again under its lock."""
        return get_object_or_404(self.get_queryset().only("id", "dealer_id"), pk=self.kwargs["pk"])

    def _step(self, request, service):
        order = self._step_order()
        data = StepSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = service(
            actor=request.user,
            repair_order=order,
            version=data.validated_data["version"],
            reason=data.validated_data.get("reason", ""),
        )
        order = self.get_queryset().select_related("vehicle", "service_advisor").get(pk=order.pk)
        order.late = False
        return Response(BoardOrderSerializer(order).data)

    @extend_schema(
        summary="Dispatch several jobs of the order at once (all or none)",
        request=DispatchSerializer,
        responses=BoardOrderSerializer,
    )
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch")
    def dispatch_jobs(self, request, pk=None):
        order = self._step_order()
        data = DispatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = workshop.repair_order_dispatch(
            actor=request.user,
            repair_order=order,
            version=data.validated_data["version"],
            jobs=data.validated_data["jobs"],
        )
        order = self.get_queryset().select_related("vehicle", "service_advisor").get(pk=order.pk)
        order.late = False
        return Response(BoardOrderSerializer(order).data)

    @extend_schema(request=StepSerializer, responses=BoardOrderSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._step(request, workshop.repair_order_pause)

    @extend_schema(request=StepSerializer, responses=BoardOrderSerializer)
    @action(detail=True, methods=["post"], url_path="wait-for-parts")
    def wait_for_parts(self, request, pk=None):
        return self._step(request, workshop.repair_order_wait_for_parts)

    @extend_schema(request=StepSerializer, responses=BoardOrderSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._step(request, workshop.repair_order_resume)

    @extend_schema(responses=HOURS)
    @action(detail=True, methods=["get"])
    def hours(self, request, pk=None):
        summary = workshop.job_hours(self.get_object())

        def person(user):
            return UserRefSerializer(user).data

        return Response(
            {
                "standard": summary.standard,
                "actual": summary.actual,
                "jobs": [
                    {
                        "line": j.line.pk,
                        "description": j.line.description,
                        "standard": j.standard,
                        "actual": j.actual,
                        "running": j.running,
                        "technicians": [
                            {"technician": person(u), "hours": h} for u, h in j.technicians
                        ],
                    }
                    for j in summary.jobs
                ],
                "technicians": [
                    {"technician": person(u), "hours": h} for u, h in summary.technicians
                ],
            }
        )


def register(router):
    router.register("workorders/jobs", JobViewSet, basename="ro-job")
    router.register("workorders/part-lines", PartLineViewSet, basename="ro-part-line")
    router.register("workorders/workshop", WorkshopViewSet, basename="ro-workshop")
