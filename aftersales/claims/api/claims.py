"""Warranty-claim API (/api/claims/...): list and detail scoped with ``restrict`` (another
dealer's id answers 404), create from a repair order (``Idempotency-Key``: a retry answers
the first claim), edit a draft, the one transition endpoint, photos, old-part return
status, symptom and cause codes, and the two reports."""

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from aftersales.claims import selectors, services
from aftersales.claims.choices import (
    RETURN_PERMISSION,
    STEP_PERMISSION,
    ReturnStatus,
)
from aftersales.claims.models import (
    CauseCode,
    ClaimEvent,
    ClaimLine,
    ClaimPhoto,
    SymptomCode,
    WarrantyClaim,
)
from aftersales.core.access import user_has_perm
from aftersales.core.api import ERROR, IDEMPOTENCY
from aftersales.core.drf import ScopedByActionMixin
from aftersales.core.errors import NotFound, PermissionDenied, ValidationFailed
from aftersales.core.idempotency import clean_key, once

INVALID = OpenApiResponse(ERROR, description="Invalid input; `fields` says what is wrong.")
REFUSED = OpenApiResponse(
    ERROR, description="Refused in the current status, stale version or missing data (code)."
)

# ---------------------------------------------------------------- serializers


class ClaimSerializer(serializers.ModelSerializer):
    dealer_code = serializers.CharField(source="dealer.code", read_only=True)
    repair_order_number = serializers.CharField(source="repair_order.number", read_only=True)
    status = serializers.CharField(
        read_only=True,
        help_text="draft, submitted, info_requested, resubmitted, approved, rejected or settled",
    )
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    causal_part_number = serializers.CharField(
        source="causal_part.number", read_only=True, default=None
    )
    symptom_code = serializers.CharField(source="symptom_code.code", read_only=True, default=None)
    cause_code = serializers.CharField(source="cause_code.code", read_only=True, default=None)

    class Meta:
        model = WarrantyClaim
        fields = [
            "id",
            "number",
            "dealer",
            "dealer_code",
            "repair_order",
            "repair_order_number",
            "status",
            "status_label",
            "vin",
            "odometer_km",
            "failure_date",
            "causal_part",
            "causal_part_number",
            "symptom_code",
            "cause_code",
            "claimed_labour",
            "claimed_parts",
            "claimed_total",
            "approved_amount",
            "paid_amount",
            "submitted_at",
            "decided_at",
            "settled_at",
            "created_at",
            "version",
        ]
        read_only_fields = fields


class ClaimLineSerializer(serializers.ModelSerializer):
    operation_code = serializers.CharField(source="operation.code", read_only=True, default=None)
    part_number = serializers.CharField(source="part.number", read_only=True, default=None)
    kind = serializers.CharField(read_only=True, help_text="labour or part")
    return_status = serializers.CharField(
        read_only=True, help_text="part lines: to_return, shipped, received or scrapped"
    )

    class Meta:
        model = ClaimLine
        fields = [
            "id",
            "kind",
            "position",
            "operation_code",
            "part_number",
            "description",
            "hours",
            "rate",
            "quantity",
            "unit_price",
            "amount",
            "return_status",
        ]
        read_only_fields = fields


class ClaimPhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ClaimPhoto
        fields = ["id", "ro_photo", "caption", "content_type", "uploaded_at", "url"]
        read_only_fields = fields

    def get_url(self, photo) -> str:
        return reverse("claim-photo", kwargs={"pk": photo.claim_id, "photo_id": photo.pk})


class ClaimEventSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True)
    from_status = serializers.CharField(read_only=True)
    to_status = serializers.CharField(read_only=True)

    class Meta:
        model = ClaimEvent
        fields = ["id", "at", "actor_name", "kind", "from_status", "to_status", "message", "note"]
        read_only_fields = fields


class ClaimDetailSerializer(ClaimSerializer):
    lines = ClaimLineSerializer(many=True, read_only=True)
    photos = ClaimPhotoSerializer(many=True, read_only=True)
    events = ClaimEventSerializer(many=True, read_only=True)

    class Meta(ClaimSerializer.Meta):
        fields = [
            *ClaimSerializer.Meta.fields,
            "description",
            "info_request",
            "dealer_answer",
            "decision_reason",
            "payment_reference",
            "lines",
            "photos",
            "events",
        ]
        read_only_fields = fields


class ClaimCreateSerializer(serializers.Serializer):
    repair_order = serializers.IntegerField(help_text="The id of the repair order to claim.")


class ClaimEditSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    vin = serializers.CharField(required=False, allow_blank=True, max_length=30)
    odometer_km = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    failure_date = serializers.DateField(required=False, allow_null=True)
    causal_part = serializers.CharField(
        required=False, allow_null=True, help_text="Part number.", max_length=40
    )
    symptom_code = serializers.CharField(required=False, allow_null=True, max_length=10)
    cause_code = serializers.CharField(required=False, allow_null=True, max_length=10)
    description = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class ClaimTransitionSerializer(serializers.Serializer):
    to = serializers.CharField(
        help_text="submitted, info_requested, resubmitted, approved, rejected or settled"
    )
    version = serializers.IntegerField()
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text="The question (info_requested), the answer (resubmitted) or the reason "
        "(rejected; approved for less than claimed).",
    )
    approved_amount = serializers.CharField(required=False, allow_blank=True, default="")
    paid_amount = serializers.CharField(required=False, allow_blank=True, default="")
    payment_reference = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=60
    )


class ClaimPhotoAddSerializer(serializers.Serializer):
    image = serializers.FileField(required=False, help_text="A JPEG, PNG or WebP image.")
    repair_order_photos = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list
    )
    caption = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class ClaimReturnSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    to = serializers.CharField(help_text="shipped, received or scrapped")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


def _verb(permission: str | None) -> str:
    """``claims.submit_warrantyclaim`` → ``submit``."""
    if not permission:
        return "view"
    return permission.split(".", 1)[1].rsplit("_", 1)[0]


LIST_FILTERS = [
    OpenApiParameter(
        "status", OpenApiTypes.STR, description="One status or several, comma-separated."
    ),
    OpenApiParameter("dealer", OpenApiTypes.STR, description="Dealer id or code."),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="Created on or after."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Created on or before."),
    OpenApiParameter("q", OpenApiTypes.STR, description="Claim number, VIN or RO number."),
]


def _date(request, name):
    raw = request.query_params.get(name)
    if not raw:
        return None
    field = serializers.DateField()
    try:
        return field.to_internal_value(raw)
    except serializers.ValidationError:
        raise ValidationFailed(fields={name: [_("Enter a date as YYYY-MM-DD.")]}) from None


# ---------------------------------------------------------------- claims


@extend_schema_view(
    list=extend_schema(summary="Warranty claims the user may see", parameters=LIST_FILTERS),
    retrieve=extend_schema(summary="One claim with its lines, photos and timeline"),
)
class ClaimViewSet(
    ScopedByActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = WarrantyClaim.objects.select_related(
        "dealer", "repair_order", "causal_part", "symptom_code", "cause_code"
    ).order_by("-created_at", "-id")
    serializer_class = ClaimSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    action_verbs = {"create": "add", "partial_update": "change", "photos": "change"}

    def permission_verb(self) -> str:
        data = self.request.data if hasattr(self.request.data, "get") else {}
        if self.action == "transition":
            return _verb(STEP_PERMISSION.get(str(data.get("to", ""))))
        if self.action == "line_return":
            return _verb(RETURN_PERMISSION.get(str(data.get("to", ""))))
        return super().permission_verb()

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            params = self.request.query_params
            queryset = selectors.filtered(
                queryset,
                status=params.get("status"),
                dealer=params.get("dealer"),
                date_from=_date(self.request, "date_from"),
                date_to=_date(self.request, "date_to"),
                q=params.get("q"),
            )
        elif self.action == "retrieve":
            queryset = queryset.prefetch_related(
                "lines__operation", "lines__part", "photos", "events"
            )
        return queryset

    def get_serializer_class(self):
        return ClaimSerializer if self.action == "list" else ClaimDetailSerializer

    def _out(self, claim, code=status.HTTP_200_OK):
        fresh = selectors.claim_detail(self.request.user, claim.pk)
        return Response(ClaimDetailSerializer(fresh).data, status=code)

    @extend_schema(
        summary="Create a draft claim from a repair order's warranty lines",
        parameters=[IDEMPOTENCY],
        request=ClaimCreateSerializer,
        responses={201: ClaimDetailSerializer, 400: INVALID, 404: ERROR, 409: REFUSED},
    )
    def create(self, request):
        from aftersales.workorders.models import RepairOrder

        payload = ClaimCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        order = (
            RepairOrder.objects.restrict(request.user, "view")
            .filter(pk=payload.validated_data["repair_order"])
            .first()
        )
        if order is None:
            raise NotFound()
        claim, _acted = once(
            user=request.user,
            scope="claims.create",
            key=clean_key(request.headers.get("Idempotency-Key")),
            action=lambda: services.claim_create(actor=request.user, repair_order=order),
            model=WarrantyClaim,
        )
        return self._out(claim, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit a draft claim (send the version you saw)",
        request=ClaimEditSerializer,
        responses={200: ClaimDetailSerializer, 400: INVALID, 409: REFUSED},
    )
    def partial_update(self, request, pk=None):
        claim = self.get_object()
        payload = ClaimEditSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        version = data.pop("version")
        claim = services.claim_update(actor=request.user, claim=claim, version=version, **data)
        return self._out(claim)

    @extend_schema(
        summary="Change the claim's status (submit, ask, answer, approve, reject, settle)",
        request=ClaimTransitionSerializer,
        responses={200: ClaimDetailSerializer, 400: INVALID, 409: REFUSED},
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        claim = self.get_object()
        payload = ClaimTransitionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        claim = services.claim_transition(
            actor=request.user,
            claim=claim,
            to=data["to"],
            version=data["version"],
            note=data["note"],
            approved_amount=data["approved_amount"],
            paid_amount=data["paid_amount"],
            payment_reference=data["payment_reference"],
        )
        return self._out(claim)

    @extend_schema(
        summary="Add photos: an uploaded image and/or photos of the repair order",
        request={
            "multipart/form-data": ClaimPhotoAddSerializer,
            "application/json": ClaimPhotoAddSerializer,
        },
        responses={201: ClaimDetailSerializer, 400: INVALID, 409: REFUSED},
    )
    @action(detail=True, methods=["post"])
    def photos(self, request, pk=None):
        claim = self.get_object()
        payload = ClaimPhotoAddSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        services.claim_photo_add(
            actor=request.user,
            claim=claim,
            upload=data.get("image"),
            ro_photos=data["repair_order_photos"],
            caption=data["caption"],
        )
        return self._out(claim, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Move an old part: shipped (dealer), received or scrapped (OEM)",
        request=ClaimReturnSerializer,
        responses={200: ClaimDetailSerializer, 400: INVALID, 404: ERROR, 409: REFUSED},
    )
    @action(detail=True, methods=["post"], url_path="return")
    def line_return(self, request, pk=None):
        claim = self.get_object()
        payload = ClaimReturnSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if data["to"] not in ReturnStatus.values:
            raise ValidationFailed(fields={"to": [_("Unknown status.")]})
        line = claim.lines.filter(pk=data["line"]).first()
        if line is None:
            raise NotFound()
        services.claim_line_return(actor=request.user, line=line, to=data["to"], note=data["note"])
        return self._out(claim)


# ---------------------------------------------------------------- codes and reports


class ClaimCodeSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField()


class ClaimsAccess(IsAuthenticated):
    """Whoever may see claims somewhere (rows are scoped by the selectors)."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if not user_has_perm(request.user, "claims.view_warrantyclaim"):
            raise PermissionDenied()
        return True


AGEING_ROW = inline_serializer(
    "ClaimAgeingRow",
    fields={
        "id": serializers.IntegerField(help_text="The dealer's id."),
        "dealer": serializers.CharField(),
        "dealer_name": serializers.CharField(),
        "d0_7": serializers.IntegerField(),
        "d8_30": serializers.IntegerField(),
        "d31_60": serializers.IntegerField(),
        "d61_plus": serializers.IntegerField(),
        "amounts": serializers.DictField(
            child=serializers.DecimalField(max_digits=14, decimal_places=2)
        ),
        "total": serializers.IntegerField(),
        "total_amount": serializers.DecimalField(max_digits=14, decimal_places=2),
    },
)
RATE_ROW = inline_serializer(
    "ClaimRateRow",
    fields={
        "id": serializers.IntegerField(help_text="The dealer's id."),
        "dealer": serializers.CharField(),
        "dealer_name": serializers.CharField(),
        "decided": serializers.IntegerField(),
        "approved": serializers.IntegerField(),
        "partial": serializers.IntegerField(),
        "rejected": serializers.IntegerField(),
        "approval_rate": serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True),
        "rejection_rate": serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True),
        "claimed_amount": serializers.DecimalField(max_digits=14, decimal_places=2),
        "approved_amount": serializers.DecimalField(max_digits=14, decimal_places=2),
        "rejected_amount": serializers.DecimalField(max_digits=14, decimal_places=2),
    },
)


def _results(name, row):
    return inline_serializer(name, fields={"results": serializers.ListField(child=row)})


class ClaimReportViewSet(viewsets.ViewSet):
    """Claim ageing and approval/rejection rates per dealer, scoped to the user."""

    permission_classes = [ClaimsAccess]

    @extend_schema(
        summary="Open claims per dealer by age since submission (0-7, 8-30, 31-60, >60 days)",
        responses=_results("ClaimAgeing", AGEING_ROW),
    )
    @action(detail=False, methods=["get"])
    def ageing(self, request):
        rows = selectors.claim_ageing(request.user)
        return Response(
            {
                "results": [
                    {
                        "id": r.pk,
                        "dealer": r.dealer_code,
                        "dealer_name": r.dealer_name,
                        **r.counts,
                        "amounts": {k: str(v) for k, v in r.amounts.items()},
                        "total": r.total,
                        "total_amount": str(r.total_amount),
                    }
                    for r in rows
                ]
            }
        )

    @extend_schema(
        summary="Approval and rejection rates per dealer (claims decided in the period)",
        parameters=[
            OpenApiParameter("date_from", OpenApiTypes.DATE, description="Decided on or after."),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description="Decided on or before."),
        ],
        responses=_results("ClaimRates", RATE_ROW),
    )
    @action(detail=False, methods=["get"])
    def rates(self, request):
        rows = selectors.approval_rates(
            request.user, date_from=_date(request, "date_from"), date_to=_date(request, "date_to")
        )
        return Response(
            {
                "results": [
                    {
                        "id": r.pk,
                        "dealer": r.dealer_code,
                        "dealer_name": r.dealer_name,
                        "decided": r.decided,
                        "approved": r.approved,
                        "partial": r.partial,
                        "rejected": r.rejected,
                        "approval_rate": None if r.approval_rate is None else str(r.approval_rate),
                        "rejection_rate": None
                        if r.rejection_rate is None
                        else str(r.rejection_rate),
                        "claimed_amount": str(r.claimed_amount),
                        "approved_amount": str(r.approved_amount),
                        "rejected_amount": str(r.rejected_amount),
                    }
                    for r in rows
                ]
            }
        )

    @extend_schema(
        summary="The OEM's symptom and cause codes (active ones)",
        responses=inline_serializer(
            "ClaimCodes",
            fields={
                "symptoms": ClaimCodeSerializer(many=True),
                "causes": ClaimCodeSerializer(many=True),
            },
        ),
    )
    @action(detail=False, methods=["get"])
    def codes(self, request):
        fields = ("code", "name", "name_en")
        return Response(
            {
                "symptoms": list(SymptomCode.objects.filter(active=True).values(*fields)),
                "causes": list(CauseCode.objects.filter(active=True).values(*fields)),
            }
        )
