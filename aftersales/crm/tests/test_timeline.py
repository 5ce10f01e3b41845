"""The customer timeline: a feed of pluggable sources, merged newest first, paged with
``before``, showing only what the user may see."""

import contextlib
import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from aftersales.crm import timeline
from aftersales.crm.choices import VisitKind
from aftersales.crm.models import ServiceVisit
from aftersales.crm.services import odometer_record, ownership_transfer, relationship_ensure
from aftersales.crm.testing import make_customer, make_vehicle
from aftersales.crm.timeline import TimelineEntry, as_moment, customer_timeline

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@contextlib.contextmanager
def extra_source(name, entries):
    """Register a source for the length of the block, as another app would."""

    @timeline.timeline_source(name)
    def source(customer, user, limit, before):
        return [e for e in entries if before is None or e.at < before][:limit]

    try:
        yield source
    finally:
        timeline.SOURCES.pop(name, None)


def visit(customer, vehicle, dealer, day, amount="500.00"):
    return ServiceVisit.objects.create(
        customer=customer,
        vehicle=vehicle,
        dealer=dealer,
        visited_on=day,
        kind=VisitKind.MAINTENANCE,
        amount=Decimal(amount),
        odometer_km=1000,
    )


@pytest.fixture
def history(demo_org):
    """A BJ01 customer: registered today, owner since 2024-03-01, readings on 2024-09-01
    and 2025-01-05, a visit on 2025-01-05 (the same moment as that reading)."""
    sa = demo_org["bj01-sa"]
    customer = make_customer(dealer=sa.dealer, actor=sa)
    vehicle = make_vehicle(owner=customer, dealer=sa.dealer, actor=sa)
    odometer_record(actor=sa, vehicle=vehicle, km=5000, read_on=datetime.date(2024, 9, 1))
    odometer_record(actor=sa, vehicle=vehicle, km=9000, read_on=datetime.date(2025, 1, 5))
    visit(customer, vehicle, sa.dealer, datetime.date(2025, 1, 5))
    return sa, customer, vehicle


def test_entries_of_every_source_come_newest_first(history):
    # given a customer with a registration, an ownership, two readings and a visit
    sa, customer, _vehicle = history
    # when the timeline is read
    entries = customer_timeline(customer, sa)
    # then every source contributed, in time order, newest first (the visit and the
    # reading of 2025-01-05 share one moment)
    kinds = [e.kind for e in entries]
    assert kinds[0] == "crm.customer"
    assert sorted(kinds[1:3]) == ["crm.odometer", "crm.visits"]
    assert kinds[3:] == ["crm.odometer", "crm.ownership"]
    moments = [e.at for e in entries]
    assert moments == sorted(moments, reverse=True)
    assert entries[-1].at == as_moment(datetime.date(2024, 3, 1))
    assert "9000 km" in entries[1].title + entries[2].title


def test_paging_with_before_gives_every_entry_once(history):
    # given the customer's whole timeline
    sa, customer, _vehicle = history
    everything = customer_timeline(customer, sa, limit=100)
    assert len(everything) == 5
    # when it is read two entries at a time, each page starting before the last one seen
    pages, before = [], None
    while True:
        page = customer_timeline(customer, sa, limit=2, before=before)
        if not page:
            break
        assert len(page) <= 2
        pages.append(page)
        before = page[-1].at
    # then every entry comes exactly once, in the same order; the same-day visit and
    # reading are never split across pages (the second would be lost)
    assert [e for page in pages for e in page] == everything
    assert all(len(page) >= 1 for page in pages)


def test_before_leaves_out_the_newer_entries(history):
    sa, customer, _vehicle = history
    entries = customer_timeline(customer, sa, before=as_moment(datetime.date(2025, 1, 1)))
    assert [e.at.date() for e in entries] == [datetime.date(2024, 9, 1), datetime.date(2024, 3, 1)]


def test_a_source_registered_by_another_app_appears_in_the_feed(history):
    # given an app registering a source with an entry from 2024-12-24
    sa, customer, _vehicle = history
    christmas = TimelineEntry(
        at=as_moment(datetime.date(2024, 12, 24)), kind="tests.extra", title="Survey answered"
    )
    with extra_source("tests.extra", [christmas]):
        # when the timeline is read, then the entry is in its place among the others
        entries = customer_timeline(customer, sa)
        kinds = [e.kind for e in entries]
        assert "tests.extra" in kinds
        at = kinds.index("tests.extra")
        assert entries[at - 1].at > christmas.at > entries[at + 1].at
    # and once unregistered it is gone
    assert "tests.extra" not in timeline.SOURCES
    assert "tests.extra" not in [e.kind for e in customer_timeline(customer, sa)]


def test_an_old_ownership_that_ended_recently_is_not_lost_behind_later_ones(demo_org):
    # given a customer who owned car A from 2020 until 2025-01-10, and cars B and C
    # bought in 2022 and 2023
    sa = demo_org["bj01-sa"]
    customer = make_customer(dealer=sa.dealer, actor=sa)
    buyer = make_customer(dealer=sa.dealer, actor=sa)
    cars = [
        make_vehicle(
            owner=customer,
            dealer=sa.dealer,
            actor=sa,
            sale_date=datetime.date(year, 5, 1),
            invoice_date=datetime.date(year, 5, 1),
        )
        for year in (2020, 2022, 2023)
    ]
    ownership_transfer(actor=sa, vehicle=cars[0], new_owner=buyer, on_date="2025-01-10")
    # when the newest entry before June 2025 is asked for
    entries = customer_timeline(customer, sa, limit=1, before=as_moment(datetime.date(2025, 6, 1)))
    # then it is the end of car A's ownership, not the purchase of car C
    assert [(e.at, e.title) for e in entries] == [
        (as_moment(datetime.date(2025, 1, 10)), f"No longer owner of {cars[0]}")
    ]


def test_readings_after_the_car_was_sold_are_not_on_the_old_owners_timeline(history):
    # given the customer's car sold to a buyer on 2025-02-01, then read at 12,000 km
    sa, customer, vehicle = history
    buyer = make_customer(dealer=sa.dealer, actor=sa, name="李娜")
    ownership_transfer(actor=sa, vehicle=vehicle, new_owner=buyer, on_date="2025-02-01")
    odometer_record(actor=sa, vehicle=vehicle, km=12000, read_on=datetime.date(2025, 3, 1))
    # then the old owner's timeline has their own readings only, the buyer's the new one
    old = [e.title for e in customer_timeline(customer, sa) if e.kind == "crm.odometer"]
    new = [e.title for e in customer_timeline(buyer, sa) if e.kind == "crm.odometer"]
    assert [t.split()[-2] for t in old] == ["9000", "5000"]
    assert [t.split()[-2] for t in new] == ["12000"]


def test_a_dealer_sees_only_its_own_visits_and_the_vehicles_it_knows(history, demo_org):
    # given the customer also visited SH01 with a second car only SH01 knows
    sa, customer, vehicle = history
    sh_sa = demo_org["sh01-sa"]
    relationship_ensure(dealer=sh_sa.dealer, vehicle=vehicle)
    other_car = make_vehicle(owner=customer, dealer=sh_sa.dealer, actor=None)
    visit(customer, other_car, sh_sa.dealer, datetime.date(2025, 2, 2))
    # when BJ01 and the OEM read the timeline
    seen_by_bj = customer_timeline(customer, sa)
    seen_by_oem = customer_timeline(customer, demo_org["oem-csagent"])
    # then BJ01 sees neither SH01's visit nor the car it does not know; the OEM sees both
    assert sum(e.kind == "crm.visits" for e in seen_by_bj) == 1
    assert sum(e.kind == "crm.visits" for e in seen_by_oem) == 2
    assert sum(e.kind == "crm.ownership" for e in seen_by_bj) == 1
    assert sum(e.kind == "crm.ownership" for e in seen_by_oem) == 2


def test_a_merged_duplicate_shows_on_the_survivors_timeline(history, demo_org):
    from aftersales.crm.services import customer_merge

    sa, customer, _vehicle = history
    duplicate = make_customer(dealer=sa.dealer, actor=sa, name="张伟二")
    customer_merge(actor=demo_org["bj01-svcmgr"], survivor=customer, duplicate=duplicate)
    titles = [e.title for e in customer_timeline(customer, sa)]
    assert "Duplicate record 张伟二 merged into this one" in titles


def test_entries_serialise_for_the_api(history):
    sa, customer, _vehicle = history
    data = customer_timeline(customer, sa, limit=1)[0].as_dict()
    assert set(data) == {"at", "kind", "title", "detail", "url"}
    assert datetime.datetime.fromisoformat(data["at"])
