"""The platform's endpoints in the access test matrix."""

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from aftersales.core import matrix_messages  # noqa: F401  (the message template pages)
from aftersales.core.audit import audit_create
from aftersales.core.models import OutboxMessage
from aftersales.testing.matrix import Endpoint, declare


def _audit_entry(dealer):
    return audit_create(dealer, actor=None)


def _outbox_message(dealer):
    return OutboxMessage.objects.create(
        channel="email",
        recipient="owner@example.com",
        body="hello",
        dealer=dealer,
        next_attempt_at=timezone.now(),
    )


def _history_kwargs(dealer):
    return {"content_type_id": ContentType.objects.get_for_model(dealer).id, "object_id": dealer.pk}


declare(
    Endpoint("api:auditlog-list", "api", "core.view_auditlog", make=_audit_entry),
    Endpoint("api:auditlog-detail", "api", "core.view_auditlog", make=_audit_entry, detail=True),
    Endpoint("api:outboxmessage-list", "api", "core.view_outboxmessage", make=_outbox_message),
    Endpoint(
        "api:outboxmessage-detail",
        "api",
        "core.view_outboxmessage",
        make=_outbox_message,
        detail=True,
    ),
    Endpoint("audit-list", "page", "core.view_auditlog", make=_audit_entry),
    Endpoint(
        "record-history",
        "page",
        "core.view_auditlog",
        make=lambda d: d,
        detail=True,
        url_kwargs=_history_kwargs,
    ),
    Endpoint("outbox-list", "page", "core.view_outboxmessage", make=_outbox_message),
)
