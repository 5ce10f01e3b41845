"""URLs of the owner registration API (mounted under /api/ by config/api_urls.py)."""

from django.urls import path

from aftersales.crm.api.registration_views import RegistrationConfirmView, RegistrationStartView

urlpatterns = [
    path(
        "owner/registration/start/",
        RegistrationStartView.as_view(),
        name="owner-registration-start",
    ),
    path(
        "owner/registration/confirm/",
        RegistrationConfirmView.as_view(),
        name="owner-registration-confirm",
    ),
]


def register(router):
    """Nothing on the router: these are plain views, listed in ``urlpatterns``."""
