"""/healthz for load balancers: 200 only when the database answers and the job runner
beat recently."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from aftersales.core.models import JobHeartbeat
from aftersales.core.tasks import heartbeat
from aftersales.testing.servers import free_port


@pytest.mark.django_db
def test_healthy_after_a_heartbeat(client):
    # Given the job runner has just beaten
    heartbeat()

    # When the load balancer asks
    response = client.get("/healthz")

    # Then all is well, and the answer is not cached
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["jobs"]["state"] == "ok"
    assert body["jobs"]["mode"] == "embedded"  # no broker in the test settings
    assert 0 <= body["jobs"]["age_s"] < 60
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_unhealthy_before_the_first_heartbeat(client):
    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["database"] == "ok"
    assert body["jobs"]["state"] == "down: no heartbeat yet"


@pytest.mark.django_db
def test_unhealthy_when_the_heartbeat_is_older_than_the_limit(client, settings):
    # Given a limit of 120 s and a heartbeat 90 s old
    settings.JOBS_HEARTBEAT_MAX_AGE = 120
    JobHeartbeat.objects.create(name="jobs", beat_at=timezone.now() - timedelta(seconds=90))
    assert client.get("/healthz").status_code == 200

    # When the heartbeat is 121 s old
    JobHeartbeat.objects.filter(name="jobs").update(beat_at=timezone.now() - timedelta(seconds=121))
    response = client.get("/healthz")

    # Then the jobs are reported down
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["jobs"]["state"] == "down: heartbeat too old"
    assert body["jobs"]["age_s"] >= 121


@pytest.mark.django_db(transaction=True)
def test_unhealthy_when_the_database_is_down(client, tmp_path):
    # Given a recent heartbeat, then a database that can no longer be reached
    heartbeat()
    original = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = str(tmp_path / "no-such-dir" / "db.sqlite3")
    else:
        connection.settings_dict["PORT"] = str(free_port())  # nothing listens there
    try:
        # When the load balancer asks
        response = client.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict.update(original)

    # Then it answers 503, naming the database as the cause
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["database"] == "down: OperationalError"
    assert body["jobs"] == {"state": "unknown"}
    # and the application recovers once the database is back
    assert client.get("/healthz").status_code == 200
