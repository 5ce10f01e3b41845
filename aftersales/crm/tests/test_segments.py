"""RFM segmentation: loyal, regular, potential, at risk and lost from the service visits,
with thresholds the OEM can change; recomputed in bulk, idempotently."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.models import AuditAction, AuditLog
from aftersales.crm.choices import Segment, VisitKind
from aftersales.crm.models import Customer, SegmentRule, ServiceVisit
from aftersales.crm.segments import (
    months_before,
    segment_explain,
    segment_rule_update,
    segments_recompute,
    window_start,
)
from aftersales.crm.services import customer_merge
from aftersales.crm.tasks import recompute_segments
from aftersales.crm.testing import make_customer, make_vehicle

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 6, 30)
# the default rule: window 24 months, at risk after 240 days, lost after 450 days,
# loyal from 4 visits and ¥6,000, regular from 2 visits


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def shop(demo_org):
    """BJ01's advisor, a car to book visits on, and a way to make customers with visits."""
    sa = demo_org["bj01-sa"]
    car_owner = make_customer(dealer=sa.dealer, actor=sa, name="车主")
    car = make_vehicle(owner=car_owner, dealer=sa.dealer, actor=sa)
    # the car's owner is a customer too: registered long ago, never came
    Customer.objects.filter(pk=car_owner.pk).update(
        created_at=timezone.make_aware(datetime.datetime(2020, 1, 1))
    )
    names = iter(f"客户{n}" for n in range(1, 1000))

    def make(*visits, registered_days_ago=1000, amount="1000.00"):
        """A customer with visits ``days ago`` (each ``amount``, or (days, amount))."""
        customer = make_customer(dealer=sa.dealer, actor=sa, name=next(names))
        Customer.objects.filter(pk=customer.pk).update(
            created_at=timezone.make_aware(
                datetime.datetime.combine(
                    TODAY - datetime.timedelta(days=registered_days_ago), datetime.time(10)
                )
            )
        )
        for visit in visits:
            days, paid = visit if isinstance(visit, tuple) else (visit, amount)
            ServiceVisit.objects.create(
                customer=customer,
                vehicle=car,
                dealer=sa.dealer,
                visited_on=TODAY - datetime.timedelta(days=days),
                kind=VisitKind.MAINTENANCE,
                amount=Decimal(paid),
            )
        return customer

    make.owner = car_owner
    return make


def segment_of(customer) -> str:
    return Customer.objects.values_list("segment", flat=True).get(pk=customer.pk)


# ---------------------------------------------------------------- recency


@pytest.mark.parametrize(
    "days_ago, segment",
    [
        (451, Segment.LOST),  # more than 450 days
        (450, Segment.AT_RISK),  # exactly 450 is not yet lost
        (241, Segment.AT_RISK),  # more than 240 days
        (240, Segment.POTENTIAL),  # exactly 240 is not yet at risk (one visit)
        (0, Segment.POTENTIAL),
    ],
)
def test_recency_edges(shop, days_ago, segment):
    customer = shop(days_ago)
    segments_recompute(today=TODAY)
    assert segment_of(customer) == segment


def test_the_last_visit_counts_even_outside_the_window(shop):
    # given visits 1,000 days ago (outside 24 months) and 300 days ago
    customer = shop(1000, 300)
    segments_recompute(today=TODAY)
    # then recency is 300 days: at risk, not lost
    assert segment_of(customer) == Segment.AT_RISK


def test_frequent_but_long_gone_customers_are_still_lost(shop):
    customer = shop(460, 470, 480, 490, 500, amount="5000.00")
    segments_recompute(today=TODAY)
    assert segment_of(customer) == Segment.LOST


# ---------------------------------------------------------------- frequency and money


@pytest.mark.parametrize(
    "visits, segment",
    [
        ([(10, "1500.00")] * 4, Segment.LOYAL),  # 4 visits, exactly ¥6,000
        ([(10, "1500.00")] * 3 + [(10, "1499.99")], Segment.REGULAR),  # a cent short
        ([(10, "9000.00")] * 3, Segment.REGULAR),  # rich, but 3 visits
        ([(10, "100.00")] * 2, Segment.REGULAR),
        ([(10, "99999.00")], Segment.POTENTIAL),  # one visit, however big
    ],
)
def test_loyal_needs_both_visits_and_money_regular_needs_visits(shop, visits, segment):
    customer = shop(*visits)
    segments_recompute(today=TODAY)
    assert segment_of(customer) == segment


def test_the_window_is_the_last_24_months_to_the_day(shop):
    # given visits on 2024-06-30 (exactly 24 months before today: outside) and 2024-07-01
    on_edge = (TODAY - datetime.date(2024, 6, 30)).days
    inside = (TODAY - datetime.date(2024, 7, 1)).days
    edge_customer = shop(on_edge, 5)
    inside_customer = shop(inside, 5)
    assert window_start(SegmentRule(), TODAY) == datetime.date(2024, 7, 1)
    # then only the second has two visits in the window
    segments_recompute(today=TODAY)
    assert segment_of(edge_customer) == Segment.POTENTIAL
    assert segment_of(inside_customer) == Segment.REGULAR


def test_visits_after_today_do_not_count(shop):
    # given a customer whose only visits are dated after the day recomputed
    customer = shop(-1, -2, registered_days_ago=500)
    segments_recompute(today=TODAY)
    # then they count as never having come: lost by the record's age
    assert segment_of(customer) == Segment.LOST


# ---------------------------------------------------------------- never came


@pytest.mark.parametrize(
    "registered, segment",
    [
        (0, Segment.POTENTIAL),
        (240, Segment.POTENTIAL),
        (241, Segment.AT_RISK),
        (450, Segment.AT_RISK),
        (451, Segment.LOST),
    ],
)
def test_customers_who_never_came_age_by_their_registration(shop, registered, segment):
    customer = shop(registered_days_ago=registered)
    segments_recompute(today=TODAY)
    assert segment_of(customer) == segment


# ---------------------------------------------------------------- the job


def test_recompute_counts_sets_the_time_and_skips_merged_customers(shop, demo_org):
    # given one customer per segment, and a merged one
    loyal = shop(*[(10, "2000.00")] * 4)
    regular = shop(10, 20)
    potential = shop(10)
    at_risk = shop(300)
    lost = shop(500)
    survivor, merged = shop(600), shop(registered_days_ago=10)
    customer_merge(actor=demo_org["bj01-svcmgr"], survivor=survivor, duplicate=merged)
    before = timezone.now()
    # when the segments are recomputed
    counts = segments_recompute(today=TODAY)
    # then each live customer has its segment and time; the merged one is untouched
    assert [segment_of(c) for c in (loyal, regular, potential, at_risk, lost, survivor)] == [
        Segment.LOYAL,
        Segment.REGULAR,
        Segment.POTENTIAL,
        Segment.AT_RISK,
        Segment.LOST,
        Segment.LOST,
    ]
    assert Customer.objects.get(pk=merged.pk).segment == ""
    assert Customer.objects.get(pk=merged.pk).segment_at is None
    assert Customer.objects.get(pk=loyal.pk).segment_at >= before
    # and the counts are per segment, the car's owner (never came, 2020) among the lost
    assert counts == {
        Segment.LOYAL: 1,
        Segment.REGULAR: 1,
        Segment.POTENTIAL: 1,
        Segment.AT_RISK: 1,
        Segment.LOST: 3,
    }
    assert sum(counts.values()) == Customer.objects.live().count()


def test_recompute_is_idempotent(shop):
    customers = [shop(10, 20), shop(300), shop(registered_days_ago=5)]
    first = segments_recompute(today=TODAY)
    segments = [segment_of(c) for c in customers]
    assert segments_recompute(today=TODAY) == first
    assert [segment_of(c) for c in customers] == segments


def test_segment_at_says_since_when_and_a_rerun_writes_nothing(shop):
    # given customers classified once
    stays, moves = shop(600), shop(registered_days_ago=5)
    segments_recompute(today=TODAY)
    first = dict(Customer.objects.values_list("pk", "segment_at"))
    # when the job runs again the next day, when the new customer is still potential
    segments_recompute(today=TODAY + datetime.timedelta(days=1))
    # then nobody's segment_at moved
    assert dict(Customer.objects.values_list("pk", "segment_at")) == first
    # and when the new customer has gone 240 days without a visit, only they are written
    segments_recompute(today=TODAY + datetime.timedelta(days=240))
    after = dict(Customer.objects.values_list("pk", "segment_at"))
    assert segment_of(moves) == Segment.AT_RISK and after[moves.pk] > first[moves.pk]
    assert after[stays.pk] == first[stays.pk]


def test_a_customer_moves_segment_when_they_come_back(shop):
    customer = shop(300)
    segments_recompute(today=TODAY)
    assert segment_of(customer) == Segment.AT_RISK
    ServiceVisit.objects.create(
        customer=customer,
        vehicle=ServiceVisit.objects.filter(customer=customer).first().vehicle,
        dealer=ServiceVisit.objects.filter(customer=customer).first().dealer,
        visited_on=TODAY,
        kind=VisitKind.REPAIR,
    )
    segments_recompute(today=TODAY)
    assert segment_of(customer) == Segment.REGULAR


def test_recompute_takes_a_fixed_number_of_queries(shop, django_assert_max_num_queries):
    for n in range(30):
        shop(n * 20, (n * 20) + 5)
    # one aggregate, one update per segment, three for the customers who never came
    with django_assert_max_num_queries(10):
        segments_recompute(today=TODAY, rule=SegmentRule())


def test_the_nightly_task_runs_with_no_arguments(shop):
    customer = shop(1)
    counts = recompute_segments()
    assert sum(counts.values()) == Customer.objects.live().count()
    assert segment_of(customer) == Segment.POTENTIAL


# ---------------------------------------------------------------- a changed rule


def test_a_changed_rule_changes_the_segments(shop, demo_org):
    # given a customer with 2 visits worth ¥3,000, 100 days ago
    customer = shop((100, "1500.00"), (110, "1500.00"))
    segments_recompute(today=TODAY)
    assert segment_of(customer) == Segment.REGULAR
    # when the OEM makes 2 visits and ¥3,000 loyal, and at risk after 90 days
    segment_rule_update(
        actor=demo_org["oem-admin"],
        loyal_min_visits=2,
        loyal_min_amount="3000",
        regular_min_visits=1,
        at_risk_after_days=90,
    )
    segments_recompute(today=TODAY)
    # then the new rule applies: 100 days without a visit is now at risk
    assert segment_of(customer) == Segment.AT_RISK
    segment_rule_update(actor=demo_org["oem-admin"], at_risk_after_days=120)
    segments_recompute(today=TODAY)
    assert segment_of(customer) == Segment.LOYAL


def test_a_rule_passed_in_is_used_instead_of_the_stored_one(shop):
    customer = shop(10)
    segments_recompute(today=TODAY, rule=SegmentRule(regular_min_visits=1, loyal_min_visits=9))
    assert segment_of(customer) == Segment.REGULAR


def test_a_shorter_window_counts_fewer_visits(shop):
    customer = shop(10, 40)  # 10 and 40 days ago
    segments_recompute(today=TODAY, rule=SegmentRule(window_months=1))
    assert segment_of(customer) == Segment.POTENTIAL


# ---------------------------------------------------------------- the thresholds service


def test_the_oem_creates_the_rule_row_when_there_is_none(demo_org):
    # given no stored rule
    assert not SegmentRule.objects.exists()
    # when the OEM administrator sets the thresholds
    rule = segment_rule_update(
        actor=demo_org["oem-admin"], window_months="12", loyal_min_amount="8,000.50"
    )
    # then the single row is created with them and the defaults, and audited
    stored = SegmentRule.objects.get()
    assert stored == rule == SegmentRule.current()
    assert (stored.window_months, stored.loyal_min_amount) == (12, Decimal("8000.50"))
    assert stored.lost_after_days == 450
    assert AuditLog.objects.get(object_id=str(stored.pk)).action == AuditAction.CREATE
    # and a second change updates it in place, with an audit row of the change
    segment_rule_update(actor=demo_org["oem-admin"], lost_after_days=400)
    assert SegmentRule.objects.count() == 1
    change = AuditLog.objects.filter(action=AuditAction.UPDATE).get()
    assert change.changes == {"lost_after_days": [450, 400]}


@pytest.mark.parametrize("username", ["bj01-admin", "north-rm", "oem-analyst", "bj01-svcmgr"])
def test_only_roles_with_the_permission_change_the_rule(demo_org, username):
    with pytest.raises(PermissionDenied):
        segment_rule_update(actor=demo_org[username], window_months=12)
    assert not SegmentRule.objects.exists() and not AuditLog.objects.exists()


@pytest.mark.parametrize(
    "fields, errors",
    [
        (
            {"lost_after_days": 240},
            {"lost_after_days": ["A customer is lost later than at risk: more than 240 days."]},
        ),
        (
            {"at_risk_after_days": 500},
            {"lost_after_days": ["A customer is lost later than at risk: more than 500 days."]},
        ),
        (
            {"loyal_min_visits": 1},
            {
                "loyal_min_visits": [
                    "Loyal customers need at least as many visits as regular ones (2)."
                ]
            },
        ),
        ({"regular_min_visits": 0}, {"regular_min_visits": ["Enter a number from 1 to 32767."]}),
        ({"window_months": 0}, {"window_months": ["Enter a number from 1 to 60."]}),
        ({"window_months": 61}, {"window_months": ["Enter a number from 1 to 60."]}),
        ({"window_months": "two"}, {"window_months": ["Enter a whole number."]}),
        (
            {"loyal_min_amount": "lots"},
            {"loyal_min_amount": ["Enter an amount in CNY, such as 6000."]},
        ),
        (
            {"loyal_min_amount": "-1"},
            {
                "loyal_min_amount": [
                    "Enter an amount from 0 to 9,999,999,999.99 CNY with at most 2 decimals."
                ]
            },
        ),
        (
            {"loyal_min_amount": "NaN"},
            {"loyal_min_amount": ["Enter an amount in CNY, such as 6000."]},
        ),
        ({"window": 12}, {"window": ["This field cannot be changed."]}),
    ],
)
def test_bad_thresholds_are_refused_and_nothing_changes(demo_org, fields, errors):
    # given a stored rule
    admin = demo_org["oem-admin"]
    segment_rule_update(actor=admin)
    audits = AuditLog.objects.count()
    # when a bad threshold is given
    with pytest.raises(ValidationFailed) as caught:
        segment_rule_update(actor=admin, **fields)
    # then the field is named with its reason, and nothing changed
    assert caught.value.fields == errors
    stored = SegmentRule.objects.get()
    assert (stored.window_months, stored.lost_after_days, stored.loyal_min_visits) == (24, 450, 4)
    assert AuditLog.objects.count() == audits


def test_months_before_keeps_the_day_or_takes_the_months_last():
    assert months_before(datetime.date(2026, 3, 31), 1) == datetime.date(2026, 2, 28)
    assert months_before(datetime.date(2026, 1, 15), 1) == datetime.date(2025, 12, 15)
    assert months_before(datetime.date(2026, 6, 30), 24) == datetime.date(2024, 6, 30)
    assert months_before(datetime.date(2028, 2, 29), 12) == datetime.date(2027, 2, 28)


# ---------------------------------------------------------------- explaining


def test_explain_gives_the_figures_and_the_rule_that_applied(shop):
    customer = shop((10, "2000.00"), (20, "2000.00"), (30, "1000.00"), (40, "1000.50"), 900)
    customer.refresh_from_db()
    explained = segment_explain(customer, today=TODAY)
    assert explained["segment"] == Segment.LOYAL
    assert explained["last_visit"] == TODAY - datetime.timedelta(days=10)
    assert (explained["visits"], explained["amount"]) == (4, Decimal("6000.50"))
    assert explained["days_since"] == 10
    assert explained["window_start"] == datetime.date(2024, 7, 1)
    assert explained["reason"] == (
        "4 visits and ¥6000.50 in 24 months: at least 4 visits and ¥6000.00."
    )


@pytest.mark.parametrize(
    "visits, registered, segment, reason",
    [
        ((500,), 1000, Segment.LOST, "Last visit 500 days ago: more than 450 days."),
        ((300,), 1000, Segment.AT_RISK, "Last visit 300 days ago: more than 240 days."),
        (
            (10, 20),
            1000,
            Segment.REGULAR,
            "2 visits in 24 months: at least 2, but not both 4 visits and ¥6000.00.",
        ),
        ((10,), 1000, Segment.POTENTIAL, "1 visit in 24 months: fewer than 2."),
        ((), 100, Segment.POTENTIAL, "No visit yet, registered 100 days ago: within 240 days."),
        ((), 300, Segment.AT_RISK, "No visit yet, registered 300 days ago: more than 240 days."),
        ((), 500, Segment.LOST, "No visit yet, registered 500 days ago: more than 450 days."),
    ],
)
def test_explain_says_why(shop, visits, registered, segment, reason):
    customer = shop(*visits, registered_days_ago=registered)
    customer.refresh_from_db()
    explained = segment_explain(customer, today=TODAY)
    assert (explained["segment"], explained["reason"]) == (segment, reason)
    # and it agrees with the nightly job
    segments_recompute(today=TODAY)
    assert segment_of(customer) == segment


def test_explain_shows_the_stored_segment_next_to_todays(shop):
    customer = shop(100)
    segments_recompute(today=TODAY)
    customer.refresh_from_db()
    later = segment_explain(customer, today=TODAY + datetime.timedelta(days=200))
    assert later["stored_segment"] == Segment.POTENTIAL
    assert later["segment"] == Segment.AT_RISK
    assert later["stored_at"] == customer.segment_at
