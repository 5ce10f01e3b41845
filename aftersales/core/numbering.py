"""Gap-free, readable document numbers, e.g. ``RO-BJ01-2026-000123``.

The counter row is incremented with a single ``UPDATE ... SET last_value = last_value + 1``
inside the caller's transaction: the row lock (PostgreSQL) or the write lock (SQLite,
IMMEDIATE transactions) serialises concurrent callers, and a rollback gives the number back,
so the series has neither duplicates nor gaps."""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from aftersales.core.models import NumberSequence


def next_number(*, doc_type: str, dealer=None, on=None, width: int = 6) -> str:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number must run inside the transaction that saves the document")
    year = (on or timezone.localdate()).year
    keys = {
        "dealer_id": dealer.pk if dealer is not None else None,
        "doc_type": doc_type,
        "year": year,
    }
    updated = NumberSequence.objects.filter(**keys).update(last_value=F("last_value") + 1)
    if not updated:
        try:
            with transaction.atomic():
                NumberSequence.objects.create(**keys, last_value=1)
        except IntegrityError:
            # Another transaction created the counter first; take the next value from it.
            NumberSequence.objects.filter(**keys).update(last_value=F("last_value") + 1)
    value = NumberSequence.objects.get(**keys).last_value
    prefix = f"{doc_type}-{dealer.code}" if dealer is not None else doc_type
    return f"{prefix}-{year}-{value:0{width}d}"
