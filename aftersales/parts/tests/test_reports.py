"""Parts reports on a small known data set: arithmetic, scope and the Excel export."""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from aftersales.org.models import Dealer
from aftersales.parts import reports, warehouses
from aftersales.parts.models import StockItem
from aftersales.parts.testing import make_category, make_part, make_warehouse, stock_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(demo_org):
    """BJ01: filter part 10 @ 80 received, then (after ``t0``) 4 issued; brake part 2 @ 50,
    untouched for 200 days. SH01: one filter @ 80. Demand at BJ01: 2 lines served, 1 short."""
    bj01, sh01 = Dealer.objects.get(code="BJ01"), Dealer.objects.get(code="SH01")
    filters = make_category("FILTER", "滤清器", "Filters")
    brakes = make_category("BRAKE", "制动", "Brakes")
    main = make_warehouse(dealer=bj01)
    oil = make_part(number="R-OIL", category=filters, dealer_cost=Decimal("80"))
    pad = make_part(number="R-PAD", category=brakes, dealer_cost=Decimal("50"))
    stock_up(warehouse=main, part=oil, quantity=10)
    dead = stock_up(warehouse=main, part=pad, quantity=2)
    StockItem.objects.filter(pk=dead.pk).update(
        last_moved_at=timezone.now() - datetime.timedelta(days=200)
    )
    stock_up(warehouse=make_warehouse(dealer=sh01), part=oil, quantity=1)
    t0 = timezone.now()
    clerk = demo_org["bj01-parts"]
    warehouses.stock_issue(
        actor=clerk, warehouse=main, part=oil, quantity=4, idempotency_key="report-issue-1"
    )
    for n, quantity in enumerate((1, 1, 50)):
        try:
            warehouses.reservation_create(
                actor=clerk,
                warehouse=main,
                part=oil,
                quantity=quantity,
                doc_type="counter",
                idempotency_key=f"report-line-{n}",
            )
        except warehouses.stock.InsufficientStock:
            pass
    return {**demo_org, "t0": t0, "main": main, "bj01": bj01}


def _by(report, key):
    return {row[key]: row for row in report.rows}


def test_stock_value_by_category(books):
    report = reports.stock_value(books["bj01-parts"])
    rows = {(r["dealer"], r["category"]): r["value"] for r in report.rows}
    assert rows == {("BJ01", "BRAKE"): Decimal("100.00"), ("BJ01", "FILTER"): Decimal("480.00")}
    assert report.totals["value"] == Decimal("580.00")


def test_region_and_oem_see_their_scope(books):
    north = {r["dealer"] for r in reports.stock_value(books["north-rm"]).rows}
    oem = {r["dealer"] for r in reports.stock_value(books["oem-analyst"]).rows}
    assert north == {"BJ01"} and oem == {"BJ01", "SH01"}
    narrowed = reports.stock_value(books["oem-analyst"], dealer=books["bj01"])
    assert {r["dealer"] for r in narrowed.rows} == {"BJ01"}


def test_turnover_is_issues_at_cost_over_average_stock(books):
    until = timezone.now() + datetime.timedelta(minutes=1)
    report = reports.turnover(books["bj01-parts"], since=books["t0"], until=until)
    oil = _by(report, "category")["FILTER"]
    # opening 10 × 80 = 800, closing 6 × 80 = 480, average 640; issued 4 × 80 = 320
    assert (oil["opening"], oil["closing"], oil["average"]) == (
        Decimal("800.00"),
        Decimal("480.00"),
        Decimal("640.00"),
    )
    assert oil["issued_cost"] == Decimal("320.00") and oil["turns"] == Decimal("0.50")
    assert report.totals["issued_cost"] == Decimal("320.00")
    assert report.totals["average"] == Decimal("740.00")  # brakes: 100 throughout


def test_dead_stock_uses_the_last_movement(books):
    report = reports.dead_stock(books["bj01-parts"], days=180)
    assert [r["part"] for r in report.rows] == ["R-PAD"]
    assert report.totals == {"count": 1, "value": Decimal("100.00")}
    assert reports.dead_stock(books["bj01-parts"], days=365).rows == []


def test_fill_rate_counts_lines_served_at_first_request(books):
    since = books["t0"] - datetime.timedelta(days=1)
    until = timezone.now() + datetime.timedelta(minutes=1)
    report = reports.fill_rate(books["bj01-parts"], since=since, until=until)
    assert report.rows == [{"dealer": "BJ01", "lines": 3, "served": 2, "rate": Decimal("66.7")}]
    assert reports.fill_rate(books["sh01-parts"], since=since, until=until).rows == []


def test_reports_page_shows_all_four_with_fixed_queries(
    client, books, django_assert_max_num_queries
):
    client.force_login(books["north-rm"])
    with django_assert_max_num_queries(25):
        response = client.get(reverse("parts-reports"), {"days": 180})
    assert response.status_code == 200
    assert [r.name for r in response.context["results"]] == list(reports.REPORTS)
    assert "R-PAD" in response.content.decode()


def test_excel_export_opens_and_holds_the_figures(client, books):
    client.force_login(books["north-rm"])
    response = client.get(reverse("parts-report-export", args=["stock-value"]))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [row for row in sheet.iter_rows(values_only=True)]
    assert ("BJ01", "FILTER", "滤清器", 1, 6, 480) in values
    assert values[-1][-1] == 580


def test_export_needs_the_export_permission(client, books):
    client.force_login(books["bj01-sa"])
    assert client.get(reverse("parts-report-export", args=["stock-value"])).status_code == 403


def test_api_report_and_its_excel(client, books):
    # the analyst reads the report; exporting it is for roles holding export rights
    client.force_login(books["oem-analyst"])
    url = reverse("api:partsreport-detail", args=["dead-stock"])
    body = client.get(url, {"days": 180}).json()
    assert [r["part"] for r in body["rows"]] == ["R-PAD"]
    assert client.get(url, {"days": 180, "export": "xlsx"}).status_code == 403
    client.force_login(books["oem-admin"])
    xlsx = client.get(url, {"days": 180, "export": "xlsx"})
    assert xlsx.status_code == 200
    assert load_workbook(io.BytesIO(xlsx.content)).active["A1"].value
    assert client.get(reverse("api:partsreport-detail", args=["nope"])).status_code == 404
