"""Scoped reads of complaint management: the specialist's and the agent's queues, the
dealer's and the region's lists, the VRT tasks, the follow-up worklist and the legal
cases. Every function takes the acting user and starts from ``restrict`` (ARCHITECTURE
rule 3).

The queues are built for a million complaints: each is one queryset filtered on
``status`` (and ``dealer`` for a dealer's or a region's users) and ordered by the
deadline, which the indexes (status, deadline_at) and (dealer, status) serve; open steps
are tested with ``EXISTS`` on the step's complaint. Counts are capped (``capped_count``)
so a tab never counts a huge set to print a number nobody reads past "1000+".
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.paginator import Paginator
from django.db.models import BooleanField, Exists, OuterRef, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from aftersales.complaints import clock
from aftersales.complaints.choices import (
    OPEN,
    RUNNING,
    Channel,
    StepKind,
    StepStatus,
)
from aftersales.complaints.choices import ComplaintStatus as S
from aftersales.complaints.models import (
    Complaint,
    ComplaintFollowUp,
    ComplaintStep,
    LegalCase,
)
from aftersales.core.access import user_scope

COUNT_CAP = 1000
LIST_RELATED = ("dealer", "region")


def complaints(user, action: str = "view"):
    """The complaints the user may see (or act on with ``action``)."""
    return Complaint.objects.restrict(user, action)


def _via_complaint(queryset, user):
    """Rows hanging off a complaint (steps, follow-ups), scoped like the complaints the
    user may see: the permission is the complaint's, not the row model's own."""
    scope = user_scope(user, "complaints.view_complaint")
    if scope.everything:
        return queryset
    if scope.empty:
        return queryset.none()
    return queryset.filter(queryset.scope_condition(scope))


def complaint_detail(user, pk: int) -> Complaint:
    """One complaint with what its page shows, or ``Complaint.DoesNotExist`` outside the
    user's scope."""
    return (
        complaints(user)
        .select_related(
            "customer",
            "vehicle__variant__vehicle_model",
            "dealer",
            "region",
            "source_dealer",
            "specialist",
            "received_by",
            "judged_by",
        )
        .prefetch_related(
            "repair_orders",
            "steps__members",
            "steps__done_by",
            "escalations__decided_by",
            "escalations__raised_by",
            "events",
            "follow_ups",
            "pauses",
            "cases",
        )
        .get(pk=pk)
    )


def _open_step(kinds):
    return Exists(
        ComplaintStep.objects.filter(
            complaint_id=OuterRef("pk"), status=StepStatus.OPEN, kind__in=kinds
        )
    )


# "filed or in handling" written out in the SQL, not as parameters: a partial index's
# condition is matched against the query's text, so only this form lets SQLite read the
# running complaints in deadline order from ``complaints_running_deadline``.
_RUNNING_LIST = ", ".join(f"'{status}'" for status in sorted(RUNNING))
RUNNING_SQL = RawSQL(
    f'"complaints_complaint"."status" IN ({_RUNNING_LIST})',
    [],
    output_field=BooleanField(),
)


def due_soon_cutoff(now: datetime.datetime | None = None) -> datetime.datetime:
    """The instant one working day (of the customer-service centre's hours) from now."""
    return clock.add_working(now or timezone.now(), clock.DAY)


@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    help: str


QUEUES = (
    Queue("to_judge", _("To judge"), _("Forwarded by dealers, not judged yet")),
    Queue("to_file", _("To file"), _("Judged valid, waiting to be filed")),
    Queue("vrt", _("Waiting for VRT"), _("An open VRT or proposal step")),
    Queue("dealer", _("Waiting for dealer"), _("An open handling plan or execution step")),
    Queue("due_soon", _("Due soon"), _("Deadline within one working day")),
    Queue("overdue", _("Overdue"), _("Deadline passed, not closed")),
)
QUEUE_KEYS = tuple(q.key for q in QUEUES)


def queue(user, key: str, *, now: datetime.datetime | None = None):
    """One queue of the specialist's workbench, restricted to the user, soonest deadline
    first (oldest first where there is no deadline yet)."""
    now = now or timezone.now()
    rows = complaints(user).select_related(*LIST_RELATED)
    by_deadline = ("deadline_at", "id")
    if key == "to_judge":
        return rows.filter(status=S.NEW, channel=Channel.DEALER).order_by("received_at", "id")
    if key == "to_file":
        return rows.filter(status=S.TO_FILE).order_by("received_at", "id")
    if key == "vrt":
        return rows.filter(RUNNING_SQL, _open_step((StepKind.VRT, StepKind.PROPOSAL))).order_by(
            *by_deadline
        )
    if key == "dealer":
        return rows.filter(
            _open_step((StepKind.PLAN, StepKind.EXECUTION)), status=S.HANDLING
        ).order_by(*by_deadline)
    if key == "due_soon":
        return rows.filter(
            RUNNING_SQL,
            paused_since__isnull=True,
            deadline_at__gte=now,
            deadline_at__lte=due_soon_cutoff(now),
        ).order_by(*by_deadline)
    if key == "overdue":
        return rows.filter(RUNNING_SQL, paused_since__isnull=True, deadline_at__lt=now).order_by(
            *by_deadline
        )
    raise ValueError(key)


def agent_queue(user):
    """The customer-service agent's complaints to judge (not forwarded by a dealer: those
    go to the complaint specialist), oldest first."""
    return (
        complaints(user)
        .select_related(*LIST_RELATED)
        .filter(status=S.NEW)
        .exclude(channel=Channel.DEALER)
        .order_by("received_at", "id")
    )


def capped_count(queryset, cap: int = COUNT_CAP) -> int:
    """How many rows, counting no further than ``cap + 1`` (shown as "1000+")."""
    return queryset.order_by().values("pk")[: cap + 1].count()


def queue_counts(user, *, now=None) -> dict[str, int]:
    now = now or timezone.now()
    return {key: capped_count(queue(user, key, now=now)) for key in QUEUE_KEYS}


class CappedPaginator(Paginator):
    """A paginator whose count stops at ``cap + 1`` rows (given, or counted capped), so a
    huge queue is never counted in full; pages past the cap are not offered."""

    def __init__(self, *args, known_count: int | None = None, cap: int = COUNT_CAP, **kwargs):
        super().__init__(*args, **kwargs)
        self._known_count, self.cap = known_count, cap

    @cached_property
    def count(self):
        if self._known_count is not None:
            return self._known_count
        return capped_count(self.object_list, self.cap)

    @property
    def capped(self) -> bool:
        return self.count > self.cap


def search(user, *, status="", dealer=None, region=None, overdue=False, q="", now=None):
    """The list of complaints for the dealer, the region and the OEM: filters by status
    (a value, "open" or "closed"), dealer, region, overdue and a number, phone or subject
    search; open complaints by deadline, others newest first."""
    now = now or timezone.now()
    rows = complaints(user).select_related(*LIST_RELATED)
    if dealer:
        rows = rows.filter(dealer_id=dealer)
    if region:
        rows = rows.filter(region_id=region)
    if status == "open":
        rows = rows.filter(status__in=OPEN)
    elif status == "closed":
        rows = rows.exclude(status__in=OPEN)
    elif status in S.values:
        rows = rows.filter(status=status)
    if overdue:
        rows = rows.filter(status__in=RUNNING, paused_since__isnull=True, deadline_at__lt=now)
    q = (q or "").strip()
    if q:
        rows = rows.filter(
            Q(number=q.upper())
            | Q(contact_phone=q)
            | Q(subject__icontains=q)
            | Q(vehicle__plate=q.upper())
            | Q(vehicle__vin=q.upper())
        )
    if status in ("open", *OPEN) or overdue:
        return rows.order_by("deadline_at", "received_at", "id")
    return rows.order_by("-received_at", "-id")


def open_plan_due(complaint_ids) -> dict[int, datetime.datetime]:
    """For each listed complaint, when its open handling plan (or execution) falls due:
    one query for a page."""
    due = {}
    for complaint_id, kind, due_at in (
        ComplaintStep.objects.filter(
            complaint_id__in=list(complaint_ids),
            status=StepStatus.OPEN,
            kind__in=(StepKind.PLAN, StepKind.EXECUTION),
        )
        .order_by("due_at")
        .values_list("complaint_id", "kind", "due_at")
    ):
        due.setdefault(complaint_id, (kind, due_at))
    return due


def vrt_tasks(user, *, everyone: bool = False):
    """Open VRT steps the user is a member of (all open ones when ``everyone``: the
    technical-support specialists), soonest due first."""
    rows = (
        _via_complaint(ComplaintStep.objects.all(), user)
        .filter(kind=StepKind.VRT, status=StepStatus.OPEN)
        .select_related("complaint__dealer", "complaint__region")
        .prefetch_related("members")
        .order_by("due_at", "id")
    )
    if not everyone:
        rows = rows.filter(members=user)
    return rows


def is_vrt_member(user) -> bool:
    return ComplaintStep.objects.filter(
        kind=StepKind.VRT, status=StepStatus.OPEN, members=user
    ).exists()


def follow_ups(user, *, done: bool = False):
    """Satisfaction follow-ups after closure: open ones by due time (or the recorded
    ones, newest first)."""
    rows = _via_complaint(ComplaintFollowUp.objects.all(), user).select_related(
        "complaint__dealer", "done_by"
    )
    if done:
        return rows.filter(done_at__isnull=False).order_by("-done_at", "-id")
    return rows.filter(done_at__isnull=True).order_by("due_at", "id")


def cases(user, *, status="", kind=""):
    rows = LegalCase.objects.restrict(user, "view").prefetch_related("complaints", "staff")
    if status:
        rows = rows.filter(status=status)
    if kind:
        rows = rows.filter(kind=kind)
    return rows.order_by("-opened_on", "-id")


def remaining_days(complaint, now=None):
    """Working days left before the deadline (negative: overdue), to 0.1; ``None`` without
    a running deadline."""
    if complaint.deadline_at is None or complaint.status not in RUNNING:
        return None
    return clock.working_days(clock.remaining(complaint, now)).quantize(Decimal("0.1"))
