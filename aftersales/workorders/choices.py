"""Statuses, kinds and the allowed transitions of the repair order (SPEC §4).

``TRANSITIONS`` is the one table every status change is checked against
(``aftersales.workorders.transitions.repair_order_transition``); docs/repair-orders.md
draws it. A transition not in the table is refused with the code ``illegal_transition``
(HTTP 409) and changes nothing.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ROStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")  # reception started, nothing promised yet
    CHECKED_IN = "checked_in", _("Checked in")  # walk-around, odometer and concern recorded
    DIAGNOSING = "diagnosing", _("Diagnosing")  # a technician looks for the cause
    ESTIMATED = "estimated", _("Estimated")  # lines and prices written; not yet shown
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")  # with the customer
    APPROVED = "approved", _("Approved")  # signed by the customer; may be dispatched
    IN_PROGRESS = "in_progress", _("In progress")  # a technician has clocked on
    WAITING_PARTS = "waiting_parts", _("Waiting for parts")  # work stopped for a part
    PAUSED = "paused", _("Paused")  # work stopped for another reason
    SELF_CHECKED = "self_checked", _("Self-checked")  # the technician's check is done
    QC_PASSED = "qc_passed", _("QC passed")  # the inspector passed the work
    QC_FAILED = "qc_failed", _("QC failed")  # the inspector sent it back
    REWORK = "rework", _("Rework")  # a technician is correcting a QC failure
    READY = "ready", _("Ready for delivery")  # washed, customer told
    DELIVERED = "delivered", _("Delivered")  # handed over; settlement open
    CLOSED = "closed", _("Closed")  # paid; nothing more changes
    CANCELLED = "cancelled", _("Cancelled")  # withdrawn before work started


S = ROStatus

TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.CHECKED_IN, S.CANCELLED},
    S.CHECKED_IN: {S.DIAGNOSING, S.ESTIMATED, S.CANCELLED},
    S.DIAGNOSING: {S.ESTIMATED, S.CANCELLED},
    S.ESTIMATED: {S.DIAGNOSING, S.AWAITING_APPROVAL, S.APPROVED, S.CANCELLED},
    S.AWAITING_APPROVAL: {S.ESTIMATED, S.APPROVED, S.CANCELLED},
    S.APPROVED: {S.IN_PROGRESS, S.ESTIMATED, S.CANCELLED},
    S.IN_PROGRESS: {S.WAITING_PARTS, S.PAUSED, S.SELF_CHECKED},
    S.WAITING_PARTS: {S.IN_PROGRESS},
    S.PAUSED: {S.IN_PROGRESS},
    S.SELF_CHECKED: {S.QC_PASSED, S.QC_FAILED},
    S.QC_FAILED: {S.REWORK},
    S.REWORK: {S.SELF_CHECKED},
    S.QC_PASSED: {S.READY},
    S.READY: {S.DELIVERED},
    S.DELIVERED: {S.CLOSED},
    S.CLOSED: set(),
    S.CANCELLED: set(),
}

# Work has not started: the order may still be cancelled and its lines rewritten freely.
BEFORE_WORK = {
    S.DRAFT,
    S.CHECKED_IN,
    S.DIAGNOSING,
    S.ESTIMATED,
    S.AWAITING_APPROVAL,
    S.APPROVED,
}
# Technicians may clock on (the first clock-on starts the work or the rework).
WORKABLE = {S.APPROVED, S.IN_PROGRESS, S.QC_FAILED, S.REWORK}
# The car is in the workshop: the boards show these.
OPEN = set(S) - {S.CLOSED, S.CANCELLED}
# Parts may be issued to or returned from the order.
PARTS_OPEN = {
    S.APPROVED,
    S.IN_PROGRESS,
    S.WAITING_PARTS,
    S.PAUSED,
    S.QC_FAILED,
    S.REWORK,
    S.SELF_CHECKED,
}
# Nothing about the order may change any more.
FINAL = {S.CLOSED, S.CANCELLED}


class ROKind(models.TextChoices):
    """What the visit is for; closed orders feed the CRM's service visits with it."""

    MAINTENANCE = "maintenance", _("Maintenance")
    REPAIR = "repair", _("Repair")
    WARRANTY = "warranty", _("Warranty repair")
    ACCIDENT = "accident", _("Accident repair")
    OTHER = "other", _("Other")


class PayType(models.TextChoices):
    CUSTOMER = "customer", _("Customer")  # the owner pays
    WARRANTY = "warranty", _("Warranty")  # the OEM pays through a claim
    INSURANCE = "insurance", _("Insurance")  # an insurer pays
    INTERNAL = "internal", _("Internal")  # the dealer pays (goodwill, used-car prep)


class LineKind(models.TextChoices):
    LABOUR = "labour", _("Labour")
    PART = "part", _("Part")
    SUBLET = "sublet", _("Sublet")  # work bought from another workshop
    FEE = "fee", _("Fee")  # e.g. environmental disposal fee


class Approval(models.TextChoices):
    PROPOSED = "proposed", _("Awaiting the customer")  # shown, not yet decided
    APPROVED = "approved", _("Approved")  # the customer agreed
    DECLINED = "declined", _("Declined")  # kept as a declined recommendation


class ApprovalChannel(models.TextChoices):
    SIGNATURE = "signature", _("Signed on the order")  # covered by the RO signature
    COUNTER = "counter", _("At the counter")
    PHONE = "phone", _("By phone")
    PORTAL = "portal", _("On the owner's link")


class SignatureKind(models.TextChoices):
    SCREEN = "screen", _("Signed on screen")
    PAPER = "paper", _("Signed on paper")


class WarrantyStatus(models.TextChoices):
    UNKNOWN = "", _("Not determined")
    IN = "in", _("In warranty")
    OUT = "out", _("Out of warranty")
    OEM_DECISION = "oem", _("Needs OEM decision")


class WarrantyScope(models.TextChoices):
    """Which of the vehicle's warranties covers an operation or part."""

    VEHICLE = "vehicle", _("Whole-vehicle warranty")
    POWERTRAIN = "powertrain", _("Powertrain / battery warranty")
    NONE = "none", _("Not covered (maintenance, wear)")


class FuelLevel(models.TextChoices):
    EMPTY = "0", _("Empty")
    QUARTER = "25", _("1/4")
    HALF = "50", _("1/2")
    THREE_QUARTERS = "75", _("3/4")
    FULL = "100", _("Full")


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Bank card")
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")
    TRANSFER = "transfer", _("Bank transfer")
    INSURER = "insurer", _("Paid by the insurer")


class OldPartsDisposition(models.TextChoices):
    TAKE_HOME = "take_home", _("Customer takes them")
    LEAVE = "leave", _("Leave at the dealer")
    RETURN_OEM = "return_oem", _("Return to the OEM (warranty)")


class JobStatus(models.TextChoices):
    """A labour line as the workshop sees it."""

    PENDING = "pending", _("Not assigned")  # waiting for the foreman
    ASSIGNED = "assigned", _("Assigned")  # technician(s) and bay set, not started
    RUNNING = "running", _("In progress")  # at least one technician clocked on
    STOPPED = "stopped", _("Stopped")  # started, nobody clocked on now
    DONE = "done", _("Done")  # finished by the technician


class ClockReason(models.TextChoices):
    """Why a technician clocked off a job."""

    FINISHED = "finished", _("Job finished")
    BREAK = "break", _("Break")
    PARTS = "parts", _("Waiting for parts")
    OTHER_JOB = "other_job", _("Moved to another job")
    END_OF_DAY = "end_of_day", _("End of the day")


class CheckKind(models.TextChoices):
    SELF = "self", _("Technician self-check")
    QC = "qc", _("QC inspection")
    DELIVERY = "delivery", _("Delivery check")


class EventKind(models.TextChoices):
    """A row of the order's timeline."""

    STATUS = "status", _("Status changed")
    LINE = "line", _("Line changed")
    APPROVAL = "approval", _("Customer decision")
    DISPATCH = "dispatch", _("Dispatch")
    CLOCK = "clock", _("Clock")
    PARTS = "parts", _("Parts")
    CHECK = "check", _("Check")
    PHOTO = "photo", _("Photo")
    NOTE = "note", _("Note")
    FOLLOW_UP = "follow_up", _("Follow-up")


class FollowUpStatus(models.TextChoices):
    OPEN = "open", _("To call")  # due, not yet reached
    DONE = "done", _("Done")  # reached and answered (or refused to answer)
    UNREACHABLE = "unreachable", _("Not reached")  # gave up after the last try
    CANCELLED = "cancelled", _("Cancelled")


class CallOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NOT_REACHED = "not_reached", _("Not reached: try again")
    DECLINED = "declined", _("Declined to answer")


class BayKind(models.TextChoices):
    GENERAL = "general", _("General repair")
    QUICK = "quick", _("Quick service")
    ALIGNMENT = "alignment", _("Alignment")
    BODY = "body", _("Body")
    PAINT = "paint", _("Paint")
    EV = "ev", _("High-voltage (EV)")


class OperationCategory(models.TextChoices):
    MAINTENANCE = "maintenance", _("Maintenance")
    DIAGNOSIS = "diagnosis", _("Diagnosis")
    ENGINE = "engine", _("Engine and powertrain")
    CHASSIS = "chassis", _("Chassis and brakes")
    ELECTRICAL = "electrical", _("Electrical")
    BODY = "body", _("Body and paint")
    HV = "hv", _("High-voltage system")
    OTHER = "other", _("Other")


# The bay kind a job of each operation category needs unless the operation says otherwise
# (``LabourOperation.bay_kind``: e.g. a wheel alignment, a chassis operation, needs the
# alignment bay).
CATEGORY_BAY = {
    OperationCategory.MAINTENANCE: BayKind.QUICK,
    OperationCategory.DIAGNOSIS: BayKind.GENERAL,
    OperationCategory.ENGINE: BayKind.GENERAL,
    OperationCategory.CHASSIS: BayKind.GENERAL,
    OperationCategory.ELECTRICAL: BayKind.GENERAL,
    OperationCategory.BODY: BayKind.BODY,
    OperationCategory.HV: BayKind.EV,
    OperationCategory.OTHER: BayKind.GENERAL,
}


def transition_diagram() -> str:
    """The transition table as a Mermaid state diagram (docs/repair-orders.md shows it; a
    test keeps the two equal)."""
    lines = ["stateDiagram-v2", "    [*] --> draft"]
    for source in ROStatus:
        for target in sorted(TRANSITIONS[source], key=list(ROStatus).index):
            lines.append(f"    {source.value} --> {target.value}")
    lines += ["    closed --> [*]", "    cancelled --> [*]"]
    return "\n".join(lines)
