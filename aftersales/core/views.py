from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from aftersales.core.models import JobHeartbeat


def _database_state():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # any database failure means "down" to a load balancer
        return f"down: {type(exc).__name__}"


def _jobs_state():
    try:
        beat = JobHeartbeat.objects.filter(name="jobs").first()
    except Exception:
        return {"state": "unknown"}
    mode = "embedded" if settings.CELERY_TASK_ALWAYS_EAGER else "celery"
    if beat is None:
        return {"state": "down: no heartbeat yet", "mode": mode}
    age = (timezone.now() - beat.beat_at).total_seconds()
    state = "ok" if age <= settings.JOBS_HEARTBEAT_MAX_AGE else "down: heartbeat too old"
    return {
        "state": state,
        "mode": mode,
        "last_beat": beat.beat_at.isoformat(),
        "age_s": round(age),
    }


@never_cache
def healthz(request):
    """For load balancers: 200 when the database answers and the job runner beat recently."""
    database = _database_state()
    # With the database down the heartbeat cannot be read: do not wait for a second timeout.
    jobs = _jobs_state() if database == "ok" else {"state": "unknown"}
    healthy = database == "ok" and jobs["state"] == "ok"
    return JsonResponse(
        {"status": "ok" if healthy else "down", "database": database, "jobs": jobs},
        status=200 if healthy else 503,
    )
