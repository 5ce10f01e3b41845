import pytest
from django.core.management import call_command

from aftersales.org.models import Dealer, Region, RoleAssignment, User
from aftersales.org.roles import ROLE_LEVEL, Level, Role


@pytest.mark.django_db
def test_demo_data_loads_twice_without_duplicates():
    # given the demo loaded once
    call_command("demo_data", "--quiet-logins")
    counts = (User.objects.count(), RoleAssignment.objects.count(), Dealer.objects.count())
    # when loaded again
    call_command("demo_data", "--quiet-logins")
    # then nothing is added
    assert (User.objects.count(), RoleAssignment.objects.count(), Dealer.objects.count()) == counts
    assert Region.objects.count() == 3 and Dealer.objects.count() == 6


@pytest.mark.django_db
def test_demo_has_a_user_for_every_role_at_every_unit(demo_org):
    held = set(RoleAssignment.objects.values_list("role", "dealer__code", "region__code"))
    for role in Role:
        level = ROLE_LEVEL[role]
        if level == Level.DEALER:
            for code in Dealer.objects.values_list("code", flat=True):
                assert (role.value, code, None) in held, (role, code)
        elif level == Level.REGION:
            for code in Region.objects.values_list("code", flat=True):
                assert (role.value, None, code) in held, (role, code)
        else:
            assert (role.value, None, None) in held, role
    assert demo_org["bj01-sa"].check_password("demo-2026")
