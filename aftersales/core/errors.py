"""Coded business errors. Services raise them; the API answers with
``{"code", "message", "fields"}`` and the status given here; pages show the message."""

from django.utils.translation import gettext_lazy as _


class ServiceError(Exception):
    status = 400
    code = "invalid"
    default_message = _("The request could not be carried out.")

    def __init__(self, message=None, *, code=None, fields=None):
        self.message = message or self.default_message
        if code:
            self.code = code
        self.fields = fields or {}
        super().__init__(str(self.message))


class ValidationFailed(ServiceError):
    status = 400
    code = "invalid"
    default_message = _("Some fields are not valid.")


class PermissionDenied(ServiceError):
    status = 403
    code = "permission_denied"
    default_message = _("You do not have permission to do this.")


class NotFound(ServiceError):
    status = 404
    code = "not_found"
    default_message = _("Not found.")


class Conflict(ServiceError):
    """A refused state change or a clash with the current state of a record."""

    status = 409
    code = "conflict"
    default_message = _("This change conflicts with the current state of the record.")
