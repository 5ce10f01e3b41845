"""API conventions shared by every app: the error body, pagination, permission check and
the restricted read-only/model viewsets every endpoint builds on."""

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, permissions, status, viewsets
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from aftersales.core.errors import ServiceError, ValidationFailed

_NON_FIELD_KEYS = ("non_field_errors", "__all__")  # DRF's and Django's names


def _body(code, message, fields=None):
    """The error body; errors that belong to no field become the message."""
    fields = {
        k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in (fields or {}).items()
    }
    for key in _NON_FIELD_KEYS:
        general = fields.pop(key, None)
        if general:
            message = general[0]
    return {"code": code, "message": str(message), "fields": fields}


def validated(serializer_class, data, *, partial: bool = False):
    """The request body checked by ``serializer_class``: its validated data, or
    ``ValidationFailed`` with the messages per field (the API's 400 body)."""
    payload = serializer_class(data=data, partial=partial)
    if not payload.is_valid():
        raise ValidationFailed(fields={k: [str(m) for m in v] for k, v in payload.errors.items()})
    return payload.validated_data


def service_error_response(exc: ServiceError):
    return Response(
        _body(exc.code, exc.message, exc.fields),
        status=exc.status or status.HTTP_400_BAD_REQUEST,
    )


def exception_handler(exc, context):
    """Every error answers ``{"code", "message", "fields"}`` in the user's language."""
    if isinstance(exc, ServiceError):
        return service_error_response(exc)
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        # e.g. a service refusing another dealer's record: the caller learns nothing more
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = getattr(exc, "detail", "")
    if isinstance(exc, exceptions.ValidationError):
        if isinstance(detail, dict):
            response.data = _body("invalid", _("Some fields are not valid."), detail)
        else:  # a list of general errors
            response.data = _body(
                "invalid", detail[0] if detail else _("Some fields are not valid.")
            )
    else:
        code = str(getattr(detail, "code", None) or getattr(exc, "default_code", "error"))
        response.data = _body(code, detail)
    return response


class RestrictedViewSetMixin:
    """Scopes the queryset to what the user may see; another dealer's id is a 404."""

    write_action = "change"

    def get_queryset(self):
        action = "view" if self.request.method in permissions.SAFE_METHODS else self.write_action
        return super().get_queryset().restrict(self.request.user, action)

    def filter_queryset(self, queryset):
        # List filters do not apply to one record (access is already in get_queryset);
        # building the filter form for every detail request cost a fifth of its time.
        if self.detail:
            return queryset
        return super().filter_queryset(queryset)


class RestrictedReadOnlyViewSet(RestrictedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


def _schema_parts():
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter, inline_serializer
    from rest_framework import serializers

    error = inline_serializer(
        "Error",
        fields={
            "code": serializers.CharField(),
            "message": serializers.CharField(),
            "fields": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField())
            ),
        },
    )
    idempotency = OpenApiParameter(
        "Idempotency-Key",
        OpenApiTypes.STR,
        location=OpenApiParameter.HEADER,
        required=False,
        description="8-64 letters, digits, '-', '_', '.' or ':'. A retry with the same key "
        "acts once and answers with the first result. May also be sent as the "
        "`idempotency_key` field.",
    )
    return error, idempotency


# The error body every endpoint answers with, and the header that makes a write safe to
# retry: for the OpenAPI description of the endpoints.
ERROR, IDEMPOTENCY = _schema_parts()
