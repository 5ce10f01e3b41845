"""The booking statistics page, its Excel export and its API: filters within the user's
scope, a per-dealer table for region users, a fixed number of queries."""

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from aftersales.appointments.bookings import booking_create
from aftersales.appointments.testing import make_capacity
from aftersales.appointments.tests.conftest import DAY, NOW, at
from aftersales.appointments.tests.test_stats import make_four_bookings
from aftersales.crm.testing import make_customer, make_vehicle
from aftersales.org.models import Dealer, Region
from aftersales.workorders.choices import BayKind
from aftersales.workorders.testing import staff_of

pytestmark = pytest.mark.django_db
QUERY = {"first": DAY.isoformat(), "last": DAY.isoformat()}


@pytest.fixture
def north(bj01, tj01, workshop, sa):
    """BJ01's four bookings on DAY (see test_stats) and TJ01 with a bay and a technician
    but no bookings."""
    make_capacity(tj01, bays=(BayKind.GENERAL,), technicians=1)
    return make_four_bookings(bj01, sa)


def test_the_region_manager_compares_the_regions_dealers(client, north, demo_org, bj01):
    client.force_login(demo_org["north-rm"])

    page = client.get(reverse("appointment-stats"), QUERY)

    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="stats-dealers"' in html and "TJ01" in html
    assert 'name="dealer"' in html and 'name="region"' in html
    assert [d["dealer"] for d in page.context["stats"]["per_dealer"]] == ["BJ01", "TJ01"]
    assert {b.number for b in page.context["object_list"]} == {b.number for b in north}
    assert all(b.number in html for b in north)


def test_a_dealer_or_region_filter_narrows_the_figures(client, north, demo_org, bj01, tj01):
    client.force_login(demo_org["north-rm"])
    url = reverse("appointment-stats")

    only_tj01 = client.get(url, {**QUERY, "dealer": tj01.pk}).context["stats"]
    only_bj01 = client.get(url, {**QUERY, "dealer": bj01.pk}).context["stats"]
    whole = client.get(url, {**QUERY, "region": bj01.region_id}).context["stats"]

    assert (only_tj01["bookings"], only_tj01["available_hours"]) == (0, 9.5)
    assert (only_bj01["bookings"], only_bj01["available_hours"]) == (4, 19.0)
    assert (whole["bookings"], whole["available_hours"]) == (4, 28.5)


def test_a_dealer_or_region_out_of_reach_is_not_found(client, north, demo_org, sa):
    shanghai = Dealer.objects.get(code="SH01")
    east = Region.objects.get(code="EAST")
    tj01 = Dealer.objects.get(code="TJ01")

    client.force_login(demo_org["north-rm"])
    assert client.get(reverse("appointment-stats"), {"dealer": shanghai.pk}).status_code == 404
    assert client.get(reverse("appointment-stats"), {"region": east.pk}).status_code == 404
    api = client.get(reverse("api:booking-stats-list"), {"dealer": shanghai.pk})
    assert api.status_code == 404 and api.json()["code"] == "not_found"
    # a dealer's advisor does not see the other dealer of the same region
    client.force_login(sa)
    assert client.get(reverse("appointment-stats"), {"dealer": tj01.pk}).status_code == 404
    page = client.get(reverse("appointment-stats"), QUERY)
    assert page.context["dealers"] == [] and 'id="stats-dealers"' not in page.content.decode()


def test_the_excel_export_holds_the_figures(client, north, sa):
    client.force_login(sa)

    response = client.get(reverse("appointment-stats"), {**QUERY, "format": "xlsx"})

    assert response.status_code == 200
    assert (
        f"booking-stats-{DAY.isoformat()}-{DAY.isoformat()}.xlsx"
        in (response["Content-Disposition"])
    )
    book = load_workbook(io.BytesIO(response.content))
    assert len(book.worksheets) == 5
    summary = {row[0]: row[1] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert list(summary.values())[:6] == [4, 1, 1, 1, 1, 50.0]
    channels = {row[0]: row[1] for row in book.worksheets[1].iter_rows(min_row=2, values_only=True)}
    assert sum(channels.values()) == 4 and len(channels) == 7
    technicians = list(book.worksheets[3].iter_rows(min_row=2, values_only=True))
    assert [row[1] for row in technicians] == [9.5, 9.5]
    dealers = list(book.worksheets[4].iter_rows(min_row=2, values_only=True))
    assert [(row[0], row[2], row[12]) for row in dealers] == [("BJ01", 4, 10.5)]


def test_the_api_answers_the_readers_scope(client, north, tj01):
    client.force_login(staff_of(tj01, "service_advisor"))

    body = client.get(reverse("api:booking-stats-list"), QUERY).json()

    assert body["bookings"] == 0 and body["first"] == DAY.isoformat()
    assert body["available_hours"] == 9.5 and [d["dealer"] for d in body["per_dealer"]] == ["TJ01"]


def test_the_number_of_queries_does_not_grow_with_the_bookings(client, bj01, workshop, sa):
    client.force_login(sa)
    url = reverse("api:booking-stats-list")
    two_days = {"first": DAY.isoformat(), "last": (DAY + datetime.timedelta(days=1)).isoformat()}
    make_four_bookings(bj01, sa)
    client.get(url, two_days)  # warm the per-request caches of the first call
    with CaptureQueriesContext(connection) as few:
        assert client.get(url, two_days).json()["bookings"] == 4

    for hour in (9, 10, 11, 14, 15):
        booking_create(
            actor=sa,
            dealer=bj01,
            vehicle=make_vehicle(owner=make_customer(dealer=bj01), dealer=bj01),
            service_type="maintenance",
            channel="web",
            starts_at=at(hour, day=DAY + datetime.timedelta(days=1)),
            now=NOW,
        )
    with CaptureQueriesContext(connection) as more:
        assert client.get(url, two_days).json()["bookings"] == 9
    assert len(more) == len(few)
