"""The complaint selectors: queues scoped to the user and ordered by deadline, capped
counts, the list's filters, VRT tasks and follow-ups through the complaint's scope."""

import datetime

import pytest
from django.utils import timezone

from aftersales.complaints import selectors, services
from aftersales.complaints.choices import ComplaintStatus as S
from aftersales.complaints.models import Complaint
from aftersales.complaints.testing import make_complaint
from aftersales.org.models import Dealer

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(demo_org):
    return {**demo_org, **{d.code: d for d in Dealer.objects.all()}}


def _due(complaint, delta):
    Complaint.objects.filter(pk=complaint.pk).update(deadline_at=timezone.now() + delta)


def test_overdue_queue_is_ordered_by_deadline_and_scoped_to_the_region(org):
    # given overdue complaints in the north (BJ01, TJ01) and in Shanghai
    older = make_complaint(dealer=org["TJ01"], status=S.HANDLING)
    newer = make_complaint(dealer=org["BJ01"], status=S.HANDLING)
    shanghai = make_complaint(dealer=org["SH01"], status=S.HANDLING)
    _due(older, -datetime.timedelta(days=3))
    _due(newer, -datetime.timedelta(hours=2))
    _due(shanghai, -datetime.timedelta(days=1))
    # then the specialist sees all three, oldest deadline first; the north's manager two
    assert list(selectors.queue(org["oem-complaint"], "overdue")) == [older, shanghai, newer]
    assert list(selectors.queue(org["north-rm"], "overdue")) == [older, newer]
    assert list(selectors.queue(org["bj01-svcmgr"], "overdue")) == [newer]


def test_a_paused_complaint_is_neither_due_soon_nor_overdue(org):
    complaint = make_complaint(dealer=org["BJ01"], status=S.HANDLING)
    _due(complaint, -datetime.timedelta(hours=1))
    specialist = org["oem-complaint"]
    assert list(selectors.queue(specialist, "overdue")) == [complaint]
    services.complaint_pause(actor=specialist, complaint=complaint, reason="等客户回复")
    assert list(selectors.queue(specialist, "overdue")) == []
    assert list(selectors.queue(specialist, "due_soon")) == []


def test_due_soon_means_within_one_working_day(org):
    now = timezone.now()
    cutoff = selectors.due_soon_cutoff(now)
    soon = make_complaint(dealer=org["BJ01"], status=S.HANDLING)
    later = make_complaint(dealer=org["BJ01"], status=S.HANDLING)
    Complaint.objects.filter(pk=soon.pk).update(deadline_at=cutoff - datetime.timedelta(minutes=1))
    Complaint.objects.filter(pk=later.pk).update(deadline_at=cutoff + datetime.timedelta(minutes=1))
    assert list(selectors.queue(org["oem-complaint"], "due_soon", now=now)) == [soon]
    # one working day is 9.5 hours of the centre's day, so never less than that
    assert cutoff - now >= datetime.timedelta(hours=9, minutes=30)


def test_the_waiting_queues_follow_the_open_steps(org):
    quality = make_complaint(dealer=org["BJ01"], status=S.HANDLING, category="quality")
    specialist = org["oem-complaint"]
    assert quality in selectors.queue(specialist, "dealer")  # its plan is open
    assert quality not in selectors.queue(specialist, "vrt")
    services.step_open(actor=specialist, complaint=quality, kind="vrt", members=[specialist])
    assert quality in selectors.queue(specialist, "vrt")
    services.plan_submit(actor=org["bj01-svcmgr"], complaint=quality, plan="更换")
    # the plan is in, its execution is now open: still waiting for the dealer
    assert quality in selectors.queue(specialist, "dealer")


def test_capped_count_stops_at_the_cap(org):
    for _ in range(4):
        make_complaint(status=S.TO_FILE)
    rows = selectors.queue(org["oem-complaint"], "to_file")
    assert selectors.capped_count(rows, cap=2) == 3  # shown as "2+"
    assert selectors.capped_count(rows, cap=10) == 4


def test_search_filters_by_number_phone_and_status(org):
    complaint = make_complaint(dealer=org["BJ01"], status=S.HANDLING)
    closed = make_complaint(dealer=org["BJ01"], status=S.CLOSED)
    user = org["bj01-svcmgr"]
    assert list(selectors.search(user, q=complaint.number.lower())) == [complaint]
    assert set(selectors.search(user, q="13800001111")) == {complaint, closed}
    assert list(selectors.search(user, status="open")) == [complaint]
    assert list(selectors.search(user, status="closed")) == [closed]
    assert list(selectors.search(org["sh01-svcmgr"], q=complaint.number)) == []


def test_vrt_tasks_and_follow_ups_are_scoped_through_the_complaint(org):
    complaint = make_complaint(dealer=org["BJ01"], status=S.HANDLING, category="quality")
    specialist, tech = org["oem-complaint"], org["oem-techsupport"]
    step = services.step_open(actor=specialist, complaint=complaint, kind="vrt", members=[tech])
    assert list(selectors.vrt_tasks(tech)) == [step]
    assert list(selectors.vrt_tasks(specialist)) == []
    assert list(selectors.vrt_tasks(specialist, everyone=True)) == [step]
    closed = make_complaint(dealer=org["BJ01"], status=S.CLOSED)
    follow_up = closed.follow_ups.get()
    assert list(selectors.follow_ups(org["oem-csagent"])) == [follow_up]
    assert list(selectors.follow_ups(org["bj01-svcmgr"])) == [follow_up]
    assert list(selectors.follow_ups(org["sh01-svcmgr"])) == []
