"""Messages to owners about their reminders (SPEC 2-12): after the monthly run every
registered owner gets the reminder as a WeChat template message with a booking link (and a
text message where they chose SMS or have no WeChat), through ``aftersales.core.contact``:
quiet hours delay it, the outbox retries on provider errors. One ``ReminderMessage`` row
per reminder and channel records what became of it; ``reminder_messages_sync`` copies the
outbox's outcome onto it.

Both jobs are idempotent: a re-run queues nothing twice (the unique reminder+channel row
and the outbox's dedup key)."""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import formats, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from aftersales.core.contact import contact_plan, customer_language, customer_send, register_event
from aftersales.core.models import OutboxMessage, OutboxStatus
from aftersales.reminders.choices import ReminderKind, ReminderStatus

log = logging.getLogger(__name__)

SERVICE_EVENT = "reminders.service"

register_event(
    SERVICE_EVENT,
    variables=("customer_name", "plate", "kind", "due_date", "dealer_name"),
    default_text=gettext_noop(
        "{customer_name}, your car {plate} is due for: {kind} around {due_date}. "
        "{dealer_name} is glad to book it for you."
    ),
    marketing=False,
    label=_("Service reminder"),
)
# the booking page's service type for each reminder kind (birthday care links to a service)
SERVICE_TYPE = {
    ReminderKind.FIRST_SERVICE: "maintenance",
    ReminderKind.MAINTENANCE: "maintenance",
    ReminderKind.WARRANTY: "warranty",
    ReminderKind.INSURANCE: "maintenance",
    ReminderKind.INSPECTION: "inspection",
    ReminderKind.BIRTHDAY: "maintenance",
    ReminderKind.CAMPAIGN: "campaign",
    ReminderKind.RECALL: "campaign",
}
# reminders still waiting for the owner: a DCRC outcome (booked, declined …) ends messaging
SENDABLE = (ReminderStatus.OPEN, ReminderStatus.NOT_REACHED)
BATCH = 500


def event_for(reminder) -> str:
    return SERVICE_EVENT


def reminder_link(reminder) -> str:
    from aftersales.appointments.links import booking_link

    path = booking_link(
        dealer=reminder.dealer_id,
        vehicle=reminder.vehicle_id,
        service_type=SERVICE_TYPE.get(reminder.kind, "maintenance"),
    )
    return f"{settings.WECHAT_LINK_BASE}{path}"


def reminder_params(reminder, language: str) -> dict:
    """The event variables of a reminder, written in the customer's language."""
    with translation.override(language):
        kind = str(reminder.get_kind_display())
        if reminder.campaign_id:
            kind = f"{kind}: {reminder.campaign.name}"
        elif reminder.recall_id:
            kind = f"{kind}: {reminder.recall.title}"
        due = formats.date_format(reminder.due_date, "DATE_FORMAT")
    vehicle = reminder.vehicle
    return {
        "customer_name": reminder.customer.name,
        "plate": vehicle.plate or vehicle.vin[-6:],
        "kind": kind,
        "due_date": due,
        "dealer_name": reminder.dealer.name,
    }


def _message_one(reminder, now) -> list:
    from aftersales.reminders.models import (
        ReminderMessage,
        ReminderMessageSkip,
        ReminderMessageStatus,
    )

    customer = reminder.customer
    event = event_for(reminder)
    plan = contact_plan(customer, event)
    if not plan.channels:
        return [
            ReminderMessage(
                reminder=reminder,
                channel="wechat",
                status=ReminderMessageStatus.SKIPPED,
                skip_reason=plan.skip_reason
                if plan.skip_reason in ReminderMessageSkip.values
                else ReminderMessageSkip.NO_CHANNEL,
            )
        ]
    language = customer_language(customer)
    sent = customer_send(
        customer=customer,
        event=event,
        params=reminder_params(reminder, language),
        dealer=reminder.dealer,
        dedup_key=f"reminder:{reminder.pk}",
        link=reminder_link(reminder),
        now=now,
    )
    return [
        ReminderMessage(reminder=reminder, channel=message.channel, outbox=message)
        for message in sent
    ]


def reminder_messages_queue(month: datetime.date, dealer=None, *, now=None) -> dict:
    """Queue the messages of ``month``'s reminders of registered owners that have none yet
    (every dealer or one); returns ``{"queued": n, "skipped": n}``. Idempotent."""
    from aftersales.reminders.models import Reminder, ReminderMessage, ReminderMessageStatus

    month = month.replace(day=1)
    # birthday care is the DCRC's care call; the owner's message is the greeting on the day
    # itself (``aftersales.care``, with its coupon), so the run sends none of its own
    todo = Reminder.objects.filter(
        month=month, registered=True, status__in=SENDABLE, messages__isnull=True
    ).exclude(kind=ReminderKind.BIRTHDAY)
    dealer_id = getattr(dealer, "pk", dealer)
    if dealer_id is not None:
        todo = todo.filter(dealer_id=dealer_id)
    ids = list(todo.order_by("id").values_list("id", flat=True))
    counts = {"queued": 0, "skipped": 0}
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        with transaction.atomic():
            reminders = (
                Reminder.objects.filter(id__in=chunk, messages__isnull=True)
                .select_related("customer", "vehicle", "dealer", "campaign", "recall")
                .order_by("id")
            )
            rows = []
            for reminder in reminders:
                rows += _message_one(reminder, now)
            # a concurrent run may have written some of them: theirs stand, the outbox's
            # dedup key already made both runs share one message
            ReminderMessage.objects.bulk_create(rows, ignore_conflicts=True)
        for row in rows:
            key = "skipped" if row.status == ReminderMessageStatus.SKIPPED else "queued"
            counts[key] += 1
    log.info("reminder messages for %s: %s", month, counts)
    return counts


def reminder_messages_sync(*, limit: int = 10000) -> dict:
    """Copy the outbox's outcome onto the reminder messages: sent (with the provider's
    msgid), failed (given up, or WeChat reported it undelivered). Rows still waiting stay
    queued; a provider outage only delays them. Returns counts by new status."""
    from aftersales.reminders.models import ReminderMessage, ReminderMessageStatus

    counts = {"sent": 0, "failed": 0}
    reported_undelivered = Q(outbox__payload__has_key="delivery") & ~Q(
        outbox__payload__delivery="success"
    )
    rows = (
        ReminderMessage.objects.filter(outbox__status__in=(OutboxStatus.SENT, OutboxStatus.DEAD))
        .filter(
            Q(status=ReminderMessageStatus.QUEUED)
            | (Q(status=ReminderMessageStatus.SENT) & reported_undelivered)
        )
        .select_related("outbox")
        .order_by("id")
    )
    changed = []
    for row in rows[:limit]:
        outbox: OutboxMessage = row.outbox
        payload = outbox.payload or {}
        delivery = str(payload.get("delivery", ""))
        if outbox.status == OutboxStatus.DEAD:
            status, error = ReminderMessageStatus.FAILED, outbox.last_error
        elif delivery and delivery != "success":
            status, error = ReminderMessageStatus.FAILED, f"WeChat: {delivery}"
        else:
            status, error = ReminderMessageStatus.SENT, ""
        msgid = str(payload.get("msgid", "") or row.provider_msgid)
        if (row.status, row.error, row.provider_msgid) == (status, error, msgid):
            continue
        row.status, row.error, row.provider_msgid = status, error, msgid
        row.sent_at = outbox.sent_at if status == ReminderMessageStatus.SENT else row.sent_at
        changed.append(row)
        counts[status] += 1
    ReminderMessage.objects.bulk_update(
        changed, ["status", "error", "provider_msgid", "sent_at"], batch_size=BATCH
    )
    return counts
