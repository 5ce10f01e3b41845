"""The demo complaints: every state, overdue and escalated ones, VRT records, follow-ups,
consistent with the working-day clock; loading twice adds nothing."""

import datetime

import pytest
from django.utils import timezone

from aftersales.complaints import clock
from aftersales.complaints.choices import ComplaintStatus, StepKind
from aftersales.complaints.demo import load_complaints_demo
from aftersales.complaints.models import Complaint, ComplaintStep, Escalation, LegalCase

pytestmark = pytest.mark.django_db


def test_the_demo_has_every_state_and_is_consistent(demo_org):
    # when the demo complaints are loaded (twice)
    first = load_complaints_demo()
    again = load_complaints_demo()
    # then every status is there, and the second load added nothing
    assert first["added"] > 300 and again["added"] == 0
    statuses = set(Complaint.objects.values_list("status", flat=True))
    assert statuses == set(ComplaintStatus.values)
    now = timezone.now()
    running = Complaint.objects.filter(status__in=["filed", "handling"])
    assert running.filter(deadline_at__lt=now).count() >= 20
    assert Escalation.objects.filter(decided_at__isnull=False).exists()
    assert ComplaintStep.objects.filter(kind=StepKind.VRT, defect_exists__isnull=False).exists()
    assert LegalCase.objects.count() == 3
    # deadlines are the clock's: the limit's working days from the filing
    for complaint in Complaint.objects.filter(status="filed")[:5]:
        expected = clock.limit_deadline(complaint.filed_at, complaint.limit_days)[0]
        assert complaint.deadline_at == expected
    closed = Complaint.objects.filter(status="closed")
    assert closed.filter(closed_on_time=True).count() > closed.filter(closed_on_time=False).count()
    assert not closed.filter(closure_condition="").exists()


def test_the_demo_loads_in_a_year_the_holiday_calendar_does_not_know(demo_org):
    # given a clock in a year the installed holiday calendar has no data for
    now = datetime.datetime(2099, 3, 4, 10, tzinfo=clock.CALENDAR_TZ)
    # when the demo complaints are loaded
    loaded = load_complaints_demo(now=now)
    # then they are all there, their deadlines counted Monday to Friday and marked provisional
    assert loaded["added"] > 300
    filed = Complaint.objects.exclude(deadline_at=None)
    assert filed.exists() and not filed.filter(deadline_provisional=False).exists()
    for complaint in Complaint.objects.filter(status="filed")[:5]:
        assert (complaint.deadline_at, True) == clock.limit_deadline(
            complaint.filed_at, complaint.limit_days
        )
