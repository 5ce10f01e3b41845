"""Demo warranty claims: for each demo dealer, claims in every status made from its demo
repair orders with warranty lines, written in bulk (a few hundred rows, well under a
second). Idempotent: a dealer that has claims is skipped.

Where a dealer has fewer claimable warranty orders than statuses, repair orders of kind
"repair" whose work has started get their lines marked as warranty lines first (as the
advisor would when the OEM's warranty covers the repair)."""

import datetime
import random
import time
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from aftersales.claims.choices import ClaimEventKind, ClaimStatus
from aftersales.claims.models import ClaimEvent, ClaimLine, WarrantyClaim
from aftersales.claims.services import CLAIMABLE_RO, _claim_lines, money
from aftersales.claims.testing import make_codes

S = ClaimStatus
DEMO_DEALERS = ["BJ01", "TJ01", "SH01", "HZ01", "GZ01", "SZ01"]
# the statuses each dealer's claims go through, in this order (the first ones are the
# oldest orders: settled and decided claims are old, open ones recent)
PLAN = [
    S.SETTLED,
    S.SETTLED,
    S.REJECTED,
    S.APPROVED,
    S.APPROVED,
    S.SUBMITTED,
    S.INFO_REQUESTED,
    S.RESUBMITTED,
    S.SUBMITTED,
    S.DRAFT,
]
PATHS = {
    S.DRAFT: [],
    S.SUBMITTED: [S.SUBMITTED],
    S.INFO_REQUESTED: [S.SUBMITTED, S.INFO_REQUESTED],
    S.RESUBMITTED: [S.SUBMITTED, S.INFO_REQUESTED, S.RESUBMITTED],
    S.APPROVED: [S.SUBMITTED, S.APPROVED],
    S.REJECTED: [S.SUBMITTED, S.REJECTED],
    S.SETTLED: [S.SUBMITTED, S.APPROVED, S.SETTLED],
}
QUESTIONS = ["请补充故障件近照及铭牌照片", "请提供故障码读取截图", "请说明首次出现故障的里程"]
ANSWERS = ["已上传故障件照片", "已补充诊断仪截图", "客户反映约在两周前首次出现"]
REJECTIONS = ["属于使用不当造成的损坏，不在质保范围", "故障件无质量问题，旧件检测合格"]
PARTIAL = "工时超出标准工时，按标准工时结算"
FAILURE_CODES = [("S02", "C04"), ("S01", "C01"), ("S05", "C05"), ("S07", "C02"), ("S03", "C04")]


def _candidates(dealer, need):
    from aftersales.workorders.choices import LineKind, PayType, ROKind
    from aftersales.workorders.models import RepairOrder, RepairOrderLine

    base = RepairOrder.objects.filter(dealer=dealer, status__in=CLAIMABLE_RO).order_by(
        "created_at", "id"
    )
    with_warranty = list(
        base.filter(lines__pay_type=PayType.WARRANTY).distinct().select_related("vehicle")
    )
    if len(with_warranty) < need:
        extra = list(
            base.filter(kind=ROKind.REPAIR)
            .exclude(pk__in=[o.pk for o in with_warranty])
            .filter(lines__kind=LineKind.PART)
            .distinct()
            .values_list("pk", flat=True)[: need - len(with_warranty)]
        )
        RepairOrderLine.objects.filter(
            repair_order_id__in=extra, kind__in=[LineKind.LABOUR, LineKind.PART]
        ).update(pay_type=PayType.WARRANTY, warranty_status="in", warranty_reason="整车质保期内")
        with_warranty = list(
            base.filter(lines__pay_type=PayType.WARRANTY).distinct().select_related("vehicle")
        )
    return with_warranty


def _load_dealer(dealer, rng, now, symptoms, causes, author, reviewer, settler) -> dict:
    from aftersales.claims.services import warranty_lines
    from aftersales.core.numbering import next_number
    from aftersales.parts.models import Part

    orders = _candidates(dealer, len(PLAN))[-len(PLAN) :]
    # a warranty claim for labour alone still names the part that failed
    fallback = Part.objects.filter(wear_part=False, active=True).order_by("number").first()
    if not orders:
        return {"claims": 0, "lines": 0, "events": 0}
    statuses = PLAN[-len(orders) :] if len(orders) < len(PLAN) else PLAN
    claims, lines_by_claim, times = [], [], []
    for order, status in zip(orders, statuses, strict=False):
        ro_lines = list(warranty_lines(order))
        if not ro_lines:
            continue
        start = order.started_at or order.checked_in_at or order.created_at
        created = min(start + datetime.timedelta(hours=rng.randint(2, 30)), now)
        part = next((ln.part for ln in ro_lines if ln.part_id), None) or fallback
        symptom, cause = rng.choice(FAILURE_CODES)
        claim = WarrantyClaim(
            dealer=dealer,
            number=next_number(doc_type="WC", dealer=dealer, on=timezone.localdate(created)),
            repair_order=order,
            status=status,
            vehicle=order.vehicle,
            vin=order.vehicle.vin,
            odometer_km=order.odometer_km,
            failure_date=timezone.localtime(start).date() - datetime.timedelta(rng.randint(0, 5)),
            causal_part=part,
            symptom_code=symptoms[symptom],
            cause_code=causes[cause],
            description="\n".join(t for t in (order.concern, order.diagnosis) if t),
            created_by=author,
        )
        lines = _claim_lines(claim, ro_lines)
        labour = sum((ln.amount for ln in lines if ln.kind == "labour"), Decimal("0"))
        parts = sum((ln.amount for ln in lines if ln.kind == "part"), Decimal("0"))
        claim.claimed_labour, claim.claimed_parts = labour, parts
        claim.claimed_total = labour + parts
        claims.append(claim)
        lines_by_claim.append(lines)
        times.append(created)
    WarrantyClaim.objects.bulk_create(claims)
    all_lines, events = [], []
    for claim, lines, created in zip(claims, lines_by_claim, times, strict=True):
        claim.created_at = created
        for line in lines:
            line.claim = claim
        all_lines += lines
        events += _history(claim, created, rng, now, author, reviewer, settler, lines)
    WarrantyClaim.objects.bulk_update(
        claims,
        [
            "created_at",
            "submitted_at",
            "info_requested_at",
            "resubmitted_at",
            "decided_at",
            "settled_at",
            "info_request",
            "dealer_answer",
            "decision_reason",
            "approved_amount",
            "paid_amount",
            "payment_reference",
            "reviewer",
            "version",
        ],
    )
    ClaimLine.objects.bulk_create(all_lines)
    made = ClaimEvent.objects.bulk_create(events)
    ClaimEvent.objects.bulk_update(made, ["at"])
    return {"claims": len(claims), "lines": len(all_lines), "events": len(made)}


def _event(claim, at, actor, kind, message, note="", source="", to=""):
    return ClaimEvent(
        claim=claim,
        at=at,
        actor=actor,
        actor_name=str(actor) if actor else "system",
        kind=kind,
        from_status=source,
        to_status=to,
        message=message,
        note=note,
        data={"demo": True},
    )


def _history(claim, created, rng, now, author, reviewer, settler, lines):
    """Walk the claim along its path, stamping each step a few days after the last."""
    events = [
        _event(
            claim,
            created,
            author,
            ClaimEventKind.CREATED,
            f"由工单 {claim.repair_order.number} 创建索赔",
            to=S.DRAFT,
        )
    ]
    at, source = created, S.DRAFT
    for step in PATHS[S(claim.status)]:
        at = min(at + datetime.timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 8)), now)
        note, actor = "", reviewer
        if step == S.SUBMITTED:
            claim.submitted_at, actor = at, author
        elif step == S.INFO_REQUESTED:
            note = rng.choice(QUESTIONS)
            claim.info_request, claim.info_requested_at, claim.reviewer = note, at, reviewer
        elif step == S.RESUBMITTED:
            note, actor = rng.choice(ANSWERS), author
            claim.dealer_answer, claim.resubmitted_at = note, at
        elif step == S.APPROVED:
            partial = rng.random() < 0.35 and claim.claimed_labour > 0
            amount = claim.claimed_total
            if partial:
                amount = money(claim.claimed_parts + claim.claimed_labour * Decimal("0.8"))
                note = PARTIAL
            claim.approved_amount, claim.decision_reason = amount, note
            claim.decided_at, claim.reviewer = at, reviewer
        elif step == S.REJECTED:
            note = rng.choice(REJECTIONS)
            claim.decision_reason, claim.decided_at, claim.reviewer = note, at, reviewer
        elif step == S.SETTLED:
            actor = settler
            claim.paid_amount, claim.settled_at = claim.approved_amount, at
            claim.payment_reference = f"OEM-PAY-{at:%Y%m}-{claim.pk:05d}"
        claim.version += 1
        events.append(
            _event(
                claim,
                at,
                actor,
                ClaimEventKind.STATUS,
                f"{S(source).label} → {S(step).label}",
                note=note,
                source=source,
                to=step,
            )
        )
        source = step
    if claim.status in (S.APPROVED, S.SETTLED):
        for line in lines:
            if line.kind == "part":
                line.return_status = "received" if claim.status == S.SETTLED else "shipped"
    return events


def load_claims_demo(stdout=None) -> dict:
    """Load the demo claims (after the workorders demo). Idempotent."""
    from django.utils import translation

    from aftersales.org.models import Dealer, User

    started = time.perf_counter()
    symptoms, causes = make_codes()
    now = timezone.now()
    reviewer = User.objects.filter(username="oem-techsupport").first()
    settler = User.objects.filter(username="oem-admin").first() or reviewer
    result = {"dealers": 0, "claims": 0, "lines": 0, "events": 0}
    with translation.override("zh-hans"):
        for dealer in Dealer.objects.filter(code__in=DEMO_DEALERS).order_by("code"):
            if WarrantyClaim.objects.filter(dealer=dealer).exists():
                continue
            author = User.objects.filter(username=f"{dealer.code.lower()}-sa").first()
            rng = random.Random(f"claims-demo-{dealer.code}")
            with transaction.atomic():
                counts = _load_dealer(dealer, rng, now, symptoms, causes, author, reviewer, settler)
            if counts["claims"]:
                result["dealers"] += 1
            for key, value in counts.items():
                result[key] += value
    result["seconds"] = round(time.perf_counter() - started, 2)
    if stdout is not None:
        stdout.write(f"claims demo: {result}\n")
    return result
