"""The follow-up call after delivery (回访, SPEC §4 step 10).

Delivery schedules one ``FollowUp`` per order (``delivery._schedule_follow_up``). The DCRC
agent calls and records the outcome with ``follow_up_record_call``: reached (with a 1-5
score per question and the 0-10 recommendation), not reached (tried again until the
dealer's number of attempts, then "not reached"), or declined. A low score alerts the
dealer's service managers once. ``follow_ups`` is the DCRC queue.
"""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from aftersales.core.access import require_at
from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.workorders.choices import CallOutcome, EventKind, FollowUpStatus
from aftersales.workorders.events import record_event
from aftersales.workorders.models import FollowUp, FollowUpCall, ServiceSettings
from aftersales.workorders.transitions import StaleVersion

# 1-5 satisfaction questions, in the order the agent asks them
QUESTIONS = {
    "overall": gettext_lazy("Overall satisfaction with the visit"),
    "advisor": gettext_lazy("Your service advisor"),
    "quality": gettext_lazy("Quality of the repair"),
    "timeliness": gettext_lazy("Finished on time"),
    "price": gettext_lazy("Price and value for money"),
    "facility": gettext_lazy("Facilities and waiting area"),
}
NPS = "nps"
NPS_LABEL = gettext_lazy("Would you recommend us to friends? (0-10)")
SCORE_RANGE = range(1, 6)
NPS_RANGE = range(0, 11)

# tabs of the DCRC queue
DUE_NOW, OVERDUE, UPCOMING, DONE = "now", "overdue", "upcoming", "done"
DUE_CHOICES = {
    DUE_NOW: pgettext_lazy("follow-up", "Due"),
    OVERDUE: gettext_lazy("Overdue"),
    UPCOMING: gettext_lazy("Upcoming"),
    DONE: gettext_lazy("Done"),
}


class FollowUpClosed(Conflict):
    code = "follow_up_closed"


def _int(value):
    if isinstance(value, bool):
        return None
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number


def clean_scores(scores) -> dict[str, int]:
    """Every question scored 1-5; the recommendation 0-10 when given."""
    if not isinstance(scores, dict):
        scores = {}
    unknown = sorted(set(scores) - set(QUESTIONS) - {NPS})
    errors = {}
    if unknown:
        errors["scores"] = [_("Unknown questions: %(q)s.") % {"q": ", ".join(unknown)}]
    clean = {}
    for key in QUESTIONS:
        value = scores.get(key)
        number = _int(value) if value not in (None, "") else None
        if number is None:
            errors[key] = [_("Give a score from 1 to 5.")]
        elif number not in SCORE_RANGE:
            errors[key] = [_("A score is between 1 and 5.")]
        else:
            clean[key] = number
    value = scores.get(NPS)
    if value not in (None, ""):
        number = _int(value)
        if number is None or number not in NPS_RANGE:
            errors[NPS] = [_("The recommendation is between 0 and 10.")]
        else:
            clean[NPS] = number
    if errors:
        raise ValidationFailed(
            _("Record a score from 1 to 5 for every question."), code="invalid", fields=errors
        )
    return clean


def low_questions(scores: dict, low_score: int) -> list[str]:
    """The 1-5 questions scored at or below ``low_score``."""
    return [key for key in QUESTIONS if key in scores and scores[key] <= low_score]


@transaction.atomic
def follow_up_record_call(
    *,
    actor,
    follow_up: FollowUp | int,
    version: int | None,
    outcome: str,
    scores: dict | None = None,
    remarks: str = "",
) -> FollowUp:
    """Record one call of the follow-up; see the module's docstring."""
    from aftersales.org.models import Dealer

    pk = getattr(follow_up, "pk", follow_up)
    fu = FollowUp.objects.select_for_update(of=("self",)).select_related("repair_order").get(pk=pk)
    require_at(actor, "workorders.change_followup", dealer=Dealer(pk=fu.dealer_id))
    if version is not None and int(version) != fu.version:
        raise StaleVersion(
            _("This follow-up was changed by someone else in the meantime. Reload it.")
        )
    if fu.status != FollowUpStatus.OPEN:
        raise FollowUpClosed(
            _("This follow-up is %(status)s; no more calls can be recorded.")
            % {"status": fu.get_status_display()}
        )
    if outcome not in CallOutcome.values:
        raise ValidationFailed(
            _("Choose the outcome of the call."), fields={"outcome": [_("Choose an outcome.")]}
        )
    remarks = (remarks or "").strip()
    if len(remarks) > 300:
        raise ValidationFailed(
            _("Remarks have at most 300 characters."), fields={"remarks": [_("Too long.")]}
        )
    settings = ServiceSettings.for_dealer(fu.dealer_id)
    now = timezone.now()
    clean = {}
    if outcome == CallOutcome.REACHED:
        clean = clean_scores(scores)
    fu.attempts += 1
    changed = ["attempts", "version"]
    if outcome == CallOutcome.NOT_REACHED:
        if fu.attempts >= settings.follow_up_attempts:
            fu.status = FollowUpStatus.UNREACHABLE
            fu.completed_at, fu.completed_by = now, actor
            changed += ["status", "completed_at", "completed_by"]
    else:
        fu.status = FollowUpStatus.DONE
        fu.scores = clean
        fu.remarks = remarks
        fu.completed_at, fu.completed_by = now, actor
        changed += ["status", "scores", "remarks", "completed_at", "completed_by"]
    if fu.assigned_to_id is None:
        fu.assigned_to = actor
        changed.append("assigned_to")
    fu.version += 1
    fu.save(update_fields=changed)
    call = FollowUpCall.objects.create(
        follow_up=fu, outcome=outcome, remarks=remarks, called_by=actor
    )
    low = low_questions(clean, settings.low_score)
    record_event(
        fu.repair_order,
        kind=EventKind.FOLLOW_UP,
        actor=actor,
        message=" · ".join(p for p in (str(CallOutcome(outcome).label), remarks) if p),
        data={
            "follow_up": fu.pk,
            "call": call.pk,
            "outcome": outcome,
            "status": fu.status,
            "scores": clean,
            "low": low,
        },
    )
    if low:
        _alert_low_score(fu, low, now)
    return fu


def service_managers(dealer_id):
    from aftersales.org.models import RoleAssignment, User
    from aftersales.org.roles import Role

    return list(
        User.objects.filter(
            is_active=True,
            pk__in=RoleAssignment.objects.filter(
                role=Role.SERVICE_MANAGER, dealer_id=dealer_id, active=True
            ).values("user_id"),
        ).order_by("pk")
    )


def _alert_low_score(fu: FollowUp, low: list[str], now) -> None:
    from aftersales.core.outbox import outbox_enqueue

    marked = FollowUp.objects.filter(pk=fu.pk, alerted_at__isnull=True).update(alerted_at=now)
    if not marked:
        return
    fu.alerted_at = now
    order = fu.repair_order
    with translation.override("zh-hans"):  # the staff's default language
        subject = _("Low follow-up score: %(number)s") % {"number": order.number}
        body = _("The customer of %(number)s gave low scores: %(questions)s. %(remarks)s") % {
            "number": order.number,
            "questions": ", ".join(f"{QUESTIONS[key]} {fu.scores[key]}" for key in low),
            "remarks": fu.remarks,
        }
    for manager in service_managers(fu.dealer_id):
        outbox_enqueue(
            channel="inapp",
            recipient=str(manager.pk),
            subject=subject,
            body=body.strip(),
            dealer=order.dealer,
            payload={"follow_up": fu.pk, "repair_order": order.pk},
            dedup_key=f"followup-low:{fu.pk}:{manager.pk}",
        )


def follow_ups(user, *, status: str | None = None, due: str | None = None, now=None):
    """The DCRC queue, scoped to the user's dealers. ``due``: ``now`` (open and callable),
    ``overdue`` (open, past the due time), ``upcoming`` (not callable yet), ``done``
    (answered, declined or not reached)."""
    now = now or timezone.now()
    rows = FollowUp.objects.restrict(user, "view").select_related(
        "repair_order",
        "repair_order__vehicle",
        "repair_order__customer",
        "repair_order__service_advisor",
    )
    if status:
        rows = rows.filter(status=status)
    return by_due(rows, due, now)


def by_due(rows, due: str | None, now=None):
    """Narrow follow-ups to one tab of the DCRC queue, in that tab's order."""
    now = now or timezone.now()
    is_open = Q(status=FollowUpStatus.OPEN)
    if due == DUE_NOW:
        return rows.filter(is_open, opens_at__lte=now, due_at__gte=now).order_by("due_at", "id")
    if due == OVERDUE:
        return rows.filter(is_open, due_at__lt=now).order_by("due_at", "id")
    if due == UPCOMING:
        return rows.filter(is_open, opens_at__gt=now).order_by("opens_at", "id")
    if due == DONE:
        return rows.exclude(is_open).order_by("-completed_at", "-id")
    return rows
