"""restrict(user, action): dealer staff see their dealer, region managers their region,
OEM staff everything; nobody sees what their roles do not grant."""

import pytest

from aftersales.org.models import Dealer, Region, User


@pytest.mark.django_db
def test_dealer_staff_see_only_their_dealer(demo_org):
    # given a service advisor of BJ01
    sa = demo_org["bj01-sa"]
    # when listing dealers
    codes = set(Dealer.objects.restrict(sa, "view").values_list("code", flat=True))
    # then only BJ01 is visible
    assert codes == {"BJ01"}


@pytest.mark.django_db
def test_region_manager_sees_the_dealers_of_the_region(demo_org):
    codes = set(
        Dealer.objects.restrict(demo_org["north-rm"], "view").values_list("code", flat=True)
    )
    assert codes == {"BJ01", "TJ01"}
    regions = set(
        Region.objects.restrict(demo_org["north-rm"], "view").values_list("code", flat=True)
    )
    assert regions == {"NORTH"}


@pytest.mark.django_db
def test_oem_staff_see_everything(demo_org):
    assert Dealer.objects.restrict(demo_org["oem-analyst"], "view").count() == 6


@pytest.mark.django_db
def test_permission_missing_means_nothing(demo_org):
    # given a technician (no permission to list staff)
    tech = demo_org["bj01-tech"]
    # then the staff list is empty for them, and they cannot change their dealer
    assert User.objects.restrict(tech, "view").count() == 0
    assert Dealer.objects.restrict(tech, "change").count() == 0


@pytest.mark.django_db
def test_dealer_admin_changes_only_own_dealer(demo_org):
    admin = demo_org["sh01-admin"]
    assert set(Dealer.objects.restrict(admin, "change").values_list("code", flat=True)) == {"SH01"}


@pytest.mark.django_db
def test_inactive_user_sees_nothing(demo_org):
    sa = demo_org["bj01-sa"]
    sa.is_active = False
    assert Dealer.objects.restrict(sa, "view").count() == 0
