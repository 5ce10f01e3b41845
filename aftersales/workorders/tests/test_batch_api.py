"""One request per screen: reception opened, filled in and checked in together; the
estimate's lines saved together; every job of an order dispatched together. Each is all
or nothing and safe to retry."""

import pytest
from rest_framework.test import APIClient

from aftersales.crm.testing import make_customer, make_vehicle
from aftersales.org.models import Dealer
from aftersales.parts.testing import make_part, make_warehouse, stock_up
from aftersales.workorders.choices import JobStatus, ROStatus
from aftersales.workorders.models import JobAssignment, RepairOrder, RepairOrderLine
from aftersales.workorders.testing import (
    add_labour_line,
    make_bay,
    make_operation,
    make_rates,
    make_repair_order,
)

S = ROStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def bj01(demo_org):
    dealer = Dealer.objects.get(code="BJ01")
    make_rates(dealer)
    return dealer


def _client(user, key=None):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    if key:
        client.credentials(HTTP_IDEMPOTENCY_KEY=key)
    return client


RECEPTION = {
    "concern": "刹车异响",
    "odometer_km": 12_000,
    "fuel_level": "50",
    "covers_installed": True,
    "check_in": True,
}


def test_reception_opened_filled_in_and_checked_in_in_one_request(bj01, demo_org):
    vehicle = make_vehicle(owner=make_customer(dealer=bj01), dealer=bj01)
    client = _client(demo_org["bj01-sa"], key="reception-once-1")
    # when the reception screen is saved with check-in
    response = client.post(
        "/api/workorders/reception/", {"vehicle": vehicle.pk, **RECEPTION}, format="json"
    )
    # then the order is checked in with the data, and the odometer is in the car's history
    assert response.status_code == 201, response.content
    order = RepairOrder.objects.get(pk=response.json()["id"])
    assert (order.status, order.odometer_km, order.fuel_level) == (S.CHECKED_IN, 12_000, "50")
    vehicle.refresh_from_db()
    assert vehicle.odometer_km == 12_000
    # and a retry answers with the same order, checked in once
    again = client.post(
        "/api/workorders/reception/", {"vehicle": vehicle.pk, **RECEPTION}, format="json"
    )
    assert again.json()["id"] == order.pk
    assert RepairOrder.objects.filter(vehicle=vehicle).count() == 1
    assert order.events.filter(to_status=S.CHECKED_IN).count() == 1


def test_reception_that_cannot_be_checked_in_opens_nothing(bj01, demo_org):
    vehicle = make_vehicle(owner=make_customer(dealer=bj01), dealer=bj01)
    body = {**RECEPTION, "vehicle": vehicle.pk, "covers_installed": False}
    response = _client(demo_org["bj01-sa"]).post("/api/workorders/reception/", body, format="json")
    assert response.status_code == 409
    assert "covers_installed" in response.json()["fields"]
    assert not RepairOrder.objects.filter(vehicle=vehicle).exists()


def _estimating(bj01):
    order = make_repair_order(dealer=bj01, status=S.CHECKED_IN)
    warehouse = make_warehouse(dealer=bj01)
    RepairOrder.objects.filter(pk=order.pk).update(warehouse=warehouse)
    part = make_part(universal=True)
    stock_up(warehouse=warehouse, part=part, quantity=10)
    order.refresh_from_db()
    return order, part


def test_the_estimates_lines_saved_in_one_request(bj01, demo_org):
    order, part = _estimating(bj01)
    op1, op2 = make_operation(code="BT-1", hours="1.0"), make_operation(code="BT-2", hours="0.5")
    body = {
        "version": order.version,
        "lines": [
            {"kind": "labour", "operation": op1.pk, "pay_type": "customer"},
            {"kind": "labour", "operation": op2.pk, "pay_type": "customer"},
            {"kind": "part", "part": part.number, "quantity": "2"},
            {"kind": "fee", "description": "环保处理费", "amount": "20"},
        ],
    }
    response = _client(demo_org["bj01-sa"], key="estimate-batch-1").post(
        f"/api/workorders/estimate/{order.pk}/lines/", body, format="json"
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert [line["kind"] for line in data["lines"]] == ["labour", "labour", "part", "fee"]
    order.refresh_from_db()
    # one version for the whole save, one event, the total of all the lines
    assert data["version"] == order.version == 2
    amounts = {line["kind"] + str(line["operation"]): line["amount"] for line in data["lines"]}
    assert (amounts[f"labour{op1.pk}"], amounts[f"labour{op2.pk}"]) == ("120.00", "60.00")
    assert order.estimate_total == sum(line.amount for line in order.lines.all())
    assert order.events.filter(kind="line").count() == 1
    assert RepairOrderLine.objects.get(repair_order=order, kind="part").reservation is not None


def test_a_bad_line_refuses_the_whole_save_and_names_its_place(bj01, demo_org):
    order, part = _estimating(bj01)
    op = make_operation(code="BT-3")
    body = {
        "version": order.version,
        "lines": [
            {"kind": "labour", "operation": op.pk},
            {"kind": "part", "part": "NO-SUCH-PART"},
        ],
    }
    response = _client(demo_org["bj01-sa"]).post(
        f"/api/workorders/estimate/{order.pk}/lines/", body, format="json"
    )
    assert response.status_code == 400
    assert "lines.1.part" in response.json()["fields"]
    assert not order.lines.exists()
    order.refresh_from_db()
    assert order.version == 1


def test_every_job_dispatched_in_one_request(bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.APPROVED)
    second = add_labour_line(order)
    jobs = list(order.lines.filter(kind="labour").order_by("id"))
    assert second in jobs
    tech, bay = demo_org["bj01-tech"], make_bay(bj01)
    order.refresh_from_db()
    body = {
        "version": order.version,
        "jobs": [{"line": job.pk, "technicians": [tech.pk], "bay": bay.pk} for job in jobs],
    }
    response = _client(demo_org["bj01-foreman"]).post(
        f"/api/workorders/workshop/{order.pk}/dispatch/", body, format="json"
    )
    assert response.status_code == 200, response.content
    assert JobAssignment.objects.filter(line__in=jobs, technician=tech).count() == 2
    assert set(order.lines.filter(kind="labour").values_list("job_status", flat=True)) == {
        JobStatus.ASSIGNED
    }
    order.refresh_from_db()
    assert response.json()["version"] == order.version


def test_a_bad_job_refuses_the_whole_dispatch(bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.APPROVED)
    job = order.lines.get()
    order.refresh_from_db()
    body = {
        "version": order.version,
        "jobs": [
            {"line": job.pk, "technicians": [demo_org["bj01-tech"].pk]},
            {"line": job.pk, "technicians": [demo_org["sh01-tech"].pk]},
        ],
    }
    response = _client(demo_org["bj01-foreman"]).post(
        f"/api/workorders/workshop/{order.pk}/dispatch/", body, format="json"
    )
    assert response.status_code == 400
    assert "jobs.1.technicians" in response.json()["fields"]
    assert not JobAssignment.objects.filter(line=job).exists()
