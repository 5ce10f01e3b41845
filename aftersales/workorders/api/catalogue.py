"""API of the labour catalogue and the dealer's workshop set-up.

* ``/api/workorders/operations/``            labour operations (filters ``code``, ``category``,
  ``q``, ``active``); POST / PATCH for OEM admins; ``/<id>/`` includes the standard times
* ``/api/workorders/labour-times/``          standard hours per model / variant (filter
  ``operation``, ``vehicle_model``); POST sets one (replacing its hours), DELETE removes it
* ``/api/workorders/packages/``              maintenance packages with operations and parts
* ``/api/workorders/labour-rates/``          a dealer's rate per pay type; POST sets one
  (``{dealer, pay_type, rate}``), PATCH ``/<id>/`` changes the rate
* ``/api/workorders/bays/``                  work bays; POST adds one, PATCH changes one
* ``/api/workorders/service-settings/``      saved settings; ``/<dealer id>/`` reads (the
  defaults when none are saved) and PUT / PATCH changes a dealer's settings

The catalogue is OEM-level (whoever holds the view permission reads all of it); rates, bays
and settings are the dealer's (another dealer's record answers 404). POSTs that create
accept an ``Idempotency-Key`` header: a retry acts once and answers with the first result.
"""

import django_filters
from django.db.models import F, Prefetch, Q
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from aftersales.core.access import allowed_at
from aftersales.core.api import ERROR, IDEMPOTENCY
from aftersales.core.drf import ActionPermission, FilterBackend, ScopedByActionMixin
from aftersales.core.errors import ValidationFailed
from aftersales.core.idempotency import once, request_key
from aftersales.org.models import Dealer
from aftersales.workorders import labour
from aftersales.workorders.choices import BayKind, OperationCategory, PayType, WarrantyScope
from aftersales.workorders.models import (
    LabourOperation,
    LabourRate,
    LabourTime,
    MaintenancePackage,
    PackageOperation,
    PackagePart,
    ServiceSettings,
    WorkshopBay,
)


def _created(request, scope, action, model, serializer_class):
    record, _acted = once(
        user=request.user, scope=scope, key=request_key(request), action=action, model=model
    )
    return Response(serializer_class(record).data, status=status.HTTP_201_CREATED)


def _dealer(user, dealer_id, permission) -> Dealer:
    """The dealer named in a request body, if the user holds ``permission`` there (else
    404: another dealer's id tells nothing)."""
    try:
        dealer = Dealer.objects.get(pk=int(dealer_id))
    except (TypeError, ValueError, Dealer.DoesNotExist):
        raise Http404 from None
    if not allowed_at(user, permission, dealer=dealer):
        raise Http404
    return dealer


# ------------------------------------------------------------------ serializers


class LabourTimeSerializer(serializers.ModelSerializer):
    operation_code = serializers.CharField(source="operation.code", read_only=True)
    vehicle_model_code = serializers.CharField(source="vehicle_model.code", read_only=True)
    variant_code = serializers.CharField(source="variant.code", read_only=True, default=None)

    class Meta:
        model = LabourTime
        fields = [
            "id",
            "operation",
            "operation_code",
            "vehicle_model",
            "vehicle_model_code",
            "variant",
            "variant_code",
            "hours",
        ]


class OperationSerializer(serializers.ModelSerializer):
    class Meta:
        model = LabourOperation
        fields = [
            "id",
            "code",
            "name",
            "name_en",
            "category",
            "warranty_scope",
            "default_hours",
            "active",
        ]


class OperationDetailSerializer(OperationSerializer):
    times = LabourTimeSerializer(many=True, read_only=True)

    class Meta(OperationSerializer.Meta):
        fields = [*OperationSerializer.Meta.fields, "times"]


class OperationWriteSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=20)
    name = serializers.CharField(max_length=100)
    name_en = serializers.CharField(max_length=100, required=False, allow_blank=True)
    category = serializers.ChoiceField(OperationCategory.choices)
    warranty_scope = serializers.ChoiceField(WarrantyScope.choices, required=False)
    default_hours = serializers.DecimalField(max_digits=6, decimal_places=2)
    active = serializers.BooleanField(required=False)


class LabourTimeWriteSerializer(serializers.Serializer):
    operation = serializers.PrimaryKeyRelatedField(queryset=LabourOperation.objects.all())
    vehicle_model = serializers.PrimaryKeyRelatedField(
        queryset=LabourTime._meta.get_field("vehicle_model").related_model.objects.all()
    )
    variant = serializers.PrimaryKeyRelatedField(
        queryset=LabourTime._meta.get_field("variant").related_model.objects.all(),
        required=False,
        allow_null=True,
    )
    hours = serializers.DecimalField(max_digits=6, decimal_places=2)


class PackageOperationSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="operation.code")
    name = serializers.CharField(source="operation.name")
    default_hours = serializers.DecimalField(
        source="operation.default_hours", max_digits=6, decimal_places=2
    )

    class Meta:
        model = PackageOperation
        fields = ["operation", "code", "name", "default_hours"]


class PackagePartSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="part.number")
    name = serializers.CharField(source="part.name")

    class Meta:
        model = PackagePart
        fields = ["part", "number", "name", "quantity"]


class PackageSerializer(serializers.ModelSerializer):
    vehicle_model_code = serializers.CharField(
        source="vehicle_model.code", read_only=True, default=None
    )

    class Meta:
        model = MaintenancePackage
        fields = [
            "id",
            "code",
            "name",
            "name_en",
            "vehicle_model",
            "vehicle_model_code",
            "interval_km",
            "interval_months",
            "active",
        ]


class PackageDetailSerializer(PackageSerializer):
    operations = PackageOperationSerializer(many=True, read_only=True)
    parts = PackagePartSerializer(many=True, read_only=True)

    class Meta(PackageSerializer.Meta):
        fields = [*PackageSerializer.Meta.fields, "operations", "parts"]


class PackagePartInput(serializers.Serializer):
    part = serializers.CharField(help_text="The part number.")
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2)


class PackageWriteSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=20)
    name = serializers.CharField(max_length=100)
    name_en = serializers.CharField(max_length=100, required=False, allow_blank=True)
    vehicle_model = serializers.PrimaryKeyRelatedField(
        queryset=MaintenancePackage._meta.get_field("vehicle_model").related_model.objects.all(),
        required=False,
        allow_null=True,
    )
    interval_km = serializers.IntegerField(required=False, allow_null=True)
    interval_months = serializers.IntegerField(required=False, allow_null=True)
    active = serializers.BooleanField(required=False)
    operations = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Operation codes."
    )
    parts = PackagePartInput(many=True, required=False)

    def validate_operations(self, codes):
        codes = [c.strip().upper() for c in codes]
        found = {op.code: op for op in LabourOperation.objects.filter(code__in=codes)}
        missing = [c for c in codes if c not in found]
        if missing:
            raise serializers.ValidationError(
                _("Unknown operation codes: %(codes)s") % {"codes": ", ".join(missing)}
            )
        return [found[c] for c in codes]

    def validate_parts(self, rows):
        from aftersales.parts.models import Part

        numbers = [row["part"] for row in rows]
        found = {p.number: p for p in Part.objects.filter(number__in=numbers)}
        missing = [n for n in numbers if n not in found]
        if missing:
            raise serializers.ValidationError(
                _("Unknown part numbers: %(numbers)s") % {"numbers": ", ".join(missing)}
            )
        return [(found[row["part"]], row["quantity"]) for row in rows]


class LabourRateSerializer(serializers.ModelSerializer):
    dealer_code = serializers.CharField(source="dealer.code", read_only=True)

    class Meta:
        model = LabourRate
        fields = ["id", "dealer", "dealer_code", "pay_type", "rate"]
        read_only_fields = ["dealer", "pay_type"]


class LabourRateSetSerializer(serializers.Serializer):
    dealer = serializers.IntegerField()
    pay_type = serializers.ChoiceField(PayType.choices)
    rate = serializers.DecimalField(max_digits=12, decimal_places=2)


class RateChangeSerializer(serializers.Serializer):
    rate = serializers.DecimalField(max_digits=12, decimal_places=2)


class BaySerializer(serializers.ModelSerializer):
    dealer_code = serializers.CharField(source="dealer.code", read_only=True)

    class Meta:
        model = WorkshopBay
        fields = ["id", "dealer", "dealer_code", "code", "name", "kind", "active"]


class BayCreateSerializer(serializers.Serializer):
    dealer = serializers.IntegerField()
    code = serializers.CharField(max_length=10)
    name = serializers.CharField(max_length=40)
    kind = serializers.ChoiceField(BayKind.choices, required=False)


class BayChangeSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=40, required=False)
    kind = serializers.ChoiceField(BayKind.choices, required=False)
    active = serializers.BooleanField(required=False)


class ServiceSettingsSerializer(serializers.ModelSerializer):
    dealer_code = serializers.CharField(source="dealer.code", read_only=True)

    class Meta:
        model = ServiceSettings
        fields = [
            "id",
            "dealer",
            "dealer_code",
            "follow_up_after_hours",
            "follow_up_due_hours",
            "follow_up_attempts",
            "low_score",
            "comeback_days",
            "workday_start",
            "workday_end",
        ]
        read_only_fields = ["dealer"]


class ServiceSettingsWriteSerializer(serializers.Serializer):
    follow_up_after_hours = serializers.IntegerField(required=False)
    follow_up_due_hours = serializers.IntegerField(required=False)
    follow_up_attempts = serializers.IntegerField(required=False)
    low_score = serializers.IntegerField(required=False)
    comeback_days = serializers.IntegerField(required=False)
    workday_start = serializers.TimeField(required=False)
    workday_end = serializers.TimeField(required=False)


# ------------------------------------------------------------------ operations


class OperationFilter(django_filters.FilterSet):
    code = django_filters.CharFilter(field_name="code", lookup_expr="iexact")
    category = django_filters.ChoiceFilter(choices=OperationCategory.choices)
    active = django_filters.BooleanFilter()
    q = django_filters.CharFilter(method="search", label="Code or name")

    class Meta:
        model = LabourOperation
        fields = ["code", "category", "active", "q"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(code__icontains=value) | Q(name__icontains=value) | Q(name_en__icontains=value)
        )


@extend_schema_view(
    list=extend_schema(summary="Labour operations"),
    retrieve=extend_schema(summary="One labour operation with its standard times"),
)
class OperationViewSet(
    ScopedByActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = LabourOperation.objects.order_by("code")
    serializer_class = OperationSerializer
    filter_backends = [FilterBackend]
    filterset_class = OperationFilter
    action_verbs = {"create": "add"}

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch(
                    "times",
                    LabourTime.objects.select_related(
                        "operation", "vehicle_model", "variant"
                    ).order_by("vehicle_model__code", F("variant__code").asc(nulls_first=True)),
                )
            )
        return queryset

    def get_serializer_class(self):
        return OperationDetailSerializer if self.action == "retrieve" else OperationSerializer

    @extend_schema(
        summary="Create a labour operation (OEM admin)",
        request=OperationWriteSerializer,
        parameters=[IDEMPOTENCY],
        responses={201: OperationSerializer, 400: ERROR, 403: ERROR},
    )
    def create(self, request):
        body = OperationWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return _created(
            request,
            "workorders.operation_create",
            lambda: labour.labour_operation_create(actor=request.user, **body.validated_data),
            LabourOperation,
            OperationSerializer,
        )

    @extend_schema(
        summary="Change a labour operation (OEM admin; the code never changes)",
        request=OperationWriteSerializer(partial=True),
        responses={200: OperationSerializer, 400: ERROR, 403: ERROR},
    )
    def partial_update(self, request, pk=None):
        operation = self.get_object()
        body = OperationWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        changes = dict(body.validated_data)
        if "code" in changes and changes["code"].strip().upper() != operation.code:
            raise ValidationFailed(
                _("The code cannot be changed."),
                fields={"code": [_("The code cannot be changed.")]},
            )
        changes.pop("code", None)
        operation = labour.labour_operation_update(
            actor=request.user, operation=operation, **changes
        )
        return Response(OperationSerializer(operation).data)


# ------------------------------------------------------------------ standard times


class LabourTimeFilter(django_filters.FilterSet):
    class Meta:
        model = LabourTime
        fields = ["operation", "vehicle_model", "variant"]


class CatalogueChildViewSet(viewsets.GenericViewSet):
    """Rows that belong to the labour-operation catalogue: read with
    ``view_labouroperation``, written with ``change_labouroperation``."""

    permission_classes = [ActionPermission]

    def required_permission(self) -> str:
        safe = self.request.method in ("GET", "HEAD", "OPTIONS")
        return f"workorders.{'view' if safe else 'change'}_labouroperation"


@extend_schema_view(
    list=extend_schema(summary="Standard labour times per model / variant"),
    retrieve=extend_schema(summary="One standard labour time"),
)
class LabourTimeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CatalogueChildViewSet):
    queryset = LabourTime.objects.select_related("operation", "vehicle_model", "variant").order_by(
        "operation__code", "vehicle_model__code", F("variant__code").asc(nulls_first=True)
    )
    serializer_class = LabourTimeSerializer
    filter_backends = [FilterBackend]
    filterset_class = LabourTimeFilter

    @extend_schema(
        summary="Set the standard hours of an operation on a model or variant (OEM admin)",
        request=LabourTimeWriteSerializer,
        parameters=[IDEMPOTENCY],
        responses={201: LabourTimeSerializer, 400: ERROR, 403: ERROR},
    )
    def create(self, request):
        body = LabourTimeWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return _created(
            request,
            "workorders.labour_time_set",
            lambda: labour.labour_time_set(actor=request.user, **body.validated_data),
            LabourTime,
            LabourTimeSerializer,
        )

    @extend_schema(summary="Remove a standard time (OEM admin)", responses={204: None})
    def destroy(self, request, pk=None):
        labour.labour_time_remove(actor=request.user, labour_time=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# ------------------------------------------------------------------ packages


class PackageFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Code or name")

    class Meta:
        model = MaintenancePackage
        fields = ["code", "vehicle_model", "active", "q"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(code__icontains=value) | Q(name__icontains=value) | Q(name_en__icontains=value)
        )


def _package_rows():
    return MaintenancePackage.objects.select_related("vehicle_model").order_by("code")


@extend_schema_view(
    list=extend_schema(summary="Maintenance packages"),
    retrieve=extend_schema(summary="One maintenance package with its operations and parts"),
)
class PackageViewSet(
    ScopedByActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = _package_rows()
    serializer_class = PackageSerializer
    filter_backends = [FilterBackend]
    filterset_class = PackageFilter
    action_verbs = {"create": "add"}

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action in ("retrieve", "partial_update"):
            queryset = queryset.prefetch_related(
                Prefetch("operations", PackageOperation.objects.select_related("operation")),
                Prefetch("parts", PackagePart.objects.select_related("part")),
            )
        return queryset

    def get_serializer_class(self):
        return PackageDetailSerializer if self.action == "retrieve" else PackageSerializer

    def _detail(self, package):
        fresh = _package_rows().prefetch_related(
            Prefetch("operations", PackageOperation.objects.select_related("operation")),
            Prefetch("parts", PackagePart.objects.select_related("part")),
        )
        return PackageDetailSerializer(fresh.get(pk=package.pk)).data

    @extend_schema(
        summary="Create a maintenance package (OEM admin)",
        request=PackageWriteSerializer,
        parameters=[IDEMPOTENCY],
        responses={201: PackageDetailSerializer, 400: ERROR, 403: ERROR},
    )
    def create(self, request):
        body = PackageWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        package, _acted = once(
            user=request.user,
            scope="workorders.package_create",
            key=request_key(request),
            action=lambda: labour.package_create(actor=request.user, **body.validated_data),
            model=MaintenancePackage,
        )
        return Response(self._detail(package), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a maintenance package; operations / parts given replace the lists",
        request=PackageWriteSerializer(partial=True),
        responses={200: PackageDetailSerializer, 400: ERROR, 403: ERROR},
    )
    def partial_update(self, request, pk=None):
        package = self.get_object()
        body = PackageWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        changes = dict(body.validated_data)
        code = changes.pop("code", None)
        if code is not None and code.strip().upper() != package.code:
            raise ValidationFailed(
                _("The code cannot be changed."),
                fields={"code": [_("The code cannot be changed.")]},
            )
        labour.package_update(actor=request.user, package=package, **changes)
        return Response(self._detail(package))


# ------------------------------------------------------------------ dealer set-up


class DealerRowFilter(django_filters.FilterSet):
    dealer = django_filters.NumberFilter(field_name="dealer_id")


class LabourRateFilter(DealerRowFilter):
    class Meta:
        model = LabourRate
        fields = ["dealer", "pay_type"]


@extend_schema_view(
    list=extend_schema(summary="Labour rates of the dealers the user may see"),
    retrieve=extend_schema(summary="One labour rate"),
)
class LabourRateViewSet(
    ScopedByActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = LabourRate.objects.select_related("dealer").order_by("dealer__code", "pay_type")
    serializer_class = LabourRateSerializer
    filter_backends = [FilterBackend]
    filterset_class = LabourRateFilter

    @extend_schema(
        summary="Set a dealer's rate for a pay type (change_labourrate at that dealer)",
        request=LabourRateSetSerializer,
        parameters=[IDEMPOTENCY],
        responses={201: LabourRateSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
    )
    def create(self, request):
        body = LabourRateSetSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        dealer = _dealer(request.user, data["dealer"], "workorders.change_labourrate")
        return _created(
            request,
            "workorders.labour_rate_set",
            lambda: labour.labour_rate_set(
                actor=request.user, dealer=dealer, pay_type=data["pay_type"], rate=data["rate"]
            ),
            LabourRate,
            LabourRateSerializer,
        )

    @extend_schema(
        summary="Change one rate",
        request=RateChangeSerializer,
        responses={200: LabourRateSerializer, 400: ERROR},
    )
    def partial_update(self, request, pk=None):
        rate = self.get_object()
        body = RateChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rate = labour.labour_rate_set(
            actor=request.user,
            dealer=rate.dealer,
            pay_type=rate.pay_type,
            rate=body.validated_data["rate"],
        )
        return Response(LabourRateSerializer(rate).data)

    update = partial_update


class BayFilter(DealerRowFilter):
    class Meta:
        model = WorkshopBay
        fields = ["dealer", "kind", "active"]


@extend_schema_view(
    list=extend_schema(summary="Work bays of the dealers the user may see"),
    retrieve=extend_schema(summary="One work bay"),
)
class BayViewSet(
    ScopedByActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = WorkshopBay.objects.select_related("dealer").order_by("dealer__code", "code")
    serializer_class = BaySerializer
    filter_backends = [FilterBackend]
    filterset_class = BayFilter
    action_verbs = {"create": "add"}

    @extend_schema(
        summary="Add a work bay (add_workshopbay at that dealer)",
        request=BayCreateSerializer,
        parameters=[IDEMPOTENCY],
        responses={201: BaySerializer, 400: ERROR, 403: ERROR, 404: ERROR},
    )
    def create(self, request):
        body = BayCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        dealer = _dealer(request.user, data.pop("dealer"), "workorders.add_workshopbay")
        return _created(
            request,
            "workorders.bay_create",
            lambda: labour.bay_create(actor=request.user, dealer=dealer, **data),
            WorkshopBay,
            BaySerializer,
        )

    @extend_schema(
        summary="Change a work bay", request=BayChangeSerializer, responses={200: BaySerializer}
    )
    def partial_update(self, request, pk=None):
        bay = self.get_object()
        body = BayChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        bay = labour.bay_update(actor=request.user, bay=bay, **body.validated_data)
        return Response(BaySerializer(bay).data)


@extend_schema_view(
    list=extend_schema(summary="Saved service settings of the dealers the user may see"),
)
class ServiceSettingsViewSet(ScopedByActionMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = ServiceSettings.objects.select_related("dealer").order_by("dealer__code")
    serializer_class = ServiceSettingsSerializer
    lookup_field = "dealer"
    lookup_value_regex = r"\d+"

    def _settings(self, request, dealer_pk, permission):
        dealer = _dealer(request.user, dealer_pk, permission)
        settings = ServiceSettings.for_dealer(dealer)
        settings.dealer = dealer
        return dealer, settings

    @extend_schema(
        summary="A dealer's service settings (the defaults when none are saved)",
        responses={200: ServiceSettingsSerializer, 404: ERROR},
    )
    def retrieve(self, request, dealer=None):
        _dealer_obj, settings = self._settings(request, dealer, "workorders.view_servicesettings")
        return Response(ServiceSettingsSerializer(settings).data)

    @extend_schema(
        summary="Change a dealer's service settings (change_servicesettings there)",
        request=ServiceSettingsWriteSerializer,
        responses={200: ServiceSettingsSerializer, 400: ERROR, 404: ERROR},
    )
    def partial_update(self, request, dealer=None):
        dealer_obj, _settings = self._settings(request, dealer, "workorders.change_servicesettings")
        body = ServiceSettingsWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        settings = labour.service_settings_update(
            actor=request.user, dealer=dealer_obj, **body.validated_data
        )
        return Response(ServiceSettingsSerializer(settings).data)

    update = partial_update


def register(router):
    router.register("workorders/operations", OperationViewSet, basename="labour-operation")
    router.register("workorders/labour-times", LabourTimeViewSet, basename="labour-time")
    router.register("workorders/packages", PackageViewSet, basename="maintenance-package")
    router.register("workorders/labour-rates", LabourRateViewSet, basename="labour-rate")
    router.register("workorders/bays", BayViewSet, basename="workshop-bay")
    router.register(
        "workorders/service-settings", ServiceSettingsViewSet, basename="service-settings"
    )
