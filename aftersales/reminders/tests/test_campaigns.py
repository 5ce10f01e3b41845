"""Campaigns with their targets checked, recalls from a VIN list checked line by line."""

import pytest

from aftersales.catalogue.models import VehicleModel
from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.crm.testing import valid_vin
from aftersales.org.models import Region
from aftersales.reminders.campaigns import campaign_create, recall_upload
from aftersales.reminders.choices import CampaignScope
from aftersales.reminders.choices import ReminderKind as K
from aftersales.reminders.models import Reminder
from aftersales.reminders.monthly import reminders_for_month
from aftersales.reminders.tests.conftest import D, car, reminders

pytestmark = pytest.mark.django_db


def national(**target):
    return campaign_create(
        actor=None,
        code="AC-2025",
        name="夏季空调免费检测",
        scope=CampaignScope.NATIONAL,
        starts_on=D(2025, 6, 10),
        ends_on=D(2025, 8, 31),
        **target,
    )


def test_campaign_with_an_empty_target_is_refused(bj):
    car(bj, sold=D(2023, 3, 1))
    with pytest.raises(ValidationFailed) as refused:
        national()
    assert refused.value.code == "empty_target"
    assert "target" in refused.value.fields


def test_campaign_with_invalid_years_or_no_matching_vehicle_is_refused(bj):
    vehicle = car(bj, sold=D(2023, 3, 1))
    with pytest.raises(ValidationFailed) as bad_year:
        national(model_years=["2024", "20x5"])
    assert bad_year.value.code == "invalid_target" and "20x5" in str(bad_year.value.message)
    other_year = vehicle.variant.model_year - 3
    with pytest.raises(ValidationFailed) as nobody:
        national(model_years=[other_year])
    assert nobody.value.code == "empty_target"


def test_local_campaign_needs_the_dealers_permission_and_region(bj, demo_org):
    car(bj, sold=D(2023, 3, 1))
    other_region = Region.objects.exclude(pk=bj.region_id).first()
    with pytest.raises(ValidationFailed) as refused:
        campaign_create(
            actor=None, code="L1", name="店庆", scope=CampaignScope.LOCAL, dealer=bj,
            starts_on=D(2025, 6, 1), ends_on=D(2025, 6, 30), regions=[other_region],
        )  # fmt: skip
    assert refused.value.code == "invalid_target"
    # a service advisor may not create campaigns; the service manager may, for the dealer
    for user, allowed in ((demo_org["bj01-sa"], False), (demo_org["bj01-svcmgr"], True)):
        attempt = dict(
            actor=user, code=f"L-{user.username}", name="店庆", scope=CampaignScope.LOCAL,
            dealer=bj, starts_on=D(2025, 6, 1), ends_on=D(2025, 6, 30), model_years=[2024],
        )  # fmt: skip
        if allowed:
            assert campaign_create(**attempt).dealer == bj
        else:
            with pytest.raises(PermissionDenied):
                campaign_create(**attempt)
    # nor a national one
    with pytest.raises(PermissionDenied):
        campaign_create(**{**attempt, "code": "N1", "scope": CampaignScope.NATIONAL})


def test_campaign_reminds_its_target_once(bj, tj, dealers):
    # Given X3s of BJ01 and TJ01 (North) and of GZ01 (South), one of BJ01's seen recently
    from aftersales.crm.choices import VisitKind

    old = car(bj, sold=D(2022, 3, 1))
    other = car(tj, sold=D(2022, 3, 1))
    car(dealers["GZ01"], sold=D(2022, 3, 1))
    car(bj, sold=D(2022, 3, 1), visits=[(D(2025, 2, 1), 30000, bj, VisitKind.REPAIR)])
    x3 = VehicleModel.objects.get(pk=old.variant.vehicle_model_id)
    campaign = national(
        vehicle_models=[x3], regions=[Region.objects.get(pk=bj.region_id)],
        last_visit_before=D(2025, 1, 1),
    )  # fmt: skip

    # When June and July are run
    reminders_for_month(D(2025, 6, 1))
    reminders_for_month(D(2025, 7, 1))

    # Then each target vehicle of the North not seen since 1 January has one campaign
    # reminder, due on the campaign's first day
    rows = reminders(kind=K.CAMPAIGN)
    assert {r.vehicle_id for r in rows} == {old.pk, other.pk}
    assert all(r.campaign == campaign and r.due_date == D(2025, 6, 10) for r in rows)


def test_recall_list_keeps_valid_lines_and_reports_the_others(bj):
    # Given two registered cars and a list with a bad check digit, a short line, an unknown
    # VIN, a repeated line and a blank line
    a = car(bj, sold=D(2023, 3, 1))
    b = car(bj, sold=D(2023, 3, 1))
    bad_check = a.vin[:8] + ("0" if a.vin[8] != "0" else "1") + a.vin[9:]
    unknown = valid_vin(serial=999_999)
    listing = "\n".join([a.vin, bad_check, "LXCX3A15", "", unknown, b.vin.lower(), a.vin])

    # When it is uploaded
    report = recall_upload(
        actor=None, code="R-2025-01", title="燃油泵召回", starts_on=D(2025, 3, 1),
        vin_list=listing,
    )  # fmt: skip

    # Then the two cars are kept, each with an open recall reminder, and every other line is
    # reported with its number and reason
    assert report.kept == 2 and report.reminders == 2
    assert [line for line, _text, _reason in report.errors] == [2, 3, 5, 7]
    reasons = {line: reason for line, _text, reason in report.errors}
    assert "check digit" in reasons[2] or "校验" in reasons[2]
    assert "1" in reasons[7]
    recalls = Reminder.objects.filter(kind=K.RECALL)
    assert {r.vehicle_id for r in recalls} == {a.pk, b.pk}
    assert all(r.status == "open" and r.recall == report.recall for r in recalls)


def test_recall_list_without_a_valid_line_is_refused(bj):
    with pytest.raises(ValidationFailed) as refused:
        recall_upload(
            actor=None, code="R-X", title="召回", starts_on=D(2025, 3, 1),
            vin_list="ABC\nLXCX3A15",
        )  # fmt: skip
    assert refused.value.code == "empty_list"
    assert len(refused.value.fields["vin_list"]) == 2
