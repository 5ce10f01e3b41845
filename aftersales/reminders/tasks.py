"""Reminder jobs: thin wrappers that call services."""

import datetime

from celery import shared_task


@shared_task(name="aftersales.reminders.tasks.monthly_run")
def monthly_run(month: str | None = None):
    """On the last day of a month (the schedule fires on days 28-31; other days do
    nothing), next month's reminders, one job per dealer so several workers share the
    work. Without a broker (jobs run in-process) one set-based pass does every dealer."""
    from django.conf import settings
    from django.utils import timezone

    from aftersales.org.models import Dealer
    from aftersales.reminders.monthly import reminders_for_month
    from aftersales.reminders.schedule import next_month, parse_month

    if month is None:
        today = timezone.localdate()
        if (today + datetime.timedelta(days=1)).day != 1:
            return None
        target = next_month(today)
    else:
        target = parse_month(month)
    if settings.CELERY_TASK_ALWAYS_EAGER:
        added = reminders_for_month(target)
        send_messages(target.strftime("%Y-%m"))
        return added
    label = target.strftime("%Y-%m")
    dealer_ids = list(Dealer.objects.filter(active=True).values_list("id", flat=True))
    for dealer_id in dealer_ids:
        run_for_dealer.delay(label, dealer_id)
    return {"dealers": len(dealer_ids)}


@shared_task(name="aftersales.reminders.tasks.run_for_dealer")
def run_for_dealer(month: str, dealer_id: int):
    from aftersales.reminders.monthly import reminders_for_month
    from aftersales.reminders.schedule import parse_month

    added = reminders_for_month(parse_month(month), dealer_id)
    # the owners' WeChat/SMS messages of that dealer's new reminders, as their own job
    send_messages.delay(month, dealer_id)
    return added


@shared_task(name="aftersales.reminders.tasks.send_messages")
def send_messages(month: str | None = None, dealer_id: int | None = None):
    """Queue the messages of a month's reminders (default: this month) to registered
    owners, then copy the outbox's outcomes; idempotent, so the daily schedule catches up
    whatever a failed run missed."""
    from django.utils import timezone

    from aftersales.reminders.messages import reminder_messages_queue, reminder_messages_sync
    from aftersales.reminders.schedule import parse_month

    target = parse_month(month) if month else timezone.localdate().replace(day=1)
    counts = reminder_messages_queue(target, dealer_id)
    reminder_messages_sync()
    return counts


@shared_task(name="aftersales.reminders.tasks.sync_messages")
def sync_messages():
    """Copy the outbox's outcomes (sent, given up, WeChat's delivery report) onto the
    reminder messages."""
    from aftersales.reminders.messages import reminder_messages_sync

    return reminder_messages_sync()


@shared_task(name="aftersales.reminders.tasks.match_returns")
def match_returns():
    """Daily: the reminders whose vehicle came back, and the recalls whose work was
    delivered."""
    from aftersales.reminders.recalls import recalls_complete
    from aftersales.reminders.returns import returns_match

    return {"returned": returns_match(), "recalls_done": recalls_complete()}


@shared_task(name="aftersales.reminders.tasks.refresh_statistics")
def refresh_statistics(full: bool = False):
    """The statistics rollup: the recent months every 10 minutes, all months nightly."""
    from aftersales.reminders import reports

    return reports.statistics_refresh_all() if full else reports.statistics_refresh()
