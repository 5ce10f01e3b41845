"""Transfers within a dealer and between dealers: approval, shipping, in transit, receipt."""

from decimal import Decimal

import pytest
from django.urls import reverse

from aftersales.core.errors import Conflict, PermissionDenied, ValidationFailed
from aftersales.org.models import Dealer
from aftersales.parts import stock
from aftersales.parts.choices import MoveKind, TransferStatus
from aftersales.parts.models import StockItem, StockMove, Transfer
from aftersales.parts.testing import bin_of, make_part, make_warehouse, stock_up
from aftersales.parts.transfers import (
    transfer_approve,
    transfer_cancel,
    transfer_receive,
    transfer_reject,
    transfer_request,
    transfer_ship,
)

D = Decimal


@pytest.fixture
def net(demo_org):
    bj, tj = Dealer.objects.get(code="BJ01"), Dealer.objects.get(code="TJ01")
    bj_main = make_warehouse(dealer=bj, code="MAIN", bins=("A-01",))
    bj_quick = make_warehouse(dealer=bj, code="QUICK", name="快修库", bins=("Q-01",))
    tj_main = make_warehouse(dealer=tj, code="MAIN", bins=("T-01", "T-02"))
    oil, pad = make_part(), make_part()
    stock_up(warehouse=bj_main, part=oil, quantity=10, unit_cost="50")
    stock_up(warehouse=bj_main, part=pad, quantity=2, unit_cost="200")
    stock_up(warehouse=tj_main, part=oil, quantity=10, unit_cost="80")
    return {
        "bj": bj,
        "tj": tj,
        "bj_main": bj_main,
        "bj_quick": bj_quick,
        "tj_main": tj_main,
        "oil": oil,
        "pad": pad,
        "bj_clerk": demo_org["bj01-parts"],
        "bj_manager": demo_org["bj01-svcmgr"],
        "tj_clerk": demo_org["tj01-parts"],
        "tj_manager": demo_org["tj01-svcmgr"],
        "sh_clerk": demo_org["sh01-parts"],
    }


def _item(warehouse, part):
    return StockItem.objects.get(warehouse=warehouse, part=part)


def test_within_one_dealer_it_is_approved_at_once_and_moves_the_units(net):
    transfer = transfer_request(
        actor=net["bj_clerk"],
        from_warehouse=net["bj_main"],
        to_warehouse=net["bj_quick"],
        lines=[(net["oil"], 3)],
    )
    assert transfer.status == TransferStatus.APPROVED
    assert transfer.number.startswith("TR-BJ01-")
    transfer_ship(actor=net["bj_clerk"], transfer=transfer)
    assert _item(net["bj_main"], net["oil"]).on_hand == D("7")
    assert _item(net["bj_quick"], net["oil"]).in_transit == D("3")
    transfer_receive(
        actor=net["bj_clerk"],
        transfer=transfer,
        bins={transfer.lines.get(): bin_of(net["bj_quick"], "Q-01")},
    )
    quick = _item(net["bj_quick"], net["oil"])
    assert (quick.on_hand, quick.in_transit, quick.avg_cost) == (D("3"), D("0"), D("50"))
    assert StockMove.objects.get(kind=MoveKind.TRANSFER_IN).bin.code == "Q-01"
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.RECEIVED
    assert stock.ledger_mismatches() == []


def test_between_dealers_the_sender_approves_and_the_cost_moves_with_the_units(net):
    # given Tianjin asks Beijing for 4 oil filters (Beijing's average 50, Tianjin's 80)
    transfer = transfer_request(
        actor=net["tj_clerk"],
        from_warehouse=net["bj_main"],
        to_warehouse=net["tj_main"],
        lines=[(net["oil"], 4)],
        note="急用",
    )
    assert transfer.status == TransferStatus.REQUESTED
    assert transfer.number.startswith("TR-TJ01-")
    # the receiving side cannot approve or ship it
    with pytest.raises(PermissionDenied):
        transfer_approve(actor=net["tj_manager"], transfer=transfer)
    with pytest.raises(Conflict):
        transfer_ship(actor=net["bj_clerk"], transfer=transfer)  # not approved yet
    # when Beijing's manager approves and its clerk ships
    transfer_approve(actor=net["bj_manager"], transfer=transfer)
    with pytest.raises(PermissionDenied):
        transfer_ship(actor=net["tj_clerk"], transfer=transfer)
    transfer_ship(actor=net["bj_clerk"], transfer=transfer)
    line = transfer.lines.get()
    assert line.unit_cost == D("50")
    assert _item(net["tj_main"], net["oil"]).in_transit == D("4")
    with pytest.raises(PermissionDenied):
        transfer_receive(actor=net["bj_clerk"], transfer=transfer)
    # and Tianjin receives
    transfer_receive(actor=net["tj_clerk"], transfer=transfer)
    tj = _item(net["tj_main"], net["oil"])
    assert tj.on_hand == D("14")
    assert tj.in_transit == D("0")
    assert tj.avg_cost == D("71.4286")  # (10 x 80 + 4 x 50) / 14
    assert _item(net["bj_main"], net["oil"]).on_hand == D("6")
    assert stock.ledger_mismatches() == []


def test_rejected_transfer_moves_nothing(net):
    transfer = transfer_request(
        actor=net["tj_clerk"],
        from_warehouse=net["bj_main"],
        to_warehouse=net["tj_main"],
        lines=[(net["oil"], 4)],
    )
    transfer_reject(actor=net["bj_manager"], transfer=transfer, reason="自用不足")
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.REJECTED
    assert "自用不足" in transfer.note
    with pytest.raises(Conflict) as refused:
        transfer_ship(actor=net["bj_clerk"], transfer=transfer)
    assert refused.value.code == "illegal_transition"
    assert not StockMove.objects.filter(kind=MoveKind.TRANSFER_OUT).exists()


def test_short_stock_is_refused_with_the_available_quantity_and_nothing_posted(net):
    transfer = transfer_request(
        actor=net["bj_clerk"],
        from_warehouse=net["bj_main"],
        to_warehouse=net["bj_quick"],
        lines=[(net["oil"], 3), (net["pad"], 5)],
    )
    moves_before = StockMove.objects.count()
    with pytest.raises(stock.InsufficientStock) as short:
        transfer_ship(actor=net["bj_clerk"], transfer=transfer)
    assert "2" in str(short.value.message) and net["pad"].number in str(short.value.message)
    assert StockMove.objects.count() == moves_before
    assert _item(net["bj_main"], net["oil"]).on_hand == D("10")
    assert not StockItem.objects.filter(warehouse=net["bj_quick"], in_transit__gt=0).exists()
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.APPROVED


def test_reserved_units_are_not_shipped(net):
    stock.reserve(
        actor=net["bj_clerk"],
        warehouse=net["bj_main"],
        part=net["oil"],
        quantity=8,
        key="ro-1",
        doc=stock.Doc(type="test"),
    )
    transfer = transfer_request(
        actor=net["bj_clerk"],
        from_warehouse=net["bj_main"],
        to_warehouse=net["bj_quick"],
        lines=[(net["oil"], 3)],
    )
    with pytest.raises(stock.InsufficientStock):
        transfer_ship(actor=net["bj_clerk"], transfer=transfer)


def test_shipping_or_receiving_twice_is_refused_and_posts_once(net):
    transfer = transfer_request(
        actor=net["bj_clerk"],
        from_warehouse=net["bj_main"],
        to_warehouse=net["bj_quick"],
        lines=[(net["oil"], 3)],
    )
    transfer_ship(actor=net["bj_clerk"], transfer=transfer)
    with pytest.raises(Conflict):
        transfer_ship(actor=net["bj_clerk"], transfer=transfer)
    with pytest.raises(Conflict):
        transfer_cancel(actor=net["bj_clerk"], transfer=transfer)  # already shipped
    transfer_receive(actor=net["bj_clerk"], transfer=transfer)
    with pytest.raises(Conflict):
        transfer_receive(actor=net["bj_clerk"], transfer=transfer)
    assert StockMove.objects.filter(kind=MoveKind.TRANSFER_OUT).count() == 1
    assert StockMove.objects.filter(kind=MoveKind.TRANSFER_IN).count() == 1
    assert _item(net["bj_quick"], net["oil"]).on_hand == D("3")


def test_bad_requests_are_refused(net):
    with pytest.raises(ValidationFailed):
        transfer_request(
            actor=net["bj_clerk"],
            from_warehouse=net["bj_main"],
            to_warehouse=net["bj_main"],
            lines=[(net["oil"], 1)],
        )
    with pytest.raises(ValidationFailed):
        transfer_request(
            actor=net["bj_clerk"],
            from_warehouse=net["bj_main"],
            to_warehouse=net["bj_quick"],
            lines=[],
        )
    with pytest.raises(ValidationFailed):
        transfer_request(
            actor=net["bj_clerk"],
            from_warehouse=net["bj_main"],
            to_warehouse=net["bj_quick"],
            lines=[(net["oil"], 0)],
        )
    # Beijing cannot ask on Tianjin's behalf
    with pytest.raises(PermissionDenied):
        transfer_request(
            actor=net["bj_clerk"],
            from_warehouse=net["bj_main"],
            to_warehouse=net["tj_main"],
            lines=[(net["oil"], 1)],
        )
    assert not Transfer.objects.exists()


def test_cancel_before_shipping(net):
    transfer = transfer_request(
        actor=net["tj_clerk"],
        from_warehouse=net["bj_main"],
        to_warehouse=net["tj_main"],
        lines=[(net["oil"], 1)],
    )
    with pytest.raises(PermissionDenied):
        transfer_cancel(actor=net["sh_clerk"], transfer=transfer)
    transfer_cancel(actor=net["tj_clerk"], transfer=transfer)
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.CANCELLED


# ---------------------------------------------------------------- API


def _post(client, name, pk=None, data=None, **headers):
    url = reverse(name, kwargs={"pk": pk} if pk else None)
    return client.post(url, data or {}, content_type="application/json", headers=headers)


def test_api_between_dealers_end_to_end(client, net):
    client.force_login(net["tj_clerk"])
    body = {
        "from_warehouse": net["bj_main"].pk,
        "to_warehouse": net["tj_main"].pk,
        "lines": [{"part": net["oil"].number, "quantity": "2"}],
    }
    first = _post(client, "api:transfer-list", data=body, **{"Idempotency-Key": "k-1"})
    again = _post(client, "api:transfer-list", data=body, **{"Idempotency-Key": "k-1"})
    assert first.status_code == 201, first.content
    assert again.json()["id"] == first.json()["id"]
    assert Transfer.objects.count() == 1
    pk = first.json()["id"]
    assert first.json()["status"] == "requested"
    assert _post(client, "api:transfer-approve", pk).status_code == 403
    client.force_login(net["bj_manager"])
    assert client.get(reverse("api:transfer-list") + "?direction=outgoing").json()["count"] == 1
    assert client.get(reverse("api:transfer-list") + "?direction=incoming").json()["count"] == 0
    assert _post(client, "api:transfer-approve", pk).json()["status"] == "approved"
    shipped = _post(client, "api:transfer-ship", pk)
    assert shipped.json()["status"] == "in_transit"
    assert _post(client, "api:transfer-ship", pk).status_code == 409
    client.force_login(net["tj_clerk"])
    line_id = shipped.json()["lines"][0]["id"]
    received = _post(
        client,
        "api:transfer-receive",
        pk,
        {"bins": {str(line_id): bin_of(net["tj_main"], "T-02").barcode}},
    )
    assert received.status_code == 200, received.content
    assert received.json()["lines"][0]["received"] == "2.00"
    assert StockMove.objects.get(kind=MoveKind.TRANSFER_IN).bin.code == "T-02"


def test_api_third_dealer_gets_404(client, net):
    transfer = transfer_request(
        actor=net["tj_clerk"],
        from_warehouse=net["bj_main"],
        to_warehouse=net["tj_main"],
        lines=[(net["oil"], 1)],
    )
    client.force_login(net["sh_clerk"])
    assert client.get(reverse("api:transfer-detail", kwargs={"pk": transfer.pk})).status_code == 404
    assert _post(client, "api:transfer-cancel", transfer.pk).status_code == 404
    assert client.get(reverse("api:transfer-list")).json()["count"] == 0
    # both ends see it
    for user in (net["bj_clerk"], net["tj_clerk"]):
        client.force_login(user)
        assert (
            client.get(reverse("api:transfer-detail", kwargs={"pk": transfer.pk})).status_code
            == 200
        )


def test_api_short_stock_answers_409_with_the_available_quantity(client, net):
    transfer = transfer_request(
        actor=net["bj_clerk"],
        from_warehouse=net["bj_main"],
        to_warehouse=net["bj_quick"],
        lines=[(net["pad"], 5)],
    )
    client.force_login(net["bj_clerk"])
    response = _post(client, "api:transfer-ship", transfer.pk)
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert "2" in response.json()["message"]


def test_api_list_keeps_a_fixed_number_of_queries(client, net, django_assert_max_num_queries):
    for n in range(4):
        transfer_request(
            actor=net["bj_clerk"],
            from_warehouse=net["bj_main"],
            to_warehouse=net["bj_quick"],
            lines=[(net["oil"], n + 1), (net["pad"], 1)],
        )
    client.force_login(net["bj_clerk"])
    with django_assert_max_num_queries(10):
        response = client.get(reverse("api:transfer-list"))
    assert response.json()["count"] == 4


# ---------------------------------------------------------------- pages


def test_pages_list_tabs_request_and_act(client, net, django_assert_max_num_queries):
    client.force_login(net["tj_clerk"])
    response = client.post(
        reverse("transfer-request"),
        {
            "from_warehouse": net["bj_main"].pk,
            "to_warehouse": net["tj_main"].pk,
            "part": [net["oil"].number],
            "quantity": ["3"],
            "note": "",
            "idempotency_key": "form-1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    transfer = Transfer.objects.get()
    # a resubmitted form acts once
    client.post(
        reverse("transfer-request"),
        {
            "from_warehouse": net["bj_main"].pk,
            "to_warehouse": net["tj_main"].pk,
            "part": [net["oil"].number],
            "quantity": ["3"],
            "idempotency_key": "form-1",
        },
    )
    assert Transfer.objects.count() == 1
    incoming = client.get(reverse("transfer-list") + "?tab=incoming")
    assert transfer.number in incoming.content.decode()
    outgoing = client.get(reverse("transfer-list") + "?tab=outgoing")
    assert transfer.number not in outgoing.content.decode()
    client.force_login(net["bj_manager"])
    detail = client.get(reverse("transfer-detail", kwargs={"pk": transfer.pk}))
    assert reverse("transfer-action", kwargs={"pk": transfer.pk, "step": "approve"}) in (
        detail.content.decode()
    )
    client.post(reverse("transfer-action", kwargs={"pk": transfer.pk, "step": "approve"}))
    client.post(reverse("transfer-action", kwargs={"pk": transfer.pk, "step": "ship"}))
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.IN_TRANSIT
    with django_assert_max_num_queries(15):
        client.get(reverse("transfer-list"))
    client.force_login(net["sh_clerk"])
    assert client.get(reverse("transfer-detail", kwargs={"pk": transfer.pk})).status_code == 404


def test_a_dealer_cannot_ask_a_dealer_of_another_region(net, client):
    sh = Dealer.objects.get(code="SH01")  # region EAST; BJ01 and TJ01 are NORTH
    sh_main = make_warehouse(dealer=sh, code="MAIN", bins=("S-01",))
    stock_up(warehouse=sh_main, part=net["oil"], quantity=5)
    # when BJ01 asks SH01 for parts, it is refused and nothing is created
    with pytest.raises(ValidationFailed) as refused:
        transfer_request(
            actor=net["bj_clerk"],
            from_warehouse=sh_main,
            to_warehouse=net["bj_main"],
            lines=[(net["oil"], 1)],
        )
    assert "from_warehouse" in refused.value.fields
    assert not Transfer.objects.exists()
    # and the request page offers the region's warehouses only
    client.force_login(net["bj_clerk"])
    form = client.get(reverse("transfer-request")).context["form"]
    offered = {w.dealer.code for w in form.fields["from_warehouse"].queryset}
    assert offered == {"BJ01", "TJ01"}
