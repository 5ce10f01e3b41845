"""The complaint's lifecycle through the services: intake, judging, filing, assignment,
VRT, the dealer's plan, pause, escalation, closure, reopening, follow-up, cases."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from aftersales.complaints import services
from aftersales.complaints.choices import (
    TRANSITIONS,
    Category,
    ClosureCondition,
    EscalationReason,
    Grade,
    StepKind,
    StepStatus,
)
from aftersales.complaints.choices import ComplaintStatus as S
from aftersales.complaints.models import (
    Complaint,
    ComplaintEvent,
    ComplaintFollowUp,
    ComplaintSettings,
    ComplaintStep,
    Escalation,
)
from aftersales.complaints.testing import dealer_user, make_complaint, oem_user
from aftersales.core.errors import Conflict, PermissionDenied, ValidationFailed
from aftersales.core.models import OutboxMessage
from aftersales.org.models import Dealer, Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(demo_org):
    return {
        **demo_org,
        "BJ01": Dealer.objects.get(code="BJ01"),
        "TJ01": Dealer.objects.get(code="TJ01"),
        "SH01": Dealer.objects.get(code="SH01"),
    }


def _receive(org, **extra):
    data = {
        "actor": org["oem-csagent"],
        "channel": "hotline",
        "contact_name": "李女士",
        "contact_phone": "13900002222",
        "subject": "维修后仍漏油",
        "description": "更换油封后第三天仍然漏油",
    }
    data.update(extra)
    return services.complaint_receive(**data)


# ---------------------------------------------------------------- intake and judging


def test_a_hotline_complaint_is_numbered_and_waits_to_be_judged(org):
    # when the agent records a call
    complaint = _receive(org)
    # then it is numbered, new, without a dealer (OEM level) and its timeline starts
    assert complaint.number.startswith("TS-")
    assert complaint.status == S.NEW
    assert complaint.dealer_id is None
    assert complaint.events.filter(kind="received").count() == 1


def test_a_dealer_forward_needs_the_dealer_and_is_seen_by_it(org):
    # a forward without the dealer is refused and nothing is saved
    with pytest.raises(ValidationFailed) as error:
        _receive(org, actor=org["bj01-dcrcmgr"], channel="dealer")
    assert "dealer" in error.value.fields
    assert Complaint.objects.count() == 0
    # with the dealer: the dealer's staff see it, another dealer's do not
    complaint = _receive(org, actor=org["bj01-dcrcmgr"], channel="dealer", dealer=org["BJ01"])
    assert Complaint.objects.restrict(org["bj01-svcmgr"]).filter(pk=complaint.pk).exists()
    assert not Complaint.objects.restrict(org["sh01-svcmgr"]).filter(pk=complaint.pk).exists()


def test_a_dealer_cannot_forward_in_another_dealers_name(org):
    with pytest.raises(PermissionDenied):
        _receive(org, actor=org["sh01-dcrcmgr"], channel="dealer", dealer=org["BJ01"])


def test_invalid_complaints_are_answered_and_closed(org):
    complaint = _receive(org)
    # a judgement without the reply is refused
    with pytest.raises(ValidationFailed) as error:
        services.complaint_judge(
            actor=org["oem-csagent"], complaint=complaint, decision="invalid", judgement="非投诉"
        )
    assert "reply" in error.value.fields
    complaint = services.complaint_judge(
        actor=org["oem-csagent"],
        complaint=complaint,
        decision="invalid",
        judgement="客户咨询保养价格，非投诉",
        reply="已告知保养价格",
    )
    assert complaint.status == S.INVALID
    assert complaint.closed_at is not None
    # and nothing more happens to it
    with pytest.raises(Conflict):
        services.complaint_file(
            actor=org["oem-complaint"], complaint=complaint, category="service", grade="general"
        )


def test_a_dealer_forward_is_judged_by_the_specialist_not_the_agent(org):
    complaint = make_complaint(dealer=org["BJ01"], status=S.NEW, forwarded=True)
    with pytest.raises(Conflict) as error:
        services.complaint_judge(
            actor=org["oem-csagent"], complaint=complaint, decision="to_file", judgement="有效"
        )
    assert "specialist" in str(error.value.message) or "专员" in str(error.value.message)
    complaint = services.complaint_judge(
        actor=org["oem-complaint"], complaint=complaint, decision="to_file", judgement="有效"
    )
    assert complaint.status == S.TO_FILE


def test_the_agent_may_resolve_a_valid_informal_complaint_at_once(org):
    complaint = services.complaint_judge(
        actor=org["oem-csagent"],
        complaint=_receive(org),
        decision="resolved",
        judgement="核实为预约未通知",
        reply="已致歉并重新安排预约",
    )
    assert complaint.status == S.RESOLVED


# ---------------------------------------------------------------- filing and limits


@pytest.mark.parametrize("grade,days", [("urgent", 1), ("general", 3), ("major", 5)])
def test_filing_starts_the_clock_with_the_grades_limit(org, grade, days):
    complaint = make_complaint(status=S.TO_FILE)
    complaint = services.complaint_file(
        actor=org["oem-complaint"], complaint=complaint, category="quality", grade=grade
    )
    assert complaint.status == S.FILED
    assert complaint.limit_days == days
    assert complaint.clock_started_at == complaint.filed_at
    expected, _guessed = services.clock.limit_deadline(complaint.filed_at, days)
    assert complaint.deadline_at == expected
    assert timezone.localtime(complaint.deadline_at).time() == datetime.time(18, 0)


def test_a_limit_may_be_stricter_never_looser(org):
    complaint = make_complaint(status=S.TO_FILE)
    with pytest.raises(ValidationFailed) as error:
        services.complaint_file(
            actor=org["oem-complaint"],
            complaint=complaint,
            category="quality",
            grade="general",
            limit_days=4,
        )
    assert "limit_days" in error.value.fields
    complaint = services.complaint_file(
        actor=org["oem-complaint"],
        complaint=complaint,
        category="quality",
        grade="general",
        limit_days=2,
    )
    assert complaint.limit_days == 2


def test_the_agent_cannot_file(org):
    complaint = make_complaint(status=S.TO_FILE)
    with pytest.raises(PermissionDenied):
        services.complaint_file(
            actor=org["oem-csagent"], complaint=complaint, category="sales", grade="general"
        )


def test_the_configured_limits_apply_to_new_filings(org):
    services.settings_update(actor=org["oem-admin"], general_days=4)
    assert ComplaintSettings.current().general_days == 4
    complaint = make_complaint(status=S.FILED, grade=Grade.GENERAL)
    assert complaint.limit_days == 4


def test_bad_settings_are_refused_and_change_nothing(org):
    with pytest.raises(ValidationFailed) as error:
        services.settings_update(actor=org["oem-admin"], urgent_days=0, warn_at=[150])
    assert set(error.value.fields) == {"urgent_days", "warn_at"}
    assert ComplaintSettings.current().urgent_days == 1
    with pytest.raises(PermissionDenied):
        services.settings_update(actor=org["oem-complaint"], urgent_days=2)


# ---------------------------------------------------------------- assignment and the plan


def test_assignment_opens_the_dealers_plan_and_tells_the_dealer(org):
    complaint = make_complaint(status=S.FILED)
    complaint = services.complaint_assign(
        actor=org["oem-complaint"],
        complaint=complaint,
        dealer=org["BJ01"],
        region=Region.objects.get(code="NORTH"),
    )
    assert complaint.status == S.HANDLING
    assert complaint.region_id == org["BJ01"].region_id
    plan = complaint.steps.get(kind=StepKind.PLAN)
    assert plan.status == StepStatus.OPEN and plan.limit_days == 1
    told = set(OutboxMessage.objects.filter(channel="inapp").values_list("recipient", flat=True))
    assert str(org["bj01-svcmgr"].pk) in told
    assert str(org["north-rm"].pk) in told


def test_a_dealer_outside_the_chosen_region_is_refused(org):
    complaint = make_complaint(status=S.FILED)
    with pytest.raises(ValidationFailed) as error:
        services.complaint_assign(
            actor=org["oem-complaint"],
            complaint=complaint,
            dealer=org["SH01"],
            region=Region.objects.get(code="NORTH"),
        )
    assert error.value.code == "dealer_outside_region"
    complaint.refresh_from_db()
    assert complaint.status == S.FILED and complaint.dealer_id is None


def test_the_region_sees_its_dealers_complaints_only(org):
    mine = make_complaint(dealer=org["TJ01"])
    other = make_complaint(dealer=org["SH01"])
    visible = set(Complaint.objects.restrict(org["north-rm"]).values_list("pk", flat=True))
    assert mine.pk in visible and other.pk not in visible


def test_a_plan_from_another_dealer_is_refused(org):
    complaint = make_complaint(dealer=org["BJ01"])
    with pytest.raises(PermissionDenied):
        services.plan_submit(actor=org["sh01-svcmgr"], complaint=complaint, plan="我们来处理")
    assert complaint.steps.get(kind=StepKind.PLAN).status == StepStatus.OPEN


def test_the_plan_then_its_execution(org):
    complaint = make_complaint(dealer=org["BJ01"])
    step = services.plan_submit(
        actor=org["bj01-svcmgr"], complaint=complaint, plan="免费更换油封并赠送保养一次"
    )
    assert step.status == StepStatus.DONE
    execution = complaint.steps.get(kind=StepKind.EXECUTION)
    complaint.refresh_from_db()
    assert execution.due_at == complaint.deadline_at
    services.plan_execution_record(
        actor=org["bj01-svcmgr"], complaint=complaint, report="已更换，客户确认"
    )
    execution.refresh_from_db()
    assert execution.status == StepStatus.DONE


def test_two_editors_do_not_overwrite_each_other(org):
    complaint = make_complaint(dealer=org["BJ01"], status=S.FILED)
    seen = complaint.version
    services.complaint_set_limit(
        actor=org["oem-complaint"], complaint=complaint, limit_days=2, reason="媒体关注"
    )
    with pytest.raises(Conflict) as error:
        services.complaint_assign(
            actor=org["oem-complaint"], complaint=complaint, dealer=org["BJ01"], version=seen
        )
    assert error.value.code == "stale"


# ---------------------------------------------------------------- VRT


def test_a_quality_complaint_gets_a_vrt_and_only_members_conclude(org):
    complaint = make_complaint(dealer=org["BJ01"], category=Category.QUALITY)
    member = oem_user("techsupport")
    step = services.step_open(
        actor=org["oem-complaint"],
        complaint=complaint,
        kind=StepKind.VRT,
        members=[member],
        departments="质量部, 技术部",
        limit_days=2,
    )
    # a non-member is refused, the member records the conclusion and solution
    with pytest.raises(PermissionDenied):
        services.step_record(
            actor=org["oem-complaint"],
            step=step,
            defect_exists=True,
            responsibility="supplier",
            conclusion="油封批次缺陷",
            solution="更换新批次油封",
        )
    step = services.step_record(
        actor=member,
        step=step,
        defect_exists=True,
        responsibility="supplier",
        conclusion="油封批次缺陷",
        solution="更换新批次油封",
    )
    assert step.status == StepStatus.DONE and step.defect_exists is True
    # the dealer acknowledges it
    step = services.step_acknowledge(actor=org["bj01-svcmgr"], step=step)
    assert step.acknowledged_by_dealer_at is not None


def test_a_vrt_needs_members_and_a_quality_complaint(org):
    service = make_complaint(dealer=org["BJ01"], category=Category.SERVICE)
    with pytest.raises(Conflict):
        services.step_open(
            actor=org["oem-complaint"],
            complaint=service,
            kind=StepKind.VRT,
            members=[oem_user("techsupport")],
        )
    quality = make_complaint(dealer=org["BJ01"], category=Category.QUALITY)
    with pytest.raises(ValidationFailed):
        services.step_open(
            actor=org["oem-complaint"], complaint=quality, kind=StepKind.VRT, members=[]
        )


def test_no_proposal_escalates(org):
    complaint = make_complaint(dealer=org["BJ01"], category=Category.SALES)
    step = services.step_open(
        actor=org["oem-complaint"],
        complaint=complaint,
        kind=StepKind.PROPOSAL,
        departments="销售部",
    )
    services.step_record(
        actor=org["oem-complaint"], step=step, no_result=True, conclusion="各部门意见不一"
    )
    escalation = Escalation.objects.get(complaint=complaint)
    assert escalation.reason == EscalationReason.NO_PROPOSAL
    assert escalation.level == 2 and escalation.role == "region_manager"


# ---------------------------------------------------------------- pause


def test_a_pause_pushes_the_deadline_by_the_working_time_it_stood(org):
    complaint = make_complaint(dealer=org["BJ01"])
    before = complaint.deadline_at
    complaint = services.complaint_pause(
        actor=org["oem-complaint"], complaint=complaint, reason="等待客户提供照片"
    )
    # the pause started a day ago
    start = timezone.now() - datetime.timedelta(days=1)
    Complaint.objects.filter(pk=complaint.pk).update(paused_since=start)
    complaint.pauses.update(started_at=start)
    complaint = services.complaint_resume(actor=org["oem-complaint"], complaint=complaint)
    stood = services.clock.working_time(start, complaint.pauses.get().ended_at)
    assert complaint.paused_total == stood
    assert (
        complaint.deadline_at
        == services.clock.limit_deadline(complaint.clock_started_at, complaint.limit_days, stood)[0]
    )
    assert complaint.deadline_at >= before


def test_no_pause_where_the_oem_does_not_allow_it(org):
    services.settings_update(actor=org["oem-admin"], pause_allowed=False)
    complaint = make_complaint(dealer=org["BJ01"])
    with pytest.raises(Conflict):
        services.complaint_pause(actor=org["oem-complaint"], complaint=complaint, reason="等客户")
    complaint.refresh_from_db()
    assert complaint.paused_since is None


# ---------------------------------------------------------------- escalation


def test_goodwill_beyond_the_dealer_escalates_to_the_matrix_level(org):
    complaint = make_complaint(dealer=org["BJ01"])
    services.plan_submit(
        actor=org["bj01-svcmgr"], complaint=complaint, plan="补偿", goodwill_amount="25000"
    )
    escalation = Escalation.objects.get(complaint=complaint)
    assert (escalation.level, escalation.role) == (3, "oem_admin")
    assert escalation.reason == EscalationReason.GOODWILL
    # the region manager may not decide it; the OEM admin may
    with pytest.raises(PermissionDenied):
        services.escalation_decide(
            actor=org["north-rm"], escalation=escalation, decision="同意", approved_amount="25000"
        )
    decided = services.escalation_decide(
        actor=org["oem-admin"], escalation=escalation, decision="同意补偿", approved_amount="20000"
    )
    complaint.refresh_from_db()
    assert decided.decided_at is not None
    assert complaint.goodwill_amount == Decimal("20000.00")
    assert complaint.escalation_level == 3


def test_a_manual_escalation_by_amount(org):
    complaint = make_complaint(dealer=org["BJ01"])
    escalation = services.complaint_escalate(
        actor=org["oem-complaint"], complaint=complaint, amount="5000", note="客户要求赔偿"
    )
    assert (escalation.level, escalation.role) == (2, "region_manager")
    decided = services.escalation_decide(
        actor=org["north-rm"], escalation=escalation, decision="同意", approved_amount="3000"
    )
    assert decided.approved_amount == Decimal("3000.00")
    # the region manager's level stops below 20,000
    other = services.complaint_escalate(
        actor=org["oem-complaint"], complaint=complaint, amount="6000", note="再次"
    )
    with pytest.raises(ValidationFailed):
        services.escalation_decide(
            actor=org["north-rm"], escalation=other, decision="同意", approved_amount="20000"
        )


def test_the_goodwill_matrix_must_be_contiguous_and_open_ended(org):
    with pytest.raises(ValidationFailed):
        services.goodwill_matrix_set(
            actor=org["oem-admin"],
            levels=[{"max_amount": "1000", "role": "service_manager"}],
        )
    levels = services.goodwill_matrix_set(
        actor=org["oem-admin"],
        levels=[
            {"max_amount": "1000", "role": "service_manager"},
            {"max_amount": None, "role": "oem_admin"},
        ],
    )
    assert [(lv.min_amount, lv.max_amount, lv.level) for lv in levels] == [
        (Decimal("0"), Decimal("1000.00"), 1),
        (Decimal("1000.00"), None, 2),
    ]


# ---------------------------------------------------------------- closure, reopening, follow-up


def test_closing_needs_a_condition_and_evidence(org):
    complaint = make_complaint(dealer=org["BJ01"])
    for condition, evidence in (("", "录音"), ("done", ""), ("happy", "录音")):
        with pytest.raises(ValidationFailed):
            services.complaint_close(
                actor=org["oem-complaint"],
                complaint=complaint,
                condition=condition,
                evidence=evidence,
            )
    complaint.refresh_from_db()
    assert complaint.status == S.HANDLING


def test_closing_records_time_and_schedules_the_follow_up(org):
    complaint = make_complaint(dealer=org["BJ01"], status=S.CLOSED)
    assert complaint.closure_condition == ClosureCondition.DONE
    assert complaint.closed_on_time is True
    assert complaint.handling_days is not None and complaint.handling_days >= 0
    assert not complaint.steps.filter(status=StepStatus.OPEN).exists()
    follow_up = ComplaintFollowUp.objects.get(complaint=complaint)
    # not reached: tried again later; reached: the score is required and recorded
    follow_up = services.follow_up_record(
        actor=org["oem-csagent"], follow_up=follow_up, outcome="not_reached"
    )
    assert follow_up.done_at is None and follow_up.attempts == 1
    with pytest.raises(ValidationFailed):
        services.follow_up_record(actor=org["oem-csagent"], follow_up=follow_up, outcome="reached")
    follow_up = services.follow_up_record(
        actor=org["oem-csagent"],
        follow_up=follow_up,
        outcome="reached",
        score=4,
        care_action="赠送洗车券",
    )
    assert follow_up.done_at is not None and follow_up.score == 4


def test_reopening_is_counted_and_restarts_the_clock(org):
    complaint = make_complaint(dealer=org["BJ01"], status=S.CLOSED)
    complaint = services.complaint_reopen(
        actor=org["oem-complaint"], complaint=complaint, reason="客户反映问题复发"
    )
    assert complaint.status == S.HANDLING
    assert complaint.reopen_count == 1
    assert complaint.closure_condition == ""
    assert complaint.steps.filter(kind=StepKind.PLAN, status=StepStatus.OPEN).exists()
    assert not ComplaintFollowUp.objects.filter(complaint=complaint, done_at__isnull=True).exists()


def test_only_closed_complaints_reopen(org):
    complaint = make_complaint(dealer=org["BJ01"])
    with pytest.raises(Conflict):
        services.complaint_reopen(actor=org["oem-complaint"], complaint=complaint, reason="x")


def test_every_allowed_transition_is_reachable(org):
    # the table's steps all have a service path exercised above; unknown steps are refused
    for source, targets in TRANSITIONS.items():
        for target in set(S.values) - targets - {source}:
            assert target not in TRANSITIONS[source]


# ---------------------------------------------------------------- comments and cases


def test_the_region_comments_and_the_timeline_keeps_it(org):
    complaint = make_complaint(dealer=org["BJ01"])
    services.complaint_comment(actor=org["north-rm"], complaint=complaint, text="请本周内回复客户")
    assert ComplaintEvent.objects.filter(complaint=complaint, kind="comment").count() == 1
    with pytest.raises(PermissionDenied):
        services.complaint_comment(actor=org["east-rm"], complaint=complaint, text="x")


def test_a_lawsuit_links_complaints_and_staff(org):
    complaint = make_complaint(dealer=org["BJ01"])
    case = services.case_open(
        actor=org["oem-legal"],
        kind="lawsuit",
        title="王某诉星驰汽车产品质量纠纷",
        complaints=[complaint],
        staff=[org["oem-legal"], org["oem-complaint"]],
        body="北京市朝阳区人民法院",
    )
    assert case.number.startswith("FW-")
    assert complaint.events.filter(kind="case").exists()
    with pytest.raises(ValidationFailed):
        services.case_update(actor=org["oem-legal"], case=case, closed_on=timezone.localdate())
    case = services.case_update(
        actor=org["oem-legal"], case=case, outcome="调解结案", closed_on=timezone.localdate()
    )
    assert case.status == "closed"
    with pytest.raises(PermissionDenied):
        services.case_open(
            actor=org["bj01-svcmgr"], kind="crisis", title="x", complaints=[complaint]
        )


# ---------------------------------------------------------------- the owner


def test_the_owner_files_about_their_own_vehicle_only(org):
    from aftersales.crm.testing import make_customer, make_vehicle
    from aftersales.org.models import User

    owner = make_customer(name="赵六")
    vehicle = make_vehicle(owner=owner)
    stranger_vehicle = make_vehicle(owner=make_customer(name="钱七"))
    login = User.objects.create_user(username="owner-zhao", password="x")
    owner.user = login
    owner.save(update_fields=["user"])
    with pytest.raises(ValidationFailed):
        services.complaint_file_by_owner(
            user=login, vehicle=stranger_vehicle, subject="x", description="y"
        )
    complaint = services.complaint_file_by_owner(
        user=login, vehicle=vehicle, subject="空调不制冷", description="修了两次还是不行"
    )
    assert complaint.channel == "owner_app" and complaint.customer == owner
    unlinked = User.objects.create_user(username="nobody", password="x")
    with pytest.raises(PermissionDenied):
        services.complaint_file_by_owner(
            user=unlinked, vehicle=vehicle, subject="x", description="y"
        )


def test_steps_have_one_open_per_kind(org):
    complaint = make_complaint(dealer=org["BJ01"], category=Category.QUALITY)
    member = oem_user("techsupport")
    services.step_open(
        actor=org["oem-complaint"], complaint=complaint, kind=StepKind.VRT, members=[member]
    )
    with pytest.raises(Conflict):
        services.step_open(
            actor=org["oem-complaint"], complaint=complaint, kind=StepKind.VRT, members=[member]
        )
    assert ComplaintStep.objects.filter(complaint=complaint, kind=StepKind.VRT).count() == 1


def test_dealer_user_helper_names_the_demo_login(org):
    assert dealer_user(org["BJ01"]).username == "bj01-svcmgr"


def test_steps_and_escalations_are_scoped_through_their_complaint(org):
    mine = make_complaint(dealer=org["BJ01"])
    other = make_complaint(dealer=org["SH01"])
    seen = set(
        ComplaintStep.objects.restrict(org["bj01-svcmgr"]).values_list("complaint", flat=True)
    )
    assert mine.pk in seen and other.pk not in seen
    assert ComplaintStep.objects.restrict(org["oem-analyst"]).count() == 2
    assert not ComplaintStep.objects.restrict(org["bj01-tech"]).exists()


def test_the_region_acknowledges_for_the_region_and_the_oem_does_not(org):
    complaint = make_complaint(dealer=org["BJ01"], category=Category.SALES)
    step = services.step_open(
        actor=org["oem-complaint"],
        complaint=complaint,
        kind=StepKind.PROPOSAL,
        departments="销售部",
    )
    step = services.step_record(actor=org["oem-complaint"], step=step, solution="退还加装费用")
    with pytest.raises(PermissionDenied):
        services.step_acknowledge(actor=org["oem-complaint"], step=step)
    step = services.step_acknowledge(actor=org["north-rm"], step=step)
    assert step.acknowledged_by_region_at is not None and step.acknowledged_by_dealer_at is None
    escalation = services.complaint_escalate(
        actor=org["oem-complaint"], complaint=complaint, amount="100", note="小额补偿"
    )
    assert services.may_decide(org["bj01-svcmgr"], escalation)
    assert not services.may_decide(org["sh01-svcmgr"], escalation)
