"""Builders for tests, the access matrix and the demo.

``make_claimable_order(dealer=)`` is a repair order in progress with one warranty labour
line and one warranty part line; ``make_claim(dealer=, status=)`` makes a claim from such an
order through ``claim_create`` and then writes it directly into ``status`` with the data
that status implies, so a test can start anywhere in the lifecycle. Tests of the lifecycle
itself drive ``claim_transition``.
"""

from decimal import Decimal

from django.utils import timezone

from aftersales.claims.choices import ClaimStatus

S = ClaimStatus

from aftersales.claims.codes import CAUSES, SYMPTOMS  # noqa: E402


def make_codes():
    """The OEM's symptom and cause codes (idempotent); returns (symptoms, causes) by code."""
    from aftersales.claims.models import CauseCode, SymptomCode

    for model, rows in ((SymptomCode, SYMPTOMS), (CauseCode, CAUSES)):
        existing = set(model.objects.values_list("code", flat=True))
        model.objects.bulk_create(
            [model(code=c, name=n, name_en=e) for c, n, e in rows if c not in existing]
        )
    return (
        {s.code: s for s in SymptomCode.objects.all()},
        {c.code: c for c in CauseCode.objects.all()},
    )


def make_claimable_order(*, dealer, status="in_progress", part=None, **fields):
    """A repair order of ``dealer`` whose work has started, with a warranty labour line
    (1.5 h × 100.00) and a warranty part line (1 × the part's list price, 120.00)."""
    from aftersales.parts.testing import make_part
    from aftersales.workorders.choices import Approval, ApprovalChannel, LineKind, PayType
    from aftersales.workorders.models import RepairOrderLine
    from aftersales.workorders.testing import make_operation, make_repair_order

    order = make_repair_order(dealer=dealer, status=status, lines=False, **fields)
    op = make_operation(code="OP-WP-R", name="更换水泵", hours="1.5", category="engine")
    part = part or make_part(name="水泵总成", name_en="Water pump")
    common = {
        "repair_order": order,
        "pay_type": PayType.WARRANTY,
        "warranty_status": "in",
        "approval": Approval.APPROVED,
        "approval_channel": ApprovalChannel.SIGNATURE,
    }
    RepairOrderLine.objects.create(
        kind=LineKind.LABOUR,
        position=1,
        operation=op,
        description=op.name,
        quantity=Decimal("1.5"),
        standard_hours=Decimal("1.5"),
        unit_price=Decimal("100.00"),
        amount=Decimal("150.00"),
        **common,
    )
    RepairOrderLine.objects.create(
        kind=LineKind.PART,
        position=2,
        part=part,
        description=part.name,
        quantity=Decimal("1"),
        unit_price=part.list_price,
        amount=part.list_price,
        **common,
    )
    return order


def claim_author(dealer):
    from aftersales.workorders.testing import advisor_of

    return advisor_of(dealer)


def complete(claim):
    """Fill in the codes a draft needs before it can be submitted."""
    symptoms, causes = make_codes()
    claim.symptom_code, claim.cause_code = symptoms["S02"], causes["C04"]
    claim.save(update_fields=["symptom_code", "cause_code"])
    return claim


def make_claim(*, dealer, status=S.DRAFT, complete_data=True, order=None, reviewer=None):
    """A claim of ``dealer`` in ``status`` (made through ``claim_create``, then written
    directly into the status)."""
    from aftersales.claims.services import claim_create

    order = order or make_claimable_order(dealer=dealer)
    claim = claim_create(actor=claim_author(dealer), repair_order=order)
    if complete_data or status != S.DRAFT:
        complete(claim)
    status = S(status)
    if status == S.DRAFT:
        return claim
    now = timezone.now()
    data = {"status": status, "submitted_at": now}
    if status in (S.INFO_REQUESTED, S.RESUBMITTED):
        data.update(info_request="请补充故障件照片", info_requested_at=now)
    if status == S.RESUBMITTED:
        data.update(dealer_answer="已补充照片", resubmitted_at=now)
    if status in (S.APPROVED, S.REJECTED, S.SETTLED):
        data.update(decided_at=now, reviewer=reviewer)
    if status in (S.APPROVED, S.SETTLED):
        data["approved_amount"] = claim.claimed_total
    if status == S.REJECTED:
        data["decision_reason"] = "非质量问题"
    if status == S.SETTLED:
        data.update(paid_amount=claim.claimed_total, settled_at=now)
    for name, value in data.items():
        setattr(claim, name, value)
    claim.save(update_fields=list(data))
    return claim
