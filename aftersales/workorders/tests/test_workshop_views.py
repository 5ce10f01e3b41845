"""Workshop pages and API: the boards, the technician's clock buttons, the work panel and
its actions, the API's refusals and idempotent parts issue, fixed query counts."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from aftersales.org.models import Dealer
from aftersales.parts.models import StockMove
from aftersales.workorders import workshop
from aftersales.workorders.choices import JobStatus, ROStatus
from aftersales.workorders.models import ClockEntry
from aftersales.workorders.testing import (
    add_labour_line,
    add_part_line,
    labour_line,
    make_bay,
    make_repair_order,
)

S = ROStatus
pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def client():
    # English, so the checks read the messages as written in the code
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def bj01(demo_org):
    return Dealer.objects.get(code="BJ01")


def assign(order, demo_org, *usernames, line=None, bay=None):
    order.refresh_from_db()
    return workshop.job_assign(
        actor=demo_org["bj01-foreman"],
        line=line or labour_line(order),
        technicians=[demo_org[u] for u in usernames or ("bj01-tech",)],
        bay=bay,
        version=order.version,
    )


# ---------------------------------------------------------------- my jobs


def test_technician_clocks_on_and_off_from_my_jobs(client, bj01, demo_org):
    # given a job assigned to the technician
    order = make_repair_order(dealer=bj01, status=S.APPROVED)
    job = assign(order, demo_org)
    client.force_login(demo_org["bj01-tech"])
    page = client.get(reverse("my-jobs"))
    assert page.status_code == 200 and job.description in page.content.decode()
    # when he presses Clock on (htmx)
    response = client.post(
        reverse("ro-job-clock-on", kwargs={"pk": job.pk}), {"view": "my-jobs"}, **HX
    )
    # then the list comes back with his running clock and the order refreshes elsewhere
    assert response.status_code == 200 and response["HX-Trigger"] == "ro-changed"
    assert 'data-testid="running-clock"' in response.content.decode()
    assert "<html" not in response.content.decode()
    # when he clocks off finished, the job leaves his list
    response = client.post(
        reverse("ro-job-clock-off", kwargs={"pk": job.pk}),
        {"view": "my-jobs", "reason": "finished"},
        **HX,
    )
    job.refresh_from_db()
    assert job.job_status == JobStatus.DONE
    assert f'data-job="{job.pk}"' not in response.content.decode()


def test_a_refused_clock_on_shows_the_reason_and_changes_nothing(client, bj01, demo_org):
    first = make_repair_order(dealer=bj01, status=S.APPROVED)
    second = make_repair_order(dealer=bj01, status=S.APPROVED)
    job1, job2 = assign(first, demo_org), assign(second, demo_org)
    client.force_login(demo_org["bj01-tech"])
    client.post(reverse("ro-job-clock-on", kwargs={"pk": job1.pk}), {"view": "my-jobs"}, **HX)
    response = client.post(
        reverse("ro-job-clock-on", kwargs={"pk": job2.pk}), {"view": "my-jobs"}, **HX
    )
    body = response.content.decode()
    assert response.status_code == 200 and "HX-Trigger" not in response
    assert 'data-testid="refusal"' in body and first.number in body
    assert ClockEntry.objects.filter(technician=demo_org["bj01-tech"]).count() == 1


def test_my_jobs_page_partial_refresh_and_fixed_queries(
    client, bj01, demo_org, django_assert_max_num_queries
):
    for _ in range(3):
        assign(make_repair_order(dealer=bj01, status=S.APPROVED), demo_org)
    client.force_login(demo_org["bj01-tech"])
    client.get(reverse("my-jobs"))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("my-jobs"), **HX)
    assert response.content.decode().lstrip().startswith('<div id="my-jobs-body"')
    for _ in range(5):
        assign(make_repair_order(dealer=bj01, status=S.APPROVED), demo_org)
    with django_assert_max_num_queries(12):
        client.get(reverse("my-jobs"), **HX)


# ---------------------------------------------------------------- the SA's list


def test_repair_order_list_highlights_late_orders_and_filters(client, bj01, demo_org):
    late = make_repair_order(
        dealer=bj01, status=S.IN_PROGRESS, promised_at=timezone.now() - timezone.timedelta(hours=2)
    )
    fine = make_repair_order(dealer=bj01, status=S.CHECKED_IN)
    other = make_repair_order(dealer=Dealer.objects.get(code="SH01"), status=S.IN_PROGRESS)
    client.force_login(demo_org["bj01-sa"])
    response = client.get(reverse("repair-order-list"))
    ids = [o.pk for o in response.context["object_list"]]
    assert ids[0] == late.pk and fine.pk in ids and other.pk not in ids
    assert "table-danger" in response.content.decode()
    filtered = client.get(reverse("repair-order-list"), {"status": S.CHECKED_IN})
    assert [o.pk for o in filtered.context["object_list"]] == [fine.pk]
    found = client.get(reverse("repair-order-list"), {"q": late.vehicle.vin[-6:]})
    assert [o.pk for o in found.context["object_list"]] == [late.pk]


def test_repair_order_list_query_count_is_fixed(
    client, bj01, demo_org, django_assert_max_num_queries
):
    for _ in range(3):
        make_repair_order(dealer=bj01, status=S.APPROVED)
    client.force_login(demo_org["bj01-sa"])
    client.get(reverse("repair-order-list"))
    with django_assert_max_num_queries(10) as few:
        client.get(reverse("repair-order-list"))
    for _ in range(10):
        make_repair_order(dealer=bj01, status=S.APPROVED)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("repair-order-list"))


# ---------------------------------------------------------------- the foreman's board


def test_foreman_assigns_from_the_board_queue(client, bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.APPROVED)
    bay = make_bay(bj01)
    job = labour_line(order)
    client.force_login(demo_org["bj01-foreman"])
    board = client.get(reverse("workshop-board"))
    assert f'data-queue-job="{job.pk}"' in board.content.decode()
    response = client.post(
        reverse("ro-job-assign", kwargs={"pk": job.pk}),
        {
            "view": "board",
            "version": order.version,
            "technicians": [demo_org["bj01-tech"].pk],
            "bay": bay.pk,
        },
        **HX,
    )
    body = response.content.decode()
    assert response["HX-Trigger"] == "ro-changed"
    assert f'data-queue-job="{job.pk}"' not in body and 'data-technician="bj01-tech"' in body
    job.refresh_from_db()
    assert job.job_status == JobStatus.ASSIGNED and job.bay == bay


def test_board_query_count_is_fixed(client, bj01, demo_org, django_assert_max_num_queries):
    bay = make_bay(bj01)
    for _ in range(2):
        assign(make_repair_order(dealer=bj01, status=S.APPROVED), demo_org, bay=bay)
    client.force_login(demo_org["bj01-foreman"])
    client.get(reverse("workshop-board"))
    with django_assert_max_num_queries(14) as few:
        client.get(reverse("workshop-board"), **HX)
    for _ in range(6):
        order = make_repair_order(dealer=bj01, status=S.APPROVED)
        assign(order, demo_org, "bj01-tech", "bj01-foreman", bay=bay)
        add_labour_line(order)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("workshop-board"), **HX)


# ---------------------------------------------------------------- the work panel


def test_panel_shows_jobs_hours_and_parts_and_issues_parts(client, bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.IN_PROGRESS)
    job = assign(order, demo_org)
    line = add_part_line(order, quantity="2")
    client.force_login(demo_org["bj01-parts"])
    panel = client.get(reverse("ro-work-panel", kwargs={"pk": order.pk}))
    body = panel.content.decode()
    assert job.description in body and f'data-part-line="{line.pk}"' in body
    assert reverse("ro-part-issue", kwargs={"pk": line.pk}) in body
    response = client.post(
        reverse("ro-part-issue", kwargs={"pk": line.pk}),
        {"quantity": "2", "idempotency_key": "panel-1"},
        **HX,
    )
    assert response["HX-Trigger"] == "ro-changed"
    # a double tap sends the same key: booked once
    client.post(
        reverse("ro-part-issue", kwargs={"pk": line.pk}),
        {"quantity": "2", "idempotency_key": "panel-1"},
        **HX,
    )
    line.refresh_from_db()
    assert line.issued_qty == 2
    assert StockMove.objects.filter(posting_key__startswith=f"{line.key}:issue").count() == 1


def test_panel_pause_with_a_stale_version_shows_the_conflict(client, bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.IN_PROGRESS)
    client.force_login(demo_org["bj01-foreman"])
    response = client.post(
        reverse("ro-work-pause", kwargs={"pk": order.pk}), {"version": order.version + 7}, **HX
    )
    assert "changed by someone else" in response.content.decode()
    order.refresh_from_db()
    assert order.status == S.IN_PROGRESS
    response = client.post(
        reverse("ro-work-pause", kwargs={"pk": order.pk}), {"version": order.version}, **HX
    )
    order.refresh_from_db()
    assert order.status == S.PAUSED and response["HX-Trigger"] == "ro-changed"


def test_another_dealers_order_is_not_found(client, bj01, demo_org):
    order = make_repair_order(dealer=Dealer.objects.get(code="TJ01"), status=S.IN_PROGRESS)
    client.force_login(demo_org["bj01-foreman"])
    assert client.get(reverse("ro-work-panel", kwargs={"pk": order.pk})).status_code == 404
    response = client.post(reverse("ro-job-clock-on", kwargs={"pk": labour_line(order).pk}))
    assert response.status_code == 404


# ---------------------------------------------------------------- API


def test_api_clock_on_twice_answers_409_with_the_code(client, bj01, demo_org):
    first = make_repair_order(dealer=bj01, status=S.APPROVED)
    second = make_repair_order(dealer=bj01, status=S.APPROVED)
    job1, job2 = assign(first, demo_org), assign(second, demo_org)
    client.force_login(demo_org["bj01-tech"])
    ok = client.post(reverse("api:ro-job-clock-on", kwargs={"pk": job1.pk}))
    assert ok.status_code == 201 and ok.json()["line"] == job1.pk
    refused = client.post(reverse("api:ro-job-clock-on", kwargs={"pk": job2.pk}))
    assert refused.status_code == 409 and refused.json()["code"] == "clocked_on"
    mine = client.get(reverse("api:ro-job-list")).json()
    assert {j["id"] for j in mine["results"]} == {job1.pk, job2.pk}
    assert mine["clock"]["line"] == job1.pk
    off = client.post(
        reverse("api:ro-job-clock-off", kwargs={"pk": job1.pk}),
        {"reason": "finished"},
        content_type="application/json",
    )
    assert off.status_code == 200 and off.json()["ended_at"]
    hours = client.get(reverse("api:ro-workshop-hours", kwargs={"pk": first.pk})).json()
    assert hours["jobs"][0]["line"] == job1.pk


def test_api_parts_issue_is_idempotent_by_header(client, bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.IN_PROGRESS)
    line = add_part_line(order, quantity="3")
    client.force_login(demo_org["bj01-parts"])
    url = reverse("api:ro-part-line-issue", kwargs={"pk": line.pk})
    for _ in range(2):
        response = client.post(
            url,
            {"quantity": "1"},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="retry-me-1",
        )
        assert response.status_code == 200 and response.json()["issued_qty"] == "1.00"
    closed = make_repair_order(dealer=bj01, status=S.DELIVERED)
    closed_line = add_part_line(closed, quantity="1")
    refused = client.post(
        reverse("api:ro-part-line-issue", kwargs={"pk": closed_line.pk}),
        {},
        content_type="application/json",
    )
    assert refused.status_code == 409 and refused.json()["code"] == "order_closed"


def test_api_boards_hide_another_dealers_rows(client, bj01, demo_org):
    mine = make_repair_order(dealer=bj01, status=S.APPROVED)
    theirs = make_repair_order(dealer=Dealer.objects.get(code="TJ01"), status=S.APPROVED)
    client.force_login(demo_org["bj01-foreman"])
    sa = client.get(reverse("api:ro-workshop-sa-board")).json()
    ids = {row["id"] for row in sa["results"]}
    assert mine.pk in ids and theirs.pk not in ids
    board = client.get(reverse("api:ro-workshop-foreman-board")).json()
    assert board["queue"] == [labour_line(mine).pk]
    assert labour_line(theirs).pk not in {j["id"] for j in board["jobs"]}


def test_service_manager_clocks_off_a_forgotten_clock_from_the_panel(client, bj01, demo_org):
    # given a technician who left his clock running
    order = make_repair_order(dealer=bj01, status=S.APPROVED)
    job = assign(order, demo_org)
    workshop.clock_on(actor=demo_org["bj01-tech"], line=job)
    client.force_login(demo_org["bj01-svcmgr"])
    panel = client.get(reverse("ro-work-panel", kwargs={"pk": order.pk})).content.decode()
    assert "Clock off for them" in panel
    # when the service manager clocks him off
    response = client.post(
        reverse("ro-job-clock-off", kwargs={"pk": job.pk}),
        {"technician": demo_org["bj01-tech"].pk, "reason": "end_of_day"},
        **HX,
    )
    # then the clock is closed in his name and the job stopped
    assert response["HX-Trigger"] == "ro-changed"
    entry = ClockEntry.objects.get(line=job)
    assert entry.ended_at is not None and entry.reason == "end_of_day"
    job.refresh_from_db()
    assert job.job_status == JobStatus.STOPPED
