"""Access-matrix declarations of the customer message API (see aftersales/testing/matrix.py):
the OEM's message templates (OEM-level records: unscoped) and the messages sent about
reminders (scoped to the reminder's dealer)."""

from aftersales.testing.matrix import Endpoint, declare

_NO_KWARGS = lambda record: {}  # noqa: E731 - a list URL reversed without arguments
SMS_TEXT = "{customer_name} {plate} {kind} {due_date} {dealer_name}"


def _template(dealer):
    from aftersales.core.models import MessageTemplate
    from aftersales.reminders.messages import SERVICE_EVENT

    return MessageTemplate.objects.create(
        event=SERVICE_EVENT, channel="sms", language="zh-hans", text=SMS_TEXT
    )


def _new_template(record):
    return {"event": record.event, "channel": "sms", "language": "en", "text": SMS_TEXT}


def _reminder_message(dealer):
    from aftersales.reminders.models import ReminderMessage
    from aftersales.reminders.testing import make_reminder

    return ReminderMessage.objects.create(
        reminder=make_reminder(dealer, registered=True), channel="wechat", status="skipped"
    )


VIEW_TEMPLATE = "core.view_messagetemplate"

declare(
    Endpoint("api:message-template-list", "api", VIEW_TEMPLATE, make=_template, scoped=False),
    Endpoint(
        "api:message-template-detail",
        "api",
        VIEW_TEMPLATE,
        make=_template,
        detail=True,
        scoped=False,
    ),
    Endpoint(
        "api:message-template-list",
        "api",
        "core.add_messagetemplate",
        make=_template,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=_new_template,
        ok_status=201,
        scoped=False,
    ),
    Endpoint(
        "api:message-template-detail",
        "api",
        "core.change_messagetemplate",
        make=_template,
        detail=True,
        method="patch",
        data=lambda record: {"text": SMS_TEXT + " !"},
        scoped=False,
    ),
    Endpoint(
        "api:message-template-detail",
        "api",
        "core.delete_messagetemplate",
        make=_template,
        detail=True,
        method="delete",
        ok_status=204,
        scoped=False,
    ),
    Endpoint(
        "api:message-event-list",
        "api",
        VIEW_TEMPLATE,
        make=_template,
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,
    ),
    Endpoint(
        "api:reminder-message-list", "api", "reminders.view_remindermessage", make=_reminder_message
    ),
    Endpoint(
        "api:reminder-message-detail",
        "api",
        "reminders.view_remindermessage",
        make=_reminder_message,
        detail=True,
    ),
)
