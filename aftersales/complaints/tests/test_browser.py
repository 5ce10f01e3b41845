"""A complaint from the hotline to its closure in a real browser on a tablet-sized screen:
the agent receives and judges it, the specialist files and assigns it, the dealer submits
its plan, the specialist closes it."""

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
        viewport={"width": 1024, "height": 768}, has_touch=True, locale="zh-CN"
    ) as context:
        yield context


def _sign_in(context, base, username):
    context.clear_cookies()
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/")
    return page


def test_a_complaint_from_the_hotline_to_its_closure(tablet, live_server):
    from playwright.sync_api import expect

    from aftersales.complaints.choices import ComplaintStatus as S
    from aftersales.complaints.models import Complaint
    from aftersales.org.models import Dealer

    load_org_demo()
    bj01 = Dealer.objects.get(code="BJ01")
    base = live_server.url

    # given the customer-service agent on the intake screen
    page = _sign_in(tablet, base, "oem-csagent")
    page.locator('[data-menu="complaint-home"]').click()
    page.wait_for_url(f"{base}/complaints/intake/")
    # when they receive a hotline complaint
    page.locator("#id_channel").select_option("hotline")
    page.locator("#id_contact_name").fill("周女士")
    page.locator("#id_contact_phone").fill("13700003333")
    page.locator("#id_subject").fill("空调不制冷")
    page.locator("#id_description").fill("维修两次仍不制冷，要求更换压缩机。")
    page.locator('[data-action="receive"]').click()
    # then its page opens, and they judge it valid: to be filed
    page.wait_for_url(re.compile(r"/complaints/\d+/$"))
    complaint = Complaint.objects.get(subject="空调不制冷")
    expect(page.locator("#complaint-header [data-status]")).to_have_attribute("data-status", "new")
    page.locator('input[name="judge-decision"][value="to_file"]').check()
    page.locator("#id_judge-judgement").fill("核实维修记录，属实")
    page.locator('[data-action="judge"]').click()
    expect(page.locator("#complaint-header [data-status]")).to_have_attribute(
        "data-status", "to_file"
    )

    # when the specialist files it as an urgent quality complaint and assigns it to BJ01
    page = _sign_in(tablet, base, "oem-complaint")
    page.goto(f"{base}/complaints/workbench/?queue=to_file")
    page.locator(f'[data-complaint="{complaint.number}"] a').first.click()
    page.locator("#id_file-category").select_option("quality")
    page.locator("#id_file-grade").select_option("urgent")
    page.locator('[data-action="file"]').click()
    expect(page.locator("#complaint-deadline [data-left]")).to_be_visible()
    page.locator("#id_assign-region").select_option(str(bj01.region_id))
    page.locator("[data-dealer-select]").select_option(str(bj01.pk))
    page.locator('[data-action="assign"]').click()
    # then it is in handling at BJ01
    expect(page.locator("#complaint-dealer")).to_contain_text("BJ01")
    expect(page.locator('[data-step="plan"][data-step-status="open"]')).to_be_visible()

    # when the dealer's service manager finds it in their list and submits a plan
    page = _sign_in(tablet, base, "bj01-svcmgr")
    page.locator('[data-menu="complaint-home"]').click()
    page.locator(f'[data-complaint="{complaint.number}"] a').first.click()
    page.locator("#id_plan-plan").fill("更换压缩机，赠送一次空调保养")
    page.locator('[data-action="plan"]').click()
    expect(page.locator('[data-step="plan"][data-step-status="done"]')).to_contain_text(
        "更换压缩机"
    )

    # when the specialist closes it: first without evidence (refused), then with it
    page = _sign_in(tablet, base, "oem-complaint")
    page.goto(f"{base}/complaints/{complaint.pk}/")
    page.locator('input[name="close-condition"][value="done"]').check()
    page.locator('[data-action="close"]').click()
    expect(page.locator("#act-close .invalid-feedback")).to_be_visible()
    page.locator('input[name="close-condition"][value="done"]').check()
    page.locator("#id_close-evidence").fill("客户来电确认空调恢复正常")
    page.locator('[data-action="close"]').click()
    # then it is closed, on the condition recorded
    expect(page.locator("#complaint-header [data-status]")).to_have_attribute(
        "data-status", "closed"
    )
    expect(page.locator("#closure")).to_contain_text("客户来电确认空调恢复正常")
    complaint.refresh_from_db()
    assert complaint.status == S.CLOSED and complaint.closure_condition == "done"
    assert complaint.dealer == bj01 and complaint.category == "quality"
