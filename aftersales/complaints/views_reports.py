"""The complaint report page (filters, charts, tables, the overdue list page by page) and
its Excel export, for holders of ``complaints.export_complaint``. The figures come from
``aftersales.complaints.reports``, scoped to what the user may export; naming a dealer or
region outside that scope answers 404."""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views import View

from aftersales.complaints import reports
from aftersales.complaints.choices import Category, Channel, Grade
from aftersales.core.pages import PermissionPage

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def report_filters(request) -> reports.ReportFilters:
    filters = reports.filters_from_query(request.GET)
    if reports.out_of_scope(request.user, filters):
        raise Http404
    return filters


def _complaint_url(pk):
    """The complaint's page, when the complaint pages are installed."""
    try:
        return reverse("complaint-detail", kwargs={"pk": pk})
    except NoReverseMatch:
        return ""


def _charts(report) -> dict:
    """What the ECharts scripts draw (labels already translated)."""
    data = report["counts"]
    return {
        "by_type": [{"name": r["label"], "value": r["formal"]} for r in data["by_type"]],
        "by_channel": {
            "labels": [r["label"] for r in data["by_channel"]],
            "received": [r["received"] for r in data["by_channel"]],
            "formal": [r["formal"] for r in data["by_channel"]],
        },
        "by_month": {
            "labels": [r["month"] for r in data["by_month"]],
            "received": [r["received"] for r in data["by_month"]],
            "formal": [r["formal"] for r in data["by_month"]],
            "on_time_rate": [
                None if r["on_time_rate"] is None else float(r["on_time_rate"])
                for r in data["by_month"]
            ],
        },
        "on_time": {
            "labels": [r["dealer"] for r in report["assessment"]["rows"]],
            "rates": [
                None if r["on_time_rate"] is None else float(r["on_time_rate"])
                for r in report["assessment"]["rows"]
            ],
        },
        "text": {
            "received": pgettext("complaint count", "Received"),
            "formal": _("Formal"),
            "on_time_rate": _("On-time rate %"),
        },
    }


class ComplaintReportsView(PermissionPage, View):
    permission = reports.EXPORT

    def get(self, request):
        filters = report_filters(request)
        page = request.GET.get("overdue_page") or 1
        report = reports.full_report(request.user, filters, overdue_page_number=page)
        for row in report["overdue"]["rows"]:
            row["url"] = _complaint_url(row["id"])
        query = filters.query()
        dealers = list(reports.visible_dealers(request.user))
        labels = reports.measure_labels()
        weights = report["assessment"]["weights"]
        return render(
            request,
            "complaints/reports/report.html",
            {
                **report,
                # the access matrix reads the dealers of the assessment here
                "object_list": report["assessment"]["rows"],
                "charts": _charts(report),
                "query": urlencode(query),
                "dealers": dealers if len(dealers) > 1 else [],
                "regions": list(reports.visible_regions(request.user)) if len(dealers) > 1 else [],
                "channels": Channel.choices,
                "categories": Category.choices,
                "grades": Grade.choices,
                "measures": [
                    {"key": k, "label": labels[k], "weight": weights[k].normalize()}
                    for k in reports.MEASURES
                ],
                "min_repair_orders": reports.MIN_REPAIR_ORDERS,
            },
        )


class ComplaintReportsExportView(PermissionPage, View):
    permission = reports.EXPORT

    def get(self, request):
        filters = report_filters(request)
        response = HttpResponse(reports.report_workbook(request.user, filters), content_type=XLSX)
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="complaint-reports-{stamp}.xlsx"'
        return response
