import pytest


@pytest.fixture(autouse=True)
def _axes_reset(settings):
    # Each test starts with no recorded login failures in the lock-out cache.
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def demo_org(db):
    """The demo organisation: 3 regions, 6 dealers, a user per role per unit."""
    from aftersales.org.demo import load_org_demo

    load_org_demo()
    from aftersales.org.models import User

    return {u.username: u for u in User.objects.all()}
