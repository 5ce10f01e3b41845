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

# Every staff member may see the org units they work in and their own history.
_STAFF = {"org.view_dealer", "org.view_region"}
# Managers read the staff list and the audit trail of their scope.
_SUPERVISE = _STAFF | {"org.view_user", "core.view_auditlog", "core.view_outboxmessage"}
_ADMIN = _SUPERVISE | {"org.change_dealer", "org.change_user", "org.change_roleassignment"}

PERMISSIONS: dict[str, frozenset[str]] = {
    Role.SERVICE_ADVISOR: frozenset(_STAFF),
    Role.TECHNICIAN: frozenset(_STAFF),
    Role.FOREMAN: frozenset(_STAFF | {"org.view_user"}),
    Role.QC_INSPECTOR: frozenset(_STAFF),
    Role.PARTS_CLERK: frozenset(_STAFF),
    Role.CASHIER: frozenset(_STAFF),
    Role.DCRC_AGENT: frozenset(_STAFF),
    Role.DCRC_MANAGER: frozenset(_STAFF | {"org.view_user"}),
    Role.SERVICE_MANAGER: frozenset(_SUPERVISE),
    Role.DEALER_ADMIN: frozenset(_ADMIN),
    Role.REGION_MANAGER: frozenset(_SUPERVISE),
    Role.CS_AGENT: frozenset(_STAFF),
    Role.COMPLAINT_SPECIALIST: frozenset(_STAFF),
    Role.TECH_SUPPORT: frozenset(_STAFF),
    Role.LEGAL: frozenset(_STAFF),
    Role.MARKETING_PR: frozenset(_STAFF),
    Role.ANALYST: frozenset(_SUPERVISE),
    Role.OEM_ADMIN: frozenset(_ADMIN | {"org.change_region"}),
}

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
