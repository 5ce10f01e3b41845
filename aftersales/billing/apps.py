from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "aftersales.billing"
    label = "billing"
    verbose_name = _("Settlement and cashier")

    def ready(self):
        # the close guard and the close at hand-over register with the repair order's
        # state machine when imported
        from aftersales.billing import settlement  # noqa: F401
