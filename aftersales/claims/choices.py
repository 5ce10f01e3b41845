"""Statuses of a warranty claim and the one table of allowed steps (SPEC §5).

``TRANSITIONS`` is what ``aftersales.claims.services.claim_transition`` checks every status
change against; a step not in it is refused with ``illegal_transition`` (HTTP 409).
``STEP_PERMISSION`` says which permission the actor needs at the claim's dealer: the dealer
side submits and answers, the OEM side reviews and settles.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ClaimStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")  # the dealer is preparing it; nothing sent yet
    SUBMITTED = "submitted", _("Submitted")  # with the OEM, waiting for review
    INFO_REQUESTED = "info_requested", _("Information requested")  # the OEM asked the dealer
    RESUBMITTED = "resubmitted", _("Resubmitted")  # the dealer answered; back with the OEM
    APPROVED = "approved", _("Approved")  # the OEM will pay (possibly less than claimed)
    REJECTED = "rejected", _("Rejected")  # the OEM will not pay; final
    SETTLED = "settled", _("Settled")  # the OEM paid the dealer; final


S = ClaimStatus

TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.SUBMITTED},
    S.SUBMITTED: {S.INFO_REQUESTED, S.APPROVED, S.REJECTED},
    S.INFO_REQUESTED: {S.RESUBMITTED},
    S.RESUBMITTED: {S.INFO_REQUESTED, S.APPROVED, S.REJECTED},
    S.APPROVED: {S.SETTLED},
    S.REJECTED: set(),
    S.SETTLED: set(),
}

# The permission a step into each status needs at the claim's dealer.
STEP_PERMISSION: dict[str, str] = {
    S.SUBMITTED: "claims.submit_warrantyclaim",
    S.RESUBMITTED: "claims.submit_warrantyclaim",
    S.INFO_REQUESTED: "claims.review_warrantyclaim",
    S.APPROVED: "claims.review_warrantyclaim",
    S.REJECTED: "claims.review_warrantyclaim",
    S.SETTLED: "claims.settle_warrantyclaim",
}

# With the OEM, waiting for its decision: the review queue.
IN_REVIEW = {S.SUBMITTED, S.RESUBMITTED}
# Sent and not finished (not paid, not rejected): the ageing report counts these.
OPEN = {S.SUBMITTED, S.INFO_REQUESTED, S.RESUBMITTED, S.APPROVED}
# The dealer may still change the claim's data, lines and photos.
EDITABLE = {S.DRAFT}
# The dealer may add photos (a draft, or answering the OEM's question).
PHOTOS_OPEN = {S.DRAFT, S.INFO_REQUESTED}
# Decided by the OEM.
DECIDED = {S.APPROVED, S.REJECTED, S.SETTLED}
FINAL = {S.REJECTED, S.SETTLED}


class ClaimLineKind(models.TextChoices):
    LABOUR = "labour", _("Labour")
    PART = "part", _("Part")


class ReturnStatus(models.TextChoices):
    """Where the failed part of a part line is (the OEM inspects returned parts)."""

    TO_RETURN = "to_return", _("To return")  # kept at the dealer, to be sent to the OEM
    SHIPPED = "shipped", pgettext_lazy("old part", "Shipped")  # sent to the OEM by the dealer
    RECEIVED = "received", _("Received by the OEM")  # the OEM has it
    SCRAPPED = "scrapped", _("Scrapped on the OEM's instruction")  # not wanted back


# Who may move an old part where: the dealer ships, the OEM receives or scraps.
RETURN_STEPS: dict[str, set[str]] = {
    ReturnStatus.TO_RETURN: {ReturnStatus.SHIPPED, ReturnStatus.SCRAPPED},
    ReturnStatus.SHIPPED: {ReturnStatus.RECEIVED, ReturnStatus.SCRAPPED},
    ReturnStatus.RECEIVED: set(),
    ReturnStatus.SCRAPPED: set(),
}
RETURN_PERMISSION: dict[str, str] = {
    ReturnStatus.SHIPPED: "claims.change_warrantyclaim",
    ReturnStatus.RECEIVED: "claims.review_warrantyclaim",
    ReturnStatus.SCRAPPED: "claims.review_warrantyclaim",
}


class ClaimEventKind(models.TextChoices):
    CREATED = "created", _("Created")
    STATUS = "status", _("Status changed")
    EDITED = "edited", _("Edited")
    PHOTO = "photo", _("Photo")
    RETURN = "return", _("Old part")


def transition_diagram() -> str:
    """The table as a Mermaid state diagram (the user docs show it; a test keeps them equal)."""
    lines = ["stateDiagram-v2", "    [*] --> draft"]
    for source in ClaimStatus:
        for target in sorted(TRANSITIONS[source], key=list(ClaimStatus).index):
            lines.append(f"    {source.value} --> {target.value}")
    lines += ["    rejected --> [*]", "    settled --> [*]"]
    return "\n".join(lines)
