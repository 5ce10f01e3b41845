"""Base classes for staff pages: login required, the model permission checked, rows
scoped with ``restrict`` (another dealer's id is a 404)."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.views.generic import DetailView, ListView

from aftersales.core.access import permission_name, user_has_perm


class RestrictedPageMixin(LoginRequiredMixin):
    action = "view"
    raise_exception = False  # anonymous → login page

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            model = self.get_restricted_model()
            if not user_has_perm(request.user, permission_name(model, self.action)):
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_restricted_model(self):
        return self.model or self.queryset.model

    def get_queryset(self):
        return super().get_queryset().restrict(self.request.user, self.action)


class RestrictedListView(RestrictedPageMixin, ListView):
    paginate_by = 50


class RestrictedDetailView(RestrictedPageMixin, DetailView):
    pass


class PermissionPage(LoginRequiredMixin):
    """A page that needs ``permission`` somewhere (the rows it shows are scoped by the
    view itself): anonymous users go to the login page, others without it get 403."""

    permission = ""
    raise_exception = False

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not user_has_perm(request.user, self.get_permission()):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_permission(self) -> str:
        return self.permission
