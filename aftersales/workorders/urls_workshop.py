"""Pages of the workshop area: the boards, the technician's jobs, the work panel of the
repair-order page and its actions (htmx POSTs)."""

from django.urls import path

from aftersales.workorders import views_workshop as views

urlpatterns = [
    path("repair-orders/", views.RepairOrderListView.as_view(), name="repair-order-list"),
    path("workshop/board/", views.WorkshopBoardView.as_view(), name="workshop-board"),
    path("workshop/my-jobs/", views.MyJobsView.as_view(), name="my-jobs"),
    path("repair-orders/<int:pk>/work/", views.WorkPanelView.as_view(), name="ro-work-panel"),
    path("repair-orders/<int:pk>/work/pause/", views.PauseAction.as_view(), name="ro-work-pause"),
    path(
        "repair-orders/<int:pk>/work/wait-for-parts/",
        views.WaitForPartsAction.as_view(),
        name="ro-work-wait",
    ),
    path(
        "repair-orders/<int:pk>/work/resume/",
        views.ResumeAction.as_view(),
        name="ro-work-resume",
    ),
    path(
        "repair-orders/jobs/<int:pk>/assign/",
        views.JobAssignAction.as_view(),
        name="ro-job-assign",
    ),
    path(
        "repair-orders/jobs/<int:pk>/clock-on/",
        views.ClockOnAction.as_view(),
        name="ro-job-clock-on",
    ),
    path(
        "repair-orders/jobs/<int:pk>/clock-off/",
        views.ClockOffAction.as_view(),
        name="ro-job-clock-off",
    ),
    path(
        "repair-orders/parts/<int:pk>/issue/",
        views.PartsIssueAction.as_view(),
        name="ro-part-issue",
    ),
    path(
        "repair-orders/parts/<int:pk>/return/",
        views.PartsReturnAction.as_view(),
        name="ro-part-return",
    ),
]
