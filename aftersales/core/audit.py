"""Writing the audit trail. Services call ``audit_create`` / ``audit_update`` /
``audit_delete`` inside their transaction; the channel comes from the request or job
context (``audit_channel``)."""

import contextlib
import contextvars
import datetime
import decimal
import uuid

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.fields.files import FieldFile

from aftersales.core.models import AuditAction, AuditChannel, AuditLog

_channel = contextvars.ContextVar("audit_channel", default=AuditChannel.SYSTEM)


@contextlib.contextmanager
def audit_channel(channel: str):
    token = _channel.set(channel)
    try:
        yield
    finally:
        _channel.reset(token)


def current_channel() -> str:
    return _channel.get()


def _plain(value):
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name  # the stored path, not the content
    return value


# Never copied into the audit trail, even hashed.
_SECRET_FIELDS = {"password"}


def snapshot(instance) -> dict:
    """The instance's concrete field values, JSON-ready, keyed by field name. Left out:
    secrets, a model's ``audit_exclude`` (ciphertexts, lookup hashes, version counters)
    and "last modified" stamps, which change on every save (the entry's time says when)."""
    excluded = _SECRET_FIELDS | set(getattr(type(instance), "audit_exclude", ()))
    return {
        f.name: _plain(getattr(instance, f.attname))
        for f in instance._meta.concrete_fields
        if f.name not in excluded and not getattr(f, "auto_now", False)
    }


def _dealer_id(instance):
    field = getattr(type(instance), "access_dealer_field", None)
    if not field:
        return None
    value = instance
    for part in field.split("__"):
        value = getattr(value, "pk" if part == "id" else part, None)
        if value is None:
            return None
    return value


def _write(instance, actor, action, changes):
    return AuditLog.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_name=str(actor) if actor is not None else "system",
        channel=current_channel(),
        action=action,
        content_type=ContentType.objects.get_for_model(instance._meta.model),
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        changes=changes,
        dealer_id=_dealer_id(instance),
    )


def audit_create(instance, *, actor):
    return _write(
        instance, actor, AuditAction.CREATE, {k: [None, v] for k, v in snapshot(instance).items()}
    )


def audit_update(instance, *, actor, before: dict):
    """Record the fields that differ from ``before`` (a ``snapshot`` taken before the change).
    Writes nothing when nothing changed."""
    after = snapshot(instance)
    changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    if changes:
        return _write(instance, actor, AuditAction.UPDATE, changes)
    return None


def audit_delete(instance, *, actor):
    return _write(
        instance, actor, AuditAction.DELETE, {k: [v, None] for k, v in snapshot(instance).items()}
    )


def audit_event(instance, *, actor, action: str, changes: dict | None = None):
    """Record a business action that is not a plain field change (a reveal of personal
    data, a merge, a transfer), with whatever detail ``changes`` holds."""
    return _write(instance, actor, action, changes or {})


def history_for(instance, user):
    """The audit entries of one record that the user may read, newest first."""
    return (
        AuditLog.objects.restrict(user, "view")
        .filter(
            content_type=ContentType.objects.get_for_model(instance._meta.model),
            object_id=str(instance.pk),
        )
        .select_related("actor")
    )
