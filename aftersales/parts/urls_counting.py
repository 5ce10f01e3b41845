"""Parts pages: counting (stocktakes) and transfers."""

from django.urls import path

from aftersales.parts import views_counting as views

urlpatterns = [
    path("parts/stocktakes/", views.StocktakeListView.as_view(), name="stocktake-list"),
    path("parts/stocktakes/new/", views.StocktakeStartView.as_view(), name="stocktake-start"),
    path(
        "parts/stocktakes/<int:pk>/", views.StocktakeDetailView.as_view(), name="stocktake-detail"
    ),
    path(
        "parts/stocktakes/<int:pk>/count/",
        views.StocktakeCountView.as_view(),
        name="stocktake-count",
    ),
    path(
        "parts/stocktakes/<int:pk>/<slug:step>/",
        views.StocktakeActionView.as_view(),
        name="stocktake-action",
    ),
    path("parts/transfers/", views.TransferListView.as_view(), name="transfer-list"),
    path("parts/transfers/new/", views.TransferRequestView.as_view(), name="transfer-request"),
    path("parts/transfers/<int:pk>/", views.TransferDetailView.as_view(), name="transfer-detail"),
    path(
        "parts/transfers/<int:pk>/<slug:step>/",
        views.TransferActionView.as_view(),
        name="transfer-action",
    ),
]
