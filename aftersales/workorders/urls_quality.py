"""Pages of the quality area: the order's quality panel and its actions, the QC queue and
the DCRC's follow-up queue."""

from django.urls import path

from aftersales.workorders import views_quality as views

urlpatterns = [
    path(
        "repair-orders/<int:pk>/quality/", views.QualityPanelView.as_view(), name="ro-quality-panel"
    ),
    path(
        "repair-orders/<int:pk>/quality/self-check/",
        views.SelfCheckView.as_view(),
        name="ro-quality-self-check",
    ),
    path("repair-orders/<int:pk>/quality/qc/", views.QcView.as_view(), name="ro-quality-qc"),
    path(
        "repair-orders/<int:pk>/quality/ready/", views.ReadyView.as_view(), name="ro-quality-ready"
    ),
    path(
        "repair-orders/<int:pk>/quality/deliver/",
        views.DeliverView.as_view(),
        name="ro-quality-deliver",
    ),
    path(
        "repair-orders/<int:pk>/quality/close/", views.CloseView.as_view(), name="ro-quality-close"
    ),
    path("qc-queue/", views.QcQueueView.as_view(), name="qc-queue"),
    path("follow-ups/", views.FollowUpListView.as_view(), name="follow-up-list"),
    path("follow-ups/<int:pk>/", views.FollowUpDetailView.as_view(), name="follow-up-detail"),
    path("follow-ups/<int:pk>/call/", views.FollowUpCallView.as_view(), name="follow-up-call"),
]
