"""Reorder: min/max levels, low-stock alerts and purchase suggestions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.models import AuditLog, InAppNotification, OutboxMessage
from aftersales.core.outbox import outbox_drain
from aftersales.org.models import Dealer
from aftersales.parts import purchasing, reorder
from aftersales.parts.choices import PurchaseOrderStatus
from aftersales.parts.models import PartDemand, PurchaseOrder, StockItem
from aftersales.parts.stock import Doc, issue, item_for, record_shortage
from aftersales.parts.testing import bin_of, make_part, make_warehouse, stock_up

D = Decimal


@pytest.fixture
def shop(demo_org):
    dealer = Dealer.objects.get(code="BJ01")
    return {
        "dealer": dealer,
        "warehouse": make_warehouse(dealer=dealer, bins=("A-01-01", "B-02-01")),
        "clerk": demo_org["bj01-parts"],
        "manager": demo_org["bj01-svcmgr"],
        "other_clerk": demo_org["sh01-parts"],
        "advisor": demo_org["bj01-sa"],
    }


def _levels(shop, part, low, high, on_hand=0):
    if on_hand:
        stock_up(warehouse=shop["warehouse"], part=part, quantity=on_hand)
    with transaction.atomic():
        item = item_for(warehouse=shop["warehouse"], part=part)
    return reorder.stock_item_set_levels(actor=shop["clerk"], item=item, min_qty=low, max_qty=high)


_keys = iter(range(1, 10**6))


def _issue(shop, part, quantity):
    n = next(_keys)
    return issue(
        actor=shop["clerk"],
        warehouse=shop["warehouse"],
        part=part,
        quantity=quantity,
        posting_key=f"t-issue-{n}",
        doc=Doc(type="test", number=f"T{n}"),
    )


# ---------------------------------------------------------------- levels


def test_levels_are_set_and_audited(shop):
    part = make_part()
    bin_b = bin_of(shop["warehouse"], "B-02-01")
    with transaction.atomic():
        item = item_for(warehouse=shop["warehouse"], part=part)

    item = reorder.stock_item_set_levels(
        actor=shop["clerk"], item=item, min_qty="2", max_qty="10", default_bin=bin_b
    )

    item.refresh_from_db()
    assert (item.min_qty, item.max_qty, item.default_bin) == (D("2"), D("10"), bin_b)
    entry = AuditLog.objects.filter(object_id=str(item.pk)).latest("id")
    assert entry.changes["min_qty"] == ["0.00", "2.00"]


@pytest.mark.parametrize(
    ("low", "high", "field"),
    [("-1", "5", "min_qty"), ("5", "2", "max_qty"), ("abc", "5", "min_qty")],
)
def test_bad_levels_are_refused_and_change_nothing(shop, low, high, field):
    part = make_part()
    with transaction.atomic():
        item = item_for(warehouse=shop["warehouse"], part=part)

    with pytest.raises(ValidationFailed) as refused:
        reorder.stock_item_set_levels(actor=shop["clerk"], item=item, min_qty=low, max_qty=high)

    assert field in refused.value.fields
    item.refresh_from_db()
    assert (item.min_qty, item.max_qty) == (0, 0)


def test_levels_need_change_stockitem_at_the_items_dealer(shop):
    part = make_part()
    with transaction.atomic():
        item = item_for(warehouse=shop["warehouse"], part=part)

    for outsider in (shop["other_clerk"], shop["advisor"]):
        with pytest.raises(PermissionDenied):
            reorder.stock_item_set_levels(actor=outsider, item=item, min_qty=1, max_qty=2)


# ---------------------------------------------------------------- alerts


def test_a_drop_below_minimum_alerts_the_parts_clerks_once(shop, mailoutbox):
    # Given 5 filters with a minimum of 3
    part = make_part()
    item = _levels(shop, part, 3, 10, on_hand=5)

    # When 3 are issued (2 left, below 3) and then 1 more
    _issue(shop, part, 3)
    _issue(shop, part, 1)

    # Then the item is marked and one in-app + one e-mail message are queued
    item.refresh_from_db()
    assert item.low_alerted_at is not None
    messages = OutboxMessage.objects.filter(payload__stock_item=item.pk)
    assert sorted(messages.values_list("channel", flat=True)) == ["email", "inapp"]
    assert {m.recipient for m in messages} == {str(shop["clerk"].pk), shop["clerk"].email}
    # and once the outbox is drained the clerk has the notification and the e-mail
    outbox_drain()
    [note] = InAppNotification.objects.filter(user=shop["clerk"])
    assert part.number in note.subject
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [shop["clerk"].email]
    # and nobody else (the service manager is not a parts clerk)
    assert not InAppNotification.objects.filter(user=shop["manager"]).exists()


def test_a_new_drop_after_restocking_alerts_again(shop):
    part = make_part()
    _levels(shop, part, 3, 10, on_hand=5)
    _issue(shop, part, 3)  # first drop

    # When stock comes back above the minimum and drops again
    stock_up(warehouse=shop["warehouse"], part=part, quantity=8)
    item = StockItem.objects.get(warehouse=shop["warehouse"], part=part)
    assert item.low_alerted_at is None
    _issue(shop, part, 8)

    # Then a second alert is queued
    assert OutboxMessage.objects.filter(payload__stock_item=item.pk, channel="inapp").count() == 2


def test_a_rolled_back_issue_alerts_nobody(shop):
    part = make_part()
    item = _levels(shop, part, 3, 10, on_hand=5)

    with pytest.raises(RuntimeError), transaction.atomic():
        _issue(shop, part, 4)
        raise RuntimeError("the repair order failed after the issue")

    item.refresh_from_db()
    assert item.low_alerted_at is None and item.on_hand == 5
    assert not OutboxMessage.objects.filter(payload__stock_item=item.pk).exists()
    outbox_drain()
    assert not InAppNotification.objects.exists()
    assert mail.outbox == []


def test_an_item_without_minimum_never_alerts(shop):
    part = make_part()
    stock_up(warehouse=shop["warehouse"], part=part, quantity=2)

    _issue(shop, part, 2)

    assert not OutboxMessage.objects.exists()


# ---------------------------------------------------------------- suggestions


@pytest.mark.parametrize(
    ("available", "on_order", "shortage", "low", "high", "expected"),
    [
        (D("2"), D("0"), D("0"), D("3"), D("10"), 8),  # below min: up to max
        (D("2"), D("5"), D("0"), D("3"), D("10"), 0),  # on order covers it
        (D("1"), D("1"), D("0"), D("3"), D("10"), 8),
        (D("2.5"), D("0"), D("0"), D("3"), D("10"), 8),  # 7.5 rounds up
        (D("5"), D("0"), D("2"), D("3"), D("10"), 7),  # unserved demand adds
        (D("0"), D("0"), D("3"), D("0"), D("0"), 3),  # no levels: the shortage
        (D("3"), D("0"), D("0"), D("3"), D("10"), 0),  # at min: fine
    ],
)
def test_suggested_quantity_arithmetic(available, on_order, shortage, low, high, expected):
    assert (
        reorder.suggested_quantity(
            available=available, on_order=on_order, shortage=shortage, min_qty=low, max_qty=high
        )
        == expected
    )


def test_suggestions_count_open_orders_and_unserved_demand(shop):
    # Given filters: 2 on hand, min 9 max 12, and 4 on an open order (6 ordered, 2 received)
    filters, pads, plugs = make_part(), make_part(), make_part()
    _levels(shop, filters, 9, 12, on_hand=2)
    order = purchasing.purchase_order_create(
        actor=shop["clerk"], warehouse=shop["warehouse"], lines=[(filters, 6)]
    )
    order = purchasing.purchase_order_submit(actor=shop["clerk"], order=order)
    purchasing.purchase_order_receive(
        actor=shop["clerk"], order=order, lines=[(order.lines.get(), 2, None)]
    )
    # and a draft order (does not count)
    purchasing.purchase_order_create(
        actor=shop["clerk"], warehouse=shop["warehouse"], lines=[(filters, 50)]
    )
    # pads above min; plugs with no levels but a shortage of 3 this month and 9 long ago
    _levels(shop, pads, 1, 4, on_hand=3)
    record_shortage(warehouse=shop["warehouse"], part=plugs, quantity=3, key="ro-1:1")
    record_shortage(warehouse=shop["warehouse"], part=plugs, quantity=9, key="ro-0:1")
    PartDemand.objects.filter(key="ro-0:1").update(at=timezone.now() - timedelta(days=45))

    # When the suggestions are worked out
    rows = {s.item.part_id: s for s in reorder.purchase_suggestions(shop["clerk"], order.warehouse)}

    # Then filters (8 < min 9): 12 − (4 available + 4 on order) = 4; plugs: 3; pads: nothing
    assert set(rows) == {filters.pk, plugs.pk}
    assert (rows[filters.pk].available, rows[filters.pk].on_order) == (D("4"), D("4"))
    assert rows[filters.pk].quantity == 4
    assert rows[plugs.pk].shortage == D("3") and rows[plugs.pk].quantity == 3


def test_a_superseded_part_is_suggested_as_its_replacement(shop):
    newest = make_part(number="R-NEW-2")
    newer = make_part(number="R-NEW-1", superseded_by=newest)
    old = make_part(number="R-OLD", superseded_by=newer)
    _levels(shop, old, 2, 5, on_hand=1)

    [row] = reorder.purchase_suggestions(shop["clerk"], shop["warehouse"])

    assert row.part == newest and row.superseded and row.quantity == 4


def test_suggestions_take_a_fixed_number_of_queries(shop, django_assert_max_num_queries):
    for _ in range(3):
        _levels(shop, make_part(), 5, 10, on_hand=1)
    with django_assert_max_num_queries(10) as few:
        assert len(reorder.purchase_suggestions(shop["clerk"], shop["warehouse"])) == 3
    for _ in range(10):
        _levels(shop, make_part(), 5, 10, on_hand=1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(reorder.purchase_suggestions(shop["clerk"], shop["warehouse"])) == 13


def test_a_draft_order_is_made_from_chosen_suggestions(shop):
    old_part = make_part(number="S-OLD", superseded_by=make_part(number="S-NEW"))
    part = make_part()

    order = reorder.purchase_order_from_suggestions(
        actor=shop["clerk"], warehouse=shop["warehouse"], lines=[(part, 8), (old_part, 2)]
    )

    assert order.status == PurchaseOrderStatus.DRAFT
    assert sorted((ln.part.number, ln.quantity) for ln in order.lines.all()) == sorted(
        [(part.number, D("8")), ("S-NEW", D("2"))]
    )
    with pytest.raises(ValidationFailed):
        reorder.purchase_order_from_suggestions(
            actor=shop["clerk"], warehouse=shop["warehouse"], lines=[]
        )


# ---------------------------------------------------------------- pages and API


def test_suggestions_page_creates_a_purchase_order(client, shop):
    part = make_part()
    _levels(shop, part, 3, 9, on_hand=1)
    client.force_login(shop["clerk"])

    page = client.get(reverse("purchase-suggestions"), {"warehouse": shop["warehouse"].pk})
    assert [row.part for row in page.context["rows"]] == [part]
    response = client.post(
        reverse("purchase-suggestions-order"),
        {"warehouse": shop["warehouse"].pk, "pick": [part.pk], f"qty_{part.pk}": "8"},
    )

    order = PurchaseOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("purchase-order-detail", kwargs={"pk": order.pk})
    assert order.lines.get().quantity == D("8")


def test_low_stock_page_lists_items_below_minimum(client, shop, django_assert_max_num_queries):
    low, fine = make_part(), make_part()
    _levels(shop, low, 3, 9, on_hand=1)
    _levels(shop, fine, 1, 9, on_hand=5)
    client.force_login(shop["clerk"])

    with django_assert_max_num_queries(30) as few:
        response = client.get(reverse("low-stock-list"))
    assert [item.part for item in response.context["object_list"]] == [low]
    for _ in range(8):
        _levels(shop, make_part(), 3, 9, on_hand=1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("low-stock-list"))
    assert len(response.context["object_list"]) == 9


def test_levels_page_refuses_max_below_min(client, shop):
    part = make_part()
    item = _levels(shop, part, 1, 2)
    client.force_login(shop["clerk"])

    response = client.post(
        reverse("stock-levels-edit", kwargs={"pk": item.pk}), {"min_qty": "5", "max_qty": "2"}
    )

    assert response.status_code == 400
    assert "max_qty" in response.context["form"].errors
    item.refresh_from_db()
    assert (item.min_qty, item.max_qty) == (D("1"), D("2"))


def test_api_patch_levels_and_read_suggestions(client, shop):
    part = make_part()
    stock_up(warehouse=shop["warehouse"], part=part, quantity=1)
    item = StockItem.objects.get(part=part)
    client.force_login(shop["clerk"])

    bad = client.patch(
        reverse("api:stocklevel-detail", kwargs={"pk": item.pk}),
        {"min_qty": "4", "max_qty": "1"},
        content_type="application/json",
    )
    good = client.patch(
        reverse("api:stocklevel-detail", kwargs={"pk": item.pk}),
        {"min_qty": "4", "max_qty": "10"},
        content_type="application/json",
    )
    listed = client.get(
        reverse("api:purchase-suggestion-list"), {"warehouse": shop["warehouse"].pk}
    )

    assert bad.status_code == 400 and "max_qty" in bad.json()["fields"]
    assert good.status_code == 200 and good.json()["min_qty"] == "4.00"
    [row] = listed.json()["results"]
    assert (row["id"], row["quantity"]) == (item.pk, 9)
