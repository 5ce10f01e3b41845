"""The day-plan API: plan a dealer's day, read it with its jobs, optimise again keeping
the pinned jobs, pin and move (refusals answer 409 with the reason's code), another
dealer's day is not found, a closed day is refused."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from aftersales.appointments.models import ClosedDay, DayPlan, PlannedJob
from aftersales.appointments.testing import make_booking, make_technician
from aftersales.workorders.testing import make_repair_order, staff_of

pytestmark = pytest.mark.django_db


def tomorrow():
    return timezone.localdate() + datetime.timedelta(days=1)


def at(hour, minute=0):
    return timezone.make_aware(datetime.datetime.combine(tomorrow(), datetime.time(hour, minute)))


@pytest.fixture
def api(bj01):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(staff_of(bj01, "foreman"))
    return client


@pytest.fixture
def day_work(bj01, workshop):
    order = make_repair_order(dealer=bj01, status="approved", promised_at=at(17))
    booking = make_booking(bj01)
    return {"order": order, "booking": booking}


def _post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def _plan(api, dealer):
    answer = _post(
        api,
        reverse("api:day-plan-list"),
        {"dealer": dealer.pk, "day": tomorrow().isoformat()},
    )
    assert answer.status_code == 201, answer.content
    return answer.json()


def test_plan_a_day_and_read_it_back(api, bj01, day_work):
    # When the foreman plans tomorrow through the API
    plan = _plan(api, bj01)

    # Then both jobs are on it, with technician, bay and times
    assert plan["status"] in ("optimal", "feasible") and plan["revision"] == 1
    keys = {job["key"] for job in plan["jobs"]}
    assert f"booking:{day_work['booking'].pk}" in keys and len(keys) == 2
    labels = " ".join(job["label"] for job in plan["jobs"])
    assert day_work["order"].number in labels and day_work["booking"].number in labels
    for job in plan["jobs"]:
        assert job["technician"] and job["bay_code"] and job["starts_at"] < job["ends_at"]

    # And the list finds it by dealer and day; the detail has the jobs
    listed = api.get(
        reverse("api:day-plan-list"), {"dealer": bj01.pk, "day": tomorrow().isoformat()}
    ).json()
    assert [row["id"] for row in listed["results"]] == [plan["id"]]
    detail = api.get(reverse("api:day-plan-detail", args=[plan["id"]])).json()
    assert len(detail["jobs"]) == 2 and detail["dealer_code"] == "BJ01"


def test_optimise_again_keeps_the_pinned_job(api, bj01, day_work):
    plan = _plan(api, bj01)
    job = next(j for j in plan["jobs"] if j["line"])

    pinned = _post(
        api, reverse("api:day-plan-pin", args=[plan["id"]]), {"job": job["id"], "pinned": True}
    )
    again = _post(api, reverse("api:day-plan-optimise", args=[plan["id"]]))

    assert pinned.status_code == 200
    assert next(j for j in pinned.json()["jobs"] if j["id"] == job["id"])["pinned"]
    assert again.status_code == 200 and again.json()["revision"] == 2
    kept = next(j for j in again.json()["jobs"] if j["key"] == job["key"])
    assert kept["pinned"] and (kept["technician"], kept["bay"], kept["starts_at"]) == (
        job["technician"],
        job["bay"],
        job["starts_at"],
    )


def test_a_move_is_pinned_and_a_bad_move_answers_the_reason(api, bj01, day_work):
    body = make_technician(bj01, bay_kinds=["body"], categories=["body"])
    plan = _plan(api, bj01)
    job = next(j for j in plan["jobs"] if j["line"])
    other = next(j for j in plan["jobs"] if j["id"] != job["id"])
    url = reverse("api:day-plan-move", args=[plan["id"]])

    no_skill = _post(
        api,
        url,
        {
            "job": job["id"],
            "technician": body.user_id,
            "bay": job["bay"],
            "starts_at": at(15).isoformat(),
        },
    )
    clash = _post(
        api,
        url,
        {
            "job": job["id"],
            "technician": other["technician"],
            "bay": job["bay"],
            "starts_at": other["starts_at"],
        },
    )
    moved = _post(
        api,
        url,
        {
            "job": job["id"],
            "technician": job["technician"],
            "bay": job["bay"],
            "starts_at": at(15).isoformat(),
        },
    )

    assert no_skill.status_code == 409 and no_skill.json()["code"] == "no_skill"
    assert "skill" in no_skill.json()["message"]
    assert clash.status_code == 409 and clash.json()["code"] == "clash"
    assert moved.status_code == 200
    row = PlannedJob.objects.get(pk=job["id"])
    assert row.pinned and row.starts_at == at(15)


def test_a_job_of_another_plan_is_not_found(api, bj01, day_work):
    plan = _plan(api, bj01)
    answer = _post(
        api, reverse("api:day-plan-pin", args=[plan["id"]]), {"job": 999999, "pinned": True}
    )
    assert answer.status_code == 404 and answer.json()["code"] == "not_found"


def test_another_dealers_day_is_not_found_and_a_closed_day_is_refused(api, bj01, tj01, workshop):
    other = _post(
        api, reverse("api:day-plan-list"), {"dealer": tj01.pk, "day": tomorrow().isoformat()}
    )
    ClosedDay.objects.create(dealer=bj01, day=tomorrow(), reason="盘点")
    closed = _post(
        api, reverse("api:day-plan-list"), {"dealer": bj01.pk, "day": tomorrow().isoformat()}
    )

    assert other.status_code == 404 and other.json()["code"] == "not_found"
    assert closed.status_code == 400 and closed.json()["code"] == "closed_day"
    assert "盘点" in closed.json()["message"]
    assert not DayPlan.objects.exists()


def test_a_technician_reads_but_cannot_plan(bj01, day_work):
    client = Client()
    client.force_login(staff_of(bj01, "technician"))
    answer = _post(
        client, reverse("api:day-plan-list"), {"dealer": bj01.pk, "day": tomorrow().isoformat()}
    )
    listed = client.get(reverse("api:day-plan-list"))
    assert answer.status_code == 403 and listed.status_code == 200
