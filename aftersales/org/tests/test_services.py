"""Organisation services: every write checks the actor's reach, validates, and audits."""

import datetime

import pytest

from aftersales.core.errors import Conflict, PermissionDenied, ValidationFailed
from aftersales.core.models import AuditAction, AuditLog
from aftersales.org import services
from aftersales.org.models import Dealer, Region, RoleAssignment, User
from aftersales.org.roles import Role

pytestmark = pytest.mark.django_db


def dealer(code):
    return Dealer.objects.get(code=code)


def audit_count():
    return AuditLog.objects.count()


# dealer_update ---------------------------------------------------------------------------


def test_dealer_admin_updates_own_dealer(demo_org):
    # given the BJ01 dealer administrator
    admin = demo_org["bj01-admin"]
    # when they change the service phone
    updated = services.dealer_update(actor=admin, dealer=dealer("BJ01"), phone="010-12345678")
    # then it is saved and audited
    assert updated.phone == "010-12345678"
    assert dealer("BJ01").phone == "010-12345678"
    entry = AuditLog.objects.get()
    assert entry.action == AuditAction.UPDATE
    assert entry.changes == {"phone": ["400-800-0000", "010-12345678"]}


def test_dealer_update_refuses_unknown_fields_and_changes_nothing(demo_org):
    # given a dealer
    bj01 = dealer("BJ01")
    # when the code (not editable) is changed along with the name
    with pytest.raises(ValidationFailed) as caught:
        services.dealer_update(actor=demo_org["bj01-admin"], dealer=bj01, code="XX99", name="New")
    # then the unknown field is named and nothing is saved or audited
    assert set(caught.value.fields) == {"code"}
    fresh = dealer("BJ01")
    assert (fresh.code, fresh.name) == ("BJ01", bj01.name)
    assert audit_count() == 0


def test_dealer_update_refuses_another_dealer(demo_org):
    # given the BJ01 administrator and the SH01 dealer
    sh01 = dealer("SH01")
    # when they try to rename SH01
    with pytest.raises(Dealer.DoesNotExist):
        services.dealer_update(actor=demo_org["bj01-admin"], dealer=sh01, name="Hijacked")
    # then SH01 is untouched (the API answers 404 for DoesNotExist)
    assert dealer("SH01").name == sh01.name
    assert audit_count() == 0


def test_dealer_update_refuses_staff_without_the_permission(demo_org):
    with pytest.raises(Dealer.DoesNotExist):
        services.dealer_update(actor=demo_org["bj01-sa"], dealer=dealer("BJ01"), name="X")
    assert dealer("BJ01").name != "X"


def test_dealer_update_validates_the_model(demo_org):
    # when the name is blank or too long
    for bad in ["", "x" * 101]:
        with pytest.raises(ValidationFailed) as caught:
            services.dealer_update(actor=demo_org["bj01-admin"], dealer=dealer("BJ01"), name=bad)
        # then the field is named and nothing changed
        assert "name" in caught.value.fields
    assert dealer("BJ01").name == "北京星驰望京店"
    assert audit_count() == 0


def test_dealer_update_with_the_same_values_writes_nothing(demo_org):
    bj01 = dealer("BJ01")
    before = bj01.updated_at
    services.dealer_update(actor=demo_org["bj01-admin"], dealer=bj01, name=bj01.name)
    assert audit_count() == 0
    assert dealer("BJ01").updated_at == before


def test_oem_admin_updates_any_dealer(demo_org):
    services.dealer_update(actor=demo_org["oem-admin"], dealer=dealer("SZ01"), city="深圳市")
    assert dealer("SZ01").city == "深圳市"


# staff_create ----------------------------------------------------------------------------


def test_staff_create_with_invalid_mobile_names_the_field(demo_org):
    # when a dealer admin creates staff with a malformed mobile number
    with pytest.raises(ValidationFailed) as caught:
        services.staff_create(
            actor=demo_org["bj01-admin"],
            username="bj01-new",
            password="Str0ng-Passw0rd!",
            dealer=dealer("BJ01"),
            mobile="12345",
        )
    # then the error is on "mobile" and no user exists
    assert list(caught.value.fields) == ["mobile"]
    assert not User.objects.filter(username="bj01-new").exists()
    assert audit_count() == 0


def test_staff_create_refuses_a_duplicate_mobile(demo_org):
    with pytest.raises(ValidationFailed) as caught:
        services.staff_create(
            actor=demo_org["bj01-admin"],
            username="bj01-new",
            password=None,
            dealer=dealer("BJ01"),
            mobile=demo_org["bj01-sa"].mobile,
        )
    assert "mobile" in caught.value.fields


def test_staff_create_at_own_dealer_only(demo_org):
    # given the BJ01 admin, when they create staff at SH01, then it is refused
    with pytest.raises(PermissionDenied):
        services.staff_create(
            actor=demo_org["bj01-admin"], username="sh01-new", password=None, dealer=dealer("SH01")
        )
    # and a service advisor may not create staff at all
    with pytest.raises(PermissionDenied):
        services.staff_create(
            actor=demo_org["bj01-sa"], username="bj01-new", password=None, dealer=dealer("BJ01")
        )
    assert not User.objects.filter(username__in=["sh01-new", "bj01-new"]).exists()


def test_staff_create_saves_an_argon2_password_and_audits_without_it(demo_org):
    user = services.staff_create(
        actor=demo_org["bj01-admin"],
        username="bj01-new",
        password="Str0ng-Passw0rd!",
        dealer=dealer("BJ01"),
        mobile="13912345678",
    )
    assert user.password.startswith("argon2")
    assert user.check_password("Str0ng-Passw0rd!")
    entry = AuditLog.objects.get()
    assert entry.action == AuditAction.CREATE
    assert entry.changes["mobile"] == [None, "13912345678"]
    assert "password" not in entry.changes


# role_assign / role_revoke ----------------------------------------------------------------


def test_role_assign_dealer_role_needs_a_dealer(demo_org):
    user = demo_org["bj01-tech"]
    with pytest.raises(ValidationFailed) as caught:
        services.role_assign(actor=None, user=user, role=Role.SERVICE_ADVISOR)
    assert "dealer" in caught.value.fields
    with pytest.raises(ValidationFailed):
        services.role_assign(
            actor=None,
            user=user,
            role=Role.SERVICE_ADVISOR,
            dealer=dealer("BJ01"),
            region=Region.objects.get(code="NORTH"),
        )


def test_role_assign_oem_role_takes_no_unit(demo_org):
    with pytest.raises(ValidationFailed) as caught:
        services.role_assign(
            actor=None, user=demo_org["oem-legal"], role=Role.ANALYST, dealer=dealer("BJ01")
        )
    assert "role" in caught.value.fields
    with pytest.raises(ValidationFailed):
        services.role_assign(
            actor=None,
            user=demo_org["oem-legal"],
            role=Role.ANALYST,
            region=Region.objects.get(code="NORTH"),
        )


def test_role_assign_region_role_needs_a_region(demo_org):
    with pytest.raises(ValidationFailed) as caught:
        services.role_assign(actor=None, user=demo_org["oem-legal"], role=Role.REGION_MANAGER)
    assert "region" in caught.value.fields


def test_role_assign_refuses_unknown_role(demo_org):
    with pytest.raises(ValidationFailed) as caught:
        services.role_assign(actor=None, user=demo_org["bj01-sa"], role="wizard")
    assert "role" in caught.value.fields


def test_role_assign_is_idempotent(demo_org):
    # given a technician of BJ01
    admin, tech, bj01 = demo_org["bj01-admin"], demo_org["bj01-tech"], dealer("BJ01")
    rows_before = RoleAssignment.objects.count()
    # when the dealer admin grants the QC role twice
    first = services.role_assign(actor=admin, user=tech, role=Role.QC_INSPECTOR, dealer=bj01)
    audits = audit_count()
    second = services.role_assign(actor=admin, user=tech, role=Role.QC_INSPECTOR, dealer=bj01)
    # then one row and one audit entry exist
    assert first.pk == second.pk
    assert RoleAssignment.objects.count() == rows_before + 1
    assert audits == 1
    assert audit_count() == 1
    entry = AuditLog.objects.get()
    assert (entry.action, entry.actor, entry.dealer_id) == (AuditAction.CREATE, admin, bj01.pk)


def test_role_assign_refreshes_the_users_permissions(demo_org):
    # given a technician, who cannot see the staff list (and that answer is cached)
    tech = demo_org["bj01-tech"]
    assert User.objects.restrict(tech, "view").count() == 0
    # when granted the foreman role
    services.role_assign(actor=None, user=tech, role=Role.FOREMAN, dealer=dealer("BJ01"))
    # then the same user object sees the staff of BJ01
    assert (
        User.objects.restrict(tech, "view").count()
        == User.objects.filter(dealer__code="BJ01").count()
    )


def test_role_assign_refuses_other_dealers(demo_org):
    admin = demo_org["bj01-admin"]
    # a role at another dealer
    with pytest.raises(PermissionDenied):
        services.role_assign(
            actor=admin, user=demo_org["bj01-tech"], role=Role.QC_INSPECTOR, dealer=dealer("SH01")
        )
    # a role at own dealer for another dealer's staff member
    with pytest.raises(PermissionDenied):
        services.role_assign(
            actor=admin, user=demo_org["sh01-tech"], role=Role.QC_INSPECTOR, dealer=dealer("BJ01")
        )
    # an OEM role, by a dealer admin
    with pytest.raises(PermissionDenied):
        services.role_assign(actor=admin, user=demo_org["bj01-tech"], role=Role.ANALYST)
    assert audit_count() == 0


def test_role_revoke_twice_is_a_conflict(demo_org):
    # given a role held by the BJ01 technician
    admin = demo_org["bj01-admin"]
    assignment = RoleAssignment.objects.get(user=demo_org["bj01-tech"], role=Role.TECHNICIAN)
    # when revoked
    revoked = services.role_revoke(actor=admin, assignment=assignment)
    assert revoked.active is False
    assert AuditLog.objects.get().changes == {"active": [True, False]}
    # then revoking again is a conflict with a code, and nothing more is written
    with pytest.raises(Conflict) as caught:
        services.role_revoke(actor=admin, assignment=assignment)
    assert caught.value.code == "already_revoked"
    assert caught.value.status == 409
    assert audit_count() == 1


def test_role_revoke_refuses_another_dealer(demo_org):
    assignment = RoleAssignment.objects.get(user=demo_org["sh01-tech"], role=Role.TECHNICIAN)
    with pytest.raises(RoleAssignment.DoesNotExist):
        services.role_revoke(actor=demo_org["bj01-admin"], assignment=assignment)
    assignment.refresh_from_db()
    assert assignment.active is True


def test_revoked_role_can_be_granted_again(demo_org):
    admin = demo_org["bj01-admin"]
    assignment = RoleAssignment.objects.get(user=demo_org["bj01-tech"], role=Role.TECHNICIAN)
    services.role_revoke(actor=admin, assignment=assignment)
    again = services.role_assign(
        actor=admin, user=demo_org["bj01-tech"], role=Role.TECHNICIAN, dealer=dealer("BJ01")
    )
    assert again.pk == assignment.pk and again.active is True
    assert [e.changes for e in AuditLog.objects.order_by("id")] == [
        {"active": [True, False]},
        {"active": [False, True]},
    ]


# region / dealer creation ----------------------------------------------------------------


def test_only_oem_admin_creates_regions_and_dealers(demo_org):
    oem = Region.objects.get(code="NORTH").oem
    with pytest.raises(PermissionDenied):
        services.region_create(actor=demo_org["north-rm"], oem=oem, code="WEST", name="西部")
    region = services.region_create(
        actor=demo_org["oem-admin"], oem=oem, code=" west ", name="西部"
    )
    assert region.code == "WEST"
    new = services.dealer_create(
        actor=demo_org["oem-admin"], region=region, code="cd01", name="成都店", city="成都"
    )
    assert new.code == "CD01"
    assert list(AuditLog.objects.order_by("id").values_list("action", flat=True)) == [
        AuditAction.CREATE,
        AuditAction.CREATE,
    ]


def test_dealer_create_validates_the_code(demo_org):
    region = Region.objects.get(code="NORTH")
    with pytest.raises(ValidationFailed) as caught:
        services.dealer_create(actor=None, region=region, code="bj-01!", name="Bad")
    assert "code" in caught.value.fields
    with pytest.raises(ValidationFailed) as caught:
        services.dealer_create(actor=None, region=region, code="BJ01", name="Duplicate")
    assert "code" in caught.value.fields


@pytest.mark.django_db
def test_dealer_deadline_respects_its_opening_hours_and_national_day(demo_org):
    from zoneinfo import ZoneInfo

    # given BJ01 open 09:00-17:30
    dealer = Dealer.objects.get(code="BJ01")
    services.dealer_update(
        actor=demo_org["bj01-admin"],
        dealer=dealer,
        opens_at=datetime.time(9, 0),
        closes_at=datetime.time(17, 30),
    )
    dealer.refresh_from_db()
    # when a 3-working-day deadline is raised on the day before National Day 2026
    start = datetime.datetime(2026, 9, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    # then it falls on the make-up Saturday 10 October at the dealer's closing time
    assert dealer.deadline(start, 3) == datetime.datetime(
        2026, 10, 10, 17, 30, tzinfo=ZoneInfo("Asia/Shanghai")
    )


@pytest.mark.django_db
def test_dealer_closing_before_opening_is_refused(demo_org):
    dealer = Dealer.objects.get(code="BJ01")
    with pytest.raises(ValidationFailed) as refused:
        services.dealer_update(
            actor=demo_org["bj01-admin"], dealer=dealer, closes_at=datetime.time(7, 0)
        )
    assert "closes_at" in refused.value.fields
    dealer.refresh_from_db()
    assert dealer.closes_at == datetime.time(18, 0)
