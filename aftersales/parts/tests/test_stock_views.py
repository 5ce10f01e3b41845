"""Warehouses, bins and manual movements: the services, the pages and the API."""

from decimal import Decimal

import pytest
from django.urls import reverse

from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.models import AuditLog
from aftersales.org.models import Dealer
from aftersales.parts import warehouses
from aftersales.parts.choices import MoveKind, ReservationStatus
from aftersales.parts.models import Bin, BinStock, StockItem, StockMove
from aftersales.parts.stock import InsufficientStock, ledger_mismatches
from aftersales.parts.testing import bin_of, make_part, make_warehouse, stock_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(demo_org):
    return {
        **demo_org,
        "BJ01": Dealer.objects.get(code="BJ01"),
        "SH01": Dealer.objects.get(code="SH01"),
    }


@pytest.fixture
def shelf(org):
    """BJ01's main warehouse with 10 units of a part in A-01-01 (cost 80)."""
    warehouse = make_warehouse(dealer=org["BJ01"], bins=("A-01-01", "A-01-02"))
    part = make_part(number="OF-100", barcode="6901234567892")
    item = stock_up(warehouse=warehouse, part=part, quantity=10, bin=bin_of(warehouse))
    return warehouse, part, item


def _state(item):
    item.refresh_from_db()
    return (
        item.on_hand,
        item.reserved,
        StockMove.objects.filter(item=item).count(),
        sorted(BinStock.objects.filter(item=item).values_list("bin__code", "on_hand")),
    )


# ---------------------------------------------------------------- services


def test_issuing_more_than_available_is_refused_naming_the_available_quantity(org, shelf):
    warehouse, part, item = shelf
    before = _state(item)
    with pytest.raises(InsufficientStock) as refused:
        warehouses.stock_issue(
            actor=org["bj01-parts"],
            warehouse=warehouse,
            part=part,
            quantity=12,
            idempotency_key="issue-too-many-1",
        )
    assert "10" in str(refused.value.message) and "12" in str(refused.value.message)
    assert _state(item) == before


def test_a_retried_issue_with_the_same_key_books_once(org, shelf):
    warehouse, part, item = shelf
    clerk = org["bj01-parts"]
    first = warehouses.stock_issue(
        actor=clerk, warehouse=warehouse, part=part, quantity=3, idempotency_key="counter-0001"
    )
    again = warehouses.stock_issue(
        actor=clerk, warehouse=warehouse, part=part, quantity=3, idempotency_key="counter-0001"
    )
    item.refresh_from_db()
    assert item.on_hand == Decimal("7")
    assert [m.pk for m in again] == [m.pk for m in first]
    assert first[0].kind == MoveKind.ISSUE and first[0].quantity == Decimal("-3")
    assert ledger_mismatches(org["BJ01"]) == []


def test_the_same_key_from_another_user_is_another_booking(org, shelf):
    # given BJ01's clerk issued with a key, and SH01's clerk happens to send the same key
    warehouse, part, item = shelf
    sh_warehouse = make_warehouse(dealer=org["SH01"], bins=("S-01",))
    stock_up(warehouse=sh_warehouse, part=part, quantity=5, bin=bin_of(sh_warehouse, "S-01"))
    mine = warehouses.stock_issue(
        actor=org["bj01-parts"], warehouse=warehouse, part=part, quantity=2,
        idempotency_key="same-key-0001",
    )  # fmt: skip
    theirs = warehouses.stock_issue(
        actor=org["sh01-parts"], warehouse=sh_warehouse, part=part, quantity=1,
        idempotency_key="same-key-0001",
    )  # fmt: skip
    # then each got their own booking: neither sees nor reuses the other dealer's
    assert {m.dealer_id for m in mine} == {org["BJ01"].pk}
    assert {m.dealer_id for m in theirs} == {org["SH01"].pk}
    assert theirs[0].quantity == Decimal("-1")


def test_return_puts_units_back_at_the_average_cost(org, shelf):
    warehouse, part, item = shelf
    moves = warehouses.stock_return(
        actor=org["bj01-parts"],
        warehouse=warehouse,
        part=part,
        quantity=2,
        bin=bin_of(warehouse, "A-01-02"),
        idempotency_key="return-0001",
    )
    item.refresh_from_db()
    assert item.on_hand == Decimal("12") and item.avg_cost == Decimal("80")
    assert moves[0].kind == MoveKind.RETURN and moves[0].bin.code == "A-01-02"


def test_adjustment_needs_a_reason(org, shelf):
    warehouse, part, item = shelf
    before = _state(item)
    with pytest.raises(ValidationFailed) as refused:
        warehouses.stock_adjust(
            actor=org["bj01-svcmgr"],
            warehouse=warehouse,
            part=part,
            quantity=-1,
            reason="  ",
            idempotency_key="adjust-0001",
        )
    assert "reason" in refused.value.fields
    assert _state(item) == before


def test_adjustment_needs_the_adjust_permission(org, shelf):
    warehouse, part, item = shelf
    before = _state(item)
    with pytest.raises(PermissionDenied):
        warehouses.stock_adjust(
            actor=org["bj01-parts"],  # a clerk may issue but not adjust
            warehouse=warehouse,
            part=part,
            quantity=-1,
            reason="damaged",
            idempotency_key="adjust-0002",
        )
    assert _state(item) == before
    moves = warehouses.stock_adjust(
        actor=org["bj01-svcmgr"],
        warehouse=warehouse,
        part=part,
        quantity=-1,
        reason="damaged",
        idempotency_key="adjust-0003",
    )
    item.refresh_from_db()
    assert item.on_hand == Decimal("9") and moves[0].reason == "damaged"


def test_another_dealers_clerk_cannot_move_this_stock(org, shelf):
    warehouse, part, item = shelf
    before = _state(item)
    with pytest.raises(PermissionDenied):
        warehouses.stock_issue(
            actor=org["sh01-parts"],
            warehouse=warehouse,
            part=part,
            quantity=1,
            idempotency_key="foreign-0001",
        )
    assert _state(item) == before


def test_relocation_moves_units_between_bins_and_keeps_the_totals(org, shelf):
    warehouse, part, item = shelf
    a, b = bin_of(warehouse, "A-01-01"), bin_of(warehouse, "A-01-02")
    for _attempt in range(2):  # the retry books nothing more
        warehouses.stock_relocate(
            actor=org["bj01-parts"],
            item=item,
            from_bin=a,
            to_bin=b,
            quantity=4,
            idempotency_key="move-0001",
        )
    item.refresh_from_db()
    assert item.on_hand == Decimal("10") and item.avg_cost == Decimal("80")
    assert dict(BinStock.objects.filter(item=item).values_list("bin__code", "on_hand")) == {
        "A-01-01": Decimal("6"),
        "A-01-02": Decimal("4"),
    }
    assert StockMove.objects.filter(item=item, kind=MoveKind.RELOCATION).count() == 2
    assert ledger_mismatches(org["BJ01"]) == []


def test_relocation_refuses_more_than_the_bin_holds(org, shelf):
    warehouse, part, item = shelf
    before = _state(item)
    with pytest.raises(InsufficientStock) as refused:
        warehouses.stock_relocate(
            actor=org["bj01-parts"],
            item=item,
            from_bin=bin_of(warehouse, "A-01-01"),
            to_bin=bin_of(warehouse, "A-01-02"),
            quantity=11,
            idempotency_key="move-0002",
        )
    assert "10" in str(refused.value.message)
    assert _state(item) == before


def test_reserved_units_can_still_change_bins(org, shelf):
    warehouse, part, item = shelf
    warehouses.reservation_create(
        actor=org["bj01-parts"],
        warehouse=warehouse,
        part=part,
        quantity=10,
        doc_type="counter",
        idempotency_key="reserve-all-1",
    )
    warehouses.stock_relocate(
        actor=org["bj01-parts"],
        item=item,
        from_bin=bin_of(warehouse, "A-01-01"),
        to_bin=bin_of(warehouse, "A-01-02"),
        quantity=10,
        idempotency_key="move-reserved",
    )
    item.refresh_from_db()
    assert (item.on_hand, item.reserved) == (Decimal("10"), Decimal("10"))


def test_reservation_is_created_once_and_released(org, shelf):
    warehouse, part, item = shelf
    kwargs = {
        "actor": org["bj01-sa"],
        "warehouse": warehouse,
        "part": part,
        "quantity": 4,
        "doc_type": "counter",
        "doc_number": "C-7",
        "idempotency_key": "reserve-0001",
    }
    first = warehouses.reservation_create(**kwargs)
    second = warehouses.reservation_create(**kwargs)
    item.refresh_from_db()
    assert first.pk == second.pk and item.reserved == Decimal("4")
    released = warehouses.reservation_release(actor=org["bj01-parts"], reservation=first)
    item.refresh_from_db()
    assert released.status == ReservationStatus.RELEASED and item.reserved == 0


def test_a_short_reservation_is_refused_and_recorded_for_the_fill_rate(org, shelf):
    from aftersales.parts.models import PartDemand

    warehouse, part, item = shelf
    with pytest.raises(InsufficientStock):
        warehouses.reservation_create(
            actor=org["bj01-parts"],
            warehouse=warehouse,
            part=part,
            quantity=11,
            doc_type="counter",
            idempotency_key="reserve-short",
        )
    item.refresh_from_db()
    assert item.reserved == 0
    demand = PartDemand.objects.get(key=f"reserve:{org['bj01-parts'].pk}:reserve-short")
    assert demand.served is False and demand.available == Decimal("10")


def test_warehouse_and_bin_range_are_created_and_audited(org):
    admin = org["bj01-parts"]
    warehouse = warehouses.warehouse_create(
        actor=admin, dealer=org["BJ01"], code="qs", name="快修库"
    )
    bins = warehouses.bin_create(actor=admin, warehouse=warehouse, code="A-01-01..A-01-10")
    assert warehouse.code == "QS"
    assert [b.code for b in bins][:2] == ["A-01-01", "A-01-02"] and len(bins) == 10
    assert AuditLog.objects.filter(object_id=str(warehouse.pk), action="create").exists()
    with pytest.raises(ValidationFailed) as taken:
        warehouses.bin_create(actor=admin, warehouse=warehouse, code="A-01-10..A-01-12")
    assert "A-01-10" in str(taken.value.message)
    assert Bin.objects.filter(warehouse=warehouse).count() == 10  # nothing half-created


def test_bad_bin_ranges_are_refused(org):
    warehouse = make_warehouse(dealer=org["BJ01"], bins=())
    for spec in ("A-01..B-05", "A-10..A-01", "", "A-01-01..A-09-99"):
        with pytest.raises(ValidationFailed):
            warehouses.bin_create(actor=org["bj01-parts"], warehouse=warehouse, code=spec)
    assert not Bin.objects.filter(warehouse=warehouse).exists()


def test_only_an_empty_bin_can_be_taken_out_of_use(org, shelf):
    from aftersales.core.errors import Conflict

    warehouse, part, item = shelf
    with pytest.raises(Conflict):
        warehouses.bin_deactivate(actor=org["bj01-parts"], bin=bin_of(warehouse, "A-01-01"))
    empty = warehouses.bin_deactivate(actor=org["bj01-parts"], bin=bin_of(warehouse, "A-01-02"))
    assert empty.active is False


def test_warehouse_creation_at_another_dealer_is_refused(org):
    with pytest.raises(PermissionDenied):
        warehouses.warehouse_create(actor=org["bj01-parts"], dealer=org["SH01"], code="X", name="x")


# ---------------------------------------------------------------- pages


def test_stock_list_searches_by_number_barcode_and_bin_with_fixed_queries(
    client, org, shelf, django_assert_max_num_queries
):
    warehouse, part, item = shelf
    other = make_part(number="BP-200")
    stock_up(warehouse=warehouse, part=other, quantity=1, bin=bin_of(warehouse, "A-01-02"))
    for n in range(20):
        stock_up(warehouse=warehouse, part=make_part(), quantity=n + 1)
    client.force_login(org["bj01-parts"])
    url = reverse("stock-list")
    with django_assert_max_num_queries(12):
        response = client.get(url)
    assert response.status_code == 200 and len(response.context["object_list"]) == 22
    for q, expected in (
        ("OF-1", {item.pk}),
        ("6901234567892", {item.pk}),
        (f"BIN:{bin_of(warehouse, 'A-01-02').pk}", {other.stock_items.get().pk}),
        ("a-01-02", {other.stock_items.get().pk}),
    ):
        found = {i.pk for i in client.get(url, {"q": q}).context["object_list"]}
        assert found == expected, q


def test_stock_card_shows_the_ledger_with_running_on_hand(client, org, shelf):
    warehouse, part, item = shelf
    warehouses.stock_issue(
        actor=org["bj01-parts"],
        warehouse=warehouse,
        part=part,
        quantity=3,
        idempotency_key="card-issue-1",
    )
    client.force_login(org["bj01-parts"])
    response = client.get(reverse("stock-card", args=[item.pk]))
    assert response.status_code == 200
    running = [m.on_hand_after for m in response.context["page_obj"].object_list]
    assert running == [Decimal("7"), Decimal("10")]  # newest first


def test_another_dealers_stock_card_is_404(client, org, shelf):
    client.force_login(org["sh01-parts"])
    assert client.get(reverse("stock-card", args=[shelf[2].pk])).status_code == 404


def test_issue_screen_books_once_per_form_key_and_shows_the_shortage(client, org, shelf):
    warehouse, part, item = shelf
    client.force_login(org["bj01-parts"])
    url = reverse("stock-issue")
    form = client.get(url, {"warehouse": warehouse.pk}).context["form"]
    key = form.initial["idempotency_key"]
    data = {
        "warehouse": warehouse.pk,
        "part": "6901234567892",  # scanned barcode
        "bin": f"BIN:{bin_of(warehouse).pk}",
        "quantity": "2",
        "idempotency_key": key,
    }
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # double submit
    item.refresh_from_db()
    assert item.on_hand == Decimal("8")
    short = client.post(url, {**data, "quantity": "9", "idempotency_key": key + "x"})
    assert short.status_code == 400
    assert "8" in short.content.decode()
    item.refresh_from_db()
    assert item.on_hand == Decimal("8")


def test_adjust_screen_is_for_the_service_manager(client, org, shelf):
    client.force_login(org["bj01-parts"])
    assert client.get(reverse("stock-adjust")).status_code == 403
    client.force_login(org["bj01-svcmgr"])
    assert client.get(reverse("stock-adjust")).status_code == 200


def test_scan_resolves_parts_and_bin_labels(client, org, shelf):
    warehouse, part, item = shelf
    client.force_login(org["bj01-parts"])
    url = reverse("stock-scan")
    by_barcode = client.get(url, {"code": "6901234567892", "warehouse": warehouse.pk}).json()
    assert by_barcode["kind"] == "part" and by_barcode["code"] == "OF-100"
    assert by_barcode["available"] == "10"
    bin_ = bin_of(warehouse)
    assert client.get(url, {"code": bin_.barcode}).json()["label"] == "A-01-01"
    client.force_login(org["sh01-parts"])
    assert client.get(url, {"code": bin_.barcode}).status_code == 404


def test_bins_are_added_from_the_warehouse_page(client, org):
    warehouse = make_warehouse(dealer=org["BJ01"], bins=())
    client.force_login(org["bj01-parts"])
    response = client.post(
        reverse("warehouse-bins-add", args=[warehouse.pk]), {"codes": "B-01..B-05"}
    )
    assert response.status_code == 302
    assert Bin.objects.filter(warehouse=warehouse).count() == 5


# ---------------------------------------------------------------- API


def test_api_movement_honours_the_idempotency_key(client, org, shelf):
    warehouse, part, item = shelf
    client.force_login(org["bj01-parts"])
    body = {"kind": "issue", "warehouse": warehouse.pk, "part": "OF-100", "quantity": "4"}
    url = reverse("api:stockmovement-list")
    headers = {"HTTP_IDEMPOTENCY_KEY": "api-issue-0001"}
    first = client.post(url, body, content_type="application/json", **headers)
    second = client.post(url, body, content_type="application/json", **headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    item.refresh_from_db()
    assert item.on_hand == Decimal("6")
    short = client.post(
        url,
        {**body, "quantity": "7"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="api-issue-0002",
    )
    assert short.status_code == 409
    assert short.json()["code"] == "insufficient_stock" and "6" in short.json()["message"]


def test_api_movement_without_a_key_is_refused(client, org, shelf):
    warehouse, part, item = shelf
    client.force_login(org["bj01-parts"])
    response = client.post(
        reverse("api:stockmovement-list"),
        {"kind": "issue", "warehouse": warehouse.pk, "part": "OF-100", "quantity": "1"},
        content_type="application/json",
    )
    assert response.status_code == 400 and "idempotency_key" in response.json()["fields"]
    item.refresh_from_db()
    assert item.on_hand == Decimal("10")


def test_api_relocate_and_adjust(client, org, shelf):
    warehouse, part, item = shelf
    client.force_login(org["bj01-svcmgr"])
    url = reverse("api:stockmovement-list")
    moved = client.post(
        url,
        {
            "kind": "relocate",
            "warehouse": warehouse.pk,
            "part": "OF-100",
            "quantity": "3",
            "bin": bin_of(warehouse).pk,
            "to_bin": bin_of(warehouse, "A-01-02").pk,
        },
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="api-move-0001",
    )
    assert moved.status_code == 201 and len(moved.json()) == 2
    no_reason = client.post(
        url,
        {"kind": "adjust", "warehouse": warehouse.pk, "part": "OF-100", "quantity": "-1"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="api-adjust-0001",
    )
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["fields"]
    item.refresh_from_db()
    assert item.on_hand == Decimal("10")


def test_api_stock_list_keeps_a_fixed_query_count(
    client, org, shelf, django_assert_max_num_queries
):
    warehouse = shelf[0]
    for _n in range(30):
        stock_up(warehouse=warehouse, part=make_part(), quantity=2)
    client.force_login(org["bj01-parts"])
    with django_assert_max_num_queries(8):
        response = client.get(reverse("api:stockitem-list"), {"page_size": 100})
    assert response.json()["count"] == 31
    with django_assert_max_num_queries(8):
        ledger = client.get(reverse("api:stockitem-ledger", args=[shelf[2].pk]))
    assert ledger.json()["count"] == 1
    client.force_login(org["sh01-parts"])
    assert client.get(reverse("api:stockitem-list")).json()["count"] == 0
    assert client.get(reverse("api:stockitem-detail", args=[shelf[2].pk])).status_code == 404


def test_api_stock_filters(client, org, shelf):
    warehouse, part, item = shelf
    low = stock_up(warehouse=warehouse, part=make_part(number="LOW-1"), quantity=1)
    StockItem.objects.filter(pk=low.pk).update(min_qty=5, max_qty=10)
    client.force_login(org["bj01-parts"])
    url = reverse("api:stockitem-list")
    assert [r["id"] for r in client.get(url, {"low": "1"}).json()["results"]] == [low.pk]
    assert [r["part_number"] for r in client.get(url, {"q": "OF-"}).json()["results"]] == ["OF-100"]
