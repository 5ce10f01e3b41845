"""The day-plan board in a real browser on a tablet: the foreman presses Optimise, the jobs
appear on the technicians' rows without a page reload, and pinning one marks it."""

import datetime
import os
import re

import pytest

from aftersales.org.demo import DEMO_PASSWORD, load_org_demo
from aftersales.testing.browser import chromium_context

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tablet():
    with chromium_context(
        viewport={"width": 1024, "height": 768}, locale="zh-CN", has_touch=True
    ) as context:
        yield context.new_page()


def test_optimise_and_pin_on_the_board(tablet, live_server):
    from django.utils import timezone
    from playwright.sync_api import expect

    from aftersales.appointments.models import PlannedJob
    from aftersales.appointments.testing import make_booking, make_capacity
    from aftersales.org.models import Dealer
    from aftersales.workorders.testing import make_repair_order

    # given BJ01 with a small workshop, an approved repair order and a booking tomorrow
    load_org_demo()
    dealer = Dealer.objects.get(code="BJ01")
    make_capacity(dealer)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    promised = timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time(17)))
    order = make_repair_order(dealer=dealer, status="approved", promised_at=promised)
    booking = make_booking(dealer)
    page = tablet
    page.goto(f"{live_server.url}/login/")
    page.locator("input[name=username]").fill("bj01-foreman")
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")

    # when the foreman opens tomorrow's board and presses Optimise
    page.goto(f"{live_server.url}/appointments/plan/?dealer={dealer.pk}&day={tomorrow}")
    expect(page.locator("#plan-none")).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    page.locator("#plan-optimise").click()

    # then both jobs are on the board, in place (no reload), with the summary
    expect(page.locator(".plan-job")).to_have_count(2)
    expect(page.locator("#plan-grid")).to_contain_text(order.number)
    expect(page.locator("#plan-grid")).to_contain_text(booking.number)
    expect(page.locator("#plan-status")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True

    # when they pin the repair order's job
    job = PlannedJob.objects.get(line__repair_order=order)
    page.locator(f'.pin-job[data-job="{job.pk}"]').click()

    # then its block is marked pinned and it is pinned in the plan
    expect(page.locator(f'.plan-job[data-job="{job.pk}"]')).to_have_class(
        re.compile(r"\bis-pinned\b")
    )
    job.refresh_from_db()
    assert job.pinned
