"""The reminder statistics pages (source 2-16 to 2-18): the figures with their charts, the
customer lists they drill down to (not reminded, not followed up, not returned), and the
Excel files of both, for holders of ``reminders.export_reminder``. Figures and lists come
from ``aftersales.reminders.reports``, scoped to what the user may export; naming a dealer
or region outside that scope answers 404."""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View

from aftersales.core.pages import PermissionPage
from aftersales.reminders import reports
from aftersales.reminders.choices import ReminderKind

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def stats_filters(request) -> reports.StatsFilters:
    filters = reports.filters_from_query(request.GET)
    if reports.out_of_scope(request.user, filters):
        raise Http404
    return filters


def _which(request) -> str:
    which = request.GET.get("list") or "not_reminded"
    if which not in reports.LISTS:
        raise Http404
    return which


def _vehicle_sheet_url(vehicle_id):
    """The vehicle reminder sheet (车辆提醒单), when the worklist pages are installed."""
    try:
        return reverse("reminder-vehicle-sheet", kwargs={"vehicle_id": vehicle_id})
    except NoReverseMatch:
        return ""


def _float(value):
    return None if value is None else float(value)


def _charts(data) -> dict:
    """What the ECharts scripts draw (labels already translated)."""
    totals = data["totals"]
    months = data["by_month"]
    return {
        "funnel": [
            {"name": _("Due"), "value": totals["due"]},
            {"name": _("Reminded"), "value": totals["reminded"]},
            {"name": _("Followed up"), "value": totals["followed_up"]},
            {"name": _("Booked"), "value": totals["booked"]},
            {"name": _("Returned"), "value": totals["returned"]},
        ],
        "channels": {
            "labels": [_("WeChat sent"), _("SMS sent"), _("Reached by phone")],
            "values": [totals["wechat"], totals["sms"], totals["phone"]],
        },
        "trend": {
            "labels": [r["month"] for r in months],
            "due": [r["due"] for r in months],
            "reminded": [r["reminded"] for r in months],
            "returned": [r["returned"] for r in months],
            "reminded_rate": [_float(r["reminded_rate"]) for r in months],
            "followed_up_rate": [_float(r["followed_up_rate"]) for r in months],
            "return_rate": [_float(r["return_rate"]) for r in months],
        },
        "text": {
            "due": _("Due"),
            "reminded": _("Reminded"),
            "returned": _("Returned"),
            "reminded_rate": _("Reminded rate %"),
            "followed_up_rate": _("Followed-up rate %"),
            "return_rate": _("Return rate %"),
        },
    }


def _add_links(rows, filters, key):
    """Each row's drill-down links to the three customer lists, the row's own key (a
    region, dealer, month or kind) added to the page's filters."""
    base = reverse("reminder-stats-list")
    for row in rows:
        if key == "region":
            changes = {"region": row["id"], "dealer": None}
        elif key == "dealer":
            changes = {"dealer": row["id"]}
        elif key == "month":
            changes = {"month_from": row["month"], "month_to": row["month"]}
        elif key == "kind":
            changes = {"kind": row["kind"]}
        else:
            changes = {}
        query = filters.query(**changes)
        row["links"] = {
            which: f"{base}?{urlencode({**query, 'list': which})}" for which in reports.LISTS
        }
    return rows


def _filter_choices(request) -> dict:
    dealers = list(reports.visible_dealers(request.user))
    many = len(dealers) > 1
    return {
        "dealers": dealers if many else [],
        "regions": list(reports.visible_regions(request.user)) if many else [],
        "kinds": ReminderKind.choices,
    }


class ReminderStatsView(PermissionPage, View):
    permission = reports.EXPORT

    def get(self, request):
        filters = stats_filters(request)
        data = reports.figures(request.user, filters)
        for key in ("region", "dealer", "month", "kind"):
            _add_links(data[f"by_{key}"], filters, key)
        data["totals"] = _add_links([data["totals"]], filters, "")[0]
        query = filters.query()
        lists = [{"key": key, "label": label} for key, label in reports.LISTS.items()]
        return render(
            request,
            "reminders/stats.html",
            {
                **data,
                # the access matrix reads the dealers of the per-dealer table here
                "object_list": data["by_dealer"],
                "charts": _charts(data),
                "query": urlencode(query),
                "lists": lists,
                "columns": reports.figure_columns(),
                **_filter_choices(request),
            },
        )


class ReminderStatsListView(PermissionPage, View):
    permission = reports.EXPORT

    def get(self, request):
        filters = stats_filters(request)
        which = _which(request)
        page = reports.list_page(request.user, filters, which, page=request.GET.get("page") or 1)
        for row in page["rows"]:
            row["url"] = _vehicle_sheet_url(row["vehicle_id"])
        query = filters.query()
        return render(
            request,
            "reminders/stats_list.html",
            {
                "filters": filters,
                "listing": page,
                "object_list": page["rows"],
                "which": which,
                "lists": [{"key": k, "label": v} for k, v in reports.LISTS.items()],
                "query": urlencode(query),
                "list_query": urlencode({**query, "list": which}),
                "stats_query": urlencode(query),
                **_filter_choices(request),
            },
        )


class ReminderStatsExportView(PermissionPage, View):
    permission = reports.EXPORT

    def get(self, request):
        filters = stats_filters(request)
        content = reports.statistics_workbook(request.user, filters)
        response = HttpResponse(content, content_type=XLSX)
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="reminder-statistics-{stamp}.xlsx"'
        return response


class ReminderStatsListExportView(PermissionPage, View):
    permission = reports.EXPORT

    def get(self, request):
        filters = stats_filters(request)
        which = _which(request)
        content, _cut = reports.list_workbook(request.user, filters, which)
        response = HttpResponse(content, content_type=XLSX)
        stamp = timezone.localdate().isoformat()
        name = which.replace("_", "-")
        response["Content-Disposition"] = f'attachment; filename="reminders-{name}-{stamp}.xlsx"'
        return response
