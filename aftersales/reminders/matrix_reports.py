"""Access-matrix declarations of the reminder statistics pages, their Excel exports and
the statistics API (see aftersales/testing/matrix.py); imported by
aftersales/reminders/matrix.py.

The figures per dealer (the page's per-dealer table, the API's ``dealers``: ``id`` is the
dealer's) and the customer lists (``id`` is the reminder's) are lines per record, so
``make`` returns the dealer with a reminder, or the reminder (open, owner not registered:
on the "not reminded" list, the default): the matrix checks that the other dealer's user
does not see the line. The figures without lines per record (the summary, the workbooks)
are declared ``scoped=False``; their scoping is tested in
aftersales/reminders/tests/test_reports.py."""

from aftersales.testing.matrix import Endpoint, declare

EXPORT = "reminders.export_reminder"
_NO_KWARGS = lambda record: {}  # noqa: E731 - a URL reversed without arguments


def _reminder(dealer):
    from aftersales.reminders.testing import make_reminder

    return make_reminder(dealer)


def _dealer_with_reminder(dealer):
    from aftersales.reminders.reports import statistics_refresh

    _reminder(dealer)
    statistics_refresh(dealer_ids=[dealer.pk])
    return dealer


declare(
    # ---------------------------------------------------------------- pages
    Endpoint("reminder-stats", "page", EXPORT, make=_dealer_with_reminder),
    Endpoint("reminder-stats-list", "page", EXPORT, make=_reminder),
    *[
        Endpoint(
            name,
            "page",
            EXPORT,
            make=_dealer_with_reminder,
            detail=True,
            url_kwargs=_NO_KWARGS,
            scoped=False,  # the workbook's rows are scoped like the page's (test_reports.py)
        )
        for name in ("reminder-stats-export", "reminder-stats-list-export")
    ],
    # ---------------------------------------------------------------- API
    Endpoint("api:reminder-stats-dealers", "api", EXPORT, make=_dealer_with_reminder),
    Endpoint("api:reminder-stats-customers", "api", EXPORT, make=_reminder),
    Endpoint(
        "api:reminder-stats-summary",
        "api",
        EXPORT,
        make=_dealer_with_reminder,
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,  # figures without lines per record: scoping in test_reports.py
    ),
)
