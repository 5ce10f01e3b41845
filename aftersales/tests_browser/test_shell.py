"""The staff shell in a real browser: sign in, Chinese by default, switch to English,
open the dealers page and see only one's own dealer."""

import os

import pytest

from aftersales.org.demo import DEMO_PASSWORD, load_org_demo
from aftersales.testing.browser import chromium_context

# Playwright's sync API runs an event loop in this thread; the ORM calls made here (loading
# the demo data) are ordinary synchronous ones.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

SCREENSHOT = "/tmp/shell.png"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page():
    with chromium_context(viewport={"width": 1280, "height": 800}, locale="zh-CN") as context:
        yield context.new_page()


def test_sign_in_switch_language_and_see_own_dealer(page, live_server):
    from playwright.sync_api import expect

    # given the demo organisation and the BJ01 dealer administrator on the sign-in page
    load_org_demo()
    page.goto(f"{live_server.url}/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_label("用户名或手机号")).to_be_visible()

    # when they sign in
    page.get_by_label("用户名或手机号").fill("bj01-admin")
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()

    # then they land on home with the Chinese navigation and their role
    dealers_link = page.locator('nav a[data-menu="dealer-list"]')
    expect(dealers_link).to_have_text("经销商")
    expect(page.locator("main")).to_contain_text("经销商管理员")

    # when they switch the language to English
    page.locator("#language-menu").click()
    page.locator('button[name="language"][value="en"]').click()

    # then the page and the navigation are in English
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(dealers_link).to_have_text("Dealers")
    expect(page.locator('nav a[data-menu="staff-list"]')).to_have_text("Staff")
    expect(page.locator("main")).to_contain_text("Dealer administrator")

    # when they open the dealers page
    dealers_link.click()

    # then only their own dealer is listed, and its menu entry is the current one
    expect(page).to_have_url(f"{live_server.url}/org/dealers/")
    expect(dealers_link).to_have_class("nav-link active")
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("BJ01")
    expect(page.locator("main")).not_to_contain_text("SH01")
    page.screenshot(path=SCREENSHOT, full_page=True)


def test_the_menu_keeps_one_line_on_a_tablet_and_shows_the_current_entry(page, live_server):
    from playwright.sync_api import expect

    # given a service advisor (a long menu) signed in on a 1024-pixel-wide tablet
    load_org_demo()
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("用户名或手机号").fill("bj01-sa")
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()

    # when they open the vehicles, an entry far along the menu
    page.goto(f"{live_server.url}/crm/vehicles/")

    # then the menu is one line of whole labels (not a column of single characters) and
    # the current entry is scrolled into view
    current = page.locator(".app-menu .nav-link.active")
    expect(current).to_have_attribute("data-menu", "vehicle-list")
    assert page.locator(".app-navbar").bounding_box()["height"] < 80
    for box in (link.bounding_box() for link in page.locator(".app-menu .nav-link").all()):
        assert box["height"] < 60
    box = current.bounding_box()
    assert 0 <= box["x"] and box["x"] + box["width"] <= 1024
