from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.response import Response

from aftersales.core.api import RestrictedReadOnlyViewSet
from aftersales.org import services
from aftersales.org.api.serializers import (
    DealerSerializer,
    DealerUpdateSerializer,
    RegionSerializer,
    StaffSerializer,
)
from aftersales.org.models import Dealer, Region, RoleAssignment, User


class RegionViewSet(RestrictedReadOnlyViewSet):
    queryset = Region.objects.all()
    serializer_class = RegionSerializer
    filterset_fields = ["code"]
    search_fields = ["code", "name"]


class DealerViewSet(mixins.UpdateModelMixin, RestrictedReadOnlyViewSet):
    """Dealers the user may see. PATCH edits contact details (dealer/OEM admins)."""

    queryset = Dealer.objects.select_related("region")
    serializer_class = DealerSerializer
    filterset_fields = ["region", "active", "code"]
    search_fields = ["code", "name", "city"]
    ordering_fields = ["code", "name"]
    http_method_names = ["get", "patch", "head", "options"]

    @extend_schema(request=DealerUpdateSerializer, responses=DealerSerializer)
    def partial_update(self, request, *args, **kwargs):
        dealer = self.get_object()
        payload = DealerUpdateSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        dealer = services.dealer_update(actor=request.user, dealer=dealer, **payload.validated_data)
        return Response(DealerSerializer(dealer).data)


class StaffViewSet(RestrictedReadOnlyViewSet):
    queryset = (
        User.objects.select_related("dealer", "region")
        .prefetch_related(
            Prefetch(
                "role_assignments",
                queryset=RoleAssignment.objects.filter(active=True),
                to_attr="active_roles",
            )
        )
        .order_by("username")
    )
    serializer_class = StaffSerializer
    filterset_fields = ["dealer", "region", "is_active"]
    search_fields = ["username", "display_name", "mobile"]
