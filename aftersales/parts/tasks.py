"""Parts jobs: thin wrappers that call services."""

from celery import shared_task


@shared_task(name="aftersales.parts.tasks.expire_reservations")
def expire_reservations():
    from aftersales.parts.stock import expire_reservations as release_expired

    return release_expired()
