"""API conventions shared by every app: the error body, pagination, permission check and
the restricted read-only/model viewsets every endpoint builds on."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, permissions, status, viewsets
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from aftersales.core.errors import ServiceError


def _fields(detail):
    if isinstance(detail, dict):
        return {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in detail.items()}
    return {}


def exception_handler(exc, context):
    """Every error answers ``{"code", "message", "fields"}`` in the user's language."""
    if isinstance(exc, ServiceError):
        return Response(
            {"code": exc.code, "message": str(exc.message), "fields": _fields(exc.fields)},
            status=exc.status,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        fields = _fields(detail) if isinstance(detail, dict) else {}
        non_field = fields.pop("non_field_errors", None)
        message = non_field[0] if non_field else _("Some fields are not valid.")
        if isinstance(detail, list) and detail:
            message = str(detail[0])
        response.data = {"code": "invalid", "message": message, "fields": fields}
    else:
        code = getattr(exc, "default_code", "error")
        detail = getattr(exc, "detail", "")
        response.data = {"code": str(getattr(detail, "code", code) or code), "message": str(detail), "fields": {}}
    return response


class RestrictedViewSetMixin:
    """Scopes the queryset to what the user may see; another dealer's id is a 404."""

    write_action = "change"

    def get_queryset(self):
        action = "view" if self.request.method in permissions.SAFE_METHODS else self.write_action
        return super().get_queryset().restrict(self.request.user, action)


class RestrictedReadOnlyViewSet(RestrictedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


def service_error_response(exc: ServiceError):
    return Response(
        {"code": exc.code, "message": str(exc.message), "fields": _fields(exc.fields)},
        status=exc.status or status.HTTP_400_BAD_REQUEST,
    )
