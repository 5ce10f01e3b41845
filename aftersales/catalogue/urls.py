from django.urls import path

from aftersales.catalogue import views

urlpatterns = [
    path("catalogue/", views.VehicleModelListView.as_view(), name="vehicle-model-list"),
    path(
        "catalogue/models/<int:pk>/",
        views.VehicleModelDetailView.as_view(),
        name="vehicle-model-detail",
    ),
]
