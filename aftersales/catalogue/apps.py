from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogueConfig(AppConfig):
    name = "aftersales.catalogue"
    label = "catalogue"
    verbose_name = _("Vehicle catalogue")
