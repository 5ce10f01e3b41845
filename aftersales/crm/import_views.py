"""Pages of the customer/vehicle import (template download, upload, progress, error
report) and the Excel exports of the customer and vehicle lists.

Imports are dealer records (``ImportJob.objects.restrict``): a dealer's staff see their
dealer's imports, regions their dealers', OEM staff all; another dealer's id is a 404.
The work itself is in ``crm.imports`` (a job) and ``crm.exports``.
"""

import os

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import ListView

from aftersales.catalogue.models import Variant
from aftersales.core.access import user_has_perm, user_scope
from aftersales.core.errors import PermissionDenied as ServicePermissionDenied
from aftersales.core.errors import ServiceError
from aftersales.core.pages import PermissionPage
from aftersales.crm import exports, imports
from aftersales.crm.choices import ImportMode, ImportStatus
from aftersales.crm.models import ImportJob
from aftersales.org.models import Dealer

ACTIVE = (ImportStatus.QUEUED, ImportStatus.RUNNING)


def import_dealers(user):
    """Dealers the user may import for."""
    scope = user_scope(user, "crm.import_customer")
    dealers = Dealer.objects.filter(active=True).order_by("code")
    return dealers if scope.everything else dealers.filter(pk__in=scope.dealer_ids)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("The filled-in template: Excel (.xlsx) or CSV."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv", "class": "form-control"}),
    )
    mode = forms.ChoiceField(
        label=gettext_lazy("When some rows have errors"),
        choices=ImportMode.choices,
        initial=ImportMode.ALL_OR_NOTHING,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    dealer = forms.ModelChoiceField(
        label=gettext_lazy("Import for dealer"),
        queryset=Dealer.objects.none(),
        required=False,
        empty_label=gettext_lazy("Choose the dealer"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if getattr(user, "dealer_id", None):
            del self.fields["dealer"]  # dealer staff import for their own dealer
        else:
            self.fields["dealer"].queryset = import_dealers(user)
            self.fields["dealer"].required = True


# ---------------------------------------------------------------- imports


class ImportListView(PermissionPage, ListView):
    permission = "crm.view_importjob"
    template_name = "crm/imports/import_list.html"
    paginate_by = 50

    def get_queryset(self):
        return (
            ImportJob.objects.restrict(self.request.user, "view")
            .select_related("dealer", "created_by")
            .order_by("-id")
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["can_import"] = user_has_perm(self.request.user, "crm.import_customer")
        ctx["active"] = ACTIVE
        ctx["polling"] = any(job.status in ACTIVE for job in ctx["object_list"])
        return ctx


class ImportCreateView(PermissionPage, View):
    permission = "crm.import_customer"

    def render(self, request, form, status=200):
        return render(
            request,
            "crm/imports/import_form.html",
            {
                "form": form,
                "columns": imports.COLUMNS,
                "max_rows": imports.MAX_ROWS,
                "max_mb": imports.MAX_UPLOAD_BYTES // (1024 * 1024),
            },
            status=status,
        )

    def get(self, request):
        return self.render(request, ImportForm(user=request.user))

    def post(self, request):
        form = ImportForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            try:
                job = imports.import_create(
                    actor=request.user,
                    file=form.cleaned_data["file"],
                    mode=form.cleaned_data["mode"],
                    dealer=form.cleaned_data.get("dealer"),
                )
            except ServicePermissionDenied:
                raise PermissionDenied from None
            except ServiceError as exc:
                for name, errors in (exc.fields or {}).items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, str(error))
                if not exc.fields:
                    form.add_error(None, str(exc.message))
            else:
                messages.success(
                    request,
                    _("%(file)s was uploaded; the import starts in a few seconds.")
                    % {"file": job.original_name},
                )
                return redirect("import-detail", pk=job.pk)
        return self.render(request, form, status=400)


def _job_or_404(user, pk) -> ImportJob:
    queryset = ImportJob.objects.restrict(user, "view").select_related("dealer", "created_by")
    return get_object_or_404(queryset, pk=pk)


def job_context(job: ImportJob) -> dict:
    valid = max(job.total_rows - job.error_rows, 0)
    checking = job.status == ImportStatus.RUNNING and (
        job.total_rows == 0 or job.processed_rows < job.total_rows
    )
    return {
        "job": job,
        "active": job.status in ACTIVE,
        "checking": checking,
        "writing": job.status == ImportStatus.RUNNING and not checking,
        "valid_rows": valid,
        "write_progress": int(100 * job.imported_rows / valid) if valid else 0,
        "all_or_nothing": job.mode == ImportMode.ALL_OR_NOTHING,
        "statuses": ImportStatus,
    }


class ImportDetailView(PermissionPage, View):
    """The import's progress and outcome; while it runs htmx polls the progress part
    every 2 seconds."""

    permission = "crm.view_importjob"

    def get(self, request, pk):
        job = _job_or_404(request.user, pk)
        ctx = job_context(job)
        if request.htmx:
            return render(request, "crm/imports/_progress.html", ctx)
        return render(request, "crm/imports/import_detail.html", ctx)


class ImportErrorsView(PermissionPage, View):
    """The error report (.xlsx) of an import."""

    permission = "crm.view_importjob"

    def get(self, request, pk):
        job = _job_or_404(request.user, pk)
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


class ImportTemplateView(PermissionPage, View):
    """The import template, ``?format=xlsx`` (default, with the sheet of variant codes)
    or ``?format=csv``."""

    permission = "crm.import_customer"

    def get(self, request):
        if request.GET.get("format") == "csv":
            response = HttpResponse(imports.template_csv(), content_type="text/csv; charset=utf-8")
            name = "customer-import-template.csv"
        else:
            variants = (
                Variant.objects.restrict(request.user, "view")
                .select_related("vehicle_model__brand")
                .order_by(
                    "vehicle_model__brand__code", "vehicle_model__code", "-model_year", "code"
                )
            )
            response = HttpResponse(
                imports.template_xlsx(variants),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            name = "customer-import-template.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


# ---------------------------------------------------------------- exports


class _ExportView(PermissionPage, View):
    permission = "crm.export_customer"
    list_url = ""

    def export(self, user, params):
        raise NotImplementedError

    def get(self, request):
        try:
            result = self.export(request.user, request.GET)
        except exports.TooManyRows as exc:
            messages.error(request, str(exc.message))
            query = request.GET.urlencode()
            return redirect(reverse(self.list_url) + (f"?{query}" if query else ""))
        handle = open(result.path, "rb")  # noqa: SIM115 - FileResponse closes it
        os.unlink(result.path)  # the open handle keeps the data until the response is sent
        return FileResponse(
            handle,
            as_attachment=True,
            filename=result.filename,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )


class CustomerExportView(_ExportView):
    """The customer list (same filters as the page: q, segment, tag, city) as .xlsx."""

    list_url = "customer-list"

    def export(self, user, params):
        return exports.export_customers(user, params)


class VehicleExportView(_ExportView):
    """The vehicle list (same filters as the page: q, model, warranty) as .xlsx."""

    list_url = "vehicle-list"

    def export(self, user, params):
        return exports.export_vehicles(user, params)
