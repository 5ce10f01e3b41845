"""The claims API: list filters and query count, detail, create with an idempotency key,
edit, transitions with their error codes, photos, old parts."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from aftersales.claims.choices import ClaimStatus
from aftersales.claims.models import WarrantyClaim
from aftersales.claims.testing import make_claim, make_claimable_order, make_codes
from aftersales.org.models import Dealer

S = ClaimStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def org(demo_org):
    return {**demo_org, **{d.code: d for d in Dealer.objects.all()}}


def _client(client, user):
    client.force_login(user)
    return client


def test_the_list_is_scoped_filtered_and_has_a_fixed_number_of_queries(
    client, org, django_assert_max_num_queries
):
    # given claims at two dealers of the north and one in the east
    bj = [make_claim(dealer=org["BJ01"], status=s) for s in (S.DRAFT, S.SUBMITTED, S.APPROVED)]
    tj = make_claim(dealer=org["TJ01"], status=S.SUBMITTED)
    sh = make_claim(dealer=org["SH01"], status=S.SUBMITTED)

    def ids(user, query=""):
        _client(client, user)
        response = client.get(f"/api/claims/?page_size=50{query}")
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    # then each sees their scope
    assert ids(org["bj01-sa"]) == {c.pk for c in bj}
    assert ids(org["north-rm"]) == {c.pk for c in bj} | {tj.pk}
    assert ids(org["oem-techsupport"]) >= {c.pk for c in bj} | {tj.pk, sh.pk}
    # and the filters narrow it
    assert ids(org["oem-techsupport"], "&status=submitted&dealer=BJ01") == {bj[1].pk}
    assert ids(org["oem-techsupport"], f"&dealer={org['SH01'].pk}") == {sh.pk}
    assert ids(org["bj01-sa"], "&status=draft,approved") == {bj[0].pk, bj[2].pk}
    assert bj[0].pk in ids(org["bj01-sa"], f"&q={bj[0].number}")
    # and the query count does not grow with the rows
    _client(client, org["oem-admin"])
    with django_assert_max_num_queries(8):
        client.get("/api/claims/?page_size=50")


def test_a_bad_date_filter_is_a_clear_400(client, org):
    _client(client, org["bj01-sa"])
    response = client.get("/api/claims/?date_from=yesterday")
    assert response.status_code == 400
    assert "date_from" in response.json()["fields"]


def test_detail_shows_lines_photos_and_timeline(client, org):
    claim = make_claim(dealer=org["BJ01"], status=S.SUBMITTED)
    _client(client, org["bj01-sa"])
    body = client.get(f"/api/claims/{claim.pk}/").json()
    assert body["number"] == claim.number
    assert [line["kind"] for line in body["lines"]] == ["labour", "part"]
    assert body["claimed_total"] == "270.00"
    assert body["events"][0]["kind"] == "created"
    assert body["symptom_code"] == "S02"


def test_another_dealers_claim_answers_404(client, org):
    claim = make_claim(dealer=org["BJ01"])
    _client(client, org["sh01-sa"])
    assert client.get(f"/api/claims/{claim.pk}/").status_code == 404


def test_create_from_a_repair_order_is_idempotent_with_a_key(client, org):
    order = make_claimable_order(dealer=org["BJ01"])
    _client(client, org["bj01-sa"])
    first = client.post(
        "/api/claims/",
        {"repair_order": order.pk},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="claim-ro-1",
    )
    again = client.post(
        "/api/claims/",
        {"repair_order": order.pk},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="claim-ro-1",
    )
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert WarrantyClaim.objects.filter(repair_order=order).count() == 1
    # without the key, a second create is refused with the existing claim named
    refused = client.post(
        "/api/claims/", {"repair_order": order.pk}, content_type="application/json"
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "claim_exists"


def test_create_from_another_dealers_order_answers_404(client, org):
    order = make_claimable_order(dealer=org["BJ01"])
    _client(client, org["tj01-sa"])
    response = client.post(
        "/api/claims/", {"repair_order": order.pk}, content_type="application/json"
    )
    assert response.status_code == 404
    assert not WarrantyClaim.objects.exists()


def test_edit_and_submit_a_draft(client, org):
    make_codes()
    claim = make_claim(dealer=org["BJ01"], complete_data=False)
    _client(client, org["bj01-sa"])
    refused = client.post(
        f"/api/claims/{claim.pk}/transition/",
        {"to": "submitted", "version": claim.version},
        content_type="application/json",
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "missing_fields"
    assert set(refused.json()["fields"]) == {"symptom_code", "cause_code"}
    edited = client.patch(
        f"/api/claims/{claim.pk}/",
        {"version": claim.version, "symptom_code": "S01", "cause_code": "C01"},
        content_type="application/json",
    )
    assert edited.status_code == 200, edited.content
    version = edited.json()["version"]
    stale = client.post(
        f"/api/claims/{claim.pk}/transition/",
        {"to": "submitted", "version": version - 1},
        content_type="application/json",
    )
    assert stale.status_code == 409 and stale.json()["code"] == "stale"
    done = client.post(
        f"/api/claims/{claim.pk}/transition/",
        {"to": "submitted", "version": version},
        content_type="application/json",
    )
    assert done.status_code == 200
    assert done.json()["status"] == "submitted"


def test_the_missing_fields_message_is_translated(client, org):
    claim = make_claim(dealer=org["BJ01"], complete_data=False)
    _client(client, org["bj01-sa"])
    response = client.post(
        f"/api/claims/{claim.pk}/transition/",
        {"to": "submitted", "version": claim.version},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "symptom code" in response.json()["message"]


def test_the_oem_reviews_through_the_api(client, org):
    claim = make_claim(dealer=org["GZ01"], status=S.SUBMITTED)
    _client(client, org["oem-techsupport"])
    partial = client.post(
        f"/api/claims/{claim.pk}/transition/",
        {"to": "approved", "version": claim.version, "approved_amount": "100.00"},
        content_type="application/json",
    )
    assert partial.status_code == 400 and partial.json()["code"] == "reason_required"
    done = client.post(
        f"/api/claims/{claim.pk}/transition/",
        {"to": "approved", "version": claim.version, "approved_amount": "100.00", "note": "部分"},
        content_type="application/json",
    )
    assert done.status_code == 200 and done.json()["approved_amount"] == "100.00"
    illegal = client.post(
        f"/api/claims/{claim.pk}/transition/",
        {"to": "rejected", "version": done.json()["version"], "note": "x"},
        content_type="application/json",
    )
    assert illegal.status_code == 409 and illegal.json()["code"] == "illegal_transition"


def test_a_dealer_cannot_approve_its_own_claim(client, org):
    claim = make_claim(dealer=org["BJ01"], status=S.SUBMITTED)
    _client(client, org["bj01-svcmgr"])
    response = client.post(
        f"/api/claims/{claim.pk}/transition/",
        {"to": "approved", "version": claim.version},
        content_type="application/json",
    )
    assert response.status_code == 403
    claim.refresh_from_db()
    assert claim.status == S.SUBMITTED


def _png():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (1, 2, 3)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_photo_upload_checks_the_content(client, org):
    claim = make_claim(dealer=org["BJ01"])
    _client(client, org["bj01-sa"])
    fake = client.post(
        f"/api/claims/{claim.pk}/photos/",
        {"image": SimpleUploadedFile("a.jpg", b"not an image", "image/jpeg")},
    )
    assert fake.status_code == 400 and fake.json()["code"] == "not_an_image"
    ok = client.post(
        f"/api/claims/{claim.pk}/photos/",
        {"image": SimpleUploadedFile("a.png", _png(), "image/png"), "caption": "渗漏"},
    )
    assert ok.status_code == 201
    photo = ok.json()["photos"][0]
    served = client.get(photo["url"])
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    _client(client, org["tj01-sa"])
    assert client.get(photo["url"]).status_code == 404


def test_old_part_return_through_the_api(client, org):
    claim = make_claim(dealer=org["BJ01"], status=S.SUBMITTED)
    line = claim.lines.get(kind="part")
    _client(client, org["bj01-sa"])
    shipped = client.post(
        f"/api/claims/{claim.pk}/return/",
        {"line": line.pk, "to": "shipped"},
        content_type="application/json",
    )
    assert shipped.status_code == 200
    _client(client, org["oem-techsupport"])
    received = client.post(
        f"/api/claims/{claim.pk}/return/",
        {"line": line.pk, "to": "received"},
        content_type="application/json",
    )
    assert received.status_code == 200
    assert [ln["return_status"] for ln in received.json()["lines"] if ln["kind"] == "part"] == [
        "received"
    ]


def test_codes_are_listed(client, org):
    make_claim(dealer=org["BJ01"])
    _client(client, org["bj01-sa"])
    body = client.get("/api/claims/reports/codes/").json()
    assert {"code": "S01", "name": "异响", "name_en": "Abnormal noise"} in body["symptoms"]
    assert len(body["causes"]) == 8
