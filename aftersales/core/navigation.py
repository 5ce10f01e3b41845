"""The staff navigation: each entry is shown only to users holding its permission.
Entries used all day sit in the bar; occasional ones (``more=True``) in its "More" menu,
so the bar stays on one line on a service-lane tablet."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from aftersales.core.access import user_has_perm


@dataclass(frozen=True)
class MenuEntry:
    label: str | Promise
    url_name: str
    permission: str
    icon: str = ""
    more: bool = False  # shown in the "More" drop-down rather than in the bar


MENU: list[MenuEntry] = [
    MenuEntry(
        _("Repair orders"),
        "repair-order-list",
        "workorders.view_repairorder",
        icon="card-checklist",
    ),
    MenuEntry(
        _("New repair order"), "repair-order-new", "workorders.add_repairorder", icon="plus-circle"
    ),
    MenuEntry(
        _("Workshop board"), "workshop-board", "workorders.dispatch_repairorder", icon="kanban"
    ),
    MenuEntry(
        _("Bookings"), "appointment-calendar", "appointments.view_booking", icon="calendar-week"
    ),
    MenuEntry(_("Day plan"), "day-plan", "appointments.view_dayplan", icon="diagram-3"),
    MenuEntry(_("My jobs"), "my-jobs", "workorders.work_repairorder", icon="stopwatch"),
    MenuEntry(_("QC queue"), "qc-queue", "workorders.inspect_repairorder", icon="patch-check"),
    MenuEntry(_("Follow-up calls"), "follow-up-list", "workorders.view_followup", icon="telephone"),
    # Service reminders: the DCRC's worklist in the bar; campaigns, recalls, the rules and
    # the monthly runs (the OEM's set-up) under "More".
    MenuEntry(_("Reminders"), "reminder-worklist", "reminders.view_reminder", icon="bell"),
    MenuEntry(
        _("Service campaigns"),
        "reminder-campaign-list",
        "reminders.view_campaign",
        icon="megaphone",
        more=True,
    ),
    MenuEntry(
        _("Recalls"),
        "reminder-recall-list",
        "reminders.view_recall",
        icon="exclamation-octagon",
        more=True,
    ),
    MenuEntry(
        _("Reminder rules"),
        "reminder-setup",
        "reminders.view_remindersettings",
        icon="sliders",
        more=True,
    ),
    MenuEntry(
        _("Monthly reminder runs"),
        "reminder-run-list",
        "reminders.view_reminderrun",
        icon="arrow-repeat",
        more=True,
    ),
    MenuEntry(
        _("New booking"),
        "booking-new",
        "appointments.add_booking",
        icon="calendar-plus",
        more=True,
    ),
    MenuEntry(
        _("Booking statistics"),
        "appointment-stats",
        "appointments.view_booking",
        icon="bar-chart",
        more=True,
    ),
    MenuEntry(
        _("Workshop capacity"),
        "schedule-setup",
        "appointments.view_schedulesettings",
        icon="people",
        more=True,
    ),
    MenuEntry(_("Cashier"), "billing-cashier", "billing.add_payment", icon="cash-coin"),
    MenuEntry(_("Invoices"), "invoice-list", "billing.view_invoice", icon="receipt", more=True),
    # Customer care: coupons (the cashier's redemption among them) and greetings.
    MenuEntry(
        _("Redeem a coupon"),
        "care-redeem",
        "care.redeem_coupon",
        icon="ticket-perforated",
        more=True,
    ),
    MenuEntry(_("Coupons"), "care-coupon-list", "care.view_coupon", icon="gift", more=True),
    MenuEntry(
        _("Holiday greetings"),
        "care-holiday-list",
        "care.view_holidaygreeting",
        icon="calendar-heart",
        more=True,
    ),
    MenuEntry(
        _("Cash closing"), "billing-closing", "billing.add_cashclosing", icon="safe", more=True
    ),
    MenuEntry(
        _("Settlement reports"),
        "billing-reports",
        "billing.view_payment",
        icon="graph-up",
        more=True,
    ),
    MenuEntry(
        _("Warranty claims"),
        "claim-list",
        "claims.view_warrantyclaim",
        icon="shield-check",
        more=True,
    ),
    MenuEntry(
        _("Claim review"), "claim-review-queue", "claims.review_warrantyclaim", icon="inboxes"
    ),
    MenuEntry(
        _("Claim reports"),
        "claim-reports",
        "claims.view_warrantyclaim",
        icon="bar-chart",
        more=True,
    ),
    # Complaints: one entry in the bar for the roles that work in them (it opens each
    # role's own screen); the other screens under "More".
    MenuEntry(_("Complaints"), "complaint-home", "complaints.comment_complaint", icon="megaphone"),
    MenuEntry(
        _("Complaint list"),
        "complaint-list",
        "complaints.view_complaint",
        icon="list-ul",
        more=True,
    ),
    MenuEntry(
        _("New complaint"),
        "complaint-new",
        "complaints.add_complaint",
        icon="chat-square-quote",
        more=True,
    ),
    MenuEntry(
        _("VRT tasks"),
        "complaint-vrt-tasks",
        "complaints.support_complaint",
        icon="tools",
        more=True,
    ),
    MenuEntry(
        _("Complaint follow-ups"),
        "complaint-follow-ups",
        "complaints.judge_complaint",
        icon="telephone-outbound",
        more=True,
    ),
    MenuEntry(
        _("Legal cases"),
        "complaint-case-list",
        "complaints.view_legalcase",
        icon="bank",
        more=True,
    ),
    MenuEntry(
        _("Complaint reports"),
        "complaint-reports",
        "complaints.export_complaint",
        icon="graph-up",
        more=True,
    ),
    MenuEntry(
        _("Complaint settings"),
        "complaint-settings",
        "complaints.view_complaintsettings",
        icon="sliders",
        more=True,
    ),
    MenuEntry(
        _("Reminder statistics"),
        "reminder-stats",
        "reminders.export_reminder",
        icon="funnel",
        more=True,
    ),
    MenuEntry(_("Reception lookup"), "reception", "crm.view_vehicle", icon="upc-scan"),
    MenuEntry(_("Customers"), "customer-list", "crm.view_customer", icon="person-vcard"),
    MenuEntry(_("Vehicles"), "vehicle-list", "crm.view_vehicle", icon="car-front"),
    MenuEntry(_("Duplicates"), "duplicate-list", "crm.merge_customer", icon="intersect", more=True),
    MenuEntry(
        _("Imports"), "import-list", "crm.view_importjob", icon="file-earmark-arrow-up", more=True
    ),
    MenuEntry(
        _("Vehicle catalogue"), "vehicle-model-list", "catalogue.view_vehiclemodel", icon="book"
    ),
    MenuEntry(
        _("Segment rules"), "segment-rule", "crm.view_segmentrule", icon="sliders", more=True
    ),
    MenuEntry(_("Parts"), "part-lookup", "parts.view_part", icon="gear"),
    MenuEntry(_("Stock"), "stock-list", "parts.view_stockitem", icon="boxes"),
    MenuEntry(
        _("Purchase orders"),
        "purchase-order-list",
        "parts.view_purchaseorder",
        icon="truck",
        more=True,
    ),
    MenuEntry(
        _("Stocktakes"), "stocktake-list", "parts.view_stocktake", icon="clipboard-check", more=True
    ),
    MenuEntry(
        _("Transfers"), "transfer-list", "parts.view_transfer", icon="arrow-left-right", more=True
    ),
    MenuEntry(
        _("Parts reports"), "parts-reports", "parts.view_stockmove", icon="bar-chart", more=True
    ),
    MenuEntry(
        _("Labour operations"),
        "labour-operation-list",
        "workorders.view_labouroperation",
        icon="tools",
        more=True,
    ),
    MenuEntry(
        _("Maintenance packages"),
        "package-list",
        "workorders.view_maintenancepackage",
        icon="box-seam",
        more=True,
    ),
    MenuEntry(
        _("Workshop set-up"),
        "workshop-setup",
        "workorders.view_labourrate",
        icon="sliders2",
        more=True,
    ),
    MenuEntry(
        _("VAT and discount limits"),
        "billing-settings",
        "billing.view_billingsettings",
        icon="percent",
        more=True,
    ),
    MenuEntry(_("Dealers"), "dealer-list", "org.view_dealer", icon="shop"),
    MenuEntry(_("Staff"), "staff-list", "org.view_user", icon="people", more=True),
    MenuEntry(_("Audit trail"), "audit-list", "core.view_auditlog", icon="journal-text", more=True),
    MenuEntry(
        _("Outgoing messages"), "outbox-list", "core.view_outboxmessage", icon="send", more=True
    ),
    MenuEntry(
        _("Message templates"),
        "message-template-list",
        "core.view_messagetemplate",
        icon="chat-text",
        more=True,
    ),
]


def menu_for(user, path: str = ""):
    """The menu entries ``user`` may open; the one whose address is the longest start of
    ``path`` (the page shown) is ``current`` (the day plan under /appointments/plan/, not
    the bookings at /appointments/)."""
    if not user.is_authenticated:
        return []
    items = [
        {
            "label": e.label,
            "url": reverse(e.url_name),
            "name": e.url_name,
            "icon": e.icon,
            "more": e.more,
            "current": False,
        }
        for e in MENU
        if user_has_perm(user, e.permission)
    ]
    matching = [item for item in items if path.startswith(item["url"])]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["current"] = True
    return items
