"""Likely duplicate customers: same phone, same resident ID, same name with a mobile one
typo apart; among the live customers the user may see."""

import itertools
import random

import pytest
from django.utils import translation
from django.utils.functional import Promise

from aftersales.crm import duplicates
from aftersales.crm.duplicates import (
    REASONS,
    SAME_ID,
    SAME_MOBILE,
    SIMILAR_MOBILE_SAME_NAME,
    duplicate_candidates,
    duplicate_pairs,
    similar_mobiles,
)
from aftersales.crm.models import Customer, DealerCustomer
from aftersales.crm.services import customer_merge
from aftersales.crm.testing import make_customer, valid_id_number

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def sa(demo_org):
    return demo_org["bj01-sa"]


def customer(user, **data):
    return make_customer(dealer=user.dealer, actor=user, **data)


def bulk_customers(dealer, rows) -> list[Customer]:
    """Many customers of one dealer at once: (name, mobile) or (name, mobile, phone2)."""
    created = Customer.objects.bulk_create(
        [Customer(name=r[0], mobile=r[1], phone2=r[2] if len(r) > 2 else "") for r in rows]
    )
    if created and created[0].pk is None:  # backends that do not return ids
        created = list(Customer.objects.filter(mobile__in=[r[1] for r in rows]).order_by("pk"))
    DealerCustomer.objects.bulk_create(
        [DealerCustomer(dealer=dealer, customer=c, kind="registered") for c in created]
    )
    return created


def as_pairs(pairs):
    return {(p.a.pk, p.b.pk): p.reasons for p in pairs}


def brute_force_similar(rows):
    """Every (pk, pk) pair of rows with the same name and similar mobiles."""
    return {
        (min(a[0], b[0]), max(a[0], b[0]))
        for a, b in itertools.combinations(rows, 2)
        if a[1] == b[1] and similar_mobiles(a[2], b[2])
    }


# ---------------------------------------------------------------- similarity


@pytest.mark.parametrize(
    "x, y, similar",
    [
        ("13912345678", "13912345679", True),  # last digit
        ("13912345678", "23912345678", True),  # first digit
        ("13912345678", "13921345678", True),  # 1 and 2 swapped
        ("13912345678", "13912345687", True),  # the last two swapped
        ("13912345678", "13912345678", False),  # the same number is not a typo
        ("13912345678", "13932145678", False),  # swapped, but not neighbours
        ("13912345678", "13912345699", False),  # two digits wrong
        ("13912345678", "13912345786", False),  # 6, 7 and 8 rotated: three differ
        ("13912345678", "1391234567", False),  # one digit missing
    ],
)
def test_similar_mobiles_are_one_digit_or_one_neighbour_swap_apart(x, y, similar):
    assert similar_mobiles(x, y) is similar
    assert similar_mobiles(y, x) is similar


def test_bucketing_finds_exactly_the_pairs_a_full_comparison_finds():
    # given 400 random customers with few names and mobiles crowded into a small range
    rng = random.Random(20260101)
    rows = [
        (pk, rng.choice(["张伟", "王芳", "李娜"]), f"1390000{rng.randrange(300):04d}")
        for pk in range(1, 401)
    ]
    rows = list({r[2] + r[1]: r for r in rows}.values())  # one customer per name+mobile
    # when they are bucketed, then the pairs are those of comparing every pair
    expected = brute_force_similar(rows)
    assert expected  # the data does contain typos
    assert duplicates._similar_pairs(rows) == expected


def test_reason_labels_are_translatable():
    assert set(REASONS) == {SAME_ID, SAME_MOBILE, SIMILAR_MOBILE_SAME_NAME}
    assert all(isinstance(label, Promise) for label in REASONS.values())
    assert str(REASONS[SAME_ID]) == "Same resident ID number"


# ---------------------------------------------------------------- one customer


def test_the_mobile_given_as_another_customers_other_phone_is_found_both_ways(sa):
    # given 张伟, and 王芳 who gave 张伟's mobile as her other phone
    zhang = customer(sa, name="张伟")
    wang = customer(sa, name="王芳", phone2=zhang.mobile)
    # then each is the other's candidate, because of the phone
    assert [(c.customer, c.reasons) for c in duplicate_candidates(sa, zhang)] == [
        (wang, [SAME_MOBILE])
    ]
    assert [(c.customer, c.reasons) for c in duplicate_candidates(sa, wang)] == [
        (zhang, [SAME_MOBILE])
    ]


def test_the_same_other_phone_is_a_same_mobile_reason(sa):
    first = customer(sa, name="刘洋", phone2="010-65432100")
    second = customer(sa, name="刘阳", phone2="010-6543 2100")
    candidates = duplicate_candidates(sa, first)
    assert [(c.customer, c.reasons) for c in candidates] == [(second, [SAME_MOBILE])]
    assert [str(label) for label in candidates[0].reason_labels] == ["Same phone number"]


def test_the_same_id_number_is_found(sa):
    number = valid_id_number()
    first = customer(sa, name="陈静", id_number=number)
    second = customer(sa, name="陈晶", id_number=number.lower())
    customer(sa, name="陈婧", id_number=valid_id_number(seq=456))
    assert [(c.customer, c.reasons) for c in duplicate_candidates(sa, first)] == [
        (second, [SAME_ID])
    ]


def test_the_same_name_with_a_mobile_one_typo_apart_is_found(sa):
    # given 杨帆 and three others
    first = customer(sa, name="杨帆", mobile="13912345678")
    digit = customer(sa, name="杨帆", mobile="13912345670")
    swap = customer(sa, name="杨帆", mobile="19312345678")
    customer(sa, name="杨帆", mobile="13912345600")  # two digits off
    customer(sa, name="杨凡", mobile="13912345679")  # another name
    # then only the one-typo ones with the same name come, newest first
    found = duplicate_candidates(sa, first)
    assert [(c.customer, c.reasons) for c in found] == [
        (swap, [SIMILAR_MOBILE_SAME_NAME]),
        (digit, [SIMILAR_MOBILE_SAME_NAME]),
    ]


def test_several_reasons_are_listed_strongest_first_and_strong_matches_come_first(sa):
    number = valid_id_number()
    first = customer(sa, name="周杰", mobile="13811112222", id_number=number)
    typo = customer(sa, name="周杰", mobile="13811112223")
    both = customer(sa, name="周杰", mobile="13811112220", id_number=number, phone2="13811112222")
    found = duplicate_candidates(sa, first)
    assert [(c.customer, c.reasons) for c in found] == [
        (both, [SAME_ID, SAME_MOBILE, SIMILAR_MOBILE_SAME_NAME]),
        (typo, [SIMILAR_MOBILE_SAME_NAME]),
    ]


def test_candidates_are_only_live_customers_the_user_may_see(sa, demo_org):
    # given 张伟, an SH01 customer with the same ID, and a merged one with the same ID
    number = valid_id_number()
    zhang = customer(sa, name="张伟", id_number=number)
    sh_sa = demo_org["sh01-sa"]
    elsewhere = make_customer(dealer=sh_sa.dealer, actor=sh_sa, name="张伟", id_number=number)
    survivor = customer(sa, name="张三")
    merged = customer(sa, name="张伟", id_number=number)
    customer_merge(actor=demo_org["bj01-svcmgr"], survivor=survivor, duplicate=merged)
    # then BJ01 sees the survivor (which took over the ID) but not SH01's nor the merged
    assert [c.customer for c in duplicate_candidates(sa, zhang)] == [survivor]
    # while the OEM sees SH01's too, and never the customer itself
    seen = [c.customer for c in duplicate_candidates(demo_org["oem-csagent"], zhang)]
    assert sorted(c.pk for c in seen) == sorted([survivor.pk, elsewhere.pk])


def test_a_customer_with_nothing_in_common_has_no_candidates(sa):
    lonely = customer(sa, name="欧阳娜娜")
    customer(sa, name="欧阳娜")
    assert duplicate_candidates(sa, lonely) == []


def test_candidates_take_two_queries(sa, django_assert_max_num_queries):
    number = valid_id_number()
    first = customer(sa, name="周杰", mobile="13811112222", id_number=number)
    for n in range(5):
        customer(sa, name="周杰", mobile=f"1381111222{n + 3}", id_number=number)
    sa.__dict__.pop("_scope_cache", None)
    with django_assert_max_num_queries(3):  # the user's roles, the rows, the customers
        assert len(duplicate_candidates(sa, first)) == 5


# ---------------------------------------------------------------- a whole dealer


@pytest.fixture
def planted(sa):
    """BJ01 customers with one pair of each kind, one pair with two reasons and noise."""
    number, shared = valid_id_number(), valid_id_number(seq=777)
    c = {
        "id1": customer(sa, name="甲", id_number=number),
        "id2": customer(sa, name="乙", id_number=number),
        "m1": customer(sa, name="丙"),
        "p1": customer(sa, name="丁", phone2="010-88887777"),
        "p2": customer(sa, name="戊", phone2="010-8888 7777"),
        "s1": customer(sa, name="王伟", mobile="13700001111"),
        "s2": customer(sa, name="王伟", mobile="13700001112"),
        "t1": customer(sa, name="赵敏", mobile="13600002222", id_number=shared),
        "t2": customer(sa, name="赵敏", mobile="13600002223", id_number=shared),
        "n1": customer(sa, name="王伟", mobile="15000009999"),
    }
    c["m2"] = customer(sa, name="己", phone2=c["m1"].mobile)
    return c


def test_pairs_find_every_kind_once_with_all_reasons(sa, planted):
    c = planted
    pairs = as_pairs(duplicate_pairs(sa))
    assert pairs == {
        (c["t1"].pk, c["t2"].pk): [SAME_ID, SIMILAR_MOBILE_SAME_NAME],
        (c["id1"].pk, c["id2"].pk): [SAME_ID],
        (c["m1"].pk, c["m2"].pk): [SAME_MOBILE],
        (c["p1"].pk, c["p2"].pk): [SAME_MOBILE],
        (c["s1"].pk, c["s2"].pk): [SIMILAR_MOBILE_SAME_NAME],
    }


def test_pairs_come_strongest_then_newest_first_and_the_same_each_time(sa, planted):
    c = planted
    first = duplicate_pairs(sa)
    assert [(p.a.pk, p.b.pk) for p in first] == [
        (c["t1"].pk, c["t2"].pk),
        (c["id1"].pk, c["id2"].pk),
        (c["m1"].pk, c["m2"].pk),
        (c["p1"].pk, c["p2"].pk),
        (c["s1"].pk, c["s2"].pk),
    ]
    assert all(p.a.pk < p.b.pk for p in first)
    again = duplicate_pairs(sa)
    assert [(p.a, p.b, p.reasons) for p in again] == [(p.a, p.b, p.reasons) for p in first]
    assert [(p.a, p.b) for p in duplicate_pairs(sa, limit=2)] == [(p.a, p.b) for p in first[:2]]


def test_pairs_stay_within_what_the_user_may_see(sa, planted, demo_org):
    # given an SH01 customer with the same ID as a BJ01 one
    sh_sa = demo_org["sh01-sa"]
    twin = make_customer(
        dealer=sh_sa.dealer, actor=sh_sa, name="甲", id_number=valid_id_number(seq=901)
    )
    bj_twin = customer(sa, name="庚", id_number=valid_id_number(seq=901))
    # then neither dealer sees the pair, the OEM does; SH01 sees none of BJ01's pairs
    assert (bj_twin.pk, twin.pk) not in as_pairs(duplicate_pairs(sa))
    assert duplicate_pairs(sh_sa) == []
    oem = as_pairs(duplicate_pairs(demo_org["oem-csagent"]))
    assert oem[(min(twin.pk, bj_twin.pk), max(twin.pk, bj_twin.pk))] == [SAME_ID]
    assert duplicate_pairs(demo_org["east-rm"]) == []


def test_merged_customers_leave_the_pairs(sa, planted, demo_org):
    c = planted
    customer_merge(actor=demo_org["bj01-svcmgr"], survivor=c["s1"], duplicate=c["s2"])
    assert (c["s1"].pk, c["s2"].pk) not in as_pairs(duplicate_pairs(sa))


def test_a_large_same_name_group_finds_the_same_pairs_as_a_full_comparison(sa):
    # given 60 customers called 张伟 with neighbouring mobiles (a larger group is
    # bucketed rather than compared pair by pair)
    rows = bulk_customers(sa.dealer, [("张伟", f"139000000{n:02d}") for n in range(60)])
    expected = brute_force_similar([(r.pk, r.name, r.mobile) for r in rows])
    # then every one-typo pair is listed with its reason
    pairs = as_pairs(duplicate_pairs(sa, limit=10_000))
    assert set(pairs) == expected
    assert len(expected) == 6 * 45 + 10 * 15 + 15  # same tens, same units, swaps
    assert set(map(tuple, pairs.values())) == {(SIMILAR_MOBILE_SAME_NAME,)}


def test_a_phone_shared_by_a_whole_fleet_pairs_each_with_the_oldest(sa):
    # given 10 drivers of a fleet who all gave the company's number as other phone
    rows = bulk_customers(
        sa.dealer,
        [(f"司机{n}", f"1358888{n:04d}", "021-66668888") for n in range(10)],
    )
    pairs = as_pairs(duplicate_pairs(sa))
    # then there are 9 pairs, each with the oldest record, not 45
    assert set(pairs) == {(rows[0].pk, r.pk) for r in rows[1:]}


def test_pairs_take_a_fixed_number_of_queries(sa, django_assert_max_num_queries):
    # given many customers with pairs of every kind
    bulk_customers(
        sa.dealer,
        [
            (f"客户{n % 50}", f"1370000{n:04d}", f"1370000{n + 1:04d}" if n % 7 else "")
            for n in range(400)
        ],
    )
    sa.__dict__.pop("_scope_cache", None)
    # when the pairs are listed, then a handful of queries do it whatever the count
    with django_assert_max_num_queries(7):
        pairs = duplicate_pairs(sa, limit=500)
    assert len(pairs) > 300
