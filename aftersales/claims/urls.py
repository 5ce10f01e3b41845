"""claims pages."""

from django.urls import path

from aftersales.claims import views

urlpatterns = [
    path("claims/", views.ClaimListView.as_view(), name="claim-list"),
    path("claims/review/", views.ReviewQueueView.as_view(), name="claim-review-queue"),
    path("claims/reports/", views.ClaimReportsView.as_view(), name="claim-reports"),
    path(
        "claims/reports/export/",
        views.ClaimReportsExportView.as_view(),
        name="claim-reports-export",
    ),
    path(
        "claims/from-repair-order/<int:ro_pk>/",
        views.ClaimCreateView.as_view(),
        name="claim-create",
    ),
    path("claims/<int:pk>/", views.ClaimDetailView.as_view(), name="claim-detail"),
    path("claims/<int:pk>/edit/", views.ClaimEditView.as_view(), name="claim-edit"),
    path(
        "claims/<int:pk>/transition/",
        views.ClaimTransitionView.as_view(),
        name="claim-transition",
    ),
    path("claims/<int:pk>/photos/", views.ClaimPhotoAddView.as_view(), name="claim-photo-add"),
    path(
        "claims/<int:pk>/photos/<int:photo_id>/",
        views.ClaimPhotoView.as_view(),
        name="claim-photo",
    ),
    path(
        "claims/<int:pk>/lines/<int:line_id>/return/",
        views.ClaimLineReturnView.as_view(),
        name="claim-line-return",
    ),
]
