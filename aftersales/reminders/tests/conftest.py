import datetime
import itertools

import pytest

from aftersales.catalogue.models import VehicleModel
from aftersales.crm.choices import OdometerSource, VisitKind
from aftersales.crm.models import Customer, OdometerReading, ServiceVisit, Vehicle
from aftersales.crm.testing import make_customer, make_vehicle
from aftersales.org.models import Dealer, User
from aftersales.reminders.models import Reminder

D = datetime.date
_logins = itertools.count(1)


@pytest.fixture
def dealers(demo_org):
    return {d.code: d for d in Dealer.objects.all()}


@pytest.fixture
def bj(dealers):
    return dealers["BJ01"]


@pytest.fixture
def tj(dealers):
    return dealers["TJ01"]


def set_intervals(vehicle, **intervals):
    """The catalogue intervals of the vehicle's model (first_service_months, ...)."""
    VehicleModel.objects.filter(pk=vehicle.variant.vehicle_model_id).update(**intervals)


def car(
    dealer,
    *,
    sold,
    readings=(),
    visits=(),
    birthday=None,
    registered=False,
    owner=None,
    **fields,
):
    """A vehicle sold (invoiced) on ``sold`` by ``dealer``; ``readings`` are (day, km),
    the last one also the vehicle's odometer; ``visits`` are (day, km, dealer, kind).
    Warranty and insurance dates are cleared unless given, so each test sees only the
    reminders it is about."""
    if owner is None:
        owner = make_customer(dealer=dealer)
        user = User.objects.create(username=f"owner{next(_logins)}") if registered else None
        Customer.objects.filter(pk=owner.pk).update(user=user, birthday=birthday)
    vehicle = make_vehicle(owner=owner, dealer=dealer, sale_date=sold, invoice_date=sold)
    update = {
        "warranty_end": None,
        "warranty_km": None,
        "insurance_expiry": None,
        "odometer_km": None,
        "odometer_on": None,
        **fields,
    }
    for day, km in readings:
        OdometerReading.objects.create(
            vehicle=vehicle, km=km, read_on=day, source=OdometerSource.MANUAL
        )
        update.update(odometer_km=km, odometer_on=day)
    for day, km, at, kind in visits:
        ServiceVisit.objects.create(
            customer=owner,
            vehicle=vehicle,
            dealer=at,
            visited_on=day,
            kind=kind or VisitKind.MAINTENANCE,
            odometer_km=km,
        )
    Vehicle.objects.filter(pk=vehicle.pk).update(**update)
    vehicle.refresh_from_db()
    return vehicle


def reminders(vehicle=None, kind=None):
    rows = Reminder.objects.order_by("month", "kind", "id")
    if vehicle is not None:
        rows = rows.filter(vehicle=vehicle)
    if kind is not None:
        rows = rows.filter(kind=kind)
    return list(rows)
