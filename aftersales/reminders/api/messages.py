"""Customer message API: the OEM's message templates (/api/message-templates/: per event,
channel and language; a template missing one of its event's variables or using an unknown
one is refused with the reason) and the messages sent about reminders
(/api/reminder-messages/?reminder=<id>: channel, status, why not sent, provider id)."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from aftersales.core.api import ERROR, IDEMPOTENCY, validated
from aftersales.core.contact import (
    TEMPLATE_FIELDS,
    events,
    message_template_delete,
    message_template_save,
)
from aftersales.core.drf import ScopedByActionMixin
from aftersales.core.errors import ValidationFailed
from aftersales.core.idempotency import once, request_key
from aftersales.core.models import MessageTemplate
from aftersales.reminders.models import ReminderMessage

INVALID = OpenApiResponse(ERROR, description="Invalid input; `fields` says what is wrong.")
WRITE = {400: INVALID, 403: ERROR, 404: ERROR, 409: ERROR}


class ChannelsMessageTemplateSerializer(serializers.ModelSerializer):
    event_label = serializers.SerializerMethodField()
    variables = serializers.SerializerMethodField()
    wechat_fields = serializers.DictField(child=serializers.CharField(), required=False)
    # plain strings (checked by the service, which names the reason): no clashing enums
    channel = serializers.CharField(help_text="wechat or sms")
    language = serializers.CharField(help_text="zh-hans or en")

    class Meta:
        model = MessageTemplate
        fields = ["id", "event_label", "variables", *TEMPLATE_FIELDS, "updated_at"]
        read_only_fields = ["updated_at"]
        validators = []  # one per event/channel/language: the service says so (409)

    def get_event_label(self, template) -> str:
        event = events().get(template.event)
        return str(event.label) if event else template.event

    def get_variables(self, template) -> list[str]:
        event = events().get(template.event)
        return list(event.variables) if event else []


class ChannelsEventSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    variables = serializers.ListField(child=serializers.CharField())
    marketing = serializers.BooleanField()


class ChannelsReminderMessageSerializer(serializers.ModelSerializer):
    channel = serializers.CharField(read_only=True, help_text="wechat or sms")
    status = serializers.CharField(read_only=True, help_text="queued, sent, failed, skipped")
    skip_reason = serializers.CharField(read_only=True)
    channel_label = serializers.CharField(source="get_channel_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    skip_reason_label = serializers.CharField(source="get_skip_reason_display", read_only=True)
    next_attempt_at = serializers.DateTimeField(
        source="outbox.next_attempt_at", read_only=True, allow_null=True, default=None
    )
    attempts = serializers.IntegerField(source="outbox.attempts", read_only=True, default=0)

    class Meta:
        model = ReminderMessage
        fields = [
            "id",
            "reminder",
            "channel",
            "channel_label",
            "status",
            "status_label",
            "skip_reason",
            "skip_reason_label",
            "provider_msgid",
            "created_at",
            "sent_at",
            "next_attempt_at",
            "attempts",
            "error",
        ]


def _valid(request, *, partial=False):
    data = validated(ChannelsMessageTemplateSerializer, request.data, partial=partial)
    return {k: v for k, v in data.items() if k in TEMPLATE_FIELDS}


class MessageTemplateViewSet(
    ScopedByActionMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The OEM's customer message templates."""

    queryset = MessageTemplate.objects.order_by("event", "channel", "language")
    serializer_class = ChannelsMessageTemplateSerializer
    action_verbs = {"create": "add", "destroy": "delete"}

    def get_queryset(self):
        queryset = super().get_queryset()
        event = self.request.query_params.get("event")
        return queryset.filter(event=event) if event and self.action == "list" else queryset

    @extend_schema(
        summary="Message templates",
        parameters=[OpenApiParameter("event", OpenApiTypes.STR)],
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="One message template")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Add a message template",
        parameters=[IDEMPOTENCY],
        responses={201: ChannelsMessageTemplateSerializer, **WRITE},
    )
    def create(self, request):
        values = _valid(request)
        template, _acted = once(
            user=request.user,
            scope="message-template-create",
            key=request_key(request),
            action=lambda: message_template_save(actor=request.user, **values),
            model=MessageTemplate,
        )
        return Response(self.get_serializer(template).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a message template",
        responses={200: ChannelsMessageTemplateSerializer, **WRITE},
    )
    def partial_update(self, request, pk=None):
        template = self.get_object()
        values = _valid(request, partial=True)
        template = message_template_save(actor=request.user, template=template, **values)
        return Response(self.get_serializer(template).data)

    @extend_schema(summary="Delete a message template", responses={204: None, 403: ERROR})
    def destroy(self, request, pk=None):
        message_template_delete(actor=request.user, template=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class EventViewSet(viewsets.ViewSet):
    """The message events templates can be written for, with their variables."""

    permission_classes = MessageTemplateViewSet.permission_classes
    queryset = MessageTemplate.objects.none()

    def required_permission(self) -> str:
        return "core.view_messagetemplate"

    @extend_schema(
        summary="Message events and their variables", responses=ChannelsEventSerializer(many=True)
    )
    def list(self, request):
        rows = [
            {
                "name": event.name,
                "label": str(event.label),
                "variables": list(event.variables),
                "marketing": event.marketing,
            }
            for event in sorted(events().values(), key=lambda e: e.name)
        ]
        return Response(ChannelsEventSerializer(rows, many=True).data)


class ReminderMessageViewSet(
    ScopedByActionMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The WeChat and text messages sent to owners about their reminders."""

    queryset = ReminderMessage.objects.select_related("outbox").order_by("id")
    serializer_class = ChannelsReminderMessageSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action != "list":
            return queryset
        params = self.request.query_params
        reminder = params.get("reminder", "")
        if reminder:
            if not reminder.isdigit():
                raise ValidationFailed(fields={"reminder": [_("Enter a reminder id.")]})
            queryset = queryset.filter(reminder_id=int(reminder))
        for name in ("status", "channel"):
            if params.get(name):
                queryset = queryset.filter(**{f"{name}__in": params[name].split(",")})
        return queryset

    @extend_schema(
        summary="Messages about reminders",
        parameters=[
            OpenApiParameter("reminder", OpenApiTypes.INT),
            OpenApiParameter(
                "status", OpenApiTypes.STR, description="queued, sent, failed, skipped"
            ),
            OpenApiParameter("channel", OpenApiTypes.STR, description="wechat, sms"),
        ],
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="One message about a reminder")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)


def register(router):
    router.register("message-templates", MessageTemplateViewSet, basename="message-template")
    router.register("message-events", EventViewSet, basename="message-event")
    router.register("reminder-messages", ReminderMessageViewSet, basename="reminder-message")
