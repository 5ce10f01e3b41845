"""Complaints in the customer 360 timeline (issue 8 item 12): each complaint of the
customer the viewer may see, when it was received, with its type, grade, status and
handling dealer. Autodiscovered by ``crm.timeline.customer_timeline``; one query of at
most ``limit`` rows, scoped with ``restrict``."""

from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.crm.timeline import TimelineEntry, timeline_source


@timeline_source("complaints.complaint")
def complaint_entries(customer, user, limit, before):
    from aftersales.complaints.models import Complaint

    rows = Complaint.objects.restrict(user, "view").filter(customer=customer)
    rows = rows.select_related("dealer", "vehicle")
    if before is not None:
        rows = rows.filter(received_at__lt=before)
    for complaint in rows.order_by("-received_at", "-id")[:limit]:
        facts = [complaint.get_status_display(), complaint.get_channel_display()]
        if complaint.category:
            facts.insert(0, f"{complaint.get_category_display()} · {complaint.get_grade_display()}")
        if complaint.dealer_id:
            facts.append(complaint.dealer.name)
        yield TimelineEntry(
            at=complaint.received_at,
            kind="complaints.complaint",
            title=_("Complaint %(number)s: %(subject)s")
            % {"number": complaint.number, "subject": complaint.subject},
            detail=" · ".join(str(f) for f in facts),
            url=reverse("complaint-detail", args=[complaint.pk]),
            icon="megaphone",
        )
