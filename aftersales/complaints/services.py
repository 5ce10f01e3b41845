"""Every write of complaint management (SPEC §9, source document 001).

The flow: a complaint is received from a channel (``complaint_receive``; the owner's app
``complaint_file_by_owner``) → judged by the customer-service agent, or by the complaint
specialist when a dealer forwarded it (``complaint_judge``: invalid and answered,
resolved and answered, or to be filed) → filed, classified and graded by the specialist
(``complaint_file``; the clock starts) → assigned to a region and dealer
(``complaint_assign``; the dealer's plan is due) → supported by a VRT or the departments
(``step_open``, ``step_record``) → the dealer's plan and its execution (``plan_submit``,
``plan_execution_record``) → closed on one of the four conditions with evidence
(``complaint_close``; a satisfaction follow-up is scheduled) and possibly reopened.
Escalations follow the goodwill authorization matrix (``complaint_escalate``,
``escalation_decide``); the clock job (``complaints_clock``) warns before and at each
deadline and escalates automatically.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.complaints import clock
from aftersales.complaints.choices import (
    RUNNING,
    STEP_PERMISSION,
    TRANSITIONS,
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
    GoodwillLevel,
    LegalCase,
)
from aftersales.core import versioning
from aftersales.core.access import allowed_at, user_scope
from aftersales.core.audit import audit_create, audit_event
from aftersales.core.errors import Conflict, PermissionDenied, ValidationFailed
from aftersales.core.models import AuditAction
from aftersales.core.numbering import next_number
from aftersales.core.outbox import outbox_enqueue

ZERO = Decimal("0")
MAX_TEXT = 4000


class IllegalTransition(Conflict):
    code = "illegal_transition"


StaleVersion = versioning.StaleVersion


class GuardRefused(Conflict):
    code = "guard_failed"


# ---------------------------------------------------------------- helpers


def _dealer(complaint):
    if complaint.dealer_id is None:
        return None
    from aftersales.org.models import Dealer

    return Dealer(pk=complaint.dealer_id)


def may(actor, permission: str, complaint: Complaint) -> bool:
    """May the actor use ``permission`` on this complaint (at its dealer; OEM level while
    no dealer handles it)?"""
    return allowed_at(actor, permission, dealer=_dealer(complaint))


def _require(actor, complaint, permission):
    if not may(actor, permission, complaint):
        raise PermissionDenied()


def _label(actor) -> str:
    if actor is None:
        return "system"
    return str(actor)


def record_event(complaint, *, kind, actor, message="", from_status="", to_status="", data=None):
    return ComplaintEvent.objects.create(
        complaint=complaint,
        at=timezone.now(),
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=_label(actor),
        from_status=from_status,
        to_status=to_status,
        message=str(message)[:MAX_TEXT],
        data=data or {},
    )


def locked(complaint, *, version=None) -> Complaint:
    """The complaint re-read under a row lock; a stale ``version`` is refused (409)."""
    return versioning.locked_row(
        Complaint.objects,
        complaint,
        version=version,
        stale_message=lambda row: (
            _(
                "Complaint %(number)s was changed by someone else in the meantime. "
                "Reload it and make your change again."
            )
            % {"number": row.number}
        ),
    )


def _bump(complaint, *fields):
    complaint.version = F("version") + 1
    complaint.save(update_fields=[*fields, "version", "updated_at"])
    complaint.refresh_from_db(fields=["version"])


def _text(value, field, *, required=True, limit=MAX_TEXT) -> str:
    text = (value or "").strip()
    if required and not text:
        message = _("This field is required.")
        raise ValidationFailed(message, fields={field: [message]})
    if len(text) > limit:
        message = _("At most %(n)s characters.") % {"n": limit}
        raise ValidationFailed(message, fields={field: [message]})
    return text


def _choice(value, choices, field) -> str:
    if value not in choices.values:
        message = _("Choose one of the listed values.")
        raise ValidationFailed(message, fields={field: [message]})
    return value


def _amount(value, field) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        message = _("Enter an amount.")
        raise ValidationFailed(message, fields={field: [message]}) from None
    if amount < 0 or amount >= Decimal("1e10"):
        message = _("Enter an amount from 0 to 9,999,999,999.99.")
        raise ValidationFailed(message, fields={field: [message]})
    return amount


def _days(value, field, *, maximum: int) -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        message = _("A whole number is required.")
        raise ValidationFailed(message, fields={field: [message]}) from None
    if days < 1 or days > maximum:
        message = _("Between 1 and %(n)s working days.") % {"n": maximum}
        raise ValidationFailed(message, fields={field: [message]})
    return days


def _check(row, to):
    """Refuse a status change the transition table does not allow (409)."""
    if to not in TRANSITIONS.get(row.status, ()):
        raise IllegalTransition(
            _("A complaint cannot go from %(from)s to %(to)s.")
            % {"from": row.get_status_display(), "to": dict(S.choices).get(to, to)}
        )


def _move(row, to, actor, *, fields=(), message="", data=None):
    """Change the status (checked against the transition table) and write the event."""
    _check(row, to)
    source = row.status
    row.status = to
    _bump(row, "status", *fields)
    record_event(
        row,
        kind=EventKind.STATUS,
        actor=actor,
        message=message or _("%(from)s → %(to)s") % {"from": S(source).label, "to": S(to).label},
        from_status=source,
        to_status=to,
        data=data,
    )
    audit_event(row, actor=actor, action=AuditAction.UPDATE, changes={"status": [source, to]})
    return row


def _notify(users, *, subject, body, key):
    """An in-app message to each user (after commit, through the outbox)."""
    for user in {u.pk: u for u in users if u is not None}.values():
        outbox_enqueue(
            channel="inapp",
            recipient=str(user.pk),
            subject=subject[:200],
            body=body,
            dedup_key=f"{key}:{user.pk}"[:100],
        )


def _holders(role_names, *, dealer_id=None, region_id=None, oem=False):
    """Active users holding one of ``role_names`` at the dealer, the region or OEM level."""
    from django.db.models import Q

    from aftersales.org.models import User

    where = Q(pk__in=[])
    if dealer_id:
        where |= Q(role_assignments__dealer_id=dealer_id)
    if region_id:
        where |= Q(role_assignments__region_id=region_id)
    if oem:
        where |= Q(role_assignments__dealer__isnull=True, role_assignments__region__isnull=True)
    return list(
        User.objects.filter(
            where,
            is_active=True,
            role_assignments__active=True,
            role_assignments__role__in=role_names,
        ).distinct()
    )


def responsible_people(complaint):
    """Who is told about a complaint's deadlines: the specialist, the handling dealer's
    service and DCRC managers, and the region's managers."""
    people = [complaint.specialist] if complaint.specialist_id else []
    people += _holders(
        ["service_manager", "dcrc_manager"],
        dealer_id=complaint.dealer_id,
    )
    people += _holders(["region_manager"], region_id=complaint.region_id)
    if not complaint.specialist_id:
        people += _holders(["complaint_specialist"], oem=True)
    return people


# ---------------------------------------------------------------- intake


def _check_links(customer, vehicle):
    if (
        vehicle is not None
        and customer is not None
        and vehicle.owner_id
        not in (
            None,
            customer.pk,
        )
    ):
        from aftersales.crm.models import Ownership

        if not Ownership.objects.filter(vehicle=vehicle, customer=customer).exists():
            message = _("The vehicle does not belong to this customer.")
            raise ValidationFailed(message, fields={"vehicle": [message]})


@transaction.atomic
def complaint_receive(
    *,
    actor,
    channel: str,
    contact_name: str,
    subject: str,
    description: str,
    contact_phone: str = "",
    expectation: str = "",
    customer=None,
    vehicle=None,
    dealer=None,
    repair_orders=(),
    received_at: datetime.datetime | None = None,
) -> Complaint:
    """Record a complaint as it arrives. From a dealer (``channel="dealer"``) the dealer is
    required and the specialist judges it; otherwise the customer-service agent does."""
    channel = _choice(channel, Channel, "channel")
    if channel == Channel.DEALER and dealer is None:
        message = _("Name the dealer that forwarded the complaint.")
        raise ValidationFailed(message, fields={"dealer": [message]})
    if not allowed_at(actor, "complaints.add_complaint", dealer=dealer):
        raise PermissionDenied()
    if vehicle is not None and customer is None:
        customer = vehicle.owner
    _check_links(customer, vehicle)
    now = timezone.now()
    complaint = Complaint.objects.create(
        number=next_number(doc_type="TS"),
        channel=channel,
        contact_name=_text(
            contact_name or (customer.name if customer else ""), "contact_name", limit=60
        ),
        contact_phone=_text(contact_phone, "contact_phone", required=False, limit=20),
        subject=_text(subject, "subject", limit=120),
        description=_text(description, "description"),
        expectation=_text(expectation, "expectation", required=False),
        customer=customer,
        vehicle=vehicle,
        source_dealer=dealer,
        dealer=dealer,
        region_id=dealer.region_id if dealer is not None else None,
        received_by=actor if getattr(actor, "pk", None) else None,
        received_at=min(received_at or now, now),
    )
    if repair_orders:
        complaint.repair_orders.set(repair_orders)
    record_event(
        complaint,
        kind=EventKind.RECEIVED,
        actor=actor,
        message=_("Received via %(channel)s") % {"channel": Channel(channel).label},
        to_status=S.NEW,
    )
    audit_create(complaint, actor=actor)
    return complaint


@transaction.atomic
def complaint_file_by_owner(*, user, vehicle, subject: str, description: str, expectation=""):
    """The owner files a complaint from the owner's side about one of their vehicles."""
    customer = getattr(user, "customer", None)
    if customer is None:
        raise PermissionDenied(_("Link your login to your customer record first."))
    if vehicle is None or (
        vehicle.owner_id != customer.pk
        and not vehicle.ownerships.filter(customer=customer, ended_on__isnull=True).exists()
    ):
        message = _("Choose one of your vehicles.")
        raise ValidationFailed(message, fields={"vehicle": [message]})
    now = timezone.now()
    complaint = Complaint.objects.create(
        number=next_number(doc_type="TS"),
        channel=Channel.OWNER_APP,
        contact_name=customer.name[:60],
        subject=_text(subject, "subject", limit=120),
        description=_text(description, "description"),
        expectation=_text(expectation, "expectation", required=False),
        customer=customer,
        vehicle=vehicle,
        received_at=now,
    )
    record_event(
        complaint,
        kind=EventKind.RECEIVED,
        actor=user,
        message=_("Filed by the owner in the app"),
        to_status=S.NEW,
    )
    return complaint


# ---------------------------------------------------------------- pre-processing


JUDGEMENTS = {"invalid": S.INVALID, "resolved": S.RESOLVED, "to_file": S.TO_FILE}


@transaction.atomic
def complaint_judge(
    *, actor, complaint, decision: str, judgement: str = "", reply: str = "", version=None
) -> Complaint:
    """Judge a new complaint: ``invalid`` (answered and closed), ``resolved`` (valid,
    verified, solved and answered by the agent) or ``to_file`` (valid: a formal complaint).
    A complaint a dealer forwarded is judged by the complaint specialist."""
    row = locked(complaint, version=version)
    if decision not in JUDGEMENTS:
        message = _("Choose invalid, resolved or to be filed.")
        raise ValidationFailed(message, fields={"decision": [message]})
    to = JUDGEMENTS[decision]
    _check(row, to)
    if row.status == S.TO_FILE or row.channel == Channel.DEALER:
        # forwarded by a dealer, or refused at filing: the complaint specialist judges
        if not may(actor, "complaints.file_complaint", row):
            if may(actor, STEP_PERMISSION[to], row):
                raise GuardRefused(
                    _("A complaint forwarded by a dealer is judged by the complaint specialist.")
                )
            raise PermissionDenied()
    else:
        _require(actor, row, STEP_PERMISSION[to])
    judgement = _text(judgement, "judgement", required=to != S.TO_FILE)
    reply = _text(reply, "reply", required=to in (S.INVALID, S.RESOLVED))
    now = timezone.now()
    row.judged_by, row.judged_at = actor, now
    row.judgement, row.reply = judgement, reply
    fields = ["judged_by", "judged_at", "judgement", "reply"]
    if to in (S.INVALID, S.RESOLVED):
        row.closed_at = now
        fields.append("closed_at")
    _move(row, to, actor, fields=fields, data={"decision": decision})
    record_event(row, kind=EventKind.JUDGED, actor=actor, message=judgement or reply)
    if to in (S.INVALID, S.RESOLVED) and row.source_dealer_id:
        _notify(
            _holders(["service_manager", "dcrc_manager"], dealer_id=row.source_dealer_id),
            subject=_("Complaint %(number)s answered") % {"number": row.number},
            body=reply,
            key=f"complaint-judged:{row.pk}",
        )
    return row


# ---------------------------------------------------------------- filing and assignment


def _limit(settings_row, grade, limit_days) -> int:
    default = settings_row.days_for(grade)
    if limit_days in (None, ""):
        return default
    days = _days(limit_days, "limit_days", maximum=default)  # only stricter than the grade's
    return days


def _start_clock(row, start):
    row.clock_started_at = start
    row.deadline_at, row.deadline_provisional = clock.limit_deadline(start, row.limit_days)
    row.paused_total = None


@transaction.atomic
def complaint_file(
    *,
    actor,
    complaint,
    category: str,
    grade: str,
    limit_days=None,
    customer=None,
    vehicle=None,
    repair_orders=None,
    version=None,
) -> Complaint:
    """File (建档) a valid complaint: classify, grade and start the clock. ``limit_days``
    may be stricter than the grade's limit, never looser."""
    row = locked(complaint, version=version)
    _require(actor, row, "complaints.file_complaint")
    _check(row, S.FILED)
    category = _choice(category, Category, "category")
    grade = _choice(grade, Grade, "grade")
    row.category, row.grade = category, grade
    row.limit_days = _limit(ComplaintSettings.current(), grade, limit_days)
    if customer is not None:
        row.customer = customer
    if vehicle is not None:
        row.vehicle = vehicle
    _check_links(row.customer, row.vehicle)
    now = timezone.now()
    row.filed_at, row.specialist = now, actor
    _start_clock(row, now)
    fields = [
        "category",
        "grade",
        "limit_days",
        "customer",
        "vehicle",
        "filed_at",
        "specialist",
        "clock_started_at",
        "deadline_at",
        "deadline_provisional",
        "paused_total",
    ]
    _move(row, S.FILED, actor, fields=fields)
    if repair_orders is not None:
        row.repair_orders.set(repair_orders)
    record_event(
        row,
        kind=EventKind.FILED,
        actor=actor,
        message=_("%(category)s, %(grade)s: %(days)s working days, due %(due)s")
        % {
            "category": Category(category).label,
            "grade": Grade(grade).label,
            "days": row.limit_days,
            "due": timezone.localtime(row.deadline_at).strftime("%Y-%m-%d %H:%M"),
        },
        data={"category": category, "grade": grade, "limit_days": row.limit_days},
    )
    return row


def _open_step(row, kind, actor, days, *, departments="", members=(), due=None):
    now = timezone.now()
    if due is None:
        due, provisional = clock.limit_deadline(now, days)
    else:
        provisional = row.deadline_provisional
    try:
        with transaction.atomic():
            step = ComplaintStep.objects.create(
                complaint=row,
                kind=kind,
                due_at=due,
                due_provisional=provisional,
                limit_days=days,
                departments=departments[:200],
                created_by=actor if getattr(actor, "pk", None) else None,
            )
    except IntegrityError:
        raise GuardRefused(_("This complaint already has an open step of that kind.")) from None
    if members:
        step.members.set(members)
    record_event(
        row,
        kind=EventKind.STEP,
        actor=actor,
        message=_("%(step)s due %(due)s")
        % {
            "step": StepKind(kind).label,
            "due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M"),
        },
        data={"step": step.pk, "kind": kind, "limit_days": days},
    )
    return step


@transaction.atomic
def complaint_assign(
    *, actor, complaint, dealer, region=None, plan_days=None, version=None
) -> Complaint:
    """Assign the complaint to a dealer (the handling party) and its region (which
    supervises); the dealer's handling plan falls due within ``plan_days`` working days.
    A dealer outside the chosen ``region`` is refused."""
    row = locked(complaint, version=version)
    _require(actor, row, "complaints.file_complaint")
    if dealer is None:
        message = _("Choose the handling dealer.")
        raise ValidationFailed(message, fields={"dealer": [message]})
    if region is not None and dealer.region_id != region.pk:
        message = _("%(dealer)s is not in the region %(region)s.") % {
            "dealer": dealer.name,
            "region": region.name,
        }
        raise ValidationFailed(message, code="dealer_outside_region", fields={"dealer": [message]})
    settings_row = ComplaintSettings.current()
    days = (
        settings_row.plan_days
        if plan_days in (None, "")
        else _days(plan_days, "plan_days", maximum=settings_row.days_for(row.grade or Grade.MAJOR))
    )
    row.dealer, row.region_id = dealer, dealer.region_id
    row.assigned_at = timezone.now()
    _move(row, S.HANDLING, actor, fields=["dealer", "region", "assigned_at"])
    record_event(
        row,
        kind=EventKind.ASSIGNED,
        actor=actor,
        message=_("Assigned to %(dealer)s") % {"dealer": dealer.name},
        data={"dealer": dealer.pk, "region": dealer.region_id},
    )
    _open_step(row, StepKind.PLAN, actor, days)
    _notify(
        _holders(["service_manager", "dcrc_manager"], dealer_id=dealer.pk)
        + _holders(["region_manager"], region_id=dealer.region_id),
        subject=_("Complaint %(number)s assigned to you") % {"number": row.number},
        body=f"{row.subject}\n{row.description}",
        key=f"complaint-assigned:{row.pk}:{row.version}",
    )
    return row


@transaction.atomic
def complaint_set_limit(*, actor, complaint, limit_days, reason: str, version=None) -> Complaint:
    """A stricter time limit for this complaint (never looser than its grade's)."""
    row = locked(complaint, version=version)
    _require(actor, row, "complaints.file_complaint")
    if row.status not in RUNNING:
        raise GuardRefused(_("Only a filed, open complaint has a time limit to change."))
    reason = _text(reason, "reason", limit=200)
    before = row.limit_days
    row.limit_days = _limit(ComplaintSettings.current(), row.grade, limit_days)
    row.deadline_at, row.deadline_provisional = clock.limit_deadline(
        row.clock_started_at, row.limit_days, row.paused_total
    )
    _bump(row, "limit_days", "deadline_at", "deadline_provisional")
    record_event(
        row,
        kind=EventKind.LIMIT,
        actor=actor,
        message=_("Time limit %(old)s → %(new)s working days: %(reason)s")
        % {"old": before, "new": row.limit_days, "reason": reason},
    )
    return row


# ---------------------------------------------------------------- support (VRT, proposal)


@transaction.atomic
def step_open(
    *, actor, complaint, kind: str, limit_days=None, members=(), departments="", version=None
) -> ComplaintStep:
    """Start support: a VRT for a quality complaint (by the specialist or the technical
    support specialist), or the departments' proposal for the other types."""
    row = locked(complaint, version=version)
    if row.status not in RUNNING:
        raise GuardRefused(_("Support is asked for filed, open complaints only."))
    if kind == StepKind.VRT:
        if row.category != Category.QUALITY:
            raise GuardRefused(_("A VRT is formed for quality complaints; ask for a proposal."))
        if not (
            may(actor, "complaints.support_complaint", row)
            or may(actor, "complaints.file_complaint", row)
        ):
            raise PermissionDenied()
        members = list(members or ())
        if not members:
            message = _("Name the VRT's members.")
            raise ValidationFailed(message, fields={"members": [message]})
        default = ComplaintSettings.current().vrt_days
    elif kind == StepKind.PROPOSAL:
        if row.category == Category.QUALITY:
            raise GuardRefused(_("Quality complaints are supported by a VRT."))
        _require(actor, row, "complaints.file_complaint")
        default = ComplaintSettings.current().vrt_days
    else:
        message = _("Choose a VRT or a proposal.")
        raise ValidationFailed(message, fields={"kind": [message]})
    days = default if limit_days in (None, "") else _days(limit_days, "limit_days", maximum=30)
    departments = _text(departments, "departments", required=False, limit=200)
    return _open_step(row, kind, actor, days, departments=departments, members=members)


def _step_locked(step) -> tuple[ComplaintStep, Complaint]:
    pk = getattr(step, "pk", step)
    row = ComplaintStep.objects.select_for_update(of=("self",)).get(pk=pk)
    complaint = locked(row.complaint_id)
    return row, complaint


def _finish_step(step, actor, status=StepStatus.DONE):
    step.status, step.done_at = status, timezone.now()
    step.done_by = actor if getattr(actor, "pk", None) else None


@transaction.atomic
def step_record(
    *,
    actor,
    step,
    conclusion: str = "",
    solution: str = "",
    defect_exists=None,
    responsibility: str = "",
    no_result: bool = False,
) -> ComplaintStep:
    """Record the VRT's technical conclusion (defect or not, responsibility) and solution,
    or the departments' proposal. ``no_result``: no proposal could be formed, which
    escalates the complaint."""
    row, complaint = _step_locked(step)
    if row.status != StepStatus.OPEN:
        raise GuardRefused(_("This step is already finished."))
    if row.kind == StepKind.VRT:
        if not row.members.filter(pk=getattr(actor, "pk", None)).exists():
            raise PermissionDenied(_("Only a member of the VRT records its conclusion."))
    elif row.kind == StepKind.PROPOSAL:
        _require(actor, complaint, "complaints.file_complaint")
    else:
        raise GuardRefused(_("The dealer's plan is submitted with the plan form."))
    if no_result:
        row.conclusion = _text(conclusion, "conclusion")
        _finish_step(row, actor, StepStatus.NO_RESULT)
        row.save()
        record_event(
            complaint,
            kind=EventKind.STEP,
            actor=actor,
            message=_("%(step)s: no result. %(note)s")
            % {"step": row.get_kind_display(), "note": row.conclusion},
        )
        _escalate(complaint, actor, EscalationReason.NO_PROPOSAL, note=row.conclusion)
        return row
    if row.kind == StepKind.VRT:
        if defect_exists is None:
            message = _("Say whether a quality defect exists.")
            raise ValidationFailed(message, fields={"defect_exists": [message]})
        row.defect_exists = bool(defect_exists)
        row.responsibility = _choice(responsibility, Responsibility, "responsibility")
        row.conclusion = _text(conclusion, "conclusion")
    else:
        row.conclusion = _text(conclusion, "conclusion", required=False)
    row.solution = _text(solution, "solution")
    _finish_step(row, actor)
    row.save()
    record_event(
        complaint,
        kind=EventKind.STEP,
        actor=actor,
        message=f"{row.get_kind_display()}: {row.conclusion} {row.solution}".strip(),
        data={"step": row.pk, "late": row.late},
    )
    _notify(
        _holders(["service_manager", "dcrc_manager"], dealer_id=complaint.dealer_id)
        + _holders(["region_manager"], region_id=complaint.region_id),
        subject=_("Complaint %(number)s: %(step)s ready")
        % {"number": complaint.number, "step": row.get_kind_display()},
        body=row.solution,
        key=f"complaint-step:{row.pk}",
    )
    return row


@transaction.atomic
def step_acknowledge(*, actor, step) -> ComplaintStep:
    """The region or the dealer confirms it received the conclusion, solution or
    proposal."""
    row, complaint = _step_locked(step)
    if row.status != StepStatus.DONE or row.kind not in (StepKind.VRT, StepKind.PROPOSAL):
        raise GuardRefused(_("Only a finished conclusion or proposal is acknowledged."))
    now = timezone.now()
    comment = user_scope(actor, "complaints.comment_complaint")
    if may(actor, "complaints.handle_complaint", complaint):
        row.acknowledged_by_dealer_at = row.acknowledged_by_dealer_at or now
    elif not comment.everything and complaint.region_id in comment.region_ids:
        # the region's own managers; OEM staff acknowledge nothing for the region
        row.acknowledged_by_region_at = row.acknowledged_by_region_at or now
    else:
        raise PermissionDenied()
    row.save(update_fields=["acknowledged_by_dealer_at", "acknowledged_by_region_at"])
    record_event(
        complaint,
        kind=EventKind.ACKNOWLEDGED,
        actor=actor,
        message=_("%(step)s acknowledged") % {"step": row.get_kind_display()},
    )
    return row


# ---------------------------------------------------------------- the dealer's plan


def _open_of(complaint, kind):
    return (
        ComplaintStep.objects.select_for_update(of=("self",))
        .filter(complaint=complaint, kind=kind, status=StepStatus.OPEN)
        .first()
    )


@transaction.atomic
def plan_submit(
    *, actor, complaint, plan: str, goodwill_amount=None, version=None
) -> ComplaintStep:
    """The dealer's handling plan (处理方案). Goodwill asked for above the dealer's own
    authority escalates to the level of the matrix that must decide it."""
    row = locked(complaint, version=version)
    _require(actor, row, "complaints.handle_complaint")
    if row.status != S.HANDLING:
        raise GuardRefused(_("Only a complaint in handling takes a plan."))
    step = _open_of(row, StepKind.PLAN)
    if step is None:  # a new plan after a reopening or a rejected plan
        step = _open_step(row, StepKind.PLAN, actor, ComplaintSettings.current().plan_days)
    step.solution = _text(plan, "plan")
    step.goodwill_amount = _amount(goodwill_amount, "goodwill_amount")
    _finish_step(step, actor)
    step.save()
    _bump(row)
    record_event(
        row,
        kind=EventKind.STEP,
        actor=actor,
        message=_("Handling plan: %(plan)s") % {"plan": step.solution},
        data={"step": step.pk, "goodwill": str(step.goodwill_amount or "")},
    )
    execution = _open_of(row, StepKind.EXECUTION)
    if execution is None:  # carried out by the complaint's own deadline
        left = max(1, int(clock.working_days(clock.remaining(row))))
        _open_step(row, StepKind.EXECUTION, actor, left, due=row.deadline_at)
    level = level_for(step.goodwill_amount or ZERO)
    if level is not None and level.level > 1:  # beyond the dealer's own authority
        _escalate(
            row,
            actor,
            EscalationReason.GOODWILL,
            amount=step.goodwill_amount,
            note=_("Goodwill of %(amount)s asked for in the dealer's plan")
            % {"amount": step.goodwill_amount},
        )
    return step


@transaction.atomic
def plan_execution_record(*, actor, complaint, report: str, version=None) -> ComplaintStep:
    """The dealer reports the plan carried out."""
    row = locked(complaint, version=version)
    _require(actor, row, "complaints.handle_complaint")
    step = _open_of(row, StepKind.EXECUTION)
    if step is None:
        raise GuardRefused(_("Submit the handling plan first."))
    step.conclusion = _text(report, "report")
    _finish_step(step, actor)
    step.save()
    _bump(row)
    record_event(
        row,
        kind=EventKind.STEP,
        actor=actor,
        message=_("Plan carried out: %(report)s") % {"report": step.conclusion},
        data={"step": step.pk},
    )
    return step


@transaction.atomic
def complaint_comment(*, actor, complaint, text: str) -> ComplaintEvent:
    """A comment on the complaint's timeline (the region supervising, the OEM, the
    dealer): appended, so no lock on the complaint."""
    row = Complaint.objects.get(pk=complaint.pk)
    if not (
        may(actor, "complaints.comment_complaint", row)
        or may(actor, "complaints.handle_complaint", row)
    ):
        raise PermissionDenied()
    return record_event(row, kind=EventKind.COMMENT, actor=actor, message=_text(text, "text"))


# ---------------------------------------------------------------- pause


@transaction.atomic
def complaint_pause(*, actor, complaint, reason: str, version=None) -> Complaint:
    """Stop the clock while waiting for the customer, where the OEM's settings allow it."""
    row = locked(complaint, version=version)
    _require(actor, row, "complaints.file_complaint")
    if not ComplaintSettings.current().pause_allowed:
        raise GuardRefused(_("The OEM's settings do not allow pausing the clock."))
    if row.status not in RUNNING:
        raise GuardRefused(_("Only a filed, open complaint has a clock to pause."))
    if row.paused_since is not None:
        raise GuardRefused(_("The clock is already paused."))
    reason = _text(reason, "reason", limit=200)
    now = timezone.now()
    ComplaintPause.objects.create(complaint=row, started_at=now, reason=reason, started_by=actor)
    row.paused_since = now
    _bump(row, "paused_since")
    record_event(
        row, kind=EventKind.PAUSE, actor=actor, message=_("Clock paused: %(r)s") % {"r": reason}
    )
    return row


@transaction.atomic
def complaint_resume(*, actor, complaint, version=None) -> Complaint:
    """Restart the clock; the deadline moves out by the working time it stood still."""
    row = locked(complaint, version=version)
    _require(actor, row, "complaints.file_complaint")
    if row.paused_since is None:
        raise GuardRefused(_("The clock is not paused."))
    _resume(row, actor)
    return row


def _resume(row, actor):
    now = timezone.now()
    pause = ComplaintPause.objects.filter(complaint=row, ended_at__isnull=True).first()
    if pause is not None:
        pause.ended_at, pause.ended_by = now, actor
        pause.save(update_fields=["ended_at", "ended_by"])
    stood = max(clock.working_time(row.paused_since, now), clock.ZERO)
    row.paused_total = (row.paused_total or clock.ZERO) + stood
    row.paused_since = None
    row.deadline_at, row.deadline_provisional = clock.limit_deadline(
        row.clock_started_at, row.limit_days, row.paused_total
    )
    _bump(row, "paused_since", "paused_total", "deadline_at", "deadline_provisional")
    record_event(
        row,
        kind=EventKind.PAUSE,
        actor=actor,
        message=_("Clock resumed after %(days)s working days; due %(due)s")
        % {
            "days": clock.working_days(stood),
            "due": timezone.localtime(row.deadline_at).strftime("%Y-%m-%d %H:%M"),
        },
    )


# ---------------------------------------------------------------- escalation


def level_for(amount: Decimal, *, at_least: int = 1) -> GoodwillLevel | None:
    """The row of the goodwill matrix the amount falls in, or the row ``at_least`` when
    that is higher (management escalation goes above the handling dealer)."""
    levels = list(GoodwillLevel.objects.order_by("min_amount"))
    if not levels:
        return None
    chosen = levels[0]
    for level in levels:
        if amount >= level.min_amount and (level.max_amount is None or amount < level.max_amount):
            chosen = level
    floor = levels[min(at_least, len(levels)) - 1]
    return floor if floor.level > chosen.level else chosen


def _goodwill_asked(row) -> Decimal:
    latest = (
        ComplaintStep.objects.filter(complaint=row, kind=StepKind.PLAN, status=StepStatus.DONE)
        .exclude(goodwill_amount__isnull=True)
        .order_by("-done_at")
        .values_list("goodwill_amount", flat=True)
        .first()
    )
    return latest or ZERO


def _escalate(row, actor, reason, *, amount=None, note="") -> Escalation | None:
    """Raise an escalation to the level of the goodwill matrix the amount (by default the
    goodwill the dealer's plan asks for) falls in; automatic ones go at least to level 2.
    ``None`` when the same reason is already escalated and undecided."""
    amount = amount if amount is not None else _goodwill_asked(row)
    manual = reason in (EscalationReason.MANUAL, EscalationReason.GOODWILL)
    level = level_for(amount, at_least=1 if manual else 2)
    role, number = (level.role, level.level) if level else ("complaint_specialist", 1)
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                complaint=row,
                reason=reason,
                level=number,
                role=role,
                amount=amount,
                note=note[:MAX_TEXT],
                raised_by=actor if getattr(actor, "pk", None) else None,
                raised_at=timezone.now(),
            )
    except IntegrityError:
        return None  # the same reason is already escalated and undecided
    if number > row.escalation_level:
        row.escalation_level = number
        _bump(row, "escalation_level")
    record_event(
        row,
        kind=EventKind.ESCALATION,
        actor=actor,
        message=_("Escalated (%(reason)s) to level %(level)s: %(role)s")
        % {"reason": EscalationReason(reason).label, "level": number, "role": _role_label(role)},
        data={"escalation": escalation.pk, "reason": reason, "amount": str(amount)},
    )
    deciders = _holders([role], dealer_id=row.dealer_id, region_id=row.region_id, oem=True)
    _notify(
        deciders + ([row.specialist] if row.specialist_id else []),
        subject=_("Complaint %(number)s escalated: %(reason)s")
        % {"number": row.number, "reason": EscalationReason(reason).label},
        body=note or row.subject,
        key=f"complaint-escalation:{escalation.pk}",
    )
    return escalation


def _role_label(role: str) -> str:
    from aftersales.org.roles import Role

    try:
        return str(Role(role).label)
    except ValueError:
        return role


@transaction.atomic
def complaint_escalate(*, actor, complaint, note: str, amount=None, version=None) -> Escalation:
    """Escalate by hand: the goodwill involved decides which manager must decide."""
    row = locked(complaint, version=version)
    _require(actor, row, "complaints.escalate_complaint")
    if row.status not in RUNNING:
        raise GuardRefused(_("Only a filed, open complaint is escalated."))
    escalation = _escalate(
        row,
        actor,
        EscalationReason.MANUAL,
        amount=_amount(amount, "amount"),
        note=_text(note, "note"),
    )
    if escalation is None:
        raise GuardRefused(_("An escalation by hand is already waiting for a decision."))
    return escalation


def may_decide(actor, escalation) -> bool:
    """May the actor decide this escalation (the decide permission at the complaint, and
    the role of the escalation's level at its dealer, its region or the OEM)?"""
    complaint = escalation.complaint
    return may(actor, "complaints.decide_complaint", complaint) and _holds_role(
        actor, escalation.role, complaint
    )


def _holds_role(actor, role, complaint) -> bool:
    from aftersales.org.models import RoleAssignment

    if actor.is_superuser:
        return True
    for region_id, dealer_id in RoleAssignment.objects.filter(
        user=actor, role=role, active=True
    ).values_list("region_id", "dealer_id"):
        if region_id is None and dealer_id is None:
            return True
        if dealer_id is not None and dealer_id == complaint.dealer_id:
            return True
        if region_id is not None and region_id == complaint.region_id:
            return True
    return False


@transaction.atomic
def escalation_decide(*, actor, escalation, decision: str, approved_amount=None) -> Escalation:
    """The manager of the escalation's level decides: the plan and the goodwill approved
    (up to what their level allows)."""
    row = Escalation.objects.select_for_update(of=("self",)).get(pk=escalation.pk)
    complaint = locked(row.complaint_id)
    if row.decided_at is not None:
        raise GuardRefused(_("This escalation is already decided."))
    row.complaint = complaint
    if not may_decide(actor, row):
        raise PermissionDenied(
            _("This escalation is decided by: %(role)s.") % {"role": _role_label(row.role)}
        )
    amount = _amount(approved_amount, "approved_amount")
    level = GoodwillLevel.objects.filter(role=row.role).order_by("-level").first()
    if amount is not None and level is not None and level.max_amount is not None:
        if amount >= level.max_amount:
            message = _("Your level decides goodwill below %(max)s.") % {"max": level.max_amount}
            raise ValidationFailed(message, fields={"approved_amount": [message]})
    row.decision = _text(decision, "decision")
    row.approved_amount = amount
    row.decided_by, row.decided_at = actor, timezone.now()
    row.save()
    if amount is not None:
        complaint.goodwill_amount = (complaint.goodwill_amount or ZERO) + amount
        _bump(complaint, "goodwill_amount")
    record_event(
        complaint,
        kind=EventKind.ESCALATION,
        actor=actor,
        message=_("Decision: %(decision)s") % {"decision": row.decision},
        data={"escalation": row.pk, "approved_amount": str(amount or "")},
    )
    return row


# ---------------------------------------------------------------- closure


@transaction.atomic
def complaint_close(*, actor, complaint, condition: str, evidence: str, version=None) -> Complaint:
    """Close on one of the four conditions, with the evidence. Open steps are cancelled;
    a satisfaction follow-up is scheduled for the customer-service centre."""
    row = locked(complaint, version=version)
    _require(actor, row, "complaints.close_complaint")
    _check(row, S.CLOSED)
    if condition not in ClosureCondition.values:
        message = _("Choose the closure condition that was met.")
        raise ValidationFailed(message, code="closure_condition", fields={"condition": [message]})
    evidence = _text(evidence, "evidence")
    if row.paused_since is not None:
        _resume(row, actor)
    now = timezone.now()
    used = clock.used(row, now)
    row.closure_condition, row.closure_evidence = condition, evidence
    row.closed_at = now
    row.closed_on_time = row.deadline_at is None or now <= row.deadline_at
    row.handling_days = clock.working_days(used)
    for step in ComplaintStep.objects.filter(complaint=row, status=StepStatus.OPEN):
        _finish_step(step, actor, StepStatus.CANCELLED)
        step.save(update_fields=["status", "done_at", "done_by"])
    _move(
        row,
        S.CLOSED,
        actor,
        fields=[
            "closure_condition",
            "closure_evidence",
            "closed_at",
            "closed_on_time",
            "handling_days",
        ],
        data={"condition": condition},
    )
    record_event(
        row,
        kind=EventKind.CLOSED,
        actor=actor,
        message=f"{ClosureCondition(condition).label}: {evidence}",
    )
    days = ComplaintSettings.current().follow_up_days
    due, _guessed = clock.limit_deadline(now, days)
    ComplaintFollowUp.objects.filter(complaint=row, done_at__isnull=True).delete()
    ComplaintFollowUp.objects.create(complaint=row, due_at=due)
    return row


@transaction.atomic
def complaint_reopen(*, actor, complaint, reason: str, version=None) -> Complaint:
    """Reopen a closed complaint: back in handling with a fresh clock of its limit and a
    new plan due; counted."""
    row = locked(complaint, version=version)
    _require(actor, row, "complaints.close_complaint")
    if row.status != S.CLOSED:
        raise IllegalTransition(_("Only a closed complaint can be reopened."))
    if row.dealer_id is None:
        raise GuardRefused(_("Assign the complaint to a dealer instead."))
    reason = _text(reason, "reason")
    now = timezone.now()
    row.reopen_count += 1
    row.closure_condition, row.closed_at, row.closed_on_time = "", None, None
    _start_clock(row, now)
    _move(
        row,
        S.HANDLING,
        actor,
        fields=[
            "reopen_count",
            "closure_condition",
            "closed_at",
            "closed_on_time",
            "clock_started_at",
            "deadline_at",
            "deadline_provisional",
            "paused_total",
        ],
    )
    record_event(row, kind=EventKind.REOPENED, actor=actor, message=reason)
    ComplaintFollowUp.objects.filter(complaint=row, done_at__isnull=True).delete()
    _open_step(row, StepKind.PLAN, actor, ComplaintSettings.current().plan_days)
    return row


# ---------------------------------------------------------------- follow-up


@transaction.atomic
def follow_up_record(
    *, actor, follow_up, outcome: str, score=None, remarks: str = "", care_action: str = ""
) -> ComplaintFollowUp:
    """The satisfaction call after closure: reached (with a 1-5 score), not reached (try
    again tomorrow) or declined; a care action may be noted."""
    row = ComplaintFollowUp.objects.select_for_update(of=("self",)).get(pk=follow_up.pk)
    complaint = row.complaint
    _require(actor, complaint, "complaints.judge_complaint")
    if row.done_at is not None:
        raise GuardRefused(_("This follow-up is already recorded."))
    outcome = _choice(outcome, FollowUpOutcome, "outcome")
    row.attempts += 1
    row.remarks = _text(remarks, "remarks", required=False)
    row.care_action = _text(care_action, "care_action", required=False, limit=200)
    if outcome == FollowUpOutcome.REACHED:
        try:
            score = int(score)
        except (TypeError, ValueError):
            score = None
        if score is None or not 1 <= score <= 5:
            message = _("Give a score from 1 to 5.")
            raise ValidationFailed(message, fields={"score": [message]})
        row.score = score
    if outcome == FollowUpOutcome.NOT_REACHED and row.attempts < 3:
        row.due_at, _guessed = clock.limit_deadline(timezone.now(), 1)
    else:
        row.outcome, row.done_at, row.done_by = outcome, timezone.now(), actor
    if outcome == FollowUpOutcome.NOT_REACHED:
        row.outcome = outcome if row.done_at else ""
    row.save()
    record_event(
        complaint,
        kind=EventKind.FOLLOW_UP,
        actor=actor,
        message=" ".join(
            str(x)
            for x in (
                FollowUpOutcome(outcome).label,
                f"{row.score}/5" if row.score else "",
                row.remarks,
                row.care_action,
            )
            if x
        ),
    )
    return row


# ---------------------------------------------------------------- legal cases


@transaction.atomic
def case_open(
    *,
    actor,
    kind: str,
    title: str,
    complaints,
    opened_on=None,
    staff=(),
    body: str = "",
    description: str = "",
) -> LegalCase:
    """Record an arbitration, a lawsuit or a public-opinion crisis arising from one or
    more complaints, with the legal or PR staff involved."""
    if not allowed_at(actor, "complaints.add_legalcase"):
        raise PermissionDenied()
    from aftersales.complaints.choices import CaseKind

    kind = _choice(kind, CaseKind, "kind")
    complaints = list(complaints)
    if not complaints:
        message = _("Link at least one complaint.")
        raise ValidationFailed(message, fields={"complaints": [message]})
    case = LegalCase.objects.create(
        number=next_number(doc_type="FW"),
        kind=kind,
        title=_text(title, "title", limit=120),
        description=_text(description, "description", required=False),
        body=_text(body, "body", required=False, limit=120),
        opened_on=opened_on or timezone.localdate(),
        created_by=actor,
    )
    case.complaints.set(complaints)
    if staff:
        case.staff.set(staff)
    for complaint in complaints:
        record_event(
            complaint,
            kind=EventKind.CASE,
            actor=actor,
            message=f"{case.get_kind_display()} {case.number}: {case.title}",
        )
    audit_create(case, actor=actor)
    return case


@transaction.atomic
def case_update(
    *, actor, case, hearing_on=None, outcome: str = "", closed_on=None, staff=None
) -> LegalCase:
    from aftersales.complaints.choices import CaseStatus

    if not allowed_at(actor, "complaints.change_legalcase"):
        raise PermissionDenied()
    row = LegalCase.objects.select_for_update().get(pk=case.pk)
    if row.status == CaseStatus.CLOSED:
        raise GuardRefused(_("This case is closed."))
    if hearing_on is not None:
        row.hearing_on = hearing_on
    if outcome:
        row.outcome = _text(outcome, "outcome")
    if closed_on is not None:
        if not row.outcome:
            message = _("Record the outcome before closing the case.")
            raise ValidationFailed(message, fields={"outcome": [message]})
        row.closed_on, row.status = closed_on, CaseStatus.CLOSED
    row.save()
    if staff is not None:
        row.staff.set(staff)
    return row


# ---------------------------------------------------------------- settings


SETTING_FIELDS = (
    "urgent_days",
    "general_days",
    "major_days",
    "warn_at",
    "vrt_days",
    "plan_days",
    "pause_allowed",
    "follow_up_days",
    "assessment_weights",
)


@transaction.atomic
def settings_update(*, actor, **changes) -> ComplaintSettings:
    """The OEM changes its complaint rules; open deadlines keep the limit they were
    filed with."""
    if not allowed_at(actor, "complaints.change_complaintsettings"):
        raise PermissionDenied()
    row = ComplaintSettings.current()
    row = ComplaintSettings.objects.select_for_update().get(pk=row.pk)
    errors = {}
    for name, value in changes.items():
        if name not in SETTING_FIELDS:
            continue
        if name.endswith("_days"):
            try:
                value = int(value)
                if not 0 <= value <= 60 or (value == 0 and name != "follow_up_days"):
                    raise ValueError
            except (TypeError, ValueError):
                errors[name] = [_("Between 1 and 60 working days.")]
                continue
        elif name == "warn_at":
            try:
                value = sorted({int(v) for v in value})
                if not value or any(not 1 <= v <= 99 for v in value):
                    raise ValueError
            except (TypeError, ValueError):
                errors[name] = [_("Percentages between 1 and 99.")]
                continue
        elif name == "assessment_weights":
            keys = set(ComplaintSettings._meta.get_field(name).default())
            try:
                value = {k: int(v) for k, v in dict(value).items()}
                if set(value) != keys or any(v < 0 for v in value.values()):
                    raise ValueError
                if not sum(value.values()):
                    raise ValueError
            except (TypeError, ValueError):
                errors[name] = [
                    _("Give whole, non-negative points for: %(keys)s.")
                    % {"keys": ", ".join(sorted(keys))}
                ]
                continue
        elif name == "pause_allowed":
            value = bool(value)
        setattr(row, name, value)
    if errors:
        raise ValidationFailed(fields=errors)
    row.save()
    return row


@transaction.atomic
def goodwill_matrix_set(*, actor, levels: list[dict]) -> list[GoodwillLevel]:
    """Replace the goodwill authorization matrix: contiguous amount ranges from 0, each
    with the role that decides it; the last range is open-ended."""
    from aftersales.org.roles import Role

    if not allowed_at(actor, "complaints.change_goodwilllevel"):
        raise PermissionDenied()
    if not levels:
        raise ValidationFailed(fields={"levels": [_("Give at least one level.")]})
    rows, start = [], ZERO
    for n, item in enumerate(levels, 1):
        upper = _amount(item.get("max_amount"), f"levels.{n}.max_amount")
        role = item.get("role")
        if role not in Role.values:
            raise ValidationFailed(fields={f"levels.{n}.role": [_("Choose a role.")]})
        if upper is not None and upper <= start:
            raise ValidationFailed(
                fields={f"levels.{n}.max_amount": [_("Each range must end above its start.")]}
            )
        if upper is None and n != len(levels):
            raise ValidationFailed(
                fields={f"levels.{n}.max_amount": [_("Only the last range is open-ended.")]}
            )
        rows.append(GoodwillLevel(min_amount=start, max_amount=upper, role=role, level=n))
        start = upper if upper is not None else start
    if rows[-1].max_amount is not None:
        raise ValidationFailed(fields={"levels": [_("The last range must be open-ended.")]})
    GoodwillLevel.objects.all().delete()
    return GoodwillLevel.objects.bulk_create(rows)


# ---------------------------------------------------------------- the clock job


def complaints_clock(*, now=None) -> dict:
    """The deadline sweep: warnings and automatic escalations (see ``sweep``)."""
    from aftersales.complaints.sweep import complaints_clock as sweep

    return sweep(now=now)
