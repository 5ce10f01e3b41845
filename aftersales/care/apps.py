from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "aftersales.care"
    label = "care"
    verbose_name = _("Customer care")

    def ready(self):
        # ``redeem``: the coupon release when billing deletes a draft invoice (a pre_delete
        # receiver); ``messages``: the greeting events (also autodiscovered by core.contact)
        from aftersales.care import messages, redeem  # noqa: F401
