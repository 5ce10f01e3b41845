"""Base classes for staff pages: login required, the model permission checked, rows
scoped with ``restrict`` (another dealer's id is a 404)."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.generic import DetailView, ListView

from aftersales.core.access import permission_name, user_has_perm
from aftersales.core.errors import ServiceError


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


def put_errors(form, exc: ServiceError):
    """A service's refusal on the form: each field's message on its field (when the form
    has it, else above the form), and the general message above the form unless it only
    says "some fields are not valid"."""
    placed = set()
    for name, errors in (exc.fields or {}).items():
        for error in errors:
            form.add_error(name if name in form.fields else None, str(error))
            placed.add(str(error))
    message = str(exc.message)
    if message not in placed and not (placed and message == str(exc.default_message)):
        form.add_error(None, message)


def error_text(exc: ServiceError) -> str:
    """A service's refusal as one line: its message and the reasons of its fields (only
    the reasons when the message merely says "some fields are not valid")."""
    text = str(exc.message)
    details = [str(m) for msgs in (exc.fields or {}).values() for m in msgs]
    if not details or text in details:
        return text
    if text == str(exc.default_message):
        return "; ".join(details)
    return f"{text} ({'; '.join(details)})"


def flash_error(request, exc: ServiceError) -> None:
    """A service's refusal as an error message on the next page."""
    messages.error(request, error_text(exc))


def safe_next(request) -> str:
    """The ``next`` address of the request when it stays on this site, else ""."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""
