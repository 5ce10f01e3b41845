from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkordersConfig(AppConfig):
    name = "aftersales.workorders"
    label = "workorders"
    verbose_name = _("Service visits")

    def ready(self):
        # the service modules register their guard checks and status effects
        # (transitions.add_check / @on_enter) when imported
        from aftersales.workorders import (  # noqa: F401
            authorization,
            delivery,
            estimate,
            followup,
            orders,
            quality,
            reception,
            workshop,
        )
