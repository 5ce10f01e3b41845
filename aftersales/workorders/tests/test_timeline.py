"""Repair orders in the customer 360 timeline."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from aftersales.crm.services import relationship_ensure
from aftersales.crm.timeline import customer_timeline
from aftersales.org.models import Dealer
from aftersales.workorders.choices import ROStatus
from aftersales.workorders.models import RepairOrder
from aftersales.workorders.testing import make_repair_order

S = ROStatus


@pytest.fixture
def visits(demo_org):
    """One customer's car serviced at BJ01 (delivered) and at SH01 (open)."""
    bj01, sh01 = Dealer.objects.get(code="BJ01"), Dealer.objects.get(code="SH01")
    ours = make_repair_order(dealer=bj01, status=S.DELIVERED)
    vehicle, customer = ours.vehicle, ours.customer
    relationship_ensure(dealer=sh01, vehicle=vehicle)
    theirs = make_repair_order(dealer=sh01, status=S.IN_PROGRESS, vehicle=vehicle)
    past = timezone.now() - datetime.timedelta(days=3)
    RepairOrder.objects.filter(pk=ours.pk).update(created_at=past, delivered_at=past)
    return customer, ours, theirs


def _ours(entries):
    return [e for e in entries if e.kind == "workorders.repair_order"]


def test_dealer_user_sees_his_dealers_orders_only(visits, demo_org):
    customer, ours, theirs = visits
    entries = _ours(customer_timeline(customer, demo_org["bj01-sa"]))
    assert {e.url for e in entries} == {reverse("repair-order-detail", args=[ours.pk])}
    titles = " ".join(e.title for e in entries)
    assert ours.number in titles and theirs.number not in titles
    # opened and delivered: two moments of the one order, newest first
    assert len(entries) == 2
    assert entries[0].at >= entries[1].at


def test_other_dealer_sees_its_own_order(visits, demo_org):
    customer, ours, theirs = visits
    entries = _ours(customer_timeline(customer, demo_org["sh01-sa"]))
    assert [e.url for e in entries] == [reverse("repair-order-detail", args=[theirs.pk])]


def test_paging_with_before_skips_newer_moments(visits, demo_org):
    customer, ours, _ = visits
    cut = timezone.now() - datetime.timedelta(days=1)
    entries = _ours(customer_timeline(customer, demo_org["bj01-sa"], before=cut))
    assert entries and all(e.at < cut for e in entries)


def test_customer_360_api_lists_the_visible_orders(client, visits, demo_org):
    customer, ours, theirs = visits
    client.force_login(demo_org["bj01-sa"])
    response = client.get(f"/api/crm/customers/{customer.pk}/360/")
    assert response.status_code == 200
    kinds = [row for row in response.json()["timeline"] if row["kind"] == "workorders.repair_order"]
    urls = {row["url"] for row in kinds}
    assert urls == {reverse("repair-order-detail", args=[ours.pk])}
    assert not any(theirs.number in row["title"] for row in kinds)
