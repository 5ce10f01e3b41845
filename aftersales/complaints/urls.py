"""complaints pages: the workbench, screens and forms (urls_pages) and the reports
(urls_reports)."""

from django.urls import include, path

urlpatterns = [
    path("", include("aftersales.complaints.urls_pages")),
    path("", include("aftersales.complaints.urls_reports")),
]
