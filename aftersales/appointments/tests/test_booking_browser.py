"""The booking form in a real browser on a tablet-sized screen: find the car by its plate,
the free times appear and follow the form, pick one, book, and the booking is on the
calendar's day view."""

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
        viewport={"width": 1024, "height": 768}, has_touch=True, locale="zh-CN"
    ) as context:
        yield context.new_page()


def test_book_a_suggested_time_and_see_it_on_the_calendar(tablet, live_server):
    from django.utils import timezone
    from playwright.sync_api import expect

    from aftersales.appointments.models import Booking
    from aftersales.appointments.testing import make_capacity
    from aftersales.crm.testing import make_customer, make_vehicle
    from aftersales.org.models import Dealer
    from aftersales.workorders.testing import make_operation

    # given BJ01 with a small workshop and a customer's car
    load_org_demo()
    bj01 = Dealer.objects.get(code="BJ01")
    make_capacity(bj01)
    make_operation(code="APBRAKE", name="更换前刹车片", hours="1.5", category="maintenance")
    car = make_vehicle(owner=make_customer(dealer=bj01), dealer=bj01)
    page = tablet
    page.goto(f"{live_server.url}/login/")
    page.locator("input[name=username]").fill("bj01-sa")
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")

    # when the advisor opens the booking form and finds the car by its plate
    page.goto(f"{live_server.url}/appointments/new/")
    page.locator("#bn-q").fill(car.plate)
    page.locator("#booking-find").click()
    expect(page.locator("#booking-vehicle")).to_contain_text(car.vin)

    # then free times are suggested, and they follow the chosen operation
    first_choice = page.locator(".slot-choice").first
    expect(first_choice).to_be_visible()
    expect(page.locator("#slot-needs")).to_contain_text("1.0")
    page.locator("#id_operations").select_option(label="APBRAKE 更换前刹车片 (1.50 h)")
    expect(page.locator("#slot-needs")).to_contain_text("1.5")
    # when they pick the second free time of the day after tomorrow and book
    day = timezone.localdate() + datetime.timedelta(days=2)
    page.locator("#id_day").fill(day.isoformat())
    page.locator("#id_day").dispatch_event("change")
    # (the free times are fetched again on each change: pick one once the last fetch is in,
    # or a late answer replaces the list and the pick with it)
    expect(page.locator(".htmx-request")).to_have_count(0)
    day_slots = page.locator(f'.slot-day[data-day="{day.isoformat()}"] .slot-choice')
    expect(day_slots.nth(1)).to_be_visible()
    picked = day_slots.nth(1).inner_text()
    day_slots.nth(1).click()
    page.locator("#id_concern").fill("常规保养")
    expect(page.locator("input[name=starts_at]:checked")).to_have_count(1)
    page.locator("#booking-submit").click()

    # then the booking page opens, and the day's calendar shows the booking at that time
    page.wait_for_url(re.compile(r"/appointments/\d+/$"))
    booking = Booking.objects.get(vehicle=car)
    assert timezone.localtime(booking.starts_at).strftime("%H:%M") == picked
    assert timezone.localdate(booking.starts_at) == day
    assert booking.hours == 1.5 and booking.concern == "常规保养"
    expect(page.locator("#booking-when")).to_contain_text(picked)
    page.locator(".breadcrumb a").first.click()
    block = page.locator("#day-timeline .cal-block", has_text=car.plate)
    expect(block).to_be_visible()
    expect(block).to_contain_text(picked)
    expect(page.locator(f'[data-booking="{booking.number}"]')).to_contain_text(picked)
