"""The declarative role → permission table.

A permission is ``"<app>.<action>_<model>"`` (Django's naming), checked with
``user_has_perm`` and by ``Model.objects.restrict(user, action)``. A role is held at an
org unit of its level (dealer, region or OEM); the unit bounds what the permission reaches.
Later issues add their permissions here, in this one table; docs/roles.md is generated
from it (``aftersales roles-doc``) and a test keeps the two equal.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    OEM = "oem", _("OEM")
    REGION = "region", _("Region")
    DEALER = "dealer", _("Dealer")


class Role(models.TextChoices):
    # dealer roles
    SERVICE_ADVISOR = "service_advisor", _("Service advisor")
    TECHNICIAN = "technician", _("Technician")
    FOREMAN = "foreman", _("Workshop foreman / dispatcher")
    QC_INSPECTOR = "qc_inspector", _("QC inspector")
    PARTS_CLERK = "parts_clerk", _("Parts clerk")
    CASHIER = "cashier", _("Cashier")
    DCRC_AGENT = "dcrc_agent", _("DCRC agent")
    DCRC_MANAGER = "dcrc_manager", _("DCRC manager")
    SERVICE_MANAGER = "service_manager", _("Service manager")
    DEALER_ADMIN = "dealer_admin", _("Dealer administrator")
    # region roles
    REGION_MANAGER = "region_manager", _("Region manager")
    # OEM roles
    CS_AGENT = "cs_agent", _("Customer-service agent")
    COMPLAINT_SPECIALIST = "complaint_specialist", _("Complaint specialist")
    TECH_SUPPORT = "tech_support", _("Technical-support specialist")
    LEGAL = "legal", _("Legal")
    MARKETING_PR = "marketing_pr", _("Marketing / PR")
    ANALYST = "analyst", _("Analyst (read-only)")
    OEM_ADMIN = "oem_admin", _("OEM administrator")


ROLE_LEVEL = {
    **{
        r: Level.DEALER
        for r in (
            Role.SERVICE_ADVISOR,
            Role.TECHNICIAN,
            Role.FOREMAN,
            Role.QC_INSPECTOR,
            Role.PARTS_CLERK,
            Role.CASHIER,
            Role.DCRC_AGENT,
            Role.DCRC_MANAGER,
            Role.SERVICE_MANAGER,
            Role.DEALER_ADMIN,
        )
    },
    Role.REGION_MANAGER: Level.REGION,
    **{
        r: Level.OEM
        for r in (
            Role.CS_AGENT,
            Role.COMPLAINT_SPECIALIST,
            Role.TECH_SUPPORT,
            Role.LEGAL,
            Role.MARKETING_PR,
            Role.ANALYST,
            Role.OEM_ADMIN,
        )
    },
}

# Every staff member may see the org units they work in and their own history, the vehicle
# catalogue, and the customers and vehicles their unit has a relationship with.
_STAFF = {
    "org.view_dealer",
    "org.view_region",
    "catalogue.view_brand",
    "catalogue.view_vehiclemodel",
    "catalogue.view_variant",
    "crm.view_customer",
    "crm.view_vehicle",
    "crm.view_customertag",
    "crm.view_servicevisit",
}
# Managers read the staff list, the audit trail of their scope and the segment thresholds.
_SUPERVISE = _STAFF | {
    "org.view_user",
    "core.view_auditlog",
    "core.view_outboxmessage",
    "crm.view_segmentrule",
}
_ADMIN = _SUPERVISE | {"org.change_dealer", "org.change_user", "org.change_roleassignment"}
# Front-line people who call owners see full phone numbers; the others see 138****1234.
_CONTACT = {"crm.contact_customer"}
# Those who register and correct customers and vehicles.
_KEEP_RECORDS = _CONTACT | {
    "crm.add_customer",
    "crm.change_customer",
    "crm.add_vehicle",
    "crm.change_vehicle",
    "crm.add_customertag",
}
_CRM_MANAGE = _KEEP_RECORDS | {
    "crm.merge_customer",
    "crm.export_customer",
    "crm.import_customer",
    "crm.view_importjob",
}
_CATALOGUE_ADMIN = {
    "catalogue.add_brand",
    "catalogue.change_brand",
    "catalogue.add_vehiclemodel",
    "catalogue.change_vehiclemodel",
    "catalogue.add_variant",
    "catalogue.change_variant",
    "crm.change_segmentrule",
}

# Parts: everyone who quotes or plans work sees the catalogue and what is in stock.
_PARTS_LOOKUP = {"parts.view_part", "parts.view_stockitem", "parts.view_warehouse"}
_PARTS_READ = _PARTS_LOOKUP | {
    "parts.view_stockmove",
    "parts.view_reservation",
    "parts.view_purchaseorder",
    "parts.view_stocktake",
    "parts.view_transfer",
}
# The parts clerk runs the store: receipts, issues, counts, transfers, reorder points.
_PARTS_CLERK = _PARTS_READ | {
    "parts.change_stockitem",
    "parts.issue_stockitem",
    "parts.add_reservation",
    "parts.change_reservation",
    "parts.add_purchaseorder",
    "parts.change_purchaseorder",
    "parts.receive_purchaseorder",
    "parts.add_stocktake",
    "parts.count_stocktake",
    "parts.add_transfer",
    "parts.change_transfer",
    "parts.change_warehouse",
    "parts.export_stockmove",
}
# Approving stock write-offs and giving parts to another dealer is the manager's call.
_PARTS_APPROVE = {"parts.adjust_stockitem", "parts.approve_stocktake", "parts.approve_transfer"}
_PARTS_CATALOGUE = {"parts.add_part", "parts.change_part"}

# Service visits: everyone in the workshop reads the orders and the labour catalogue.
_RO_READ = {
    "workorders.view_repairorder",
    "workorders.view_labouroperation",
    "workorders.view_maintenancepackage",
    "workorders.view_labourrate",
    "workorders.view_workshopbay",
}
# The service advisor receives the car, writes the estimate, records the customer's
# decisions and hands the car back.
_RO_ADVISE = _RO_READ | {
    "workorders.add_repairorder",
    "workorders.change_repairorder",
    "workorders.authorize_repairorder",
    "workorders.deliver_repairorder",
    "workorders.cancel_repairorder",
}
_FOLLOW_UP = {"workorders.view_followup", "workorders.change_followup"}
# The dealer's own set-up: labour rates, bays, follow-up and comeback settings.
_RO_SETUP = {
    "workorders.change_labourrate",
    "workorders.add_workshopbay",
    "workorders.change_workshopbay",
    "workorders.view_servicesettings",
    "workorders.change_servicesettings",
}
_RO_CATALOGUE = {
    "workorders.add_labouroperation",
    "workorders.change_labouroperation",
    "workorders.add_maintenancepackage",
    "workorders.change_maintenancepackage",
}

# Settlement: the advisor prepares the invoice and may give a discount up to the limit of
# the role; the cashier takes payments, refunds and closes the day.
_BILL_READ = {"billing.view_invoice", "billing.view_payment"}
_BILL_PREPARE = _BILL_READ | {"billing.add_invoice", "billing.discount_invoice"}
_CASHIER = _BILL_PREPARE | {
    "billing.add_payment",
    "billing.refund_payment",
    "billing.add_creditnote",
    "billing.view_cashclosing",
    "billing.add_cashclosing",
}
_BILL_SETUP = {"billing.view_billingsettings", "billing.change_billingsettings"}
# Warranty claims: the dealer writes and submits them, the OEM reviews and settles them.
_CLAIM_READ = {"claims.view_warrantyclaim"}
_CLAIM_WRITE = _CLAIM_READ | {
    "claims.add_warrantyclaim",
    "claims.change_warrantyclaim",
    "claims.submit_warrantyclaim",
}
_CLAIM_REVIEW = _CLAIM_READ | {"claims.review_warrantyclaim", "claims.settle_warrantyclaim"}
_CLAIM_CODES = {
    "claims.view_symptomcode",
    "claims.add_symptomcode",
    "claims.change_symptomcode",
    "claims.view_causecode",
    "claims.add_causecode",
    "claims.change_causecode",
}

# Appointments: advisors and DCRC agents book, move and cancel; the advisor checks the car
# in; the foreman plans the day; the service manager sets up the capacity.
_BOOK_READ = {"appointments.view_booking", "appointments.view_dayplan"}
_BOOK = _BOOK_READ | {
    "appointments.add_booking",
    "appointments.change_booking",
    "appointments.cancel_booking",
}
_PLAN = _BOOK_READ | {"appointments.change_dayplan"}
_SCHEDULE_SETUP = {"appointments.view_schedulesettings", "appointments.change_schedulesettings"}

# Complaints (SPEC §9): the agent receives and judges, the specialist files, assigns,
# escalates and closes, technical support runs the VRT, the dealer handles, the region
# supervises, the managers of the goodwill matrix decide escalations.
_COMPLAINT_READ = {"complaints.view_complaint"}
_COMPLAINT_FORWARD = _COMPLAINT_READ | {"complaints.add_complaint"}
_COMPLAINT_HANDLE = _COMPLAINT_FORWARD | {
    "complaints.handle_complaint",
    "complaints.comment_complaint",
}
_COMPLAINT_AGENT = _COMPLAINT_FORWARD | {
    "complaints.judge_complaint",
    "complaints.comment_complaint",
}
_COMPLAINT_SPECIALIST = _COMPLAINT_AGENT | {
    "complaints.file_complaint",
    "complaints.escalate_complaint",
    "complaints.close_complaint",
    "complaints.export_complaint",
    "complaints.view_legalcase",
    "complaints.add_legalcase",
    "complaints.change_legalcase",
    "complaints.view_complaintsettings",
}
_COMPLAINT_LEGAL = _COMPLAINT_READ | {
    "complaints.comment_complaint",
    "complaints.view_legalcase",
    "complaints.add_legalcase",
    "complaints.change_legalcase",
}

_REMIND_READ = {"reminders.view_reminder", "reminders.view_campaign", "reminders.view_recall"}
_REMIND_READ |= {"reminders.view_remindermessage", "core.view_messagetemplate"}
_REMIND_WORK = _REMIND_READ | {"reminders.work_reminder"}
_REMIND_MANAGE = _REMIND_WORK | {
    "reminders.assign_reminder",
    "reminders.export_reminder",
    "reminders.view_remindersettings",
    "reminders.view_reminderrun",
}
_REMIND_LOCAL_CAMPAIGNS = {"reminders.add_campaign", "reminders.change_campaign"}
_REMIND_SETUP = {
    "reminders.view_remindersettings",
    "reminders.change_remindersettings",
    "reminders.view_inspectionstep",
    "reminders.change_inspectionstep",
    "reminders.add_campaign",
    "reminders.change_campaign",
    "reminders.add_recall",
    "reminders.change_recall",
    "reminders.view_reminderrun",
    "reminders.add_reminderrun",
    "core.add_messagetemplate",
    "core.change_messagetemplate",
    "core.delete_messagetemplate",
}

PERMISSIONS: dict[str, frozenset[str]] = {
    Role.SERVICE_ADVISOR: frozenset(
        _STAFF
        | _KEEP_RECORDS
        | _PARTS_LOOKUP
        | _RO_ADVISE
        | _BILL_PREPARE
        | _CLAIM_WRITE
        | _BOOK
        | {"appointments.checkin_booking", "appointments.view_schedulesettings"}
        | {"parts.add_reservation", "parts.view_reservation", "parts.change_reservation"}
        # sees the recalls and records recall work done on the dealer's orders
        | {"reminders.view_recall", "reminders.change_recall"}
        | _COMPLAINT_FORWARD
    ),
    Role.TECHNICIAN: frozenset(
        _STAFF | _PARTS_LOOKUP | _RO_READ | {"workorders.work_repairorder"} | _BOOK_READ
    ),
    Role.FOREMAN: frozenset(
        _STAFF
        | _PARTS_LOOKUP
        | _RO_READ
        | _PLAN
        | {"appointments.view_schedulesettings"}
        | {"org.view_user", "workorders.dispatch_repairorder", "workorders.work_repairorder"}
    ),
    Role.QC_INSPECTOR: frozenset(_STAFF | _RO_READ | {"workorders.inspect_repairorder"}),
    Role.PARTS_CLERK: frozenset(_STAFF | _PARTS_CLERK | {"workorders.view_repairorder"}),
    Role.CASHIER: frozenset(
        _STAFF
        | _CONTACT
        | _CASHIER
        | {"workorders.view_repairorder", "workorders.close_repairorder"}
    ),
    Role.DCRC_AGENT: frozenset(
        _STAFF
        | _CONTACT
        | _FOLLOW_UP
        | _BOOK
        | {"crm.change_customer", "workorders.view_repairorder"}
        | _COMPLAINT_FORWARD
        | _REMIND_WORK
    ),
    Role.DCRC_MANAGER: frozenset(
        _STAFF
        | _CONTACT
        | _FOLLOW_UP
        | _BOOK
        | {
            "org.view_user",
            "crm.change_customer",
            "crm.merge_customer",
            "crm.export_customer",
            "workorders.view_repairorder",
            "workorders.view_servicesettings",
        }
        | _COMPLAINT_HANDLE
        | _REMIND_MANAGE
    ),
    Role.SERVICE_MANAGER: frozenset(
        _SUPERVISE
        | _CRM_MANAGE
        | _PARTS_CLERK
        | _PARTS_APPROVE
        | _RO_ADVISE
        | _RO_SETUP
        | _CASHIER
        | _BILL_SETUP
        | _CLAIM_WRITE
        | _BOOK
        | _PLAN
        | _SCHEDULE_SETUP
        | {
            "appointments.checkin_booking",
            "crm.reveal_customer",
            "workorders.dispatch_repairorder",
            "workorders.view_followup",
        }
        | _COMPLAINT_HANDLE
        | {"complaints.decide_complaint"}
        | _REMIND_MANAGE
        | _REMIND_LOCAL_CAMPAIGNS
    ),
    Role.DEALER_ADMIN: frozenset(
        _ADMIN
        | _CRM_MANAGE
        | _PARTS_READ
        | _RO_READ
        | _RO_SETUP
        | _BILL_READ
        | _BILL_SETUP
        | _CLAIM_READ
        | _BOOK_READ
        | _SCHEDULE_SETUP
        | {"parts.change_warehouse", "crm.reveal_customer"}
        | _COMPLAINT_READ
        | _REMIND_READ
    ),
    Role.REGION_MANAGER: frozenset(
        _SUPERVISE
        | _CONTACT
        | _PARTS_READ
        | _RO_READ
        | _BILL_READ
        | _CLAIM_READ
        | _BOOK_READ
        | {
            "crm.export_customer",
            "parts.export_stockmove",
            "workorders.view_followup",
            "workorders.view_servicesettings",
        }
        | _COMPLAINT_READ
        | {
            "complaints.comment_complaint",
            "complaints.decide_complaint",
            "complaints.export_complaint",
        }
        | _REMIND_READ
        | {"reminders.export_reminder"}
    ),
    Role.CS_AGENT: frozenset(
        _STAFF
        | _KEEP_RECORDS
        | {"crm.merge_customer", "workorders.view_repairorder"}
        | _COMPLAINT_AGENT
    ),
    Role.COMPLAINT_SPECIALIST: frozenset(
        _STAFF
        | _CONTACT
        | {"crm.reveal_customer", "workorders.view_repairorder"}
        | _COMPLAINT_SPECIALIST
    ),
    Role.TECH_SUPPORT: frozenset(
        _STAFF
        | _PARTS_LOOKUP
        | _RO_READ
        | _CLAIM_REVIEW
        | _COMPLAINT_READ
        | {"complaints.support_complaint", "complaints.comment_complaint"}
    ),
    Role.LEGAL: frozenset(_STAFF | {"crm.reveal_customer"} | _COMPLAINT_LEGAL),
    Role.MARKETING_PR: frozenset(_STAFF | _COMPLAINT_LEGAL),
    Role.ANALYST: frozenset(
        _SUPERVISE
        | _PARTS_READ
        | _RO_READ
        | _BILL_READ
        | _CLAIM_READ
        | _BOOK_READ
        | {"workorders.view_followup", "workorders.view_servicesettings"}
        | _COMPLAINT_READ
        | {"complaints.export_complaint", "complaints.view_legalcase"}
        | _REMIND_READ
        | {"reminders.export_reminder"}
    ),
    Role.OEM_ADMIN: frozenset(
        _ADMIN
        | _CRM_MANAGE
        | _CATALOGUE_ADMIN
        | _PARTS_READ
        | _PARTS_CATALOGUE
        | _RO_READ
        | _RO_CATALOGUE
        | _BILL_READ
        | _CLAIM_REVIEW
        | _CLAIM_CODES
        | {
            "org.change_region",
            "crm.reveal_customer",
            "parts.export_stockmove",
            "workorders.view_followup",
            "workorders.view_servicesettings",
        }
        | _COMPLAINT_READ
        | {
            "complaints.decide_complaint",
            "complaints.export_complaint",
            "complaints.view_legalcase",
            "complaints.view_complaintsettings",
            "complaints.change_complaintsettings",
            "complaints.view_goodwilllevel",
            "complaints.change_goodwilllevel",
        }
        | _REMIND_READ
        | {"reminders.export_reminder"}
        | _REMIND_SETUP
    ),
}

# Customer care (coupons, greetings): the cashier redeems coupons at settlement; advisors,
# DCRC managers and dealer administrators give goodwill coupons; the OEM's marketing and
# administrators plan the greetings (a dealer administrator those of the dealer); the
# analyst and the region read.
_CARE_VIEW = {"care.view_coupon", "care.view_holidaygreeting", "care.view_greetingsettings"}
_CARE_GOODWILL = _CARE_VIEW | {"care.add_coupon", "care.void_coupon"}
_CARE_GREETINGS = {
    "care.add_holidaygreeting",
    "care.change_holidaygreeting",
    "care.change_greetingsettings",
}
_CARE = {
    Role.CASHIER: {"care.view_coupon", "care.redeem_coupon"},
    Role.SERVICE_ADVISOR: {"care.view_coupon", "care.add_coupon"},
    Role.DCRC_AGENT: {"care.view_coupon"},
    Role.DCRC_MANAGER: _CARE_GOODWILL,
    Role.SERVICE_MANAGER: _CARE_GOODWILL | {"care.redeem_coupon"},
    Role.DEALER_ADMIN: _CARE_GOODWILL | _CARE_GREETINGS,
    Role.REGION_MANAGER: _CARE_VIEW,
    Role.COMPLAINT_SPECIALIST: {"care.view_coupon", "care.add_coupon"},
    Role.MARKETING_PR: _CARE_GOODWILL | _CARE_GREETINGS,
    Role.ANALYST: _CARE_VIEW,
    Role.OEM_ADMIN: _CARE_GOODWILL | _CARE_GREETINGS,
}
PERMISSIONS.update({role: PERMISSIONS[role] | perms for role, perms in _CARE.items()})

ALL_PERMISSIONS = frozenset().union(*PERMISSIONS.values())

PERMISSION_LABELS = {
    "org.view_dealer": _("See dealers"),
    "org.change_dealer": _("Edit dealers"),
    "org.view_region": _("See regions"),
    "org.change_region": _("Edit regions"),
    "org.view_user": _("See staff"),
    "org.change_user": _("Manage staff accounts"),
    "org.change_roleassignment": _("Grant and revoke roles"),
    "core.view_auditlog": _("Read the audit trail"),
    "core.view_outboxmessage": _("See outgoing messages and their delivery status"),
    "catalogue.view_brand": _("See the vehicle brands"),
    "catalogue.view_vehiclemodel": _(
        "See the vehicle models, their warranty and service intervals"
    ),
    "catalogue.view_variant": _("See the vehicle variants"),
    "catalogue.add_brand": _("Add brands"),
    "catalogue.change_brand": _("Edit brands"),
    "catalogue.add_vehiclemodel": _("Add vehicle models"),
    "catalogue.change_vehiclemodel": _("Edit vehicle models, warranty terms and service intervals"),
    "catalogue.add_variant": _("Add variants"),
    "catalogue.change_variant": _("Edit variants"),
    "crm.view_customer": _("See customers"),
    "crm.add_customer": _("Register customers"),
    "crm.change_customer": _("Edit customers"),
    "crm.contact_customer": _("See full phone numbers"),
    "crm.reveal_customer": _("Reveal full resident ID numbers (audited)"),
    "crm.merge_customer": _("Merge duplicate customers"),
    "crm.import_customer": _("Import customers and vehicles"),
    "crm.export_customer": _("Export customer and vehicle lists"),
    "crm.view_importjob": _("See imports and their error reports"),
    "crm.view_vehicle": _("See vehicles"),
    "crm.add_vehicle": _("Register vehicles"),
    "crm.change_vehicle": _("Edit vehicles, record odometer readings, transfer ownership"),
    "crm.view_customertag": _("See customer tags"),
    "crm.add_customertag": _("Create customer tags"),
    "crm.view_servicevisit": _("See service visit history"),
    "crm.view_segmentrule": _("See the segmentation thresholds"),
    "crm.change_segmentrule": _("Change the segmentation thresholds"),
    "parts.view_part": _("Look up parts, prices and VIN fitment"),
    "parts.add_part": _("Add parts to the catalogue"),
    "parts.change_part": _("Edit parts, prices, supersession and fitment"),
    "parts.view_warehouse": _("See warehouses and bins"),
    "parts.change_warehouse": _("Set up warehouses and bins"),
    "parts.view_stockitem": _("See stock: on hand, reserved, available"),
    "parts.change_stockitem": _("Set reorder points and default bins; move stock between bins"),
    "parts.issue_stockitem": _("Issue parts and take returns"),
    "parts.adjust_stockitem": _("Adjust stock by hand (write-offs and finds)"),
    "parts.view_stockmove": _("Read the stock ledger and the parts reports"),
    "parts.view_reservation": _("See reservations"),
    "parts.add_reservation": _("Reserve parts for a document"),
    "parts.change_reservation": _("Release reservations"),
    "parts.view_purchaseorder": _("See purchase orders and receipts"),
    "parts.add_purchaseorder": _("Write purchase orders"),
    "parts.change_purchaseorder": _("Submit and cancel purchase orders"),
    "parts.receive_purchaseorder": _("Receive goods against purchase orders"),
    "parts.view_stocktake": _("See stocktakes"),
    "parts.add_stocktake": _("Start stocktakes"),
    "parts.count_stocktake": _("Enter stocktake counts"),
    "parts.approve_stocktake": _("Approve stocktake variances"),
    "parts.view_transfer": _("See transfers"),
    "parts.add_transfer": _("Request transfers"),
    "parts.change_transfer": _("Ship, receive and cancel transfers"),
    "parts.approve_transfer": _("Approve transfers to another dealer"),
    "parts.export_stockmove": _("Export parts reports to Excel"),
    "billing.view_invoice": _("See invoices and credit notes"),
    "billing.add_invoice": _("Prepare and issue invoices from repair orders"),
    "billing.discount_invoice": _("Give discounts up to the role's limit"),
    "billing.add_creditnote": _("Issue credit notes against invoices"),
    "billing.view_payment": _("See payments"),
    "billing.add_payment": _("Take payments"),
    "billing.refund_payment": _("Refund payments"),
    "billing.view_cashclosing": _("See cash closings"),
    "billing.add_cashclosing": _("Close the cash day"),
    "billing.view_billingsettings": _("See VAT and discount limits"),
    "appointments.view_booking": _("See bookings, the booking calendar and its statistics"),
    "appointments.add_booking": _("Take bookings"),
    "appointments.change_booking": _("Confirm and reschedule bookings"),
    "appointments.cancel_booking": _("Cancel bookings"),
    "appointments.checkin_booking": _("Check in booked cars (opens their repair orders)"),
    "appointments.view_dayplan": _("See the workshop's day plan"),
    "appointments.change_dayplan": _("Plan the day: optimise, pin and move jobs"),
    "appointments.view_schedulesettings": _("See the workshop's capacity set-up"),
    "appointments.change_schedulesettings": _(
        "Set up capacity: booking rules, closed days, technicians, advisors, absences"
    ),
    "billing.change_billingsettings": _("Set VAT and discount limits"),
    "claims.view_warrantyclaim": _("See warranty claims"),
    "claims.view_symptomcode": _("See the symptom codes of claims"),
    "claims.add_symptomcode": _("Add symptom codes"),
    "claims.change_symptomcode": _("Edit symptom codes"),
    "claims.view_causecode": _("See the cause codes of claims"),
    "claims.add_causecode": _("Add cause codes"),
    "claims.change_causecode": _("Edit cause codes"),
    "claims.add_warrantyclaim": _("Create warranty claims from repair orders"),
    "claims.change_warrantyclaim": _("Edit draft warranty claims"),
    "claims.submit_warrantyclaim": _("Submit warranty claims to the OEM"),
    "claims.review_warrantyclaim": _("Review warranty claims (approve, reject, ask for more)"),
    "claims.settle_warrantyclaim": _("Record warranty claims as paid"),
    "complaints.view_complaint": _("See complaints"),
    "complaints.add_complaint": _("Receive complaints or forward them to the OEM"),
    "complaints.judge_complaint": _("Judge complaints valid or invalid; satisfaction follow-up"),
    "complaints.file_complaint": _("File, classify, grade and assign complaints"),
    "complaints.handle_complaint": _("Submit and carry out the dealer's handling plan"),
    "complaints.support_complaint": _("Record VRT conclusions and technical solutions"),
    "complaints.escalate_complaint": _("Escalate complaints"),
    "complaints.decide_complaint": _("Decide escalated complaints and goodwill"),
    "complaints.close_complaint": _("Close and reopen complaints"),
    "complaints.comment_complaint": _("Comment on complaints"),
    "complaints.export_complaint": _("Complaint reports and exports"),
    "complaints.view_legalcase": _("See arbitrations, lawsuits and crises"),
    "complaints.add_legalcase": _("Record arbitrations, lawsuits and crises"),
    "complaints.change_legalcase": _("Update arbitrations, lawsuits and crises"),
    "complaints.view_complaintsettings": _("See the complaint rules"),
    "complaints.change_complaintsettings": _("Change the complaint time limits and rules"),
    "complaints.view_goodwilllevel": _("See the goodwill authorization matrix"),
    "complaints.change_goodwilllevel": _("Change the goodwill authorization matrix"),
    "workorders.view_repairorder": _("See repair orders, their lines, jobs and timeline"),
    "workorders.add_repairorder": _("Receive vehicles and open repair orders"),
    "workorders.change_repairorder": _("Write estimates and edit open repair orders"),
    "workorders.authorize_repairorder": _("Record the customer's signature and decisions"),
    "workorders.dispatch_repairorder": _("Dispatch jobs to technicians and bays"),
    "workorders.work_repairorder": _("Clock on and off jobs; technician self-check"),
    "workorders.inspect_repairorder": _("Inspect finished work (QC)"),
    "workorders.deliver_repairorder": _("Hand vehicles back to customers"),
    "workorders.close_repairorder": _("Close settled repair orders"),
    "workorders.cancel_repairorder": _("Cancel repair orders before work starts"),
    "workorders.view_labouroperation": _("See labour operations and standard hours"),
    "workorders.add_labouroperation": _("Add labour operations"),
    "workorders.change_labouroperation": _("Edit labour operations and standard hours"),
    "workorders.view_maintenancepackage": _("See maintenance packages"),
    "workorders.add_maintenancepackage": _("Add maintenance packages"),
    "workorders.change_maintenancepackage": _("Edit maintenance packages"),
    "workorders.view_labourrate": _("See labour rates"),
    "workorders.change_labourrate": _("Set the dealer's labour rates"),
    "workorders.view_workshopbay": _("See work bays"),
    "workorders.add_workshopbay": _("Add work bays"),
    "workorders.change_workshopbay": _("Edit work bays"),
    "workorders.view_servicesettings": _("See follow-up and comeback settings"),
    "workorders.change_servicesettings": _("Change follow-up and comeback settings"),
    "workorders.view_followup": _("See follow-up calls and their scores"),
    "workorders.change_followup": _("Make follow-up calls and record the answers"),
    "reminders.view_reminder": _("See service reminders and their outcomes"),
    "reminders.work_reminder": _("Work the reminder list and record call outcomes"),
    "reminders.assign_reminder": _("Assign reminders to DCRC agents"),
    "reminders.export_reminder": _("Reminder statistics and exports"),
    "reminders.view_campaign": _("See service campaigns"),
    "reminders.add_campaign": _(
        "Create service campaigns (national at OEM level, local at a dealer)"
    ),
    "reminders.change_campaign": _("Edit and end service campaigns"),
    "reminders.view_recall": _("See recalls and recalled vehicles"),
    "reminders.add_recall": _("Create recalls from a VIN list"),
    "reminders.change_recall": _("Change recalls and record recall work done by hand"),
    "reminders.view_remindersettings": _("See the reminder rules"),
    "reminders.change_remindersettings": _("Change the reminder rules"),
    "reminders.view_inspectionstep": _("See the annual-inspection schedule"),
    "reminders.change_inspectionstep": _("Change the annual-inspection schedule"),
    "care.view_coupon": _("See coupons"),
    "care.add_coupon": _("Give coupons (goodwill) to customers"),
    "care.void_coupon": _("Void coupons"),
    "care.redeem_coupon": _("Redeem coupons on invoices at the cashier"),
    "care.view_holidaygreeting": _("See holiday greetings"),
    "care.add_holidaygreeting": _("Plan holiday greetings"),
    "care.change_holidaygreeting": _("Cancel holiday greetings"),
    "care.view_greetingsettings": _("See the greeting settings"),
    "care.change_greetingsettings": _("Change the birthday greeting and its coupon"),
    "reminders.view_reminderrun": _("See the monthly reminder runs"),
    "reminders.add_reminderrun": _("Start the monthly reminder run for a dealer and month"),
    "reminders.view_remindermessage": _("See the WeChat and text messages sent about reminders"),
    "core.view_messagetemplate": _("See the customer message templates"),
    "core.add_messagetemplate": _("Add customer message templates"),
    "core.change_messagetemplate": _("Change customer message templates"),
    "core.delete_messagetemplate": _("Delete customer message templates"),
}


def roles_with(permission: str) -> list[str]:
    """Roles that grant a permission (used by the access test matrix)."""
    return [role for role, perms in PERMISSIONS.items() if permission in perms]


def roles_without(permission: str, level: str | None = None) -> list[str]:
    return [
        role
        for role, perms in PERMISSIONS.items()
        if permission not in perms and (level is None or ROLE_LEVEL[role] == level)
    ]
