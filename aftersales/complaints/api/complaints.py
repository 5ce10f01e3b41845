"""Complaint API (/api/complaints/...): list and detail scoped with ``restrict`` (a dealer
sees the complaints it handles or forwarded, a region its dealers', the OEM all; another
dealer's id answers 404), intake, the steps of the process, the VRT, the dealer's plan,
escalations and their decisions, follow-ups, legal cases and the OEM's settings. Every
write accepts an ``Idempotency-Key``: a retry answers the first result and acts once."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aftersales.complaints import services
from aftersales.complaints.choices import (
    OPEN,
    Category,
    Channel,
    ClosureCondition,
    FollowUpOutcome,
    Grade,
    Responsibility,
)
from aftersales.complaints.models import (
    Complaint,
    ComplaintEvent,
    ComplaintFollowUp,
    ComplaintSettings,
    ComplaintStep,
    Escalation,
    GoodwillLevel,
    LegalCase,
)
from aftersales.core.api import ERROR, IDEMPOTENCY, validated
from aftersales.core.drf import ScopedByActionMixin
from aftersales.core.errors import NotFound, ValidationFailed
from aftersales.core.idempotency import once, request_key

INVALID = OpenApiResponse(ERROR, description="Invalid input; `fields` says what is wrong.")
REFUSED = OpenApiResponse(
    ERROR, description="Refused in the current status, or a stale version (see `code`)."
)
WRITE = {400: INVALID, 403: ERROR, 404: ERROR, 409: REFUSED}


# ---------------------------------------------------------------- answers


class ComplaintStepSerializer(serializers.ModelSerializer):
    members = serializers.SlugRelatedField(many=True, read_only=True, slug_field="username")
    late = serializers.BooleanField(read_only=True)

    class Meta:
        model = ComplaintStep
        fields = [
            "id",
            "kind",
            "status",
            "due_at",
            "due_provisional",
            "limit_days",
            "members",
            "departments",
            "defect_exists",
            "responsibility",
            "conclusion",
            "solution",
            "goodwill_amount",
            "done_at",
            "acknowledged_by_region_at",
            "acknowledged_by_dealer_at",
            "late",
        ]


class ComplaintEscalationSerializer(serializers.ModelSerializer):
    complaint_number = serializers.CharField(source="complaint.number", read_only=True)

    class Meta:
        model = Escalation
        fields = [
            "id",
            "complaint",
            "complaint_number",
            "reason",
            "level",
            "role",
            "amount",
            "note",
            "raised_at",
            "decided_at",
            "approved_amount",
            "decision",
        ]


class ComplaintEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = ComplaintEvent
        fields = ["at", "actor_name", "kind", "from_status", "to_status", "message"]


class ComplaintFollowUpSerializer(serializers.ModelSerializer):
    complaint_number = serializers.CharField(source="complaint.number", read_only=True)

    class Meta:
        model = ComplaintFollowUp
        fields = [
            "id",
            "complaint",
            "complaint_number",
            "due_at",
            "attempts",
            "outcome",
            "score",
            "remarks",
            "care_action",
            "done_at",
        ]


class ComplaintSerializer(serializers.ModelSerializer):
    dealer_code = serializers.CharField(source="dealer.code", read_only=True, default=None)
    region_code = serializers.CharField(source="region.code", read_only=True, default=None)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Complaint
        fields = [
            "id",
            "number",
            "status",
            "status_label",
            "channel",
            "category",
            "grade",
            "subject",
            "contact_name",
            "dealer",
            "dealer_code",
            "region",
            "region_code",
            "customer",
            "vehicle",
            "received_at",
            "filed_at",
            "limit_days",
            "deadline_at",
            "deadline_provisional",
            "paused_since",
            "escalation_level",
            "closed_at",
            "closed_on_time",
            "reopen_count",
            "version",
        ]


class ComplaintDetailSerializer(ComplaintSerializer):
    steps = ComplaintStepSerializer(many=True, read_only=True)
    escalations = ComplaintEscalationSerializer(many=True, read_only=True)
    events = ComplaintEventSerializer(many=True, read_only=True)
    follow_ups = ComplaintFollowUpSerializer(many=True, read_only=True)
    repair_orders = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta(ComplaintSerializer.Meta):
        fields = [
            *ComplaintSerializer.Meta.fields,
            "contact_phone",
            "description",
            "expectation",
            "source_dealer",
            "repair_orders",
            "judgement",
            "reply",
            "goodwill_amount",
            "closure_condition",
            "closure_evidence",
            "handling_days",
            "steps",
            "escalations",
            "follow_ups",
            "events",
        ]


# ---------------------------------------------------------------- requests


def _choices(choices):
    return ", ".join(choices.values)


class ComplaintReceiveSerializer(serializers.Serializer):
    channel = serializers.CharField(help_text=_choices(Channel))
    contact_name = serializers.CharField(required=False, allow_blank=True, default="")
    contact_phone = serializers.CharField(required=False, allow_blank=True, default="")
    subject = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    expectation = serializers.CharField(required=False, allow_blank=True, default="")
    customer = serializers.IntegerField(required=False, allow_null=True, default=None)
    vehicle = serializers.IntegerField(required=False, allow_null=True, default=None)
    dealer = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="The forwarding dealer."
    )
    repair_orders = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list
    )


class ComplaintVersioned(serializers.Serializer):
    version = serializers.IntegerField(required=False, allow_null=True, default=None)


class ComplaintJudgeSerializer(ComplaintVersioned):
    decision = serializers.CharField(help_text="invalid, resolved or to_file")
    judgement = serializers.CharField(required=False, allow_blank=True, default="")
    reply = serializers.CharField(required=False, allow_blank=True, default="")


class ComplaintFileSerializer(ComplaintVersioned):
    category = serializers.CharField(help_text=_choices(Category))
    grade = serializers.CharField(help_text=_choices(Grade))
    limit_days = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Stricter than the grade's."
    )
    repair_orders = serializers.ListField(
        child=serializers.IntegerField(), required=False, allow_null=True, default=None
    )


class ComplaintAssignSerializer(ComplaintVersioned):
    dealer = serializers.IntegerField()
    region = serializers.IntegerField(required=False, allow_null=True, default=None)
    plan_days = serializers.IntegerField(required=False, allow_null=True, default=None)


class ComplaintLimitSerializer(ComplaintVersioned):
    limit_days = serializers.IntegerField()
    reason = serializers.CharField(allow_blank=True)


class ComplaintStepOpenSerializer(ComplaintVersioned):
    kind = serializers.CharField(help_text="vrt or proposal")
    limit_days = serializers.IntegerField(required=False, allow_null=True, default=None)
    members = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list, help_text="User ids."
    )
    departments = serializers.CharField(required=False, allow_blank=True, default="")


class ComplaintPlanSerializer(ComplaintVersioned):
    plan = serializers.CharField(allow_blank=True)
    goodwill_amount = serializers.CharField(required=False, allow_null=True, default=None)


class ComplaintReportSerializer(ComplaintVersioned):
    report = serializers.CharField(allow_blank=True)


class ComplaintTextSerializer(ComplaintVersioned):
    text = serializers.CharField(allow_blank=True)


class ComplaintReasonSerializer(ComplaintVersioned):
    reason = serializers.CharField(allow_blank=True)


class ComplaintEscalateSerializer(ComplaintVersioned):
    note = serializers.CharField(allow_blank=True)
    amount = serializers.CharField(required=False, allow_null=True, default=None)


class ComplaintCloseSerializer(ComplaintVersioned):
    condition = serializers.CharField(allow_blank=True, help_text=_choices(ClosureCondition))
    evidence = serializers.CharField(allow_blank=True)


class ComplaintStepRecordSerializer(serializers.Serializer):
    conclusion = serializers.CharField(required=False, allow_blank=True, default="")
    solution = serializers.CharField(required=False, allow_blank=True, default="")
    defect_exists = serializers.BooleanField(required=False, allow_null=True, default=None)
    responsibility = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=_choices(Responsibility)
    )
    no_result = serializers.BooleanField(required=False, default=False)


class ComplaintDecideSerializer(serializers.Serializer):
    decision = serializers.CharField(allow_blank=True)
    approved_amount = serializers.CharField(required=False, allow_null=True, default=None)


class ComplaintFollowUpRecordSerializer(serializers.Serializer):
    outcome = serializers.CharField(help_text=_choices(FollowUpOutcome))
    score = serializers.IntegerField(required=False, allow_null=True, default=None)
    remarks = serializers.CharField(required=False, allow_blank=True, default="")
    care_action = serializers.CharField(required=False, allow_blank=True, default="")


def _valid(serializer_class, request):
    return validated(serializer_class, request.data)


def _visible(model, request, pk, verb="view"):
    if pk is None:
        return None
    row = model.objects.restrict(request.user, verb).filter(pk=pk).first()
    if row is None:
        raise NotFound()
    return row


LIST_FILTERS = [
    OpenApiParameter("status", OpenApiTypes.STR, description="Statuses, comma-separated."),
    OpenApiParameter("open", OpenApiTypes.BOOL, description="Only complaints not finished."),
    OpenApiParameter("overdue", OpenApiTypes.BOOL, description="Only open ones past deadline."),
    OpenApiParameter("category", OpenApiTypes.STR),
    OpenApiParameter("grade", OpenApiTypes.STR),
    OpenApiParameter("channel", OpenApiTypes.STR),
    OpenApiParameter("dealer", OpenApiTypes.INT),
]


# ---------------------------------------------------------------- complaints


class ComplaintViewSet(
    ScopedByActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Complaints the user may see, and every step of their handling."""

    queryset = Complaint.objects.select_related("dealer", "region").order_by("-received_at", "-id")
    serializer_class = ComplaintSerializer
    action_verbs = {
        "create": "add",
        "judge": "judge",
        "file": "file",
        "assign": "file",
        "limit": "file",
        "support": "view",  # VRT: support or file; checked by the service
        "plan": "handle",
        "execution": "handle",
        "comment": "view",  # comment or handle; checked by the service
        "pause": "file",
        "resume": "file",
        "escalate": "escalate",
        "close": "close",
        "reopen": "close",
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            from django.utils import timezone

            params = self.request.query_params
            if params.get("status"):
                queryset = queryset.filter(status__in=params["status"].split(","))
            if params.get("open") in ("1", "true"):
                queryset = queryset.filter(status__in=OPEN)
            if params.get("overdue") in ("1", "true"):
                queryset = queryset.filter(status__in=OPEN, deadline_at__lt=timezone.now())
            for name in ("category", "grade", "channel"):
                if params.get(name):
                    queryset = queryset.filter(**{name: params[name]})
            if params.get("dealer", "").isdigit():
                queryset = queryset.filter(dealer_id=int(params["dealer"]))
        elif self.action == "retrieve":
            queryset = queryset.prefetch_related(
                "steps__members",
                "escalations__complaint",
                "events",
                "follow_ups__complaint",
                "repair_orders",
            )
        return queryset

    def get_serializer_class(self):
        return ComplaintSerializer if self.action == "list" else ComplaintDetailSerializer

    @extend_schema(summary="Complaints the user may see", parameters=LIST_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="One complaint with its steps, escalations, follow-ups, timeline")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    def _out(self, pk, code=status.HTTP_200_OK):
        fresh = (
            Complaint.objects.select_related("dealer", "region")
            .prefetch_related(
                "steps__members",
                "escalations__complaint",
                "events",
                "follow_ups__complaint",
                "repair_orders",
            )
            .get(pk=pk)
        )
        return Response(ComplaintDetailSerializer(fresh).data, status=code)

    def _once(self, scope, act, model=Complaint):
        result, _acted = once(
            user=self.request.user,
            scope=scope,
            key=request_key(self.request),
            action=act,
            model=model,
        )
        return result

    @extend_schema(
        summary="Receive a complaint (the agent) or forward one to the OEM (a dealer)",
        request=ComplaintReceiveSerializer,
        parameters=[IDEMPOTENCY],
        responses={201: ComplaintDetailSerializer, **WRITE},
    )
    def create(self, request):
        from aftersales.crm.models import Customer, Vehicle
        from aftersales.org.models import Dealer
        from aftersales.workorders.models import RepairOrder

        data = _valid(ComplaintReceiveSerializer, request)
        dealer = _visible(Dealer, request, data["dealer"])
        customer = _visible(Customer, request, data["customer"])
        vehicle = _visible(Vehicle, request, data["vehicle"])
        orders = [_visible(RepairOrder, request, pk) for pk in data["repair_orders"]]
        complaint = self._once(
            "complaints.receive",
            lambda: services.complaint_receive(
                actor=request.user,
                channel=data["channel"],
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                subject=data["subject"],
                description=data["description"],
                expectation=data["expectation"],
                customer=customer,
                vehicle=vehicle,
                dealer=dealer,
                repair_orders=orders,
            ),
        )
        return self._out(complaint.pk, status.HTTP_201_CREATED)

    def _step(self, name, serializer_class, call, model=Complaint):
        complaint = self.get_object()
        data = _valid(serializer_class, self.request)
        self._once(f"complaints.{name}:{complaint.pk}", lambda: call(complaint, data), model)
        return self._out(complaint.pk)

    @extend_schema(
        summary="Judge: invalid (reply), resolved by the agent (reply) or to be filed",
        request=ComplaintJudgeSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: ComplaintDetailSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def judge(self, request, pk=None):
        return self._step(
            "judge",
            ComplaintJudgeSerializer,
            lambda c, d: services.complaint_judge(actor=request.user, complaint=c, **d),
        )

    @extend_schema(
        summary="File: classify, grade and start the clock",
        request=ComplaintFileSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: ComplaintDetailSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def file(self, request, pk=None):
        from aftersales.workorders.models import RepairOrder

        def call(complaint, data):
            orders = data.pop("repair_orders")
            if orders is not None:
                orders = [_visible(RepairOrder, request, o) for o in orders]
            return services.complaint_file(
                actor=request.user, complaint=complaint, repair_orders=orders, **data
            )

        return self._step("file", ComplaintFileSerializer, call)

    @extend_schema(
        summary="Assign to a dealer (in the region, when given); the plan falls due",
        request=ComplaintAssignSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: ComplaintDetailSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        from aftersales.org.models import Dealer, Region

        def call(complaint, data):
            dealer = Dealer.objects.filter(pk=data["dealer"]).first()
            region = Region.objects.filter(pk=data["region"]).first() if data["region"] else None
            if dealer is None:
                raise ValidationFailed(fields={"dealer": [_("Choose the handling dealer.")]})
            return services.complaint_assign(
                actor=request.user,
                complaint=complaint,
                dealer=dealer,
                region=region,
                plan_days=data["plan_days"],
                version=data["version"],
            )

        return self._step("assign", ComplaintAssignSerializer, call)

    @extend_schema(
        summary="A stricter time limit for this complaint",
        request=ComplaintLimitSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: ComplaintDetailSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def limit(self, request, pk=None):
        return self._step(
            "limit",
            ComplaintLimitSerializer,
            lambda c, d: services.complaint_set_limit(actor=request.user, complaint=c, **d),
        )

    @extend_schema(
        summary="Ask for support: a VRT (quality) or the departments' proposal",
        request=ComplaintStepOpenSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: ComplaintDetailSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def support(self, request, pk=None):
        from aftersales.org.models import User

        def call(complaint, data):
            members = list(User.objects.filter(pk__in=data.pop("members"), is_active=True))
            return services.step_open(
                actor=request.user, complaint=complaint, members=members, **data
            )

        return self._step("support", ComplaintStepOpenSerializer, call, ComplaintStep)

    @extend_schema(
        summary="The dealer's handling plan (and goodwill asked for)",
        request=ComplaintPlanSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: ComplaintDetailSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def plan(self, request, pk=None):
        return self._step(
            "plan",
            ComplaintPlanSerializer,
            lambda c, d: services.plan_submit(actor=request.user, complaint=c, **d),
            ComplaintStep,
        )

    @extend_schema(
        summary="The dealer reports the plan carried out",
        request=ComplaintReportSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: ComplaintDetailSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def execution(self, request, pk=None):
        return self._step(
            "execution",
            ComplaintReportSerializer,
            lambda c, d: services.plan_execution_record(actor=request.user, complaint=c, **d),
            ComplaintStep,
        )

    @extend_schema(
        summary="Comment (region supervision, OEM, dealer)",
        request=ComplaintTextSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: ComplaintDetailSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def comment(self, request, pk=None):
        return self._step(
            "comment",
            ComplaintTextSerializer,
            lambda c, d: services.complaint_comment(
                actor=request.user, complaint=c, text=d["text"]
            ),
            ComplaintEvent,
        )

    @extend_schema(
        summary="Pause the clock while waiting for the customer (where allowed)",
        request=ComplaintReasonSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: ComplaintDetailSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._step(
            "pause",
            ComplaintReasonSerializer,
            lambda c, d: services.complaint_pause(actor=request.user, complaint=c, **d),
        )

    @extend_schema(
        summary="Restart the clock",
        request=ComplaintVersioned,
        parameters=[IDEMPOTENCY],
        responses={200: ComplaintDetailSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._step(
            "resume",
            ComplaintVersioned,
            lambda c, d: services.complaint_resume(actor=request.user, complaint=c, **d),
        )

    @extend_schema(
        summary="Escalate by hand; the goodwill amount picks the deciding level",
        request=ComplaintEscalateSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: ComplaintDetailSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None):
        return self._step(
            "escalate",
            ComplaintEscalateSerializer,
            lambda c, d: services.complaint_escalate(actor=request.user, complaint=c, **d),
            Escalation,
        )

    @extend_schema(
        summary="Close on one of the four conditions, with evidence",
        request=ComplaintCloseSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: ComplaintDetailSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._step(
            "close",
            ComplaintCloseSerializer,
            lambda c, d: services.complaint_close(actor=request.user, complaint=c, **d),
        )

    @extend_schema(
        summary="Reopen a closed complaint (counted)",
        request=ComplaintReasonSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: ComplaintDetailSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._step(
            "reopen",
            ComplaintReasonSerializer,
            lambda c, d: services.complaint_reopen(actor=request.user, complaint=c, **d),
        )


# ---------------------------------------------------------------- steps, escalations, follow-ups


class StepViewSet(ScopedByActionMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A step of a complaint: the VRT's conclusion, a proposal, the dealer's plan."""

    queryset = ComplaintStep.objects.prefetch_related("members")
    serializer_class = ComplaintStepSerializer
    # a step is seen with its complaint; who may record or acknowledge is the service's
    action_verbs = {"record": "view", "acknowledge": "view"}

    def required_permission(self):
        return "complaints.view_complaint"

    def get_queryset(self):
        return ComplaintStep.objects.prefetch_related("members").filter(
            complaint__in=Complaint.objects.restrict(self.request.user, "view")
        )

    @extend_schema(summary="One step of a complaint")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Record the VRT's conclusion and solution (members) or the proposal",
        request=ComplaintStepRecordSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: ComplaintStepSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def record(self, request, pk=None):
        step = self.get_object()
        data = _valid(ComplaintStepRecordSerializer, request)
        once(
            user=request.user,
            scope=f"complaints.step-record:{step.pk}",
            key=request_key(request),
            action=lambda: services.step_record(actor=request.user, step=step, **data),
            model=ComplaintStep,
        )
        step.refresh_from_db()
        return Response(ComplaintStepSerializer(step).data)

    @extend_schema(
        summary="Acknowledge a conclusion or proposal (region or dealer)",
        request=None,
        responses={200: ComplaintStepSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        step = services.step_acknowledge(actor=request.user, step=self.get_object())
        return Response(ComplaintStepSerializer(step).data)


class EscalationViewSet(
    ScopedByActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Escalations the user may see; the holder of the level's role decides."""

    queryset = Escalation.objects.select_related("complaint").order_by("-raised_at", "-id")
    serializer_class = ComplaintEscalationSerializer
    action_verbs = {"decide": "view"}

    def required_permission(self):
        return (
            "complaints.decide_complaint"
            if self.action == "decide"
            else "complaints.view_complaint"
        )

    def get_queryset(self):
        queryset = self.queryset.filter(
            complaint__in=Complaint.objects.restrict(self.request.user, "view")
        )
        if self.action == "list" and self.request.query_params.get("open") in ("1", "true"):
            queryset = queryset.filter(decided_at__isnull=True)
        return queryset

    @extend_schema(
        summary="Escalations the user may see",
        parameters=[OpenApiParameter("open", OpenApiTypes.BOOL, description="Undecided only.")],
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="One escalation")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Decide: the plan and the goodwill approved",
        request=ComplaintDecideSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: ComplaintEscalationSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        escalation = self.get_object()
        data = _valid(ComplaintDecideSerializer, request)
        result, _acted = once(
            user=request.user,
            scope=f"complaints.decide:{escalation.pk}",
            key=request_key(request),
            action=lambda: services.escalation_decide(
                actor=request.user, escalation=escalation, **data
            ),
            model=Escalation,
        )
        return Response(ComplaintEscalationSerializer(result).data)


class FollowUpViewSet(
    ScopedByActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Satisfaction follow-ups after closure."""

    queryset = ComplaintFollowUp.objects.select_related("complaint").order_by("due_at", "id")
    serializer_class = ComplaintFollowUpSerializer

    def required_permission(self):
        return (
            "complaints.judge_complaint" if self.action == "record" else "complaints.view_complaint"
        )

    def get_queryset(self):
        verb = "judge" if self.action == "record" else "view"
        queryset = self.queryset.filter(
            complaint__in=Complaint.objects.restrict(self.request.user, verb)
        )
        if self.action == "list" and self.request.query_params.get("open") in ("1", "true"):
            queryset = queryset.filter(done_at__isnull=True)
        return queryset

    @extend_schema(
        summary="Follow-ups the user may see",
        parameters=[OpenApiParameter("open", OpenApiTypes.BOOL, description="Not done only.")],
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="One follow-up")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Record the call: reached (score 1-5), not reached, declined",
        request=ComplaintFollowUpRecordSerializer,
        parameters=[IDEMPOTENCY],
        responses={200: ComplaintFollowUpSerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def record(self, request, pk=None):
        follow_up = self.get_object()
        data = _valid(ComplaintFollowUpRecordSerializer, request)
        result, _acted = once(
            user=request.user,
            scope=f"complaints.follow-up:{follow_up.pk}:{follow_up.attempts}",
            key=request_key(request),
            action=lambda: services.follow_up_record(
                actor=request.user, follow_up=follow_up, **data
            ),
            model=ComplaintFollowUp,
        )
        return Response(ComplaintFollowUpSerializer(result).data)


# ---------------------------------------------------------------- legal cases


class ComplaintCaseSerializer(serializers.ModelSerializer):
    complaints = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    staff = serializers.SlugRelatedField(many=True, read_only=True, slug_field="username")

    class Meta:
        model = LegalCase
        fields = [
            "id",
            "number",
            "kind",
            "status",
            "title",
            "description",
            "body",
            "complaints",
            "staff",
            "opened_on",
            "hearing_on",
            "closed_on",
            "outcome",
        ]


class ComplaintCaseWriteSerializer(serializers.Serializer):
    kind = serializers.CharField(required=False, help_text="arbitration, lawsuit or crisis")
    title = serializers.CharField(required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    body = serializers.CharField(required=False, allow_blank=True, default="")
    complaints = serializers.ListField(child=serializers.IntegerField(), required=False)
    staff = serializers.ListField(child=serializers.IntegerField(), required=False)
    opened_on = serializers.DateField(required=False, allow_null=True, default=None)
    hearing_on = serializers.DateField(required=False, allow_null=True, default=None)
    closed_on = serializers.DateField(required=False, allow_null=True, default=None)
    outcome = serializers.CharField(required=False, allow_blank=True, default="")


class CaseViewSet(
    ScopedByActionMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Arbitrations, lawsuits and public-opinion crises (OEM level)."""

    queryset = LegalCase.objects.prefetch_related("complaints", "staff").order_by(
        "-opened_on", "-id"
    )
    serializer_class = ComplaintCaseSerializer
    action_verbs = {"create": "add", "partial_update": "change"}

    @extend_schema(summary="Arbitrations, lawsuits and crises")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="One case")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    def _people(self, ids):
        from aftersales.org.models import User

        return list(User.objects.filter(pk__in=ids or [], is_active=True))

    @extend_schema(
        summary="Record a case with its complaints and staff",
        request=ComplaintCaseWriteSerializer,
        parameters=[IDEMPOTENCY],
        responses={201: ComplaintCaseSerializer, **WRITE},
    )
    def create(self, request):
        data = _valid(ComplaintCaseWriteSerializer, request)
        complaints = [_visible(Complaint, request, pk) for pk in data.get("complaints") or []]
        case, _acted = once(
            user=request.user,
            scope="complaints.case",
            key=request_key(request),
            action=lambda: services.case_open(
                actor=request.user,
                kind=data.get("kind") or "",
                title=data["title"],
                complaints=complaints,
                opened_on=data["opened_on"],
                staff=self._people(data.get("staff")),
                body=data["body"],
                description=data["description"],
            ),
            model=LegalCase,
        )
        return Response(ComplaintCaseSerializer(case).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Update a case: next date, outcome, closing, staff",
        request=ComplaintCaseWriteSerializer,
        responses={200: ComplaintCaseSerializer, **WRITE},
    )
    def partial_update(self, request, pk=None):
        case = self.get_object()
        data = _valid(ComplaintCaseWriteSerializer, request)
        staff = self._people(data["staff"]) if "staff" in data else None
        case = services.case_update(
            actor=request.user,
            case=case,
            hearing_on=data["hearing_on"],
            outcome=data["outcome"],
            closed_on=data["closed_on"],
            staff=staff,
        )
        return Response(ComplaintCaseSerializer(case).data)


# ---------------------------------------------------------------- settings


class ComplaintSettingsSerializer(serializers.ModelSerializer):
    goodwill_matrix = serializers.SerializerMethodField()

    class Meta:
        model = ComplaintSettings
        fields = [
            "urgent_days",
            "general_days",
            "major_days",
            "warn_at",
            "vrt_days",
            "plan_days",
            "pause_allowed",
            "follow_up_days",
            "assessment_weights",
            "goodwill_matrix",
        ]

    def get_goodwill_matrix(self, obj) -> list[dict]:
        return [
            {
                "level": lv.level,
                "min_amount": str(lv.min_amount),
                "max_amount": None if lv.max_amount is None else str(lv.max_amount),
                "role": lv.role,
            }
            for lv in GoodwillLevel.objects.order_by("min_amount")
        ]


class ComplaintSettingsWriteSerializer(serializers.Serializer):
    urgent_days = serializers.IntegerField(required=False)
    general_days = serializers.IntegerField(required=False)
    major_days = serializers.IntegerField(required=False)
    warn_at = serializers.ListField(child=serializers.IntegerField(), required=False)
    vrt_days = serializers.IntegerField(required=False)
    plan_days = serializers.IntegerField(required=False)
    pause_allowed = serializers.BooleanField(required=False)
    follow_up_days = serializers.IntegerField(required=False)
    assessment_weights = serializers.DictField(child=serializers.IntegerField(), required=False)
    goodwill_matrix = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text='[{"max_amount": "2000", "role": "service_manager"}, …, {"max_amount": null, '
        '"role": "oem_admin"}]',
    )


class SettingsViewSet(ScopedByActionMixin, viewsets.GenericViewSet):
    """The OEM's complaint rules: time limits, warnings, pause, weights, goodwill matrix."""

    queryset = ComplaintSettings.objects.all()
    serializer_class = ComplaintSettingsSerializer
    action_verbs = {"current": "view", "change": "change"}

    def required_permission(self):
        verb = "change" if self.request.method not in ("GET", "HEAD", "OPTIONS") else "view"
        return f"complaints.{verb}_complaintsettings"

    @extend_schema(summary="The complaint rules", responses={200: ComplaintSettingsSerializer})
    @action(detail=False, methods=["get"], url_path="current")
    def current(self, request):
        return Response(ComplaintSettingsSerializer(ComplaintSettings.current()).data)

    @extend_schema(
        summary="Change the complaint rules (and replace the goodwill matrix when sent)",
        request=ComplaintSettingsWriteSerializer,
        responses={200: ComplaintSettingsSerializer, **WRITE},
    )
    @current.mapping.patch
    def change(self, request):
        from django.db import transaction

        data = dict(_valid(ComplaintSettingsWriteSerializer, request))
        matrix = data.pop("goodwill_matrix", None)
        with transaction.atomic():
            row = services.settings_update(actor=request.user, **data)
            if matrix is not None:
                services.goodwill_matrix_set(actor=request.user, levels=matrix)
        return Response(ComplaintSettingsSerializer(row).data)


def register(router):
    router.register("complaints/steps", StepViewSet, basename="complaint-step")
    router.register("complaints/escalations", EscalationViewSet, basename="complaint-escalation")
    router.register("complaints/follow-ups", FollowUpViewSet, basename="complaint-follow-up")
    router.register("complaints/cases", CaseViewSet, basename="complaint-case")
    router.register("complaints/settings", SettingsViewSet, basename="complaint-settings")
    router.register("complaints", ComplaintViewSet, basename="complaint")
