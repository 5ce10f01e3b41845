"""The complaint API end to end: a whole complaint through its steps, retries acting once,
refusals with their codes, and the owner's side."""

import pytest
from rest_framework.test import APIClient

from aftersales.complaints.choices import ComplaintStatus as S
from aftersales.complaints.models import Complaint
from aftersales.complaints.testing import make_complaint
from aftersales.org.models import Dealer, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(demo_org):
    return {**demo_org, "BJ01": Dealer.objects.get(code="BJ01")}


def _as(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_complaint_through_the_api(org):
    agent, specialist = _as(org["oem-csagent"]), _as(org["oem-complaint"])
    dealer = _as(org["bj01-svcmgr"])
    # the agent receives it (twice with the same key: one complaint)
    body = {
        "channel": "hotline",
        "contact_name": "周女士",
        "contact_phone": "13700003333",
        "subject": "喷漆色差",
        "description": "钣喷后车门颜色明显不同",
    }
    first = agent.post("/api/complaints/", body, format="json", HTTP_IDEMPOTENCY_KEY="rcv-1")
    again = agent.post("/api/complaints/", body, format="json", HTTP_IDEMPOTENCY_KEY="rcv-1")
    assert first.status_code == 201, first.content
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert Complaint.objects.count() == 1
    pk = first.json()["id"]
    url = f"/api/complaints/{pk}/"
    # judged, filed, assigned
    r = agent.post(url + "judge/", {"decision": "to_file", "judgement": "有效"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == S.TO_FILE
    r = specialist.post(url + "file/", {"category": "service", "grade": "major"}, format="json")
    assert r.json()["limit_days"] == 5 and r.json()["deadline_at"]
    r = specialist.post(url + "assign/", {"dealer": org["BJ01"].pk}, format="json")
    assert r.json()["status"] == S.HANDLING
    assert [s["kind"] for s in r.json()["steps"]] == ["plan"]
    # the dealer sees it in its list and submits the plan
    listed = dealer.get("/api/complaints/?open=true").json()["results"]
    assert [row["id"] for row in listed] == [pk]
    r = dealer.post(url + "plan/", {"plan": "重新喷涂车门"}, format="json")
    assert r.status_code == 200
    # closing without a condition is refused with the reason and changes nothing
    r = specialist.post(url + "close/", {"condition": "", "evidence": "x"}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "closure_condition"
    r = specialist.post(
        url + "close/", {"condition": "done", "evidence": "客户到店确认"}, format="json"
    )
    assert r.json()["status"] == S.CLOSED and r.json()["closed_on_time"] is True
    assert len(r.json()["follow_ups"]) == 1
    kinds = [e["kind"] for e in r.json()["events"]]
    assert kinds[0] == "received" and "closed" in kinds


def test_a_stale_version_and_an_illegal_step_answer_409(org):
    complaint = make_complaint(dealer=org["BJ01"], status=S.FILED)
    specialist = _as(org["oem-complaint"])
    url = f"/api/complaints/{complaint.pk}/"
    r = specialist.post(
        url + "assign/", {"dealer": org["BJ01"].pk, "version": complaint.version - 1}, format="json"
    )
    assert r.status_code == 409 and r.json()["code"] == "stale"
    r = specialist.post(url + "reopen/", {"reason": "x"}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    complaint.refresh_from_db()
    assert complaint.status == S.FILED


def test_another_dealer_gets_404_and_cannot_act(org):
    complaint = make_complaint(dealer=org["BJ01"])
    other = _as(org["sh01-svcmgr"])
    assert other.get(f"/api/complaints/{complaint.pk}/").status_code == 404
    r = other.post(f"/api/complaints/{complaint.pk}/plan/", {"plan": "x"}, format="json")
    assert r.status_code == 404


def test_the_region_manager_decides_its_level(org):
    complaint = make_complaint(dealer=org["BJ01"])
    specialist = _as(org["oem-complaint"])
    r = specialist.post(
        f"/api/complaints/{complaint.pk}/escalate/",
        {"note": "客户要求赔偿", "amount": "8000"},
        format="json",
    )
    escalation = r.json()["escalations"][0]
    assert escalation["role"] == "region_manager"
    manager = _as(org["north-rm"])
    open_ones = manager.get("/api/complaints/escalations/?open=true").json()["results"]
    assert [e["id"] for e in open_ones] == [escalation["id"]]
    r = manager.post(
        f"/api/complaints/escalations/{escalation['id']}/decide/",
        {"decision": "同意补偿 5000 元", "approved_amount": "5000"},
        format="json",
    )
    assert r.status_code == 200 and r.json()["approved_amount"] == "5000.00"


def test_settings_and_matrix_through_the_api(org):
    admin = _as(org["oem-admin"])
    r = admin.patch(
        "/api/complaints/settings/current/",
        {
            "urgent_days": 1,
            "goodwill_matrix": [
                {"max_amount": "3000", "role": "service_manager"},
                {"max_amount": None, "role": "region_manager"},
            ],
        },
        format="json",
    )
    assert r.status_code == 200, r.content
    assert [lv["role"] for lv in r.json()["goodwill_matrix"]] == [
        "service_manager",
        "region_manager",
    ]
    bad = admin.patch(
        "/api/complaints/settings/current/",
        {"goodwill_matrix": [{"max_amount": "3000", "role": "service_manager"}]},
        format="json",
    )
    assert bad.status_code == 400
    assert len(admin.get("/api/complaints/settings/current/").json()["goodwill_matrix"]) == 2


# ---------------------------------------------------------------- the owner


@pytest.fixture
def owner(org):
    from aftersales.crm.testing import make_customer, make_vehicle

    customer = make_customer(name="孙八")
    vehicle = make_vehicle(owner=customer)
    login = User.objects.create_user(username="owner-sun", password="x")
    customer.user = login
    customer.save(update_fields=["user"])
    return {"login": login, "customer": customer, "vehicle": vehicle}


def test_the_owner_files_and_follows_only_their_own(org, owner):
    client = _as(owner["login"])
    r = client.post(
        "/api/owner/complaints/",
        {"vehicle": owner["vehicle"].pk, "subject": "空调异味", "description": "出风口有霉味"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="own-1",
    )
    assert r.status_code == 201, r.content
    assert r.json()["status"] == S.NEW and "judgement" not in r.json()
    mine = client.get("/api/owner/complaints/").json()["results"]
    assert [row["id"] for row in mine] == [r.json()["id"]]
    # someone else's complaint is not found
    other = make_complaint(dealer=org["BJ01"])
    assert client.get(f"/api/owner/complaints/{other.pk}/").status_code == 404
    # the agent sees the owner's complaint arrive from the app
    agent = _as(org["oem-csagent"])
    row = agent.get(f"/api/complaints/{r.json()['id']}/").json()
    assert row["channel"] == "owner_app"


def test_the_owner_side_needs_a_linked_login(org, owner):
    assert APIClient().get("/api/owner/complaints/").status_code == 401
    unlinked = User.objects.create_user(username="nobody", password="x")
    assert _as(unlinked).get("/api/owner/complaints/").status_code == 403
    # and a vehicle that is not theirs is refused
    from aftersales.crm.testing import make_customer, make_vehicle

    stranger = make_vehicle(owner=make_customer(name="李九"))
    r = _as(owner["login"]).post(
        "/api/owner/complaints/",
        {"vehicle": stranger.pk, "subject": "x", "description": "y"},
        format="json",
    )
    assert r.status_code == 400 and "vehicle" in r.json()["fields"]
