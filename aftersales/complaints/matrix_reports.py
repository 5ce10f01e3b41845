"""Access-matrix declarations of the complaint report page, its Excel export and the
report API (see aftersales/testing/matrix.py); imported by aftersales/complaints/matrix.py.

The report lines are keyed by dealer (the assessment on the page, the per-dealer counts
and the assessment in the API: ``id`` is the dealer's) or by complaint (the overdue
list), so ``make`` returns the dealer with a filed complaint, or the overdue complaint:
the matrix checks that a region manager of the dealer's region sees the line and one of
another region does not. The figures without lines per record (summary, repeats,
escalations, the workbook) are declared ``scoped=False``; their scoping is tested in
aftersales/complaints/tests/test_reports.py.

The builders run the complaint services as the system (``actor=None``): the matrix's
organisation has none of the demo users ``complaints.testing.make_complaint`` acts as."""

from aftersales.testing.matrix import Endpoint, declare

EXPORT = "complaints.export_complaint"
_NO_KWARGS = lambda record: {}  # noqa: E731 - a URL reversed without arguments


def filed_complaint(dealer):
    """A formal complaint forwarded by ``dealer``, filed and assigned to it."""
    from aftersales.complaints import services

    complaint = services.complaint_receive(
        actor=None,
        channel="dealer",
        dealer=dealer,
        contact_name="王先生",
        contact_phone="13800001111",
        subject="保养后异响",
        description="保养后发动机舱异响。",
    )
    complaint = services.complaint_judge(
        actor=None, complaint=complaint, decision="to_file", judgement="有效投诉"
    )
    complaint = services.complaint_file(
        actor=None, complaint=complaint, category="service", grade="general"
    )
    return services.complaint_assign(actor=None, complaint=complaint, dealer=dealer)


def _dealer_with_complaint(dealer):
    filed_complaint(dealer)
    return dealer


def _overdue_complaint(dealer):
    import datetime

    from django.utils import timezone

    from aftersales.complaints.models import Complaint

    complaint = filed_complaint(dealer)
    # the deadline passed yesterday (set directly: the clock cannot be wound back)
    Complaint.objects.filter(pk=complaint.pk).update(
        deadline_at=timezone.now() - datetime.timedelta(days=1)
    )
    return complaint


declare(
    # ---------------------------------------------------------------- pages
    Endpoint("complaint-reports", "page", EXPORT, make=_dealer_with_complaint),
    Endpoint(
        "complaint-reports-export",
        "page",
        EXPORT,
        make=_dealer_with_complaint,
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,  # the workbook's rows are scoped like the page's (test_reports.py)
    ),
    # ---------------------------------------------------------------- API
    Endpoint("api:complaint-report-dealers", "api", EXPORT, make=_dealer_with_complaint),
    Endpoint("api:complaint-report-assessment", "api", EXPORT, make=_dealer_with_complaint),
    Endpoint("api:complaint-report-overdue", "api", EXPORT, make=_overdue_complaint),
    *[
        Endpoint(
            f"api:complaint-report-{name}",
            "api",
            EXPORT,
            make=_dealer_with_complaint,
            detail=True,
            url_kwargs=_NO_KWARGS,
            scoped=False,  # figures without lines per record: scoping in test_reports.py
        )
        for name in ("summary", "repeats", "escalations")
    ],
)
