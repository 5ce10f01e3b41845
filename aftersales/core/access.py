"""Row-level access: ``Model.objects.restrict(user, action)``.

A user's reach for a permission is the union of the org units where they hold a role that
grants it: an OEM-level role reaches everything, a region role the region's dealers, a
dealer role that dealer. Each restricted model says how its rows hang off a dealer
(``access_dealer_field``) or a region (``access_region_field``); models with neither are
OEM-level catalogues, visible to whoever holds the permission anywhere.
"""

from dataclasses import dataclass, field

from django.db import models
from django.db.models import Q


@dataclass(frozen=True)
class Scope:
    """Where a user may exercise one permission."""

    everything: bool = False
    dealer_ids: frozenset[int] = field(default_factory=frozenset)
    region_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def empty(self) -> bool:
        return not (self.everything or self.dealer_ids or self.region_ids)


def role_assignments(user):
    """The user's active role assignments, loaded once per user object (per request)."""
    cached = getattr(user, "_role_assignment_cache", None)
    if cached is None:
        from aftersales.org.models import RoleAssignment

        cached = list(
            RoleAssignment.objects.filter(user_id=user.pk, active=True).values_list(
                "role", "region_id", "dealer_id", "dealer__region_id"
            )
        )
        user._role_assignment_cache = cached
    return cached


def user_scope(user, permission: str) -> Scope:
    """Where the user may exercise ``permission``; computed once per user object."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Scope()
    if user.is_superuser:
        return Scope(everything=True)
    cache = user.__dict__.setdefault("_scope_cache", {})
    if permission not in cache:
        cache[permission] = _compute_scope(user, permission)
    return cache[permission]


def _compute_scope(user, permission: str) -> Scope:
    from aftersales.org.roles import PERMISSIONS

    dealers, regions, managed_regions = set(), set(), set()
    for role, region_id, dealer_id, dealer_region_id in role_assignments(user):
        if permission not in PERMISSIONS.get(role, ()):
            continue
        if dealer_id is None and region_id is None:
            return Scope(everything=True)
        if dealer_id is not None:
            dealers.add(dealer_id)
            regions.add(dealer_region_id)  # a dealer's staff may see their own region
        else:
            managed_regions.add(region_id)
    if managed_regions:
        regions |= managed_regions
        dealers |= _region_dealers(user, frozenset(managed_regions))
    return Scope(dealer_ids=frozenset(dealers), region_ids=frozenset(regions))


def _region_dealers(user, region_ids: frozenset[int]) -> frozenset[int]:
    """The dealers of the regions the user manages, read once per user object: every
    permission a region manager holds resolves to the same regions."""
    cache = user.__dict__.setdefault("_region_dealer_cache", {})
    if region_ids not in cache:
        from aftersales.org.models import Dealer

        cache[region_ids] = frozenset(
            Dealer.objects.filter(region_id__in=region_ids).values_list("id", flat=True)
        )
    return cache[region_ids]


def user_has_perm(user, permission: str) -> bool:
    """Does the user hold the permission anywhere (at any org unit)?"""
    return not user_scope(user, permission).empty


def allowed_at(actor, permission: str, *, dealer=None) -> bool:
    """May the actor exercise ``permission`` at this dealer? Without a dealer (region and
    OEM units), only a holder at OEM level may. ``actor=None`` is the system itself."""
    if actor is None:
        return True
    scope = user_scope(actor, permission)
    if scope.everything:
        return True
    return dealer is not None and dealer.pk in scope.dealer_ids


def require_at(actor, permission: str, *, dealer=None) -> None:
    """``allowed_at`` or refuse: raises PermissionDenied (403)."""
    if not allowed_at(actor, permission, dealer=dealer):
        from aftersales.core.errors import PermissionDenied

        raise PermissionDenied()


def permission_name(model, action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view"):
        model = self.model
        scope = user_scope(user, permission_name(model, action))
        if scope.everything:
            return self
        if scope.empty:
            return self.none()
        condition = self.scope_condition(scope)
        if condition is None:
            return self  # OEM-level record: the permission alone decides
        return self.filter(condition)

    def scope_condition(self, scope: Scope):
        """The filter that keeps the rows within ``scope``; ``None`` for OEM-level records.
        Models whose rows reach a dealer through a relationship table override it."""
        model = self.model
        dealer_field = getattr(model, "access_dealer_field", None)
        region_field = getattr(model, "access_region_field", None)
        if dealer_field is None and region_field is None:
            return None
        condition = Q(pk__in=[])
        if dealer_field:
            condition |= Q(**{f"{dealer_field}__in": scope.dealer_ids})
        if region_field:
            condition |= Q(**{f"{region_field}__in": scope.region_ids})
        return condition


RestrictedManager = models.Manager.from_queryset(RestrictedQuerySet)


def forget_scopes(user):
    """Drop the cached roles and scopes after the user's role assignments changed."""
    user.__dict__.pop("_role_assignment_cache", None)
    user.__dict__.pop("_scope_cache", None)
    user.__dict__.pop("_region_dealer_cache", None)
