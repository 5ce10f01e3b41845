"""The staff navigation: each entry is shown only to users holding its permission.
Apps add their entries to ``MENU`` (in order) from their ``apps.py`` ready()."""

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


MENU: list[MenuEntry] = [
    MenuEntry(_("Dealers"), "dealer-list", "org.view_dealer", icon="shop"),
    MenuEntry(_("Staff"), "staff-list", "org.view_user", icon="people"),
    MenuEntry(_("Audit trail"), "audit-list", "core.view_auditlog", icon="journal-text"),
    MenuEntry(_("Outgoing messages"), "outbox-list", "core.view_outboxmessage", icon="send"),
]


def menu_for(user):
    if not user.is_authenticated:
        return []
    return [
        {"label": e.label, "url": reverse(e.url_name), "name": e.url_name, "icon": e.icon}
        for e in MENU
        if user_has_perm(user, e.permission)
    ]
