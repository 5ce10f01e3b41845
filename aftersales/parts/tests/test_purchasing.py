"""Purchase orders and goods receipts: services, API and pages."""

import threading
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.urls import reverse

from aftersales.core.errors import Conflict, PermissionDenied, ValidationFailed
from aftersales.core.models import AuditLog
from aftersales.org.models import Dealer
from aftersales.parts import purchasing
from aftersales.parts.choices import MoveKind, PurchaseOrderStatus
from aftersales.parts.models import (
    GoodsReceipt,
    PurchaseOrder,
    StockItem,
    StockMove,
)
from aftersales.parts.stock import ledger_mismatches
from aftersales.parts.testing import bin_of, make_part, make_warehouse, stock_up

D = Decimal


@pytest.fixture
def shop(demo_org):
    """BJ01's main warehouse with two bins, its parts clerk, and two parts."""
    dealer = Dealer.objects.get(code="BJ01")
    warehouse = make_warehouse(dealer=dealer, bins=("A-01-01", "A-01-02"))
    return {
        "dealer": dealer,
        "warehouse": warehouse,
        "clerk": demo_org["bj01-parts"],
        "advisor": demo_org["bj01-sa"],
        "other_clerk": demo_org["sh01-parts"],
        "filter": make_part(dealer_cost=D("80.00")),
        "pads": make_part(dealer_cost=D("200.00")),
        "users": demo_org,
    }


def _order(shop, *lines, **options):
    lines = lines or ((shop["filter"], 10, D("80.00")), (shop["pads"], 4, D("200.00")))
    return purchasing.purchase_order_create(
        actor=shop["clerk"], warehouse=shop["warehouse"], lines=lines, **options
    )


def _submitted(shop, *lines, **options):
    order = _order(shop, *lines, **options)
    return purchasing.purchase_order_submit(actor=shop["clerk"], order=order)


def _line(order, part):
    return order.lines.get(part=part)


def _receive(shop, order, *entries, key=None):
    return purchasing.purchase_order_receive(
        actor=shop["clerk"], order=order, lines=list(entries), idempotency_key=key
    )


# ---------------------------------------------------------------- lifecycle


def test_full_lifecycle_from_draft_to_received(shop):
    # Given a draft order of 10 filters and 4 brake pads
    order = _order(shop)
    assert order.status == PurchaseOrderStatus.DRAFT
    assert order.number.startswith("PO-")

    # When it is submitted, then received in full in one delivery
    order = purchasing.purchase_order_submit(actor=shop["clerk"], order=order)
    assert order.status == PurchaseOrderStatus.SUBMITTED and order.submitted_at is not None
    bin_a = bin_of(shop["warehouse"])
    receipt = _receive(
        shop,
        order,
        (_line(order, shop["filter"]), 10, bin_a),
        (_line(order, shop["pads"]), 4, None),
    )

    # Then the order is closed, the goods are on the shelf and the ledger agrees
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.RECEIVED and order.closed_at is not None
    assert receipt.number.startswith("GR-")
    assert receipt.lines.count() == 2
    filters = StockItem.objects.get(warehouse=shop["warehouse"], part=shop["filter"])
    assert filters.on_hand == D("10")
    moves = StockMove.objects.filter(doc_type="purchase_order", doc_number=receipt.number)
    assert {m.kind for m in moves} == {MoveKind.RECEIPT}
    assert sorted(m.quantity for m in moves) == [D("4"), D("10")]
    assert ledger_mismatches(shop["dealer"]) == []
    # and every step is in the audit trail
    changes = AuditLog.objects.filter(
        content_type=ContentType.objects.get_for_model(PurchaseOrder), object_id=str(order.pk)
    ).values_list("changes", flat=True)
    statuses = [c["status"] for c in changes if "status" in c]
    assert ["draft", "submitted"] in statuses and ["submitted", "received"] in statuses


def test_partial_receipts_leave_the_order_partly_received_until_complete(shop):
    # Given a submitted order of 10 filters and 4 pads
    order = _submitted(shop)
    filters, pads = _line(order, shop["filter"]), _line(order, shop["pads"])

    # When 6 filters arrive
    _receive(shop, order, (filters, 6, None))

    # Then it is partly received with 4 filters and 4 pads still open
    order.refresh_from_db()
    filters.refresh_from_db()
    assert order.status == PurchaseOrderStatus.PARTLY_RECEIVED
    assert (filters.received, filters.open_quantity) == (D("6"), D("4"))

    # When the rest arrives in a second delivery
    _receive(shop, order, (filters, 4, None), (pads, 4, None))

    # Then it is received, with two receipts
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.RECEIVED
    assert order.receipts.count() == 2


def test_over_receipt_is_refused_with_what_is_still_open(shop):
    # Given an order of 10 filters of which 8 arrived
    order = _submitted(shop, (shop["filter"], 10))
    line = _line(order, shop["filter"])
    _receive(shop, order, (line, 8, None))

    # When 3 more are booked
    with pytest.raises(Conflict) as refused:
        _receive(shop, order, (line, 3, None))

    # Then it is refused, naming ordered/received/open, and nothing changed
    assert refused.value.code == "over_receipt"
    assert "10" in str(refused.value.message) and "8" in str(refused.value.message)
    assert "2" in str(refused.value.message)
    line.refresh_from_db()
    assert line.received == D("8")
    assert GoodsReceipt.objects.filter(order=order).count() == 1
    item = StockItem.objects.get(warehouse=shop["warehouse"], part=shop["filter"])
    assert item.on_hand == D("8")


def test_over_receipt_is_booked_when_the_order_allows_it(shop):
    # Given an order of 10 filters that allows over-receipt
    order = _submitted(shop, (shop["filter"], 10), allow_over_receipt=True)
    line = _line(order, shop["filter"])

    # When 12 arrive
    _receive(shop, order, (line, 12, None))

    # Then all 12 are on hand and the order is received
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.RECEIVED
    assert StockItem.objects.get(part=shop["filter"], warehouse=shop["warehouse"]).on_hand == 12


@pytest.mark.parametrize("state", ["draft", "received", "cancelled"])
def test_receiving_against_a_closed_or_draft_order_is_refused(shop, state):
    # Given an order that is a draft, fully received or cancelled
    order = _order(shop, (shop["filter"], 2))
    if state == "received":
        order = purchasing.purchase_order_submit(actor=shop["clerk"], order=order)
        _receive(shop, order, (_line(order, shop["filter"]), 2, None))
    elif state == "cancelled":
        order = purchasing.purchase_order_cancel(actor=shop["clerk"], order=order)
    receipts = GoodsReceipt.objects.count()

    # When goods are booked against it
    with pytest.raises(Conflict) as refused:
        _receive(shop, order, (_line(order, shop["filter"]), 1, None))

    # Then it is refused with a 409 and a message naming the order
    assert refused.value.status == 409
    assert order.number in str(refused.value.message)
    assert GoodsReceipt.objects.count() == receipts


def test_the_same_idempotency_key_books_once(shop):
    # Given a submitted order
    order = _submitted(shop)
    line = _line(order, shop["filter"])

    # When the same receipt is submitted twice with one key
    first = _receive(shop, order, (line, 5, None), key="scan-42")
    second = _receive(shop, order, (line, 5, None), key="scan-42")

    # Then one receipt and one set of movements exist
    assert first.pk == second.pk
    assert GoodsReceipt.objects.filter(order=order).count() == 1
    assert StockMove.objects.filter(doc_type="purchase_order").count() == 1
    line.refresh_from_db()
    assert line.received == D("5")


def test_receipts_update_the_moving_average_cost(shop):
    # Given 10 filters on hand at 80.00
    stock_up(warehouse=shop["warehouse"], part=shop["filter"], quantity=10, unit_cost="80")

    # When 10 arrive on an order at 100.00 and then 20 at 90.00
    first = _submitted(shop, (shop["filter"], 10, D("100.00")))
    _receive(shop, first, (_line(first, shop["filter"]), 10, None))
    second = _submitted(shop, (shop["filter"], 20, D("90.00")))
    _receive(shop, second, (_line(second, shop["filter"]), 20, None))

    # Then the average is (10×80 + 10×100 + 20×90) / 40 = 90
    item = StockItem.objects.get(warehouse=shop["warehouse"], part=shop["filter"])
    assert item.on_hand == D("40")
    assert item.avg_cost == D("90.0000")
    last = StockMove.objects.filter(item=item).order_by("-id").first()
    assert last.unit_cost == D("90.0000")


# ---------------------------------------------------------------- transitions


def test_illegal_transitions_are_refused_with_409(shop):
    # Given a submitted order
    order = _submitted(shop)

    # When it is submitted again, or its lines changed
    with pytest.raises(Conflict) as twice:
        purchasing.purchase_order_submit(actor=shop["clerk"], order=order)
    with pytest.raises(Conflict) as edit:
        purchasing.purchase_order_line_set(
            actor=shop["clerk"], order=order, part=shop["filter"], quantity=1
        )

    # Then both are refused with the illegal-transition code
    assert twice.value.code == "illegal_transition" and twice.value.status == 409
    assert edit.value.code == "illegal_transition"


def test_an_order_with_received_goods_cannot_be_cancelled_but_closes_short(shop):
    # Given an order of which some goods arrived
    order = _submitted(shop)
    _receive(shop, order, (_line(order, shop["filter"]), 3, None))
    order.refresh_from_db()

    # When it is cancelled
    with pytest.raises(Conflict):
        purchasing.purchase_order_cancel(actor=shop["clerk"], order=order)

    # Then it stays open; closing it short makes it received with what came
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.PARTLY_RECEIVED
    order = purchasing.purchase_order_close_short(actor=shop["clerk"], order=order, reason="缺货")
    assert order.status == PurchaseOrderStatus.RECEIVED
    with pytest.raises(Conflict):
        _receive(shop, order, (_line(order, shop["pads"]), 1, None))


def test_submitting_an_empty_order_is_refused(shop):
    order = purchasing.purchase_order_create(actor=shop["clerk"], warehouse=shop["warehouse"])

    with pytest.raises(ValidationFailed) as refused:
        purchasing.purchase_order_submit(actor=shop["clerk"], order=order)

    assert refused.value.code == "empty_order"
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.DRAFT


def test_a_superseded_part_is_refused_naming_the_replacement_or_substituted(shop):
    # Given a part replaced by another, itself replaced by a third
    newest = make_part(number="NEW-3")
    newer = make_part(number="NEW-2", superseded_by=newest)
    old = make_part(number="OLD-1", superseded_by=newer)
    order = _order(shop, (shop["filter"], 1))

    # When the old number is ordered
    with pytest.raises(ValidationFailed) as refused:
        purchasing.purchase_order_line_set(actor=shop["clerk"], order=order, part=old, quantity=2)

    # Then it is refused naming the end of the chain; with substitute it orders that one
    assert refused.value.code == "superseded" and "NEW-3" in str(refused.value.message)
    line = purchasing.purchase_order_line_set(
        actor=shop["clerk"], order=order, part=old, quantity=2, substitute=True
    )
    assert line.part == newest


def test_scanning_a_part_twice_increments_its_line(shop):
    order = _order(shop, (shop["filter"], 1))

    purchasing.purchase_order_line_set(
        actor=shop["clerk"], order=order, part=shop["filter"], quantity=1, increment=True
    )

    assert _line(order, shop["filter"]).quantity == D("2")
    purchasing.purchase_order_line_remove(
        actor=shop["clerk"], order=order, line=_line(order, shop["filter"])
    )
    assert not order.lines.exists()


def test_a_clerk_of_another_dealer_cannot_touch_the_order(shop):
    order = _submitted(shop)

    with pytest.raises(PermissionDenied):
        purchasing.purchase_order_receive(
            actor=shop["other_clerk"], order=order, lines=[(_line(order, shop["filter"]), 1, None)]
        )
    with pytest.raises(PermissionDenied):
        purchasing.purchase_order_create(
            actor=shop["advisor"], warehouse=shop["warehouse"], lines=[(shop["filter"], 1)]
        )


def test_bad_quantities_are_refused_and_change_nothing(shop):
    order = _submitted(shop)
    line = _line(order, shop["filter"])

    for bad in ("abc", -1):
        with pytest.raises(ValidationFailed):
            _receive(shop, order, (line, bad, None))
    with pytest.raises(ValidationFailed):
        _receive(shop, order, (line, 0, None))

    line.refresh_from_db()
    assert line.received == 0 and not GoodsReceipt.objects.exists()


# ---------------------------------------------------------------- API


def _api(client, user):
    client.force_login(user)
    return client


def test_api_lifecycle_with_idempotent_receipt(client, shop):
    api = _api(client, shop["clerk"])
    # create
    response = api.post(
        reverse("api:purchaseorder-list"),
        {
            "warehouse": shop["warehouse"].pk,
            "lines": [{"part": shop["filter"].pk, "quantity": "5"}],
            "urgent": True,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    order_id = response.json()["id"]
    assert response.json()["status"] == "draft"
    # add a line by part number
    response = api.post(
        reverse("api:purchaseorder-lines", kwargs={"pk": order_id}),
        {"part_number": shop["pads"].number, "quantity": "2"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    # submit
    response = api.post(reverse("api:purchaseorder-submit", kwargs={"pk": order_id}))
    assert response.status_code == 200 and response.json()["status"] == "submitted"
    # receive twice with the same key
    line_id = next(
        ln["id"] for ln in response.json()["lines"] if ln["part_number"] == shop["filter"].number
    )
    body = {"lines": [{"line": line_id, "quantity": "5"}]}
    url = reverse("api:purchaseorder-receive", kwargs={"pk": order_id})
    first = api.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = api.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.content
    assert second.status_code == 201 and second.json()["id"] == first.json()["id"]
    assert GoodsReceipt.objects.count() == 1
    # submitting again: 409 with a code
    again = api.post(reverse("api:purchaseorder-submit", kwargs={"pk": order_id}))
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"
    # receipts list
    listed = api.get(reverse("api:goodsreceipt-list"))
    assert [r["id"] for r in listed.json()["results"]] == [first.json()["id"]]


def test_api_over_receipt_answers_409_with_the_message(client, shop):
    order = _submitted(shop, (shop["filter"], 2))
    api = _api(client, shop["clerk"])

    response = api.post(
        reverse("api:purchaseorder-receive", kwargs={"pk": order.pk}),
        {"lines": [{"line": _line(order, shop["filter"]).pk, "quantity": "3"}]},
        content_type="application/json",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "over_receipt"
    assert not GoodsReceipt.objects.exists()


def test_api_order_list_has_a_fixed_query_count(client, shop, django_assert_max_num_queries):
    for _ in range(3):
        _submitted(shop)
    api = _api(client, shop["clerk"])
    with django_assert_max_num_queries(12) as few:
        api.get(reverse("api:purchaseorder-list"))
    for _ in range(12):
        _submitted(shop)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = api.get(reverse("api:purchaseorder-list"))
    assert response.json()["count"] == 15


def test_api_other_dealer_order_is_404(client, shop):
    order = _submitted(shop)
    api = _api(client, shop["other_clerk"])

    response = api.get(reverse("api:purchaseorder-detail", kwargs={"pk": order.pk}))

    assert response.status_code == 404


# ---------------------------------------------------------------- pages


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_pages_render_in_both_languages(client, shop, language):
    order = _submitted(shop)
    _receive(shop, order, (_line(order, shop["filter"]), 1, None))
    draft = _order(shop)
    client.force_login(shop["clerk"])
    client.cookies["django_language"] = language
    pages = [
        reverse("purchase-order-list"),
        reverse("purchase-order-create"),
        reverse("purchase-order-detail", kwargs={"pk": order.pk}),
        reverse("purchase-order-detail", kwargs={"pk": draft.pk}),
        reverse("purchase-order-receive", kwargs={"pk": order.pk}),
        reverse("purchase-suggestions"),
        reverse("low-stock-list"),
    ]
    expected = {"zh-hans": "状态", "en": "Status"}[language]
    for url in pages:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, (url, response.content[:300])
    response = client.get(reverse("purchase-order-list"), HTTP_ACCEPT_LANGUAGE=language)
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert f">{expected}</th>" in html


def test_order_list_page_has_a_fixed_query_count(client, shop, django_assert_max_num_queries):
    for _ in range(2):
        _submitted(shop)
    client.force_login(shop["clerk"])
    with django_assert_max_num_queries(30) as few:
        client.get(reverse("purchase-order-list"))
    for _ in range(10):
        _submitted(shop)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("purchase-order-list"))
    assert len(response.context["object_list"]) == 12


def test_page_create_add_line_by_scan_submit_and_receive_once(client, shop):
    client.force_login(shop["clerk"])
    # create
    response = client.post(
        reverse("purchase-order-create"),
        {"warehouse": shop["warehouse"].pk, "note": "周一到货"},
    )
    assert response.status_code == 302
    order = PurchaseOrder.objects.get()
    detail = reverse("purchase-order-detail", kwargs={"pk": order.pk})
    # scan the barcode twice: one line of 2
    shop["filter"].barcode = "6901234567892"
    shop["filter"].save()
    for _ in range(2):
        client.post(
            reverse("purchase-order-scan", kwargs={"pk": order.pk}),
            {"code": "6901234567892", "quantity": "1"},
        )
    assert _line(order, shop["filter"]).quantity == 2
    # an unknown code: an error, nothing added
    response = client.post(
        reverse("purchase-order-scan", kwargs={"pk": order.pk}), {"code": "NOPE", "quantity": "1"}
    )
    assert order.lines.count() == 1
    # submit
    client.post(reverse("purchase-order-action", kwargs={"pk": order.pk, "action": "submit"}))
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.SUBMITTED
    # receive twice with the same hidden key
    line = _line(order, shop["filter"])
    page = client.get(reverse("purchase-order-receive", kwargs={"pk": order.pk}))
    key = page.context["idempotency_key"]
    data = {
        "idempotency_key": key,
        f"qty_{line.pk}": "2",
        f"bin_{line.pk}": str(bin_of(shop["warehouse"]).pk),
    }
    first = client.post(reverse("purchase-order-receive", kwargs={"pk": order.pk}), data)
    second = client.post(reverse("purchase-order-receive", kwargs={"pk": order.pk}), data)
    assert first.status_code == 302 and second.status_code == 302
    assert first["Location"] == detail
    assert GoodsReceipt.objects.count() == 1
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.RECEIVED


# ---------------------------------------------------------------- concurrency


def _in_threads(count, work):
    """Run ``work(i)`` in ``count`` threads (own connections) started together."""
    start = threading.Barrier(count)
    results, lock = [], threading.Lock()

    def run(i):
        try:
            start.wait(timeout=30)
            outcome = work(i)
        except BaseException as exc:  # reported to the main thread
            outcome = exc
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_receipts_cannot_over_receive(shop):
    # Given a submitted order of 10 filters
    order = _submitted(shop, (shop["filter"], 10))
    line = _line(order, shop["filter"])

    # When 4 clerks book 4 each at the same moment
    results = _in_threads(4, lambda i: _receive(shop, order, (line, 4, None)))

    # Then two receipts got through and two were refused as over-receipts
    refused = [r for r in results if isinstance(r, Conflict)]
    booked = [r for r in results if isinstance(r, GoodsReceipt)]
    assert (len(booked), len(refused)) == (2, 2), results
    assert {r.code for r in refused} == {"over_receipt"}
    line.refresh_from_db()
    assert line.received == D("8")
    assert StockItem.objects.get(part=shop["filter"]).on_hand == D("8")
    assert ledger_mismatches(shop["dealer"]) == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_book_once(shop):
    order = _submitted(shop, (shop["filter"], 10))
    line = _line(order, shop["filter"])

    results = _in_threads(4, lambda i: _receive(shop, order, (line, 3, None), key="double-tap"))

    assert all(isinstance(r, GoodsReceipt) for r in results), results
    assert len({r.pk for r in results}) == 1
    line.refresh_from_db()
    assert line.received == D("3")
    assert StockMove.objects.filter(doc_type="purchase_order").count() == 1


def test_create_page_double_submit_creates_one_order(client, shop):
    # Given the new-order form with its one-time key
    client.force_login(shop["clerk"])
    page = client.get(reverse("purchase-order-create"))
    key = page.context["form"].initial["idempotency_key"]
    data = {"warehouse": shop["warehouse"].pk, "idempotency_key": key}

    # When it is posted twice
    first = client.post(reverse("purchase-order-create"), data)
    second = client.post(reverse("purchase-order-create"), data)

    # Then one draft exists and both answers lead to it
    order = PurchaseOrder.objects.get()
    assert (
        first["Location"]
        == second["Location"]
        == reverse("purchase-order-detail", kwargs={"pk": order.pk})
    )


def test_page_scan_of_a_superseded_number_offers_the_replacement(client, shop):
    new = make_part(number="PG-NEW")
    old = make_part(number="PG-OLD", superseded_by=new)
    order = _order(shop, (shop["filter"], 1))
    client.force_login(shop["clerk"])
    scan = reverse("purchase-order-scan", kwargs={"pk": order.pk})

    refused = client.post(scan, {"code": "pg-old", "quantity": "2"}, follow=True)
    assert refused.context["replace"]["new"] == new
    assert not order.lines.filter(part=old).exists()
    client.post(scan, {"code": "PG-OLD", "quantity": "2", "substitute": "1"})

    assert _line(order, new).quantity == D("2")


def test_api_order_create_with_the_same_idempotency_key_creates_one_order(demo_org):
    from rest_framework.test import APIClient

    from aftersales.org.models import Dealer
    from aftersales.parts.models import PurchaseOrder
    from aftersales.parts.testing import make_part, make_warehouse

    warehouse = make_warehouse(dealer=Dealer.objects.get(code="BJ01"))
    part = make_part()
    client = APIClient()
    client.force_authenticate(demo_org["bj01-parts"])
    body = {"warehouse": warehouse.pk, "lines": [{"part_number": part.number, "quantity": "4"}]}
    first = client.post(
        "/api/parts/purchase-orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="po-1"
    )
    again = client.post(
        "/api/parts/purchase-orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="po-1"
    )
    assert (first.status_code, again.status_code) == (201, 200), first.content
    assert first.json()["id"] == again.json()["id"]
    assert PurchaseOrder.objects.filter(warehouse=warehouse).count() == 1
