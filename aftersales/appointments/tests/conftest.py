"""Shared fixtures of the appointment tests: a dealer with a small workshop, a customer's
vehicle, and a fixed "now" a few days before a working Thursday."""

import datetime

import pytest
from django.utils import timezone

from aftersales.appointments.testing import make_capacity
from aftersales.crm.testing import make_customer, make_vehicle
from aftersales.org.models import Dealer
from aftersales.workorders.testing import advisor_of, make_operation, staff_of

DAY = datetime.date(2026, 12, 3)  # a Thursday
NOW = timezone.make_aware(datetime.datetime(2026, 11, 30, 9, 0))


def at(hour, minute=0, day=DAY):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@pytest.fixture
def bj01(demo_org):
    return Dealer.objects.get(code="BJ01")


@pytest.fixture
def tj01(demo_org):
    return Dealer.objects.get(code="TJ01")


@pytest.fixture
def workshop(bj01):
    """BJ01 open 08:30-18:00 every day: a general and a quick-service bay, two all-round
    technicians, one advisor."""
    return make_capacity(bj01, technicians=2, advisors=1)


@pytest.fixture
def sa(bj01):
    return advisor_of(bj01)


@pytest.fixture
def manager(bj01):
    return staff_of(bj01, "service_manager")


@pytest.fixture
def vehicle(bj01):
    return make_vehicle(owner=make_customer(dealer=bj01), dealer=bj01)


@pytest.fixture
def oil_change():
    return make_operation(code="APOIL", name="更换机油机滤", hours="1.0", category="maintenance")
