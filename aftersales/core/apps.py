from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "aftersales.core"
    label = "core"
    verbose_name = _("Platform")

    def ready(self):
        # Register the outbox channels that live outside outbox.py in every process (web,
        # worker, embedded runner), not only where the URLconf happens to import them.
        from aftersales.core import sms, wechat  # noqa: F401
