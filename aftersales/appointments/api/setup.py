"""Capacity set-up API (/api/appointments/...): a dealer's booking rules (``settings``),
closed days, technicians (skills and shift), advisors (reception hours) and absences.

Reads need ``appointments.view_schedulesettings`` and show the dealers where the user holds
it; writes need ``appointments.change_schedulesettings`` at the record's dealer (another
dealer's id answers 404) and go through the services in ``appointments.setup``, which
validate (a coded error names the field) and audit. Technicians and advisors are never
deleted (their plans and bookings refer to them): set ``active`` to false."""

from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from aftersales.appointments import setup
from aftersales.appointments.models import (
    Absence,
    Advisor,
    ClosedDay,
    ScheduleSettings,
    Technician,
)
from aftersales.core.access import allowed_at, user_scope
from aftersales.core.api import ERROR
from aftersales.core.drf import ActionPermission
from aftersales.core.errors import NotFound, ValidationFailed
from aftersales.workorders.choices import BayKind, OperationCategory

VIEW, CHANGE = "appointments.view_schedulesettings", setup.PERMISSION
INVALID = OpenApiResponse(ERROR, description="Invalid input; `code` and `fields` say what.")
DEALER = OpenApiParameter("dealer", OpenApiTypes.INT, description="Only this dealer's rows.")
WEEKDAYS = serializers.ListField(
    child=serializers.IntegerField(), help_text="0 = Monday … 6 = Sunday"
)


class SetupViewSet(viewsets.GenericViewSet):
    """Reads need the view permission, writes the change permission; rows are those of
    the dealers where the user holds it (by region or everywhere for the OEM roles)."""

    permission_classes = [ActionPermission]

    def required_permission(self) -> str:
        return VIEW if self.request.method in ("GET", "HEAD", "OPTIONS") else CHANGE

    def get_queryset(self):
        rows = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return rows.none()
        scope = user_scope(self.request.user, self.required_permission())
        if scope.everything:
            pass
        elif scope.empty:
            rows = rows.none()
        else:
            rows = rows.filter(rows.scope_condition(scope))
        dealer = self.request.query_params.get("dealer", "")
        if self.action == "list" and dealer.isdigit():
            rows = rows.filter(dealer_id=int(dealer))
        return rows

    def _dealer(self, dealer_id):
        """The dealer named in a create request (default: the user's own), where the user
        may change the capacity; any other answers 404."""
        from aftersales.org.models import Dealer

        dealer_id = dealer_id or self.request.user.dealer_id
        found = Dealer.objects.filter(pk=dealer_id).first() if dealer_id else None
        if found is None or not allowed_at(self.request.user, CHANGE, dealer=found):
            raise NotFound(fields={"dealer": [_("Not found.")]})
        return found

    def _staff(self, user_id):
        from aftersales.org.models import User

        found = User.objects.filter(pk=user_id).first()
        if found is None:
            raise ValidationFailed(
                _("This person does not hold that role at this dealer."),
                code="not_staff",
                fields={"user": [_("This person does not hold that role at this dealer.")]},
            )
        return found


def _valid(serializer_class, data, partial=False):
    payload = serializer_class(data=data, partial=partial)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


# ---------------------------------------------------------------- booking rules


class SettingsSerializer(serializers.ModelSerializer):
    dealer_code = serializers.CharField(source="dealer.code", read_only=True)
    open_weekdays = WEEKDAYS

    class Meta:
        model = ScheduleSettings
        fields = [
            "id",
            "dealer",
            "dealer_code",
            "open_weekdays",
            "closed_on_public_holidays",
            "slot_minutes",
            "reception_minutes",
            "no_show_grace_minutes",
            "horizon_days",
            "reminder_hour",
        ]
        read_only_fields = ["id", "dealer", "dealer_code"]


class SettingsWrite(serializers.Serializer):
    dealer = serializers.IntegerField(required=False, help_text="Default: the user's dealer.")
    open_weekdays = WEEKDAYS
    closed_on_public_holidays = serializers.BooleanField()
    slot_minutes = serializers.IntegerField(help_text="5-60")
    reception_minutes = serializers.IntegerField(help_text="5-120")
    no_show_grace_minutes = serializers.IntegerField(help_text="5-240")
    horizon_days = serializers.IntegerField(help_text="1-365")
    reminder_hour = serializers.IntegerField(help_text="6-21")


@extend_schema_view(
    list=extend_schema(
        summary="Booking rules of the dealers the user may see", parameters=[DEALER]
    ),
    retrieve=extend_schema(summary="One dealer's booking rules"),
)
class SettingsViewSet(SetupViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = ScheduleSettings.objects.select_related("dealer").order_by("dealer__code")
    serializer_class = SettingsSerializer

    @extend_schema(
        summary="Save a dealer's booking rules (made the first time; only the fields sent change)",
        request=SettingsWrite,
        responses={200: SettingsSerializer, 201: SettingsSerializer, 400: INVALID, 404: ERROR},
    )
    def create(self, request):
        data = dict(_valid(SettingsWrite, request.data, partial=True))
        dealer = self._dealer(data.pop("dealer", None))
        existed = ScheduleSettings.objects.filter(dealer=dealer).exists()
        saved = setup.schedule_settings_save(actor=request.user, dealer=dealer, **data)
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(SettingsSerializer(saved).data, status=code)

    @extend_schema(
        summary="Change a dealer's booking rules (only the fields sent change)",
        request=SettingsWrite,
        responses={200: SettingsSerializer, 400: INVALID},
    )
    def partial_update(self, request, pk=None):
        row = self.get_object()
        data = dict(_valid(SettingsWrite, request.data, partial=True))
        data.pop("dealer", None)
        saved = setup.schedule_settings_save(actor=request.user, dealer=row.dealer, **data)
        return Response(SettingsSerializer(saved).data)


# ---------------------------------------------------------------- closed days


class ClosedDaySerializer(serializers.ModelSerializer):
    class Meta:
        model = ClosedDay
        fields = ["id", "dealer", "day", "reason"]
        read_only_fields = ["id"]
        extra_kwargs = {
            "dealer": {"required": False, "help_text": "Default: the user's dealer."},
            "day": {"validators": []},
        }
        validators = []  # one closed day per dealer and day: the service says so, coded


@extend_schema_view(
    list=extend_schema(
        summary="Closed days",
        parameters=[
            DEALER,
            OpenApiParameter("from", OpenApiTypes.DATE, description="From this day on."),
        ],
    ),
    retrieve=extend_schema(summary="One closed day"),
    destroy=extend_schema(summary="Open the day again", responses={204: None}),
)
class ClosedDayViewSet(
    SetupViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin
):
    queryset = ClosedDay.objects.select_related("dealer").order_by("day", "id")
    serializer_class = ClosedDaySerializer

    def get_queryset(self):
        rows = super().get_queryset()
        first = parse_date(self.request.query_params.get("from", "") or "")
        if self.action == "list" and first:
            rows = rows.filter(day__gte=first)
        return rows

    @extend_schema(
        summary="Close a day (stocktake, company event)",
        request=ClosedDaySerializer,
        responses={201: ClosedDaySerializer, 400: INVALID, 404: ERROR},
    )
    def create(self, request):
        data = _valid(ClosedDaySerializer, request.data)
        dealer = data.get("dealer")
        closed = setup.closed_day_add(
            actor=request.user,
            dealer=self._dealer(dealer.pk if dealer else None),
            day=data["day"],
            reason=data["reason"],
        )
        return Response(ClosedDaySerializer(closed).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        setup.closed_day_remove(actor=self.request.user, closed_day=instance)


# ---------------------------------------------------------------- technicians and advisors


class StaffSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    def get_name(self, row) -> str:
        return str(row.user)


class TechnicianSerializer(StaffSerializer):
    bay_kinds = serializers.ListField(
        child=serializers.CharField(), help_text=", ".join(BayKind.values)
    )
    categories = serializers.ListField(
        child=serializers.CharField(),
        help_text=", ".join(OperationCategory.values) + "; none = every category",
    )
    weekdays = WEEKDAYS

    class Meta:
        model = Technician
        fields = [
            "id",
            "dealer",
            "user",
            "name",
            "bay_kinds",
            "categories",
            "weekdays",
            "shift_start",
            "shift_end",
            "break_start",
            "break_end",
            "active",
        ]
        read_only_fields = fields


# the daily break a technician's or advisor's write takes (no docstring: the schema would
# show it as the description of both)
class BreakWrite(serializers.Serializer):
    break_start = serializers.TimeField(
        required=False, allow_null=True, help_text="A daily break (lunch); null: none."
    )
    break_end = serializers.TimeField(required=False, allow_null=True)


class TechnicianWrite(BreakWrite):
    dealer = serializers.IntegerField(required=False, help_text="Default: the user's dealer.")
    user = serializers.IntegerField(help_text="A user holding the technician role there.")
    bay_kinds = serializers.ListField(
        child=serializers.CharField(), help_text=", ".join(BayKind.values)
    )
    categories = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text=", ".join(OperationCategory.values) + "; none = every category",
    )
    weekdays = serializers.ListField(child=serializers.IntegerField(), required=False)
    shift_start = serializers.TimeField(required=False)
    shift_end = serializers.TimeField(required=False)
    active = serializers.BooleanField(required=False)


class AdvisorSerializer(StaffSerializer):
    weekdays = WEEKDAYS

    class Meta:
        model = Advisor
        fields = [
            "id",
            "dealer",
            "user",
            "name",
            "weekdays",
            "reception_start",
            "reception_end",
            "break_start",
            "break_end",
            "active",
        ]
        read_only_fields = fields


class AdvisorWrite(BreakWrite):
    dealer = serializers.IntegerField(required=False, help_text="Default: the user's dealer.")
    user = serializers.IntegerField(help_text="A user holding the service-advisor role there.")
    weekdays = serializers.ListField(child=serializers.IntegerField(), required=False)
    reception_start = serializers.TimeField(required=False)
    reception_end = serializers.TimeField(required=False)
    active = serializers.BooleanField(required=False)


class StaffViewSet(SetupViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Create (the first time) and change a technician's or advisor's capacity."""

    http_method_names = ["get", "post", "patch", "head", "options"]
    write_class = None
    fields = ()  # the saved fields the service takes

    def save(self, **values):
        raise NotImplementedError

    def _values(self, row, data):
        return {field: data.get(field, getattr(row, field)) for field in self.fields}

    def create(self, request):
        data = _valid(self.write_class, request.data)
        dealer = self._dealer(data.get("dealer"))
        user = self._staff(data["user"])
        found = self.queryset.model.objects.filter(dealer=dealer, user=user).first()
        values = (
            self._values(found, data)
            if found
            else {field: data[field] for field in self.fields if field in data}
        )
        saved = self.save(actor=request.user, dealer=dealer, user=user, **values)
        code = status.HTTP_200_OK if found else status.HTTP_201_CREATED
        return Response(self.serializer_class(saved).data, status=code)

    def partial_update(self, request, pk=None):
        row = self.get_object()
        data = _valid(self.write_class, {"user": row.user_id, **request.data}, partial=True)
        saved = self.save(
            actor=request.user, dealer=row.dealer, user=row.user, **self._values(row, data)
        )
        return Response(self.serializer_class(saved).data)


_STAFF_FILTERS = [DEALER, OpenApiParameter("active", OpenApiTypes.BOOL)]


@extend_schema_view(
    list=extend_schema(
        summary="Technicians with their skills and shift", parameters=_STAFF_FILTERS
    ),
    retrieve=extend_schema(summary="One technician's skills and shift"),
    create=extend_schema(
        summary="Put a technician into the capacity (or change them when already there)",
        request=TechnicianWrite,
        responses={201: TechnicianSerializer, 200: TechnicianSerializer, 400: INVALID},
    ),
    partial_update=extend_schema(
        summary="Change a technician's skills, shift, break or active flag",
        request=TechnicianWrite,
        responses={200: TechnicianSerializer, 400: INVALID},
    ),
)
class TechnicianViewSet(StaffViewSet):
    queryset = Technician.objects.select_related("user", "dealer").order_by("dealer_id", "id")
    serializer_class = TechnicianSerializer
    write_class = TechnicianWrite
    fields = (
        "bay_kinds",
        "categories",
        "weekdays",
        "shift_start",
        "shift_end",
        "break_start",
        "break_end",
        "active",
    )

    def save(self, **values):
        return setup.technician_save(**values)

    def get_queryset(self):
        return _active(super().get_queryset(), self)


@extend_schema_view(
    list=extend_schema(
        summary="Service advisors with their reception hours", parameters=_STAFF_FILTERS
    ),
    retrieve=extend_schema(summary="One advisor's reception hours"),
    create=extend_schema(
        summary="Put an advisor into the capacity (or change them when already there)",
        request=AdvisorWrite,
        responses={201: AdvisorSerializer, 200: AdvisorSerializer, 400: INVALID},
    ),
    partial_update=extend_schema(
        summary="Change an advisor's reception hours, break or active flag",
        request=AdvisorWrite,
        responses={200: AdvisorSerializer, 400: INVALID},
    ),
)
class AdvisorViewSet(StaffViewSet):
    queryset = Advisor.objects.select_related("user", "dealer").order_by("dealer_id", "id")
    serializer_class = AdvisorSerializer
    write_class = AdvisorWrite
    fields = ("weekdays", "reception_start", "reception_end", "break_start", "break_end", "active")

    def save(self, **values):
        return setup.advisor_save(**values)

    def get_queryset(self):
        return _active(super().get_queryset(), self)


def _active(rows, view):
    flag = view.request.query_params.get("active", "") if view.action == "list" else ""
    if flag in ("true", "1", "false", "0"):
        rows = rows.filter(active=flag in ("true", "1"))
    return rows


# ---------------------------------------------------------------- absences


class AbsenceSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = Absence
        fields = ["id", "dealer", "user", "name", "starts_at", "ends_at", "reason"]
        read_only_fields = ["id", "name"]
        extra_kwargs = {
            "dealer": {"required": False, "help_text": "Default: the user's dealer."},
            "user": {"help_text": "One of the dealer's technicians or advisors."},
        }

    def get_name(self, row) -> str:
        return str(row.user)


@extend_schema_view(
    list=extend_schema(
        summary="Absences",
        parameters=[
            DEALER,
            OpenApiParameter("user", OpenApiTypes.INT),
            OpenApiParameter("from", OpenApiTypes.DATE, description="Ending on or after."),
        ],
    ),
    retrieve=extend_schema(summary="One absence"),
    destroy=extend_schema(summary="Remove an absence", responses={204: None}),
)
class AbsenceViewSet(
    SetupViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin
):
    queryset = Absence.objects.select_related("user", "dealer").order_by("starts_at", "id")
    serializer_class = AbsenceSerializer

    def get_queryset(self):
        rows = super().get_queryset()
        if self.action == "list":
            params = self.request.query_params
            if params.get("user", "").isdigit():
                rows = rows.filter(user_id=int(params["user"]))
            first = parse_date(params.get("from", "") or "")
            if first:
                rows = rows.filter(ends_at__date__gte=first)
        return rows

    @extend_schema(
        summary="Record an absence (leave, training, sick)",
        request=AbsenceSerializer,
        responses={201: AbsenceSerializer, 400: INVALID, 404: ERROR},
    )
    def create(self, request):
        data = _valid(AbsenceSerializer, request.data)
        dealer = data.get("dealer")
        absence = setup.absence_add(
            actor=request.user,
            dealer=self._dealer(dealer.pk if dealer else None),
            user=data["user"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            reason=data.get("reason", ""),
        )
        return Response(AbsenceSerializer(absence).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        setup.absence_remove(actor=self.request.user, absence=instance)


def register(router):
    router.register("appointments/settings", SettingsViewSet, basename="schedule-settings")
    router.register("appointments/closed-days", ClosedDayViewSet, basename="closed-day")
    router.register("appointments/technicians", TechnicianViewSet, basename="technician")
    router.register("appointments/advisors", AdvisorViewSet, basename="advisor")
    router.register("appointments/absences", AbsenceViewSet, basename="absence")
