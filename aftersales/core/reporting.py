"""What reports share: the dealers and regions a user may report on for a permission, a
filter that names one outside them, query-parameter numbers, and the API viewset base.

A report module (``complaints.reports``, ``reminders.reports``) names its permission
(``EXPORT``), reads its filters from query parameters (``filters_from_query``; the
filters carry ``dealer_id`` and ``region_id``) and wraps the functions here with it.
"""

from rest_framework import viewsets

from aftersales.core.access import user_scope
from aftersales.core.drf import ActionPermission
from aftersales.core.errors import NotFound


def query_int(raw) -> int | None:
    """A query parameter as a positive whole number; anything else is no value."""
    return int(raw) if isinstance(raw, str) and raw.isdigit() else None


def dealers_for(user, permission: str):
    """The dealers where ``user`` holds ``permission`` (all for OEM level), with regions."""
    from aftersales.org.models import Dealer

    scope = user_scope(user, permission)
    rows = Dealer.objects.select_related("region").order_by("code")
    # dealers only: ``Scope.region_ids`` of a dealer employee also holds their region
    return rows if scope.everything else rows.filter(pk__in=scope.dealer_ids)


def regions_for(user, permission: str):
    from aftersales.org.models import Region

    dealers = dealers_for(user, permission)
    return Region.objects.filter(dealers__in=dealers).distinct().order_by("code")


def out_of_scope(user, permission: str, filters) -> bool:
    """Does the filter name a dealer or region the user may not report on?"""
    dealers = dealers_for(user, permission)
    if filters.dealer_id and not dealers.filter(pk=filters.dealer_id).exists():
        return True
    return bool(filters.region_id and not dealers.filter(region_id=filters.region_id).exists())


class ReportViewSet(viewsets.GenericViewSet):
    """The API of a report module (``reports``): its permission, no list filters, and
    ``_filters()`` reading the query (checked by ``serializer_class``) into the module's
    filters; a dealer or region outside the user's reach answers 404."""

    permission_classes = [ActionPermission]
    filter_backends = []
    reports = None

    def required_permission(self) -> str:
        return self.reports.EXPORT

    def _filters(self, serializer_class=None):
        params = (serializer_class or self.serializer_class)(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        filters = self.reports.filters_from_query(self.request.query_params)
        if self.reports.out_of_scope(self.request.user, filters):
            raise NotFound()
        return filters, params.validated_data
