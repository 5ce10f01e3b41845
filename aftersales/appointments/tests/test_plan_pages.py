"""The day-plan board: technicians by the day's hours with the planned jobs (repair-order
lines and bookings, linked to their pages, late ones red, pinned ones marked), Optimise,
pin and move through the page (htmx answers the board, a plain form redirects back),
refusals shown with their reason, the per-bay view, closed days, other dealers."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from aftersales.appointments.dayplan import day_plan_build
from aftersales.appointments.models import ClosedDay, DayPlan, PlannedJob
from aftersales.appointments.testing import make_booking, make_technician
from aftersales.workorders.testing import make_repair_order, staff_of

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def zh(msgid: str) -> str:
    """The Chinese the page shows for ``msgid`` (the catalogue's; the msgid until merged)."""
    with translation.override("zh-hans"):
        return gettext(msgid)


def tomorrow():
    return timezone.localdate() + datetime.timedelta(days=1)


def at(hour, minute=0):
    return timezone.make_aware(datetime.datetime.combine(tomorrow(), datetime.time(hour, minute)))


@pytest.fixture
def foreman(bj01):
    return staff_of(bj01, "foreman")


@pytest.fixture
def day_work(bj01, workshop):
    """Tomorrow at BJ01: an approved repair order promised at 17:00 and a booking."""
    order = make_repair_order(dealer=bj01, status="approved", promised_at=at(17))
    booking = make_booking(bj01)
    assert timezone.localdate(booking.starts_at) == tomorrow()
    return {"order": order, "booking": booking}


def _board(client, dealer, **params):
    query = "&".join(
        f"{k}={v}" for k, v in {"dealer": dealer.pk, "day": tomorrow(), **params}.items()
    )
    return client.get(f"{reverse('day-plan')}?{query}")


def test_optimise_from_the_board_shows_every_job_with_links(client, bj01, foreman, day_work):
    # Given a foreman on tomorrow's board, not planned yet
    client.force_login(foreman)
    before = _board(client, bj01)
    assert zh("Day plan") in before.text and 'lang="zh-hans"' in before.text
    assert 'id="plan-none"' in before.text

    # When they press Optimise (htmx)
    answer = client.post(
        reverse("day-plan-optimise"), {"dealer": bj01.pk, "day": tomorrow().isoformat()}, **HTMX
    )

    # Then the board fragment comes back with both jobs on technicians' rows, linked
    plan = DayPlan.objects.get(dealer=bj01, day=tomorrow())
    jobs = list(plan.jobs.all())
    order, booking = day_work["order"], day_work["booking"]
    assert answer.status_code == 200 and "<html" not in answer.text
    assert plan.revision == 1 and len(jobs) == 2 and not plan.unplaced
    assert order.number in answer.text and booking.number in answer.text
    assert reverse("repair-order-detail", args=[order.pk]) in answer.text
    assert reverse("booking-detail", args=[booking.pk]) in answer.text
    assert answer.text.count('class="plan-job') == 2
    for job in jobs:
        assert f'data-technician="{job.technician_id}"' in answer.text
    note = zh("Day planned: %(jobs)s jobs, %(late)s minutes late in all, %(left)s left out.")
    assert note % {"jobs": 2, "late": plan.late_minutes, "left": 0} in answer.text


def test_a_plain_optimise_redirects_back_to_the_board(client, bj01, foreman, day_work):
    client.force_login(foreman)
    answer = client.post(
        reverse("day-plan-optimise"),
        {"dealer": bj01.pk, "day": tomorrow().isoformat(), "by": "bay"},
    )
    assert answer.status_code == 302
    assert answer["Location"].endswith(f"dealer={bj01.pk}&day={tomorrow().isoformat()}&by=bay")
    board = client.get(answer["Location"])
    assert len(board.context["jobs"]) == 2


def test_the_board_in_english_marks_late_and_pinned_jobs(bj01, foreman, workshop):
    # Given an order promised at 08:45 tomorrow (1.2 h of work cannot make it), pinned
    make_repair_order(dealer=bj01, status="approved", promised_at=at(8, 45))
    plan = day_plan_build(actor=foreman, dealer=bj01, day=tomorrow(), time_limit=1)
    job = plan.jobs.get()
    job.pinned = True
    job.save()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(foreman)

    # When the board is opened in English
    page = _board(client, bj01)

    # Then the job is red, marked pinned, and the words are English
    assert job.late_minutes > 0
    assert "Day plan" in page.text and "Optimise" in page.text and "Unpin" in page.text
    assert "is-late" in page.text and "is-pinned" in page.text
    assert f"{job.late_minutes} min late" in page.text


def test_pin_keeps_the_job_when_the_day_is_optimised_again(client, bj01, foreman, day_work):
    client.force_login(foreman)
    plan = day_plan_build(actor=foreman, dealer=bj01, day=tomorrow(), time_limit=1)
    job = plan.jobs.get(line__isnull=False)

    answer = client.post(reverse("planned-job-pin", args=[job.pk]), {"pinned": "1"}, **HTMX)
    client.post(reverse("day-plan-optimise"), {"dealer": bj01.pk, "day": tomorrow()}, **HTMX)

    kept = PlannedJob.objects.get(plan=plan, line=job.line)
    assert answer.status_code == 200 and zh("Unpin") in answer.text
    assert kept.pinned and (kept.technician_id, kept.bay_id, kept.starts_at) == (
        job.technician_id,
        job.bay_id,
        job.starts_at,
    )
    # and unpinning it again
    client.post(reverse("planned-job-pin", args=[kept.pk]), {"pinned": "0"}, **HTMX)
    kept.refresh_from_db()
    assert not kept.pinned


def test_a_move_is_made_and_pinned_or_refused_with_the_reason(client, bj01, foreman, day_work):
    # Given a plan and a body-shop technician who cannot do a brake job
    body = make_technician(bj01, bay_kinds=["body"], categories=["body"])
    plan = day_plan_build(actor=foreman, dealer=bj01, day=tomorrow(), time_limit=1)
    job = plan.jobs.get(line__isnull=False)
    other = next(t for t in day_work_technicians(bj01) if t != job.technician_id)
    client.force_login(foreman)
    url = reverse("planned-job-move", args=[job.pk])

    # When the foreman moves it to the body-shop technician
    refused = client.post(
        url, {"technician": body.user_id, "bay": job.bay_id, "start": "15:00"}, **HTMX
    )

    # Then it is refused with the reason, in Chinese, and nothing moved
    reason = zh("This technician does not have the skill for this job.")
    assert refused.status_code == 200 and reason in refused.text
    job.refresh_from_db()
    assert job.technician_id != body.user_id and not job.pinned

    # When they move it to another all-round technician at 15:00
    client.post(url, {"technician": other, "bay": job.bay_id, "start": "15:00"}, **HTMX)

    # Then it is there, pinned
    job.refresh_from_db()
    assert job.technician_id == other and job.pinned
    assert timezone.localtime(job.starts_at).time() == datetime.time(15)

    # And a form without a time is refused with a message
    bad = client.post(url, {"technician": other, "bay": job.bay_id, "start": ""}, **HTMX)
    assert zh("Choose the technician, the bay and the start time.") in bad.text


def day_work_technicians(dealer):
    from aftersales.appointments.models import Technician

    return list(
        Technician.objects.filter(dealer=dealer, categories=[]).values_list("user_id", flat=True)
    )


def test_the_bay_view_has_a_row_per_bay(client, bj01, foreman, workshop, day_work):
    plan = day_plan_build(actor=foreman, dealer=bj01, day=tomorrow(), time_limit=1)
    client.force_login(foreman)

    page = _board(client, bj01, by="bay")

    assert [row["id"] for row in page.context["rows"]] == [b.pk for b in workshop["bays"]]
    for job in plan.jobs.all():
        assert f'data-bay="{job.bay_id}"' in page.text
    assert 'aria-current="page"' in page.text and zh("By bay") in page.text


def test_a_closed_day_says_so_and_is_not_planned(client, bj01, foreman, workshop):
    ClosedDay.objects.create(dealer=bj01, day=tomorrow(), reason="盘点")
    client.force_login(foreman)

    page = _board(client, bj01)
    answer = client.post(
        reverse("day-plan-optimise"), {"dealer": bj01.pk, "day": tomorrow()}, **HTMX
    )

    assert "盘点" in page.text and 'id="plan-optimise"' not in page.text
    assert "盘点" in answer.text and not DayPlan.objects.filter(dealer=bj01).exists()


def test_viewers_see_the_board_without_buttons_and_cannot_change_it(
    client, bj01, foreman, day_work
):
    plan = day_plan_build(actor=foreman, dealer=bj01, day=tomorrow(), time_limit=1)
    job = plan.jobs.first()
    technician = staff_of(bj01, "technician")
    client.force_login(technician)

    page = _board(client, bj01)
    pin = client.post(reverse("planned-job-pin", args=[job.pk]), {"pinned": "1"})

    assert page.status_code == 200 and len(page.context["jobs"]) == 2
    assert 'id="plan-optimise"' not in page.text and "pin-job" not in page.text
    assert pin.status_code == 403


def test_another_dealers_foreman_sees_their_own_board_and_cannot_touch_these_jobs(
    client, bj01, tj01, foreman, day_work
):
    plan = day_plan_build(actor=foreman, dealer=bj01, day=tomorrow(), time_limit=1)
    job = plan.jobs.first()
    client.force_login(staff_of(tj01, "foreman"))

    page = _board(client, bj01)  # asks for BJ01: gets their own dealer
    pin = client.post(reverse("planned-job-pin", args=[job.pk]), {"pinned": "1"})
    move = client.post(
        reverse("planned-job-move", args=[job.pk]),
        {"technician": job.technician_id, "bay": job.bay_id, "start": "15:00"},
    )

    assert page.context["dealer"] == tj01 and page.context["plan"] is None
    assert day_work["order"].number not in page.text
    assert pin.status_code == 404 and move.status_code == 404
