"""reminders pages: the DCRC worklist and bulk assignment, the call screen (outcome,
booking from the call, the free times), the vehicle reminder sheet, and the set-up
pages (rules and inspection schedule, campaigns, recalls, monthly runs)."""

from django.urls import path

from aftersales.reminders import views

urlpatterns = [
    path("reminders/", views.WorklistView.as_view(), name="reminder-worklist"),
    path("reminders/assign/", views.AssignView.as_view(), name="reminder-assign"),
    path("reminders/<int:pk>/", views.CallView.as_view(), name="reminder-call"),
    path("reminders/<int:pk>/call/", views.CallRecordView.as_view(), name="reminder-call-record"),
    path("reminders/<int:pk>/book/", views.CallBookView.as_view(), name="reminder-book"),
    path("reminders/<int:pk>/slots/", views.CallSlotsView.as_view(), name="reminder-slots"),
    path(
        "reminders/vehicles/<int:vehicle_id>/",
        views.VehicleSheetView.as_view(),
        name="reminder-vehicle-sheet",
    ),
    path("reminders/setup/", views.SetupView.as_view(), name="reminder-setup"),
    path("reminders/setup/rules/", views.SettingsSaveView.as_view(), name="reminder-settings-save"),
    path(
        "reminders/setup/inspection/",
        views.InspectionSaveView.as_view(),
        name="reminder-inspection-save",
    ),
    path("reminders/campaigns/", views.CampaignListView.as_view(), name="reminder-campaign-list"),
    path("reminders/campaigns/new/", views.CampaignNewView.as_view(), name="reminder-campaign-new"),
    path(
        "reminders/campaigns/<int:pk>/",
        views.CampaignEditView.as_view(),
        name="reminder-campaign-edit",
    ),
    path("reminders/recalls/", views.RecallListView.as_view(), name="reminder-recall-list"),
    path("reminders/recalls/new/", views.RecallNewView.as_view(), name="reminder-recall-new"),
    path(
        "reminders/recalls/<int:pk>/",
        views.RecallDetailView.as_view(),
        name="reminder-recall-detail",
    ),
    path(
        "reminders/recalls/<int:pk>/work/",
        views.RecallWorkView.as_view(),
        name="reminder-recall-work",
    ),
    path("reminders/runs/", views.RunListView.as_view(), name="reminder-run-list"),
    path("reminders/runs/start/", views.RunStartView.as_view(), name="reminder-run-start"),
]
