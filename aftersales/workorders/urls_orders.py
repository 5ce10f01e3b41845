"""The repair-order page and its order-wide steps."""

from django.urls import path

from aftersales.workorders import views

urlpatterns = [
    path(
        "repair-orders/<int:pk>/", views.RepairOrderDetailView.as_view(), name="repair-order-detail"
    ),
    path(
        "repair-orders/<int:pk>/header/",
        views.RepairOrderHeaderView.as_view(),
        name="repair-order-header",
    ),
    path(
        "repair-orders/<int:pk>/transition/",
        views.RepairOrderTransitionView.as_view(),
        name="repair-order-transition",
    ),
    path(
        "repair-orders/<int:pk>/timeline/",
        views.RepairOrderTimelineView.as_view(),
        name="ro-timeline-panel",
    ),
]
