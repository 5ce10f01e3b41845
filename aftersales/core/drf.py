"""DRF classes named in settings. Kept apart from ``core.api`` because DRF imports them
while its own views module is loading."""

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import pagination, permissions

from aftersales.core.access import permission_name, user_has_perm


class Pagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class HasModelPermission(permissions.BasePermission):
    """The user must hold the model's view permission (reads) or the permission named by
    the view's ``write_action`` (writes) somewhere; rows are scoped by ``restrict``."""

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        model = getattr(getattr(view, "queryset", None), "model", None)
        if model is None:
            return True
        action = "view" if request.method in permissions.SAFE_METHODS else view.write_action
        return user_has_perm(request.user, permission_name(model, action))


class FilterBackend(DjangoFilterBackend):
    """django-filter, skipped when the request names none of the view's filters (building
    the filter form costs more than most list queries)."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not set(request.query_params) & set(
            filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)


class ActionPermission(permissions.BasePermission):
    """The user must hold, somewhere, the permission the view names for this action
    (``view.required_permission()``); rows are then scoped to where they hold it."""

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        return user_has_perm(user, view.required_permission())


class ScopedByActionMixin:
    """For model viewsets: the permission verb of each action (``action_verbs`` names
    those that need more than view for reads or change for writes) and the rows scoped
    with ``restrict`` for that verb."""

    permission_classes = [ActionPermission]
    action_verbs: dict[str, str] = {}

    def permission_verb(self) -> str:
        verb = self.action_verbs.get(self.action)
        if verb:
            return verb
        return "view" if self.request.method in permissions.SAFE_METHODS else "change"

    def required_permission(self) -> str:
        return permission_name(self.queryset.model, self.permission_verb())

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        return queryset.restrict(self.request.user, self.permission_verb())
