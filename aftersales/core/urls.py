from django.urls import path

from aftersales.core import page_views, views_messages
from aftersales.core.wechat_views import wechat_push

urlpatterns = [
    path("", page_views.HomeView.as_view(), name="home"),
    path("audit/", page_views.AuditListView.as_view(), name="audit-list"),
    path(
        "history/<int:content_type_id>/<str:object_id>/",
        page_views.RecordHistoryView.as_view(),
        name="record-history",
    ),
    path("outbox/", page_views.OutboxListView.as_view(), name="outbox-list"),
    path(
        "message-templates/",
        views_messages.MessageTemplateListView.as_view(),
        name="message-template-list",
    ),
    path(
        "message-templates/new/",
        views_messages.MessageTemplateNewView.as_view(),
        name="message-template-new",
    ),
    path(
        "message-templates/<int:pk>/",
        views_messages.MessageTemplateEditView.as_view(),
        name="message-template-edit",
    ),
    path(
        "message-templates/<int:pk>/delete/",
        views_messages.MessageTemplateDeleteView.as_view(),
        name="message-template-delete",
    ),
    # WeChat's server check and delivery reports: no login, checked by signature
    path("wechat/push/", wechat_push, name="wechat-push"),
]
