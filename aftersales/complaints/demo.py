"""Demo complaints (issue 8 item 13): about 420 complaints over the last 60 days in every
state — new, answered as invalid, resolved by the agent, to file, filed, in handling (some
overdue, some due soon, some paused, some waiting for a VRT or the departments' proposal,
some with the dealer's plan in), closed (mostly in time; some reopened) — with VRT records,
escalations (some decided), satisfaction follow-ups and three legal cases.

Times follow the working-day clock (``clock.WorkCalendar``), so deadlines, on-time flags
and handling days are what the services would have written. Written in bulk; idempotent:
nothing is added when demo complaints exist."""

import datetime
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from aftersales.complaints import clock
from aftersales.complaints.choices import (
    Category,
    Channel,
    ClosureCondition,
    EscalationReason,
    EventKind,
    FollowUpOutcome,
    Grade,
    Responsibility,
    StepKind,
    StepStatus,
)
from aftersales.complaints.choices import ComplaintStatus as S
from aftersales.complaints.models import (
    Complaint,
    ComplaintEvent,
    ComplaintFollowUp,
    ComplaintPause,
    ComplaintSettings,
    ComplaintStep,
    Escalation,
    LegalCase,
)

SEED = 2026
DAYS = 60
# (status, how many, extra) — extra: "overdue", "soon", "paused", "vrt", "vrt_done",
# "proposal", "planned", "reopened", "late"
PLAN = [
    (S.NEW, 24, ""),
    (S.INVALID, 40, ""),
    (S.RESOLVED, 36, ""),
    (S.TO_FILE, 14, ""),
    (S.FILED, 12, ""),
    (S.HANDLING, 30, ""),
    (S.HANDLING, 28, "overdue"),
    (S.HANDLING, 14, "soon"),
    (S.HANDLING, 6, "paused"),
    (S.HANDLING, 14, "vrt"),
    (S.HANDLING, 12, "vrt_done"),
    (S.HANDLING, 8, "proposal"),
    (S.HANDLING, 26, "planned"),
    (S.CLOSED, 130, ""),
    (S.CLOSED, 20, "late"),
    (S.HANDLING, 8, "reopened"),
]
SUBJECTS = {
    Category.QUALITY: [
        ("变速箱换挡顿挫", "2 挡升 3 挡明显顿挫，已两次进店未解决"),
        ("发动机异响", "冷车启动时发动机舱有金属敲击声"),
        ("空调不制冷", "更换冷凝器后一周又不制冷"),
        ("车门密封漏水", "下雨后副驾脚垫湿透"),
        ("动力电池续航衰减", "满电续航比新车少了三成"),
    ],
    Category.SERVICE: [
        ("保养等待时间过长", "预约了 9 点，到 13 点才交车"),
        ("服务顾问态度差", "询问费用明细时服务顾问不耐烦"),
        ("维修后车辆有划痕", "取车时发现左前门新增划痕"),
        ("未经同意增加项目", "结算时多了两项没有确认过的项目"),
    ],
    Category.SALES: [
        ("购车承诺未兑现", "销售承诺赠送的脚垫和贴膜一直没给"),
        ("加装费用不透明", "交车时被要求支付未说明的加装费"),
    ],
    Category.PARTS: [
        ("配件等待超过两周", "保险杠订货已经 16 天还没到"),
        ("更换的配件非原厂", "发票上的配件号与原厂不符"),
    ],
    Category.OTHER: [("道路救援迟到", "救援车三个小时才到"), ("积分未到账", "保养后积分没有到账")],
}
CHANNELS = [
    (Channel.HOTLINE, 34),
    (Channel.WECHAT, 26),
    (Channel.DEALER, 16),
    (Channel.OWNER_APP, 8),
    (Channel.EMAIL, 5),
    (Channel.LETTER, 3),
    (Channel.MEDIA, 3),
    (Channel.AUTHORITY, 3),
    (Channel.INTERNAL, 2),
]
CATEGORIES = [
    (Category.QUALITY, 30),
    (Category.SERVICE, 34),
    (Category.SALES, 12),
    (Category.PARTS, 12),
    (Category.OTHER, 12),
]
GRADES = [(Grade.GENERAL, 62), (Grade.MAJOR, 26), (Grade.URGENT, 12)]
NAMES = ["王先生", "李女士", "张先生", "刘女士", "陈先生", "杨女士", "赵先生", "黄女士"]


def _pick(rng, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


class _Clock:
    """Working-time arithmetic over the demo's span (a calendar index)."""

    def __init__(self, now):
        self.now = now
        today = now.astimezone(clock.CALENDAR_TZ).date()
        self.cal = clock.WorkCalendar(
            today - datetime.timedelta(days=DAYS + 20), today + datetime.timedelta(days=120)
        )
        self.day_s = int(clock.DAY.total_seconds())

    def at_working(self, instant, working_seconds):
        """The instant ``working_seconds`` of working time after ``instant``."""
        return clock.add_working(instant, datetime.timedelta(seconds=working_seconds))

    def deadline(self, start, days):
        return self.cal.deadline(start, days)[0]

    def limit(self, complaint, start):
        """Set the complaint's deadline, provisional when it rests on guessed days."""
        complaint.deadline_at, complaint.deadline_provisional = self.cal.deadline(
            start, complaint.limit_days
        )

    def back(self, working_seconds):
        """An instant ``working_seconds`` of working time before now."""
        target = self.cal.seconds(self.now) - working_seconds
        lo, hi = self.now - datetime.timedelta(days=DAYS + 15), self.now
        for _ in range(40):
            mid = lo + (hi - lo) / 2
            if self.cal.seconds(mid) < target:
                lo = mid
            else:
                hi = mid
        return hi


def load_complaints_demo(now=None):
    from aftersales.core.models import NumberSequence
    from aftersales.crm.models import Vehicle
    from aftersales.org.models import Dealer, RoleAssignment, User

    if Complaint.objects.exists():
        return {"complaints": Complaint.objects.count(), "added": 0}
    rng = random.Random(SEED)
    now = now or timezone.now()
    work = _Clock(now)
    settings_row = ComplaintSettings.current()
    dealers = list(Dealer.objects.order_by("code"))
    if not dealers:
        return {"complaints": 0, "added": 0}
    users = {u.username: u for u in User.objects.filter(username__startswith="oem-")}
    agent, specialist = users.get("oem-csagent"), users.get("oem-complaint")
    support, admin = users.get("oem-techsupport"), users.get("oem-admin")
    managers = {
        dealer_id: user_id
        for user_id, dealer_id in RoleAssignment.objects.filter(
            role="service_manager", dealer__isnull=False
        ).values_list("user_id", "dealer_id")
    }
    vehicles = list(
        Vehicle.objects.filter(owner__isnull=False)
        .order_by("id")
        .values_list("id", "owner_id", "plate")[:3000]
    )
    complaints, extras = [], []
    year_counts = {}
    for status, count, extra in PLAN:
        for _ in range(count):
            category = _pick(rng, CATEGORIES)
            subject, words = rng.choice(SUBJECTS[category])
            channel = _pick(rng, CHANNELS)
            dealer = rng.choice(dealers)
            vehicle = rng.choice(vehicles) if vehicles and rng.random() < 0.9 else None
            grade = _pick(rng, GRADES)
            limit = settings_row.days_for(grade)
            # when it came in: recent for the early states, older for closed ones
            if status in (S.NEW, S.TO_FILE):
                received = work.back(rng.randrange(600, work.day_s * 2))
            elif status == S.FILED:
                received = work.back(rng.randrange(work.day_s // 2, work.day_s * 2))
            elif status == S.HANDLING:
                received = _handling_received(work, rng, extra, limit)
            else:
                received = work.back(rng.randrange(work.day_s * 4, work.day_s * (DAYS * 5 // 7)))
            complaint = Complaint(
                channel=channel,
                status=status,
                contact_name=rng.choice(NAMES),
                contact_phone=f"13{rng.randrange(100000000, 999999999)}",
                subject=subject,
                description=words,
                expectation=rng.choice(["彻底修好", "退还费用", "给个说法", "赔偿", ""]),
                customer_id=vehicle[1] if vehicle else None,
                vehicle_id=vehicle[0] if vehicle else None,
                source_dealer=dealer if channel == Channel.DEALER else None,
                dealer=dealer if channel == Channel.DEALER else None,
                region_id=dealer.region_id if channel == Channel.DEALER else None,
                received_by=agent,
                received_at=received,
                version=3,
            )
            year = received.astimezone(clock.CALENDAR_TZ).year
            year_counts[year] = year_counts.get(year, 0) + 1
            complaint.number = f"TS-{year}-{year_counts[year]:06d}"
            state = {"dealer": dealer, "grade": grade, "limit": limit, "extra": extra}
            _shape(complaint, state, status, category, work, rng, agent, specialist)
            complaints.append(complaint)
            extras.append(state)
    from aftersales.billing.demo import _explicit_times

    with transaction.atomic(), _explicit_times((ComplaintStep, "created_at")):
        for year, last in year_counts.items():
            NumberSequence.objects.update_or_create(
                dealer=None, doc_type="TS", year=year, defaults={"last_value": last}
            )
        Complaint.objects.bulk_create(complaints, batch_size=500)
        saved = dict(
            Complaint.objects.filter(number__in=[c.number for c in complaints]).values_list(
                "number", "pk"
            )
        )
        for complaint in complaints:
            complaint.pk = saved[complaint.number]
        steps, events, escalations, follow_ups, pauses, members = [], [], [], [], [], []
        for complaint, state in zip(complaints, extras, strict=True):
            _children(
                complaint,
                state,
                work,
                rng,
                steps,
                events,
                escalations,
                follow_ups,
                pauses,
                {"agent": agent, "specialist": specialist, "support": support, "admin": admin},
                managers,
            )
        ComplaintStep.objects.bulk_create([s for s, _m in steps], batch_size=500)
        for step, member in steps:
            if member is not None:
                members.append(
                    ComplaintStep.members.through(complaintstep_id=step.pk, user_id=member.pk)
                )
        ComplaintStep.members.through.objects.bulk_create(members, batch_size=500)
        ComplaintEvent.objects.bulk_create(events, batch_size=1000)
        Escalation.objects.bulk_create(escalations, batch_size=500)
        ComplaintFollowUp.objects.bulk_create(follow_ups, batch_size=500)
        ComplaintPause.objects.bulk_create(pauses)
        _cases(complaints, users, now, rng)
    return {"complaints": len(complaints), "added": len(complaints)}


def _handling_received(work, rng, extra, limit):
    """Open complaints: the overdue ones past their limit, the due-soon ones near it, the
    rest early in it."""
    if extra == "overdue":
        return work.back(work.day_s * (limit + rng.randrange(1, 6)))
    if extra == "soon":
        return work.back(int(work.day_s * (limit - 0.4)))
    return work.back(rng.randrange(work.day_s // 3, max(work.day_s, work.day_s * limit // 2)))


def _shape(complaint, state, status, category, work, rng, agent, specialist):
    """The complaint's own fields for its status."""
    received = complaint.received_at
    if status == S.NEW:
        return
    complaint.judged_by = specialist if complaint.channel == Channel.DEALER else agent
    complaint.judged_at = received + datetime.timedelta(minutes=rng.randrange(10, 90))
    if status in (S.INVALID, S.RESOLVED):
        complaint.judgement = (
            "客户咨询，非投诉" if status == S.INVALID else "核实属实，已协调门店处理"
        )
        complaint.reply = "已电话答复客户"
        complaint.closed_at = complaint.judged_at
        return
    complaint.judgement = "有效投诉，转投诉处理专员建档"
    if status == S.TO_FILE:
        return
    filed = complaint.judged_at + datetime.timedelta(minutes=rng.randrange(10, 120))
    complaint.category, complaint.grade = category, state["grade"]
    complaint.limit_days = state["limit"]
    complaint.filed_at = complaint.clock_started_at = filed
    complaint.specialist = specialist
    work.limit(complaint, filed)
    if status == S.FILED:
        return
    dealer = state["dealer"]
    complaint.dealer, complaint.region_id = dealer, dealer.region_id
    complaint.assigned_at = filed + datetime.timedelta(minutes=rng.randrange(5, 60))
    if status == S.CLOSED:
        budget = work.cal.between(filed, complaint.deadline_at)
        spent = int(
            budget * (rng.uniform(1.1, 2.5) if state["extra"] == "late" else rng.uniform(0.2, 0.95))
        )
        closed = work.at_working(filed, spent)
        if closed >= work.now:
            closed = work.now - datetime.timedelta(hours=1)
        complaint.closed_at = closed
        complaint.closed_on_time = closed <= complaint.deadline_at
        complaint.handling_days = clock.working_days(
            datetime.timedelta(seconds=max(work.cal.between(filed, closed), 0))
        )
        complaint.closure_condition = _pick(
            rng,
            [
                (ClosureCondition.DONE, 55),
                (ClosureCondition.WITHDRAWN, 25),
                (ClosureCondition.DEFERRED, 10),
                (ClosureCondition.OUTSIDE_POLICY, 10),
            ],
        )
        complaint.closure_evidence = "电话回访录音，客户确认处理结果"
    if state["extra"] == "reopened":
        complaint.reopen_count = 1
        complaint.clock_started_at = work.back(work.day_s // 2)
        work.limit(complaint, complaint.clock_started_at)
    if state["extra"] == "paused":
        complaint.paused_since = work.back(work.day_s // 3)


def _event(events, complaint, at, kind, actor, message, to_status=""):
    events.append(
        ComplaintEvent(
            complaint_id=complaint.pk,
            at=at,
            kind=kind,
            actor=actor,
            actor_name=str(actor) if actor else "system",
            to_status=to_status,
            message=message,
        )
    )


def _children(
    complaint, state, work, rng, steps, events, escalations, follow_ups, pauses, people, managers
):
    agent, specialist, support = people["agent"], people["specialist"], people["support"]
    _event(
        events,
        complaint,
        complaint.received_at,
        EventKind.RECEIVED,
        agent,
        f"经{complaint.get_channel_display()}受理",
        S.NEW,
    )
    if complaint.judged_at:
        _event(
            events,
            complaint,
            complaint.judged_at,
            EventKind.JUDGED,
            complaint.judged_by,
            complaint.judgement,
        )
    if not complaint.filed_at:
        return
    _event(
        events,
        complaint,
        complaint.filed_at,
        EventKind.FILED,
        specialist,
        f"{complaint.get_category_display()}，{complaint.get_grade_display()}："
        f"{complaint.limit_days} 个工作日",
        S.FILED,
    )
    if not complaint.assigned_at:
        return
    _event(
        events,
        complaint,
        complaint.assigned_at,
        EventKind.ASSIGNED,
        specialist,
        f"分派至 {state['dealer'].name}",
        S.HANDLING,
    )
    extra, status = state["extra"], complaint.status
    start = complaint.assigned_at
    plan_due = work.deadline(start, 1)
    manager_id = managers.get(complaint.dealer_id)
    plan_done = status == S.CLOSED or extra in ("planned", "vrt_done", "reopened")
    if extra in ("overdue",) and rng.random() < 0.5:
        plan_done = False
    plan = ComplaintStep(
        complaint_id=complaint.pk,
        kind=StepKind.PLAN,
        due_at=plan_due,
        limit_days=1,
        created_at=start,
        status=StepStatus.DONE if plan_done else StepStatus.OPEN,
    )
    if plan_done:
        plan.done_at = min(start + datetime.timedelta(hours=rng.randrange(2, 30)), work.now)
        plan.done_by_id = manager_id
        plan.solution = rng.choice(
            ["免费检修并赠送一次保养", "更换相关部件，延长质保一年", "退还多收费用并致歉"]
        )
        if rng.random() < 0.25:
            plan.goodwill_amount = Decimal(rng.choice([500, 1500, 3000, 8000, 25000]))
    steps.append((plan, None))
    if complaint.category == Category.QUALITY and (
        extra in ("vrt", "vrt_done") or (status == S.CLOSED and rng.random() < 0.4)
    ):
        vrt_done = extra != "vrt"
        vrt = ComplaintStep(
            complaint_id=complaint.pk,
            kind=StepKind.VRT,
            due_at=work.deadline(start, 2),
            limit_days=2,
            created_at=start,
            departments="质量部、技术部",
            status=StepStatus.DONE if vrt_done else StepStatus.OPEN,
        )
        if vrt_done:
            vrt.done_at = min(start + datetime.timedelta(hours=rng.randrange(4, 40)), work.now)
            vrt.done_by = support
            vrt.defect_exists = rng.random() < 0.6
            vrt.responsibility = (
                rng.choice([Responsibility.OEM, Responsibility.SUPPLIER])
                if vrt.defect_exists
                else Responsibility.CUSTOMER
            )
            vrt.conclusion = "经台架复现，确认零件批次缺陷" if vrt.defect_exists else "使用不当"
            vrt.solution = "更换新批次总成" if vrt.defect_exists else "向客户说明正确使用方法"
        steps.append((vrt, support))
    if extra == "proposal":
        steps.append(
            (
                ComplaintStep(
                    complaint_id=complaint.pk,
                    kind=StepKind.PROPOSAL,
                    due_at=work.deadline(start, 2),
                    limit_days=2,
                    created_at=start,
                    departments="销售部、市场部",
                ),
                None,
            )
        )
    if extra == "paused":
        pauses.append(
            ComplaintPause(
                complaint_id=complaint.pk,
                started_at=complaint.paused_since,
                reason="等待客户提供维修凭证",
                started_by=specialist,
            )
        )
    if extra == "overdue":
        escalations.append(
            Escalation(
                complaint_id=complaint.pk,
                reason=EscalationReason.OVERDUE,
                level=2,
                role="region_manager",
                raised_at=complaint.deadline_at + datetime.timedelta(minutes=10),
            )
        )
        complaint.escalation_level = 2
        Complaint.objects.filter(pk=complaint.pk).update(escalation_level=2)
    if plan.goodwill_amount and plan.goodwill_amount >= 2000:
        level, role = (3, "oem_admin") if plan.goodwill_amount >= 20000 else (2, "region_manager")
        decided = status == S.CLOSED
        escalations.append(
            Escalation(
                complaint_id=complaint.pk,
                reason=EscalationReason.GOODWILL,
                level=level,
                role=role,
                amount=plan.goodwill_amount,
                raised_at=plan.done_at,
                decided_at=plan.done_at + datetime.timedelta(hours=3) if decided else None,
                decided_by=people["admin"] if decided else None,
                approved_amount=plan.goodwill_amount * Decimal("0.8") if decided else None,
                decision="同意按方案补偿" if decided else "",
            )
        )
        Complaint.objects.filter(pk=complaint.pk, escalation_level__lt=level).update(
            escalation_level=level
        )
    if status == S.CLOSED:
        _event(
            events,
            complaint,
            complaint.closed_at,
            EventKind.CLOSED,
            specialist,
            complaint.get_closure_condition_display(),
        )
        done = rng.random() < 0.7
        follow_ups.append(
            ComplaintFollowUp(
                complaint_id=complaint.pk,
                due_at=work.deadline(complaint.closed_at, 2),
                attempts=1 if done else 0,
                outcome=FollowUpOutcome.REACHED if done else "",
                score=rng.choice([3, 4, 4, 5, 5, 5, 2]) if done else None,
                done_at=min(complaint.closed_at + datetime.timedelta(days=2), work.now)
                if done
                else None,
                done_by=agent if done else None,
            )
        )


def _cases(complaints, users, now, rng):
    legal, pr = users.get("oem-legal"), users.get("oem-pr")
    if legal is None:
        return
    closed = [c for c in complaints if c.status in (S.CLOSED, S.HANDLING) and c.filed_at]
    rows = [
        ("arbitration", "变速箱维修费用争议仲裁", "北京市消费者协会调解中心", legal),
        ("lawsuit", "车主诉经销商维修质量纠纷", "上海市浦东新区人民法院", legal),
        ("crisis", "短视频平台“续航衰减”舆情", "抖音、微博", pr),
    ]
    year = now.astimezone(clock.CALENDAR_TZ).year
    for n, (kind, title, body, owner) in enumerate(rows, 1):
        case = LegalCase.objects.create(
            number=f"FW-{year}-{n:06d}",
            kind=kind,
            title=title,
            body=body,
            opened_on=(now - datetime.timedelta(days=rng.randrange(5, 40))).date(),
            created_by=owner or legal,
        )
        case.complaints.set(rng.sample(closed, 2) if len(closed) >= 2 else closed)
        case.staff.set([u for u in (owner, users.get("oem-complaint")) if u])
    from aftersales.core.models import NumberSequence

    NumberSequence.objects.update_or_create(
        dealer=None, doc_type="FW", year=year, defaults={"last_value": len(rows)}
    )
