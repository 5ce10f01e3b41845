"""The owner's side of complaints (/api/owner/complaints/): a signed-in owner whose login
is linked to their customer record files a complaint about one of their vehicles and
follows its status. Staff roles are not needed (an owner has none); an owner sees only
their own complaints, and only what concerns them (no internal judgement or steps)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.response import Response

from aftersales.complaints import services
from aftersales.complaints.models import Complaint
from aftersales.core.api import ERROR, IDEMPOTENCY
from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.idempotency import once, request_key


class OwnerComplaintSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    plate = serializers.CharField(source="vehicle.plate", read_only=True, default=None)
    answer = serializers.CharField(source="reply", read_only=True)

    class Meta:
        model = Complaint
        fields = [
            "id",
            "number",
            "status",
            "status_label",
            "subject",
            "description",
            "expectation",
            "plate",
            "received_at",
            "deadline_at",
            "closed_at",
            "answer",
        ]


class OwnerFileSerializer(serializers.Serializer):
    vehicle = serializers.IntegerField()
    subject = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    expectation = serializers.CharField(required=False, allow_blank=True, default="")


class IsOwner(permissions.BasePermission):
    """A signed-in login linked to a customer record."""

    message = _("Link your login to your customer record first.")

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and getattr(user, "customer", None))


class OwnerComplaintViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    permission_classes = [IsOwner]
    serializer_class = OwnerComplaintSerializer
    queryset = Complaint.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Complaint.objects.none()
        return (
            Complaint.objects.filter(customer=self.request.user.customer)
            .select_related("vehicle")
            .order_by("-received_at", "-id")
        )

    @extend_schema(operation_id="owner_complaints_list", summary="My complaints")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(operation_id="owner_complaints_retrieve", summary="One of my complaints")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        operation_id="owner_complaints_create",
        summary="File a complaint about one of my vehicles",
        request=OwnerFileSerializer,
        parameters=[IDEMPOTENCY],
        responses={201: OwnerComplaintSerializer, 400: ERROR, 401: ERROR, 403: ERROR},
    )
    def create(self, request):
        from aftersales.crm.models import Vehicle

        payload = OwnerFileSerializer(data=request.data)
        if not payload.is_valid():
            raise ValidationFailed(
                fields={k: [str(m) for m in v] for k, v in payload.errors.items()}
            )
        data = payload.validated_data
        vehicle = Vehicle.objects.filter(pk=data["vehicle"]).first()
        if vehicle is None:
            raise ValidationFailed(fields={"vehicle": [_("Choose one of your vehicles.")]})
        if not getattr(request.user, "customer", None):
            raise PermissionDenied()
        complaint, _acted = once(
            user=request.user,
            scope="complaints.owner",
            key=request_key(request),
            action=lambda: services.complaint_file_by_owner(
                user=request.user,
                vehicle=vehicle,
                subject=data["subject"],
                description=data["description"],
                expectation=data["expectation"],
            ),
            model=Complaint,
        )
        complaint = self.get_queryset().get(pk=complaint.pk)
        return Response(OwnerComplaintSerializer(complaint).data, status=status.HTTP_201_CREATED)


def register(router):
    router.register("owner/complaints", OwnerComplaintViewSet, basename="owner-complaint")
