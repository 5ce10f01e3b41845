"""Recalls in the API: the list and one recall with its progress, and recall work done on a
vehicle recorded by hand (``POST /api/reminder-recalls/<id>/work/``), as on the recall's
page."""

from django.db.models import Count, Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aftersales.core.api import ERROR, validated
from aftersales.core.drf import ScopedByActionMixin
from aftersales.reminders import recalls
from aftersales.reminders.models import Recall


class RecallSerializer(serializers.ModelSerializer):
    vehicles_total = serializers.IntegerField(read_only=True, help_text="Vehicles on the list.")
    vehicles_done = serializers.IntegerField(
        read_only=True, help_text="Vehicles whose recall work is done."
    )

    class Meta:
        model = Recall
        fields = ["id", "code", "title", "remedy", "starts_on", "operation", "vehicles_total"]
        fields += ["vehicles_done"]
        read_only_fields = fields


class RecallWorkSerializer(serializers.Serializer):
    vin = serializers.CharField(min_length=17, max_length=17)
    done_on = serializers.DateField()
    order = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=40,
        help_text="The repair order's number; without one only the OEM may record the work.",
    )


class RecallWorkDoneSerializer(serializers.Serializer):
    recall = serializers.IntegerField(source="recall_id")
    vin = serializers.CharField(source="vehicle.vin")
    done_on = serializers.DateField()
    order = serializers.CharField(source="done_order.number", allow_null=True, default=None)


class RecallViewSet(
    ScopedByActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The OEM's recalls and how far the work on their vehicles has come."""

    queryset = Recall.objects.annotate(
        vehicles_total=Count("vehicles"),
        vehicles_done=Count("vehicles", filter=Q(vehicles__done_on__isnull=False)),
    ).order_by("-starts_on", "code")
    serializer_class = RecallSerializer
    action_verbs = {"work": "change"}

    @extend_schema(
        summary="Record recall work done on a vehicle by hand",
        description="For work the system did not see (done before the recall was loaded, or "
        "on an order without the recall's labour operation). A dealer's advisor names a "
        "repair order of their dealer; the OEM may record it without one. A retry with the "
        "same data changes nothing.",
        request=RecallWorkSerializer,
        responses={200: RecallWorkDoneSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
    )
    @action(detail=True, methods=["post"])
    def work(self, request, pk=None):
        data = validated(RecallWorkSerializer, request.data)
        row = recalls.recall_work_record(
            actor=request.user,
            recall=self.get_object(),
            vin=data["vin"],
            done_on=data["done_on"],
            order_number=data["order"],
        )
        return Response(RecallWorkDoneSerializer(row).data)


def register(router):
    router.register("reminder-recalls", RecallViewSet, basename="reminder-recall")
