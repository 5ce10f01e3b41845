"""Reminder statistics API (/api/reminder-statistics/...): the figures of the statistics
page and its customer lists, for holders of ``reminders.export_reminder``, scoped to
what they may export. Every action takes the same filters; a dealer or region outside the
user's scope answers 404."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from aftersales.core.drf import Pagination
from aftersales.core.reporting import ReportViewSet
from aftersales.reminders import reports
from aftersales.reminders.choices import ReminderKind, ReminderStatus
from aftersales.reminders.models import Reminder

KIND_HELP = "The reminder kind: " + ", ".join(ReminderKind.values) + "."
RATE = {"max_digits": 5, "decimal_places": 1, "coerce_to_string": True, "allow_null": True}


class StatsFiltersSerializer(serializers.Serializer):
    month_from = serializers.RegexField(
        r"^\d{4}-\d{2}$",
        required=False,
        help_text="First month (YYYY-MM, included). Without either month: the last 12 months.",
    )
    month_to = serializers.RegexField(
        r"^\d{4}-\d{2}$", required=False, help_text="Last month (YYYY-MM, included)."
    )
    region = serializers.IntegerField(required=False, help_text="A region's id.")
    dealer = serializers.IntegerField(required=False, help_text="A dealer's id.")
    kind = serializers.ChoiceField(choices=ReminderKind.choices, required=False)


class StatsListFiltersSerializer(StatsFiltersSerializer):
    list = serializers.ChoiceField(
        choices=list(reports.LISTS),
        required=False,
        default="not_reminded",
        help_text="not_reminded: due and not reminded on any channel; not_followed_up: "
        "registered owners whose reminder is still open; not_returned: the return window "
        "closed without a repair order.",
    )


class StatsFiguresSerializer(serializers.Serializer):
    due = serializers.IntegerField(help_text="Reminders due in the months.")
    registered = serializers.IntegerField(help_text="Of them, owners registered on WeChat.")
    unregistered = serializers.IntegerField()
    wechat = serializers.IntegerField(help_text="With a WeChat message sent.")
    sms = serializers.IntegerField(help_text="With an SMS sent.")
    phone = serializers.IntegerField(help_text="Reached by phone (reminded, declined, booked).")
    reminded = serializers.IntegerField(help_text="Reached on at least one channel.")
    not_reminded = serializers.IntegerField()
    called = serializers.IntegerField(help_text="With a call outcome recorded.")
    followed_up = serializers.IntegerField(
        help_text="Registered owners' reminders with a call outcome recorded."
    )
    not_followed_up = serializers.IntegerField()
    booked = serializers.IntegerField()
    returned = serializers.IntegerField(help_text="With a returning repair order.")
    not_returned = serializers.IntegerField(help_text="Window closed, no returning order.")
    awaiting_return = serializers.IntegerField(help_text="Not returned, window still open.")
    reminded_rate = serializers.DecimalField(help_text="reminded ÷ due, %", **RATE)
    followed_up_rate = serializers.DecimalField(help_text="followed up ÷ registered, %", **RATE)
    return_rate = serializers.DecimalField(help_text="returned ÷ due, %", **RATE)


class StatsUnitSerializer(StatsFiguresSerializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    label = serializers.CharField()


class StatsDealerSerializer(StatsUnitSerializer):
    region = serializers.CharField()


class StatsMonthSerializer(StatsFiguresSerializer):
    month = serializers.CharField(help_text="YYYY-MM")


class StatsKindSerializer(StatsFiguresSerializer):
    kind = serializers.CharField(help_text=KIND_HELP)
    label = serializers.CharField()


class StatsSummarySerializer(serializers.Serializer):
    month_from = serializers.CharField()
    month_to = serializers.CharField()
    as_of = serializers.DateTimeField(
        allow_null=True, help_text="When the oldest figure shown was refreshed."
    )
    nation = serializers.BooleanField(help_text="The totals are the whole nation's.")
    totals = StatsFiguresSerializer()
    by_region = StatsUnitSerializer(many=True)
    by_month = StatsMonthSerializer(many=True)
    by_kind = StatsKindSerializer(many=True)


class StatsDealersSerializer(serializers.Serializer):
    results = StatsDealerSerializer(many=True)


class StatsCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The reminder's id.")
    dealer_id = serializers.IntegerField()
    dealer = serializers.CharField()
    dealer_name = serializers.CharField()
    customer_id = serializers.IntegerField()
    customer = serializers.CharField()
    mobile = serializers.CharField(
        help_text="Masked (138****1234) unless the user may call the dealer's customers."
    )
    vehicle_id = serializers.IntegerField()
    vin = serializers.CharField()
    plate = serializers.CharField()
    kind = serializers.CharField(help_text=KIND_HELP)
    kind_label = serializers.CharField()
    month = serializers.CharField()
    due_date = serializers.DateField()
    registered = serializers.BooleanField()
    status = serializers.CharField(
        help_text="The DCRC status: " + ", ".join(ReminderStatus.values) + "."
    )
    status_label = serializers.CharField()
    attempts = serializers.IntegerField()
    last_call_at = serializers.DateTimeField(allow_null=True)
    return_by = serializers.DateField()


class CappedPagination(Pagination):
    """Page numbers over a list counted up to ``reports.LIST_COUNT_CAP`` rows; ``capped``
    says the list holds more than ``count``."""

    django_paginator_class = reports.CappedPaginator

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        return Response(
            {
                "count": min(paginator.count, paginator.cap),
                "capped": paginator.capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["capped"] = {
            "type": "boolean",
            "description": "More rows than count (the count stops there).",
        }
        return response


class ReminderStatisticsViewSet(ReportViewSet):
    """The reminder statistics of the user's scope."""

    reports = reports
    queryset = Reminder.objects.none()
    serializer_class = StatsFiltersSerializer
    pagination_class = CappedPagination

    @extend_schema(
        summary="Reminder figures: totals, by region, month and kind",
        description=(
            "Reminders due, reminded (WeChat sent, SMS sent, reached by phone), followed up "
            "(registered owners with a call outcome), booked and returned, with the rates "
            "(reminded ÷ due, followed up ÷ registered, returned ÷ due), from the reminder "
            "statistics table (``as_of`` says when it was refreshed)."
        ),
        parameters=[StatsFiltersSerializer],
        responses=StatsSummarySerializer,
    )
    @action(detail=False, methods=["get"])
    def summary(self, request):
        filters, _data = self._filters()
        data = reports.figures(request.user, filters)
        data["month_from"] = filters.month_from.strftime("%Y-%m")
        data["month_to"] = filters.month_to.strftime("%Y-%m")
        return Response(StatsSummarySerializer(data).data)

    @extend_schema(
        summary="Reminder figures per dealer",
        description="The figures of every dealer of the user's scope (dealers without "
        "reminders included, with zeros).",
        parameters=[StatsFiltersSerializer],
        responses=StatsDealersSerializer,
    )
    @action(detail=False, methods=["get"])
    def dealers(self, request):
        filters, _data = self._filters()
        rows = reports.figures(request.user, filters)["by_dealer"]
        return Response(StatsDealersSerializer({"results": rows}).data)

    @extend_schema(
        summary="Customers not reminded, not followed up or not returned",
        description="One customer list (``list``), live from the reminders, month by month "
        "in due-date order; paginated (page, page_size), counted up to "
        f"{reports.LIST_COUNT_CAP:,} rows.",
        parameters=[StatsListFiltersSerializer],
        responses=StatsCustomerSerializer(many=True),
    )
    @action(detail=False, methods=["get"])
    def customers(self, request):
        filters, data = self._filters(StatsListFiltersSerializer)
        ids = reports.list_reminders(request.user, filters, data["list"]).values_list(
            "id", flat=True
        )
        page = reports.with_people(self.paginate_queryset(ids))
        may_call = reports.contact_allowed(request.user)
        lines = [reports.list_row(r, full_mobile=may_call(r.dealer_id)) for r in page]
        return self.get_paginated_response(StatsCustomerSerializer(lines, many=True).data)


def register(router):
    router.register("reminder-statistics", ReminderStatisticsViewSet, basename="reminder-stats")
