"""reminders statistics pages (提醒统计表) and their Excel exports."""

from django.urls import path

from aftersales.reminders import views_reports

urlpatterns = [
    path(
        "reminders/statistics/",
        views_reports.ReminderStatsView.as_view(),
        name="reminder-stats",
    ),
    path(
        "reminders/statistics/export/",
        views_reports.ReminderStatsExportView.as_view(),
        name="reminder-stats-export",
    ),
    path(
        "reminders/statistics/customers/",
        views_reports.ReminderStatsListView.as_view(),
        name="reminder-stats-list",
    ),
    path(
        "reminders/statistics/customers/export/",
        views_reports.ReminderStatsListExportView.as_view(),
        name="reminder-stats-list-export",
    ),
]
