"""Booking statistics page (and its Excel export with ``?format=xlsx``)."""

import io

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from aftersales.appointments.stats import (
    booking_stats,
    default_range,
    stats_workbook,
    visible_dealers,
)
from aftersales.appointments.views_bookings import _date
from aftersales.workorders.views_reception import needs

VIEW = "appointments.view_booking"


def stats_params(request):
    """(first, last, dealer, region, dealers) from the query, within what the user may
    see: a dealer or region the user cannot see answers 404."""
    from aftersales.org.models import Region

    first, last = default_range(timezone.localdate())
    first = _date(request.GET.get("first"), first)
    last = max(_date(request.GET.get("last"), last), first)
    dealers = visible_dealers(request.user)
    dealer = region = None
    raw = request.GET.get("dealer", "")
    if raw:
        dealer = dealers.filter(pk=int(raw)).first() if raw.isdigit() else None
        if dealer is None:
            raise Http404
    raw = request.GET.get("region", "")
    if raw:
        region = (
            Region.objects.filter(pk=int(raw), dealers__in=dealers).distinct().first()
            if raw.isdigit()
            else None
        )
        if region is None:
            raise Http404
    return first, last, dealer, region, dealers


@needs(VIEW)
def appointment_stats(request):
    from aftersales.org.models import Region

    first, last, dealer, region, dealers = stats_params(request)
    stats = booking_stats(user=request.user, first=first, last=last, dealer=dealer, region=region)
    if request.GET.get("format") == "xlsx":
        buffer = io.BytesIO()
        stats_workbook(stats).save(buffer)
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="booking-stats-{first.isoformat()}-{last.isoformat()}.xlsx"'
        )
        return response
    several = dealers.count() > 1
    context = {
        "stats": stats,
        "first": first,
        "last": last,
        "dealer": dealer,
        "region": region,
        "dealers": dealers if several else [],
        "regions": Region.objects.filter(dealers__in=dealers).distinct().order_by("code")
        if several
        else [],
        "channel_max": max((c["bookings"] for c in stats["by_channel"]), default=0),
        "object_list": list(
            booking_stats_rows(request.user, first, last, dealer=dealer, region=region)
        ),
        "query": request.GET.urlencode(),
    }
    return render(request, "appointments/stats.html", context)


def booking_stats_rows(user, first, last, *, dealer=None, region=None):
    """The bookings the figures count (the page lists the latest few)."""
    from aftersales.appointments.stats import scoped

    return (
        scoped(user, first, last, dealer=dealer, region=region)
        .select_related("dealer", "vehicle")
        .order_by("-starts_at")[:20]
    )
