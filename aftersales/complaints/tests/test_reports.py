"""Complaint reports (issue 8 item 10): the counts, on-time rate and handling time
(average, 90th percentile) worked out by hand, the overdue list, repeat complaints,
escalations, the dealer assessment with its weights, the scope of a region manager, the
Excel workbook, the page and the API, and a fixed number of queries. The same tests run
on SQLite and, with AFTERSALES_TEST_DATABASE=postgresql, on PostgreSQL (where the
percentile comes from percentile_cont)."""

import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from aftersales.complaints import reports, services
from aftersales.complaints.choices import Category, ClosureCondition, Grade
from aftersales.complaints.choices import ComplaintStatus as S
from aftersales.complaints.models import Complaint, ComplaintSettings, Escalation
from aftersales.complaints.testing import dealer_user, make_complaint, oem_user
from aftersales.crm.testing import make_customer, make_vehicle
from aftersales.org.models import Dealer

pytestmark = pytest.mark.django_db
ALL = reports.ReportFilters()  # no date range: every complaint
POSTGRES = connection.vendor == "postgresql"


@pytest.fixture
def org(demo_org):
    return {**demo_org, **{d.code: d for d in Dealer.objects.all()}}


def _set(complaint, **fields):
    """Given data the services cannot produce today (a past date, a measured handling
    time): written straight onto the row."""
    Complaint.objects.filter(pk=complaint.pk).update(**fields)
    complaint.refresh_from_db()
    return complaint


def _closed(dealer, days, *, on_time=True, **kwargs):
    complaint = make_complaint(dealer=dealer, status=S.CLOSED, **kwargs)
    return _set(complaint, handling_days=Decimal(days), closed_on_time=on_time)


def _close(complaint):
    """Close a complaint in handling the way make_complaint does."""
    services.plan_submit(
        actor=dealer_user(complaint.dealer), complaint=complaint, plan="更换隔音棉"
    )
    return services.complaint_close(
        actor=oem_user("complaint"),
        complaint=complaint,
        condition=ClosureCondition.DONE,
        evidence="客户确认",
    )


def _queries(func, *args, **kwargs):
    with CaptureQueriesContext(connection) as ctx:
        result = func(*args, **kwargs)
    return result, len(ctx.captured_queries)


# ---------------------------------------------------------------- time limits


def test_on_time_rate_average_and_90th_percentile(org, django_assert_num_queries):
    # given three closed complaints handled in 1, 2 and 4 working days, the 4-day one late,
    # and one still in handling (not counted)
    _closed(org["BJ01"], "1.00")
    _closed(org["BJ01"], "2.00")
    _closed(org["SH01"], "4.00", on_time=False)
    make_complaint(dealer=org["BJ01"], status=S.HANDLING)
    analyst = org["oem-analyst"]
    # when the analyst reads the time-limit figures
    # (the user's roles, the aggregate; elsewhere than PostgreSQL one more: the OFFSET read)
    with django_assert_num_queries(2 if POSTGRES else 3):
        figures = reports.time_limits(analyst, ALL)
    # then 2 of 3 closed on time, average (1 + 2 + 4) / 3 = 2.33, and the 90th percentile
    # at position 0.9 × (3 − 1) = 1.8 of the sorted 1, 2, 4: 2 + 0.8 × (4 − 2) = 3.60
    assert figures == {
        "closed": 3,
        "on_time": 2,
        "late": 1,
        "on_time_rate": Decimal("66.7"),
        "average_days": Decimal("2.33"),
        "p90_days": Decimal("3.60"),
    }
    # and the portable reading gives the figure the database gives
    closed = Complaint.objects.filter(status=S.CLOSED)
    assert reports.percentile_by_offset(closed, "handling_days", 3) == Decimal("3.60")


def test_percentile_on_ten_values_and_on_one(org):
    # given ten closed complaints handled in 1..10 working days
    for days in range(1, 11):
        _closed(org["BJ01"], days)
    # then p90 sits at position 0.9 × 9 = 8.1: 9 + 0.1 × (10 − 9) = 9.10; the average 5.50
    figures = reports.time_limits(org["oem-analyst"], ALL)
    assert (figures["average_days"], figures["p90_days"]) == (Decimal("5.50"), Decimal("9.10"))
    assert reports.percentile_by_offset(Complaint.objects.all(), "handling_days", 10) == Decimal(
        "9.1"
    )
    # and with one value, the percentile is that value; with none there is none
    one = Complaint.objects.filter(handling_days=Decimal(7))
    assert reports.percentile_by_offset(one, "handling_days", 1) == Decimal(7)
    assert reports.time_limits(org["oem-analyst"], reports.ReportFilters(grade="urgent")) == {
        "closed": 0,
        "on_time": 0,
        "late": 0,
        "on_time_rate": None,
        "average_days": None,
        "p90_days": None,
    }


# ---------------------------------------------------------------- counts


@pytest.fixture
def mixed(org):
    """BJ01: a closed service/general complaint and a quality/urgent one in handling about
    a vehicle; a parts/major complaint filed but not yet assigned; an informal complaint
    resolved by the agent; one TJ01 forwarded, still to judge (informal)."""
    vehicle = make_vehicle(owner=make_customer(name="李娜"))
    make_complaint(dealer=org["BJ01"], status=S.CLOSED)
    make_complaint(
        dealer=org["BJ01"],
        status=S.HANDLING,
        category=Category.QUALITY,
        grade=Grade.URGENT,
        vehicle=vehicle,
    )
    make_complaint(dealer=org["SH01"], status=S.FILED, category=Category.PARTS, grade=Grade.MAJOR)
    make_complaint(status=S.RESOLVED)
    make_complaint(dealer=org["TJ01"], status=S.NEW, forwarded=True)
    return vehicle


def test_counts_by_channel_type_grade_region_dealer_and_model(org, mixed):
    # when the analyst reads the counts
    data, queries = _queries(reports.counts, org["oem-analyst"], ALL)
    # then 5 received, 3 of them formal
    assert data["totals"] == {
        "received": 5,
        "formal": 3,
        "informal": 2,
        "invalid": 0,
        "resolved": 1,
        "to_judge": 1,
        "running": 2,
        "closed": 1,
    }
    channel = {r["key"]: (r["received"], r["formal"]) for r in data["by_channel"]}
    assert channel["hotline"] == (4, 3)
    assert channel["dealer"] == (1, 0)
    assert channel["wechat"] == (0, 0)
    assert {r["key"]: r["formal"] for r in data["by_type"]} == {
        "quality": 1,
        "sales": 0,
        "service": 1,
        "parts": 1,
        "other": 0,
    }
    assert {r["key"]: r["formal"] for r in data["by_grade"]} == {
        "general": 1,
        "major": 1,
        "urgent": 1,
    }
    # the unassigned ones (the filed parts complaint and the resolved one) have no region
    assert [(r["code"], r["received"], r["formal"]) for r in data["by_region"]] == [
        ("NORTH", 3, 2),
        ("", 2, 1),
    ]
    assert [(r["code"], r["received"], r["formal"]) for r in data["by_dealer"]] == [
        ("BJ01", 2, 2),
        ("TJ01", 1, 0),
        ("", 2, 1),
    ]
    model = mixed.variant.vehicle_model
    assert [(r["id"], r["received"], r["formal"]) for r in data["by_vehicle_model"]] == [
        (model.pk, 1, 1),
        (None, 4, 2),
    ]
    month = timezone.localdate().strftime("%Y-%m")
    assert data["by_month"] == [
        {
            "month": month,
            "received": 5,
            "formal": 3,
            "closed": 1,
            "on_time": 1,
            "on_time_rate": Decimal("100.0"),
        }
    ]
    # and in the database: the user's roles and one aggregate per table
    assert queries == 9


def test_filters_narrow_the_counts(org, mixed):
    last_month = timezone.now() - datetime.timedelta(days=40)
    old = make_complaint(dealer=org["BJ01"], status=S.CLOSED)
    _set(old, received_at=last_month)
    analyst = org["oem-analyst"]
    today = timezone.localdate()
    recent = reports.ReportFilters(date_from=today - datetime.timedelta(days=7), date_to=today)
    # the one received 40 days ago falls outside the last week
    assert reports.counts(analyst, ALL)["totals"]["received"] == 6
    assert reports.counts(analyst, recent)["totals"]["received"] == 5
    # filing dates count formal complaints only (the old one was filed today)
    filed = reports.ReportFilters(
        date_from=today - datetime.timedelta(days=7), date_to=today, basis="filed"
    )
    assert reports.counts(analyst, filed)["totals"] == {
        **reports.counts(analyst, filed)["totals"],
        "received": 4,
        "formal": 4,
    }
    totals = lambda **f: reports.counts(analyst, reports.ReportFilters(**f))["totals"]  # noqa: E731
    assert totals(grade="urgent")["formal"] == 1
    assert totals(category="parts")["formal"] == 1
    assert totals(channel="dealer")["received"] == 1
    assert totals(dealer_id=org["BJ01"].pk)["received"] == 3
    assert totals(region_id=org["TJ01"].region_id)["received"] == 4


# ---------------------------------------------------------------- scope


def test_a_region_manager_reports_on_its_dealers_only(org, mixed):
    north = org["north-rm"]
    data = reports.counts(north, ALL)
    # the OEM's unassigned complaints and other regions' dealers are not in it
    assert data["totals"]["received"] == 3
    assert [r["code"] for r in data["by_dealer"]] == ["BJ01", "TJ01"]
    rows = reports.dealer_assessment(north, ALL)["rows"]
    assert sorted(r["dealer"] for r in rows) == ["BJ01", "TJ01"]
    assert reports.out_of_scope(north, reports.ReportFilters(dealer_id=org["SH01"].pk))
    assert reports.out_of_scope(north, reports.ReportFilters(region_id=org["SH01"].region_id))
    assert not reports.out_of_scope(north, reports.ReportFilters(dealer_id=org["BJ01"].pk))
    # and a dealer's service manager holds no export permission: nothing at all
    assert reports.counts(org["bj01-svcmgr"], ALL)["totals"]["received"] == 0
    assert reports.dealer_assessment(org["bj01-svcmgr"], ALL)["rows"] == []


# ---------------------------------------------------------------- overdue


def test_overdue_list_with_the_time_over_in_working_days(org):
    # given "now" is Wednesday 18 November 2026, 10:00 (working days: Mon 16, Tue 17, Wed 18)
    tz = timezone.get_current_timezone()
    now = datetime.datetime(2026, 11, 18, 10, 0, tzinfo=tz)
    monday_close = datetime.datetime(2026, 11, 16, 18, 0, tzinfo=tz)
    a = _set(make_complaint(dealer=org["BJ01"], status=S.HANDLING), deadline_at=monday_close)
    b = _set(
        make_complaint(dealer=org["SH01"], status=S.FILED),
        deadline_at=monday_close + datetime.timedelta(hours=12),  # Tue 06:00, before opening
    )
    c = _set(
        make_complaint(dealer=org["BJ01"], status=S.HANDLING),
        deadline_at=now - datetime.timedelta(minutes=30),
    )
    # not overdue: due tomorrow; paused before the deadline passed; closed
    _set(
        make_complaint(dealer=org["BJ01"], status=S.HANDLING),
        deadline_at=now + datetime.timedelta(days=1),
    )
    _set(
        make_complaint(dealer=org["BJ01"], status=S.HANDLING),
        deadline_at=monday_close,
        paused_since=monday_close - datetime.timedelta(hours=2),
    )
    _set(make_complaint(dealer=org["BJ01"], status=S.CLOSED), deadline_at=monday_close)
    analyst = org["oem-analyst"]
    # when the analyst reads the first page of two
    page, queries = _queries(reports.overdue_page, analyst, ALL, page=1, page_size=2, now=now)
    # then three are overdue, most overdue first
    assert (page["count"], page["pages"], queries) == (3, 2, 3)  # roles, count, page
    assert [r["id"] for r in page["rows"]] == [a.pk, b.pk]
    # Mon 18:00 → Wed 10:00 is Tuesday's 9.5 h and Wednesday's 1.5 h (08:30-10:00): 11 h
    # of a 9.5-hour working day = 1.16 working days; from Tue 06:00 the same 11 h
    assert page["rows"][0]["over_days"] == Decimal("1.16")
    assert page["rows"][0]["remaining_days"] == Decimal("-1.16")
    assert page["rows"][1]["over_days"] == Decimal("1.16")
    second = reports.overdue_page(analyst, ALL, page=2, page_size=2, now=now)
    assert [(r["id"], r["over_days"]) for r in second["rows"]] == [(c.pk, Decimal("0.05"))]
    # and the region manager of the north sees BJ01's only
    north = reports.overdue_page(org["north-rm"], ALL, now=now)
    assert [r["id"] for r in north["rows"]] == [a.pk, c.pk]
    # and with include_due, the complaint due tomorrow is listed with its time left
    every = reports.overdue_page(analyst, ALL, now=now, include_due=True)
    assert every["count"] == 6 - 1  # all but the closed one
    assert every["rows"][-1]["overdue"] is False
    assert every["rows"][-1]["remaining_days"] > 0


def test_an_overdue_row_with_no_working_time_past_its_deadline_is_over_by_zero(org):
    # given a deadline at Friday 27 November 2026, 20:00, after the centre's hours
    tz = timezone.get_current_timezone()
    friday_evening = datetime.datetime(2026, 11, 27, 20, 0, tzinfo=tz)
    complaint = _set(
        make_complaint(dealer=org["BJ01"], status=S.HANDLING), deadline_at=friday_evening
    )
    # when the overdue list is read on Saturday, with no working time gone since
    saturday = datetime.datetime(2026, 11, 28, 20, 0, tzinfo=tz)
    row = reports.overdue_row(complaint, saturday)
    # then it is overdue by 0.00 working days
    assert row["overdue"] is True
    assert (str(row["over_days"]), str(row["remaining_days"])) == ("0.00", "0.00")
    # and on Friday afternoon it was not overdue and had working time left
    friday = reports.overdue_row(complaint, friday_evening - datetime.timedelta(hours=5))
    assert friday["overdue"] is False and friday["over_days"] is None
    assert friday["remaining_days"] > 0
    # and a deadline still ahead with no working time before it (Saturday morning, due
    # Saturday evening) is not over, not even by 0.00 days
    morning = reports.overdue_row(
        _set(complaint, deadline_at=saturday), saturday - datetime.timedelta(hours=10)
    )
    assert morning["overdue"] is False and morning["over_days"] is None
    assert str(morning["remaining_days"]) == "0.00"


# ---------------------------------------------------------------- repeats


def test_repeat_customers_and_vehicles(org):
    # given 李娜's car complained about twice (BJ01, then SH01), and 王强 once validly and
    # once invalidly
    li = make_customer(name="李娜")
    car = make_vehicle(owner=li)
    wang = make_customer(name="王强")
    wang_car = make_vehicle(owner=wang)
    make_complaint(dealer=org["BJ01"], status=S.CLOSED, vehicle=car)
    make_complaint(dealer=org["SH01"], status=S.RESOLVED, vehicle=car)
    make_complaint(dealer=org["BJ01"], status=S.HANDLING, vehicle=wang_car)
    make_complaint(dealer=org["BJ01"], status=S.INVALID, vehicle=wang_car)
    # when the analyst reads the repeats
    data, queries = _queries(reports.repeats, org["oem-analyst"], ALL)
    # then 李娜 and her car, with two complaints (one formal) at two dealers
    assert [(r["id"], r["complaints"], r["formal"]) for r in data["customers"]] == [(li.pk, 2, 1)]
    assert [(r["vin"], r["complaints"], r["dealers"]) for r in data["vehicles"]] == [
        (car.vin, 2, 1)  # the resolved one was never assigned to SH01: one dealer
    ]
    assert queries == 3
    # and the north's region manager, seeing only BJ01's complaints, sees no repeat
    assert reports.repeats(org["north-rm"], ALL) == {"customers": [], "vehicles": []}


# ---------------------------------------------------------------- escalations


def test_escalations_by_reason_and_level(org):
    specialist = oem_user("complaint")
    first = make_complaint(dealer=org["BJ01"], status=S.HANDLING)
    second = make_complaint(dealer=org["BJ01"], status=S.HANDLING)
    # given a manual escalation of 500 (level 1: the service manager) decided with 300
    # approved, and one of 5000 (level 2: the region manager) still open
    low = services.complaint_escalate(
        actor=specialist, complaint=first, note="客户要求补偿", amount="500"
    )
    services.escalation_decide(
        actor=org["bj01-svcmgr"], escalation=low, decision="同意部分补偿", approved_amount="300"
    )
    services.complaint_escalate(actor=specialist, complaint=second, note="要求换车", amount="5000")
    assert Escalation.objects.count() == 2
    # when the analyst reads the escalations
    data, queries = _queries(reports.escalations, org["oem-analyst"], ALL)
    manual = next(r for r in data["by_reason"] if r["key"] == "manual")
    assert (manual["raised"], manual["decided"], manual["open"]) == (2, 1, 1)
    assert (manual["amount"], manual["approved"]) == (Decimal("5500.00"), Decimal("300.00"))
    assert [(r["level"], r["raised"], r["decided"], r["approved"]) for r in data["by_level"]] == [
        (1, 1, 1, Decimal("300.00")),
        (2, 1, 0, Decimal("0")),
    ]
    assert data["totals"] == {
        "raised": 2,
        "decided": 1,
        "open": 1,
        "amount": Decimal("5500.00"),
        "approved": Decimal("300.00"),
    }
    assert queries == 3
    # and the east's region manager sees none of BJ01's
    assert reports.escalations(org["east-rm"], ALL)["totals"]["raised"] == 0


# ---------------------------------------------------------------- dealer assessment


@pytest.fixture
def assessed(org):
    """BJ01: two complaints about the same car, both closed (one late), one escalated,
    follow-up scores 4 and 2. TJ01: one complaint in handling."""
    car = make_vehicle(owner=make_customer(name="赵敏"))
    first = make_complaint(dealer=org["BJ01"], status=S.HANDLING, vehicle=car)
    services.complaint_escalate(
        actor=oem_user("complaint"), complaint=first, note="客户不满", amount="100"
    )
    _set(_close(first), closed_on_time=False)
    second = make_complaint(dealer=org["BJ01"], status=S.CLOSED, vehicle=car)
    agent = oem_user("csagent")
    for complaint, score in ((first, 4), (second, 2)):
        services.follow_up_record(
            actor=agent, follow_up=complaint.follow_ups.get(), outcome="reached", score=score
        )
    make_complaint(dealer=org["TJ01"], status=S.HANDLING)


def test_dealer_assessment_points_and_rank(org, assessed):
    # when the analyst reads the assessment with the default weights 40/20/15/15/10
    data, queries = _queries(reports.dealer_assessment, org["oem-analyst"], ALL)
    rows = {r["dealer"]: r for r in data["rows"]}
    bj = rows["BJ01"]
    # then BJ01's measures: 1 of 2 on time, 2 complaints and no repair orders (counted as
    # 100: 2 per 100), both about the same car, 1 of 2 escalated, satisfaction (4 + 2) / 2
    assert (bj["complaints"], bj["closed"], bj["on_time"], bj["repeat"], bj["escalated"]) == (
        2,
        2,
        1,
        2,
        1,
    )
    assert (bj["on_time_rate"], bj["repeat_share"], bj["escalated_share"]) == (
        Decimal("50.0"),
        Decimal("100.0"),
        Decimal("50.0"),
    )
    assert (bj["satisfaction"], bj["satisfaction_answers"], bj["repair_orders"]) == (
        Decimal("3.00"),
        2,
        0,
    )
    # scores 0.5, 1/(1+2), 0, 0.5, (3−1)/4 = 0.5; every measure measured (Σ weights 100):
    # 40×0.5 + 20/3 + 0 + 15×0.5 + 10×0.5 = 20 + 6.67 + 0 + 7.5 + 5 = 39.2
    assert bj["points"] == {
        "on_time": Decimal("20.0"),
        "count": Decimal("6.7"),
        "repeat": Decimal("0.0"),
        "escalated": Decimal("7.5"),
        "satisfaction": Decimal("5.0"),
    }
    assert bj["total"] == Decimal("39.2")
    # TJ01: nothing closed, no follow-up: count, repeat and escalated share the 100 points
    # (weights 20 + 15 + 15 = 50): 100 × (20×0.5 + 15 + 15) / 50 = 80.0
    tj = rows["TJ01"]
    assert tj["points"]["on_time"] is None and tj["points"]["satisfaction"] is None
    assert tj["total"] == Decimal("80.0")
    # the four dealers without complaints share rank 1 with 100 points
    assert [(r["dealer"], r["total"], r["rank"]) for r in data["rows"]] == [
        ("GZ01", Decimal("100.0"), 1),
        ("HZ01", Decimal("100.0"), 1),
        ("SH01", Decimal("100.0"), 1),
        ("SZ01", Decimal("100.0"), 1),
        ("TJ01", Decimal("80.0"), 5),
        ("BJ01", Decimal("39.2"), 6),
    ]
    # roles, settings, dealers, measures, follow-ups, repair orders
    assert queries == 6


def test_assessment_weights_come_from_the_settings(org, assessed):
    # given the OEM weighs only the on-time closure
    ComplaintSettings.objects.update(
        assessment_weights={"on_time": 100, "count": 0, "repeat": 0, "escalated": 0}
    )
    data = reports.dealer_assessment(org["oem-analyst"], ALL)
    rows = {r["dealer"]: r for r in data["rows"]}
    # then BJ01 scores its on-time rate, a missing weight keeps its default (satisfaction
    # 10): 100 × (100×0.5 + 10×0.5) / 110 = 50.0
    assert data["weights"]["satisfaction"] == Decimal(10)
    assert rows["BJ01"]["total"] == Decimal("50.0")
    assert rows["BJ01"]["rank"] == 1
    # and a dealer with nothing measurable under these weights is not ranked
    assert (rows["TJ01"]["total"], rows["TJ01"]["rank"]) == (None, None)
    assert data["rows"][-1]["rank"] is None


def test_measure_scores_per_100_repair_orders():
    # 2 complaints on 400 repair orders: 0.5 per 100 → 1 / 1.5
    scores = reports.measure_scores(
        formal=2, closed=0, on_time=0, repeat=0, escalated=0, repair_orders=400, satisfaction=None
    )
    assert scores["count"] == 1 / Decimal("1.5")
    # 2 complaints on 50 repair orders count as on 100: 2 per 100 → 1 / 3
    small = reports.measure_scores(
        formal=2, closed=0, on_time=0, repeat=0, escalated=0, repair_orders=50, satisfaction=5
    )
    assert small["count"] == 1 / Decimal(3)
    assert small["satisfaction"] == 1
    # weights that are all zero for what can be measured give no points
    assert reports.measure_points(scores, dict.fromkeys(reports.MEASURES, Decimal(0))) == (
        dict.fromkeys(reports.MEASURES),
        None,
    )


# ---------------------------------------------------------------- queries


def test_the_full_report_costs_the_same_queries_for_few_or_many(org):
    analyst = org["oem-analyst"]
    make_complaint(dealer=org["BJ01"], status=S.CLOSED)
    _report, few = _queries(reports.full_report, analyst, ALL)
    for dealer in ("BJ01", "TJ01", "SH01", "GZ01"):
        make_complaint(dealer=org[dealer], status=S.CLOSED)
        make_complaint(dealer=org[dealer], status=S.HANDLING)
    analyst = type(analyst).objects.get(pk=analyst.pk)  # a new request: roles read again
    _report, many = _queries(reports.full_report, analyst, ALL)
    assert few == many == (20 if POSTGRES else 21)


# ---------------------------------------------------------------- page, Excel, API


def test_the_report_page(client, org, mixed):
    client.force_login(org["oem-analyst"])
    response = client.get(reverse("complaint-reports"))
    assert response.status_code == 200
    body = response.content.decode()
    for chart in ("chart-type", "chart-channel", "chart-month", "chart-on-time"):
        assert f'id="{chart}"' in body
    assert 'id="report-charts"' in body  # the charts' data
    assert response.context["counts"]["totals"]["received"] == 5
    assert len(response.context["object_list"]) == 6  # the six dealers assessed
    # the filters reach the figures and the export link
    response = client.get(reverse("complaint-reports"), {"grade": "urgent"})
    assert response.context["counts"]["totals"]["formal"] == 1
    assert "grade=urgent" in response.context["query"]


def test_the_page_refuses_what_is_outside_the_scope(client, org):
    url = reverse("complaint-reports")
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(org["bj01-svcmgr"])
    assert client.get(url).status_code == 403
    client.force_login(org["north-rm"])
    assert client.get(url).status_code == 200
    assert client.get(url, {"dealer": org["SH01"].pk}).status_code == 404
    assert client.get(url, {"region": org["SH01"].region_id}).status_code == 404
    export = reverse("complaint-reports-export")
    assert client.get(export, {"dealer": org["SH01"].pk}).status_code == 404


def test_the_excel_workbook_has_a_sheet_per_table(client, org, mixed):
    client.force_login(org["north-rm"])
    response = client.get(reverse("complaint-reports-export"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    with translation.override("en"):
        assert book.sheetnames == reports.sheet_titles()
    assert book.sheetnames[0] == "Summary"
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Complaints received"] == 3  # the north's: BJ01 ×2, TJ01
    assessment = list(book["Dealer assessment"].iter_rows(min_row=2, values_only=True))
    assert sorted(row[1] for row in assessment) == ["BJ01", "TJ01"]
    dealers = list(book["By dealer"].iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in dealers] == ["BJ01", "TJ01"]


def test_the_api(client, org, mixed):
    client.force_login(org["oem-analyst"])
    summary = client.get(reverse("api:complaint-report-summary")).json()
    assert summary["totals"]["received"] == 5
    assert summary["time_limits"]["closed"] == 1
    hotline = next(r for r in summary["by_channel"] if r["key"] == "hotline")
    assert (hotline["received"], hotline["formal"]) == (4, 3)
    dealers = client.get(reverse("api:complaint-report-dealers")).json()["results"]
    assert [(r["code"], r["received"]) for r in dealers] == [
        ("BJ01", 2),
        ("TJ01", 1),
        ("", 2),
    ]
    assessment = client.get(reverse("api:complaint-report-assessment")).json()
    assert assessment["weights"]["on_time"] == "40.00"
    assert len(assessment["results"]) == 6
    overdue = client.get(reverse("api:complaint-report-overdue"), {"include_due": "true"}).json()
    assert overdue["count"] == 2  # the two running ones, in time
    assert client.get(reverse("api:complaint-report-repeats")).status_code == 200
    assert client.get(reverse("api:complaint-report-escalations")).status_code == 200
    # a wrong value is refused; another region's dealer is not found
    bad = client.get(reverse("api:complaint-report-summary"), {"channel": "pigeon"})
    assert bad.status_code == 400
    client.force_login(org["north-rm"])
    other = client.get(reverse("api:complaint-report-summary"), {"dealer": org["SH01"].pk})
    assert other.status_code == 404
