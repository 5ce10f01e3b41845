"""Builders for tests, the access matrix and the demo.

``make_complaint(dealer=, status=)`` drives a complaint through the services to
``status`` (received from the hotline — or forwarded by ``dealer`` — judged, filed,
assigned to ``dealer``, closed), acting as the demo organisation's OEM users, so a test
can start anywhere in the lifecycle. It needs the demo organisation (``load_org_demo``).
"""

from aftersales.complaints.choices import Category, ClosureCondition, Grade
from aftersales.complaints.choices import ComplaintStatus as S


def oem_user(short: str):
    """The demo organisation's OEM user, e.g. ``oem_user("complaint")``; made with its
    role when the organisation is not loaded (the access matrix's test dealers)."""
    from aftersales.org.demo import SHORT
    from aftersales.org.models import RoleAssignment, User
    from aftersales.org.roles import ROLE_LEVEL, Level

    user, created = User.objects.get_or_create(username=f"oem-{short}")
    if created:
        role = next(r for r, s in SHORT.items() if s == short and ROLE_LEVEL[r] == Level.OEM)
        RoleAssignment.objects.create(user=user, role=role)
    return user


def dealer_user(dealer, short="svcmgr"):
    """The dealer's demo user, e.g. bj01-svcmgr (made with its role when missing)."""
    from aftersales.org.demo import SHORT
    from aftersales.workorders.testing import staff_of

    role = next(r for r, s in SHORT.items() if s == short)
    return staff_of(dealer, role)


def make_complaint(
    *,
    dealer=None,
    status=S.HANDLING,
    category=Category.SERVICE,
    grade=Grade.GENERAL,
    forwarded=False,
    vehicle=None,
    subject="保养后异响",
    description="上周在店里做完保养后，发动机舱有明显异响，要求免费检查。",
):
    """A complaint in ``status``: received (forwarded by ``dealer`` when ``forwarded``),
    then judged, filed, assigned to ``dealer`` and closed as ``status`` asks."""
    from aftersales.complaints import services

    agent, specialist = oem_user("csagent"), oem_user("complaint")
    if forwarded:
        complaint = services.complaint_receive(
            actor=dealer_user(dealer, "dcrcmgr"),
            channel="dealer",
            dealer=dealer,
            contact_name="王先生",
            contact_phone="13800001111",
            subject=subject,
            description=description,
            vehicle=vehicle,
        )
    else:
        complaint = services.complaint_receive(
            actor=agent,
            channel="hotline",
            contact_name="王先生",
            contact_phone="13800001111",
            subject=subject,
            description=description,
            vehicle=vehicle,
        )
    if status == S.NEW:
        return complaint
    judge = specialist if forwarded else agent
    if status in (S.INVALID, S.RESOLVED):
        return services.complaint_judge(
            actor=judge,
            complaint=complaint,
            decision="invalid" if status == S.INVALID else "resolved",
            judgement="核实情况",
            reply="已向客户说明",
        )
    complaint = services.complaint_judge(
        actor=judge, complaint=complaint, decision="to_file", judgement="有效投诉"
    )
    if status == S.TO_FILE:
        return complaint
    complaint = services.complaint_file(
        actor=specialist, complaint=complaint, category=category, grade=grade
    )
    if status == S.FILED:
        return complaint
    complaint = services.complaint_assign(actor=specialist, complaint=complaint, dealer=dealer)
    if status == S.HANDLING:
        return complaint
    services.plan_submit(
        actor=dealer_user(dealer), complaint=complaint, plan="免费检查并更换隔音棉"
    )
    return services.complaint_close(
        actor=specialist,
        complaint=complaint,
        condition=ClosureCondition.DONE,
        evidence="客户确认异响消除，电话录音 2026-11-20",
    )
