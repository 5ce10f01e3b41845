"""The technician's job list in a real browser on a tablet-sized screen: clock on, be
refused a second job with the reason shown, clock off finished, without a page reload."""

import os

import pytest

from aftersales.org.demo import DEMO_PASSWORD, load_org_demo
from aftersales.testing.browser import chromium_context

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tablet():
    with chromium_context(
        viewport={"width": 1024, "height": 768}, locale="en-US", has_touch=True
    ) as context:
        yield context


def test_technician_clocks_on_and_off_on_my_jobs(tablet, live_server):
    from playwright.sync_api import expect

    from aftersales.org.models import Dealer, User
    from aftersales.workorders import workshop
    from aftersales.workorders.choices import JobStatus, ROStatus
    from aftersales.workorders.models import ClockEntry
    from aftersales.workorders.testing import labour_line, make_repair_order

    # given two jobs on two orders assigned to BJ01's technician
    load_org_demo()
    bj01 = Dealer.objects.get(code="BJ01")
    foreman = User.objects.get(username="bj01-foreman")
    tech = User.objects.get(username="bj01-tech")
    jobs = []
    for _ in range(2):
        order = make_repair_order(dealer=bj01, status=ROStatus.APPROVED)
        jobs.append(
            workshop.job_assign(
                actor=foreman, line=labour_line(order), technicians=[tech], version=order.version
            )
        )
    first, second = jobs
    page = tablet.new_page()
    page.goto(f"{live_server.url}/login/")
    page.locator("input[name=username]").fill("bj01-tech")
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")

    # when he opens his jobs and taps Clock on for the first
    page.goto(f"{live_server.url}/workshop/my-jobs/")
    marker = page.evaluate("() => (window.__noReload = 1)")
    assert marker == 1
    expect(page.get_by_test_id("no-clock")).to_be_visible()
    page.locator(f'[data-job="{first.pk}"] [data-action="clock-on"]').tap()

    # then his running clock shows, on the same page (no reload)
    expect(page.get_by_test_id("running-clock")).to_contain_text(first.repair_order.number)
    assert page.evaluate("() => window.__noReload") == 1
    assert ClockEntry.objects.filter(technician=tech, ended_at__isnull=True).count() == 1

    # when he taps Clock on for the second job, the reason is shown and nothing changes
    page.locator(f'[data-job="{second.pk}"] [data-action="clock-on"]').tap()
    expect(page.get_by_test_id("refusal")).to_contain_text("clock off first")
    assert ClockEntry.objects.filter(technician=tech).count() == 1

    # when he clocks off the first as finished
    page.locator(f'[data-job="{first.pk}"] [data-action="clock-off-finished"]').tap()
    expect(page.get_by_test_id("no-clock")).to_be_visible()
    expect(page.locator(f'[data-job="{first.pk}"]')).to_have_count(0)
    expect(page.locator(f'[data-job="{second.pk}"]')).to_be_visible()
    first.refresh_from_db()
    assert first.job_status == JobStatus.DONE and first.actual_hours >= 0
    assert page.evaluate("() => window.__noReload") == 1
    # the buttons are big enough to hit with a finger
    box = page.locator(f'[data-job="{second.pk}"] [data-action="clock-on"]').bounding_box()
    assert box["height"] >= 44
