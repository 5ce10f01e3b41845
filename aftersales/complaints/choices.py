"""Statuses, kinds and the one table of allowed steps of a complaint (SPEC §9, source
document 001: 抱怨、投诉的预处理 → 受理 → 分派及处理 → 支援 → 升级 → 结案 → 回访).

``TRANSITIONS`` is what ``aftersales.complaints.services`` checks every status change
against; a step not in it is refused with ``illegal_transition`` (HTTP 409).
``STEP_PERMISSION`` names the permission each step needs at the complaint's dealer (or at
OEM level while no dealer handles it).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Channel(models.TextChoices):
    """How the complaint reached us (客户抱怨、投诉的表达途径)."""

    WECHAT = "wechat", _("OEM WeChat account")
    HOTLINE = "hotline", _("OEM hotline")
    LETTER = "letter", _("Letter")
    EMAIL = "email", _("E-mail")
    DEALER = "dealer", _("Forwarded by a dealer")
    MEDIA = "media", _("Media")
    AUTHORITY = "authority", _("Authorities / consumer association")
    INTERNAL = "internal", _("Other OEM department")
    OWNER_APP = "owner_app", _("Owner's app")


class Category(models.TextChoices):
    QUALITY = "quality", _("Quality")
    SALES = "sales", _("Sales")
    SERVICE = "service", _("Service")
    PARTS = "parts", _("Parts")
    OTHER = "other", pgettext_lazy("complaint type", "Other")


class Grade(models.TextChoices):
    GENERAL = "general", _("General")
    MAJOR = "major", _("Major")
    URGENT = "urgent", _("Urgent")


class ComplaintStatus(models.TextChoices):
    NEW = "new", _("To judge")  # received; the agent (or, from a dealer, the specialist) judges it
    INVALID = "invalid", _("Invalid, answered")  # not a valid complaint; the reply is recorded
    RESOLVED = "resolved", _("Resolved by the agent")  # valid 抱怨 solved and answered at once
    TO_FILE = "to_file", _("To file")  # valid; becomes a formal complaint (投诉) when filed
    FILED = "filed", _("Filed")  # classified and graded; the clock runs; not yet assigned
    HANDLING = "handling", _("In handling")  # assigned to a region and dealer
    CLOSED = "closed", _("Closed")  # one of the four closure conditions recorded


S = ComplaintStatus

TRANSITIONS: dict[str, set[str]] = {
    S.NEW: {S.INVALID, S.RESOLVED, S.TO_FILE},
    S.TO_FILE: {S.FILED, S.INVALID},
    S.FILED: {S.HANDLING, S.CLOSED},
    S.HANDLING: {S.CLOSED},
    S.CLOSED: {S.HANDLING},  # reopened
    S.INVALID: set(),
    S.RESOLVED: set(),
}

# Judged and answered without becoming a formal complaint.
PRE_CLOSED = {S.INVALID, S.RESOLVED}
# Formal complaints whose clock runs (filed, not closed).
RUNNING = {S.FILED, S.HANDLING}
# Not finished: everything a queue or the overdue list may show.
OPEN = {S.NEW, S.TO_FILE, S.FILED, S.HANDLING}
# Formal complaints (filed at some time): the reports count these.
FORMAL = {S.FILED, S.HANDLING, S.CLOSED}


class ClosureCondition(models.TextChoices):
    """The four conditions under which a complaint may be closed (投诉关闭条件)."""

    WITHDRAWN = "withdrawn", _("The customer accepted the explanation and withdrew")
    DONE = "done", _("The customer accepted the plan and it was carried out")
    DEFERRED = "deferred", _("The customer accepted the plan; it is deferred by agreement")
    OUTSIDE_POLICY = (
        "outside_policy",
        _("Outside the law or warranty policy; a clear answer was given"),
    )


class StepKind(models.TextChoices):
    """A time-limited piece of work inside a complaint."""

    VRT = "vrt", _("VRT technical conclusion and solution")  # quality complaints
    PROPOSAL = "proposal", _("Departments' proposal")  # the other types
    PLAN = "plan", _("Dealer's handling plan")
    EXECUTION = "execution", _("Carrying out the plan")


class StepStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("step", "Open")  # waiting for its result
    DONE = "done", pgettext_lazy("step", "Done")  # result recorded in time or late
    NO_RESULT = "no_result", _("No result possible")  # e.g. no proposal could be formed
    CANCELLED = "cancelled", pgettext_lazy("step", "Cancelled")  # no longer needed


class Responsibility(models.TextChoices):
    """Who the VRT holds responsible (责任划分)."""

    NONE = "none", _("No defect")
    OEM = "oem", _("OEM (design or production)")
    SUPPLIER = "supplier", _("Supplier")
    DEALER = "dealer", _("Dealer (repair or service)")
    CUSTOMER = "customer", _("Customer (use or care)")
    SHARED = "shared", _("Shared")


class EscalationReason(models.TextChoices):
    OVERDUE = "overdue", _("Not closed within the time limit")
    PREDICTED = "predicted", _("Predicted not to close within the time limit")
    VRT_LATE = "vrt_late", _("No VRT solution in time")
    PLAN_LATE = "plan_late", _("No dealer plan in time")
    NO_PROPOSAL = "no_proposal", _("No proposal could be formed")
    GOODWILL = "goodwill", _("Goodwill beyond the dealer's authority")
    MANUAL = "manual", _("Raised by the complaint specialist")


# Escalation reasons raised by the clock job (one open escalation per reason).
AUTOMATIC_ESCALATIONS = {
    EscalationReason.OVERDUE,
    EscalationReason.PREDICTED,
    EscalationReason.VRT_LATE,
    EscalationReason.PLAN_LATE,
}


class CaseKind(models.TextChoices):
    ARBITRATION = "arbitration", _("Arbitration")
    LAWSUIT = "lawsuit", _("Lawsuit")
    CRISIS = "crisis", _("Public-opinion crisis")


class CaseStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("case", "Open")
    CLOSED = "closed", pgettext_lazy("case", "Closed")


class EventKind(models.TextChoices):
    RECEIVED = "received", pgettext_lazy("complaint", "Received")
    STATUS = "status", _("Status changed")
    JUDGED = "judged", _("Judged")
    FILED = "filed", _("Filed")
    ASSIGNED = "assigned", pgettext_lazy("complaint", "Assigned")
    LIMIT = "limit", _("Time limit changed")
    STEP = "step", _("Step")
    PAUSE = "pause", _("Clock paused or resumed")
    ALERT = "alert", _("Time-limit warning")
    ESCALATION = "escalation", _("Escalation")
    COMMENT = "comment", _("Comment")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CLOSED = "closed", pgettext_lazy("complaint event", "Closed")
    REOPENED = "reopened", _("Reopened")
    FOLLOW_UP = "follow_up", _("Satisfaction follow-up")
    CASE = "case", _("Arbitration, lawsuit or crisis")


class FollowUpOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NOT_REACHED = "not_reached", _("Not reached, try again")
    DECLINED = "declined", _("Declined to answer")


# Permission each status step needs (at the complaint's dealer; OEM level without one).
STEP_PERMISSION: dict[str, str] = {
    S.INVALID: "complaints.judge_complaint",
    S.RESOLVED: "complaints.judge_complaint",
    S.TO_FILE: "complaints.judge_complaint",
    S.FILED: "complaints.file_complaint",
    S.HANDLING: "complaints.file_complaint",
    S.CLOSED: "complaints.close_complaint",
}


def transition_diagram() -> str:
    """The transition table as a Mermaid state diagram (docs/complaints.md shows it; a test
    keeps the two equal)."""
    lines = ["stateDiagram-v2", "    [*] --> new"]
    for source, targets in TRANSITIONS.items():
        for target in sorted(targets):
            lines.append(f"    {source} --> {target}")
    for final in sorted(PRE_CLOSED):
        lines.append(f"    {final} --> [*]")
    return "\n".join(lines)
