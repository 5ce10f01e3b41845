"""Signing in on the real login page: username or mobile, one generic error, lock-out per
account and per address after AXES_FAILURE_LIMIT failures, lifted after the cool-off."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client

from aftersales.org.backends import lockout_username
from aftersales.org.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

GENERIC = "The username/mobile number or the password is wrong."
LOCKED = "Sign-in temporarily locked"
LIMIT = settings.AXES_FAILURE_LIMIT


def sign_in(username, password, ip="10.0.0.1"):
    # a fresh browser each time: no session carried between attempts
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)
    return client, response


def assert_signed_in(client, response, user):
    assert response.status_code == 302, response.content.decode()[:500]
    assert int(client.session["_auth_user_id"]) == user.pk


def assert_locked(response):
    assert response.status_code == 429
    html = response.content.decode()
    assert LOCKED in html
    assert "Please try again in 30 minutes." in html
    assert "_auth_user_id" not in response.wsgi_request.session


def move_attempts_back(minutes):
    AccessAttempt.objects.update(
        attempt_time=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=minutes)
    )


def test_sign_in_with_username(demo_org):
    client, response = sign_in("bj01-sa", DEMO_PASSWORD)
    assert_signed_in(client, response, demo_org["bj01-sa"])
    assert response["Location"] == "/"


def test_sign_in_with_mobile_number(demo_org):
    user = demo_org["bj01-sa"]
    assert user.mobile.startswith("1380000")
    client, response = sign_in(f" {user.mobile} ", DEMO_PASSWORD)
    assert_signed_in(client, response, user)


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("bj01-sa", "wrong-password"),  # wrong password
        ("nobody", DEMO_PASSWORD),  # unknown user
        ("13999999999", DEMO_PASSWORD),  # unknown mobile
    ],
)
def test_failed_sign_in_shows_one_generic_message(demo_org, username, password):
    client, response = sign_in(username, password)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count(GENERIC) == 1
    assert "_auth_user_id" not in client.session


def test_inactive_account_gets_the_same_generic_message(demo_org):
    user = demo_org["bj01-sa"]
    user.is_active = False
    user.save(update_fields=["is_active"])
    client, response = sign_in("bj01-sa", DEMO_PASSWORD)
    assert response.status_code == 200
    assert GENERIC in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_passwords_are_stored_with_argon2(demo_org):
    user = demo_org["bj01-sa"]
    assert user.password.startswith("argon2")
    user.set_password("An0ther-Passw0rd")
    user.save()
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    client, response = sign_in("bj01-sa", "An0ther-Passw0rd")
    assert_signed_in(client, response, user)


def test_account_locks_after_the_failure_limit_even_with_the_right_password(demo_org):
    # given LIMIT-1 failures for one account, each from a different address
    assert LIMIT == 5
    for i in range(LIMIT - 1):
        _, response = sign_in("bj01-sa", "wrong", ip=f"10.0.1.{i}")
        assert response.status_code == 200
    # when the LIMIT-th failure happens
    _, response = sign_in("bj01-sa", "wrong", ip="10.0.1.100")
    # then the locked-out page answers
    assert_locked(response)
    # and the right password from a new address is locked out too
    _, response = sign_in("bj01-sa", DEMO_PASSWORD, ip="10.0.1.200")
    assert_locked(response)
    # while another account signs in normally
    client, response = sign_in("bj01-tech", DEMO_PASSWORD, ip="10.0.1.201")
    assert_signed_in(client, response, demo_org["bj01-tech"])


def test_address_locks_after_failures_across_usernames(demo_org):
    # given failures from one address, each for a different (real or made-up) username
    for name in ["bj01-sa", "bj01-tech", "sh01-sa", "nobody", "13999999999"][:LIMIT]:
        _, response = sign_in(name, "wrong", ip="10.0.2.9")
    # then the address is locked: even a right password for an untouched account fails
    assert_locked(response)
    _, response = sign_in("sh01-admin", DEMO_PASSWORD, ip="10.0.2.9")
    assert_locked(response)
    # but the same account signs in from another address
    client, response = sign_in("sh01-admin", DEMO_PASSWORD, ip="10.0.2.10")
    assert_signed_in(client, response, demo_org["sh01-admin"])


def test_lock_lifts_after_the_cool_off(demo_org):
    # given a locked account
    for i in range(LIMIT):
        _, response = sign_in("bj01-sa", "wrong", ip=f"10.0.3.{i}")
    assert_locked(response)
    # when 29 minutes have passed, it is still locked (and the attempt restarts the clock)
    move_attempts_back(29)
    _, response = sign_in("bj01-sa", DEMO_PASSWORD, ip="10.0.3.50")
    assert_locked(response)
    # when the 30-minute cool-off has passed
    move_attempts_back(31)
    # then the right password works again, and the failures are forgotten
    client, response = sign_in("bj01-sa", DEMO_PASSWORD, ip="10.0.3.51")
    assert_signed_in(client, response, demo_org["bj01-sa"])
    assert not AccessAttempt.objects.filter(username="bj01-sa").exists()


def test_success_resets_the_failure_count(demo_org):
    # given LIMIT-1 failures, then a successful sign-in
    for i in range(LIMIT - 1):
        sign_in("bj01-sa", "wrong", ip=f"10.0.4.{i}")
    client, response = sign_in("bj01-sa", DEMO_PASSWORD, ip="10.0.4.50")
    assert_signed_in(client, response, demo_org["bj01-sa"])
    # when another failure follows, then it is not a lock-out
    _, response = sign_in("bj01-sa", "wrong", ip="10.0.4.51")
    assert response.status_code == 200


def test_lockout_username_counts_mobile_and_username_as_one_account(demo_org):
    user = demo_org["bj01-sa"]
    assert lockout_username(None, {"username": user.mobile}) == "bj01-sa"
    assert lockout_username(None, {"username": " bj01-sa "}) == "bj01-sa"
    assert lockout_username(None, {"username": "nobody"}) == "nobody"
    assert lockout_username(None, {"username": None}) is None


def test_account_lock_covers_the_mobile_number(demo_org):
    # given an account locked through failures with its username
    user = demo_org["bj01-sa"]
    for i in range(LIMIT):
        _, response = sign_in("bj01-sa", "wrong", ip=f"10.0.5.{i}")
    assert_locked(response)
    # when the right password is tried with the mobile number, then it is locked too
    _, response = sign_in(user.mobile, DEMO_PASSWORD, ip="10.0.5.100")
    assert_locked(response)


def test_account_lock_covers_the_mobile_number_when_configured(demo_org, settings):
    settings.AXES_USERNAME_CALLABLE = "aftersales.org.backends.lockout_username"
    user = demo_org["bj01-sa"]
    # failures alternate between the username and the mobile number
    for i in range(LIMIT):
        login = "bj01-sa" if i % 2 else user.mobile
        _, response = sign_in(login, "wrong", ip=f"10.0.6.{i}")
    assert_locked(response)
    for login in ["bj01-sa", user.mobile]:
        _, response = sign_in(login, DEMO_PASSWORD, ip="10.0.6.100")
        assert_locked(response)


def test_client_address_behind_the_proxy_is_the_one_the_proxy_appended(rf, settings):
    from aftersales.org.backends import client_ip

    # given a client that forges an X-Forwarded-For entry, relayed by our proxy
    request = rf.get("/", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9", REMOTE_ADDR="10.0.0.2")
    # when the site runs behind the proxy, the proxy's appended entry counts
    settings.BEHIND_PROXY = True
    assert client_ip(request) == "203.0.113.9"
    # and when it is exposed directly, only the socket address counts
    settings.BEHIND_PROXY = False
    assert client_ip(request) == "10.0.0.2"
