"""The DCRC worklist API (/api/reminders/...): the reminders the user may see, scoped with
``restrict`` (a dealer's DCRC sees its dealer's, a region its dealers', the OEM all;
another dealer's id answers 404), filtered by month, kind, status, agent, due date and
registration; recording a call (``call``), assigning tasks to an agent (``assign``) and
the vehicle reminder sheet (车辆提醒单). A call accepts an ``Idempotency-Key``: a retry
answers the first result and records the call once."""

import datetime

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aftersales.core.api import ERROR, IDEMPOTENCY, validated
from aftersales.core.drf import ScopedByActionMixin
from aftersales.core.errors import NotFound, ValidationFailed
from aftersales.core.idempotency import once, request_key
from aftersales.reminders import services
from aftersales.reminders.choices import ReminderKind, ReminderStatus
from aftersales.reminders.models import Reminder

INVALID = OpenApiResponse(ERROR, description="Invalid input; `fields` says what is wrong.")
REFUSED = OpenApiResponse(ERROR, description="The call is finished or out of attempts.")
WRITE = {400: INVALID, 403: ERROR, 404: ERROR, 409: REFUSED}


class ReminderSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    task_kind = serializers.CharField(read_only=True)
    vin = serializers.CharField(source="vehicle.vin", read_only=True)
    plate = serializers.CharField(source="vehicle.plate", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    dealer_code = serializers.CharField(source="dealer.code", read_only=True)
    assigned_to_name = serializers.SerializerMethodField()

    class Meta:
        model = Reminder
        fields = [
            "id",
            "kind",
            "kind_label",
            "month",
            "due_date",
            "trigger",
            "due_km",
            "on_site",
            "vehicle",
            "vin",
            "plate",
            "customer",
            "customer_name",
            "dealer",
            "dealer_code",
            "registered",
            "task_kind",
            "campaign",
            "recall",
            "status",
            "status_label",
            "status_at",
            "attempts",
            "last_call_at",
            "next_call_at",
            "assigned_to",
            "assigned_to_name",
            "note",
            "booking",
            "return_by",
            "returned_order",
            "returned_at",
        ]

    def get_assigned_to_name(self, reminder) -> str:
        user = reminder.assigned_to
        return (str(user)) if user else ""


class ReminderCallSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=[s for s in ReminderStatus.choices if s[0] != ReminderStatus.OPEN]
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")
    retry_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="Not reached: call again at."
    )
    booking = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Booked: the id of the booking made for this vehicle.",
    )


class ReminderAssignSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)
    agent = serializers.IntegerField(allow_null=True, help_text="A user id; null unassigns.")


class ReminderAssignedSerializer(serializers.Serializer):
    assigned = serializers.IntegerField()


class ReminderSheetSerializer(serializers.Serializer):
    vehicle = serializers.IntegerField()
    vin = serializers.CharField()
    plate = serializers.CharField()
    reminders = ReminderSerializer(many=True)


def _valid(serializer_class, request):
    return validated(serializer_class, request.data)


def _date(params, name):
    raw = params.get(name)
    if not raw:
        return None
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(fields={name: [_("Enter a date as YYYY-MM-DD.")]}) from None


def _month(params):
    raw = params.get("month")
    if not raw:
        return None
    try:
        return datetime.date.fromisoformat(f"{raw[:7]}-01")
    except ValueError:
        raise ValidationFailed(fields={"month": [_("Enter a month as YYYY-MM.")]}) from None


LIST_FILTERS = [
    OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM"),
    OpenApiParameter("kind", OpenApiTypes.STR, description=", ".join(ReminderKind.values)),
    OpenApiParameter(
        "status", OpenApiTypes.STR, description="Comma-separated: " + ", ".join(ReminderStatus)
    ),
    OpenApiParameter("assigned_to", OpenApiTypes.STR, description="A user id, `me` or `none`."),
    OpenApiParameter("due_from", OpenApiTypes.DATE),
    OpenApiParameter("due_to", OpenApiTypes.DATE),
    OpenApiParameter("registered", OpenApiTypes.BOOL),
    OpenApiParameter("dealer", OpenApiTypes.INT),
]
RELATED = ("vehicle", "customer", "dealer", "assigned_to")


class ReminderViewSet(
    ScopedByActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The DCRC worklist: reminders the user may see, their calls and assignment."""

    queryset = Reminder.objects.select_related(*RELATED).order_by("due_date", "id")
    serializer_class = ReminderSerializer
    action_verbs = {"call": "work", "assign": "assign", "vehicle_sheet": "view"}

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action != "list":
            return queryset
        params = self.request.query_params
        month = _month(params)
        if month:
            queryset = queryset.filter(month=month)
        if params.get("kind"):
            queryset = queryset.filter(kind__in=params["kind"].split(","))
        if params.get("status"):
            queryset = queryset.filter(status__in=params["status"].split(","))
        agent = params.get("assigned_to", "")
        if agent == "me":
            queryset = queryset.filter(assigned_to=self.request.user)
        elif agent == "none":
            queryset = queryset.filter(assigned_to__isnull=True)
        elif agent.isdigit():
            queryset = queryset.filter(assigned_to_id=int(agent))
        elif agent:
            raise ValidationFailed(fields={"assigned_to": [_("Enter a user id, me or none.")]})
        due_from, due_to = _date(params, "due_from"), _date(params, "due_to")
        if due_from:
            queryset = queryset.filter(due_date__gte=due_from)
        if due_to:
            queryset = queryset.filter(due_date__lte=due_to)
        if params.get("registered") in ("1", "true"):
            queryset = queryset.filter(registered=True)
        elif params.get("registered") in ("0", "false"):
            queryset = queryset.filter(registered=False)
        if params.get("dealer", "").isdigit():
            queryset = queryset.filter(dealer_id=int(params["dealer"]))
        return queryset

    @extend_schema(summary="The reminder worklist", parameters=LIST_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="One reminder")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Record a call and its outcome",
        request=ReminderCallSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: ReminderSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def call(self, request, pk=None):
        reminder = self.get_object()
        data = _valid(ReminderCallSerializer, request)

        def act():
            return services.reminder_call(
                actor=request.user,
                reminder=reminder,
                outcome=data["outcome"],
                note=data["note"],
                retry_at=data["retry_at"],
                booking_id=data["booking"],
            )

        result, _acted = once(
            user=request.user,
            scope=f"reminder-call:{reminder.pk}",
            key=request_key(request),
            action=act,
            model=Reminder,
        )
        fresh = Reminder.objects.select_related(*RELATED).get(pk=result.pk)
        return Response(ReminderSerializer(fresh).data)

    @extend_schema(
        summary="Assign reminders to a DCRC agent of their dealer",
        request=ReminderAssignSerializer,
        responses={200: ReminderAssignedSerializer, **WRITE},
    )
    @action(detail=False, methods=["post"])
    def assign(self, request):
        from aftersales.org.models import User

        data = _valid(ReminderAssignSerializer, request)
        ids = set(data["ids"])
        rows = list(self.get_queryset().filter(pk__in=ids))
        if len(rows) != len(ids):
            raise NotFound()
        agent = None
        if data["agent"] is not None:
            agent = User.objects.filter(pk=data["agent"], is_active=True).first()
            if agent is None:
                raise ValidationFailed(fields={"agent": [_("No such user.")]})
        services.reminders_assign(actor=request.user, reminders=rows, agent=agent)
        return Response({"assigned": len(rows)})

    @extend_schema(
        summary="The vehicle reminder sheet (车辆提醒单)",
        responses={200: ReminderSheetSerializer, 404: ERROR},
    )
    @action(detail=False, url_path=r"vehicle-sheet/(?P<vehicle_id>\d+)", pagination_class=None)
    def vehicle_sheet(self, request, vehicle_id=None):
        rows = list(
            self.get_queryset().filter(vehicle_id=int(vehicle_id)).order_by("-month", "kind")
        )
        if not rows:
            raise NotFound()
        vehicle = rows[0].vehicle
        return Response(
            {
                "vehicle": vehicle.pk,
                "vin": vehicle.vin,
                "plate": vehicle.plate,
                "reminders": ReminderSerializer(rows, many=True).data,
            }
        )


def register(router):
    router.register("reminders", ReminderViewSet, basename="reminder")
