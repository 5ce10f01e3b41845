"""API tokens: the token's user and roles are kept per process for a few seconds
(org/authentication.py), and a change to them is seen by the next request."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from aftersales.org.authentication import TokenAuthentication, forget_all
from aftersales.org.models import RoleAssignment
from aftersales.org.services import role_revoke

pytestmark = pytest.mark.django_db

URL = "/api/org/dealers/"


@pytest.fixture(autouse=True)
def empty_cache():
    forget_all()
    yield
    forget_all()


def client_of(user):
    token, _ = Token.objects.get_or_create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}"), token


def queries(client):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL)
    assert response.status_code == 200, response.content
    return len(captured)


def test_second_request_reads_neither_token_nor_roles(demo_org):
    # given a dealer's service advisor with a token
    client, _token = client_of(demo_org["bj01-sa"])
    # when the same list is read twice
    first = queries(client)
    second = queries(client)
    # then the second request skipped the token and role queries
    assert second == first - 2


def test_cache_off_reads_them_every_time(demo_org, settings):
    settings.AUTH_CACHE_SECONDS = 0
    client, _token = client_of(demo_org["bj01-sa"])
    assert queries(client) == queries(client)


def test_withdrawn_role_is_refused_on_the_next_request(demo_org):
    # given an advisor whose token and roles are cached
    user = demo_org["bj01-sa"]
    client, _token = client_of(user)
    assert client.get(URL).status_code == 200
    # when the OEM administrator revokes every role of theirs
    for assignment in RoleAssignment.objects.filter(user=user, active=True):
        role_revoke(actor=demo_org["oem-admin"], assignment=assignment)
    # then the very next request no longer reaches the list
    assert client.get(URL).status_code == 403


def test_deactivated_user_and_deleted_token_are_refused_at_once(demo_org):
    user = demo_org["bj01-foreman"]
    client, token = client_of(user)
    assert client.get(URL).status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert client.get(URL).status_code == 401
    user.is_active = True
    user.save(update_fields=["is_active"])
    assert client.get(URL).status_code == 200
    token.delete()
    assert client.get(URL).status_code == 401


def test_each_request_gets_its_own_user_object(demo_org):
    # given a token authenticated once (cached)
    _client, token = client_of(demo_org["bj01-sa"])
    auth = TokenAuthentication()
    first, _ = auth.authenticate_credentials(token.key)
    first.marked_by_the_first_request = True
    first._scope_cache = {"workorders.view_repairorder": "stale"}
    # when it is authenticated again from the cache
    second, second_token = auth.authenticate_credentials(token.key)
    third, _ = auth.authenticate_credentials(token.key)
    # then that is a fresh copy with the roles but nothing the first request left on it
    assert second is not first and third is not second
    assert second.pk == first.pk and second_token.key == token.key
    assert not hasattr(second, "marked_by_the_first_request")
    assert "_scope_cache" not in second.__dict__
    assert second._role_assignment_cache == first._role_assignment_cache != []
