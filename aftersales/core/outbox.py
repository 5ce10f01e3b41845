"""The transactional outbox (ARCHITECTURE rule 5).

``outbox_enqueue`` writes the message in the caller's transaction; ``outbox_drain`` (a job)
claims due rows, hands each to its channel and records the result: sent, or a retry with
exponential back-off, or dead after ``OUTBOX_MAX_ATTEMPTS``. A provider or broker outage
therefore loses nothing, and a message is never sent twice by two runners."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.utils import timezone

from aftersales.core.models import InAppNotification, OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

CHANNELS = {}


def channel(name):
    """Register a delivery function ``send(message: OutboxMessage) -> None`` (raise on failure)."""

    def register(func):
        CHANNELS[name] = func
        return func

    return register


@channel("email")
def _send_email(message):
    EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
    ).send(fail_silently=False)


@channel("console")
def _send_console(message):
    log.info("console message to %s: %s %s", message.recipient, message.subject, message.body)


@channel("inapp")
def _send_inapp(message):
    from aftersales.org.models import User

    user = User.objects.get(pk=int(message.recipient))
    InAppNotification.objects.create(user=user, subject=message.subject, body=message.body)


def outbox_enqueue(*, channel: str, recipient: str, body: str, subject: str = "", dealer=None,
                   payload=None, dedup_key: str | None = None) -> OutboxMessage:
    """Queue a message in the current transaction. With a ``dedup_key`` a second call for
    the same event returns the first message instead of queueing another."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown outbox channel {channel!r}")
    if dedup_key:
        existing = OutboxMessage.objects.filter(dedup_key=dedup_key).first()
        if existing:
            return existing
    message = OutboxMessage.objects.create(
        channel=channel,
        recipient=str(recipient),
        subject=subject,
        body=body,
        dealer=dealer,
        payload=payload or {},
        dedup_key=dedup_key,
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(_kick)
    return message


def _kick():
    # In embedded mode tasks run eagerly; with a broker this queues a drain right away
    # instead of waiting for the next beat tick. Either way failure here loses nothing.
    try:
        from aftersales.core.tasks import drain_outbox

        if not settings.CELERY_TASK_ALWAYS_EAGER:
            drain_outbox.delay()
    except Exception:  # broker down: the periodic drain will pick the message up
        log.warning("could not queue an outbox drain; the schedule will retry", exc_info=True)


def retry_delay(attempts: int) -> timedelta:
    """Back-off after the n-th failed attempt: base × 2^(n-1), capped at one day."""
    return timedelta(seconds=min(settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** (attempts - 1), 86400))


def _claim(batch: int) -> list[int]:
    with transaction.atomic():
        due = OutboxMessage.objects.filter(
            status=OutboxStatus.PENDING, next_attempt_at__lte=timezone.now()
        ).order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("id", flat=True)[:batch])
        OutboxMessage.objects.filter(id__in=ids).update(status=OutboxStatus.SENDING)
    return ids


def outbox_drain(batch: int = 100) -> dict:
    """Deliver due messages. Returns counts by outcome."""
    counts = {"sent": 0, "retry": 0, "dead": 0}
    for message in OutboxMessage.objects.filter(id__in=_claim(batch)).order_by("id"):
        try:
            CHANNELS[message.channel](message)
        except Exception as exc:  # any provider failure is recorded on the row
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                message.status = OutboxStatus.DEAD
                counts["dead"] += 1
            else:
                message.status = OutboxStatus.PENDING
                message.next_attempt_at = timezone.now() + retry_delay(message.attempts)
                counts["retry"] += 1
            message.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
        else:
            message.attempts += 1
            message.status = OutboxStatus.SENT
            message.sent_at = timezone.now()
            message.last_error = ""
            message.save(update_fields=["attempts", "status", "sent_at", "last_error"])
            counts["sent"] += 1
    return counts


def outbox_release_stuck(older_than: timedelta = timedelta(minutes=10)) -> int:
    """A runner that died mid-send leaves rows in SENDING; put them back in the queue."""
    return OutboxMessage.objects.filter(
        status=OutboxStatus.SENDING, next_attempt_at__lt=timezone.now() - older_than
    ).update(status=OutboxStatus.PENDING)
