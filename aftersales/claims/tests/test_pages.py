"""The claim pages: list, claim page with its forms, review queue, create from an RO;
in Chinese and English; a fixed number of queries."""

import pytest
from django.urls import reverse

from aftersales.claims.choices import ClaimStatus
from aftersales.claims.models import WarrantyClaim
from aftersales.claims.testing import make_claim, make_claimable_order
from aftersales.org.models import Dealer

S = ClaimStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def org(demo_org):
    return {**demo_org, **{d.code: d for d in Dealer.objects.all()}}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_list_and_detail_render(client, org, language):
    claim = make_claim(dealer=org["BJ01"], status=S.INFO_REQUESTED)
    client.force_login(org["bj01-sa"])
    listed = client.get("/claims/", HTTP_ACCEPT_LANGUAGE=language)
    assert listed.status_code == 200
    assert claim.number.encode() in listed.content
    page = client.get(f"/claims/{claim.pk}/", HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 200
    assert page.context["can_answer"] and not page.context["can_review"]
    assert b'data-action="resubmit"' in page.content
    if language == "en":
        assert b"The OEM asks:" in page.content


def test_the_list_has_a_fixed_number_of_queries(client, org, django_assert_max_num_queries):
    for _ in range(4):
        make_claim(dealer=org["BJ01"], status=S.SUBMITTED)
    client.force_login(org["bj01-sa"])
    with django_assert_max_num_queries(12):
        response = client.get("/claims/")
    assert len(response.context["object_list"]) == 4


def test_draft_page_names_missing_fields_and_saves_the_form(client, org):
    from aftersales.claims.testing import make_codes

    make_codes()
    claim = make_claim(dealer=org["BJ01"], complete_data=False)
    client.force_login(org["bj01-sa"])
    page = client.get(f"/claims/{claim.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert b'data-missing="symptom_code"' in page.content
    form = page.context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(symptom_code="S02", cause_code="C04")
    saved = client.post(f"/claims/{claim.pk}/edit/", data)
    assert saved.status_code == 302
    claim.refresh_from_db()
    assert claim.symptom_code.code == "S02"
    submitted = client.post(
        f"/claims/{claim.pk}/transition/", {"to": "submitted", "version": claim.version}
    )
    assert submitted.status_code == 302
    claim.refresh_from_db()
    assert claim.status == S.SUBMITTED


def test_a_bad_edit_shows_the_field_error(client, org):
    claim = make_claim(dealer=org["BJ01"], complete_data=False)
    client.force_login(org["bj01-sa"])
    response = client.post(
        f"/claims/{claim.pk}/edit/",
        {"version": claim.version, "vin": "SHORT", "causal_part": "NOPE"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "vin" in response.context["form"].errors
    assert "causal_part" in response.context["form"].errors


def test_the_review_queue_lists_all_dealers_oldest_first_and_decides(client, org):
    older = make_claim(dealer=org["SZ01"], status=S.SUBMITTED)
    newer = make_claim(dealer=org["BJ01"], status=S.RESUBMITTED)
    make_claim(dealer=org["BJ01"], status=S.DRAFT)
    WarrantyClaim.objects.filter(pk=older.pk).update(
        submitted_at=newer.submitted_at.replace(year=2025)
    )
    client.force_login(org["oem-techsupport"])
    queue = client.get("/claims/review/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert [c.pk for c in queue.context["object_list"]] == [older.pk, newer.pk]
    decided = client.post(
        f"/claims/{older.pk}/transition/",
        {"to": "rejected", "version": older.version, "note": "非质量问题", "next": "queue"},
    )
    assert decided.status_code == 302 and decided["Location"] == reverse("claim-review-queue")
    older.refresh_from_db()
    assert older.status == S.REJECTED


def test_the_dealer_cannot_open_the_review_queue(client, org):
    client.force_login(org["bj01-sa"])
    assert client.get("/claims/review/").status_code == 403


def test_a_refused_step_shows_a_message_and_changes_nothing(client, org):
    claim = make_claim(dealer=org["BJ01"], status=S.SUBMITTED)
    client.force_login(org["oem-techsupport"])
    response = client.post(
        f"/claims/{claim.pk}/transition/",
        {"to": "approved", "version": claim.version, "approved_amount": "999.00"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert b"cannot be more than the claimed" in response.content
    claim.refresh_from_db()
    assert claim.status == S.SUBMITTED


def test_create_from_the_repair_order_page_then_again_opens_it(client, org):
    order = make_claimable_order(dealer=org["BJ01"])
    client.force_login(org["bj01-sa"])
    first = client.post(f"/claims/from-repair-order/{order.pk}/")
    claim = WarrantyClaim.objects.get(repair_order=order)
    assert first["Location"] == reverse("claim-detail", kwargs={"pk": claim.pk})
    again = client.post(f"/claims/from-repair-order/{order.pk}/")
    assert again["Location"] == first["Location"]
    assert WarrantyClaim.objects.filter(repair_order=order).count() == 1


def test_old_part_buttons_follow_the_side(client, org):
    claim = make_claim(dealer=org["BJ01"], status=S.SUBMITTED)
    line = claim.lines.get(kind="part")
    client.force_login(org["bj01-sa"])
    page = client.get(f"/claims/{claim.pk}/")
    assert [to for to, _label in page.context["return_steps"][line.pk]] == ["shipped"]
    client.post(f"/claims/{claim.pk}/lines/{line.pk}/return/", {"to": "shipped"})
    line.refresh_from_db()
    assert line.return_status == "shipped"
    client.force_login(org["oem-techsupport"])
    page = client.get(f"/claims/{claim.pk}/")
    assert sorted(to for to, _label in page.context["return_steps"][line.pk]) == [
        "received",
        "scrapped",
    ]
