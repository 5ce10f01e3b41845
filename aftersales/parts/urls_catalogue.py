"""Parts pages: catalogue (lookup by number, name, barcode or VIN; a part's card)."""

from django.urls import path

from aftersales.parts import views_catalogue

urlpatterns = [
    path("parts/", views_catalogue.PartLookupView.as_view(), name="part-lookup"),
    path("parts/<int:pk>/", views_catalogue.PartDetailView.as_view(), name="part-detail"),
]
