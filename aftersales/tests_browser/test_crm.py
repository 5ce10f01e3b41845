"""The CRM pages in a real browser: a service advisor registers a customer and a vehicle
(seeing and fixing the validation errors), records an odometer reading and finds the
customer again by plate and by VIN; a service manager reveals the ID number."""

import os
import re

import pytest

from aftersales.org.demo import DEMO_PASSWORD, load_org_demo
from aftersales.testing.browser import chromium_context

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

SCREENSHOT = "/tmp/crm-360.png"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_context():
    # English, so the checks read the messages as written in the code
    with chromium_context(viewport={"width": 1366, "height": 900}, locale="en-US") as context:
        yield context


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/$"))


def field_error(page, name):
    """The error shown under a form field."""
    return page.locator(f"[name={name}] ~ .invalid-feedback")


def test_register_customer_and_vehicle_search_and_reveal(browser_context, live_server):
    from playwright.sync_api import expect

    from aftersales.catalogue.demo import load_catalogue_demo
    from aftersales.catalogue.models import Variant
    from aftersales.crm.testing import valid_id_number, valid_vin

    # given the demo organisation and catalogue, and BJ01's service advisor signed in
    load_org_demo()
    load_catalogue_demo()
    variant = Variant.objects.get(code="X3-15T-2024")
    id_number = valid_id_number(seq=777)
    vin = valid_vin(variant.vin_prefix, variant.model_year, serial=424242)
    wrong_vin = vin[:8] + ("1" if vin[8] != "1" else "2") + vin[9:]
    base = live_server.url
    page = browser_context.new_page()
    sign_in(page, base, "bj01-sa")

    # when they open Customers and register a customer with a 10-digit mobile
    page.locator('nav a[data-menu="customer-list"]').click()
    page.locator('[data-action="new-customer"]').click()
    page.locator("input[name=name]").fill("欧阳娜娜")
    page.locator("input[name=mobile]").fill("1391234567")
    page.locator("input[name=id_number]").fill(id_number)
    page.locator("input[name=tags]").fill("VIP")
    page.get_by_role("button", name="Save").click()

    # then the mobile field says what is wrong, and the other input is kept
    expect(field_error(page, "mobile")).to_have_text("A mobile number has 11 digits, not 10.")
    expect(page.locator("input[name=mobile]")).to_have_class(re.compile("is-invalid"))
    expect(page.locator("input[name=name]")).to_have_value("欧阳娜娜")

    # when they fix the number, the customer is registered and the 360 opens
    page.locator("input[name=mobile]").fill("139 1234 5678")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#customer-name")).to_have_text("欧阳娜娜")
    expect(page.locator("#customer-mobile")).to_have_text("13912345678")
    customer_url = page.url

    # when they add a vehicle with a wrong VIN check digit
    page.locator('[data-action="add-vehicle"]').click()
    page.locator("input[name=vin]").fill(wrong_vin)
    page.locator("input[name=plate]").fill("京A9B876")
    page.locator("select[name=variant]").select_option(str(variant.pk))
    page.locator("input[name=sale_date]").fill("2025-05-01")
    page.get_by_role("button", name="Save").click()

    # then the VIN field says which check digit it should be
    expect(field_error(page, "vin")).to_contain_text(f"should be {vin[8]}")

    # when they fix the VIN, the vehicle is registered
    page.locator("input[name=vin]").fill(vin)
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#vehicle-vin")).to_have_text(vin)
    expect(page.locator("#warranty")).to_contain_text("2028-04-30")

    # when they record an odometer reading
    page.locator("#odometer-form input[name=km]").fill("1500")
    page.locator("#odometer-form button[type=submit]").click()

    # then it is the vehicle's odometer now, and listed
    expect(page.locator(".alert-success")).to_contain_text("1500 km")
    expect(page.locator("#vehicle-odometer")).to_contain_text("1500 km")
    expect(page.locator("#odometer table tbody tr").first).to_contain_text("1500")

    for query in ("京A9B876", vin[-8:]):
        # when they search the customer list by the plate, then by the VIN's last 8
        page.locator('nav a[data-menu="customer-list"]').click()
        page.locator("input[name=q]").fill(query)
        page.locator("input[name=q]").press("Enter")
        # then the vehicle is found and its owner's 360 is one click away
        hits = page.locator("#search-results tr.app-hit")
        expect(hits).to_have_count(1)
        expect(hits.first).to_contain_text("京A9B876")
        hits.first.locator('[data-action="owner-360"]').click()
        expect(page.locator("#customer-name")).to_have_text("欧阳娜娜")
        expect(page.locator("#vehicles")).to_contain_text(vin)
        expect(page.locator("#timeline")).to_contain_text("odometer 1500 km")

    # the advisor sees the ID number masked and may not reveal it
    expect(page.locator('[data-id-number="masked"]')).to_have_text(
        id_number[:6] + "********" + id_number[-4:]
    )
    expect(page.locator('[data-action="reveal-id"]')).to_have_count(0)

    # when BJ01's service manager opens the same customer and presses "Reveal"
    browser_context.clear_cookies()
    sign_in(page, base, "bj01-svcmgr")
    page.goto(customer_url)
    page.locator('[data-action="reveal-id"]').click()

    # then the full number replaces the masked one, in place
    expect(page.locator('[data-id-number="revealed"]')).to_have_text(id_number)
    expect(page.locator("#customer-name")).to_have_text("欧阳娜娜")
    page.screenshot(path=SCREENSHOT, full_page=True)
