"""Pages of the reception area."""

from django.urls import path

from aftersales.workorders import views_reception as views

urlpatterns = [
    path("repair-orders/new/", views.repair_order_new, name="repair-order-new"),
    path(
        "repair-orders/<int:pk>/reception/",
        views.reception_panel,
        name="ro-reception-panel",
    ),
    path(
        "repair-orders/<int:pk>/reception/save/",
        views.reception_save,
        name="ro-reception-save",
    ),
    path(
        "repair-orders/<int:pk>/reception/photos/",
        views.reception_photo_add,
        name="ro-reception-photo-add",
    ),
    path(
        "repair-orders/<int:pk>/reception/photos/<int:photo_id>/remove/",
        views.reception_photo_remove,
        name="ro-reception-photo-remove",
    ),
    path(
        "repair-orders/<int:pk>/reception/check-in/",
        views.reception_check_in,
        name="ro-reception-check-in",
    ),
    path(
        "repair-orders/<int:pk>/reception/comeback/",
        views.reception_comeback,
        name="ro-reception-comeback",
    ),
    path("repair-orders/<int:pk>/photos/<int:photo_id>/", views.ro_photo, name="ro-photo"),
]
