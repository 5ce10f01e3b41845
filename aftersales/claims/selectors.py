"""Scoped reads of warranty claims: every function takes the acting user and goes through
``WarrantyClaim.objects.restrict`` (a dealer sees its own claims, a region manager the
region's, the OEM all). Reports aggregate in the database: one query per report whatever
the number of claims or dealers."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Prefetch, Q, Sum
from django.utils import timezone

from aftersales.claims.choices import DECIDED, IN_REVIEW, OPEN, ClaimStatus
from aftersales.claims.models import ClaimEvent, ClaimLine, ClaimPhoto, WarrantyClaim

S = ClaimStatus
ZERO = Decimal("0")

# Age buckets of open claims, in whole days since the submission: (key, first day, last day).
AGE_BUCKETS = [("d0_7", 0, 7), ("d8_30", 8, 30), ("d31_60", 31, 60), ("d61_plus", 61, None)]


def claims(user, action: str = "view"):
    """The claims the user may see, with what a list row shows (a fixed number of queries)."""
    return WarrantyClaim.objects.restrict(user, action).select_related(
        "dealer", "repair_order", "causal_part", "symptom_code", "cause_code", "reviewer"
    )


def filtered(queryset, *, status=None, dealer=None, date_from=None, date_to=None, q=None):
    """List filters: status, dealer (id or code), creation date range, number/VIN search."""
    if status:
        queryset = queryset.filter(status__in=[s for s in str(status).split(",") if s])
    if dealer:
        dealer = str(dealer).strip()
        queryset = (
            queryset.filter(dealer_id=int(dealer))
            if dealer.isdigit()
            else queryset.filter(dealer__code__iexact=dealer)
        )
    if date_from:
        queryset = queryset.filter(created_at__gte=_day_start(date_from))
    if date_to:
        queryset = queryset.filter(created_at__lt=_day_start(date_to + datetime.timedelta(days=1)))
    if q:
        q = q.strip()
        queryset = queryset.filter(
            Q(number__icontains=q) | Q(vin__icontains=q) | Q(repair_order__number__icontains=q)
        )
    return queryset


def review_queue(user):
    """Claims waiting for the OEM (submitted or resubmitted), oldest submission first."""
    return claims(user, "review").filter(status__in=IN_REVIEW).order_by("submitted_at", "id")


def claim_detail(user, pk):
    """One claim with its lines, photos and timeline (404 outside the user's scope)."""
    return (
        claims(user)
        .prefetch_related(
            Prefetch("lines", ClaimLine.objects.select_related("operation", "part")),
            Prefetch("photos", ClaimPhoto.objects.select_related("uploaded_by")),
            Prefetch("events", ClaimEvent.objects.order_by("at", "id")),
        )
        .get(pk=pk)
    )


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# ---------------------------------------------------------------- reports


@dataclass
class AgeingRow:
    """Open claims of one dealer by age since submission (counts and claimed amounts)."""

    pk: int  # the dealer's id: rows are per dealer
    dealer_code: str
    dealer_name: str
    counts: dict = field(default_factory=dict)
    amounts: dict = field(default_factory=dict)
    total: int = 0
    total_amount: Decimal = ZERO


def claim_ageing(user, *, today: datetime.date | None = None) -> list[AgeingRow]:
    """Open claims (submitted, information requested, resubmitted, approved but not paid)
    per dealer in the buckets 0-7, 8-30, 31-60 and over 60 days since the first submission."""
    today = today or timezone.localdate()
    aggregates = {}
    for key, first, last in AGE_BUCKETS:
        # submitted on a day d with first <= (today - d) <= last
        condition = Q(submitted_at__lt=_day_start(today - datetime.timedelta(days=first - 1)))
        if last is not None:
            condition &= Q(submitted_at__gte=_day_start(today - datetime.timedelta(days=last)))
        aggregates[f"n_{key}"] = Count("id", filter=condition)
        aggregates[f"a_{key}"] = Sum("claimed_total", filter=condition)
    rows = (
        WarrantyClaim.objects.restrict(user, "view")
        .filter(status__in=OPEN, submitted_at__isnull=False)
        .values("dealer_id", "dealer__code", "dealer__name")
        .annotate(**aggregates, n_all=Count("id"), a_all=Sum("claimed_total"))
        .order_by("dealer__code")
    )
    result = []
    for row in rows:
        result.append(
            AgeingRow(
                pk=row["dealer_id"],
                dealer_code=row["dealer__code"],
                dealer_name=row["dealer__name"],
                counts={key: row[f"n_{key}"] for key, _a, _b in AGE_BUCKETS},
                amounts={key: row[f"a_{key}"] or ZERO for key, _a, _b in AGE_BUCKETS},
                total=row["n_all"],
                total_amount=row["a_all"] or ZERO,
            )
        )
    return result


@dataclass
class RateRow:
    """One dealer's decided claims: how many and how much were approved or rejected."""

    pk: int
    dealer_code: str
    dealer_name: str
    decided: int
    approved: int
    rejected: int
    partial: int
    claimed_amount: Decimal
    approved_amount: Decimal
    rejected_amount: Decimal

    @property
    def approval_rate(self) -> Decimal | None:
        return _rate(self.approved, self.decided)

    @property
    def rejection_rate(self) -> Decimal | None:
        return _rate(self.rejected, self.decided)

    @property
    def amount_rate(self) -> Decimal | None:
        """Approved amount as a share of the claimed amount of the decided claims."""
        if not self.claimed_amount:
            return None
        return (self.approved_amount * 100 / self.claimed_amount).quantize(Decimal("0.1"))


def _rate(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"))


def approval_rates(
    user, *, date_from: datetime.date | None = None, date_to: datetime.date | None = None
) -> list[RateRow]:
    """Per dealer, the claims the OEM decided in the period (by decision date): counts of
    approved (settled included), partly approved and rejected, claimed vs approved amounts."""
    approved = Q(status__in=[S.APPROVED, S.SETTLED])
    rejected = Q(status=S.REJECTED)
    queryset = WarrantyClaim.objects.restrict(user, "view").filter(
        status__in=DECIDED, decided_at__isnull=False
    )
    if date_from:
        queryset = queryset.filter(decided_at__gte=_day_start(date_from))
    if date_to:
        queryset = queryset.filter(decided_at__lt=_day_start(date_to + datetime.timedelta(days=1)))
    rows = (
        queryset.values("dealer_id", "dealer__code", "dealer__name")
        .annotate(
            decided=Count("id"),
            approved=Count("id", filter=approved),
            rejected=Count("id", filter=rejected),
            partial=Count(
                "id",
                filter=approved & Q(approved_amount__lt=F("claimed_total")),
            ),
            claimed_amount=Sum("claimed_total"),
            approved_amount=Sum("approved_amount", filter=approved),
            rejected_amount=Sum("claimed_total", filter=rejected),
        )
        .order_by("dealer__code")
    )
    return [
        RateRow(
            pk=row["dealer_id"],
            dealer_code=row["dealer__code"],
            dealer_name=row["dealer__name"],
            decided=row["decided"],
            approved=row["approved"],
            rejected=row["rejected"],
            partial=row["partial"],
            claimed_amount=row["claimed_amount"] or ZERO,
            approved_amount=row["approved_amount"] or ZERO,
            rejected_amount=row["rejected_amount"] or ZERO,
        )
        for row in rows
    ]
