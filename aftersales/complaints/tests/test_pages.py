"""The complaint pages: the agent's intake, the specialist's workbench, the complaint page
and its forms for each role, the dealer's and the region's list, VRT tasks, follow-ups,
legal cases and the settings; in Chinese (the default) and English; fixed queries."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from aftersales.complaints import selectors
from aftersales.complaints.choices import ComplaintStatus as S
from aftersales.complaints.choices import StepKind, StepStatus
from aftersales.complaints.models import Complaint, ComplaintEvent, Escalation, LegalCase
from aftersales.complaints.testing import make_complaint
from aftersales.org.models import Dealer, Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(demo_org):
    return {**demo_org, **{d.code: d for d in Dealer.objects.all()}}


def act(client, complaint, action, data, **extra):
    return client.post(reverse("complaint-action", args=[complaint.pk, action]), data, **extra)


# ---------------------------------------------------------------- intake


def test_the_agent_receives_a_complaint_found_by_plate_and_judges_another(client, org):
    from aftersales.crm.testing import make_customer, make_vehicle

    # given a car in the records and a hotline complaint waiting to be judged
    car = make_vehicle(owner=make_customer(dealer=org["BJ01"]), dealer=org["BJ01"])
    waiting = make_complaint(status=S.NEW, subject="客服电话无人接听")
    client.force_login(org["oem-csagent"])

    # when the agent opens the intake screen and looks the car up by its plate
    page = client.get(reverse("complaint-intake"), {"q": car.plate})

    # then the vehicle is on the form, and the queue shows the waiting complaint
    assert page.status_code == 200
    assert page.context["vehicle"] == car
    assert page.context["receive_form"]["vehicle"].value() == car.pk
    assert waiting in page.context["object_list"]
    assert f'data-complaint="{waiting.number}"' in page.content.decode()
    assert page.context["decisions"][2][0] == "to_file"

    # when they receive a new complaint for that car
    form = page.context["receive_form"]
    received = client.post(
        reverse("complaint-new"),
        {
            "idempotency_key": form["idempotency_key"].value(),
            "vehicle": car.pk,
            "q": car.plate,
            "channel": "hotline",
            "contact_name": "李女士",
            "contact_phone": "13900002222",
            "subject": "刹车异响",
            "description": "刹车时有尖锐异响。",
            "expectation": "免费检查",
        },
    )
    # then the complaint exists with the car and its owner, and its page opens
    created = Complaint.objects.get(subject="刹车异响")
    assert received.status_code == 302
    assert received["Location"] == reverse("complaint-detail", args=[created.pk])
    assert created.vehicle == car and created.customer == car.owner
    assert created.status == S.NEW and created.channel == "hotline"

    # when the agent judges the waiting one invalid from the queue, with a reply
    judged = act(
        client,
        waiting,
        "judge",
        {
            "judge-version": waiting.version,
            "judge-decision": "invalid",
            "judge-judgement": "非投诉，咨询类",
            "judge-reply": "已告知客户服务热线时间",
            "next": reverse("complaint-intake"),
        },
    )
    # then they are back on the queue and the complaint is answered and closed
    assert judged.status_code == 302 and judged["Location"] == reverse("complaint-intake")
    waiting.refresh_from_db()
    assert waiting.status == S.INVALID and waiting.reply == "已告知客户服务热线时间"


def test_a_double_submitted_complaint_is_received_once(client, org):
    client.force_login(org["oem-csagent"])
    data = {
        "idempotency_key": "k-123",
        "channel": "wechat",
        "contact_name": "赵先生",
        "subject": "等待时间太长",
        "description": "保养等了四个小时。",
    }
    first = client.post(reverse("complaint-new"), data)
    second = client.post(reverse("complaint-new"), data)
    assert first.status_code == second.status_code == 302
    assert Complaint.objects.filter(subject="等待时间太长").count() == 1


def test_a_judgement_without_reply_is_refused_next_to_the_form(client, org):
    complaint = make_complaint(status=S.NEW)
    client.force_login(org["oem-csagent"])
    response = act(
        client,
        complaint,
        "judge",
        {"judge-version": complaint.version, "judge-decision": "resolved", "judge-judgement": "x"},
    )
    assert response.status_code == 200
    form = response.context["forms"]["judge"]
    assert "reply" in form.errors
    assert response.context["failed_action"] == "judge"
    complaint.refresh_from_db()
    assert complaint.status == S.NEW


def test_a_dealer_forwards_a_complaint_to_the_specialists_queue(client, org):
    # given a DCRC manager of BJ01
    client.force_login(org["bj01-dcrcmgr"])
    form_page = client.get(reverse("complaint-new"))
    assert form_page.context["forward_only"]
    assert list(form_page.context["receive_form"].fields["dealer"].queryset) == [org["BJ01"]]
    # when they forward a complaint
    client.post(
        reverse("complaint-new"),
        {
            "channel": "dealer",
            "dealer": org["BJ01"].pk,
            "contact_name": "钱先生",
            "subject": "配件缺货",
            "description": "等配件两周。",
        },
    )
    complaint = Complaint.objects.get(subject="配件缺货")
    assert complaint.source_dealer == org["BJ01"] and complaint.channel == "dealer"
    # then the specialist finds it in the "to judge" queue, and the agent does not
    client.force_login(org["oem-complaint"])
    bench = client.get(reverse("complaint-workbench"))
    assert complaint in bench.context["object_list"]
    client.force_login(org["oem-csagent"])
    assert complaint not in client.get(reverse("complaint-intake")).context["object_list"]


# ---------------------------------------------------------------- workbench


def _overdue(complaint, days=1):
    Complaint.objects.filter(pk=complaint.pk).update(
        deadline_at=timezone.now() - datetime.timedelta(days=days)
    )


def test_the_workbench_queues_hold_the_right_complaints_with_counts(client, org):
    # given complaints at each stage
    to_file = make_complaint(status=S.TO_FILE)
    waiting_dealer = make_complaint(dealer=org["BJ01"], status=S.HANDLING)
    late = make_complaint(dealer=org["SH01"], status=S.HANDLING)
    _overdue(late)
    filed = make_complaint(status=S.FILED)
    Complaint.objects.filter(pk=filed.pk).update(
        deadline_at=timezone.now() + datetime.timedelta(minutes=30)
    )
    closed = make_complaint(dealer=org["BJ01"], status=S.CLOSED)
    client.force_login(org["oem-complaint"])

    def queue(key):
        response = client.get(reverse("complaint-workbench"), {"queue": key})
        assert response.status_code == 200
        return response, set(response.context["object_list"])

    response, rows = queue("to_file")
    assert rows == {to_file}
    counts = {q["key"]: q["count"] for q in response.context["queues"]}
    assert counts["to_file"] == 1 and counts["overdue"] == 1 and counts["dealer"] == 2
    assert queue("dealer")[1] == {waiting_dealer, late}
    assert queue("overdue")[1] == {late}
    assert queue("due_soon")[1] == {filed}
    assert closed not in queue("overdue")[1]
    # the overdue row says by how much
    body = queue("overdue")[0].content.decode()
    assert 'data-overdue="' in body and late.number in body


def test_a_deadline_gone_by_with_no_working_time_since_shows_as_overdue(org):
    # given a deadline at Friday 20:00 (after hours) and a filed complaint still handling it
    from zoneinfo import ZoneInfo

    from aftersales.complaints.views import _annotate

    shanghai = ZoneInfo("Asia/Shanghai")
    friday_evening = datetime.datetime(2026, 11, 27, 20, 0, tzinfo=shanghai)
    complaint = make_complaint(dealer=org["BJ01"], status=S.HANDLING)
    Complaint.objects.filter(pk=complaint.pk).update(deadline_at=friday_evening)
    complaint.refresh_from_db()
    # when the workbench annotates it on Saturday, with no working time gone since
    saturday = datetime.datetime(2026, 11, 28, 20, 0, tzinfo=shanghai)
    assert selectors.remaining_days(complaint, saturday) == 0
    (row,) = _annotate([complaint], saturday)
    # then it says overdue, as the overdue queue does, and not "0 days left"
    assert row.time_over == 0 and str(row.time_over) == "0.0" and row.time_left is None
    # and on Friday afternoon it still had working time left
    (row,) = _annotate([complaint], datetime.datetime(2026, 11, 27, 15, 0, tzinfo=shanghai))
    assert row.time_left > 0 and row.time_over is None
    # and on Monday afternoon it is overdue by the working time since Monday's opening
    (row,) = _annotate([complaint], datetime.datetime(2026, 11, 30, 15, 0, tzinfo=shanghai))
    assert row.time_over > 0 and row.time_left is None


def test_a_queue_count_is_capped(client, org, monkeypatch):
    for _ in range(3):
        make_complaint(status=S.TO_FILE)
    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    client.force_login(org["oem-complaint"])
    response = client.get(reverse("complaint-workbench"), {"queue": "to_file"})
    assert response.context["queues"][1]["capped"]
    assert 'data-count="to_file">2+<' in response.content.decode()


@pytest.mark.parametrize("rows", [2, 6])
def test_the_workbench_reads_a_fixed_number_of_queries(
    client, org, rows, django_assert_num_queries
):
    # given overdue complaints at several dealers
    for n in range(rows):
        _overdue(make_complaint(dealer=org["BJ01" if n % 2 else "SH01"], status=S.HANDLING))
    client.force_login(org["oem-complaint"])
    client.get(reverse("complaint-workbench"))  # warm the settings row and sessions
    # then the page reads the same number of queries whatever the rows: the session and
    # user, the roles, six capped counts, one page of rows (dealer and region joined) and
    # whether the user sits on a VRT (the screens offered)
    with django_assert_num_queries(11):
        response = client.get(reverse("complaint-workbench"), {"queue": "overdue"})
    assert len(response.context["object_list"]) == rows


def test_the_dealer_list_reads_a_fixed_number_of_queries(client, org, django_assert_num_queries):
    for _ in range(5):
        make_complaint(dealer=org["BJ01"], status=S.HANDLING)
    client.force_login(org["bj01-svcmgr"])
    client.get(reverse("complaint-list"))
    with django_assert_num_queries(8):
        response = client.get(reverse("complaint-list"))
    assert len(response.context["object_list"]) == 5


# ---------------------------------------------------------------- the complaint page


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_complaint_page_offers_each_role_its_forms(client, org, language):
    complaint = make_complaint(dealer=org["BJ01"], status=S.HANDLING)
    expected = {
        "oem-complaint": {"set_limit", "escalate", "close", "comment", "pause", "open_step"},
        "bj01-svcmgr": {"plan", "comment"},
        "north-rm": {"comment"},
        "bj01-sa": set(),
    }
    for username, forms in expected.items():
        client.force_login(org[username])
        page = client.get(
            reverse("complaint-detail", args=[complaint.pk]), HTTP_ACCEPT_LANGUAGE=language
        )
        assert page.status_code == 200, username
        assert set(page.context["forms"]) == forms, username
        for action in forms:
            assert f'data-action="{action}"'.encode() in page.content
    if language == "en":
        assert b"Submit the handling plan" not in page.content  # the advisor's page
    else:
        assert "投诉" in page.content.decode()


def test_a_dealer_of_another_region_gets_404(client, org):
    complaint = make_complaint(dealer=org["BJ01"], status=S.HANDLING)
    client.force_login(org["sh01-svcmgr"])
    assert client.get(reverse("complaint-detail", args=[complaint.pk])).status_code == 404


def test_the_specialist_files_and_assigns_and_a_dealer_outside_the_region_is_refused(client, org):
    complaint = make_complaint(status=S.TO_FILE)
    client.force_login(org["oem-complaint"])
    filed = act(
        client,
        complaint,
        "file",
        {
            "file-version": complaint.version,
            "file-category": "quality",
            "file-grade": "urgent",
        },
    )
    assert filed.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == S.FILED and complaint.limit_days == 1
    page = client.get(reverse("complaint-detail", args=[complaint.pk]))
    assert "assign" in page.context["forms"]

    # when they choose the north region but a Shanghai dealer
    north = Region.objects.get(pk=org["BJ01"].region_id)
    refused = act(
        client,
        complaint,
        "assign",
        {
            "assign-version": complaint.version,
            "assign-region": north.pk,
            "assign-dealer": org["SH01"].pk,
        },
    )
    # then the page comes back with the error on the dealer, and nothing is assigned
    assert refused.status_code == 200
    assert "dealer" in refused.context["forms"]["assign"].errors
    assert 'data-error="dealer"' in refused.content.decode()
    complaint.refresh_from_db()
    assert complaint.status == S.FILED and complaint.dealer is None
    # when they pick a dealer of the region, it is assigned and the plan is due
    act(
        client,
        complaint,
        "assign",
        {
            "assign-version": complaint.version,
            "assign-region": north.pk,
            "assign-dealer": org["BJ01"].pk,
        },
    )
    complaint.refresh_from_db()
    assert complaint.status == S.HANDLING and complaint.dealer == org["BJ01"]
    assert complaint.steps.get(kind=StepKind.PLAN).status == StepStatus.OPEN


def test_a_stale_form_is_refused(client, org):
    complaint = make_complaint(status=S.TO_FILE)
    client.force_login(org["oem-complaint"])
    response = act(
        client,
        complaint,
        "file",
        {"file-version": complaint.version - 1, "file-category": "sales", "file-grade": "major"},
    )
    assert response.status_code == 200
    assert response.context["forms"]["file"].non_field_errors()
    complaint.refresh_from_db()
    assert complaint.status == S.TO_FILE


def test_vrt_members_record_the_conclusion_and_the_dealer_acknowledges(client, org):
    complaint = make_complaint(dealer=org["BJ01"], status=S.HANDLING, category="quality")
    tech = org["oem-techsupport"]
    client.force_login(org["oem-complaint"])
    opened = act(
        client,
        complaint,
        "open_step",
        {"step-version": complaint.version, "step-kind": "vrt", "step-members": [tech.pk]},
    )
    assert opened.status_code == 302
    step = complaint.steps.get(kind=StepKind.VRT)

    # the technical-support specialist sees the task and records the conclusion
    client.force_login(tech)
    tasks = client.get(reverse("complaint-vrt-tasks"))
    assert step in tasks.context["object_list"]
    page = client.get(reverse("complaint-detail", args=[complaint.pk]))
    assert [s for s, _form in page.context["rows"]["record_step"]] == [step]
    missing = act(
        client, complaint, "record_step", {"record_step-step": step.pk, "record_step-solution": "x"}
    )
    assert missing.status_code == 200  # defect and responsibility are required
    act(
        client,
        complaint,
        "record_step",
        {
            "record_step-step": step.pk,
            "record_step-defect_exists": "yes",
            "record_step-responsibility": "supplier",
            "record_step-conclusion": "隔音棉脱落",
            "record_step-solution": "更换隔音棉",
        },
    )
    step.refresh_from_db()
    assert step.status == StepStatus.DONE and step.defect_exists is True

    # the dealer acknowledges it
    client.force_login(org["bj01-svcmgr"])
    page = client.get(reverse("complaint-detail", args=[complaint.pk]))
    assert [s for s, _form in page.context["rows"]["acknowledge"]] == [step]
    act(client, complaint, "acknowledge", {"acknowledge-step": step.pk})
    step.refresh_from_db()
    assert step.acknowledged_by_dealer_at is not None


def test_a_vrt_member_without_the_support_role_sees_only_their_tasks(client, org):
    from aftersales.complaints import services

    mine = make_complaint(dealer=org["BJ01"], status=S.HANDLING, category="quality")
    other = make_complaint(dealer=org["BJ01"], status=S.HANDLING, category="quality")
    specialist, legal = org["oem-complaint"], org["oem-legal"]
    services.step_open(actor=specialist, complaint=mine, kind="vrt", members=[legal])
    services.step_open(actor=specialist, complaint=other, kind="vrt", members=[specialist])
    client.force_login(legal)
    response = client.get(reverse("complaint-vrt-tasks"))
    assert response.status_code == 200
    assert [s.complaint for s in response.context["object_list"]] == [mine]
    client.force_login(org["oem-pr"])
    assert client.get(reverse("complaint-vrt-tasks")).status_code == 403


def test_a_plan_with_goodwill_escalates_and_the_region_manager_decides(client, org):
    complaint = make_complaint(dealer=org["BJ01"], status=S.HANDLING)
    client.force_login(org["bj01-svcmgr"])
    act(
        client,
        complaint,
        "plan",
        {
            "plan-version": complaint.version,
            "plan-plan": "免费更换并赠送保养",
            "plan-goodwill_amount": "5000",
        },
    )
    escalation = Escalation.objects.get(complaint=complaint)
    assert escalation.role == "region_manager" and escalation.amount == Decimal("5000")
    # the dealer cannot decide its own escalation, the region manager can
    page = client.get(reverse("complaint-detail", args=[complaint.pk]))
    assert page.context["rows"]["decide"] == []
    client.force_login(org["north-rm"])
    page = client.get(reverse("complaint-detail", args=[complaint.pk]))
    assert [e for e, _form in page.context["rows"]["decide"]] == [escalation]
    too_much = act(
        client,
        complaint,
        "decide",
        {
            "decide-escalation": escalation.pk,
            "decide-decision": "同意",
            "decide-approved_amount": "30000",
        },
    )
    assert too_much.status_code == 200
    assert "approved_amount" in too_much.context["rows"]["decide"][0][1].errors
    act(
        client,
        complaint,
        "decide",
        {
            "decide-escalation": escalation.pk,
            "decide-decision": "同意",
            "decide-approved_amount": "4000",
        },
    )
    escalation.refresh_from_db()
    assert escalation.decided_by == org["north-rm"] and escalation.approved_amount == Decimal(
        "4000"
    )


def test_close_needs_evidence_then_the_follow_up_is_on_the_worklist(client, org):
    complaint = make_complaint(dealer=org["BJ01"], status=S.HANDLING)
    client.force_login(org["oem-complaint"])
    refused = act(
        client, complaint, "close", {"close-version": complaint.version, "close-condition": "done"}
    )
    assert refused.status_code == 200 and "evidence" in refused.context["forms"]["close"].errors
    closed = act(
        client,
        complaint,
        "close",
        {
            "close-version": complaint.version,
            "close-condition": "withdrawn",
            "close-evidence": "客户电话确认撤回",
        },
    )
    assert closed.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == S.CLOSED and complaint.closure_condition == "withdrawn"

    # the agent calls the customer from the follow-up worklist
    client.force_login(org["oem-csagent"])
    worklist = client.get(reverse("complaint-follow-ups"))
    follow_up = complaint.follow_ups.get()
    assert follow_up in worklist.context["object_list"]
    act(
        client,
        complaint,
        "follow_up",
        {
            "follow_up-follow_up": follow_up.pk,
            "follow_up-outcome": "reached",
            "follow_up-score": "4",
            "next": reverse("complaint-follow-ups"),
        },
    )
    follow_up.refresh_from_db()
    assert follow_up.score == 4 and follow_up.done_at is not None
    assert follow_up not in client.get(reverse("complaint-follow-ups")).context["object_list"]


def test_pause_resume_and_reopen(client, org):
    complaint = make_complaint(dealer=org["BJ01"], status=S.HANDLING)
    client.force_login(org["oem-complaint"])
    act(
        client,
        complaint,
        "pause",
        {"pause-version": complaint.version, "pause-reason": "等客户到店"},
    )
    complaint.refresh_from_db()
    assert complaint.paused_since is not None
    page = client.get(reverse("complaint-detail", args=[complaint.pk]))
    assert page.context["actions"]["resume"] and "pause" not in page.context["forms"]
    assert 'data-paused="1"' in page.content.decode()
    act(client, complaint, "resume", {"resume-version": complaint.version})
    complaint.refresh_from_db()
    assert complaint.paused_since is None

    closed = make_complaint(dealer=org["BJ01"], status=S.CLOSED)
    act(
        client,
        closed,
        "reopen",
        {"reopen-version": closed.version, "reopen-reason": "客户再次投诉"},
    )
    closed.refresh_from_db()
    assert closed.status == S.HANDLING and closed.reopen_count == 1


# ---------------------------------------------------------------- lists


def test_the_region_supervises_its_dealers_and_comments_from_the_list(client, org):
    bj = make_complaint(dealer=org["BJ01"], status=S.HANDLING)
    tj = make_complaint(dealer=org["TJ01"], status=S.HANDLING)
    _overdue(tj)
    sh = make_complaint(dealer=org["SH01"], status=S.HANDLING)
    client.force_login(org["north-rm"])
    listed = client.get(reverse("complaint-list"))
    assert set(listed.context["object_list"]) == {bj, tj}
    assert sh.number not in listed.content.decode()
    assert {d.code for d in listed.context["dealers"]} >= {"BJ01", "TJ01"}
    by_dealer = client.get(reverse("complaint-list"), {"dealer": org["BJ01"].pk})
    assert list(by_dealer.context["object_list"]) == [bj]
    overdue = client.get(reverse("complaint-list"), {"overdue": "1"})
    assert list(overdue.context["object_list"]) == [tj]

    back = reverse("complaint-list") + "?overdue=1"
    response = act(client, tj, "comment", {"comment-text": "请尽快联系客户", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    assert ComplaintEvent.objects.filter(complaint=tj, kind="comment").get().message == (
        "请尽快联系客户"
    )


def test_the_dealer_list_shows_the_plan_due(client, org):
    complaint = make_complaint(dealer=org["BJ01"], status=S.HANDLING)
    client.force_login(org["bj01-dcrcmgr"])
    response = client.get(reverse("complaint-list"))
    row = next(r for r in response.context["object_list"] if r.pk == complaint.pk)
    assert row.plan_due[0] == StepKind.PLAN
    assert f'data-plan-due="{complaint.pk}"' in response.content.decode()


# ---------------------------------------------------------------- cases and settings


def test_legal_staff_record_and_update_a_case(client, org):
    complaint = make_complaint(dealer=org["BJ01"], status=S.HANDLING)
    client.force_login(org["oem-legal"])
    bad = client.post(
        reverse("complaint-case-new"),
        {"kind": "lawsuit", "title": "客户起诉", "complaint_numbers": "TS-NOPE"},
    )
    assert bad.status_code == 200 and "complaint_numbers" in bad.context["form"].errors
    made = client.post(
        reverse("complaint-case-new"),
        {
            "kind": "lawsuit",
            "title": "客户起诉",
            "complaint_numbers": complaint.number.lower(),
            "staff": [org["oem-legal"].pk],
            "opened_on": "2026-11-01",
        },
    )
    case = LegalCase.objects.get()
    assert made.status_code == 302 and list(case.complaints.all()) == [complaint]
    refused = client.post(
        reverse("complaint-case-update", args=[case.pk]), {"closed_on": "2026-12-01"}
    )
    assert refused.status_code == 200 and "outcome" in refused.context["form"].errors
    client.post(
        reverse("complaint-case-update", args=[case.pk]),
        {"outcome": "调解结案", "closed_on": "2026-12-01", "staff": [org["oem-legal"].pk]},
    )
    case.refresh_from_db()
    assert case.status == "closed" and case.outcome == "调解结案"
    listed = client.get(reverse("complaint-case-list"))
    assert case in listed.context["object_list"]


def test_the_oem_admin_changes_the_rules_and_the_goodwill_matrix(client, org):
    from aftersales.complaints.models import ComplaintSettings, GoodwillLevel

    client.force_login(org["oem-admin"])
    page = client.get(reverse("complaint-settings"))
    assert page.status_code == 200 and page.context["may_change"]
    data = {name: page.context["form"][name].value() for name in page.context["form"].fields}
    data.update(urgent_days=2, warn_at="60，90", pause_allowed="")
    saved = client.post(reverse("complaint-settings-save"), data)
    assert saved.status_code == 302
    row = ComplaintSettings.current()
    assert row.urgent_days == 2 and row.warn_at == [60, 90] and row.pause_allowed is False

    bad = client.post(
        reverse("complaint-settings-save"), {**data, "warn_at": "0, 120"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert bad.status_code == 200 and "warn_at" in bad.context["form"].errors

    levels = {
        "levels-TOTAL_FORMS": "3",
        "levels-INITIAL_FORMS": "0",
        "levels-0-max_amount": "5000",
        "levels-0-role": "service_manager",
        "levels-1-max_amount": "",
        "levels-1-role": "oem_admin",
        "levels-2-max_amount": "",
        "levels-2-role": "",
    }
    client.post(reverse("complaint-goodwill-save"), levels)
    assert list(GoodwillLevel.objects.values_list("max_amount", "role")) == [
        (Decimal("5000.00"), "service_manager"),
        (None, "oem_admin"),
    ]
    open_ended_first = {**levels, "levels-0-max_amount": "", "levels-1-max_amount": "9000"}
    refused = client.post(reverse("complaint-goodwill-save"), open_ended_first)
    assert refused.status_code == 200 and refused.context["formset"].non_form_errors()


def test_the_specialist_reads_the_settings_but_cannot_change_them(client, org):
    client.force_login(org["oem-complaint"])
    page = client.get(reverse("complaint-settings"))
    assert page.status_code == 200 and not page.context["may_change"]
    assert client.post(reverse("complaint-settings-save"), {}).status_code == 403


def test_complaints_in_the_bar_open_each_roles_screen(client, org):
    landing = {
        "oem-complaint": "complaint-workbench",
        "oem-csagent": "complaint-intake",
        "oem-techsupport": "complaint-vrt-tasks",
        "oem-legal": "complaint-case-list",
        "bj01-svcmgr": "complaint-list",
        "north-rm": "complaint-list",
    }
    for username, target in landing.items():
        client.force_login(org[username])
        response = client.get(reverse("complaint-home"))
        assert response["Location"] == reverse(target), username
    client.force_login(org["bj01-sa"])
    home = client.get("/")
    names = [item["name"] for item in home.context["menu"]]
    assert "complaint-home" not in names and "complaint-new" in names
