"""complaints pages: the agent's intake, the specialist's workbench, the complaint page
and its forms, the lists, VRT tasks, follow-ups, legal cases and the settings."""

from django.urls import path

from aftersales.complaints import views

urlpatterns = [
    path("complaints/", views.ComplaintHomeView.as_view(), name="complaint-home"),
    path("complaints/list/", views.ComplaintListView.as_view(), name="complaint-list"),
    path("complaints/new/", views.ReceiveView.as_view(), name="complaint-new"),
    path("complaints/intake/", views.IntakeView.as_view(), name="complaint-intake"),
    path("complaints/workbench/", views.WorkbenchView.as_view(), name="complaint-workbench"),
    path("complaints/vrt/", views.VrtTaskView.as_view(), name="complaint-vrt-tasks"),
    path("complaints/follow-ups/", views.FollowUpListView.as_view(), name="complaint-follow-ups"),
    path("complaints/settings/", views.SettingsView.as_view(), name="complaint-settings"),
    path(
        "complaints/settings/save/",
        views.SettingsSaveView.as_view(),
        name="complaint-settings-save",
    ),
    path(
        "complaints/settings/goodwill/",
        views.GoodwillSaveView.as_view(),
        name="complaint-goodwill-save",
    ),
    path("complaints/cases/", views.CaseListView.as_view(), name="complaint-case-list"),
    path("complaints/cases/new/", views.CaseNewView.as_view(), name="complaint-case-new"),
    path(
        "complaints/cases/<int:pk>/", views.CaseDetailView.as_view(), name="complaint-case-detail"
    ),
    path(
        "complaints/cases/<int:pk>/update/",
        views.CaseUpdateView.as_view(),
        name="complaint-case-update",
    ),
    path("complaints/<int:pk>/", views.ComplaintDetailView.as_view(), name="complaint-detail"),
    path(
        "complaints/<int:pk>/do/<slug:action>/",
        views.ComplaintActionView.as_view(),
        name="complaint-action",
    ),
]
