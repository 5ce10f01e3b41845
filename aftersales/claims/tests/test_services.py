"""The claim's state machine, creation from a repair order, editing and old parts."""

import itertools
from decimal import Decimal

import pytest

from aftersales.claims import services
from aftersales.claims.choices import TRANSITIONS, ClaimStatus, ReturnStatus
from aftersales.claims.models import ClaimEvent, WarrantyClaim
from aftersales.claims.testing import make_claim, make_claimable_order, make_codes
from aftersales.core.errors import Conflict, PermissionDenied, ValidationFailed
from aftersales.core.models import AuditLog
from aftersales.org.models import Dealer

S = ClaimStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def org(demo_org):
    return {
        **demo_org,
        "BJ01": Dealer.objects.get(code="BJ01"),
        "TJ01": Dealer.objects.get(code="TJ01"),
        "SH01": Dealer.objects.get(code="SH01"),
    }


def _step_data(to):
    return {
        S.SUBMITTED: {},
        S.RESUBMITTED: {"note": "已补充照片"},
        S.INFO_REQUESTED: {"note": "请补充故障件照片"},
        S.APPROVED: {},
        S.REJECTED: {"note": "非质量问题"},
        S.SETTLED: {"paid_amount": "270.00"},
    }.get(to, {})


def _actor(org, to):
    if to in (S.SUBMITTED, S.RESUBMITTED):
        return org["bj01-sa"]
    return org["oem-techsupport"]


# ---------------------------------------------------------------- creation


def test_a_claim_is_made_from_the_warranty_lines_of_an_order(org):
    # given an order in progress with a warranty labour line and a warranty part line
    order = make_claimable_order(dealer=org["BJ01"])
    # when the advisor creates the claim
    claim = services.claim_create(actor=org["bj01-sa"], repair_order=order)
    # then it is a numbered draft with both lines copied and exact totals
    assert claim.status == S.DRAFT
    assert claim.number.startswith("WC-BJ01-")
    assert claim.vin == order.vehicle.vin
    assert claim.odometer_km == order.odometer_km
    assert claim.failure_date is not None
    lines = list(claim.lines.order_by("position"))
    assert [line.kind for line in lines] == ["labour", "part"]
    assert lines[0].hours == Decimal("1.50") and lines[0].amount == Decimal("150.00")
    assert lines[1].return_status == ReturnStatus.TO_RETURN
    assert claim.causal_part_id == lines[1].part_id
    assert claim.claimed_labour == Decimal("150.00")
    assert claim.claimed_parts == Decimal("120.00")
    assert claim.claimed_total == Decimal("270.00")
    assert claim.events.get().kind == "created"
    assert AuditLog.objects.filter(object_id=str(claim.pk), action="create").exists()


def test_customer_lines_are_not_claimed(org):
    from aftersales.workorders.testing import add_labour_line

    order = make_claimable_order(dealer=org["BJ01"])
    add_labour_line(order, name="洗车", hours="0.5")  # pay_type customer
    claim = services.claim_create(actor=org["bj01-sa"], repair_order=order)
    assert claim.lines.count() == 2


def test_line_amounts_round_half_up_per_line(org):
    order = make_claimable_order(dealer=org["BJ01"])
    order.lines.filter(kind="labour").update(quantity=Decimal("0.35"), unit_price=Decimal("0.05"))
    claim = services.claim_create(actor=org["bj01-sa"], repair_order=order)
    # 0.35 × 0.05 = 0.0175 → 0.02
    assert claim.lines.get(kind="labour").amount == Decimal("0.02")
    assert claim.claimed_total == Decimal("120.02")


def test_a_second_claim_for_the_same_order_is_refused(org):
    order = make_claimable_order(dealer=org["BJ01"])
    first = services.claim_create(actor=org["bj01-sa"], repair_order=order)
    with pytest.raises(Conflict) as refused:
        services.claim_create(actor=org["bj01-sa"], repair_order=order)
    assert refused.value.code == "claim_exists"
    assert first.number in str(refused.value.message)
    assert WarrantyClaim.objects.filter(repair_order=order).count() == 1


def test_a_rejected_claim_frees_the_order_for_a_new_one(org):
    order = make_claimable_order(dealer=org["BJ01"])
    make_claim(dealer=org["BJ01"], status=S.REJECTED, order=order)
    again = services.claim_create(actor=org["bj01-sa"], repair_order=order)
    assert again.status == S.DRAFT


@pytest.mark.parametrize("status", ["approved", "estimated", "cancelled"])
def test_an_order_whose_work_has_not_started_cannot_be_claimed(org, status):
    order = make_claimable_order(dealer=org["BJ01"], status=status)
    with pytest.raises(Conflict) as refused:
        services.claim_create(actor=org["bj01-sa"], repair_order=order)
    assert refused.value.code == "ro_not_started"
    assert not WarrantyClaim.objects.exists()


@pytest.mark.parametrize("status", ["delivered", "closed"])
def test_delivered_and_closed_orders_can_be_claimed(org, status):
    order = make_claimable_order(dealer=org["BJ01"], status=status)
    assert services.claim_create(actor=org["bj01-sa"], repair_order=order).pk


def test_an_order_without_warranty_lines_cannot_be_claimed(org):
    order = make_claimable_order(dealer=org["BJ01"])
    order.lines.update(pay_type="customer")
    with pytest.raises(Conflict) as refused:
        services.claim_create(actor=org["bj01-sa"], repair_order=order)
    assert refused.value.code == "no_warranty_lines"


def test_another_dealers_advisor_cannot_claim_the_order(org):
    order = make_claimable_order(dealer=org["BJ01"])
    with pytest.raises(PermissionDenied):
        services.claim_create(actor=org["tj01-sa"], repair_order=order)
    with pytest.raises(PermissionDenied):
        services.claim_create(actor=org["bj01-tech"], repair_order=order)


# ---------------------------------------------------------------- the state machine

LEGAL = [(source, to) for source in S for to in sorted(TRANSITIONS[source])]
ILLEGAL = [(source, to) for source in S for to in S if to not in TRANSITIONS[source]]


@pytest.mark.parametrize(("source", "to"), LEGAL, ids=lambda v: str(v))
def test_every_legal_step(org, source, to):
    # given a claim in the source status
    claim = make_claim(dealer=org["BJ01"], status=source)
    version = claim.version
    # when the right side takes the step
    done = services.claim_transition(
        actor=_actor(org, to), claim=claim, to=to, version=version, **_step_data(to)
    )
    # then the status, the version, the timeline and the audit trail show it
    done.refresh_from_db()
    assert done.status == to
    assert done.version == version + 1
    event = ClaimEvent.objects.filter(claim=claim, kind="status").get()
    assert (event.from_status, event.to_status) == (source, to)
    assert event.actor == _actor(org, to)
    assert AuditLog.objects.filter(object_id=str(claim.pk), changes__status=[source, to]).exists()


@pytest.mark.parametrize(("source", "to"), ILLEGAL, ids=lambda v: str(v))
def test_every_illegal_step_is_refused_and_changes_nothing(org, source, to):
    claim = make_claim(dealer=org["BJ01"], status=source)
    with pytest.raises(Conflict) as refused:
        services.claim_transition(actor=org["admin"], claim=claim, to=to, **_step_data(to))
    assert refused.value.code == "illegal_transition"
    claim.refresh_from_db()
    assert claim.status == source
    assert not claim.events.filter(kind="status").exists()


def test_an_unknown_target_is_an_illegal_step(org):
    claim = make_claim(dealer=org["BJ01"])
    with pytest.raises(Conflict) as refused:
        services.claim_transition(actor=org["bj01-sa"], claim=claim, to="paid")
    assert refused.value.code == "illegal_transition"


def test_submitting_stamps_the_submission_time(org):
    claim = make_claim(dealer=org["BJ01"])
    done = services.claim_transition(actor=org["bj01-sa"], claim=claim, to=S.SUBMITTED)
    assert done.submitted_at is not None


def test_a_claim_missing_data_cannot_be_submitted_and_every_gap_is_named(org):
    # given a draft with nothing the OEM needs
    claim = make_claim(dealer=org["BJ01"], complete_data=False)
    WarrantyClaim.objects.filter(pk=claim.pk).update(
        vin="", odometer_km=None, failure_date=None, causal_part=None
    )
    claim.lines.all().delete()
    # when it is submitted
    with pytest.raises(Conflict) as refused:
        services.claim_transition(actor=org["bj01-sa"], claim=claim, to=S.SUBMITTED)
    # then the refusal names every missing field and nothing changed
    assert refused.value.code == "missing_fields"
    assert set(refused.value.fields) == {
        "vin",
        "odometer_km",
        "failure_date",
        "causal_part",
        "symptom_code",
        "cause_code",
        "lines",
    }
    assert "VIN" in str(refused.value.message)
    claim.refresh_from_db()
    assert claim.status == S.DRAFT


def test_missing_fields_are_named_in_chinese(org):
    from django.utils import translation

    claim = make_claim(dealer=org["BJ01"], complete_data=False)
    with translation.override("zh-hans"), pytest.raises(Conflict) as refused:
        services.claim_transition(actor=org["bj01-sa"], claim=claim, to=S.SUBMITTED)
    assert set(refused.value.fields) == {"symptom_code", "cause_code"}


def test_a_stale_version_is_refused(org):
    claim = make_claim(dealer=org["BJ01"])
    with pytest.raises(Conflict) as refused:
        services.claim_transition(
            actor=org["bj01-sa"], claim=claim, to=S.SUBMITTED, version=claim.version - 1 + 5
        )
    assert refused.value.code == "stale"
    claim.refresh_from_db()
    assert claim.status == S.DRAFT


def test_the_dealer_cannot_review_and_the_oem_cannot_submit(org):
    draft = make_claim(dealer=org["BJ01"])
    with pytest.raises(PermissionDenied):
        services.claim_transition(actor=org["oem-techsupport"], claim=draft, to=S.SUBMITTED)
    submitted = make_claim(dealer=org["BJ01"], status=S.SUBMITTED)
    with pytest.raises(PermissionDenied):
        services.claim_transition(actor=org["bj01-sa"], claim=submitted, to=S.APPROVED)
    submitted.refresh_from_db()
    assert submitted.status == S.SUBMITTED


def test_another_dealers_advisor_cannot_submit(org):
    claim = make_claim(dealer=org["BJ01"])
    with pytest.raises(PermissionDenied):
        services.claim_transition(actor=org["tj01-sa"], claim=claim, to=S.SUBMITTED)
    with pytest.raises(PermissionDenied):
        services.claim_transition(actor=org["north-rm"], claim=claim, to=S.SUBMITTED)


def test_partial_approval_needs_a_reason(org):
    claim = make_claim(dealer=org["BJ01"], status=S.SUBMITTED)
    reviewer = org["oem-techsupport"]
    with pytest.raises(ValidationFailed) as refused:
        services.claim_transition(
            actor=reviewer, claim=claim, to=S.APPROVED, approved_amount="200.00"
        )
    assert refused.value.code == "reason_required"
    done = services.claim_transition(
        actor=reviewer, claim=claim, to=S.APPROVED, approved_amount="200.00", note="工时超标准"
    )
    assert done.approved_amount == Decimal("200.00")
    assert done.decision_reason == "工时超标准"
    assert done.reviewer == reviewer and done.decided_at is not None


def test_full_approval_defaults_to_the_claimed_total(org):
    claim = make_claim(dealer=org["BJ01"], status=S.RESUBMITTED)
    done = services.claim_transition(actor=org["oem-admin"], claim=claim, to=S.APPROVED)
    assert done.approved_amount == Decimal("270.00")


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("270.01", "over_claimed"),
        ("0", "invalid"),
        ("-5", "invalid"),
        ("1.005", "invalid"),
        ("abc", "invalid"),
    ],
)
def test_bad_approved_amounts_are_refused(org, amount, code):
    claim = make_claim(dealer=org["BJ01"], status=S.SUBMITTED)
    with pytest.raises(ValidationFailed) as refused:
        services.claim_transition(
            actor=org["oem-techsupport"],
            claim=claim,
            to=S.APPROVED,
            approved_amount=amount,
            note="x",
        )
    assert refused.value.code == code
    assert "approved_amount" in refused.value.fields
    claim.refresh_from_db()
    assert claim.status == S.SUBMITTED and claim.approved_amount is None


@pytest.mark.parametrize("to", [S.REJECTED, S.INFO_REQUESTED])
def test_rejecting_and_asking_need_a_note(org, to):
    claim = make_claim(dealer=org["BJ01"], status=S.SUBMITTED)
    with pytest.raises(ValidationFailed):
        services.claim_transition(actor=org["oem-techsupport"], claim=claim, to=to, note="  ")
    claim.refresh_from_db()
    assert claim.status == S.SUBMITTED


def test_answering_needs_a_note_and_records_it(org):
    claim = make_claim(dealer=org["BJ01"], status=S.INFO_REQUESTED)
    with pytest.raises(ValidationFailed):
        services.claim_transition(actor=org["bj01-sa"], claim=claim, to=S.RESUBMITTED)
    done = services.claim_transition(
        actor=org["bj01-sa"], claim=claim, to=S.RESUBMITTED, note="照片已上传"
    )
    assert done.dealer_answer == "照片已上传" and done.resubmitted_at is not None


def test_settling_records_the_paid_amount_up_to_the_approved_one(org):
    claim = make_claim(dealer=org["BJ01"], status=S.APPROVED)
    settler = org["oem-admin"]
    with pytest.raises(ValidationFailed):
        services.claim_transition(actor=settler, claim=claim, to=S.SETTLED)
    with pytest.raises(ValidationFailed) as refused:
        services.claim_transition(actor=settler, claim=claim, to=S.SETTLED, paid_amount="270.01")
    assert refused.value.code == "over_approved"
    done = services.claim_transition(
        actor=settler, claim=claim, to=S.SETTLED, paid_amount="270.00", payment_reference="PAY-1"
    )
    assert done.paid_amount == Decimal("270.00") and done.payment_reference == "PAY-1"
    assert done.settled_at is not None


def test_the_whole_journey(org):
    # given a complete draft
    claim = make_claim(dealer=org["BJ01"])
    sa, oem = org["bj01-sa"], org["oem-techsupport"]
    # when it goes round once with a question, is partly approved and paid
    claim = services.claim_transition(actor=sa, claim=claim, to=S.SUBMITTED, version=claim.version)
    claim = services.claim_transition(actor=oem, claim=claim, to=S.INFO_REQUESTED, note="照片?")
    claim = services.claim_transition(actor=sa, claim=claim, to=S.RESUBMITTED, note="已补充")
    claim = services.claim_transition(
        actor=oem, claim=claim, to=S.APPROVED, approved_amount="250.00", note="工时按标准"
    )
    claim = services.claim_transition(
        actor=org["oem-admin"], claim=claim, to=S.SETTLED, paid_amount="250.00"
    )
    # then the timeline holds every step in order
    steps = list(claim.events.filter(kind="status").values_list("to_status", flat=True))
    assert steps == ["submitted", "info_requested", "resubmitted", "approved", "settled"]
    assert claim.version == 6


# ---------------------------------------------------------------- editing a draft


def test_a_draft_is_edited_with_codes_and_a_part_number(org):
    symptoms, causes = make_codes()
    claim = make_claim(dealer=org["BJ01"], complete_data=False)
    part = claim.lines.get(kind="part").part
    done = services.claim_update(
        actor=org["bj01-sa"],
        claim=claim,
        version=claim.version,
        symptom_code="S01",
        cause_code="C02",
        causal_part=part.number,
        odometer_km="12345",
    )
    assert done.symptom_code == symptoms["S01"] and done.cause_code == causes["C02"]
    assert done.odometer_km == 12345
    assert done.version == claim.version + 1
    assert done.events.filter(kind="edited").exists()


def test_bad_edits_name_their_fields_and_change_nothing(org):
    import datetime

    from django.utils import timezone

    claim = make_claim(dealer=org["BJ01"], complete_data=False)
    with pytest.raises(ValidationFailed) as refused:
        services.claim_update(
            actor=org["bj01-sa"],
            claim=claim,
            vin="LSV123",
            symptom_code="NOPE",
            causal_part="NO-SUCH-PART",
            odometer_km="-1",
            failure_date=timezone.localdate() + datetime.timedelta(days=1),
        )
    assert set(refused.value.fields) == {
        "vin",
        "symptom_code",
        "causal_part",
        "odometer_km",
        "failure_date",
    }
    claim.refresh_from_db()
    assert claim.version == 1 and claim.symptom_code is None


def test_a_submitted_claim_cannot_be_edited(org):
    claim = make_claim(dealer=org["BJ01"], status=S.SUBMITTED)
    with pytest.raises(Conflict) as refused:
        services.claim_update(actor=org["bj01-sa"], claim=claim, description="x")
    assert refused.value.code == "not_editable"


def test_the_oem_cannot_edit_a_dealers_draft(org):
    claim = make_claim(dealer=org["BJ01"])
    with pytest.raises(PermissionDenied):
        services.claim_update(actor=org["oem-techsupport"], claim=claim, description="x")


# ---------------------------------------------------------------- old parts


def test_old_part_is_shipped_by_the_dealer_and_received_by_the_oem(org):
    claim = make_claim(dealer=org["BJ01"], status=S.SUBMITTED)
    line = claim.lines.get(kind="part")
    with pytest.raises(PermissionDenied):
        services.claim_line_return(actor=org["oem-techsupport"], line=line, to="shipped")
    services.claim_line_return(actor=org["bj01-sa"], line=line, to="shipped", note="顺丰 SF1")
    with pytest.raises(PermissionDenied):
        services.claim_line_return(actor=org["bj01-sa"], line=line, to="received")
    done = services.claim_line_return(actor=org["oem-techsupport"], line=line, to="received")
    assert done.return_status == ReturnStatus.RECEIVED
    with pytest.raises(Conflict) as refused:
        services.claim_line_return(actor=org["oem-techsupport"], line=line, to="scrapped")
    assert refused.value.code == "illegal_return_step"
    assert claim.events.filter(kind="return").count() == 2


def test_old_parts_wait_for_the_submission(org):
    claim = make_claim(dealer=org["BJ01"])
    with pytest.raises(Conflict):
        services.claim_line_return(
            actor=org["bj01-sa"], line=claim.lines.get(kind="part"), to="shipped"
        )


# ---------------------------------------------------------------- photos


def _png():
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_photos_are_uploaded_or_taken_from_the_order(org):
    from django.core.files.base import ContentFile

    from aftersales.workorders import reception

    claim = make_claim(dealer=org["BJ01"])
    ro_photo = reception.photo_add(
        actor=org["bj01-sa"],
        repair_order=claim.repair_order,
        upload=ContentFile(_png(), name="p.png"),
        kind="old_part",
    )
    made = services.claim_photo_add(
        actor=org["bj01-sa"],
        claim=claim,
        upload=ContentFile(_png(), name="x.png"),
        ro_photos=[ro_photo.pk],
        caption="水泵渗漏",
    )
    assert len(made) == 2
    # the same order photo is referenced once
    assert services.claim_photo_add(actor=org["bj01-sa"], claim=claim, ro_photos=[ro_photo]) == []
    assert claim.photos.count() == 2


def test_a_file_that_is_not_an_image_is_refused(org):
    from django.core.files.base import ContentFile

    claim = make_claim(dealer=org["BJ01"])
    with pytest.raises(ValidationFailed) as refused:
        services.claim_photo_add(
            actor=org["bj01-sa"], claim=claim, upload=ContentFile(b"%PDF-1.4", name="a.png")
        )
    assert refused.value.code == "not_an_image"
    assert not claim.photos.exists()


def test_another_orders_photo_cannot_be_attached(org):
    from django.core.files.base import ContentFile

    from aftersales.workorders import reception

    claim = make_claim(dealer=org["BJ01"])
    other = make_claimable_order(dealer=org["BJ01"])
    photo = reception.photo_add(
        actor=org["bj01-sa"],
        repair_order=other,
        upload=ContentFile(_png(), name="p.png"),
        kind="damage",
    )
    with pytest.raises(ValidationFailed):
        services.claim_photo_add(actor=org["bj01-sa"], claim=claim, ro_photos=[photo.pk])


def test_numbers_are_per_dealer_and_gap_free(org):
    numbers = [make_claim(dealer=org["BJ01"]).number for _ in itertools.repeat(None, 2)]
    assert numbers[0][:-6] == numbers[1][:-6]
    assert int(numbers[1][-6:]) == int(numbers[0][-6:]) + 1
