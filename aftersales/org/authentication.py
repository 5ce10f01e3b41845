"""API token authentication that does not read the token, the user and their roles again
on every request.

DRF's ``TokenAuthentication`` reads the token with its user, and the permission check then
reads the user's role assignments: two queries before any work, on every API request. Here
both are kept in this process for ``AUTH_CACHE_SECONDS`` (5 s by default; 0 turns the
cache off) per token. Each request gets its own copy of the user, so nothing one request
caches on its user object reaches another.

A change to a token, a user or a role assignment empties this process's cache at once
(signals); other server processes see it when their entry expires, at most
``AUTH_CACHE_SECONDS`` later. That is the price: a deactivated user or a withdrawn role may
go on working for that long on another worker.
"""

import copy
import threading
import time

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from rest_framework import authentication

from aftersales.core.access import role_assignments

_entries: dict[str, tuple[float, object, object, list]] = {}
_lock = threading.Lock()
MAX_ENTRIES = 10_000


def _seconds() -> float:
    return float(getattr(settings, "AUTH_CACHE_SECONDS", 5))


def forget_all(**_kwargs) -> None:
    with _lock:
        _entries.clear()


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        ttl = _seconds()
        if ttl <= 0:
            return super().authenticate_credentials(key)
        now = time.monotonic()
        entry = _entries.get(key)
        if entry is None or entry[0] <= now:
            user, token = super().authenticate_credentials(key)
            snapshot = copy.copy(user)
            entry = (now + ttl, snapshot, token, list(role_assignments(user)))
            with _lock:
                if len(_entries) >= MAX_ENTRIES:
                    _entries.clear()
                _entries[key] = entry
            return user, token
        _expires, snapshot, token, assignments = entry
        user = copy.copy(snapshot)
        user._role_assignment_cache = list(assignments)
        return user, token


def connect_signals() -> None:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from aftersales.org.models import RoleAssignment

    for model in (get_user_model(), Token, RoleAssignment):
        post_save.connect(forget_all, sender=model, dispatch_uid=f"auth-cache-{model.__name__}")
        post_delete.connect(
            forget_all, sender=model, dispatch_uid=f"auth-cache-del-{model.__name__}"
        )
