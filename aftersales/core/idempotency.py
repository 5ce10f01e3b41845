"""Acting once per client key: ``once(user=, scope=, key=, action=, model=)``.

The key row is inserted first, in the same transaction as the action. A concurrent retry's
insert waits on the unique index (PostgreSQL) or on the write lock (SQLite's IMMEDIATE
transactions) until the first request commits, then finds the row and returns the first
result; if the first request failed and rolled back, the retry acts as if it were first.
Keys are kept for ``IDEMPOTENCY_DAYS`` days (the ``core-idempotency`` job removes older).
"""

import datetime
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.core.models import IdempotencyKey

MAX_KEY = 100


def clean_key(raw) -> str:
    """A key as sent (header or form field), stripped; empty when none was sent."""
    key = str(raw or "").strip()
    if len(key) > MAX_KEY:
        raise ValidationFailed(
            _("An idempotency key has at most %(n)d characters.") % {"n": MAX_KEY},
            code="idempotency_key",
        )
    return key


def request_key(request) -> str:
    """The ``Idempotency-Key`` header, or an ``idempotency_key`` form/body field."""
    raw = request.headers.get("Idempotency-Key")
    if not raw:
        data = getattr(request, "data", None) or request.POST
        raw = data.get("idempotency_key") if hasattr(data, "get") else None
    return clean_key(raw)


def once(
    *, user, scope: str, key: str, action: Callable[[], models.Model], model: type[models.Model]
) -> tuple[models.Model, bool]:
    """Run ``action`` (which returns the record it made) unless this user already sent
    ``key`` for ``scope``; then return that first record. Returns (record, acted)."""
    if not key:
        return action(), True
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(user=user, scope=scope, key=key)
        except IntegrityError:
            result_id = (
                IdempotencyKey.objects.filter(user=user, scope=scope, key=key)
                .values_list("result_id", flat=True)
                .first()
            )
            if result_id is None:
                raise Conflict(
                    _("This request is already being processed."), code="in_progress"
                ) from None
            return model._default_manager.get(pk=result_id), False
        result = action()
        IdempotencyKey.objects.filter(pk=row.pk).update(result_id=result.pk)
        return result, True


def purge_old_keys(*, now=None) -> int:
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.IDEMPOTENCY_DAYS)
    deleted, _rows = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
