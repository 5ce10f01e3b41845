"""ARCHITECTURE rule 4: every API endpoint and page, as anonymous, without the
permission, with it at the record's dealer, and with it at another dealer."""

import itertools

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from aftersales.org.models import Dealer, Oem, Region, RoleAssignment, User
from aftersales.org.roles import ROLE_LEVEL, Level, roles_with, roles_without
from aftersales.testing.matrix import PUBLIC, PUBLIC_PREFIXES, all_endpoints

ENDPOINTS = all_endpoints()
_seq = itertools.count()


@pytest.fixture
def two_dealers(db):
    oem = Oem.objects.create(code="T", name="Test OEM")
    north = Region.objects.create(oem=oem, code="RN", name="North")
    south = Region.objects.create(oem=oem, code="RS", name="South")
    return (
        Dealer.objects.create(region=north, code="DA", name="Dealer A"),
        Dealer.objects.create(region=south, code="DB", name="Dealer B"),
    )


def _person(role=None, dealer=None):
    user = User.objects.create(username=f"m{next(_seq)}", dealer=dealer)
    if role is not None:
        level = ROLE_LEVEL[role]
        RoleAssignment.objects.create(
            user=user,
            role=role,
            dealer=dealer if level == Level.DEALER else None,
            region=dealer.region if level == Level.REGION else None,
        )
    return user


def _granting_role(permission):
    roles = roles_with(permission)
    dealer_roles = [r for r in roles if ROLE_LEVEL[r] == Level.DEALER]
    return (dealer_roles or roles)[0]


def _call(client, endpoint, record, user=None):
    if user is not None:
        client.force_login(user)
    url = reverse(endpoint.name, kwargs=endpoint.url_kwargs(record) if endpoint.detail else None)
    if endpoint.kind == "api" and not endpoint.detail and endpoint.method == "get":
        url += "?page_size=200"
    kwargs = {}
    if endpoint.data is not None:
        kwargs = {"data": endpoint.data(record), "content_type": "application/json"}
    return getattr(client, endpoint.method)(url, **kwargs)


def _listed_ids(endpoint, response):
    if endpoint.kind == "api":
        return {row["id"] for row in response.json()["results"]}
    return {obj.pk for obj in response.context["object_list"]}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
def test_anonymous_is_refused(client, two_dealers, endpoint):
    record = endpoint.make(two_dealers[0])
    response = _call(client, endpoint, record)
    if endpoint.kind == "api":
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
def test_user_without_the_permission_is_refused(client, two_dealers, endpoint):
    dealer = two_dealers[0]
    record = endpoint.make(dealer)
    lacking = roles_without(endpoint.permission, Level.DEALER)
    user = _person(lacking[0] if lacking else None, dealer)
    response = _call(client, endpoint, record, user)
    assert response.status_code == 403
    if endpoint.kind == "api":
        assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
def test_user_with_the_permission_is_served(client, two_dealers, endpoint):
    dealer = two_dealers[0]
    record = endpoint.make(dealer)
    user = _person(_granting_role(endpoint.permission), dealer)
    response = _call(client, endpoint, record, user)
    assert response.status_code == endpoint.ok_status, response.content[:500]
    if not endpoint.detail:
        assert record.pk in _listed_ids(endpoint, response)


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.scoped], ids=lambda e: e.id)
def test_other_dealers_user_gets_404_and_an_empty_list(client, two_dealers, endpoint):
    dealer, other = two_dealers
    role = _granting_role(endpoint.permission)
    if ROLE_LEVEL[role] == Level.OEM:
        pytest.fail(f"{endpoint.id}: scoped endpoint whose permission only OEM roles hold")
    record = endpoint.make(dealer)
    outsider = _person(role, other)
    response = _call(client, endpoint, record, outsider)
    if endpoint.detail:
        assert response.status_code == 404
        if endpoint.kind == "api":
            assert response.json()["code"] == "not_found"
    else:
        assert response.status_code == 200
        assert record.pk not in _listed_ids(endpoint, response)


def _url_names(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield namespace + pattern.name


def test_every_url_is_declared_in_the_matrix():
    declared = {e.name for e in ENDPOINTS}
    undeclared = {
        name
        for name in _url_names(get_resolver().url_patterns)
        if name not in declared and name not in PUBLIC and not name.startswith(PUBLIC_PREFIXES)
    }
    assert undeclared == set(), f"declare these in <app>/matrix.py: {sorted(undeclared)}"
