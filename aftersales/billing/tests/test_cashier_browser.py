"""The cashier screen in a real browser: the change for cash is worked out as the cashier
types, the payment settles the order, and a double click records it once."""

import os
from decimal import Decimal

import pytest

from aftersales.org.demo import DEMO_PASSWORD, load_org_demo
from aftersales.testing.browser import chromium_context

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk():
    with chromium_context(viewport={"width": 1280, "height": 900}, locale="zh-CN") as context:
        yield context.new_page()


def test_cash_payment_shows_the_change_and_settles_the_order(desk, live_server):
    from playwright.sync_api import expect

    from aftersales.billing.models import Payment
    from aftersales.billing.testing import make_invoice
    from aftersales.org.models import Dealer
    from aftersales.workorders.choices import ROStatus

    # given a delivered BJ01 order whose customer invoice of 324.50 is due
    load_org_demo()
    invoice = make_invoice(dealer=Dealer.objects.get(code="BJ01"), gross="324.50")
    order = invoice.repair_order
    page = desk
    page.goto(f"{live_server.url}/login/")
    page.locator("input[name=username]").fill("bj01-cashier")
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")

    # when the cashier opens the order, chooses cash and types 400 handed over
    page.goto(f"{live_server.url}/cashier/orders/{order.pk}/")
    expect(page.locator("[data-due]").first).to_contain_text("324.50")
    form = page.locator('form[data-form="pay"]').first
    form.locator('[data-role="method"]').select_option("cash")
    form.locator('input[name$="amount"]').fill("324.50")
    form.locator('input[name$="tendered"]').fill("400")

    # then the change shows at once, in Chinese
    expect(form.locator("[data-change]")).to_have_text("找零 ¥75.50")

    # when they take the payment with a double click
    form.locator('button[type="submit"]').dblclick()

    # then one payment is recorded, the order is settled and closed
    expect(page.locator('[data-settled="yes"]')).to_be_visible()
    assert Payment.objects.filter(invoice=invoice).count() == 1
    payment = Payment.objects.get(invoice=invoice)
    assert (payment.amount, payment.tendered, payment.change) == (
        Decimal("324.50"),
        Decimal("400.00"),
        Decimal("75.50"),
    )
    order.refresh_from_db()
    assert order.status == ROStatus.CLOSED
