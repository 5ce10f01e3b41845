from django.urls import path

from aftersales.crm import import_views as views

urlpatterns = [
    path("crm/imports/", views.ImportListView.as_view(), name="import-list"),
    path("crm/imports/new/", views.ImportCreateView.as_view(), name="import-create"),
    path("crm/imports/template/", views.ImportTemplateView.as_view(), name="import-template"),
    path("crm/imports/<int:pk>/", views.ImportDetailView.as_view(), name="import-detail"),
    path("crm/imports/<int:pk>/errors/", views.ImportErrorsView.as_view(), name="import-errors"),
    path("crm/customers/export/", views.CustomerExportView.as_view(), name="customer-export"),
    path("crm/vehicles/export/", views.VehicleExportView.as_view(), name="vehicle-export"),
]
