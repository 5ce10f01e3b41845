"""Customer-care pages: coupons, the cashier's redemption, holiday greetings and the
greeting settings."""

from django.urls import path

from aftersales.care import views

urlpatterns = [
    path("care/coupons/", views.CouponListView.as_view(), name="care-coupon-list"),
    path("care/coupons/new/", views.CouponNewView.as_view(), name="care-coupon-new"),
    path("care/coupons/<int:pk>/void/", views.CouponVoidView.as_view(), name="care-coupon-void"),
    path("care/redeem/", views.RedeemView.as_view(), name="care-redeem"),
    path("care/greetings/", views.HolidayListView.as_view(), name="care-holiday-list"),
    path("care/greetings/new/", views.HolidayNewView.as_view(), name="care-holiday-new"),
    path("care/greetings/settings/", views.SettingsView.as_view(), name="care-settings"),
]
