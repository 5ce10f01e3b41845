"""The import API: upload a customer/vehicle file (multipart), follow its progress,
download its error report. Rows are the dealer's imports (``restrict``): another dealer's
id is a 404."""

from django.http import FileResponse, Http404
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from aftersales.core.access import user_has_perm
from aftersales.core.api import ERROR
from aftersales.crm import imports
from aftersales.crm.choices import ImportMode
from aftersales.crm.models import ImportJob
from aftersales.org.models import Dealer


class ImportJobSerializer(serializers.ModelSerializer):
    dealer_code = serializers.CharField(source="dealer.code", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    mode_display = serializers.CharField(source="get_mode_display", read_only=True)
    progress = serializers.IntegerField(read_only=True, help_text="Rows checked, in percent.")
    error_report_url = serializers.SerializerMethodField(
        help_text="Where to download the error report (.xlsx); null when there is none."
    )
    page_url = serializers.SerializerMethodField(help_text="The import's page.")

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "dealer",
            "dealer_code",
            "original_name",
            "mode",
            "mode_display",
            "status",
            "status_display",
            "total_rows",
            "processed_rows",
            "imported_rows",
            "error_rows",
            "customers_created",
            "vehicles_created",
            "progress",
            "message",
            "error_report_url",
            "page_url",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_error_report_url(self, job) -> str | None:
        if not job.error_report:
            return None
        return self._absolute(reverse("api:importjob-errors", args=[job.pk]))

    def get_page_url(self, job) -> str:
        return self._absolute(reverse("import-detail", args=[job.pk]))

    def _absolute(self, path):
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The filled-in template: .xlsx or .csv.")
    mode = serializers.ChoiceField(choices=ImportMode.choices)
    dealer = serializers.PrimaryKeyRelatedField(
        queryset=Dealer.objects.all(),
        required=False,
        help_text="Dealer to import for; OEM staff must give it, dealer staff leave it out.",
    )


class ImportPermission(permissions.BasePermission):
    """Reading imports needs crm.view_importjob; uploading crm.import_customer."""

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        needed = "crm.import_customer" if view.action == "create" else "crm.view_importjob"
        return user_has_perm(user, needed)


@extend_schema_view(
    list=extend_schema(summary="Imports of the user's dealer(s), newest first"),
    retrieve=extend_schema(summary="One import: status, progress, counts, error report URL"),
)
class ImportJobViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Customer/vehicle imports. An upload is queued and run by the job runner; poll the
    import (``progress``, ``status``) until it is ``done``, ``rejected`` or ``failed``."""

    queryset = ImportJob.objects.select_related("dealer", "created_by").order_by("-id")
    serializer_class = ImportJobSerializer
    permission_classes = [ImportPermission]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    filter_backends = []

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        return queryset.restrict(self.request.user, "view")

    @extend_schema(
        summary="Upload a file to import (multipart/form-data)",
        request={"multipart/form-data": ImportUploadSerializer},
        responses={
            201: ImportJobSerializer,
            400: OpenApiResponse(ERROR, description="Not a usable file; `fields` says why."),
        },
    )
    def create(self, request):
        payload = ImportUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        job = imports.import_create(
            actor=request.user, file=data["file"], mode=data["mode"], dealer=data.get("dealer")
        )
        job = self.get_queryset().get(pk=job.pk)
        return Response(
            ImportJobSerializer(job, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Download the error report (.xlsx): row, column, value and reason of each error",
        responses={(200, "application/octet-stream"): bytes, 404: OpenApiResponse(ERROR)},
    )
    @action(detail=True, methods=["get"], url_path="errors", url_name="errors")
    def errors(self, request, pk=None):
        job = self.get_object()
        if not job.error_report:
            raise Http404
        try:
            handle = job.error_report.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"import-{job.pk}-errors.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
