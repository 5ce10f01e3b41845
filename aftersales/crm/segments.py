"""RFM segmentation: every live customer is loyal, regular, potential, at risk or lost,
from the recency, frequency and monetary value of their finished service visits.

Recency is the last visit ever; frequency and money count the visits of the rule's window
(the last ``window_months`` months: a visit exactly that many months ago is outside it).
The rule, in order:

1. no visit for more than ``lost_after_days`` days: lost;
2. no visit for more than ``at_risk_after_days`` days: at risk;
3. at least ``loyal_min_visits`` visits and ``loyal_min_amount`` spent in the window: loyal;
4. at least ``regular_min_visits`` visits in the window: regular;
5. otherwise: potential.

A customer who never came is potential while their record is at most
``at_risk_after_days`` old, then at risk and lost by the record's age in the same way.
Visits dated after "today" do not count (a recompute for a past day sees that day).

``segments_recompute`` runs nightly (``tasks.recompute_segments``): one aggregate query over
the visits, then bulk updates per segment in id chunks; customers without visits are
updated set-based. Only customers whose segment changes are written, and their
``segment_at`` says since when they are in it; re-running it changes nothing.
"""

import calendar
import datetime
from array import array
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aftersales.core.access import user_has_perm
from aftersales.core.audit import audit_create, audit_update, snapshot
from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.crm.choices import Segment
from aftersales.crm.models import Customer, SegmentRule, ServiceVisit

_CENT = Decimal("0.01")

# ---------------------------------------------------------------- the rule


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` calendar months earlier (the month's last day if shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def window_start(rule: SegmentRule, today: datetime.date) -> datetime.date:
    """The first day of the counting window."""
    return months_before(today, rule.window_months) + datetime.timedelta(days=1)


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def classify(
    rule: SegmentRule,
    *,
    today: datetime.date,
    last_visit: datetime.date | None,
    visits: int,
    amount: Decimal,
    created_on: datetime.date | None = None,
) -> str:
    """The segment of one customer's figures (``created_on`` matters only without visits)."""
    since = last_visit or created_on or today
    days = (today - since).days
    if days > rule.lost_after_days:
        return Segment.LOST
    if days > rule.at_risk_after_days:
        return Segment.AT_RISK
    if last_visit is None:
        return Segment.POTENTIAL
    if visits >= rule.loyal_min_visits and amount >= rule.loyal_min_amount:
        return Segment.LOYAL
    if visits >= rule.regular_min_visits:
        return Segment.REGULAR
    return Segment.POTENTIAL


# ---------------------------------------------------------------- the nightly job


def _chunk_size() -> int:
    limit = connection.features.max_query_params  # 999 on SQLite, None on PostgreSQL
    return min(limit - 10, 5000) if limit else 5000


def segments_recompute(*, today: datetime.date | None = None, rule: SegmentRule | None = None):
    """Recompute the segment of every live customer; returns the count per segment.

    Only customers whose segment changes are written, with ``segment_at`` = now (so it
    says since when the customer is in the segment): a re-run writes nothing, and a
    nightly run writes the few customers who moved, not every row with its indexes."""
    today = today or timezone.localdate()
    rule = rule or SegmentRule.current()
    start = window_start(rule, today)
    lost_before = today - datetime.timedelta(days=rule.lost_after_days)
    at_risk_before = today - datetime.timedelta(days=rule.at_risk_after_days)
    loyal_visits, loyal_amount = rule.loyal_min_visits, Decimal(rule.loyal_min_amount)
    regular_visits = rule.regular_min_visits
    in_window = Q(visited_on__gte=start)
    figures = (
        ServiceVisit.objects.filter(visited_on__lte=today)
        .values("customer")
        .annotate(
            last=Max("visited_on"),
            visits=Count("id", filter=in_window),
            amount=Sum("amount", filter=in_window),
        )
        .order_by("customer")
        .values_list("customer", "last", "visits", "amount")
    )
    codes = list(Segment.values)
    lost, at_risk, loyal, regular, potential = (
        codes.index(s)
        for s in (Segment.LOST, Segment.AT_RISK, Segment.LOYAL, Segment.REGULAR, Segment.POTENTIAL)
    )
    # compact: 800,000 customers take a few MB
    customer_ids, segment_of = array("q"), bytearray()
    # streamed (a server-side cursor on PostgreSQL): nothing else runs until it is read
    for customer_id, last, visits, amount in figures.iterator(chunk_size=10_000):
        if last < lost_before:
            segment = lost
        elif last < at_risk_before:
            segment = at_risk
        elif visits >= loyal_visits and (amount or 0) >= loyal_amount:
            segment = loyal
        elif visits >= regular_visits:
            segment = regular
        else:
            segment = potential
        customer_ids.append(customer_id)
        segment_of.append(segment)

    now = timezone.now()
    live = Customer.objects.filter(merged_into__isnull=True)
    size = _chunk_size()
    # in id order, a window of customers at a time: each window's rows sit on few pages
    for n in range(0, len(customer_ids), size):
        by_segment: dict[int, list[int]] = {}
        for customer_id, segment in zip(
            customer_ids[n : n + size], segment_of[n : n + size], strict=True
        ):
            by_segment.setdefault(segment, []).append(customer_id)
        for segment, ids in by_segment.items():
            code = codes[segment]
            live.filter(pk__in=ids).exclude(segment=code).update(segment=code, segment_at=now)
    # never came: by the age of the record, set-based
    never = live.filter(
        ~Exists(ServiceVisit.objects.filter(customer=OuterRef("pk"), visited_on__lte=today))
    )
    lost_cut = _start_of(lost_before)  # created before it: more than lost_after_days old
    at_risk_cut = _start_of(at_risk_before)
    for code, rows in (
        (Segment.LOST, never.filter(created_at__lt=lost_cut)),
        (Segment.AT_RISK, never.filter(created_at__gte=lost_cut, created_at__lt=at_risk_cut)),
        (Segment.POTENTIAL, never.filter(created_at__gte=at_risk_cut)),
    ):
        rows.exclude(segment=code).update(segment=code, segment_at=now)
    counts = dict.fromkeys(Segment.values, 0)
    counts.update(
        live.exclude(segment="").order_by().values_list("segment").annotate(n=Count("id"))
    )
    return counts


# ---------------------------------------------------------------- the thresholds

_INT_LIMITS = {
    "window_months": (1, 60),
    "at_risk_after_days": (1, 32767),
    "lost_after_days": (1, 32767),
    "loyal_min_visits": (1, 32767),
    "regular_min_visits": (1, 32767),
}
RULE_FIELDS = set(_INT_LIMITS) | {"loyal_min_amount"}


def _clean_rule(rule: SegmentRule, fields: dict):
    errors: dict[str, list] = {}
    for name, (low, high) in _INT_LIMITS.items():
        if name not in fields:
            continue
        try:
            value = int(str(fields[name]).strip())
        except (TypeError, ValueError):
            errors[name] = [_("Enter a whole number.")]
            continue
        if not low <= value <= high:
            errors[name] = [
                _("Enter a number from %(low)d to %(high)d.") % {"low": low, "high": high}
            ]
            continue
        setattr(rule, name, value)
    if "loyal_min_amount" in fields:
        try:
            amount = Decimal(str(fields["loyal_min_amount"]).strip().replace(",", ""))
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite():
            errors["loyal_min_amount"] = [_("Enter an amount in CNY, such as 6000.")]
        elif amount < 0 or amount >= Decimal("1e10") or amount != amount.quantize(Decimal("0.01")):
            errors["loyal_min_amount"] = [
                _("Enter an amount from 0 to 9,999,999,999.99 CNY with at most 2 decimals.")
            ]
        else:
            rule.loyal_min_amount = amount.quantize(Decimal("0.01"))
    if "lost_after_days" not in errors and "at_risk_after_days" not in errors:
        if rule.lost_after_days <= rule.at_risk_after_days:
            errors["lost_after_days"] = [
                _("A customer is lost later than at risk: more than %(days)d days.")
                % {"days": rule.at_risk_after_days}
            ]
    if "loyal_min_visits" not in errors and "regular_min_visits" not in errors:
        if rule.loyal_min_visits < rule.regular_min_visits:
            errors["loyal_min_visits"] = [
                _("Loyal customers need at least as many visits as regular ones (%(n)d).")
                % {"n": rule.regular_min_visits}
            ]
    if errors:
        raise ValidationFailed(fields=errors)


@transaction.atomic
def segment_rule_update(*, actor, **fields) -> SegmentRule:
    """Change the segmentation thresholds (OEM); the nightly job applies them. Creates the
    single rule row if there is none yet. Audited."""
    if actor is not None and not user_has_perm(actor, "crm.change_segmentrule"):
        raise PermissionDenied()
    unknown = set(fields) - RULE_FIELDS
    if unknown:
        raise ValidationFailed(
            fields={name: [_("This field cannot be changed.")] for name in sorted(unknown)}
        )
    rule = SegmentRule.objects.select_for_update().order_by("id").first()
    created = rule is None
    rule = rule or SegmentRule()
    before = snapshot(rule)
    _clean_rule(rule, fields)
    rule.save()
    if created:
        audit_create(rule, actor=actor)
    else:
        audit_update(rule, actor=actor, before=before)
    return rule


# ---------------------------------------------------------------- the 360 page


def segment_explain(customer: Customer, rule: SegmentRule | None = None, *, today=None) -> dict:
    """The figures behind a customer's segment and the rule that applies today, for the 360
    page: last visit, visits and amount in the window, and a sentence saying why."""
    today = today or timezone.localdate()
    rule = rule or SegmentRule.current()
    start = window_start(rule, today)
    in_window = Q(visited_on__gte=start)
    figures = ServiceVisit.objects.filter(customer=customer, visited_on__lte=today).aggregate(
        last=Max("visited_on"),
        visits=Count("id", filter=in_window),
        amount=Sum("amount", filter=in_window),
    )
    last, visits = figures["last"], figures["visits"]
    amount = Decimal(figures["amount"] or 0).quantize(_CENT)
    created_on = timezone.localdate(customer.created_at) if customer.created_at else today
    segment = classify(
        rule, today=today, last_visit=last, visits=visits, amount=amount, created_on=created_on
    )
    days = (today - (last or created_on)).days
    values = {
        "days": days,
        "lost": rule.lost_after_days,
        "at_risk": rule.at_risk_after_days,
        "visits": visits,
        "months": rule.window_months,
        "amount": amount,
        "loyal_visits": rule.loyal_min_visits,
        "loyal_amount": Decimal(rule.loyal_min_amount).quantize(_CENT),
        "regular_visits": rule.regular_min_visits,
    }
    if last is None:
        reason = {
            Segment.LOST: _("No visit yet, registered %(days)d days ago: more than %(lost)d days."),
            Segment.AT_RISK: _(
                "No visit yet, registered %(days)d days ago: more than %(at_risk)d days."
            ),
            Segment.POTENTIAL: _(
                "No visit yet, registered %(days)d days ago: within %(at_risk)d days."
            ),
        }[segment]
    elif segment == Segment.LOST:
        reason = _("Last visit %(days)d days ago: more than %(lost)d days.")
    elif segment == Segment.AT_RISK:
        reason = _("Last visit %(days)d days ago: more than %(at_risk)d days.")
    elif segment == Segment.LOYAL:
        reason = ngettext(
            "%(visits)d visit and ¥%(amount)s in %(months)d months: at least "
            "%(loyal_visits)d visits and ¥%(loyal_amount)s.",
            "%(visits)d visits and ¥%(amount)s in %(months)d months: at least "
            "%(loyal_visits)d visits and ¥%(loyal_amount)s.",
            visits,
        )
    elif segment == Segment.REGULAR:
        reason = ngettext(
            "%(visits)d visit in %(months)d months: at least %(regular_visits)d, but not "
            "both %(loyal_visits)d visits and ¥%(loyal_amount)s.",
            "%(visits)d visits in %(months)d months: at least %(regular_visits)d, but not "
            "both %(loyal_visits)d visits and ¥%(loyal_amount)s.",
            visits,
        )
    else:
        reason = ngettext(
            "%(visits)d visit in %(months)d months: fewer than %(regular_visits)d.",
            "%(visits)d visits in %(months)d months: fewer than %(regular_visits)d.",
            visits,
        )
    return {
        "segment": segment,
        "segment_label": Segment(segment).label,
        "stored_segment": customer.segment,
        "stored_at": customer.segment_at,
        "last_visit": last,
        "days_since": days if last else None,
        "registered_days_ago": (today - created_on).days,
        "visits": visits,
        "amount": amount,
        "window_start": start,
        "window_months": rule.window_months,
        "reason": reason % values,
    }
