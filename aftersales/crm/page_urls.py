from django.urls import path

from aftersales.crm import views

urlpatterns = [
    path("crm/customers/", views.CustomerListView.as_view(), name="customer-list"),
    path("crm/customers/new/", views.CustomerCreateView.as_view(), name="customer-create"),
    path("crm/customers/<int:pk>/", views.CustomerDetailView.as_view(), name="customer-detail"),
    path("crm/customers/<int:pk>/edit/", views.CustomerEditView.as_view(), name="customer-edit"),
    path(
        "crm/customers/<int:pk>/reveal-id/",
        views.CustomerRevealIdView.as_view(),
        name="customer-reveal-id",
    ),
    path(
        "crm/customers/<int:pk>/merge/<int:other>/",
        views.CustomerMergeView.as_view(),
        name="customer-merge",
    ),
    path("crm/duplicates/", views.DuplicateListView.as_view(), name="duplicate-list"),
    path("crm/vehicles/", views.VehicleListView.as_view(), name="vehicle-list"),
    path("crm/vehicles/new/", views.VehicleCreateView.as_view(), name="vehicle-create"),
    path("crm/vehicles/<int:pk>/", views.VehicleDetailView.as_view(), name="vehicle-detail"),
    path("crm/vehicles/<int:pk>/edit/", views.VehicleEditView.as_view(), name="vehicle-edit"),
    path(
        "crm/vehicles/<int:pk>/odometer/",
        views.VehicleOdometerView.as_view(),
        name="vehicle-odometer",
    ),
    path(
        "crm/vehicles/<int:pk>/transfer/",
        views.VehicleTransferView.as_view(),
        name="vehicle-transfer",
    ),
    path("crm/reception/", views.ReceptionView.as_view(), name="reception"),
    path("crm/segments/", views.SegmentRuleView.as_view(), name="segment-rule"),
    path("crm/segments/edit/", views.SegmentRuleEditView.as_view(), name="segment-rule-edit"),
]
