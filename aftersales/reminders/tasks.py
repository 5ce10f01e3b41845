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
        return reminders_for_month(target)
    label = target.strftime("%Y-%m")
    dealer_ids = list(Dealer.objects.filter(active=True).values_list("id", flat=True))
    for dealer_id in dealer_ids:
        run_for_dealer.delay(label, dealer_id)
    return {"dealers": len(dealer_ids)}


@shared_task(name="aftersales.reminders.tasks.run_for_dealer")
def run_for_dealer(month: str, dealer_id: int):
    from aftersales.reminders.monthly import reminders_for_month
    from aftersales.reminders.schedule import parse_month

    return reminders_for_month(parse_month(month), dealer_id)


@shared_task(name="aftersales.reminders.tasks.match_returns")
def match_returns():
    from aftersales.reminders.returns import returns_match

    return returns_match()
