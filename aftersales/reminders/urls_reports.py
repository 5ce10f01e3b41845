"""reminders reports."""

urlpatterns = []
