from django.contrib.contenttypes.models import ContentType
from rest_framework import serializers
from rest_framework.fields import DateTimeField

from aftersales.core.models import AuditLog, OutboxMessage

_DATETIME = DateTimeField()


class AuditLogSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="content_type.model", read_only=True)
    app = serializers.CharField(source="content_type.app_label", read_only=True)

    class Meta:
        model = AuditLog
        fields = [
            "id",
            "at",
            "actor",
            "actor_name",
            "channel",
            "action",
            "app",
            "model",
            "object_id",
            "object_repr",
            "changes",
            "dealer",
        ]

    def to_representation(self, entry):
        # Audit lists are long and read-only: plain attribute reads instead of a field
        # per column (about half the CPU of a 50-row page); same output.
        content_type = ContentType.objects.get_for_id(entry.content_type_id)
        return {
            "id": entry.id,
            "at": _DATETIME.to_representation(entry.at),
            "actor": entry.actor_id,
            "actor_name": entry.actor_name,
            "channel": entry.channel,
            "action": entry.action,
            "app": content_type.app_label,
            "model": content_type.model,
            "object_id": entry.object_id,
            "object_repr": entry.object_repr,
            "changes": entry.changes,
            "dealer": entry.dealer_id,
        }


class OutboxMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutboxMessage
        fields = [
            "id",
            "channel",
            "recipient",
            "subject",
            "status",
            "attempts",
            "next_attempt_at",
            "last_error",
            "created_at",
            "sent_at",
            "dealer",
        ]
