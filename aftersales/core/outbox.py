"""The transactional outbox (ARCHITECTURE rule 5).

``outbox_enqueue`` writes the message in the caller's transaction; ``outbox_drain`` (a job)
claims due rows one at a time, hands each to its channel and records the result: sent, or a
retry with exponential back-off, or dead after ``OUTBOX_MAX_ATTEMPTS``. A provider or broker
outage therefore loses nothing, and two runners never send the same message."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from aftersales.core.models import InAppNotification, OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

CHANNELS = {}


def channel(name, *, in_database=False, secret=False):
    """Register a delivery function ``send(message: OutboxMessage) -> None`` (raise on failure).

    An ``in_database`` channel only writes to our own database: its write and the "sent"
    mark commit together, so a runner that dies half-way cannot deliver it twice. A
    ``secret`` channel's body and payload (one-time codes) are wiped once the message is
    sent or given up, so the outbox never keeps them longer than needed."""

    def register(func):
        func.in_database = in_database
        func.secret = secret
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


@channel("inapp", in_database=True)
def _send_inapp(message):
    from aftersales.org.models import User

    user = User.objects.get(pk=int(message.recipient))
    InAppNotification.objects.create(user=user, subject=message.subject, body=message.body)


def outbox_enqueue(
    *,
    channel: str,
    recipient: str,
    body: str,
    subject: str = "",
    dealer=None,
    payload=None,
    dedup_key: str | None = None,
    not_before=None,
) -> OutboxMessage:
    """Queue a message in the current transaction. With a ``dedup_key`` a second call for
    the same event returns the first message instead of queueing another. ``not_before``
    (an aware datetime) holds the message back until then, e.g. the end of quiet hours."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown outbox channel {channel!r}")
    try:
        # A savepoint: losing the race on dedup_key must not break the caller's transaction.
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                channel=channel,
                recipient=str(recipient),
                subject=subject,
                body=body,
                dealer=dealer,
                payload=payload or {},
                dedup_key=dedup_key or None,
                next_attempt_at=max(not_before, timezone.now()) if not_before else timezone.now(),
            )
    except IntegrityError:
        existing = dedup_key and OutboxMessage.objects.filter(dedup_key=dedup_key).first()
        if not existing:
            raise
        return existing
    transaction.on_commit(_kick)
    return message


def _kick():
    # With a broker, queue a drain right away instead of waiting for the next beat tick.
    # Without one the embedded runner's schedule drains within seconds. Either way a
    # failure here loses nothing: the message is already committed.
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return
    try:
        from aftersales.core.tasks import drain_outbox

        drain_outbox.delay()
    except Exception:  # broker down: the periodic drain will pick the message up
        log.warning("could not queue an outbox drain; the schedule will retry", exc_info=True)


def retry_delay(attempts: int) -> timedelta:
    """Back-off after the n-th failed attempt: base × 2^(n-1), capped at one day."""
    return timedelta(seconds=min(settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** (attempts - 1), 86400))


def _claim_next() -> OutboxMessage | None:
    """Take the oldest due message. While a row is SENDING its ``next_attempt_at`` holds the
    claim time: the lease ``outbox_release_stuck`` measures, so an old message that is
    being sent right now is not mistaken for a stuck one."""
    with transaction.atomic():
        due = OutboxMessage.objects.filter(
            status=OutboxStatus.PENDING, next_attempt_at__lte=timezone.now()
        ).order_by("next_attempt_at", "id")
        # PostgreSQL: skip rows another runner holds. SQLite: the IMMEDIATE transaction
        # already serialises claimers.
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        message = due.first()
        if message is not None:
            message.status = OutboxStatus.SENDING
            message.next_attempt_at = timezone.now()
            message.save(update_fields=["status", "next_attempt_at"])
    return message


def _wiped(message) -> dict:
    sender = CHANNELS.get(message.channel)
    return {"body": "", "payload": {}} if getattr(sender, "secret", False) else {}


def _mark_sent(message):
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.SENT,
        attempts=F("attempts") + 1,
        sent_at=timezone.now(),
        last_error="",
        **_wiped(message),
    )


def _mark_failed(message, exc) -> str:
    attempts = message.attempts + 1
    error = f"{type(exc).__name__}: {exc}"[:2000]
    # a provider may say that retrying is pointless (e.g. an illegal number): exc.permanent
    if attempts >= settings.OUTBOX_MAX_ATTEMPTS or getattr(exc, "permanent", False):
        log.error("outbox message %s given up after %d attempts: %s", message.pk, attempts, error)
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=OutboxStatus.DEAD, attempts=attempts, last_error=error, **_wiped(message)
        )
        return "dead"
    log.warning("outbox message %s failed (attempt %d): %s", message.pk, attempts, error)
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.PENDING,
        attempts=attempts,
        last_error=error,
        next_attempt_at=timezone.now() + retry_delay(attempts),
    )
    return "retry"


def _deliver(message) -> str:
    try:
        send = CHANNELS[message.channel]
        if send.in_database:
            with transaction.atomic():
                send(message)
                _mark_sent(message)
            return "sent"
        send(message)
    except Exception as exc:  # any provider failure is recorded on the row
        return _mark_failed(message, exc)
    _mark_sent(message)
    return "sent"


def outbox_drain(batch: int = 100) -> dict:
    """Deliver up to ``batch`` due messages. Returns counts by outcome."""
    counts = {"sent": 0, "retry": 0, "dead": 0}
    for _ in range(batch):
        message = _claim_next()
        if message is None:
            break
        counts[_deliver(message)] += 1
    return counts


def outbox_release_stuck(older_than: timedelta = timedelta(minutes=10)) -> int:
    """A runner that died mid-send leaves rows in SENDING; put them back in the queue once
    their claim is older than ``older_than`` (far longer than one send may take)."""
    return OutboxMessage.objects.filter(
        status=OutboxStatus.SENDING, next_attempt_at__lt=timezone.now() - older_than
    ).update(status=OutboxStatus.PENDING)
