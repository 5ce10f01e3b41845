"""The customer signs the estimate on a tablet: drawn with a finger on the order page,
stored as a PNG, and the order is approved without a page reload."""

import os

import pytest

from aftersales.org.demo import DEMO_PASSWORD, load_org_demo
from aftersales.workorders.tests.test_workshop_browser import tablet  # noqa: F401 - fixture

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_customer_signs_on_screen_from_the_reception_tab(tablet, live_server, settings, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    from aftersales.org.models import Dealer
    from aftersales.workorders.choices import ROStatus
    from aftersales.workorders.testing import make_repair_order

    settings.MEDIA_ROOT = str(tmp_path / "media")
    # given an estimated order with its terms, opened on another tab first
    load_org_demo()
    order = make_repair_order(dealer=Dealer.objects.get(code="BJ01"), status=ROStatus.ESTIMATED)
    page = tablet.new_page()
    page.goto(f"{live_server.url}/login/")
    page.locator("input[name=username]").fill("bj01-sa")
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/repair-orders/{order.pk}/?tab=reception")
    page.evaluate("() => (window.__noReload = 1)")
    # when the advisor turns to the estimate and the customer signs with a finger
    page.locator("#tab-estimate").click()
    canvas = page.locator("#est-sign canvas")
    expect(canvas).to_be_visible()
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 40)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 30 + step * 20, box["y"] + 40 + (step % 3) * 25)
    page.mouse.up()
    page.locator("#est-sign button[value=screen]").click()
    # then the order is approved on the same page, with the drawn signature stored
    expect(page.locator("#order-status")).to_have_attribute("data-status", "approved")
    assert page.evaluate("() => window.__noReload") == 1
    order.refresh_from_db()
    assert order.status == ROStatus.APPROVED and order.signature_kind == "screen"
    with order.signature.open("rb") as stored:
        assert stored.read(8) == b"\x89PNG\r\n\x1a\n"
