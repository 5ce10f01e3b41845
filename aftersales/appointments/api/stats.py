"""Booking statistics API (/api/appointments/stats/): the figures of the reader's scope."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from aftersales.appointments.models import Booking
from aftersales.appointments.stats import booking_stats
from aftersales.appointments.views_stats import stats_params
from aftersales.core.drf import ActionPermission

RATE_ROW = {
    "available_hours": serializers.FloatField(
        help_text="Hours there were (bays open, technicians on shift)."
    ),
    "booked_hours": serializers.FloatField(
        help_text="Hours of requested, confirmed and checked-in bookings."
    ),
    "utilisation": serializers.FloatField(allow_null=True, help_text="booked ÷ available, %"),
    "planned_hours": serializers.FloatField(help_text="Hours on the day plans."),
    "planned_utilisation": serializers.FloatField(
        allow_null=True, help_text="planned ÷ available, %"
    ),
}


class StatsViewSet(viewsets.GenericViewSet):
    permission_classes = [ActionPermission]
    queryset = Booking.objects.none()

    def required_permission(self) -> str:
        return "appointments.view_booking"

    @extend_schema(
        summary="Booking statistics of the dealers the user may see",
        description=(
            "Bookings by channel, show rate (checked in ÷ (checked in + no-shows)), no-show "
            "and cancellation rates, average lead time (booking made → booked time) and "
            "capacity utilisation per bay kind, technician and dealer, for the bookings "
            "booked for first..last. Rates are percentages; null when nothing to divide."
        ),
        parameters=[
            OpenApiParameter("first", OpenApiTypes.DATE, description="Default: 29 days ago."),
            OpenApiParameter("last", OpenApiTypes.DATE, description="Default: today + 14 days."),
            OpenApiParameter("dealer", OpenApiTypes.INT),
            OpenApiParameter("region", OpenApiTypes.INT),
        ],
        responses={
            200: inline_serializer(
                "BookingStats",
                {
                    "first": serializers.DateField(),
                    "last": serializers.DateField(),
                    "bookings": serializers.IntegerField(),
                    "checked_in": serializers.IntegerField(),
                    "no_shows": serializers.IntegerField(),
                    "cancelled": serializers.IntegerField(),
                    "open": serializers.IntegerField(),
                    "show_rate": serializers.FloatField(allow_null=True),
                    "no_show_rate": serializers.FloatField(allow_null=True),
                    "cancel_rate": serializers.FloatField(allow_null=True),
                    "lead_time_hours": serializers.FloatField(allow_null=True),
                    "booked_hours": serializers.FloatField(),
                    "available_hours": serializers.FloatField(),
                    "utilisation": serializers.FloatField(allow_null=True),
                    "by_channel": inline_serializer(
                        "BookingStatsChannel",
                        {
                            "channel": serializers.CharField(),
                            "label": serializers.CharField(),
                            "bookings": serializers.IntegerField(),
                            "share": serializers.FloatField(allow_null=True),
                        },
                        many=True,
                    ),
                    "per_bay_kind": inline_serializer(
                        "BookingStatsBayKind",
                        {
                            "bay_kind": serializers.CharField(),
                            "label": serializers.CharField(),
                            **RATE_ROW,
                        },
                        many=True,
                    ),
                    "per_technician": inline_serializer(
                        "BookingStatsTechnician",
                        {
                            "technician": serializers.IntegerField(),
                            "name": serializers.CharField(),
                            **RATE_ROW,
                        },
                        many=True,
                    ),
                    "per_dealer": inline_serializer(
                        "BookingStatsDealer",
                        {
                            "dealer": serializers.CharField(),
                            "name": serializers.CharField(),
                            "bookings": serializers.IntegerField(),
                            "checked_in": serializers.IntegerField(),
                            "no_shows": serializers.IntegerField(),
                            "cancelled": serializers.IntegerField(),
                            "show_rate": serializers.FloatField(allow_null=True),
                            "no_show_rate": serializers.FloatField(allow_null=True),
                            "cancel_rate": serializers.FloatField(allow_null=True),
                            "lead_time_hours": serializers.FloatField(allow_null=True),
                            "available_hours": serializers.FloatField(),
                            "booked_hours": serializers.FloatField(),
                            "utilisation": serializers.FloatField(allow_null=True),
                        },
                        many=True,
                    ),
                },
            )
        },
    )
    def list(self, request):
        first, last, dealer, region, _dealers = stats_params(request)
        stats = booking_stats(
            user=request.user, first=first, last=last, dealer=dealer, region=region
        )
        stats["first"], stats["last"] = first.isoformat(), last.isoformat()
        return Response(stats)


def register(router):
    router.register("appointments/stats", StatsViewSet, basename="booking-stats")
