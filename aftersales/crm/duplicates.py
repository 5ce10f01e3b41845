"""Likely duplicate customers: the same person registered twice (at two dealers, by an
import, by an owner registering themselves), before someone merges them.

Three signs, each a reason code:

* ``same_mobile``: one record's mobile is the other's other phone, or both give the same
  other phone (mobiles themselves are unique among live customers);
* ``same_id``: the same resident ID number (compared by its keyed hash);
* ``similar_mobile_same_name``: the same name and mobiles one typo apart (one digit
  different, or two neighbouring digits swapped).

Only live customers the user may see take part. ``duplicate_candidates`` (one customer)
finds the signs through the indexes on mobile, name and ID hash, then keeps the matches
the user may see. ``duplicate_pairs`` (a whole dealer) is one pass in the database: window
counts keep only the rows sharing an ID hash, or a name and the first or last five mobile
digits (two mobiles one typo apart always share one of these), or having an other phone,
which is joined to the mobile it belongs to. Python then pairs them, one name group at a
time, bucketing a large group by its one-typo neighbourhoods so the work stays linear.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Case, Count, F, OuterRef, Q, Subquery, When, Window
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _

from aftersales.crm import selectors
from aftersales.crm.models import Customer

SAME_MOBILE = "same_mobile"
SAME_ID = "same_id"
SIMILAR_MOBILE_SAME_NAME = "similar_mobile_same_name"

# strongest sign first: the order reasons are listed in
REASONS = {
    SAME_ID: _("Same resident ID number"),
    SAME_MOBILE: _("Same phone number"),
    SIMILAR_MOBILE_SAME_NAME: _("Same name, mobile number one digit apart"),
}
_RANK = {code: n for n, code in enumerate(REASONS)}


def reason_labels(codes: Iterable[str]) -> list:
    return [REASONS[c] for c in codes]


def _sorted_reasons(codes) -> list[str]:
    return sorted(set(codes), key=_RANK.__getitem__)


@dataclass
class Candidate:
    """Another customer that looks like the same person, and why."""

    customer: Customer
    reasons: list[str] = field(default_factory=list)

    @property
    def reason_labels(self) -> list:
        return reason_labels(self.reasons)


@dataclass
class Pair:
    """Two customers that look like the same person; ``a`` is the older record."""

    a: Customer
    b: Customer
    reasons: list[str] = field(default_factory=list)

    @property
    def reason_labels(self) -> list:
        return reason_labels(self.reasons)


# ---------------------------------------------------------------- similarity


def similar_mobiles(x: str, y: str) -> bool:
    """One digit different, or two neighbouring digits swapped (never equal numbers)."""
    if len(x) != len(y) or x == y:
        return False
    diff = [i for i, (a, b) in enumerate(zip(x, y, strict=True)) if a != b]
    if len(diff) == 1:
        return True
    if len(diff) == 2 and diff[1] == diff[0] + 1:
        i, j = diff
        return x[i] == y[j] and x[j] == y[i]
    return False


def _typo_keys(mobile: str):
    """Keys two mobiles share exactly when they may be one typo apart: the number with one
    position blanked (one digit different), or with a neighbouring pair replaced by its
    sorted digits (a swap). Equal keys are then checked with ``similar_mobiles``."""
    for i in range(len(mobile)):
        yield ("d", i, mobile[:i] + mobile[i + 1 :])
    for i in range(len(mobile) - 1):
        yield ("s", i, mobile[:i] + "".join(sorted(mobile[i : i + 2])) + mobile[i + 2 :])


def _similar_pairs(rows: Iterable[tuple[int, str, str]]) -> set[tuple[int, int]]:
    """(pk, pk) pairs, smaller first, among ``(pk, name, mobile)`` rows with the same name
    and mobiles one typo apart; linear in the number of rows."""
    buckets: dict[tuple, list[tuple[int, str]]] = defaultdict(list)
    for pk, name, mobile in rows:
        for key in _typo_keys(mobile):
            buckets[(name, *key)].append((pk, mobile))
    pairs = set()
    for members in buckets.values():
        if len(members) < 2:
            continue
        for n, (pk1, m1) in enumerate(members):
            for pk2, m2 in members[n + 1 :]:
                if pk1 != pk2 and similar_mobiles(m1, m2):
                    pairs.add((min(pk1, pk2), max(pk1, pk2)))
    return pairs


def _reasons_between(customer, other) -> list[str]:
    """Why ``other`` (an object or a row with the same attributes) looks like ``customer``."""
    reasons = []
    if customer.id_number_hash and customer.id_number_hash == other.id_number_hash:
        reasons.append(SAME_ID)
    if (customer.phone2 and customer.phone2 in (other.mobile, other.phone2)) or (
        other.phone2 and other.phone2 == customer.mobile
    ):
        reasons.append(SAME_MOBILE)
    if customer.name == other.name and similar_mobiles(customer.mobile, other.mobile):
        reasons.append(SIMILAR_MOBILE_SAME_NAME)
    return reasons


@dataclass
class _Row:
    pk: int
    name: str
    mobile: str
    phone2: str
    id_number_hash: str


# ---------------------------------------------------------------- one customer


def duplicate_candidates(user, customer: Customer, *, limit: int = 50) -> list[Candidate]:
    """Live customers the user may see that look like ``customer``: strongest sign first,
    then newest. One query finds the keys of the records sharing a sign, each sign through
    its own index (a UNION: an OR of them defeats SQLite's planner); a second keeps those
    the user may see."""
    columns = ("pk", "name", "mobile", "phone2", "id_number_hash")
    live = Customer.objects.live().exclude(pk=customer.pk).order_by()
    mobile = customer.mobile or ""
    parts = [
        # mobiles one typo apart agree on the first five digits or on the last five
        live.filter(
            Q(mobile__startswith=mobile[:5]) | Q(mobile__endswith=mobile[6:]),
            name=customer.name,
        ),
        # other phones: merged records are dropped in the second query; "live" here would
        # lead SQLite to walk the merged_into index instead of the table
        Customer.objects.exclude(pk=customer.pk)
        .order_by()
        .filter(phone2__in=[p for p in (customer.mobile, customer.phone2) if p]),
    ]
    if customer.phone2:
        parts.append(live.filter(mobile=customer.phone2))
    if customer.id_number_hash:
        parts.append(live.filter(id_number_hash=customer.id_number_hash))
    rows = parts[0].values_list(*columns).union(*(p.values_list(*columns) for p in parts[1:]))
    matches = []
    for values in rows:
        reasons = _reasons_between(customer, _Row(*values))
        if reasons:
            matches.append((_RANK[reasons[0]], -values[0], reasons))
    matches.sort()
    found: list[Candidate] = []
    for n in range(0, len(matches), 500):
        chunk = matches[n : n + 500]
        seen = selectors.customers(user).in_bulk([-key for _rank, key, _r in chunk])
        found += [Candidate(seen[-key], r) for _rank, key, r in chunk if -key in seen]
        if len(found) >= limit:
            break
    return found[:limit]


# ---------------------------------------------------------------- a whole dealer

# A group larger than this (one other phone given for a whole fleet's drivers) is listed
# as pairs with its oldest record only, not every pair within it.
_ALL_PAIRS_UP_TO = 6


def _group_pairs(members: list[int]):
    members = sorted(members)
    if len(members) <= _ALL_PAIRS_UP_TO:
        for n, a in enumerate(members):
            for b in members[n + 1 :]:
                yield a, b
    else:
        first = members[0]
        for b in members[1:]:
            yield first, b


def _name_group_pairs(group: list[tuple[int, str, str]]) -> set[tuple[int, int]]:
    """Similar-mobile pairs within rows of one name: pair by pair when the group is small
    (cheaper than computing 21 keys a row), bucketed when large."""
    if len(group) > 40:
        return _similar_pairs(group)
    return {
        (min(a, b), max(a, b))
        for n, (a, _name, ma) in enumerate(group)
        for b, _same, mb in group[n + 1 :]
        if similar_mobiles(ma, mb)
    }


def _candidate_rows(user):
    """One pass over the user's visible customers, in the database: the rows that share a
    name and the first or last five mobile digits with another (window counts), an ID hash
    with another, or have an other phone (with the visible customer whose mobile it is).
    Ordered by name so that one name's rows come together."""
    owner_of_phone2 = Subquery(
        selectors.customers(user)
        .filter(mobile=OuterRef("phone2"))
        .exclude(pk=OuterRef("pk"))
        .values("pk")[:1]
    )
    return (
        selectors.customers(user)
        .annotate(
            same_head=Window(Count("id"), partition_by=[F("name"), Substr("mobile", 1, 5)]),
            same_tail=Window(Count("id"), partition_by=[F("name"), Substr("mobile", 7, 5)]),
            same_id=Window(Count("id"), partition_by=[F("id_number_hash")]),
        )
        .filter(
            Q(same_head__gt=1)
            | Q(same_tail__gt=1)
            | (~Q(id_number_hash="") & Q(same_id__gt=1))
            | ~Q(phone2="")
        )
        # only rows with an other phone look its owner up
        .annotate(phone2_owner=Case(When(~Q(phone2=""), then=owner_of_phone2)))
        .order_by("name", "pk")
        .values_list(
            "pk",
            "name",
            "mobile",
            "phone2",
            "id_number_hash",
            "same_head",
            "same_tail",
            "same_id",
            "phone2_owner",
        )
    )


def duplicate_pairs(user, limit: int = 100) -> list[Pair]:
    """Likely duplicate pairs among the live customers the user may see: strongest sign
    first, then newest first. Two queries whatever the number of customers: one pass that
    the database narrows to the rows sharing something (streamed, one name in memory at a
    time), then the customers of the pairs listed."""
    found: dict[tuple[int, int], set[str]] = defaultdict(set)
    by_id: dict[str, list[int]] = defaultdict(list)
    by_phone2: dict[str, list[int]] = defaultdict(list)
    group: list[tuple[int, str, str]] = []
    # streamed (a server-side cursor on PostgreSQL): no other query until it is read
    for pk, name, mobile, phone2, id_hash, head, tail, same_id, owner in _candidate_rows(
        user
    ).iterator(chunk_size=5000):
        if id_hash and same_id > 1:
            by_id[id_hash].append(pk)
        if phone2:
            by_phone2[phone2].append(pk)
        if owner:
            found[(min(pk, owner), max(pk, owner))].add(SAME_MOBILE)
        if head > 1 or tail > 1:
            if group and group[0][1] != name:
                for pair in _name_group_pairs(group):
                    found[pair].add(SIMILAR_MOBILE_SAME_NAME)
                group = []
            group.append((pk, name, mobile))
    for pair in _name_group_pairs(group):
        found[pair].add(SIMILAR_MOBILE_SAME_NAME)
    for members in by_id.values():
        for pair in _group_pairs(members):
            found[pair].add(SAME_ID)
    for members in by_phone2.values():
        if len(members) > 1:
            for pair in _group_pairs(members):
                found[pair].add(SAME_MOBILE)

    ordered = sorted(
        ((_sorted_reasons(reasons), a, b) for (a, b), reasons in found.items()),
        key=lambda item: (_RANK[item[0][0]], -item[2], -item[1]),
    )[:limit]
    objects = Customer.objects.in_bulk({pk for _r, a, b in ordered for pk in (a, b)})
    return [
        Pair(objects[a], objects[b], reasons)
        for reasons, a, b in ordered
        if a in objects and b in objects
    ]
