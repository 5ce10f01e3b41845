"""Time limits in working days and the deadline sweep: holidays, make-up days, year
boundaries, the calendar index, warnings at each threshold once, automatic escalations."""

import datetime
import random
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from aftersales.complaints import clock, services
from aftersales.complaints.choices import Category, EscalationReason, StepKind
from aftersales.complaints.choices import ComplaintStatus as S
from aftersales.complaints.models import (
    Complaint,
    ComplaintAlert,
    ComplaintEvent,
    ComplaintStep,
    Escalation,
)
from aftersales.complaints.sweep import complaints_clock
from aftersales.complaints.testing import make_complaint, oem_user
from aftersales.core.models import OutboxMessage
from aftersales.org.models import Dealer

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime.datetime(*args, tzinfo=SH)


# ---------------------------------------------------------------- limits


def test_a_limit_skips_the_national_day_holiday():
    # filed 2025-09-30 10:00, 3 working days: Oct 1-8 off, Oct 9, 10, Sat Oct 11 (make-up)
    due, provisional = clock.limit_deadline(at(2025, 9, 30, 10), 3)
    assert due == at(2025, 10, 11, 18) and not provisional


def test_a_limit_filed_after_hours_starts_the_next_working_day():
    # Friday 2026-11-27 19:00, urgent (1 working day): day 0 is Monday, due Tuesday 18:00
    due, _ = clock.limit_deadline(at(2026, 11, 27, 19), 1)
    assert due == at(2026, 12, 1, 18)


def test_a_limit_crosses_the_year_boundary():
    # 2025-12-30 11:00, 5 working days: Dec 31, Jan 1 (holiday), Jan 2-3 off (New Year),
    # Sunday Jan 4 is a make-up working day in 2026
    due, provisional = clock.limit_deadline(at(2025, 12, 30, 11), 5)
    assert not provisional
    expected_day = datetime.date(2025, 12, 30)
    from aftersales.core.workdays import add_working_days

    assert due.date() == add_working_days(expected_day, 5)
    assert due.date().year == 2026


def test_beyond_the_published_calendar_counts_weekdays_and_says_so():
    # 2026-12-28 (Monday), 5 working days: 2027 is not published yet → Mon-Fri guessed
    due, provisional = clock.limit_deadline(at(2026, 12, 28, 10), 5)
    assert provisional
    assert due == at(2027, 1, 4, 18)  # Dec 29, 30, 31, Jan 1 (a Friday: guessed on), Jan 4


def test_working_time_is_added_beyond_the_published_calendar_by_weekdays():
    # Friday 2099-01-02 17:00 plus one working day (9.5 h): 1 h on Friday, 8.5 h on Monday
    assert clock.add_working(at(2099, 1, 2, 17), clock.DAY) == at(2099, 1, 5, 17)


def test_working_time_counts_opening_hours_of_working_days_only():
    # Friday 17:00 → Monday 09:30: 1 h Friday + 1 h Monday
    assert clock.working_time(at(2026, 11, 27, 17), at(2026, 11, 30, 9, 30)) == (
        datetime.timedelta(hours=2)
    )


def test_the_calendar_index_agrees_with_the_workday_functions():
    calendar = clock.WorkCalendar(datetime.date(2025, 9, 1), datetime.date(2027, 3, 1))
    rng = random.Random(8)
    for _ in range(300):
        start = at(2025, 9, 20) + datetime.timedelta(minutes=rng.randrange(0, 60 * 24 * 480))
        end = start + datetime.timedelta(minutes=rng.randrange(0, 60 * 24 * 20))
        days = rng.randrange(1, 6)
        assert calendar.deadline(start, days) == clock.limit_deadline(start, days)
        exact = clock.working_time(start, end).total_seconds()
        assert abs(calendar.between(start, end) - exact) < 1


# ---------------------------------------------------------------- the sweep


@pytest.fixture
def bj01(demo_org):
    return Dealer.objects.get(code="BJ01")


def _age(complaint, working_days_ago):
    """Move the complaint's clock start back so ``working_days_ago`` working days have
    passed, keeping its limit."""
    now = timezone.now()
    start = now
    calendar = clock.WorkCalendar(
        now.date() - datetime.timedelta(days=60), now.date() + datetime.timedelta(days=60)
    )
    target = calendar.seconds(now) - int(working_days_ago * clock.DAY.total_seconds())
    while calendar.seconds(start) > target:
        start -= datetime.timedelta(minutes=15)
    due, provisional = clock.limit_deadline(start, complaint.limit_days)
    Complaint.objects.filter(pk=complaint.pk).update(
        clock_started_at=start, filed_at=start, deadline_at=due, deadline_provisional=provisional
    )
    for step in ComplaintStep.objects.filter(complaint=complaint):
        step.created_at = start
        step.due_at = clock.limit_deadline(start, step.limit_days)[0]
        step.save(update_fields=["created_at", "due_at"])
    complaint.refresh_from_db()
    return complaint


@pytest.mark.django_db
def test_warnings_at_each_threshold_once_and_the_breach(bj01):
    # given a general complaint (3 working days after the filing day) with 2 working days
    # used: 50-66 % of its limit
    complaint = _age(make_complaint(dealer=bj01), 2)
    first = complaints_clock()
    assert set(
        ComplaintAlert.objects.filter(complaint=complaint, step__isnull=True).values_list(
            "threshold", flat=True
        )
    ) == {50}
    assert first["alerts"] >= 1
    messages = OutboxMessage.objects.filter(subject__contains=complaint.number).count()
    assert messages > 0
    # when it runs again nothing is repeated
    again = complaints_clock()
    assert again["alerts"] == 0 and again["escalations"] == 0
    assert OutboxMessage.objects.filter(subject__contains=complaint.number).count() == messages
    # when the deadline passes: 80 % and the breach, and an overdue escalation
    complaint = _age(complaint, 4.5)
    complaints_clock()
    assert set(
        ComplaintAlert.objects.filter(complaint=complaint, step__isnull=True).values_list(
            "threshold", flat=True
        )
    ) == {50, 80, 100}
    reasons = set(Escalation.objects.filter(complaint=complaint).values_list("reason", flat=True))
    assert EscalationReason.OVERDUE in reasons
    assert EscalationReason.PLAN_LATE in reasons
    complaint.refresh_from_db()
    assert complaint.escalation_level == 2
    assert ComplaintEvent.objects.filter(complaint=complaint, kind="escalation").exists()


@pytest.mark.django_db
def test_a_late_vrt_escalates_and_a_tight_deadline_is_predicted(bj01):
    complaint = make_complaint(dealer=bj01, category=Category.QUALITY, grade="urgent")
    services.step_open(
        actor=oem_user("complaint"),
        complaint=complaint,
        kind=StepKind.VRT,
        members=[oem_user("techsupport")],
        limit_days=1,
    )
    # urgent: 1 working day; plan (1 day) + VRT + half a day cannot fit: predicted late
    complaints_clock()
    reasons = set(Escalation.objects.filter(complaint=complaint).values_list("reason", flat=True))
    assert EscalationReason.PREDICTED in reasons
    # the VRT's time runs out
    ComplaintStep.objects.filter(complaint=complaint, kind=StepKind.VRT).update(
        created_at=timezone.now() - datetime.timedelta(days=10),
        due_at=timezone.now() - datetime.timedelta(hours=1),
    )
    complaints_clock()
    reasons = set(Escalation.objects.filter(complaint=complaint).values_list("reason", flat=True))
    assert EscalationReason.VRT_LATE in reasons


@pytest.mark.django_db
def test_paused_and_closed_complaints_are_left_alone(bj01):
    paused = _age(make_complaint(dealer=bj01), 2.9)
    services.complaint_pause(actor=oem_user("complaint"), complaint=paused, reason="等客户")
    closed = make_complaint(dealer=bj01, status=S.CLOSED)
    counts = complaints_clock()
    assert counts["checked"] == 0
    assert not ComplaintAlert.objects.filter(complaint__in=[paused, closed]).exists()


@pytest.mark.django_db
def test_provisional_deadlines_are_recomputed_when_the_calendar_covers_them(bj01):
    # given a complaint whose clock started inside the published calendar (whatever today
    # is) but whose deadline was computed when that year was not published yet
    complaint = make_complaint(dealer=bj01)
    start = at(2026, 6, 1, 10)
    wrong = clock.limit_deadline(start, complaint.limit_days)[0] + datetime.timedelta(days=3)
    Complaint.objects.filter(pk=complaint.pk).update(
        clock_started_at=start, filed_at=start, deadline_at=wrong, deadline_provisional=True
    )
    # when the deadline job runs the next day
    counts = complaints_clock(now=at(2026, 6, 2, 10))
    # then the deadline is the calendar's, and no longer provisional
    complaint.refresh_from_db()
    assert counts["recomputed"] == 1
    assert not complaint.deadline_provisional
    assert (
        complaint.deadline_at
        == clock.limit_deadline(complaint.clock_started_at, complaint.limit_days)[0]
    )
