"""The DCRC worklist in a real browser, on a tablet: an agent opens the month's reminder
tasks, opens a call with the customer 360 at hand, picks one of the offered free times,
books it and sees the reminder booked with its booking."""

import os
import re

import pytest

from aftersales.org.demo import DEMO_PASSWORD, load_org_demo
from aftersales.testing.browser import chromium_context

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

SCREENSHOT = "/tmp/reminder-call.png"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_context():
    # a tablet in landscape, in English so the checks read the texts as written in the code
    with chromium_context(
        viewport={"width": 1180, "height": 820}, locale="en-US", has_touch=True
    ) as context:
        yield context


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/$"))


def test_agent_books_a_free_time_from_the_call(browser_context, live_server):
    from playwright.sync_api import expect

    from aftersales.appointments.models import Booking
    from aftersales.appointments.testing import make_capacity
    from aftersales.org.models import Dealer, User
    from aftersales.reminders import services
    from aftersales.reminders.models import Reminder
    from aftersales.reminders.testing import make_reminder

    # given BJ01 with a workshop, a maintenance reminder of this month and a recall, both
    # assigned to BJ01's DCRC agent
    load_org_demo()
    bj = Dealer.objects.get(code="BJ01")
    make_capacity(bj)
    reminder = make_reminder(bj)
    recall = make_reminder(bj, kind="recall")
    agent = User.objects.get(username="bj01-dcrc")
    services.reminders_assign(
        actor=User.objects.get(username="bj01-dcrcmgr"), reminders=[reminder, recall], agent=agent
    )
    base = live_server.url
    page = browser_context.new_page()
    sign_in(page, base, "bj01-dcrc")

    # when the agent opens the reminder worklist from the bar
    page.locator('nav a[data-menu="reminder-worklist"]').click()
    rows = page.locator("#reminder-rows tbody tr[data-reminder]")
    # then their tasks are listed, the recall first
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-reminder", str(recall.pk))

    # when they open the maintenance reminder's call
    page.locator(f'tr[data-reminder="{reminder.pk}"] [data-action="open-call"]').click()
    # then the customer 360 is at hand with the number to call
    expect(page.locator("#customer-name")).to_have_text(reminder.customer.name)
    expect(page.locator("#customer-mobile")).to_contain_text(reminder.customer.mobile)

    # when they pick the first free time offered and book it
    first_slot = page.locator("#slot-list label.slot-choice").first
    expect(first_slot).to_be_visible()
    first_slot.click()
    page.locator("#book-form textarea[name=note]").fill("周六上午来")
    page.screenshot(path=SCREENSHOT, full_page=True)
    page.locator('[data-action="book"]').click()

    # then the worklist says it is booked; the reminder is booked with its booking
    expect(page.locator(".alert-success")).to_contain_text("Booked:")
    booking = Booking.objects.get(vehicle=reminder.vehicle)
    assert booking.channel == "dcrc"
    done = Reminder.objects.get(pk=reminder.pk)
    assert (done.status, done.booking_id) == ("booked", booking.pk)
    # and it left the list of tasks to call
    expect(page.locator("#reminder-rows tbody tr[data-reminder]")).to_have_count(1)

    # when they open it from the vehicle reminder sheet, it shows booked with the booking
    page.goto(f"{base}/reminders/{reminder.pk}/")
    expect(page.locator("#reminder-status [data-status]")).to_have_attribute(
        "data-status", "booked"
    )
    expect(page.locator("#reminder-booking")).to_contain_text(booking.number)
