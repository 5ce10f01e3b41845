"""complaints report pages and Excel export."""

from django.urls import path

from aftersales.complaints import views_reports

urlpatterns = [
    path(
        "complaints/reports/",
        views_reports.ComplaintReportsView.as_view(),
        name="complaint-reports",
    ),
    path(
        "complaints/reports/export/",
        views_reports.ComplaintReportsExportView.as_view(),
        name="complaint-reports-export",
    ),
]
