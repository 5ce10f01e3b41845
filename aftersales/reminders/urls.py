"""reminders pages: the DCRC worklist, call screen and set-up (urls_pages) and the
statistics (urls_reports)."""

from django.urls import include, path

urlpatterns = [
    path("", include("aftersales.reminders.urls_pages")),
    path("", include("aftersales.reminders.urls_reports")),
]
