import django_filters

from aftersales.core.api import RestrictedReadOnlyViewSet
from aftersales.core.models import AuditLog, OutboxMessage
from aftersales.core.serializers import AuditLogSerializer, OutboxMessageSerializer


class AuditLogFilter(django_filters.FilterSet):
    app = django_filters.CharFilter(field_name="content_type__app_label")
    model = django_filters.CharFilter(field_name="content_type__model")
    since = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AuditLog
        fields = ["object_id", "action", "channel", "actor", "dealer"]


class AuditLogViewSet(RestrictedReadOnlyViewSet):
    """The audit trail the user may read; filter by app/model/object_id for one record's history."""

    queryset = AuditLog.objects.all()
    serializer_class = AuditLogSerializer
    filterset_class = AuditLogFilter


class OutboxMessageViewSet(RestrictedReadOnlyViewSet):
    """Outgoing messages and their delivery status."""

    queryset = OutboxMessage.objects.all()
    serializer_class = OutboxMessageSerializer
    filterset_fields = ["status", "channel", "dealer"]
