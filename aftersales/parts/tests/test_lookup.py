"""Part lookup selectors: supersession, the one search box, VIN fitment, stock beside it."""

import datetime

import pytest
from django.utils import translation

from aftersales.catalogue.demo import load_catalogue_demo
from aftersales.catalogue.models import Variant
from aftersales.core.errors import NotFound, PermissionDenied, ValidationFailed
from aftersales.crm.testing import make_customer, make_vehicle, valid_vin
from aftersales.org.models import Dealer, User
from aftersales.parts import lookup
from aftersales.parts.models import Fitment, Part
from aftersales.parts.testing import make_category, make_part, make_warehouse, stock_up


@pytest.fixture
def catalogue(db):
    load_catalogue_demo()
    return {v.code: v for v in Variant.objects.select_related("vehicle_model")}


@pytest.fixture
def sa(demo_org):
    return demo_org["bj01-sa"]


def _fit(part, variant=None, *, model=None, year_from=None, year_to=None):
    return Fitment.objects.create(
        part=part,
        vehicle_model=model or variant.vehicle_model,
        variant=variant if model is None else None,
        year_from=year_from,
        year_to=year_to,
    )


def _numbers(result):
    return [p.number for p in result.parts]


# ---------------------------------------------------------------- supersession


def test_current_part_follows_the_chain_to_its_end(db):
    # given A replaced by B replaced by C
    c = make_part(number="C0003")
    b = make_part(number="B0002", superseded_by=c)
    a = make_part(number="A0001", superseded_by=b)
    # then the old numbers lead to C, both ways
    assert lookup.current_part(a) == c
    assert lookup.replacement_for(b) == c
    assert lookup.replacement_for(c) is None
    assert [p.number for p in lookup.supersession_chain(a)] == ["B0002", "C0003"]
    assert [p.number for p in lookup.superseded_parts(c)] == ["B0002", "A0001"]
    assert [p.replacement for p in lookup.annotate_replacements([a, b, c])] == [c, c, None]


def test_a_supersession_cycle_does_not_hang(db):
    # given A → B and (a data error) B → A
    a = make_part(number="A0001")
    b = make_part(number="B0002", superseded_by=a)
    Part.objects.filter(pk=a.pk).update(superseded_by=b)
    a.refresh_from_db()
    # when following the chain, then it stops at the loop
    assert lookup.current_part(a) == b
    assert lookup.current_part(b) == a
    assert len(lookup.superseded_parts(a)) == 1
    lookup.annotate_replacements([a, b])
    assert (a.replacement, b.replacement) == (b, a)


# ---------------------------------------------------------------- search


def test_exact_number_comes_first_whatever_the_spelling(sa):
    # given a part whose number also appears in another part's name
    exact = make_part(number="1030120701", name="前刹车片")
    other = make_part(number="1030120702", name="前刹车片 1030120701 套装")
    # when typed exactly, then the number is the answer (no name scan for a found number)
    hits = lookup.search_parts(sa, "1030120701")
    assert [(h.part, h.match) for h in hits] == [(exact, "number")]
    # when a word is typed too, then the name that contains the number comes after it
    hits = lookup.search_parts(sa, "1030120701 套装")
    assert [(h.part, h.match) for h in hits] == [(other, "name")]
    # when typed with spaces, dashes and lower case, then still the exact number
    assert lookup.search_parts(sa, " 10301-20 701 ")[0].part == exact
    # when typed partly, then numbers starting with it
    hits = lookup.search_parts(sa, "10301-207")
    assert [(h.part, h.match) for h in hits] == [(exact, "number_prefix"), (other, "number_prefix")]


def test_barcode_english_name_and_replacement_in_results(sa):
    new = make_part(number="NEW0001", name="机油滤清器 新款", barcode="6901234567892")
    old = make_part(number="OLD0001", name="机油滤清器 旧款", superseded_by=new, active=False)
    by_code = lookup.search_parts(sa, "6901234567892")
    assert [(h.part, h.match) for h in by_code] == [(new, "barcode")]
    by_name = lookup.search_parts(sa, "机油滤清器")
    assert [h.part for h in by_name] == [new, old]  # active parts first
    assert by_name[1].part.replacement == new
    assert lookup.search_parts(sa, "oil FILTER")  # English name, any case
    assert lookup.search_parts(sa, "   ") == []


def test_find_part_resolves_scanner_input(db):
    part = make_part(number="SCAN0001", barcode="6909876543216")
    assert lookup.find_part("scan-0001") == part
    assert lookup.find_part("6909876543216") == part
    assert lookup.find_part("NOPE") is None


def test_lookup_needs_the_view_part_permission(demo_org):
    nobody = User.objects.create(username="no-roles")
    with pytest.raises(PermissionDenied):
        lookup.search_parts(nobody, "abc")
    with pytest.raises(PermissionDenied):
        lookup.parts_for_vin(nobody, valid_vin())


# ---------------------------------------------------------------- VIN fitment


def test_known_vehicle_resolves_through_the_crm(sa, catalogue):
    # given a vehicle whose VIN prefix is in no catalogue variant, registered as an X3 2024
    variant = catalogue["X3-15T-2024"]
    vehicle = make_vehicle(owner=make_customer(), variant=variant, vin=valid_vin("LXCZZZ99", 2024))
    fits = make_part(number="X3FIT")
    _fit(fits, model=variant.vehicle_model)
    make_part(number="S5FIT").fitments.create(vehicle_model=catalogue["S5-15L-2024"].vehicle_model)
    # when a service advisor of any dealer looks it up
    result = lookup.parts_for_vin(sa, vehicle.vin)
    # then the vehicle's own variant decides
    assert result.decode.resolved == "vehicle"
    assert (result.decode.variant, result.decode.year) == (variant, 2024)
    assert _numbers(result) == ["X3FIT"]
    assert result.decode.as_dict()["model"]["code"] == "X3"


def test_unknown_vehicle_is_decoded_from_prefix_and_year(sa, catalogue):
    # given an X3 VIN of model year 2023 that no dealer has registered
    vin = valid_vin("LXCX3A15", 2023)
    model_wide = make_part(number="MODEL")
    _fit(model_wide, model=catalogue["X3-15T-2023"].vehicle_model)
    only_2024 = make_part(number="V2024")
    _fit(only_2024, catalogue["X3-15T-2024"])
    only_2023 = make_part(number="V2023")
    _fit(only_2023, catalogue["X3-15T-2023"])
    # when looked up
    result = lookup.parts_for_vin(sa, vin)
    # then the prefix gives the model, position 10 the year, and so the variant
    assert result.decode.resolved == "decoded"
    assert result.decode.variant == catalogue["X3-15T-2023"]
    assert result.decode.year == 2023
    assert _numbers(result) == ["MODEL", "V2023"]
    assert result.count == 2


def test_model_year_ranges(sa, catalogue):
    model = catalogue["X3-15T-2023"].vehicle_model
    _fit(make_part(number="FROM2024"), model=model, year_from=2024)
    _fit(make_part(number="UPTO2023"), model=model, year_to=2023)
    _fit(make_part(number="ALLYEARS"), model=model)
    old = lookup.parts_for_vin(sa, valid_vin("LXCX3A15", 2023))
    new = lookup.parts_for_vin(sa, valid_vin("LXCX3A15", 2025))
    assert _numbers(old) == ["ALLYEARS", "UPTO2023"]
    assert _numbers(new) == ["ALLYEARS", "FROM2024"]


def test_universal_parts_filters_and_inactive_parts(sa, catalogue):
    model = catalogue["E6-520-2024"].vehicle_model
    _fit(
        make_part(number="BRAKE1", name="前刹车片", category=make_category("BRAKE", "制动")),
        model=model,
    )
    _fit(make_part(number="FILTER1", name="空调滤芯"), model=model)
    _fit(make_part(number="GONE1", name="旧件", active=False), model=model)
    make_part(number="OIL1", name="电池冷却液", universal=True)
    vin = valid_vin("LXEE6E52", 2024)
    assert _numbers(lookup.parts_for_vin(sa, vin)) == ["BRAKE1", "FILTER1"]
    assert "OIL1" in _numbers(lookup.parts_for_vin(sa, vin, universal=True))
    assert _numbers(lookup.parts_for_vin(sa, vin, q="刹车")) == ["BRAKE1"]
    assert _numbers(lookup.parts_for_vin(sa, vin, q="filter-1")) == ["FILTER1"]
    brake = make_category("BRAKE", "制动")
    assert _numbers(lookup.parts_for_vin(sa, vin, category=brake)) == ["BRAKE1"]


def test_unknown_prefix_gives_a_clear_message(sa, catalogue):
    vin = valid_vin("LZZZZZ99", 2024)
    with translation.override("en"), pytest.raises(NotFound) as caught:
        lookup.parts_for_vin(sa, vin)
    assert caught.value.code == "unknown_vin_prefix"
    assert "LZZZZZ99" in str(caught.value.message)


def test_invalid_vin_says_what_is_wrong(sa, catalogue):
    vin = valid_vin("LXCX3A15", 2024)
    wrong_check = vin[:8] + ("0" if vin[8] != "0" else "1") + vin[9:]
    with translation.override("en"), pytest.raises(ValidationFailed) as caught:
        lookup.parts_for_vin(sa, wrong_check)
    assert caught.value.code == "invalid_vin"
    assert f"should be {vin[8]}" in caught.value.fields["vin"][0]
    with pytest.raises(ValidationFailed, match="第 9 位"):  # zh-hans is the default
        lookup.parts_for_vin(sa, wrong_check)
    with translation.override("en"), pytest.raises(ValidationFailed, match="not 6"):
        lookup.parts_for_vin(sa, "LXC123")


def test_model_year_code_decoding():
    today = datetime.date(2026, 6, 1)
    assert lookup.decode_model_year("R", today=today) == 2024
    assert lookup.decode_model_year("T", today=today) == 2026
    assert lookup.decode_model_year("A", today=today) == 2010
    assert lookup.decode_model_year("V", today=today) == 2027  # next year's models
    assert lookup.decode_model_year("U", today=today) is None


def test_fitment_lookup_keeps_a_fixed_query_count(sa, catalogue, django_assert_max_num_queries):
    model = catalogue["X3-15T-2024"].vehicle_model
    newest = make_part(number="ZNEW")
    for i in range(30):
        old = make_part(number=f"P{i:03d}", superseded_by=newest if i % 3 == 0 else None)
        _fit(old, model=model)
    vin = valid_vin("LXCX3A15", 2024)
    lookup.parts_for_vin(sa, vin)  # warm the user's role cache
    # VIN normalise + vehicle + variants + count + page + one supersession step
    with django_assert_max_num_queries(6):
        result = lookup.parts_for_vin(sa, vin)
    assert result.count == 30
    assert sum(1 for p in result.parts if p.replacement == newest) == 10
    with django_assert_max_num_queries(5):
        hits = lookup.search_parts(sa, "P0", limit=200)
    assert len(hits) == 30


def test_available_stock_is_the_users_dealer_only(demo_org, sa):
    part = make_part(number="STOCK1")
    bj01, sh01 = Dealer.objects.get(code="BJ01"), Dealer.objects.get(code="SH01")
    stock_up(warehouse=make_warehouse(dealer=bj01), part=part, quantity=5)
    stock_up(warehouse=make_warehouse(dealer=bj01, code="QUICK"), part=part, quantity=2)
    stock_up(warehouse=make_warehouse(dealer=sh01), part=part, quantity=11)
    assert lookup.available_by_part(sa, [part.pk]) == {part.pk: 7}
    assert lookup.available_by_part(demo_org["sh01-sa"], [part.pk]) == {part.pk: 11}
    nobody = User.objects.create(username="no-stock")
    assert lookup.available_by_part(nobody, [part.pk]) is None


def test_fitting_parts_are_paged_by_category_then_number_with_the_total(sa, catalogue):
    # given five parts of two categories fitting a model, one named with LIKE wildcards
    model = catalogue["E6-520-2024"].vehicle_model
    brakes, filters = make_category("BRAKE", "制动"), make_category("FILTER", "滤清器")
    for number, category, name in [
        ("F-2", filters, "滤芯 100%"),
        ("B-2", brakes, "刹车片_后"),
        ("F-1", filters, "滤芯"),
        ("B-1", brakes, "刹车片"),
        ("B-3", brakes, "刹车盘"),
    ]:
        _fit(make_part(number=number, name=name, category=category), model=model)
    vin = valid_vin("LXEE6E52", 2024)
    # when the list is read two at a time
    pages = [lookup.parts_for_vin(sa, vin, limit=2, offset=n) for n in (0, 2, 4, 6)]
    # then the pages follow category code then number, and each knows the total
    assert [_numbers(p) for p in pages] == [["B-1", "B-2"], ["B-3", "F-1"], ["F-2"], []]
    assert [p.count for p in pages] == [5, 5, 5, 5]
    # and a % or _ typed in the box is a character, not a wildcard
    assert _numbers(lookup.parts_for_vin(sa, vin, q="100%")) == ["F-2"]
    assert _numbers(lookup.parts_for_vin(sa, vin, q="片_")) == ["B-2"]
