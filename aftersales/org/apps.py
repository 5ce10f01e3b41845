from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "aftersales.org"
    label = "org"
    verbose_name = _("Organisation")

    def ready(self):
        from django.contrib import admin

        from aftersales.org.admin import admin_site_has_permission

        admin.site.has_permission = admin_site_has_permission

        from aftersales.org.authentication import connect_signals

        connect_signals()
