"""The demo claims: every status, consistent data, idempotent, fast."""

import time

import pytest

from aftersales.claims.choices import ClaimStatus
from aftersales.claims.models import ClaimEvent, ClaimLine, WarrantyClaim
from aftersales.claims.services import missing_fields

S = ClaimStatus


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    from django.db import transaction

    from aftersales.catalogue.demo import load_catalogue_demo
    from aftersales.claims.demo import load_claims_demo
    from aftersales.crm.demo import load_crm_demo
    from aftersales.org.demo import load_org_demo
    from aftersales.parts.demo import load_parts_demo
    from aftersales.workorders.demo import load_workorders_demo
    from aftersales.workorders.demo_catalogue import load_workorders_catalogue_demo

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        load_org_demo()
        load_catalogue_demo()
        load_crm_demo()
        load_parts_demo()
        load_workorders_catalogue_demo()
        load_workorders_demo()
        started = time.perf_counter()
        result = load_claims_demo()
        seconds = time.perf_counter() - started
        print(f"\nclaims demo: {seconds:.2f} s; {result}")
        counts = (WarrantyClaim.objects.count(), ClaimLine.objects.count())
        again = load_claims_demo()
        yield {
            "seconds": seconds,
            "result": result,
            "counts": counts,
            "again": again,
            "recounted": (WarrantyClaim.objects.count(), ClaimLine.objects.count()),
        }
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def loaded(demo, db):
    return demo


def test_every_status_is_shown_and_every_dealer_has_claims(loaded):
    assert set(WarrantyClaim.objects.values_list("status", flat=True)) == set(S.values)
    assert WarrantyClaim.objects.values("dealer").distinct().count() == 6
    assert loaded["seconds"] < 5


def test_it_is_idempotent(loaded):
    assert loaded["again"]["claims"] == 0
    assert loaded["recounted"] == loaded["counts"]


def test_data_fits_each_status(loaded):
    for claim in WarrantyClaim.objects.prefetch_related("lines"):
        lines = list(claim.lines.all())
        assert lines, claim
        assert claim.claimed_total == sum(line.amount for line in lines)
        assert claim.repair_order.dealer_id == claim.dealer_id
        if claim.status != S.DRAFT:
            assert missing_fields(claim) == {}, claim
            assert claim.submitted_at is not None
            assert claim.created_at <= claim.submitted_at
        if claim.status in (S.APPROVED, S.SETTLED):
            assert 0 < claim.approved_amount <= claim.claimed_total
            if claim.approved_amount < claim.claimed_total:
                assert claim.decision_reason
        if claim.status == S.SETTLED:
            assert claim.paid_amount == claim.approved_amount
        if claim.status == S.REJECTED:
            assert claim.decision_reason
        steps = list(
            ClaimEvent.objects.filter(claim=claim, kind="status")
            .order_by("at", "id")
            .values_list("to_status", flat=True)
        )
        assert (steps[-1] if steps else S.DRAFT) == claim.status
        assert claim.version == len(steps) + 1


def test_demo_claims_can_be_worked_on(loaded):
    from aftersales.claims.services import claim_transition
    from aftersales.org.models import User

    claim = WarrantyClaim.objects.filter(status=S.SUBMITTED).first()
    done = claim_transition(
        actor=User.objects.get(username="oem-techsupport"),
        claim=claim,
        to=S.APPROVED,
        version=claim.version,
    )
    assert done.status == S.APPROVED
