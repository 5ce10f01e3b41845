"""Customer-care jobs: thin wrappers that call the greeting services."""

from celery import shared_task


@shared_task(name="aftersales.care.tasks.daily_greetings")
def daily_greetings():
    """Expire old coupons, then the day's birthday and holiday greetings (idempotent)."""
    from aftersales.care.greetings import daily_greetings as run

    return run()
