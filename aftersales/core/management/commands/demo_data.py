from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from aftersales.appointments.demo import load_appointments_demo, load_workshop_team_demo
from aftersales.billing.demo import load_billing_demo
from aftersales.care.demo import load as load_care_demo
from aftersales.catalogue.demo import load_catalogue_demo
from aftersales.claims.demo import load_claims_demo
from aftersales.complaints.demo import load_complaints_demo
from aftersales.core.audit import audit_channel
from aftersales.core.models import AuditChannel
from aftersales.crm.demo import load_crm_demo
from aftersales.org.demo import DEMO_PASSWORD, demo_logins, load_org_demo
from aftersales.parts.demo import load_parts_demo
from aftersales.reminders.demo import load_reminders_demo
from aftersales.workorders.demo import load_workorders_demo
from aftersales.workorders.demo_catalogue import load_workorders_catalogue_demo

# Each later issue appends its loader here; each must be idempotent and bulk.
DEMO_STEPS = [
    load_org_demo,
    load_catalogue_demo,
    load_crm_demo,
    load_parts_demo,
    load_workorders_catalogue_demo,
    load_workshop_team_demo,  # before the repair orders: their jobs go to its technicians
    load_workorders_demo,
    load_claims_demo,  # before billing: it turns some demo lines into warranty lines
    load_billing_demo,
    load_appointments_demo,  # after the repair orders: many past bookings link to them
    load_complaints_demo,
    load_reminders_demo,  # after the repair orders and bookings: returns and booked calls
    load_care_demo,
]


class Command(BaseCommand):
    help = "Load the demo data (idempotent: running it twice adds nothing)."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-logins", action="store_true")

    def handle(self, *args, **options):
        with audit_channel(AuditChannel.IMPORT):
            for step in DEMO_STEPS:
                result = step()
                self.stdout.write(f"{step.__module__}.{step.__name__}: {result}")
        if not options["quiet_logins"]:
            self.stdout.write(_("Demo logins (password for all: %s):") % DEMO_PASSWORD)
            for username, role, unit in demo_logins()[:12]:
                self.stdout.write(f"  {username:<16} {role} @ {unit}")
            self.stdout.write(_("  … and <dealer>-<role> for every dealer; see docs/index.md"))
