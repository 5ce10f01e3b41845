"""Reception in a real browser: the advisor finds the car by its plate, opens a repair
order, fills in the reception (a lower odometer asks for a reason), taps a damage mark on
the car diagram and checks the car in."""

import os
import re

import pytest
from django.urls import NoReverseMatch, reverse

from aftersales.org.demo import DEMO_PASSWORD, load_org_demo
from aftersales.testing.browser import chromium_context

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOT = "/tmp/reception-panel.png"


@pytest.fixture
def browser_page(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # a tablet in landscape, English so the checks read the messages as written
    with chromium_context(viewport={"width": 1280, "height": 900}, locale="en-US") as context:
        yield context.new_page()


def _detail_page_complete() -> bool:
    """The lead's repair-order page renders only when every area's panel exists."""
    from aftersales.workorders.views import TABS

    try:
        for _name, url_name in TABS:
            reverse(url_name, args=[1])
    except NoReverseMatch:
        return False
    return True


def settled(page):
    """Wait until htmx has no request in flight: an action's answer makes the repair-order
    page reload every panel (``ro-changed``), which would swap out what is typed meanwhile."""
    page.wait_for_function("() => document.querySelectorAll('.htmx-request').length === 0")


def test_open_fill_mark_and_check_in(browser_page, live_server):
    from playwright.sync_api import expect

    from aftersales.crm.testing import make_customer, make_vehicle
    from aftersales.org.models import Dealer
    from aftersales.workorders.choices import ROStatus
    from aftersales.workorders.models import RepairOrder

    # given BJ01's advisor signed in and a car last read at 8,000 km
    load_org_demo()
    bj01 = Dealer.objects.get(code="BJ01")
    vehicle = make_vehicle(
        owner=make_customer(dealer=bj01, name="李雷"),
        dealer=bj01,
        plate="京N12345",
        odometer_km=8000,
    )
    page = browser_page
    base = live_server.url
    page.goto(f"{base}/login/")
    page.locator("input[name=username]").fill("bj01-sa")
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/$"))

    # when they scan the plate (typed in lower case with a space, then Enter)
    page.goto(f"{base}{reverse('repair-order-new')}")
    page.locator("input[name=q]").fill("京n 12345")
    page.locator("input[name=q]").press("Enter")

    # then the car and its owner show, and they open a repair order
    expect(page.locator("#vehicle-vin")).to_have_text(vehicle.vin)
    expect(page.locator("#vehicle-owner")).to_contain_text("李雷")
    page.locator("#open-button").click()
    page.wait_for_url(re.compile(r".*/repair-orders/\d+/.*"))
    order = RepairOrder.objects.get(vehicle=vehicle)
    if not _detail_page_complete():
        # the repair-order page is not complete yet: load the panel into a page frame
        page.goto(f"{base}{reverse('repair-order-new')}")
        page.evaluate(
            "url => htmx.ajax('GET', url, {target: '#main', swap: 'innerHTML'})",
            reverse("ro-reception-panel", args=[order.pk]),
        )
    panel = page.locator("#ro-reception-panel")
    expect(panel).to_be_visible()
    settled(page)
    expect(page.locator("#check-in-button")).to_be_disabled()
    expect(page.locator("#check-in-refusals")).to_contain_text("Record the odometer reading.")

    # when they enter a lower odometer reading and save
    page.locator("#id_odometer_km").fill("7000")
    page.locator("label[for=fuel-50]").click()
    page.locator("#id_concern").fill("前轮刹车有异响")
    page.locator("#id_covers_installed").check()
    page.locator("#reception-save").click()

    # then a warning asks for a reason, and check-in says so
    expect(page.locator("[data-warning=odometer]")).to_contain_text("8000")
    expect(page.locator("#check-in-refusals")).to_contain_text("give a reason")
    settled(page)
    page.locator("#id_odometer_reason").fill("Instrument cluster replaced")
    page.locator("#reception-save").click()
    expect(page.locator("#check-in-refusals")).to_have_count(0)
    settled(page)

    # when they pick "Dent" and tap the front left of the car
    page.locator("label[for=mark-kind-dent]").click()
    page.locator("#car-diagram").click(position={"x": 40, "y": 90})

    # then mark 1 shows on the diagram and in the legend
    expect(page.locator("#mark-legend li")).to_have_count(1)
    expect(page.locator("#mark-legend li").first).to_contain_text("Dent")
    expect(page.locator("#car-diagram .damage-mark")).to_have_count(1)
    expect(page.locator("#id_covers_installed")).to_be_checked()
    expect(page.locator("#fuel-50")).to_be_checked()
    order.refresh_from_db()
    assert order.walkaround[0]["kind"] == "dent"
    assert 10 < order.walkaround[0]["x"] < 30 and 15 < order.walkaround[0]["y"] < 30
    settled(page)
    page.screenshot(path=SCREENSHOT, full_page=True)

    # when they check the car in
    page.locator("#check-in-button").click()

    # then the panel shows it checked in with the warranty decision
    expect(page.locator("#checked-in")).to_contain_text("Checked in")
    order.refresh_from_db()
    assert order.status == ROStatus.CHECKED_IN
    assert order.odometer_reason == "Instrument cluster replaced"
