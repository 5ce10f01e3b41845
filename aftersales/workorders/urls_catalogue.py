"""Pages of the catalogue area: labour operations, maintenance packages and a dealer's
workshop set-up."""

from django.urls import path

from aftersales.workorders import views_catalogue

urlpatterns = [
    path(
        "workorders/operations/",
        views_catalogue.OperationListView.as_view(),
        name="labour-operation-list",
    ),
    path(
        "workorders/operations/<int:pk>/",
        views_catalogue.OperationDetailView.as_view(),
        name="labour-operation-detail",
    ),
    path("workorders/packages/", views_catalogue.PackageListView.as_view(), name="package-list"),
    path(
        "workorders/packages/<int:pk>/",
        views_catalogue.PackageDetailView.as_view(),
        name="package-detail",
    ),
    path("workorders/setup/", views_catalogue.WorkshopSetupView.as_view(), name="workshop-setup"),
]
