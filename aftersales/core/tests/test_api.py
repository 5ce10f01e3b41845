"""API conventions: authentication, the error body, languages, pagination, filtering,
the OpenAPI schema and a query count that does not depend on the page size."""

import os
import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from rest_framework.authtoken.models import Token

from aftersales.core.models import AuditAction, AuditChannel, AuditLog
from aftersales.org.demo import DEMO_PASSWORD
from aftersales.org.models import Dealer

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")


def token_client(user, language="en"):
    token, _ = Token.objects.get_or_create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_ACCEPT_LANGUAGE=language)


def assert_error_body(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


# authentication ------------------------------------------------------------------------


def test_token_from_username_and_password_then_token_auth(demo_org):
    # given a dealer service advisor
    client = Client()
    # when they ask for a token with their password
    response = client.post("/api/auth/token/", {"username": "bj01-sa", "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.content
    token = response.json()["token"]
    # then the token authenticates API calls
    response = client.get("/api/org/dealers/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    assert [d["code"] for d in response.json()["results"]] == ["BJ01"]


def test_token_from_mobile_number(demo_org):
    response = Client().post(
        "/api/auth/token/", {"username": demo_org["bj01-sa"].mobile, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200
    assert Token.objects.get(key=response.json()["token"]).user == demo_org["bj01-sa"]


def test_token_refused_for_a_wrong_password(demo_org):
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        "/api/auth/token/", {"username": "bj01-sa", "password": "wrong"}
    )
    body = assert_error_body(response, 400, "invalid")
    assert "token" not in body
    assert not Token.objects.exists()


def test_session_auth_after_signing_in_on_the_page(demo_org):
    # given a browser session started on the login page
    client = Client()
    response = client.post("/login/", {"username": "bj01-admin", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    # when the API is called with the session cookie
    response = client.get("/api/org/staff/")
    # then it answers with the dealer's staff
    assert response.status_code == 200
    assert {s["dealer"] for s in response.json()["results"]} == {Dealer.objects.get(code="BJ01").pk}


def test_session_writes_need_the_csrf_token(demo_org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(demo_org["bj01-admin"])
    dealer = Dealer.objects.get(code="BJ01")
    response = client.patch(
        f"/api/org/dealers/{dealer.pk}/", {"phone": "1"}, content_type="application/json"
    )
    assert_error_body(response, 403, "permission_denied")
    assert Dealer.objects.get(pk=dealer.pk).phone == dealer.phone


# error bodies --------------------------------------------------------------------------


def test_anonymous_gets_401_with_the_error_body(demo_org):
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get("/api/org/dealers/")
    body = assert_error_body(response, 401, "not_authenticated")
    assert body["fields"] == {}
    assert response["WWW-Authenticate"].startswith("Token")


def test_a_bad_token_gets_401(demo_org):
    response = Client(HTTP_AUTHORIZATION="Token nope").get("/api/org/dealers/")
    assert_error_body(response, 401, "authentication_failed")


def test_role_without_permission_gets_403(demo_org):
    # given a technician (no org.view_user)
    response = token_client(demo_org["bj01-tech"]).get("/api/org/staff/")
    # then the staff list is forbidden with the error body
    body = assert_error_body(response, 403, "permission_denied")
    assert body["fields"] == {}


def test_role_without_write_permission_gets_403(demo_org):
    dealer = Dealer.objects.get(code="BJ01")
    response = token_client(demo_org["bj01-sa"]).patch(
        f"/api/org/dealers/{dealer.pk}/", {"name": "X"}, content_type="application/json"
    )
    assert_error_body(response, 403, "permission_denied")
    assert Dealer.objects.get(pk=dealer.pk).name == dealer.name


def test_another_dealers_id_is_404(demo_org):
    sh01 = Dealer.objects.get(code="SH01")
    # reading
    response = token_client(demo_org["bj01-sa"]).get(f"/api/org/dealers/{sh01.pk}/")
    assert_error_body(response, 404, "not_found")
    # writing, by a dealer admin of another dealer
    response = token_client(demo_org["bj01-admin"]).patch(
        f"/api/org/dealers/{sh01.pk}/", {"name": "Hijacked"}, content_type="application/json"
    )
    assert_error_body(response, 404, "not_found")
    assert Dealer.objects.get(pk=sh01.pk).name == sh01.name
    assert not AuditLog.objects.exists()


@pytest.mark.parametrize(
    ("name", "english"),
    [
        ("", "This field may not be blank."),
        ("x" * 101, "Ensure this field has no more than 100 characters."),
    ],
)
def test_field_errors_in_the_users_language(demo_org, name, english):
    dealer = Dealer.objects.get(code="BJ01")
    url = f"/api/org/dealers/{dealer.pk}/"
    # when the BJ01 admin sends an invalid name in Chinese, then in English
    zh = token_client(demo_org["bj01-admin"], "zh-hans").patch(
        url, {"name": name}, content_type="application/json"
    )
    en = token_client(demo_org["bj01-admin"], "en").patch(
        url, {"name": name}, content_type="application/json"
    )
    # then both answer 400 naming the field, each in the asked language
    zh_body = assert_error_body(zh, 400, "invalid")
    en_body = assert_error_body(en, 400, "invalid")
    assert set(zh_body["fields"]) == set(en_body["fields"]) == {"name"}
    assert en_body["fields"]["name"] == [english]
    assert en_body["message"] == "Some fields are not valid."
    assert CJK.search(zh_body["fields"]["name"][0]), zh_body
    assert CJK.search(zh_body["message"]), zh_body
    # and nothing changed
    assert Dealer.objects.get(pk=dealer.pk).name == dealer.name
    assert not AuditLog.objects.exists()


def test_chinese_is_the_default_language(demo_org):
    response = Client().get("/api/org/dealers/")
    assert CJK.search(response.json()["message"])


def test_patch_changes_only_editable_fields(demo_org):
    dealer = Dealer.objects.get(code="BJ01")
    response = token_client(demo_org["bj01-admin"]).patch(
        f"/api/org/dealers/{dealer.pk}/",
        {"code": "XX01", "phone": "010-9"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["code"] == "BJ01"
    fresh = Dealer.objects.get(pk=dealer.pk)
    assert (fresh.code, fresh.phone) == ("BJ01", "010-9")


# pagination and filtering ----------------------------------------------------------------


def add_audit_rows(count):
    dealers = list(Dealer.objects.all())
    content_type = ContentType.objects.get_for_model(Dealer)
    AuditLog.objects.bulk_create(
        [
            AuditLog(
                actor_name="import",
                channel=AuditChannel.IMPORT,
                action=AuditAction.UPDATE,
                content_type=content_type,
                object_id=str(dealers[i % len(dealers)].pk),
                object_repr=f"row {i}",
                changes={"phone": [str(i), str(i + 1)]},
                dealer=dealers[i % len(dealers)],
            )
            for i in range(count)
        ]
    )


def test_pagination_count_next_results_and_page_size(demo_org):
    add_audit_rows(250)
    client = token_client(demo_org["oem-analyst"])
    # default page size
    body = client.get("/api/audit/").json()
    assert body["count"] == 250
    assert len(body["results"]) == 50
    assert body["next"].endswith("/api/audit/?page=2")
    assert body["previous"] is None
    # page_size chosen by the caller
    body = client.get("/api/audit/?page_size=20&page=2").json()
    assert len(body["results"]) == 20
    assert "page=3" in body["next"] and "page_size=20" in body["next"]
    # but never above 200
    body = client.get("/api/audit/?page_size=500").json()
    assert len(body["results"]) == 200


def test_pagination_only_counts_visible_rows(demo_org):
    add_audit_rows(60)  # 10 at each of the 6 dealers
    body = token_client(demo_org["bj01-svcmgr"]).get("/api/audit/").json()
    assert body["count"] == 10
    assert {row["dealer"] for row in body["results"]} == {Dealer.objects.get(code="BJ01").pk}


def test_search_and_exact_filters(demo_org):
    client = token_client(demo_org["oem-analyst"])
    assert [d["code"] for d in client.get("/api/org/dealers/?search=北京").json()["results"]] == [
        "BJ01"
    ]
    assert [d["code"] for d in client.get("/api/org/dealers/?code=SH01").json()["results"]] == [
        "SH01"
    ]
    assert [r["code"] for r in client.get("/api/org/regions/?code=EAST").json()["results"]] == [
        "EAST"
    ]
    staff = client.get("/api/org/staff/?search=bj01-ad").json()["results"]
    assert [s["username"] for s in staff] == ["bj01-admin"]


def test_filters_never_widen_the_scope(demo_org):
    client = token_client(demo_org["bj01-sa"])
    assert client.get("/api/org/dealers/?code=SH01").json()["count"] == 0
    assert client.get("/api/org/dealers/?search=上海").json()["count"] == 0


# query counts ----------------------------------------------------------------------------


def queries_for(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured), response.json()


@pytest.mark.parametrize("url", ["/api/audit/", "/api/org/staff/", "/api/org/dealers/"])
def test_list_query_count_does_not_grow_with_the_page_size(demo_org, url):
    # given more than 60 rows (71 demo staff, 6 dealers, 80 audit rows)
    add_audit_rows(80)
    client = token_client(demo_org["oem-admin"])
    client.get(url)  # the token's user and roles are then kept (org/authentication.py)
    # when the list is read with small and large pages
    small, small_body = queries_for(client, f"{url}?page_size=5")
    large, large_body = queries_for(client, f"{url}?page_size=50")
    # then the number of queries is the same, and small
    assert len(large_body["results"]) > len(small_body["results"]) or large_body["count"] <= 5
    assert small == large
    assert large <= 6


def test_staff_list_with_roles_has_a_fixed_query_count(demo_org, django_assert_max_num_queries):
    client = token_client(demo_org["oem-admin"])
    with django_assert_max_num_queries(8):
        body = client.get("/api/org/staff/?page_size=100").json()
    assert len(body["results"]) == body["count"] > 60
    assert all(person["roles"] for person in body["results"] if person["username"] != "admin")


# schema and docs -------------------------------------------------------------------------


def test_openapi_schema_is_served():
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    assert re.match(r"openapi: 3\.\d+\.\d+", text)
    assert "/api/org/dealers/" in text


def test_api_docs_use_only_local_assets():
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r"<(?:script|link)\b[^>]*?(?:src|href)=\"([^\"]+)\"", html)
    assert assets, html
    assert [a for a in assets if re.match(r"(https?:)?//", a)] == []
    assert any("swagger-ui" in a for a in assets)


def test_redoc_uses_only_local_assets():
    response = Client().get("/api/redoc/")
    assert response.status_code == 200
    assets = re.findall(
        r"<(?:script|link)\b[^>]*?(?:src|href)=\"([^\"]+)\"", response.content.decode()
    )
    assert assets
    assert [a for a in assets if re.match(r"(https?:)?//", a)] == []


# the exception handler on its own ------------------------------------------------------


def test_service_errors_keep_their_status_code_and_fields():
    from aftersales.core.api import exception_handler
    from aftersales.core.errors import Conflict, ValidationFailed

    response = exception_handler(Conflict("Already revoked.", code="already_revoked"), {})
    assert (response.status_code, response.data) == (
        409,
        {"code": "already_revoked", "message": "Already revoked.", "fields": {}},
    )
    response = exception_handler(
        ValidationFailed(fields={"__all__": ["Pick one unit."], "mobile": ["Bad number."]}), {}
    )
    assert (response.status_code, response.data) == (
        400,
        {"code": "invalid", "message": "Pick one unit.", "fields": {"mobile": ["Bad number."]}},
    )


def test_django_errors_map_to_api_errors():
    from django.core.exceptions import ValidationError

    from aftersales.core.api import exception_handler

    with translation.override("en"):
        response = exception_handler(Dealer.DoesNotExist(), {})
        assert (response.status_code, response.data["code"]) == (404, "not_found")
        response = exception_handler(ValidationError({"name": ["Too long."]}), {})
        assert (response.status_code, response.data) == (
            400,
            {
                "code": "invalid",
                "message": "Some fields are not valid.",
                "fields": {"name": ["Too long."]},
            },
        )
        response = exception_handler(ValidationError("Not today."), {})
        assert (response.status_code, response.data["message"]) == (400, "Not today.")
    assert exception_handler(ZeroDivisionError(), {}) is None  # a real bug stays a 500


def test_the_openapi_schema_generates_without_warnings():
    # every endpoint is described: no unresolved field types, enum name clashes or
    # colliding operation ids (drf-spectacular reports those as warnings)
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--file", os.devnull)
