"""Quality pages: the order's quality panel and its actions, the QC queue, the follow-up
queue and call form."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from aftersales.billing.testing import settle
from aftersales.core.models import OutboxMessage
from aftersales.crm.selectors import can_see_phone
from aftersales.crm.validators import mask_mobile
from aftersales.org.models import Dealer
from aftersales.workorders.choices import CallOutcome, FollowUpStatus, ROStatus
from aftersales.workorders.delivery import delivery_checks_for
from aftersales.workorders.followup import QUESTIONS, follow_up_record_call
from aftersales.workorders.models import FollowUp, QualityCheck
from aftersales.workorders.quality import QC_ITEMS, SELF_CHECK_ITEMS
from aftersales.workorders.testing import make_repair_order, worked_on_by

S = ROStatus
pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _english(client):
    # the assertions read the English messages
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def bj01(demo_org):
    return Dealer.objects.get(code="BJ01")


def _ticks(checklist, *, but=()):
    return {key: "on" for key in checklist if key not in but}


def test_the_technician_self_checks_from_the_panel(client, bj01, demo_org):
    order = worked_on_by(
        make_repair_order(dealer=bj01, status=S.IN_PROGRESS), demo_org["bj01-tech"]
    )
    client.force_login(demo_org["bj01-tech"])
    panel = client.get(reverse("ro-quality-panel", args=[order.pk]), **HX)
    assert panel.status_code == 200 and b"<html" not in panel.content
    assert 'name="work_done"' in panel.text and f'value="{order.version}"' in panel.text
    # an unticked item: the panel shows why and nothing changed
    url = reverse("ro-quality-self-check", args=[order.pk])
    refused = client.post(
        url, {"version": order.version, **_ticks(SELF_CHECK_ITEMS, but=["fluids"])}, **HX
    )
    assert refused.status_code == 200 and "HX-Trigger" not in refused
    assert str(SELF_CHECK_ITEMS["fluids"]) in refused.text and "alert-danger" in refused.text
    order.refresh_from_db()
    assert order.status == S.IN_PROGRESS
    # every item ticked: self-checked, the other panels are told
    done = client.post(url, {"version": order.version, **_ticks(SELF_CHECK_ITEMS)}, **HX)
    assert done.status_code == 200 and done["HX-Trigger"] == "ro-changed"
    order.refresh_from_db()
    assert order.status == S.SELF_CHECKED


def test_a_stale_form_is_refused_with_a_clear_message(client, bj01, demo_org):
    order = worked_on_by(
        make_repair_order(dealer=bj01, status=S.IN_PROGRESS), demo_org["bj01-tech"]
    )
    client.force_login(demo_org["bj01-tech"])
    response = client.post(
        reverse("ro-quality-self-check", args=[order.pk]),
        {"version": order.version + 5, **_ticks(SELF_CHECK_ITEMS)},
        **HX,
    )
    assert "changed by someone else" in response.text
    order.refresh_from_db()
    assert order.status == S.IN_PROGRESS


def test_the_panel_tells_an_inspector_who_worked_on_the_order(client, bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.IN_PROGRESS)
    worked_on_by(order, demo_org["bj01-qc"])
    order.status = S.SELF_CHECKED
    order.save(update_fields=["status"])
    client.force_login(demo_org["bj01-qc"])
    panel = client.get(reverse("ro-quality-panel", args=[order.pk]), **HX)
    assert 'data-code="same_person"' in panel.text
    assert 'name="result"' not in panel.text
    # posting anyway is refused with the same reason
    response = client.post(
        reverse("ro-quality-qc", args=[order.pk]),
        {"version": order.version, "result": "pass", **_ticks(QC_ITEMS)},
        **HX,
    )
    assert "another inspector" in response.text
    assert not QualityCheck.objects.filter(repair_order=order).exists()


def test_qc_fail_from_the_panel_keeps_the_reason_and_shows_the_rework(client, bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.SELF_CHECKED)
    client.force_login(demo_org["bj01-qc"])
    response = client.post(
        reverse("ro-quality-qc", args=[order.pk]),
        {
            "version": order.version,
            "result": "fail",
            "reason": "异响仍在",
            **_ticks(QC_ITEMS, but=["road_test"]),
        },
        **HX,
    )
    assert response["HX-Trigger"] == "ro-changed"
    order.refresh_from_db()
    assert (order.status, order.rework_count) == (S.QC_FAILED, 1)
    assert "异响仍在" in response.text
    assert 'data-testid="rework-count">1<' in response.text


def test_the_advisor_makes_ready_and_hands_over(client, bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.QC_PASSED, free_wash=True)
    client.force_login(demo_org["bj01-sa"])
    response = client.post(
        reverse("ro-quality-ready", args=[order.pk]), {"version": order.version}, **HX
    )
    assert response["HX-Trigger"] == "ro-changed"
    order.refresh_from_db()
    assert order.status == S.READY
    assert OutboxMessage.objects.filter(channel="sms", dedup_key__startswith=f"ro-ready:{order.pk}")
    checks = delivery_checks_for(order)
    assert 'name="wash"' in response.text
    # without the wash the hand-over is refused
    url = reverse("ro-quality-deliver", args=[order.pk])
    refused = client.post(url, {"version": order.version, **_ticks(checks, but=["wash"])}, **HX)
    assert str(checks["wash"]) in refused.text
    response = client.post(url, {"version": order.version, **_ticks(checks)}, **HX)
    order.refresh_from_db()
    assert order.status == S.DELIVERED
    assert FollowUp.objects.filter(repair_order=order).count() == 1


def test_the_cashier_closes_from_the_panel(client, bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.DELIVERED)
    settle(order)
    client.force_login(demo_org["bj01-cashier"])
    panel = client.get(reverse("ro-quality-panel", args=[order.pk]), **HX)
    assert reverse("ro-quality-close", args=[order.pk]) in panel.text
    client.post(reverse("ro-quality-close", args=[order.pk]), {"version": order.version}, **HX)
    order.refresh_from_db()
    assert order.status == S.CLOSED


def test_another_dealers_order_is_404(client, bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.SELF_CHECKED)
    client.force_login(demo_org["sh01-qc"])
    assert client.get(reverse("ro-quality-panel", args=[order.pk])).status_code == 404
    assert client.post(reverse("ro-quality-qc", args=[order.pk]), {}).status_code == 404


def test_qc_queue_lists_self_checked_orders_oldest_first(client, bj01, demo_org):
    now = timezone.now()
    newer = make_repair_order(dealer=bj01, status=S.SELF_CHECKED, work_done_at=now)
    older = make_repair_order(
        dealer=bj01, status=S.SELF_CHECKED, work_done_at=now - datetime.timedelta(hours=2)
    )
    make_repair_order(dealer=bj01, status=S.IN_PROGRESS)
    make_repair_order(dealer=Dealer.objects.get(code="SH01"), status=S.SELF_CHECKED)
    client.force_login(demo_org["bj01-qc"])
    response = client.get(reverse("qc-queue"))
    assert [o.pk for o in response.context["object_list"]] == [older.pk, newer.pk]


def _follow_up(dealer, *, opens_in=-1, due_in=24):
    order = make_repair_order(dealer=dealer, status=S.DELIVERED)
    now = timezone.now()
    return FollowUp.objects.create(
        repair_order=order,
        dealer=dealer,
        opens_at=now + datetime.timedelta(hours=opens_in),
        due_at=now + datetime.timedelta(hours=due_in),
    )


def test_follow_up_list_tabs_phone_and_fixed_queries(
    client, bj01, demo_org, django_assert_max_num_queries
):
    due = [_follow_up(bj01) for _ in range(3)]
    overdue = _follow_up(bj01, opens_in=-80, due_in=-2)
    client.force_login(demo_org["bj01-dcrc"])
    client.get(reverse("follow-up-list"))  # warm the session and permission caches
    with django_assert_max_num_queries(12):
        response = client.get(reverse("follow-up-list"))
    assert [f.pk for f in response.context["object_list"]] == [f.pk for f in due]
    # the agent may contact customers: the full number
    assert due[0].repair_order.customer.mobile in response.text
    for _ in range(10):
        _follow_up(bj01)
    with django_assert_max_num_queries(12):
        client.get(reverse("follow-up-list"))
    response = client.get(reverse("follow-up-list"), {"tab": "overdue"})
    assert [f.pk for f in response.context["object_list"]] == [overdue.pk]


def test_follow_up_list_masks_the_phone_without_contact_permission(client, bj01, demo_org):
    # given the OEM analyst, who sees follow-ups but may not contact customers
    analyst = demo_org["oem-analyst"]
    assert not can_see_phone(analyst)
    fu = _follow_up(bj01)
    client.force_login(analyst)
    response = client.get(reverse("follow-up-list"))
    assert fu.pk in [f.pk for f in response.context["object_list"]]
    mobile = fu.repair_order.customer.mobile
    assert mobile not in response.text and mask_mobile(mobile) in response.text


def test_recording_a_call_on_the_page(client, bj01, demo_org):
    fu = _follow_up(bj01)
    client.force_login(demo_org["bj01-dcrc"])
    page = client.get(reverse("follow-up-detail", args=[fu.pk]))
    assert 'name="overall"' in page.text and 'name="nps"' in page.text
    url = reverse("follow-up-call", args=[fu.pk])
    # a reached call without every score is refused and shows the missing question
    refused = client.post(url, {"version": fu.version, "outcome": "reached", "overall": "5"})
    assert refused.status_code == 400 and "Give a score from 1 to 5." in refused.text
    scores = dict.fromkeys(QUESTIONS, "4")
    response = client.post(
        url, {"version": fu.version, "outcome": "reached", "nps": "8", "remarks": "好", **scores}
    )
    assert response.status_code == 302
    fu.refresh_from_db()
    assert fu.status == FollowUpStatus.DONE and fu.scores["nps"] == 8
    page = client.get(response["Location"])
    assert 'id="call-form"' not in page.text and "好" in page.text


def test_a_call_on_a_done_follow_up_page_is_409(client, bj01, demo_org):
    fu = _follow_up(bj01)
    follow_up_record_call(
        actor=demo_org["bj01-dcrc"], follow_up=fu, version=fu.version, outcome=CallOutcome.DECLINED
    )
    fu.refresh_from_db()
    client.force_login(demo_org["bj01-dcrc"])
    response = client.post(
        reverse("follow-up-call", args=[fu.pk]), {"version": fu.version, "outcome": "declined"}
    )
    assert response.status_code == 409
    assert fu.calls.count() == 1
