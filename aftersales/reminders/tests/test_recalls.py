"""Recall completion: the recall's work delivered on a repair order marks the vehicle done
(set-based, idempotent); the recall's reminder then leaves the DCRC's list; by hand when
the recall names no operation."""

import datetime

import pytest
from django.utils import timezone

from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.reminders.campaigns import recall_upload
from aftersales.reminders.models import RecallVehicle
from aftersales.reminders.recalls import recall_vehicle_done, recalls_complete
from aftersales.reminders.tests.conftest import car
from aftersales.workorders.choices import JobStatus
from aftersales.workorders.choices import ROStatus as S
from aftersales.workorders.testing import add_labour_line, make_operation, make_repair_order

D = datetime.date
TODAY = timezone.localdate()


@pytest.fixture
def recall(bj):
    cars = [car(bj, sold=D(2023, 3, 1)) for _ in range(3)]
    report = recall_upload(
        actor=None,
        code="R-TEST",
        title="燃油泵软件升级",
        starts_on=TODAY - datetime.timedelta(days=30),
        vin_list="\n".join(c.vin for c in cars),
    )
    operation = make_operation(code="RC-FUEL", name="燃油泵软件升级", hours="0.5")
    report.recall.operation = operation
    report.recall.save(update_fields=["operation"])
    return report.recall, cars, operation


def _delivered(bj, vehicle, operation, *, job=JobStatus.DONE, **fields):
    order = make_repair_order(dealer=bj, status=S.DELIVERED, vehicle=vehicle, **fields)
    line = add_labour_line(order, name=operation.name)
    line.operation, line.job_status = operation, job
    line.save(update_fields=["operation", "job_status"])
    return order


def test_the_recall_work_delivered_marks_the_vehicle_done_once(bj, recall):
    recall_row, (done, unfinished, other), operation = recall
    # Given one car delivered with the recall operation done, one with it still running,
    # and one delivered with other work only
    order = _delivered(bj, done, operation, delivered_at=timezone.now())
    _delivered(bj, unfinished, operation, job=JobStatus.RUNNING, delivered_at=timezone.now())
    make_repair_order(dealer=bj, status=S.DELIVERED, vehicle=other, delivered_at=timezone.now())

    # When the daily job runs (twice)
    assert recalls_complete() == 1
    assert recalls_complete() == 0

    # Then only the first is done, with its order and day
    rows = {r.vehicle_id: r for r in RecallVehicle.objects.filter(recall=recall_row)}
    assert rows[done.pk].done_order_id == order.pk and rows[done.pk].done_on == TODAY
    assert rows[unfinished.pk].done_on is None and rows[other.pk].done_on is None


def test_work_before_the_recall_started_does_not_count(bj, recall):
    recall_row, (vehicle, *_), operation = recall
    order = _delivered(bj, vehicle, operation, delivered_at=timezone.now())
    from aftersales.workorders.models import RepairOrder

    RepairOrder.objects.filter(pk=order.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=60)
    )
    assert recalls_complete() == 0


def test_marked_by_hand_checked_and_idempotent(bj, recall, demo_org):
    from aftersales.org.models import User

    recall_row, (vehicle, other, _), _op = recall
    row = RecallVehicle.objects.get(recall=recall_row, vehicle=vehicle)
    oem = User.objects.get(username="oem-admin")
    advisor_order = make_repair_order(dealer=bj, status=S.DELIVERED, vehicle=other)
    with pytest.raises(ValidationFailed):  # another vehicle's order
        recall_vehicle_done(actor=oem, recall_vehicle=row, done_on=TODAY, order=advisor_order)
    with pytest.raises(ValidationFailed):  # ahead of today
        recall_vehicle_done(
            actor=oem, recall_vehicle=row, done_on=TODAY + datetime.timedelta(days=1)
        )
    assert RecallVehicle.objects.get(pk=row.pk).done_on is None
    from aftersales.appointments.testing import make_user

    with pytest.raises(PermissionDenied):
        recall_vehicle_done(actor=make_user(bj, "dcrc_agent"), recall_vehicle=row, done_on=TODAY)
    recall_vehicle_done(actor=oem, recall_vehicle=row, done_on=TODAY)
    recall_vehicle_done(actor=oem, recall_vehicle=row, done_on=TODAY)
    assert RecallVehicle.objects.get(pk=row.pk).done_on == TODAY


def test_an_open_recall_stays_on_the_worklist_until_its_work_is_done(client, bj, recall):
    from aftersales.appointments.testing import make_user
    from aftersales.reminders.models import Reminder
    from aftersales.reminders.schedule import add_months

    recall_row, (vehicle, *_), operation = recall
    # Given the recall's reminders, written last month
    last_month = add_months(TODAY.replace(day=1), -1)
    Reminder.objects.filter(recall=recall_row).update(month=last_month)
    reminder = Reminder.objects.get(recall=recall_row, vehicle=vehicle)
    client.force_login(make_user(bj, "dcrc_agent"))

    def listed():
        page = client.get("/reminders/").content.decode()
        return f'data-reminder="{reminder.pk}"' in page

    # Then this month's list still shows it
    assert listed()
    # When the recall work is delivered and the daily job runs, it leaves the list
    _delivered(bj, vehicle, operation, delivered_at=timezone.now())
    assert recalls_complete() == 1
    assert not listed()


def test_an_advisor_records_recall_work_on_the_recall_page(client, bj, tj, recall):
    from aftersales.appointments.testing import make_user

    recall_row, (vehicle, other, _), _op = recall
    order = make_repair_order(dealer=bj, status=S.DELIVERED, vehicle=vehicle)
    elsewhere = make_repair_order(dealer=tj, status=S.DELIVERED, vehicle=other)
    client.force_login(make_user(bj, "service_advisor"))
    url = f"/reminders/recalls/{recall_row.pk}/work/"
    # Given the recall page shows the advisor the form
    page = client.get(f"/reminders/recalls/{recall_row.pk}/").content.decode()
    assert 'id="recall-work-form"' in page
    # When a VIN that is not on the recall's list is sent, nothing is recorded
    stranger = car(bj, sold=D(2023, 3, 1))
    answer = client.post(url, {"vin": stranger.vin, "done_on": TODAY, "order": order.number})
    assert answer.status_code == 200
    assert "此车架号不在召回清单中" in answer.content.decode()
    # and another dealer's order is not found for this advisor
    answer = client.post(url, {"vin": other.vin, "done_on": TODAY, "order": elsewhere.number})
    assert "您的经销商没有这个单号的维修工单" in answer.content.decode()
    assert not RecallVehicle.objects.filter(recall=recall_row, done_on__isnull=False).exists()
    # When the work on the advisor's own order is recorded
    answer = client.post(url, {"vin": vehicle.vin.lower(), "done_on": TODAY, "order": order.number})
    # Then the vehicle is done with that order, and the page says so
    assert answer.status_code == 302
    row = RecallVehicle.objects.get(recall=recall_row, vehicle=vehicle)
    assert (row.done_on, row.done_order_id) == (TODAY, order.pk)
    page = client.get(answer["Location"]).content.decode()
    assert "已完成 1 / 3 辆车" in page


def test_recall_work_through_the_api(client, bj, recall, demo_org):
    from aftersales.org.models import User

    recall_row, (vehicle, *_), _op = recall
    client.force_login(User.objects.get(username="oem-admin"))
    url = f"/api/reminder-recalls/{recall_row.pk}/work/"
    body = {"vin": vehicle.vin, "done_on": TODAY.isoformat()}
    # a VIN off the list: 400 naming the field, nothing recorded
    refused = client.post(
        url, {**body, "vin": "LXCX3A15XRZ999999"}, content_type="application/json"
    )
    assert refused.status_code == 400 and refused.json()["fields"]["vin"]
    # the OEM records it without an order; a retry answers the same and changes nothing
    first = client.post(url, body, content_type="application/json")
    again = client.post(url, body, content_type="application/json")
    assert first.status_code == again.status_code == 200
    assert (
        first.json()
        == again.json()
        == {
            "recall": recall_row.pk,
            "vin": vehicle.vin,
            "done_on": TODAY.isoformat(),
            "order": None,
        }
    )
    listed = client.get(f"/api/reminder-recalls/{recall_row.pk}/").json()
    assert (listed["vehicles_total"], listed["vehicles_done"]) == (3, 1)
