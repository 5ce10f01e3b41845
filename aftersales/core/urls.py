from django.urls import path

from aftersales.core import page_views

urlpatterns = [
    path("", page_views.HomeView.as_view(), name="home"),
    path("audit/", page_views.AuditListView.as_view(), name="audit-list"),
    path(
        "history/<int:content_type_id>/<str:object_id>/",
        page_views.RecordHistoryView.as_view(),
        name="record-history",
    ),
    path("outbox/", page_views.OutboxListView.as_view(), name="outbox-list"),
]
