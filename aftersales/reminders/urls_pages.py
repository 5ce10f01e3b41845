"""reminders pages."""

urlpatterns = []
