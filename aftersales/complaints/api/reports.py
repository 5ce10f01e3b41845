"""Complaint reports API (/api/complaints/reports/...): the figures of the report page for
holders of ``complaints.export_complaint``, scoped to what they may export. Every action
takes the same filters; a dealer or region outside the user's scope answers 404."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from aftersales.complaints import reports
from aftersales.complaints.choices import Category, Channel, Grade
from aftersales.complaints.models import Complaint
from aftersales.core.drf import Pagination
from aftersales.core.reporting import ReportViewSet

DAYS = {"max_digits": 9, "decimal_places": 2, "coerce_to_string": True}
RATE = {"max_digits": 5, "decimal_places": 1, "coerce_to_string": True}
MONEY = {"max_digits": 14, "decimal_places": 2, "coerce_to_string": True}


class ReportFiltersSerializer(serializers.Serializer):
    date_from = serializers.DateField(
        required=False, help_text="First day (inclusive). Without any date: 1 January."
    )
    date_to = serializers.DateField(
        required=False, help_text="Last day (inclusive). Without any date: today."
    )
    basis = serializers.ChoiceField(
        choices=reports.BASES,
        required=False,
        help_text="Which date the range applies to: received (all complaints, the default) "
        "or filed (formal complaints only).",
    )
    region = serializers.IntegerField(required=False, help_text="A region's id.")
    dealer = serializers.IntegerField(required=False, help_text="A dealer's id.")
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    category = serializers.ChoiceField(
        choices=Category.choices, required=False, help_text="The complaint type."
    )
    grade = serializers.ChoiceField(choices=Grade.choices, required=False)


class OverdueFiltersSerializer(ReportFiltersSerializer):
    include_due = serializers.BooleanField(
        required=False,
        default=False,
        help_text="List every filed, unclosed complaint with a deadline, not only the "
        "overdue ones.",
    )


class CountRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="Null: not assigned / no vehicle.")
    code = serializers.CharField()
    label = serializers.CharField()
    received = serializers.IntegerField(help_text="All complaints, formal and informal.")
    formal = serializers.IntegerField(help_text="Filed complaints (投诉).")


class ChoiceCountSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    received = serializers.IntegerField()
    formal = serializers.IntegerField()


class FormalCountSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    formal = serializers.IntegerField()


class MonthSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    received = serializers.IntegerField()
    formal = serializers.IntegerField()
    closed = serializers.IntegerField()
    on_time = serializers.IntegerField()
    on_time_rate = serializers.DecimalField(allow_null=True, **RATE)


class TotalsSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    formal = serializers.IntegerField()
    informal = serializers.IntegerField()
    invalid = serializers.IntegerField()
    resolved = serializers.IntegerField()
    to_judge = serializers.IntegerField()
    running = serializers.IntegerField()
    closed = serializers.IntegerField()


class TimeLimitsSerializer(serializers.Serializer):
    closed = serializers.IntegerField()
    on_time = serializers.IntegerField()
    late = serializers.IntegerField()
    on_time_rate = serializers.DecimalField(
        allow_null=True, help_text="closed on time ÷ closed, %", **RATE
    )
    average_days = serializers.DecimalField(
        allow_null=True, help_text="Average handling time, working days.", **DAYS
    )
    p90_days = serializers.DecimalField(
        allow_null=True,
        help_text="90th percentile (continuous) of the handling time, working days.",
        **DAYS,
    )


class SummarySerializer(serializers.Serializer):
    totals = TotalsSerializer()
    by_channel = ChoiceCountSerializer(many=True)
    by_type = FormalCountSerializer(many=True)
    by_grade = FormalCountSerializer(many=True)
    by_region = CountRowSerializer(many=True)
    by_vehicle_model = CountRowSerializer(many=True)
    by_month = MonthSerializer(many=True)
    time_limits = TimeLimitsSerializer()


class DealerCountSerializer(CountRowSerializer):
    region = serializers.CharField()


class DealerCountsSerializer(serializers.Serializer):
    results = DealerCountSerializer(many=True)


class OverdueRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    subject = serializers.CharField()
    status = serializers.CharField()
    category = serializers.CharField()
    grade = serializers.CharField()
    dealer = serializers.CharField()
    dealer_name = serializers.CharField()
    region = serializers.CharField()
    filed_at = serializers.DateTimeField(allow_null=True)
    deadline_at = serializers.DateTimeField()
    overdue = serializers.BooleanField()
    remaining_days = serializers.DecimalField(
        help_text="Working days left before the deadline; negative when overdue.", **DAYS
    )
    over_days = serializers.DecimalField(
        allow_null=True, help_text="Working days past the deadline.", **DAYS
    )
    paused = serializers.BooleanField()
    escalation_level = serializers.IntegerField()


class RepeatCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    complaints = serializers.IntegerField()
    formal = serializers.IntegerField()
    dealers = serializers.IntegerField()
    first_at = serializers.DateTimeField()
    last_at = serializers.DateTimeField()


class RepeatVehicleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    vin = serializers.CharField()
    plate = serializers.CharField()
    model = serializers.CharField()
    complaints = serializers.IntegerField()
    formal = serializers.IntegerField()
    dealers = serializers.IntegerField()
    first_at = serializers.DateTimeField()
    last_at = serializers.DateTimeField()


class RepeatsSerializer(serializers.Serializer):
    customers = RepeatCustomerSerializer(many=True)
    vehicles = RepeatVehicleSerializer(many=True)


class EscalationFiguresSerializer(serializers.Serializer):
    raised = serializers.IntegerField()
    decided = serializers.IntegerField()
    open = serializers.IntegerField()
    amount = serializers.DecimalField(help_text="Goodwill involved (CNY).", **MONEY)
    approved = serializers.DecimalField(help_text="Goodwill approved (CNY).", **MONEY)


class EscalationReasonSerializer(EscalationFiguresSerializer):
    key = serializers.CharField()
    label = serializers.CharField()


class EscalationLevelSerializer(EscalationFiguresSerializer):
    level = serializers.IntegerField()
    label = serializers.CharField()


class EscalationsSerializer(serializers.Serializer):
    totals = EscalationFiguresSerializer()
    by_reason = EscalationReasonSerializer(many=True)
    by_level = EscalationLevelSerializer(many=True)


def _measures(field, **kwargs):
    return {key: field(**kwargs) for key in reports.MEASURES}


WeightsSerializer = type(
    "AssessmentWeightsSerializer",
    (serializers.Serializer,),
    _measures(serializers.DecimalField, max_digits=9, decimal_places=2, coerce_to_string=True),
)
PointsSerializer = type(
    "AssessmentPointsSerializer",
    (serializers.Serializer,),
    _measures(serializers.DecimalField, allow_null=True, **RATE),
)


class AssessmentRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The dealer's id.")
    dealer = serializers.CharField()
    dealer_name = serializers.CharField()
    region = serializers.CharField()
    rank = serializers.IntegerField(allow_null=True)
    complaints = serializers.IntegerField(help_text="Formal complaints of the period.")
    repair_orders = serializers.IntegerField(help_text="Repair orders opened in the period.")
    per_100_ros = serializers.DecimalField(allow_null=True, **DAYS)
    closed = serializers.IntegerField()
    on_time = serializers.IntegerField()
    on_time_rate = serializers.DecimalField(allow_null=True, **RATE)
    average_days = serializers.DecimalField(allow_null=True, **DAYS)
    repeat = serializers.IntegerField()
    repeat_share = serializers.DecimalField(allow_null=True, **RATE)
    escalated = serializers.IntegerField()
    escalated_share = serializers.DecimalField(allow_null=True, **RATE)
    satisfaction = serializers.DecimalField(allow_null=True, **DAYS)
    satisfaction_answers = serializers.IntegerField()
    points = PointsSerializer()
    total = serializers.DecimalField(allow_null=True, help_text="Points out of 100.", **RATE)


class AssessmentSerializer(serializers.Serializer):
    weights = WeightsSerializer()
    results = AssessmentRowSerializer(many=True)


class ComplaintReportViewSet(ReportViewSet):
    """The complaint reports of the user's scope."""

    reports = reports
    queryset = Complaint.objects.none()
    serializer_class = ReportFiltersSerializer
    pagination_class = Pagination

    @extend_schema(
        summary="Complaint counts and time-limit figures",
        description=(
            "Totals; counts by channel, region and vehicle model (received: all complaints; "
            "formal: the filed ones), by type and grade (formal only) and by month; on-time "
            "rate (closed on time ÷ closed) and handling time in working days (average and "
            "continuous 90th percentile) of the closed formal complaints."
        ),
        parameters=[ReportFiltersSerializer],
        responses=SummarySerializer,
    )
    @action(detail=False, methods=["get"])
    def summary(self, request):
        filters, _data = self._filters()
        data = reports.counts(request.user, filters)
        data.pop("by_dealer")
        data["time_limits"] = reports.time_limits(request.user, filters)
        return Response(SummarySerializer(data).data)

    @extend_schema(
        summary="Complaint counts per dealer",
        description="Received and formal complaints per handling dealer (id null: not "
        "assigned to a dealer yet).",
        parameters=[ReportFiltersSerializer],
        responses=DealerCountsSerializer,
    )
    @action(detail=False, methods=["get"])
    def dealers(self, request):
        filters, _data = self._filters()
        rows = reports.counts(request.user, filters)["by_dealer"]
        return Response(DealerCountsSerializer({"results": rows}).data)

    @extend_schema(
        summary="Overdue complaints (now), most overdue first",
        description="Filed, unclosed complaints past their deadline; the date range does "
        "not apply. Paginated (page, page_size).",
        parameters=[OverdueFiltersSerializer],
        responses=OverdueRowSerializer(many=True),
    )
    @action(detail=False, methods=["get"])
    def overdue(self, request):
        filters, data = self._filters(OverdueFiltersSerializer)
        now = timezone.now()
        rows = reports.overdue_complaints(
            request.user, filters, now=now, include_due=data.get("include_due", False)
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(
            OverdueRowSerializer([reports.overdue_row(c, now) for c in page], many=True).data
        )

    @extend_schema(
        summary="Customers and vehicles with two or more complaints in the period",
        description="All complaints of the period except those judged invalid count.",
        parameters=[ReportFiltersSerializer],
        responses=RepeatsSerializer,
    )
    @action(detail=False, methods=["get"])
    def repeats(self, request):
        filters, _data = self._filters()
        return Response(RepeatsSerializer(reports.repeats(request.user, filters)).data)

    @extend_schema(
        summary="Escalations by reason and level, decided and open, goodwill approved",
        description="The escalations raised on the complaints of the period.",
        parameters=[ReportFiltersSerializer],
        responses=EscalationsSerializer,
    )
    @action(detail=False, methods=["get"])
    def escalations(self, request):
        filters, _data = self._filters()
        return Response(EscalationsSerializer(reports.escalations(request.user, filters)).data)

    @extend_schema(
        summary="Dealer assessment for the annual business policy",
        description=(
            "Per dealer: formal complaints, complaints per 100 repair orders, on-time rate, "
            "repeat share, escalated share and average satisfaction; each scored 0-1, "
            "weighted with the complaint settings' assessment weights into points out of "
            "100 (measures that cannot be measured share their weight among the others), "
            "ranked."
        ),
        parameters=[ReportFiltersSerializer],
        responses=AssessmentSerializer,
    )
    @action(detail=False, methods=["get"])
    def assessment(self, request):
        filters, _data = self._filters()
        data = reports.dealer_assessment(request.user, filters)
        return Response(
            AssessmentSerializer({"weights": data["weights"], "results": data["rows"]}).data
        )


def register(router):
    router.register("complaints/reports", ComplaintReportViewSet, basename="complaint-report")
