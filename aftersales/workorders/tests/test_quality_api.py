"""Quality API: the quality steps of an order and the follow-up calls, with versions,
idempotency keys, refusals and scoping."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from aftersales.billing.testing import settle
from aftersales.crm.models import ServiceVisit
from aftersales.org.models import Dealer
from aftersales.workorders.choices import FollowUpStatus, ROStatus
from aftersales.workorders.delivery import delivery_checks_for
from aftersales.workorders.followup import QUESTIONS
from aftersales.workorders.models import FollowUp, FollowUpCall, QualityCheck
from aftersales.workorders.quality import QC_ITEMS, SELF_CHECK_ITEMS
from aftersales.workorders.testing import all_true, make_repair_order, worked_on_by

S = ROStatus
pytestmark = pytest.mark.django_db
BASE = "/api/workorders/quality"


@pytest.fixture
def bj01(demo_org):
    return Dealer.objects.get(code="BJ01")


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_whole_quality_path_through_the_api(bj01, demo_org):
    tech, qc, sa, cashier = (demo_org[f"bj01-{r}"] for r in ("tech", "qc", "sa", "cashier"))
    order = worked_on_by(make_repair_order(dealer=bj01, status=S.IN_PROGRESS), tech)
    # self-check
    r = api(tech).post(
        f"{BASE}/{order.pk}/self-check/",
        {"version": order.version, "items": all_true(SELF_CHECK_ITEMS)},
        format="json",
    )
    assert r.status_code == 200, r.json()
    state = r.json()
    assert state["status"] == S.SELF_CHECKED and state["checks"][0]["kind"] == "self"
    # QC fail, counted, with the reason
    r = api(qc).post(
        f"{BASE}/{order.pk}/qc/",
        {
            "version": state["version"],
            "items": {**all_true(QC_ITEMS), "no_leaks": False},
            "passed": False,
            "reason": "漏油",
        },
        format="json",
    )
    assert r.status_code == 200 and r.json()["status"] == S.QC_FAILED
    assert r.json()["rework_count"] == 1 and r.json()["checks"][-1]["remarks"] == "漏油"
    # rework, self-check again, QC pass, ready, deliver, close
    api(tech).post(
        f"/api/workorders/repair-orders/{order.pk}/transition/", {"to": "rework"}, format="json"
    )
    order.refresh_from_db()
    r = api(tech).post(
        f"{BASE}/{order.pk}/self-check/",
        {"version": order.version, "items": all_true(SELF_CHECK_ITEMS)},
        format="json",
    )
    r = api(qc).post(
        f"{BASE}/{order.pk}/qc/",
        {"version": r.json()["version"], "items": all_true(QC_ITEMS), "passed": True},
        format="json",
    )
    assert r.json()["status"] == S.QC_PASSED
    r = api(sa).post(f"{BASE}/{order.pk}/ready/", {"version": r.json()["version"]}, format="json")
    assert r.json()["status"] == S.READY
    order.refresh_from_db()
    r = api(sa).post(
        f"{BASE}/{order.pk}/deliver/",
        {"version": order.version, "checks": all_true(delivery_checks_for(order))},
        format="json",
    )
    assert r.status_code == 200 and r.json()["status"] == S.DELIVERED
    assert r.json()["follow_up"] == FollowUp.objects.get(repair_order=order).pk
    settle(order)  # the customer part is invoiced and paid
    r = api(cashier).post(
        f"{BASE}/{order.pk}/close/", {"version": r.json()["version"]}, format="json"
    )
    assert r.json()["status"] == S.CLOSED
    assert ServiceVisit.objects.filter(reference=order.number).count() == 1
    assert [c["round"] for c in r.json()["checks"]] == [0, 0, 1, 1, 1]


def test_qc_by_the_technician_who_clocked_on_is_409_same_person(bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.IN_PROGRESS)
    worked_on_by(order, demo_org["bj01-qc"])
    order.status = S.SELF_CHECKED
    order.save(update_fields=["status"])
    r = api(demo_org["bj01-qc"]).post(
        f"{BASE}/{order.pk}/qc/",
        {"version": order.version, "items": all_true(QC_ITEMS), "passed": True},
        format="json",
    )
    assert r.status_code == 409 and r.json()["code"] == "same_person"


def test_a_retried_qc_with_the_same_key_acts_once(bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.SELF_CHECKED)
    client = api(demo_org["bj01-qc"])
    body = {
        "version": order.version,
        "items": {**all_true(QC_ITEMS), "clean": False},
        "passed": False,
        "reason": "脏",
    }
    first = client.post(f"{BASE}/{order.pk}/qc/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(f"{BASE}/{order.pk}/qc/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 200
    assert again.json()["rework_count"] == 1
    assert QualityCheck.objects.filter(repair_order=order).count() == 1
    # without the key the same body is stale now
    stale = client.post(f"{BASE}/{order.pk}/qc/", body, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "stale"


def test_an_incomplete_delivery_check_is_400_naming_the_item(bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.READY, free_wash=True)
    r = api(demo_org["bj01-sa"]).post(
        f"{BASE}/{order.pk}/deliver/",
        {
            "version": order.version,
            "checks": {**all_true(delivery_checks_for(order)), "wash": False},
        },
        format="json",
    )
    assert r.status_code == 400 and r.json()["code"] == "check_incomplete"
    assert list(r.json()["fields"]) == ["wash"]


def _follow_up(dealer, *, opens_in=-1, due_in=24):
    order = make_repair_order(dealer=dealer, status=S.DELIVERED)
    now = timezone.now()
    return FollowUp.objects.create(
        repair_order=order,
        dealer=dealer,
        opens_at=now + datetime.timedelta(hours=opens_in),
        due_at=now + datetime.timedelta(hours=due_in),
    )


def test_follow_up_list_filters_and_other_dealer(bj01, demo_org, django_assert_max_num_queries):
    due = _follow_up(bj01)
    overdue = _follow_up(bj01, opens_in=-80, due_in=-1)
    other = _follow_up(Dealer.objects.get(code="SH01"))
    client = api(demo_org["bj01-dcrc"])
    with django_assert_max_num_queries(10):
        rows = client.get("/api/workorders/follow-ups/").json()["results"]
    assert {r["id"] for r in rows} == {due.pk, overdue.pk}
    rows = client.get("/api/workorders/follow-ups/", {"due": "overdue"}).json()["results"]
    assert [r["id"] for r in rows] == [overdue.pk]
    assert client.get(f"/api/workorders/follow-ups/{other.pk}/").status_code == 404
    r = client.post(
        f"/api/workorders/follow-ups/{other.pk}/calls/",
        {"version": other.version, "outcome": "declined"},
        format="json",
    )
    assert r.status_code == 404 and not FollowUpCall.objects.filter(follow_up=other).exists()


def test_recording_calls_through_the_api(bj01, demo_org):
    fu = _follow_up(bj01)
    client = api(demo_org["bj01-dcrc"])
    url = f"/api/workorders/follow-ups/{fu.pk}/calls/"
    scores = {**dict.fromkeys(QUESTIONS, 5), "nps": 10}
    # out of range: 400 naming the question
    r = client.post(
        url,
        {"version": fu.version, "outcome": "reached", "scores": {**scores, "price": 7}},
        format="json",
    )
    assert r.status_code == 400 and "price" in r.json()["fields"]
    # reached, retried with the same key: one call
    body = {"version": fu.version, "outcome": "reached", "scores": scores}
    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="call-1")
    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="call-1")
    assert first.status_code == again.status_code == 200
    assert again.json()["status"] == FollowUpStatus.DONE and len(again.json()["calls"]) == 1
    # a further call on the done follow-up: 409
    r = client.post(url, {"version": again.json()["version"], "outcome": "declined"}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "follow_up_closed"
