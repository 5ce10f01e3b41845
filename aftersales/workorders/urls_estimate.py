"""Pages of the estimate area: the estimate panel of the repair-order page, its actions
and the search behind its add forms."""

from django.urls import path

from aftersales.workorders import views_estimate

urlpatterns = [
    path(
        "repair-orders/<int:pk>/estimate/",
        views_estimate.PanelView.as_view(),
        name="ro-estimate-panel",
    ),
    path(
        "repair-orders/<int:pk>/estimate/action/",
        views_estimate.ActionView.as_view(),
        name="ro-estimate-action",
    ),
    path(
        "repair-orders/<int:pk>/estimate/search/",
        views_estimate.SearchView.as_view(),
        name="ro-estimate-search",
    ),
]
