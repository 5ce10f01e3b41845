"""The follow-up call: outcomes, scores, retries, low-score alert, the DCRC queue
(issue 5 item 10)."""

import datetime

import pytest
from django.utils import timezone

from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.models import OutboxMessage
from aftersales.org.models import Dealer
from aftersales.workorders.choices import CallOutcome, EventKind, FollowUpStatus, ROStatus
from aftersales.workorders.followup import (
    DONE,
    DUE_NOW,
    OVERDUE,
    QUESTIONS,
    UPCOMING,
    FollowUpClosed,
    follow_up_record_call,
    follow_ups,
)
from aftersales.workorders.models import FollowUp, FollowUpCall, ServiceSettings
from aftersales.workorders.testing import make_repair_order
from aftersales.workorders.transitions import StaleVersion

S = ROStatus
pytestmark = pytest.mark.django_db
GOOD = {**dict.fromkeys(QUESTIONS, 5), "nps": 9}


@pytest.fixture
def bj01(demo_org):
    return Dealer.objects.get(code="BJ01")


def make_follow_up(dealer, *, opens_in=-1, due_in=47):
    """A follow-up of a delivered order of ``dealer``: callable from ``opens_in`` hours
    from now, due in ``due_in`` hours."""
    order = make_repair_order(dealer=dealer, status=S.DELIVERED)
    now = timezone.now()
    return FollowUp.objects.create(
        repair_order=order,
        dealer=dealer,
        opens_at=now + datetime.timedelta(hours=opens_in),
        due_at=now + datetime.timedelta(hours=due_in),
    )


def call(fu, user, outcome, scores=None, remarks=""):
    fu.refresh_from_db()
    return follow_up_record_call(
        actor=user,
        follow_up=fu,
        version=fu.version,
        outcome=outcome,
        scores=scores,
        remarks=remarks,
    )


def test_reached_with_every_score_is_done(bj01, demo_org):
    fu = make_follow_up(bj01)
    agent = demo_org["bj01-dcrc"]
    fu = call(fu, agent, CallOutcome.REACHED, GOOD, "很满意")
    assert (fu.status, fu.attempts, fu.scores) == (FollowUpStatus.DONE, 1, GOOD)
    assert fu.completed_by == agent and fu.completed_at is not None and fu.remarks == "很满意"
    assert fu.alerted_at is None
    assert FollowUpCall.objects.filter(follow_up=fu, outcome=CallOutcome.REACHED).count() == 1
    event = fu.repair_order.events.get(kind=EventKind.FOLLOW_UP)
    assert event.data["scores"] == GOOD and event.actor == agent


@pytest.mark.parametrize(
    "scores, field",
    [
        ({**GOOD, "price": 6}, "price"),
        ({**GOOD, "overall": 0}, "overall"),
        ({k: v for k, v in GOOD.items() if k != "facility"}, "facility"),
        ({**GOOD, "nps": 11}, "nps"),
        ({**GOOD, "advisor": "abc"}, "advisor"),
    ],
)
def test_reached_needs_valid_scores(bj01, demo_org, scores, field):
    fu = make_follow_up(bj01)
    with pytest.raises(ValidationFailed) as refused:
        call(fu, demo_org["bj01-dcrc"], CallOutcome.REACHED, scores)
    assert field in refused.value.fields
    fu.refresh_from_db()
    assert (fu.status, fu.attempts) == (FollowUpStatus.OPEN, 0)
    assert not fu.calls.exists()


def test_not_reached_is_retried_until_the_dealers_attempts_then_unreachable(bj01, demo_org):
    ServiceSettings.objects.update_or_create(dealer=bj01, defaults={"follow_up_attempts": 3})
    fu = make_follow_up(bj01)
    agent = demo_org["bj01-dcrc"]
    for attempt in (1, 2):
        fu = call(fu, agent, CallOutcome.NOT_REACHED, remarks="无人接听")
        assert (fu.status, fu.attempts) == (FollowUpStatus.OPEN, attempt)
    fu = call(fu, agent, CallOutcome.NOT_REACHED)
    assert (fu.status, fu.attempts) == (FollowUpStatus.UNREACHABLE, 3)
    assert fu.calls.count() == 3
    assert fu.repair_order.events.filter(kind=EventKind.FOLLOW_UP).count() == 3


def test_declined_is_done_without_scores(bj01, demo_org):
    fu = call(make_follow_up(bj01), demo_org["bj01-dcrc"], CallOutcome.DECLINED, GOOD)
    assert (fu.status, fu.scores) == (FollowUpStatus.DONE, {})


def test_a_low_score_alerts_the_service_managers_once(bj01, demo_org):
    # given the default threshold (3) and a customer unhappy with the price
    fu = make_follow_up(bj01)
    fu = call(fu, demo_org["bj01-dcrc"], CallOutcome.REACHED, {**GOOD, "price": 2}, "太贵")
    # then the service manager has one in-app alert and the follow-up remembers it
    assert fu.alerted_at is not None
    manager = demo_org["bj01-svcmgr"]
    alerts = OutboxMessage.objects.filter(
        channel="inapp", dedup_key__startswith=f"followup-low:{fu.pk}:"
    )
    assert alerts.filter(recipient=str(manager.pk)).count() == 1
    assert fu.repair_order.number in alerts.get(recipient=str(manager.pk)).subject
    # nobody of another dealer is alerted
    assert not alerts.filter(recipient=str(demo_org["sh01-svcmgr"].pk)).exists()
    # a done follow-up takes no further call, so no second alert either
    with pytest.raises(FollowUpClosed) as refused:
        call(fu, demo_org["bj01-dcrc"], CallOutcome.REACHED, {**GOOD, "price": 1})
    assert refused.value.status == 409
    assert alerts.count() == len(alerts.values("recipient").distinct())


def test_scores_above_the_threshold_alert_nobody(bj01, demo_org):
    ServiceSettings.objects.update_or_create(dealer=bj01, defaults={"low_score": 2})
    fu = call(
        make_follow_up(bj01), demo_org["bj01-dcrc"], CallOutcome.REACHED, {**GOOD, "price": 3}
    )
    assert fu.alerted_at is None
    assert not OutboxMessage.objects.filter(dedup_key__startswith=f"followup-low:{fu.pk}:").exists()


def test_a_call_on_a_done_follow_up_is_refused(bj01, demo_org):
    fu = call(make_follow_up(bj01), demo_org["bj01-dcrc"], CallOutcome.DECLINED)
    with pytest.raises(FollowUpClosed) as refused:
        call(fu, demo_org["bj01-dcrc"], CallOutcome.NOT_REACHED)
    assert refused.value.status == 409 and refused.value.code == "follow_up_closed"
    assert fu.calls.count() == 1


def test_a_stale_version_and_another_dealers_agent_are_refused(bj01, demo_org):
    fu = make_follow_up(bj01)
    with pytest.raises(StaleVersion):
        follow_up_record_call(
            actor=demo_org["bj01-dcrc"],
            follow_up=fu,
            version=fu.version + 1,
            outcome=CallOutcome.DECLINED,
        )
    with pytest.raises(PermissionDenied):
        call(fu, demo_org["sh01-dcrc"], CallOutcome.DECLINED)
    fu.refresh_from_db()
    assert (fu.status, fu.attempts) == (FollowUpStatus.OPEN, 0)


def test_the_dcrc_queue_by_due_time_and_dealer(bj01, demo_org):
    due = make_follow_up(bj01, opens_in=-2, due_in=10)
    overdue = make_follow_up(bj01, opens_in=-80, due_in=-8)
    upcoming = make_follow_up(bj01, opens_in=5, due_in=50)
    done = call(make_follow_up(bj01), demo_org["bj01-dcrc"], CallOutcome.DECLINED)
    other = make_follow_up(Dealer.objects.get(code="SH01"))
    agent = demo_org["bj01-dcrc"]
    assert list(follow_ups(agent, due=DUE_NOW)) == [due]
    assert list(follow_ups(agent, due=OVERDUE)) == [overdue]
    assert list(follow_ups(agent, due=UPCOMING)) == [upcoming]
    assert list(follow_ups(agent, due=DONE)) == [done]
    assert other not in follow_ups(agent)
    assert list(follow_ups(demo_org["sh01-dcrc"])) == [other]
