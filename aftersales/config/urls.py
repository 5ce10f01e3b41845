from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from aftersales.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # browsers ask for /favicon.ico when a page names no icon (the API docs, a PDF)
    path(
        "favicon.ico",
        RedirectView.as_view(url=static("img/favicon.svg"), permanent=True),
        name="favicon",
    ),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("api/auth/", include("aftersales.org.api.auth_urls")),
    path("api/", include(("aftersales.config.api_urls", "api"))),
    path("", include("aftersales.core.urls")),
    path("", include("aftersales.org.urls")),
    path("", include("aftersales.catalogue.urls")),
    path("", include("aftersales.crm.urls")),
    path("", include("aftersales.parts.urls")),
    path("", include("aftersales.workorders.urls")),
    path("", include("aftersales.billing.urls")),
    path("", include("aftersales.claims.urls")),
    path("", include("aftersales.appointments.urls")),
    path("", include("aftersales.complaints.urls")),
    path("", include("aftersales.reminders.urls")),
    path("", include("aftersales.care.urls")),
]
