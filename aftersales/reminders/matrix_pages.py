"""Access-matrix declarations of the reminder pages (see aftersales/testing/matrix.py).

Page forms are sent as JSON by the matrix, so they see no fields: they answer with the
page and the form's errors (200), or a redirect (the bulk assignment, 302). Pages whose
records are the OEM's (rules, inspection schedule, recalls, starting a run) are
``scoped=False``; the bulk assignment has no record in its URL, its scoping is tested in
tests/test_pages.py."""

import itertools

from aftersales.testing.matrix import Endpoint, declare

VIEW = "reminders.view_reminder"
WORK = "reminders.work_reminder"
_NO_KWARGS = lambda record: {}  # noqa: E731 - a URL reversed without arguments
_EMPTY = lambda record: {}  # noqa: E731 - an empty form
_codes = itertools.count(1)


def _reminder(dealer):
    from aftersales.reminders.testing import make_reminder

    return make_reminder(dealer)


def _campaign(dealer):
    import datetime

    from aftersales.crm.testing import make_customer, make_vehicle
    from aftersales.reminders.campaigns import campaign_create

    vehicle = make_vehicle(owner=make_customer(dealer=dealer), dealer=dealer)
    return campaign_create(
        actor=None,
        code=f"MX{next(_codes)}",
        name="矩阵活动",
        scope="local",
        dealer=dealer,
        starts_on=datetime.date(2025, 1, 1),
        ends_on=datetime.date(2099, 12, 31),
        model_years=[vehicle.variant.model_year],
    )


def _recall(dealer):
    import datetime

    from aftersales.reminders.models import Recall

    return Recall.objects.create(
        code=f"RX{next(_codes)}", title="矩阵召回", starts_on=datetime.date(2025, 1, 1)
    )


def _settings(dealer):
    from aftersales.reminders.models import ReminderSettings

    row = ReminderSettings.current()
    if row.pk is None:
        row.save()
    return row


def _run(dealer):
    import datetime

    from django.utils import timezone

    from aftersales.reminders.models import ReminderRun

    return ReminderRun.objects.create(
        month=datetime.date(2025, 7, 1), dealer=dealer, started_at=timezone.now()
    )


def _page(name, permission, make, *, method="get", ok=200, **options):
    extra = {"data": _EMPTY} if method == "post" else {}
    return Endpoint(name, "page", permission, make=make, method=method, ok_status=ok, **{
        **extra, **options
    })  # fmt: skip


declare(
    _page("reminder-worklist", VIEW, _reminder),
    _page(
        "reminder-assign",
        "reminders.assign_reminder",
        _reminder,
        method="post",
        ok=302,  # no reminder ticked: back to the list with the message
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,
    ),
    _page("reminder-call", VIEW, _reminder, detail=True),
    _page("reminder-call-record", WORK, _reminder, method="post", detail=True),
    _page("reminder-book", WORK, _reminder, method="post", detail=True),
    _page("reminder-slots", WORK, _reminder, detail=True),
    _page(
        "reminder-vehicle-sheet",
        VIEW,
        _reminder,
        detail=True,
        url_kwargs=lambda record: {"vehicle_id": record.vehicle_id},
    ),
    _page(
        "reminder-setup",
        "reminders.view_remindersettings",
        _settings,
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,
    ),
    _page(
        "reminder-settings-save",
        "reminders.change_remindersettings",
        _settings,
        method="post",
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,
    ),
    _page(
        "reminder-inspection-save",
        "reminders.change_inspectionstep",
        _settings,
        method="post",
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,
    ),
    _page("reminder-campaign-list", "reminders.view_campaign", _campaign),
    _page(
        "reminder-campaign-new",
        "reminders.add_campaign",
        _campaign,
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,  # a blank form; the dealers offered are the user's own
    ),
    _page(
        "reminder-campaign-new",
        "reminders.add_campaign",
        _campaign,
        method="post",
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,
    ),
    _page("reminder-campaign-edit", "reminders.change_campaign", _campaign, detail=True),
    _page(
        "reminder-campaign-edit",
        "reminders.change_campaign",
        _campaign,
        method="post",
        detail=True,
    ),
    _page("reminder-recall-list", "reminders.view_recall", _recall, scoped=False),
    _page(
        "reminder-recall-new",
        "reminders.add_recall",
        _recall,
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,
    ),
    _page(
        "reminder-recall-new",
        "reminders.add_recall",
        _recall,
        method="post",
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,
    ),
    _page("reminder-recall-detail", "reminders.view_recall", _recall, detail=True, scoped=False),
    _page(
        "reminder-recall-work",
        "reminders.change_recall",
        _recall,
        method="post",
        detail=True,
        scoped=False,  # an empty form: answered with its errors
    ),
    _page("reminder-run-list", "reminders.view_reminderrun", _run),
    _page(
        "reminder-run-start",
        "reminders.add_reminderrun",
        _run,
        method="post",
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,
    ),
)


def _recall_with_work(dealer):
    """A recall of a car of ``dealer`` and a delivered order of that dealer on it: the
    body a dealer's advisor records the work with (``record.work``)."""
    import datetime

    from aftersales.crm.testing import make_customer, make_vehicle
    from aftersales.reminders.models import RecallVehicle
    from aftersales.workorders.choices import ROStatus
    from aftersales.workorders.testing import make_repair_order

    recall = _recall(dealer)
    vehicle = make_vehicle(owner=make_customer(dealer=dealer), dealer=dealer)
    RecallVehicle.objects.create(recall=recall, vehicle=vehicle, line=1)
    order = make_repair_order(dealer=dealer, status=ROStatus.DELIVERED, vehicle=vehicle)
    recall.work = {
        "vin": vehicle.vin,
        "done_on": datetime.date.today().isoformat(),
        "order": order.number,
    }
    return recall


# Recalls are the OEM's: every holder of the permission sees them (scoped=False).
declare(
    Endpoint(
        "api:reminder-recall-list", "api", "reminders.view_recall", make=_recall, scoped=False
    ),
    Endpoint(
        "api:reminder-recall-detail",
        "api",
        "reminders.view_recall",
        make=_recall,
        detail=True,
        scoped=False,
    ),
    Endpoint(
        "api:reminder-recall-work",
        "api",
        "reminders.change_recall",
        make=_recall_with_work,
        detail=True,
        method="post",
        data=lambda recall: recall.work,
        scoped=False,
    ),
)
