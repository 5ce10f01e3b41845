"""The outbox (ARCHITECTURE rule 5): a message leaves only after its transaction commits,
reaches a real SMTP server, is retried with back-off, given up after the limit, and is
never delivered twice, even by two runners at once."""

import email
import threading
from datetime import timedelta
from email import policy
from unittest import mock

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from aftersales.core import outbox
from aftersales.core.models import InAppNotification, OutboxMessage, OutboxStatus
from aftersales.core.outbox import outbox_drain, outbox_enqueue, outbox_release_stuck
from aftersales.core.tasks import drain_outbox

NOTHING = {"sent": 0, "retry": 0, "dead": 0}
SUBJECT = "保养提醒：京A·12345"
BODY = "尊敬的王先生：您的车辆将于 2025年7月1日 到期保养，请提前预约。星驰汽车售后服务"


def enqueue_email(recipient="wang@example.cn", **kwargs):
    return outbox_enqueue(
        channel="email", recipient=recipient, subject=SUBJECT, body=BODY, **kwargs
    )


def received(smtp_server):
    """(envelope recipients, parsed e-mail) for every message the SMTP server accepted."""
    return [
        (envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=policy.default))
        for envelope in smtp_server.messages
    ]


def make_due(message):
    # Time control: move the retry time to now instead of waiting for the back-off.
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())


@pytest.mark.django_db(transaction=True)
def test_message_enqueued_in_a_rolled_back_transaction_is_never_sent(smtp_server):
    # Given a business change that queues an e-mail and then fails
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_email()
        raise RuntimeError("work order transition refused")

    # When the outbox is drained
    counts = outbox_drain()

    # Then the message went with the rolled-back transaction
    assert not OutboxMessage.objects.exists()
    assert counts == NOTHING
    assert smtp_server.messages == []


@pytest.mark.django_db
def test_enqueued_email_is_delivered_to_the_smtp_server(smtp_server, settings):
    # Given an e-mail with a Chinese subject and body in the outbox
    message = enqueue_email()

    # When the outbox is drained
    counts = outbox_drain()

    # Then the SMTP server received exactly it, intact
    assert counts == {"sent": 1, "retry": 0, "dead": 0}
    [(recipients, mail)] = received(smtp_server)
    assert recipients == ["wang@example.cn"]
    assert mail["To"] == "wang@example.cn"
    assert mail["From"] == settings.DEFAULT_FROM_EMAIL
    assert mail["Subject"] == SUBJECT
    assert mail.get_content().strip() == BODY
    # and the row says so
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert message.attempts == 1
    assert message.sent_at is not None
    assert message.last_error == ""


@pytest.mark.django_db
def test_refused_email_is_retried_with_exponential_back_off(smtp_server, settings):
    # Given an SMTP server that answers 451 and a back-off base of 60 s
    settings.OUTBOX_RETRY_BASE_SECONDS = 60
    smtp_server.refuse = True
    message = enqueue_email()

    # When the first attempt fails
    before = timezone.now()
    counts = outbox_drain()
    after = timezone.now()

    # Then the message waits for a retry one base period later, with the error recorded
    assert counts == {"sent": 0, "retry": 1, "dead": 0}
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert message.attempts == 1
    assert "451" in message.last_error
    assert "SMTPDataError" in message.last_error
    assert (
        before + timedelta(seconds=60) <= message.next_attempt_at <= after + timedelta(seconds=60)
    )

    # and it is not tried again before that time
    assert outbox_drain() == NOTHING
    message.refresh_from_db()
    assert message.attempts == 1

    # When the retry is due and fails again
    make_due(message)
    before = timezone.now()
    assert outbox_drain() == {"sent": 0, "retry": 1, "dead": 0}
    after = timezone.now()

    # Then the wait doubles
    message.refresh_from_db()
    assert message.attempts == 2
    assert (
        before + timedelta(seconds=120) <= message.next_attempt_at <= after + timedelta(seconds=120)
    )
    assert smtp_server.messages == []

    # When the server accepts again and the retry is due
    smtp_server.refuse = False
    make_due(message)
    assert outbox_drain() == {"sent": 1, "retry": 0, "dead": 0}

    # Then the message is delivered once and the error is cleared
    assert len(smtp_server.messages) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.SENT, 3, "")


@pytest.mark.django_db
def test_message_is_given_up_after_the_maximum_attempts(smtp_server, settings):
    # Given a limit of 3 attempts and an SMTP server that keeps refusing
    settings.OUTBOX_MAX_ATTEMPTS = 3
    smtp_server.refuse = True
    message = enqueue_email()

    # When every attempt fails
    outcomes = []
    for _ in range(3):
        make_due(message)
        outcomes.append(outbox_drain())

    # Then the third failure marks it dead
    assert outcomes == [
        {"sent": 0, "retry": 1, "dead": 0},
        {"sent": 0, "retry": 1, "dead": 0},
        {"sent": 0, "retry": 0, "dead": 1},
    ]
    message.refresh_from_db()
    assert message.status == OutboxStatus.DEAD
    assert message.attempts == 3
    assert "451" in message.last_error

    # and it is not tried again, even once the server works
    smtp_server.refuse = False
    make_due(message)
    assert outbox_drain() == NOTHING
    assert smtp_server.messages == []
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.DEAD, 3)


@pytest.mark.django_db
def test_drained_message_is_never_sent_twice(smtp_server):
    # Given a message already delivered
    message = enqueue_email()
    assert outbox_drain()["sent"] == 1

    # When the outbox is drained again, even with the row's time moved to "due"
    make_due(message)
    counts = outbox_drain()

    # Then nothing more is sent
    assert counts == NOTHING
    assert len(smtp_server.messages) == 1


@pytest.mark.django_db
def test_dedup_key_returns_the_first_message(smtp_server):
    # Given a message queued for an event
    first = enqueue_email(dedup_key="ro:42:ready")

    # When the same event queues it again (e.g. a retried request)
    second = outbox_enqueue(
        channel="email", recipient="wang@example.cn", body="另一份正文", dedup_key="ro:42:ready"
    )

    # Then the first message is returned and only one is queued; the caller's transaction
    # is still usable (PostgreSQL aborts a transaction on an unguarded unique violation)
    assert second.pk == first.pk
    assert second.body == BODY
    assert OutboxMessage.objects.filter(dedup_key="ro:42:ready").count() == 1
    assert outbox_drain()["sent"] == 1
    [(_, mail)] = received(smtp_server)
    assert mail.get_content().strip() == BODY


@pytest.mark.django_db
def test_message_with_an_unknown_channel_is_refused():
    with pytest.raises(ValueError, match="unknown outbox channel 'pigeon'"):
        outbox_enqueue(channel="pigeon", recipient="x", body="x")
    assert not OutboxMessage.objects.exists()


def test_inapp_channel_creates_a_notification(demo_org):
    # Given an in-app message for a service advisor
    advisor = demo_org["bj01-sa"]
    message = outbox_enqueue(
        channel="inapp", recipient=advisor.pk, subject="新工单 RO-0042", body="客户已到店，请接待。"
    )

    # When the outbox is drained
    counts = outbox_drain()

    # Then the advisor has exactly that notification, and no one else has one
    assert counts == {"sent": 1, "retry": 0, "dead": 0}
    [notification] = InAppNotification.objects.all()
    assert notification.user == advisor
    assert (notification.subject, notification.body) == ("新工单 RO-0042", "客户已到店，请接待。")
    assert notification.read_at is None
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT


def test_inapp_notification_and_sent_mark_commit_together(demo_org):
    # Given an in-app message, and a database error while its delivery is recorded
    advisor = demo_org["bj01-sa"]
    message = outbox_enqueue(channel="inapp", recipient=advisor.pk, subject="s", body="b")
    with mock.patch.object(outbox, "_mark_sent", side_effect=DatabaseError("disk I/O error")):
        # When the outbox is drained
        counts = outbox_drain()

    # Then the notification was rolled back with it, so the retry will not duplicate it
    assert counts == {"sent": 0, "retry": 1, "dead": 0}
    assert not InAppNotification.objects.exists()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)
    assert "disk I/O error" in message.last_error

    # and the retry delivers exactly one
    make_due(message)
    assert outbox_drain()["sent"] == 1
    assert InAppNotification.objects.filter(user=advisor).count() == 1


@pytest.mark.django_db
def test_inapp_message_for_a_missing_user_records_the_failure():
    message = outbox_enqueue(channel="inapp", recipient=987654321, subject="s", body="b")

    assert outbox_drain() == {"sent": 0, "retry": 1, "dead": 0}

    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert "DoesNotExist" in message.last_error
    assert not InAppNotification.objects.exists()


class RunnerKilled(BaseException):
    """Stands for the runner process dying mid-send (not an error the drain can record)."""


@pytest.mark.django_db
def test_message_left_sending_by_a_dead_runner_is_released_and_sent(smtp_server, monkeypatch):
    # Given a runner that died while sending a message
    message = enqueue_email()

    def die(message):
        raise RunnerKilled

    die.in_database = False
    with monkeypatch.context() as patch:
        patch.setitem(outbox.CHANNELS, "email", die)
        with pytest.raises(RunnerKilled):
            outbox_drain()
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENDING

    # When another runner looks soon after: the claim is fresh, the row is left alone
    assert outbox_release_stuck() == 0
    assert outbox_drain() == NOTHING

    # When the claim is older than the lease (10 minutes)
    OutboxMessage.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=11)
    )
    released = outbox_release_stuck()

    # Then the row is back in the queue and the next drain delivers it once
    assert released == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert outbox_drain()["sent"] == 1
    assert len(smtp_server.messages) == 1


@pytest.mark.django_db
def test_old_message_being_sent_is_not_released_by_a_concurrent_drain(smtp_server, monkeypatch):
    # Given a message that has waited an hour (e.g. the runner was down)
    message = enqueue_email()
    OutboxMessage.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - timedelta(hours=1)
    )
    # and a second drain job that runs while the first is sending it
    concurrent_runs = []
    send_email = outbox.CHANNELS["email"]

    def send_while_another_job_drains(message):
        concurrent_runs.append(drain_outbox())
        send_email(message)

    send_while_another_job_drains.in_database = False
    monkeypatch.setitem(outbox.CHANNELS, "email", send_while_another_job_drains)

    # When the outbox is drained
    counts = outbox_drain()

    # Then the second job neither released nor re-sent the message in flight
    assert concurrent_runs == [NOTHING]
    assert counts == {"sent": 1, "retry": 0, "dead": 0}
    assert len(smtp_server.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_runners_draining_at_the_same_time_send_each_message_once(smtp_server):
    # Given 30 queued e-mails and 4 runners started at the same moment
    for n in range(30):
        enqueue_email(recipient=f"owner{n}@example.cn")
    start = threading.Barrier(4)
    results, errors = [], []

    def runner():
        try:
            start.wait(timeout=10)
            results.append(outbox_drain())
        except Exception as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    # When they all drain
    threads = [threading.Thread(target=runner) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then every e-mail arrived exactly once
    assert errors == []
    assert sum(result["sent"] for result in results) == 30
    delivered = sorted(recipients[0] for recipients, _ in received(smtp_server))
    assert delivered == sorted(f"owner{n}@example.cn" for n in range(30))
    assert OutboxMessage.objects.filter(status=OutboxStatus.SENT).count() == 30
