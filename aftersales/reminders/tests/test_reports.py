"""Reminder statistics (source 2-16 to 2-18): the figures by channel, follow-up and
return, their scope (OEM, region, dealer), the customer lists, the statistics table's
refresh, the pages, the Excel files and the API."""

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from aftersales.appointments.testing import make_user
from aftersales.reminders import reports, services
from aftersales.reminders.models import Reminder, ReminderMessage
from aftersales.reminders.models_statistics import ReminderStatistic
from aftersales.reminders.returns import returns_match
from aftersales.reminders.schedule import add_months
from aftersales.reminders.testing import make_reminder


@pytest.fixture
def this_month():
    return timezone.localdate().replace(day=1)


@pytest.fixture
def agent(bj):
    return make_user(bj, "dcrc_agent")


def _sent(reminder, channel, status="sent"):
    # the message job's result (helper A's ReminderMessage), as the job would leave it
    return ReminderMessage.objects.create(
        reminder=reminder,
        channel=channel,
        status=status,
        sent_at=timezone.now() if status == "sent" else None,
    )


@pytest.fixture
def worked(bj, tj, agent, this_month):
    """BJ01's reminders of this month in every state that counts, one of TJ01 and one of
    BJ01 two months back whose window has closed."""
    r = {}
    # a: not registered, not called yet: due, not reminded
    r["a"] = make_reminder(bj, month=this_month)
    # b: not registered, reached by phone (the call is the reminder)
    r["b"] = make_reminder(bj, month=this_month)
    services.reminder_call(actor=agent, reminder=r["b"], outcome="reminded")
    # c: registered, WeChat sent, no call yet: reminded, not followed up
    r["c"] = make_reminder(bj, month=this_month, registered=True)
    _sent(r["c"], "wechat")
    # d: registered, WeChat sent, the follow-up call not answered: followed up
    r["d"] = make_reminder(bj, month=this_month, registered=True)
    _sent(r["d"], "wechat")
    services.reminder_call(actor=agent, reminder=r["d"], outcome="not_reached")
    # e: registered, WeChat failed, SMS sent, declined on the phone: both channels
    r["e"] = make_reminder(bj, month=this_month, registered=True, kind="insurance")
    _sent(r["e"], "wechat", status="failed")
    _sent(r["e"], "sms")
    services.reminder_call(actor=agent, reminder=r["e"], outcome="declined")
    # f: registered, no message went out, still open: neither reminded nor followed up
    r["f"] = make_reminder(bj, month=this_month, registered=True, kind="insurance")
    # g: TJ01's (the same region, NORTH)
    r["g"] = make_reminder(tj, month=this_month)
    # h: BJ01's, two months back, window closed, never came back
    old = add_months(this_month, -2)
    r["h"] = make_reminder(
        bj, month=old, return_by=timezone.localdate() - datetime.timedelta(days=1)
    )
    return r


def _return(reminder):
    """The vehicle opens a repair order; the daily job matches it."""
    from aftersales.workorders.testing import make_repair_order

    make_repair_order(dealer=reminder.dealer, vehicle=reminder.vehicle)
    returns_match()


def test_figures_count_channels_follow_up_and_returns(demo_org, bj, worked, this_month):
    # given BJ01's worked reminders, one of which came back with a repair order
    _return(worked["b"])
    # when the statistics table is refreshed and the OEM reads BJ01's figures
    reports.statistics_refresh()
    oem = demo_org["oem-analyst"]
    filters = reports.filters_from_query({"dealer": str(bj.pk)})
    data = reports.figures(oem, filters)
    totals = data["totals"]
    # then: 7 due (a-f this month, h two months back); WeChat c, d; SMS e; phone b, e
    assert totals["due"] == 7
    assert (totals["wechat"], totals["sms"], totals["phone"]) == (2, 1, 2)
    # reminded: b, c, d, e (a, f, h were not): 4 of 7
    assert totals["reminded"] == 4
    assert totals["not_reminded"] == 3
    assert str(totals["reminded_rate"]) == "57.1"
    # followed up: registered c, d, e, f; d and e have a call outcome: 2 of 4
    assert (totals["registered"], totals["followed_up"], totals["not_followed_up"]) == (4, 2, 2)
    assert str(totals["followed_up_rate"]) == "50.0"
    # returned: b; not returned: h (window closed); the rest still in the window
    assert (totals["returned"], totals["not_returned"], totals["awaiting_return"]) == (1, 1, 5)
    assert str(totals["return_rate"]) == "14.3"
    # by month: this month 6 due, two months back 1; by kind: 2 insurance
    months = {r["month"]: r["due"] for r in data["by_month"]}
    assert len(months) == 12
    assert months[this_month.strftime("%Y-%m")] == 6
    assert months[add_months(this_month, -2).strftime("%Y-%m")] == 1
    kinds = {r["kind"]: r["due"] for r in data["by_kind"]}
    assert (kinds["maintenance"], kinds["insurance"], kinds["recall"]) == (5, 2, 0)
    assert [r["code"] for r in data["by_dealer"]] == ["BJ01"]
    assert not data["nation"]


def test_region_and_dealer_scope(demo_org, bj, tj, worked, this_month):
    # given reminders of BJ01 and TJ01 (region NORTH) and one of SH01 (EAST)
    sh = bj.__class__.objects.get(code="SH01")
    make_reminder(sh, month=this_month)
    reports.statistics_refresh()
    filters = reports.filters_from_query({})

    def seen(username):
        data = reports.figures(demo_org[username], filters)
        return data["totals"]["due"], {r["code"] for r in data["by_dealer"]}, data["nation"]

    # then the OEM sees the nation, the region manager NORTH, the DCRC manager BJ01
    assert seen("oem-analyst") == (9, {"BJ01", "TJ01", "SH01", "HZ01", "GZ01", "SZ01"}, True)
    assert seen("north-rm") == (8, {"BJ01", "TJ01"}, False)
    assert seen("bj01-dcrcmgr") == (7, {"BJ01"}, False)
    # and a dealer or region outside the scope is out of scope
    assert reports.out_of_scope(
        demo_org["north-rm"], reports.filters_from_query({"dealer": str(sh.pk)})
    )
    assert reports.out_of_scope(
        demo_org["bj01-dcrcmgr"], reports.filters_from_query({"region": str(sh.region_id)})
    )
    assert not reports.out_of_scope(
        demo_org["north-rm"], reports.filters_from_query({"dealer": str(tj.pk)})
    )


def test_customer_lists(demo_org, bj, worked):
    # given BJ01's worked reminders
    manager = demo_org["bj01-dcrcmgr"]
    filters = reports.filters_from_query({})

    def listed(which, user=manager):
        return {r.pk for r in reports.list_reminders(user, filters, which)}

    r = worked
    # then the lists are read live (no refresh needed) and hold exactly
    assert listed("not_reminded") == {r["a"].pk, r["f"].pk, r["h"].pk}
    assert listed("not_followed_up") == {r["c"].pk, r["f"].pk}
    assert listed("not_returned") == {r["h"].pk}
    # the region manager also sees TJ01's customer; the DCRC manager does not
    assert r["g"].pk in listed("not_reminded", demo_org["north-rm"])
    # a page: the DCRC manager sees full mobiles, the analyst (no contact right) masked ones
    page = reports.list_page(manager, filters, "not_reminded")
    assert page["count"] == 3 and not page["capped"]
    mobile = r["a"].customer.mobile
    assert mobile in {row["mobile"] for row in page["rows"]}
    masked = reports.list_page(demo_org["oem-analyst"], filters, "not_reminded")["rows"]
    assert f"{mobile[:3]}****{mobile[-4:]}" in {row["mobile"] for row in masked}
    assert mobile not in {row["mobile"] for row in masked}


def test_list_count_stops_at_the_cap(demo_org, bj, worked):
    # given a list of three and a paginator counting at most two
    rows = reports.list_reminders(
        demo_org["bj01-dcrcmgr"], reports.filters_from_query({}), "not_reminded"
    )
    paginator = reports.CappedPaginator(rows, 1, cap=2)
    # then it says "more than two", with two pages
    assert paginator.capped
    assert paginator.num_pages == 2
    assert len(paginator.get_page(2).object_list) == 1


def test_refresh_is_idempotent_and_drops_lines_of_deleted_reminders(bj, worked, this_month):
    # given a refreshed table
    first = reports.statistics_refresh()
    lines = set(ReminderStatistic.objects.values_list("month", "dealer_id", "kind", "due"))
    # when it is refreshed again, then the same lines are there
    assert reports.statistics_refresh() == first
    assert set(ReminderStatistic.objects.values_list("month", "dealer_id", "kind", "due")) == lines
    # when TJ01's reminders go and the table is refreshed, then TJ01's line goes too
    Reminder.objects.filter(dealer=worked["g"].dealer).delete()
    reports.statistics_refresh()
    assert not ReminderStatistic.objects.filter(dealer=worked["g"].dealer).exists()
    # and a refresh of one dealer and month touches only those lines
    other = ReminderStatistic.objects.exclude(month=this_month).get()
    stamp = other.refreshed_at
    reports.statistics_refresh(month_from=this_month, month_to=this_month, dealer_ids=[bj.pk])
    other.refresh_from_db()
    assert other.refreshed_at == stamp


def test_filters_default_to_the_last_twelve_months():
    today = datetime.date(2026, 3, 17)
    filters = reports.filters_from_query({}, today=today)
    assert (filters.month_from, filters.month_to) == (
        datetime.date(2025, 4, 1),
        datetime.date(2026, 3, 1),
    )
    # a reversed range is turned round; junk is ignored
    filters = reports.filters_from_query(
        {"month_from": "2026-05", "month_to": "2026-01", "kind": "nonsense", "dealer": "x"},
        today=today,
    )
    assert (filters.month_from, filters.month_to, filters.kind, filters.dealer_id) == (
        datetime.date(2026, 1, 1),
        datetime.date(2026, 5, 1),
        "",
        None,
    )
    assert filters.query(month_from="2026-02") == {"month_from": "2026-02", "month_to": "2026-05"}


# ---------------------------------------------------------------- pages and files


def test_page_shows_figures_and_drills_down(client, demo_org, bj, worked):
    # given a refreshed table
    reports.statistics_refresh()
    client.force_login(demo_org["north-rm"])
    # when the region manager opens the statistics page
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("reminder-stats"))
    # then it shows the region's figures, in a fixed number of queries
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="fig-due">8<' in html
    assert {row["code"] for row in response.context["by_dealer"]} == {"BJ01", "TJ01"}
    assert len(queries) <= 20
    # and BJ01's "not reminded" figure links to the list of those customers
    link = response.context["by_dealer"][0]["links"]["not_reminded"]
    listed = client.get(link)
    assert listed.status_code == 200
    assert {row["id"] for row in listed.context["object_list"]} == {
        worked["a"].pk,
        worked["f"].pk,
        worked["h"].pk,
    }


def test_list_page_queries_do_not_grow_with_the_page(client, demo_org, bj, this_month):
    client.force_login(demo_org["bj01-dcrcmgr"])
    url = reverse("reminder-stats-list") + "?list=not_reminded"
    make_reminder(bj, month=this_month)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(5):
        make_reminder(bj, month=this_month)
    with CaptureQueriesContext(connection) as more:
        response = client.get(url)
    assert len(response.context["object_list"]) == 6
    assert len(more) == len(few)


def test_out_of_scope_filter_and_unknown_list_answer_404(client, demo_org, bj):
    sh = bj.__class__.objects.get(code="SH01")
    client.force_login(demo_org["north-rm"])
    assert client.get(reverse("reminder-stats"), {"dealer": sh.pk}).status_code == 404
    assert client.get(reverse("reminder-stats-list"), {"list": "everyone"}).status_code == 404
    api = client.get(reverse("api:reminder-stats-summary"), {"dealer": sh.pk})
    assert api.status_code == 404


def test_workbooks(client, demo_org, bj, worked):
    reports.statistics_refresh()
    client.force_login(demo_org["bj01-dcrcmgr"])
    # the figures: a summary and a sheet per breakdown
    response = client.get(reverse("reminder-stats-export"))
    book = load_workbook(io.BytesIO(response.content))
    assert len(book.sheetnames) == 5
    by_dealer = list(book.worksheets[2].iter_rows(values_only=True))
    assert by_dealer[1][0] == "BJ01" and by_dealer[1][3] == 7  # code, name, region, due
    # a list: one row per customer
    response = client.get(reverse("reminder-stats-list-export"), {"list": "not_followed_up"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 3  # header + c, f
    assert {row[1] for row in rows[1:]} == {worked["c"].customer.name, worked["f"].customer.name}


def test_api_summary_dealers_and_customers(client, demo_org, bj, worked, this_month):
    reports.statistics_refresh()
    client.force_login(demo_org["north-rm"])
    summary = client.get(reverse("api:reminder-stats-summary")).json()
    assert summary["totals"]["due"] == 8
    assert summary["totals"]["reminded_rate"] == "50.0"
    assert [r["code"] for r in summary["by_region"]] == ["NORTH"]
    dealers = client.get(reverse("api:reminder-stats-dealers")).json()["results"]
    assert {r["code"]: r["due"] for r in dealers} == {"BJ01": 7, "TJ01": 1}
    page = client.get(
        reverse("api:reminder-stats-customers"),
        {"list": "not_followed_up", "dealer": bj.pk, "page_size": 1},
    ).json()
    assert (page["count"], page["capped"], len(page["results"])) == (2, False, 1)
    assert page["results"][0]["id"] == worked["c"].pk
    bad = client.get(reverse("api:reminder-stats-customers"), {"list": "everyone"})
    assert bad.status_code == 400
