"""Two people editing the same record: each save names the version it started from (the
``version`` column a client last saw); the record is re-read under its row lock and a
save made on an older version is refused with 409 ``stale`` instead of overwriting."""

from django.utils.translation import gettext as _

from aftersales.core.errors import Conflict, ValidationFailed


class StaleVersion(Conflict):
    code = "stale"


def seen_version(version) -> int | None:
    """The version a client sent (None: none sent); not a whole number: refused (400)."""
    if version is None or str(version).strip() == "":
        return None
    try:
        return int(version)
    except (TypeError, ValueError):
        message = _("A whole number is required.")
        raise ValidationFailed(message, fields={"version": [message]}) from None


def locked_row(queryset, row, *, version=None, stale_message):
    """``row`` (an instance or a primary key) re-read from ``queryset`` under its row lock;
    with ``version``, refused with ``StaleVersion(stale_message(found))`` when someone
    saved it since."""
    pk = getattr(row, "pk", row)
    found = queryset.select_for_update(of=("self",)).get(pk=pk)
    seen = seen_version(version)
    if seen is not None and seen != found.version:
        raise StaleVersion(stale_message(found))
    return found
