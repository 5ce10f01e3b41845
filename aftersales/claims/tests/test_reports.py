"""Claim ageing and approval/rejection rates: the numbers, the scope, the Excel export and
the page."""

import datetime
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from aftersales.claims import selectors
from aftersales.claims.choices import ClaimStatus
from aftersales.claims.models import WarrantyClaim
from aftersales.claims.testing import make_claim
from aftersales.org.models import Dealer

S = ClaimStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def org(demo_org):
    return {**demo_org, **{d.code: d for d in Dealer.objects.all()}}


def _submitted_days_ago(claim, days, today):
    at = timezone.make_aware(
        datetime.datetime.combine(today - datetime.timedelta(days=days), datetime.time(10))
    )
    WarrantyClaim.objects.filter(pk=claim.pk).update(submitted_at=at)


@pytest.fixture
def aged(org):
    """BJ01: open claims aged 0, 7, 8, 30, 31, 60, 61 days, plus a draft and a settled one
    (not open); TJ01: one open claim aged 3 days; SH01: one aged 100 days."""
    today = timezone.localdate()
    for days, status in [
        (0, S.SUBMITTED),
        (7, S.INFO_REQUESTED),
        (8, S.RESUBMITTED),
        (30, S.APPROVED),
        (31, S.SUBMITTED),
        (60, S.SUBMITTED),
        (61, S.SUBMITTED),
        (5, S.SETTLED),
    ]:
        _submitted_days_ago(make_claim(dealer=org["BJ01"], status=status), days, today)
    make_claim(dealer=org["BJ01"])
    _submitted_days_ago(make_claim(dealer=org["TJ01"], status=S.SUBMITTED), 3, today)
    _submitted_days_ago(make_claim(dealer=org["SH01"], status=S.SUBMITTED), 100, today)
    return today


def test_ageing_buckets_per_dealer(org, aged, django_assert_num_queries):
    # when the OEM reads the ageing report
    with django_assert_num_queries(2):  # the user's roles, then one aggregate
        rows = {r.dealer_code: r for r in selectors.claim_ageing(org["oem-analyst"], today=aged)}
    # then each open claim sits in its bucket; drafts and settled claims are not counted
    assert rows["BJ01"].counts == {"d0_7": 2, "d8_30": 2, "d31_60": 2, "d61_plus": 1}
    assert rows["BJ01"].total == 7
    assert rows["BJ01"].total_amount == Decimal("1890.00")  # 7 × 270.00
    assert rows["BJ01"].amounts["d0_7"] == Decimal("540.00")
    assert rows["TJ01"].counts["d0_7"] == 1
    assert rows["SH01"].counts["d61_plus"] == 1


def test_ageing_is_scoped(org, aged):
    assert {r.dealer_code for r in selectors.claim_ageing(org["bj01-sa"], today=aged)} == {"BJ01"}
    assert {r.dealer_code for r in selectors.claim_ageing(org["north-rm"], today=aged)} == {
        "BJ01",
        "TJ01",
    }
    assert selectors.claim_ageing(org["bj01-tech"], today=aged) == []


def test_approval_and_rejection_rates(org):
    # given BJ01: 2 fully approved (one settled), 1 partly approved, 1 rejected, 1 open
    make_claim(dealer=org["BJ01"], status=S.APPROVED)
    make_claim(dealer=org["BJ01"], status=S.SETTLED)
    partial = make_claim(dealer=org["BJ01"], status=S.APPROVED)
    WarrantyClaim.objects.filter(pk=partial.pk).update(approved_amount=Decimal("200.00"))
    make_claim(dealer=org["BJ01"], status=S.REJECTED)
    make_claim(dealer=org["BJ01"], status=S.SUBMITTED)
    make_claim(dealer=org["GZ01"], status=S.REJECTED)
    # when the rates are read
    rows = {r.dealer_code: r for r in selectors.approval_rates(org["oem-admin"])}
    bj = rows["BJ01"]
    # then counts, amounts and rates are exact
    assert (bj.decided, bj.approved, bj.partial, bj.rejected) == (4, 3, 1, 1)
    assert bj.claimed_amount == Decimal("1080.00")
    assert bj.approved_amount == Decimal("740.00")
    assert bj.rejected_amount == Decimal("270.00")
    assert bj.approval_rate == Decimal("75.0")
    assert bj.rejection_rate == Decimal("25.0")
    assert rows["GZ01"].rejection_rate == Decimal("100.0")
    # a dealer sees only itself; a period before the decisions shows nothing
    assert [r.dealer_code for r in selectors.approval_rates(org["gz01-sa"])] == ["GZ01"]
    last_year = timezone.localdate() - datetime.timedelta(days=365)
    assert selectors.approval_rates(org["oem-admin"], date_to=last_year) == []


def test_excel_export_holds_the_users_rows(client, org, aged):
    client.force_login(org["bj01-sa"])
    response = client.get("/claims/reports/export/")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    ageing = list(book.worksheets[0].iter_rows(values_only=True))
    assert [row[0] for row in ageing[1:]] == ["BJ01"]
    assert ageing[1][-2] == 7
    assert len(book.worksheets) == 2


def test_the_reports_page_renders_in_both_languages(client, org, aged):
    client.force_login(org["oem-admin"])
    zh = client.get("/claims/reports/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert zh.status_code == 200
    assert {row.dealer_code for row in zh.context["ageing"]} >= {"BJ01", "TJ01", "SH01"}
    en = client.get("/claims/reports/", HTTP_ACCEPT_LANGUAGE="en")
    assert b"Claim ageing" in en.content
    assert b'data-dealer="BJ01"' in en.content


def test_api_reports_are_scoped(client, org, aged):
    client.force_login(org["north-rm"])
    rows = client.get("/api/claims/reports/ageing/").json()["results"]
    assert {row["dealer"] for row in rows} == {"BJ01", "TJ01"}
    bj = next(row for row in rows if row["dealer"] == "BJ01")
    assert (bj["d0_7"], bj["d8_30"], bj["d31_60"], bj["d61_plus"]) == (2, 2, 2, 1)
    rates = client.get("/api/claims/reports/rates/").json()["results"]
    assert [(r["dealer"], r["decided"], r["approval_rate"]) for r in rates] == [
        ("BJ01", 2, "100.0")
    ]
