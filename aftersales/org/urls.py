from django.contrib.auth import views as auth_views
from django.urls import path

from aftersales.org import views
from aftersales.org.forms import LoginForm

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"
    ),
    path("org/dealers/", views.DealerListView.as_view(), name="dealer-list"),
    path("org/dealers/<int:pk>/", views.DealerDetailView.as_view(), name="dealer-detail"),
    path("org/dealers/<int:pk>/edit/", views.DealerEditView.as_view(), name="dealer-edit"),
    path("org/staff/", views.StaffListView.as_view(), name="staff-list"),
    path("org/staff/<int:pk>/", views.StaffDetailView.as_view(), name="staff-detail"),
]
