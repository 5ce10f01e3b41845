"""The DCRC agent records a follow-up call in a real browser: the queue, a refused call
(a score missing), then the call recorded with its scores."""

import datetime
import os

import pytest

from aftersales.tests_browser.test_crm import browser_context, sign_in  # noqa: F401 - fixture

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dcrc_agent_records_a_follow_up_call(browser_context, live_server):  # noqa: F811
    from django.utils import timezone
    from playwright.sync_api import expect

    from aftersales.org.demo import load_org_demo
    from aftersales.org.models import Dealer
    from aftersales.workorders.choices import FollowUpStatus, ROStatus
    from aftersales.workorders.followup import QUESTIONS
    from aftersales.workorders.models import FollowUp
    from aftersales.workorders.testing import make_repair_order

    # given a delivered order of BJ01 whose follow-up call is due, and its DCRC agent
    load_org_demo()
    bj01 = Dealer.objects.get(code="BJ01")
    order = make_repair_order(dealer=bj01, status=ROStatus.DELIVERED)
    now = timezone.now()
    fu = FollowUp.objects.create(
        repair_order=order,
        dealer=bj01,
        opens_at=now - datetime.timedelta(hours=2),
        due_at=now + datetime.timedelta(hours=20),
    )
    page = browser_context.new_page()
    sign_in(page, live_server.url, "bj01-dcrc")

    # when they open the queue, the call is there with the customer's number
    page.goto(f"{live_server.url}/follow-ups/")
    row = page.locator("#follow-ups tbody tr", has_text=order.number)
    expect(row).to_contain_text(order.customer.mobile)
    row.get_by_role("link", name=order.number).click()

    # and record "reached" with one score missing: refused, the question says why
    page.locator("label[for=outcome-reached]").click()
    for key in list(QUESTIONS)[:-1]:
        page.locator(f"label[for={key}-4]").click()
    page.get_by_role("button", name="Record the call").click()
    expect(page.locator("#call-error")).to_be_visible()
    expect(page.locator("#scores")).to_contain_text("Give a score from 1 to 5.")

    # when they give the last score (a low one), the recommendation and a remark
    page.locator("label[for=outcome-reached]").click()
    for key in QUESTIONS:
        page.locator(f"label[for={key}-4]").click()
    page.locator(f"label[for={list(QUESTIONS)[-1]}-2]").click()
    page.locator("label[for=nps-7]").click()
    page.locator("#fu-remarks").fill("休息区太吵")
    page.get_by_role("button", name="Record the call").click()

    # then the call is recorded: done, with the answers shown and one call listed
    expect(page.locator(".alert-success")).to_contain_text("Call recorded")
    expect(page.locator("#fu-answers")).to_contain_text("7")
    expect(page.locator("#fu-calls li")).to_have_count(1)
    expect(page.locator("#call-form")).to_have_count(0)
    fu.refresh_from_db()
    assert fu.status == FollowUpStatus.DONE and fu.alerted_at is not None
    assert fu.scores[list(QUESTIONS)[-1]] == 2 and fu.scores["nps"] == 7
