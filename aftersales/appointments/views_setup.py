"""The workshop capacity page: booking rules, closed days, technicians (skills and
shift), advisors (reception hours) and absences of one dealer. Each form posts back here
and goes through a service in ``setup``; a refusal is shown as a message."""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from aftersales.appointments import setup
from aftersales.appointments.models import Absence, Advisor, ClosedDay, ScheduleSettings, Technician
from aftersales.appointments.views_bookings import _dealer
from aftersales.core.access import allowed_at
from aftersales.core.errors import ServiceError
from aftersales.core.pages import error_text
from aftersales.workorders.choices import BayKind, OperationCategory
from aftersales.workorders.views_reception import needs

VIEW = "appointments.view_schedulesettings"
WEEKDAYS = [
    (0, pgettext_lazy("weekday", "Mon")),
    (1, pgettext_lazy("weekday", "Tue")),
    (2, pgettext_lazy("weekday", "Wed")),
    (3, pgettext_lazy("weekday", "Thu")),
    (4, pgettext_lazy("weekday", "Fri")),
    (5, pgettext_lazy("weekday", "Sat")),
    (6, pgettext_lazy("weekday", "Sun")),
]


def _staff(dealer, role):
    from aftersales.org.models import User

    return (
        User.objects.filter(
            role_assignments__dealer=dealer, role_assignments__role=role, is_active=True
        )
        .distinct()
        .order_by("username")
    )


@needs(VIEW)
def schedule_setup(request):
    dealer, dealers = _dealer(request, VIEW)
    if dealer is None:
        raise Http404
    if request.method == "POST":
        return _save(request, dealer)
    settings = ScheduleSettings.for_dealer(dealer)
    technicians = list(Technician.objects.filter(dealer=dealer).select_related("user"))
    advisors = list(Advisor.objects.filter(dealer=dealer).select_related("user"))
    known = {t.user_id for t in technicians} | {a.user_id for a in advisors}
    context = {
        "dealer": dealer,
        "dealers": dealers if dealers.count() > 1 else [],
        "settings": settings,
        "closed_days": ClosedDay.objects.filter(dealer=dealer, day__gte=timezone.localdate()),
        "technicians": technicians,
        "advisors": advisors,
        "absences": Absence.objects.filter(
            dealer=dealer, ends_at__gte=timezone.now()
        ).select_related("user"),
        "new_technicians": [u for u in _staff(dealer, "technician") if u.pk not in known],
        "new_advisors": [u for u in _staff(dealer, "service_advisor") if u.pk not in known],
        "people": [t.user for t in technicians] + [a.user for a in advisors],
        "bay_kinds": BayKind.choices,
        "categories": OperationCategory.choices,
        "weekdays": WEEKDAYS,
        "can_change": allowed_at(request.user, setup.PERMISSION, dealer=dealer),
        "object_list": [settings] if settings.pk else [],
    }
    return render(request, "appointments/setup.html", context)


def _user(dealer, raw):
    from aftersales.org.models import User

    found = (
        User.objects.filter(pk=int(raw), role_assignments__dealer=dealer).first()
        if str(raw).isdigit()
        else None
    )
    if found is None:
        raise Http404
    return found


def _save(request, dealer):
    if not allowed_at(request.user, setup.PERMISSION, dealer=dealer):
        raise PermissionDenied
    post = request.POST
    form = post.get("form", "")
    try:
        if form == "settings":
            setup.schedule_settings_save(
                actor=request.user,
                dealer=dealer,
                open_weekdays=post.getlist("open_weekdays"),
                closed_on_public_holidays=post.get("closed_on_public_holidays") == "on",
                slot_minutes=post.get("slot_minutes"),
                reception_minutes=post.get("reception_minutes"),
                no_show_grace_minutes=post.get("no_show_grace_minutes"),
                horizon_days=post.get("horizon_days"),
                reminder_hour=post.get("reminder_hour"),
            )
        elif form == "closed_day":
            try:
                day = datetime.date.fromisoformat(post.get("day", ""))
            except ValueError:
                day = None
            setup.closed_day_add(
                actor=request.user, dealer=dealer, day=day, reason=post.get("reason", "")
            )
        elif form == "closed_day_remove":
            closed = ClosedDay.objects.filter(dealer=dealer, pk=post.get("id") or 0).first()
            if closed is None:
                raise Http404
            setup.closed_day_remove(actor=request.user, closed_day=closed)
        elif form == "technician":
            setup.technician_save(
                actor=request.user,
                dealer=dealer,
                user=_user(dealer, post.get("user")),
                bay_kinds=post.getlist("bay_kinds"),
                categories=post.getlist("categories"),
                weekdays=post.getlist("weekdays"),
                shift_start=post.get("shift_start", ""),
                shift_end=post.get("shift_end", ""),
                break_start=post.get("break_start", ""),
                break_end=post.get("break_end", ""),
                active=post.get("active", "on") == "on",
            )
        elif form == "advisor":
            setup.advisor_save(
                actor=request.user,
                dealer=dealer,
                user=_user(dealer, post.get("user")),
                weekdays=post.getlist("weekdays"),
                reception_start=post.get("reception_start", ""),
                reception_end=post.get("reception_end", ""),
                break_start=post.get("break_start", ""),
                break_end=post.get("break_end", ""),
                active=post.get("active", "on") == "on",
            )
        elif form == "absence":
            starts = parse_datetime(post.get("starts_at", "") or "")
            ends = parse_datetime(post.get("ends_at", "") or "")
            setup.absence_add(
                actor=request.user,
                dealer=dealer,
                user=_user(dealer, post.get("user")),
                starts_at=timezone.make_aware(starts)
                if starts and timezone.is_naive(starts)
                else starts,
                ends_at=timezone.make_aware(ends) if ends and timezone.is_naive(ends) else ends,
                reason=post.get("reason", ""),
            )
        elif form == "absence_remove":
            absence = Absence.objects.filter(dealer=dealer, pk=post.get("id") or 0).first()
            if absence is None:
                raise Http404
            setup.absence_remove(actor=request.user, absence=absence)
        else:
            messages.error(request, _("Nothing to save."))
            return redirect(f"{reverse('schedule-setup')}?dealer={dealer.pk}")
    except ServiceError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Saved."))
    return redirect(f"{reverse('schedule-setup')}?dealer={dealer.pk}")
