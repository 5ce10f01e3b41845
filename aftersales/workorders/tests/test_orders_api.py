"""The generic repair-order API: list, detail, the status step, cancel, timeline."""

import pytest
from rest_framework.test import APIClient

from aftersales.org.models import Dealer
from aftersales.parts.choices import ReservationStatus
from aftersales.parts.stock import Doc, reserve
from aftersales.parts.testing import make_part, make_warehouse, stock_up
from aftersales.workorders.choices import ROStatus
from aftersales.workorders.models import RepairOrder, RepairOrderEvent
from aftersales.workorders.testing import make_repair_order

S = ROStatus
pytestmark = pytest.mark.django_db
URL = "/api/workorders/repair-orders/"


@pytest.fixture
def bj01(demo_org):
    return Dealer.objects.get(code="BJ01")


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_list_is_scoped_filtered_and_has_a_fixed_query_count(
    bj01, demo_org, django_assert_max_num_queries
):
    # given orders at BJ01 in several states and one at SH01
    for status in (S.CHECKED_IN, S.IN_PROGRESS, S.IN_PROGRESS, S.READY):
        make_repair_order(dealer=bj01, status=status)
    other = make_repair_order(dealer=Dealer.objects.get(code="SH01"), status=S.IN_PROGRESS)
    client = _client(demo_org["bj01-sa"])
    # when the advisor lists the orders in progress
    with django_assert_max_num_queries(12):
        body = client.get(URL, {"status": "in_progress", "page_size": 50}).json()
    # then he sees his dealer's two, not the other dealer's
    assert body["count"] == 2
    assert {row["status"] for row in body["results"]} == {"in_progress"}
    assert other.pk not in {row["id"] for row in body["results"]}
    # and more rows cost no more queries
    for _ in range(5):
        make_repair_order(dealer=bj01, status=S.IN_PROGRESS)
    with django_assert_max_num_queries(12):
        assert client.get(URL, {"status": "in_progress"}).json()["count"] == 7


def test_search_by_plate_and_late_filter(bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.IN_PROGRESS)
    RepairOrder.objects.filter(pk=order.pk).update(
        promised_at=order.created_at - order.created_at.resolution * 10**6
    )
    make_repair_order(dealer=bj01, status=S.IN_PROGRESS)
    client = _client(demo_org["bj01-sa"])
    rows = client.get(URL, {"q": order.vehicle.plate}).json()["results"]
    assert [r["id"] for r in rows] == [order.pk]
    late = client.get(URL, {"late": "true"}).json()["results"]
    assert [r["id"] for r in late] == [order.pk] and late[0]["late"] is True


def test_detail_has_the_lines_and_another_dealer_gets_404(bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.APPROVED)
    body = _client(demo_org["bj01-tech"]).get(f"{URL}{order.pk}/").json()
    assert body["number"] == order.number and len(body["lines"]) == 1
    assert body["lines"][0]["approval"] == "approved"
    response = _client(demo_org["sh01-sa"]).get(f"{URL}{order.pk}/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_an_illegal_step_answers_409_with_its_code_and_changes_nothing(bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.CHECKED_IN)
    response = _client(demo_org["bj01-sa"]).post(
        f"{URL}{order.pk}/transition/", {"to": "delivered"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"
    order.refresh_from_db()
    assert order.status == S.CHECKED_IN


def test_two_advisors_editing_the_same_order_do_not_overwrite_each_other(bj01, demo_org):
    # given two advisors who both loaded version v
    order = make_repair_order(dealer=bj01, status=S.CHECKED_IN)
    seen = order.version
    first = _client(demo_org["bj01-sa"]).post(
        f"{URL}{order.pk}/transition/", {"to": "diagnosing", "version": seen}, format="json"
    )
    assert first.status_code == 200 and first.json()["status"] == "diagnosing"
    # when the second one acts on what he saw
    second = _client(demo_org["bj01-svcmgr"]).post(
        f"{URL}{order.pk}/cancel/", {"reason": "客户不修了", "version": seen}, format="json"
    )
    # then he is told the order changed, and nothing of his is saved
    assert second.status_code == 409 and second.json()["code"] == "stale"
    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == (S.DIAGNOSING, "")


def test_cancel_gives_reserved_parts_back_and_keeps_the_reason(bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.ESTIMATED)
    warehouse = make_warehouse(dealer=bj01)
    part = make_part()
    stock_up(warehouse=warehouse, part=part, quantity=4)
    line = order.lines.get()
    line.reservation = reserve(
        actor=None,
        warehouse=warehouse,
        part=part,
        quantity=2,
        key=line.key,
        doc=Doc(type="repair_order", id=order.pk, number=order.number),
    )
    line.save(update_fields=["reservation"])
    response = _client(demo_org["bj01-sa"]).post(
        f"{URL}{order.pk}/cancel/", {"reason": "客户改期"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    line.reservation.refresh_from_db()
    assert line.reservation.status == ReservationStatus.RELEASED
    assert response.json()["cancel_reason"] == "客户改期"


def test_cancel_needs_the_permission_and_a_reason(bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.ESTIMATED)
    refused = _client(demo_org["bj01-tech"]).post(
        f"{URL}{order.pk}/cancel/", {"reason": "x"}, format="json"
    )
    assert refused.status_code == 403
    blank = _client(demo_org["bj01-sa"]).post(
        f"{URL}{order.pk}/cancel/", {"reason": ""}, format="json"
    )
    assert blank.status_code == 400
    order.refresh_from_db()
    assert order.status == S.ESTIMATED


def test_timeline_lists_every_step_with_who(bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.ESTIMATED)
    client = _client(demo_org["bj01-sa"])
    client.post(f"{URL}{order.pk}/transition/", {"to": "diagnosing"}, format="json")
    client.post(f"{URL}{order.pk}/transition/", {"to": "estimated"}, format="json")
    rows = client.get(f"{URL}{order.pk}/events/").json()["results"]
    assert [(r["from_status"], r["to_status"]) for r in rows] == [
        ("estimated", "diagnosing"),
        ("diagnosing", "estimated"),
    ]
    assert {r["actor_name"] for r in rows} == {"北京服务顾问"}  # the display name, not the login
    assert RepairOrderEvent.objects.filter(repair_order=order).count() == 2


def test_reopening_a_signed_estimate_voids_the_signature(bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.APPROVED)
    response = _client(demo_org["bj01-sa"]).post(
        f"{URL}{order.pk}/transition/", {"to": "estimated"}, format="json"
    )
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.signed_at is None and order.signature_kind == ""
    assert order.lines.get().approval == "proposed"
