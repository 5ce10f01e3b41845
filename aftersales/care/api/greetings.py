"""Greeting API (/api/care/holidays/, /api/care/greeting-settings/): the holiday greetings
the user may see (national ones and their dealer's), planning and cancelling one, and the
birthday-greeting settings (the OEM's and the dealers'). Writes accept an
``Idempotency-Key``."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aftersales.care import services
from aftersales.care.api.coupons import WRITE, _valid, _visible
from aftersales.care.choices import CouponKind, HolidayStatus
from aftersales.care.models import GreetingSettings, HolidayGreeting
from aftersales.core.api import IDEMPOTENCY
from aftersales.core.drf import ScopedByActionMixin
from aftersales.core.idempotency import once, request_key

KINDS = "empty (no coupon), " + ", ".join(v for v in CouponKind.values if v)
TEMPLATE_FIELDS = [
    "coupon_kind",
    "coupon_amount",
    "coupon_percent",
    "coupon_min_spend",
    "coupon_valid_days",
]


class CareHolidaySerializer(serializers.ModelSerializer):
    dealer_code = serializers.CharField(source="dealer.code", read_only=True, default=None)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    status = serializers.CharField(read_only=True, help_text=", ".join(HolidayStatus.values))
    coupon_kind = serializers.CharField(read_only=True, help_text=KINDS)

    class Meta:
        model = HolidayGreeting
        fields = [
            "id",
            "name",
            "date",
            "text",
            "dealer",
            "dealer_code",
            "status",
            "status_label",
            *TEMPLATE_FIELDS,
            "sent_count",
            "coupon_count",
            "sent_at",
        ]


class CareHolidayCreateSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True)
    date = serializers.DateField()
    text = serializers.CharField(allow_blank=True)
    dealer = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Empty: national."
    )
    coupon_kind = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=KINDS
    )
    coupon_amount = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    coupon_percent = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    coupon_min_spend = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    coupon_valid_days = serializers.IntegerField(required=False, default=30)


class CareGreetingSettingsSerializer(serializers.ModelSerializer):
    dealer_code = serializers.CharField(source="dealer.code", read_only=True, default=None)
    coupon_kind = serializers.CharField(read_only=True, help_text=KINDS)

    class Meta:
        model = GreetingSettings
        fields = ["id", "dealer", "dealer_code", "birthday_enabled", *TEMPLATE_FIELDS, "updated_at"]


class HolidayViewSet(
    ScopedByActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Holiday greetings: national and the user's dealers'."""

    queryset = HolidayGreeting.objects.select_related("dealer").order_by("-date", "-id")
    serializer_class = CareHolidaySerializer
    action_verbs = {"create": "add", "cancel": "change"}

    def _out(self, pk, code=status.HTTP_200_OK):
        return Response(CareHolidaySerializer(self.queryset.get(pk=pk)).data, status=code)

    @extend_schema(
        summary="Plan a holiday greeting (national, or for one dealer's customers)",
        request=CareHolidayCreateSerializer,
        parameters=[IDEMPOTENCY],
        responses={201: CareHolidaySerializer, **WRITE},
    )
    def create(self, request):
        from aftersales.org.models import Dealer

        data = _valid(CareHolidayCreateSerializer, request)
        dealer = _visible(Dealer, request, data.pop("dealer"))
        holiday, _acted = once(
            user=request.user,
            scope="care.holiday.create",
            key=request_key(request),
            action=lambda: services.holiday_create(actor=request.user, dealer=dealer, **data),
            model=HolidayGreeting,
        )
        return self._out(holiday.pk, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Cancel a planned holiday greeting",
        request=None,
        parameters=[IDEMPOTENCY],
        responses={200: CareHolidaySerializer, **WRITE},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        holiday = self.get_object()
        once(
            user=request.user,
            scope=f"care.holiday.cancel:{holiday.pk}",
            key=request_key(request),
            action=lambda: services.holiday_cancel(actor=request.user, holiday=holiday),
            model=HolidayGreeting,
        )
        return self._out(holiday.pk)


class GreetingSettingsViewSet(ScopedByActionMixin, viewsets.ReadOnlyModelViewSet):
    """The birthday-greeting settings the user may see (the OEM's, the dealers')."""

    queryset = GreetingSettings.objects.select_related("dealer").order_by("dealer_id", "id")
    serializer_class = CareGreetingSettingsSerializer


def register(router):
    router.register("care/holidays", HolidayViewSet, basename="care-holiday")
    router.register(
        "care/greeting-settings", GreetingSettingsViewSet, basename="care-greeting-settings"
    )
