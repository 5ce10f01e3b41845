"""Customer-care pages: coupons and greetings."""

urlpatterns = []
