"""Platform jobs. Thin: they call services and mark the audit channel as "job"."""

from celery import shared_task
from django.utils import timezone

from aftersales.core.audit import audit_channel
from aftersales.core.models import AuditChannel, JobHeartbeat
from aftersales.core.outbox import outbox_drain, outbox_release_stuck


@shared_task(name="aftersales.core.tasks.heartbeat")
def heartbeat(detail: str = ""):
    JobHeartbeat.objects.update_or_create(
        name="jobs", defaults={"beat_at": timezone.now(), "detail": detail[:200]}
    )


@shared_task(name="aftersales.core.tasks.drain_outbox")
def drain_outbox():
    with audit_channel(AuditChannel.JOB):
        outbox_release_stuck()
        return outbox_drain()


@shared_task(name="aftersales.core.tasks.purge_idempotency_keys")
def purge_idempotency_keys():
    from aftersales.core.idempotency import purge_old_keys

    return purge_old_keys()
