"""Stocktakes: snapshot, counting, reconciliation of movements during the count, approval."""

from decimal import Decimal

import pytest
from django.urls import reverse

from aftersales.core.errors import Conflict, PermissionDenied, ValidationFailed
from aftersales.org.models import Dealer
from aftersales.parts import stock
from aftersales.parts.choices import MoveKind, StocktakeStatus
from aftersales.parts.models import StockItem, StockMove, Stocktake
from aftersales.parts.stocktake import (
    stocktake_approve,
    stocktake_cancel,
    stocktake_count,
    stocktake_reopen,
    stocktake_start,
    stocktake_submit,
)
from aftersales.parts.testing import bin_of, make_part, make_warehouse, stock_up

D = Decimal


@pytest.fixture
def store(demo_org):
    dealer = Dealer.objects.get(code="BJ01")
    warehouse = make_warehouse(dealer=dealer, bins=("A-01", "A-02", "B-01"))
    oil, pad = make_part(barcode="6901234567001"), make_part()
    stock_up(
        warehouse=warehouse, part=oil, quantity=10, unit_cost="50", bin=bin_of(warehouse, "A-01")
    )
    stock_up(
        warehouse=warehouse, part=pad, quantity=4, unit_cost="200", bin=bin_of(warehouse, "A-02")
    )
    return {
        "dealer": dealer,
        "warehouse": warehouse,
        "oil": oil,
        "pad": pad,
        "a1": bin_of(warehouse, "A-01"),
        "a2": bin_of(warehouse, "A-02"),
        "b1": bin_of(warehouse, "B-01"),
        "clerk": demo_org["bj01-parts"],
        "manager": demo_org["bj01-svcmgr"],
        "advisor": demo_org["bj01-sa"],
        "other_clerk": demo_org["sh01-parts"],
    }


def _issue(s, part, quantity, key):
    return stock.issue(
        actor=s["clerk"],
        warehouse=s["warehouse"],
        part=part,
        quantity=quantity,
        posting_key=key,
        doc=stock.Doc(type="test"),
    )


def _on_hand(s, part):
    return StockItem.objects.get(warehouse=s["warehouse"], part=part).on_hand


def test_start_snapshots_every_bin_row_with_the_ledger_position(store):
    # given stock in two bins
    last = StockMove.objects.latest("id").id
    # when a count of the whole warehouse starts
    st = stocktake_start(actor=store["clerk"], warehouse=store["warehouse"])
    # then each bin row is a line expecting its on-hand, at the ledger's last id
    lines = {(line.bin.code, line.item.part_id): line for line in st.lines.all()}
    assert set(lines) == {("A-01", store["oil"].pk), ("A-02", store["pad"].pk)}
    assert lines[("A-01", store["oil"].pk)].expected == D("10")
    assert {line.snapshot_move_id for line in lines.values()} == {last}
    assert st.number.startswith("ST-BJ01-")
    assert st.status == StocktakeStatus.COUNTING


def test_start_of_chosen_bins_takes_only_those(store):
    st = stocktake_start(actor=store["clerk"], warehouse=store["warehouse"], bins=[store["a2"]])
    assert [line.bin.code for line in st.lines.all()] == ["A-02"]


def test_one_open_count_per_warehouse_or_bin(store):
    # given a count of bin A-01 is open
    stocktake_start(actor=store["clerk"], warehouse=store["warehouse"], bins=[store["a1"]])
    # when another count of the whole warehouse or of A-01 starts: refused
    with pytest.raises(Conflict) as whole:
        stocktake_start(actor=store["clerk"], warehouse=store["warehouse"])
    assert whole.value.code == "stocktake_open"
    with pytest.raises(Conflict):
        stocktake_start(actor=store["clerk"], warehouse=store["warehouse"], bins=[store["a1"]])
    # but a count of another bin may run beside it
    other = stocktake_start(actor=store["clerk"], warehouse=store["warehouse"], bins=[store["a2"]])
    assert other.status == StocktakeStatus.COUNTING
    assert Stocktake.objects.count() == 2


def test_a_cancelled_count_frees_the_warehouse(store):
    first = stocktake_start(actor=store["clerk"], warehouse=store["warehouse"])
    stocktake_cancel(actor=store["clerk"], stocktake=first)
    second = stocktake_start(actor=store["clerk"], warehouse=store["warehouse"])
    assert second.pk != first.pk


def test_start_needs_the_permission_at_the_dealer(store):
    with pytest.raises(PermissionDenied):
        stocktake_start(actor=store["other_clerk"], warehouse=store["warehouse"])
    with pytest.raises(PermissionDenied):
        stocktake_start(actor=store["advisor"], warehouse=store["warehouse"])
    assert not Stocktake.objects.exists()


def test_scans_add_up_and_a_typed_count_overwrites(store):
    st = stocktake_start(actor=store["clerk"], warehouse=store["warehouse"])
    for _ in range(3):
        line = stocktake_count(
            actor=store["clerk"], stocktake=st, bin=store["a1"], part=store["oil"], add=1
        )
    assert line.counted == D("3")
    line = stocktake_count(
        actor=store["clerk"], stocktake=st, bin=store["a1"], part=store["oil"], counted=9
    )
    line = stocktake_count(
        actor=store["clerk"], stocktake=st, bin=store["a1"], part=store["oil"], counted="8"
    )
    line.refresh_from_db()
    assert line.counted == D("8")
    assert line.counted_by == store["clerk"]
    assert st.lines.count() == 2  # overwriting added no line


def test_a_part_found_where_the_sheet_has_none_adds_a_line(store):
    st = stocktake_start(actor=store["clerk"], warehouse=store["warehouse"])
    line = stocktake_count(
        actor=store["clerk"], stocktake=st, bin=store["b1"], part=store["pad"], counted=2
    )
    assert line.expected == D("0")
    assert st.lines.count() == 3


def test_bad_counts_are_refused_and_change_nothing(store):
    st = stocktake_start(actor=store["clerk"], warehouse=store["warehouse"], bins=[store["a1"]])
    with pytest.raises(ValidationFailed):
        stocktake_count(
            actor=store["clerk"], stocktake=st, bin=store["a1"], part=store["oil"], counted=-1
        )
    with pytest.raises(ValidationFailed):
        stocktake_count(
            actor=store["clerk"], stocktake=st, bin=store["a1"], part=store["oil"], counted="x"
        )
    with pytest.raises(ValidationFailed) as outside:
        stocktake_count(
            actor=store["clerk"], stocktake=st, bin=store["a2"], part=store["pad"], counted=1
        )
    assert "A-02" in str(outside.value.message)
    assert not st.lines.filter(counted__isnull=False).exists()
    assert st.lines.count() == 1


def test_movement_between_snapshot_and_count_is_reconciled(store):
    # given a sheet expecting 10 oil filters in A-01
    st = stocktake_start(actor=store["clerk"], warehouse=store["warehouse"], bins=[store["a1"]])
    # when the workshop takes 2 before the counter gets there, who then finds 8
    _issue(store, store["oil"], 2, "ro-1")
    stocktake_count(
        actor=store["clerk"], stocktake=st, bin=store["a1"], part=store["oil"], counted=8
    )
    # and 3 more are received after the count
    stock_up(warehouse=store["warehouse"], part=store["oil"], quantity=3, bin=store["a1"])
    stocktake_submit(actor=store["clerk"], stocktake=st)
    stocktake_approve(actor=store["manager"], stocktake=st)
    # then nothing is written off and the receipt after the count is kept
    line = st.lines.get()
    assert line.moved_since == D("-2")
    assert line.variance == D("0")
    assert not StockMove.objects.filter(kind=MoveKind.STOCKTAKE).exists()
    assert _on_hand(store, store["oil"]) == D("11")
    assert stock.ledger_mismatches() == []


def test_approval_posts_exact_variances_and_the_books_still_agree(store):
    st = stocktake_start(actor=store["clerk"], warehouse=store["warehouse"])
    # a unit issued after the snapshot, then the count shows 6 of the 9 left
    _issue(store, store["oil"], 1, "ro-2")
    stocktake_count(
        actor=store["clerk"], stocktake=st, bin=store["a1"], part=store["oil"], counted=6
    )
    # two more pads than expected, and one found in a bin it should not be in
    stocktake_count(
        actor=store["clerk"], stocktake=st, bin=store["a2"], part=store["pad"], counted=6
    )
    stocktake_count(
        actor=store["clerk"], stocktake=st, bin=store["b1"], part=store["pad"], counted=1
    )
    # an issue after the count does not change the variance
    _issue(store, store["oil"], 1, "ro-3")
    stocktake_submit(actor=store["clerk"], stocktake=st)
    st = stocktake_approve(actor=store["manager"], stocktake=st)
    moves = {
        (m.bin.code, m.part_id): m.quantity
        for m in StockMove.objects.filter(kind=MoveKind.STOCKTAKE).select_related("bin")
    }
    assert moves == {
        ("A-01", store["oil"].pk): D("-3"),
        ("A-02", store["pad"].pk): D("2"),
        ("B-01", store["pad"].pk): D("1"),
    }
    assert _on_hand(store, store["oil"]) == D("5")  # 10 - 1 - 3 - 1
    assert _on_hand(store, store["pad"]) == D("7")
    # count gains come in at the average cost
    gain = StockMove.objects.get(kind=MoveKind.STOCKTAKE, bin=store["a2"])
    assert gain.unit_cost == D("200")
    assert st.status == StocktakeStatus.APPROVED
    assert st.approved_by == store["manager"]
    assert stock.ledger_mismatches() == []


def test_approval_twice_is_refused_and_posts_once(store):
    st = stocktake_start(actor=store["clerk"], warehouse=store["warehouse"], bins=[store["a1"]])
    stocktake_count(
        actor=store["clerk"], stocktake=st, bin=store["a1"], part=store["oil"], counted=7
    )
    stocktake_submit(actor=store["clerk"], stocktake=st)
    stocktake_approve(actor=store["manager"], stocktake=st)
    with pytest.raises(Conflict) as again:
        stocktake_approve(actor=store["manager"], stocktake=st)
    assert again.value.code == "illegal_transition"
    assert StockMove.objects.filter(kind=MoveKind.STOCKTAKE).count() == 1
    assert _on_hand(store, store["oil"]) == D("7")


def test_a_loss_bigger_than_the_bin_now_holds_is_refused_naming_the_line(store):
    st = stocktake_start(actor=store["clerk"], warehouse=store["warehouse"], bins=[store["a1"]])
    # counted 2 of 10 (8 missing), then 5 issued after the count: the bin holds 5 now
    stocktake_count(
        actor=store["clerk"], stocktake=st, bin=store["a1"], part=store["oil"], counted=2
    )
    _issue(store, store["oil"], 5, "ro-4")
    stocktake_submit(actor=store["clerk"], stocktake=st)
    with pytest.raises(Conflict) as refused:
        stocktake_approve(actor=store["manager"], stocktake=st)
    assert store["oil"].number in str(refused.value.message)
    assert "A-01" in str(refused.value.message)
    st.refresh_from_db()
    assert st.status == StocktakeStatus.REVIEW
    assert not StockMove.objects.filter(kind=MoveKind.STOCKTAKE).exists()


def test_a_loss_of_reserved_units_shrinks_the_reservation(store):
    stock.reserve(
        actor=store["clerk"],
        warehouse=store["warehouse"],
        part=store["oil"],
        quantity=9,
        key="ro-9",
        doc=stock.Doc(type="test"),
    )
    st = stocktake_start(actor=store["clerk"], warehouse=store["warehouse"], bins=[store["a1"]])
    stocktake_count(
        actor=store["clerk"], stocktake=st, bin=store["a1"], part=store["oil"], counted=4
    )
    stocktake_submit(actor=store["clerk"], stocktake=st)
    stocktake_approve(actor=store["manager"], stocktake=st)
    item = StockItem.objects.get(warehouse=store["warehouse"], part=store["oil"])
    assert (item.on_hand, item.reserved) == (D("4"), D("4"))
    assert stock.ledger_mismatches() == []


def test_submit_refuses_uncounted_lines_unless_told_they_are_zero(store):
    st = stocktake_start(actor=store["clerk"], warehouse=store["warehouse"])
    stocktake_count(
        actor=store["clerk"], stocktake=st, bin=store["a1"], part=store["oil"], counted=10
    )
    with pytest.raises(Conflict) as refused:
        stocktake_submit(actor=store["clerk"], stocktake=st)
    assert refused.value.code == "uncounted_lines"
    st.refresh_from_db()
    assert st.status == StocktakeStatus.COUNTING
    stocktake_submit(actor=store["clerk"], stocktake=st, uncounted_as_zero=True)
    stocktake_approve(actor=store["manager"], stocktake=st)
    assert _on_hand(store, store["pad"]) == D("0")
    assert _on_hand(store, store["oil"]) == D("10")
    assert stock.ledger_mismatches() == []


def test_illegal_transitions_are_refused(store):
    st = stocktake_start(actor=store["clerk"], warehouse=store["warehouse"], bins=[store["a1"]])
    with pytest.raises(Conflict):
        stocktake_approve(actor=store["manager"], stocktake=st)  # still counting
    with pytest.raises(Conflict):
        stocktake_reopen(actor=store["clerk"], stocktake=st)  # not in review
    stocktake_count(
        actor=store["clerk"], stocktake=st, bin=store["a1"], part=store["oil"], counted=1
    )
    stocktake_submit(actor=store["clerk"], stocktake=st)
    with pytest.raises(Conflict) as in_review:
        stocktake_count(
            actor=store["clerk"], stocktake=st, bin=store["a1"], part=store["oil"], counted=2
        )
    assert in_review.value.code == "not_counting"
    stocktake_reopen(actor=store["clerk"], stocktake=st)
    stocktake_count(
        actor=store["clerk"], stocktake=st, bin=store["a1"], part=store["oil"], counted=2
    )
    stocktake_cancel(actor=store["clerk"], stocktake=st)
    with pytest.raises(Conflict):
        stocktake_submit(actor=store["clerk"], stocktake=st)
    with pytest.raises(PermissionDenied):
        stocktake_approve(actor=store["clerk"], stocktake=st)  # clerks do not approve


def test_every_step_is_audited(store):
    from aftersales.core.models import AuditLog

    st = stocktake_start(actor=store["clerk"], warehouse=store["warehouse"], bins=[store["a1"]])
    stocktake_count(
        actor=store["clerk"], stocktake=st, bin=store["a1"], part=store["oil"], counted=3
    )
    stocktake_count(
        actor=store["clerk"], stocktake=st, bin=store["a1"], part=store["oil"], counted=4
    )
    stocktake_submit(actor=store["clerk"], stocktake=st)
    entries = AuditLog.objects.filter(object_id=str(st.pk), content_type__model="stocktake")
    assert entries.count() == 4
    assert any(e.changes.get("count", {}).get("counted") == ["3.00", "4.00"] for e in entries)


# ---------------------------------------------------------------- API


def _api(client, user):
    client.force_login(user)
    return client


def test_api_count_by_scanned_labels_and_approve(client, store):
    st = stocktake_start(actor=store["clerk"], warehouse=store["warehouse"], bins=[store["a1"]])
    api = _api(client, store["clerk"])
    url = reverse("api:stocktake-count", kwargs={"pk": st.pk})
    for _ in range(2):
        response = api.post(
            url,
            {"bin": store["a1"].barcode, "part": store["oil"].barcode, "add": "1"},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
    assert response.json()["counted"] == "2.00"
    response = api.post(
        url,
        {"bin": "a-01", "part": store["oil"].number, "counted": "9"},
        content_type="application/json",
    )
    assert response.json()["counted"] == "9.00"
    unknown = api.post(
        url,
        {"bin": "Z-99", "part": store["oil"].number, "counted": "1"},
        content_type="application/json",
    )
    assert unknown.status_code == 400
    assert "bin" in unknown.json()["fields"]
    assert api.post(reverse("api:stocktake-submit", kwargs={"pk": st.pk})).status_code == 200
    refused = api.post(reverse("api:stocktake-approve", kwargs={"pk": st.pk}))
    assert refused.status_code == 403
    manager = _api(client, store["manager"])
    done = manager.post(reverse("api:stocktake-approve", kwargs={"pk": st.pk}))
    assert done.status_code == 200
    assert done.json()["status"] == "approved"
    again = manager.post(reverse("api:stocktake-approve", kwargs={"pk": st.pk}))
    assert again.status_code == 409
    assert again.json()["code"] == "illegal_transition"
    assert _on_hand(store, store["oil"]) == D("9")


def test_api_start_with_bins(client, store):
    api = _api(client, store["clerk"])
    response = api.post(
        reverse("api:stocktake-list"),
        {"warehouse": store["warehouse"].pk, "bins": [store["a2"].pk], "blind": False},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["number"].startswith("ST-")
    again = api.post(
        reverse("api:stocktake-list"),
        {"warehouse": store["warehouse"].pk, "bins": [store["a2"].pk]},
        content_type="application/json",
    )
    assert again.status_code == 409


def test_api_other_dealer_gets_404(client, store):
    st = stocktake_start(actor=store["clerk"], warehouse=store["warehouse"])
    api = _api(client, store["other_clerk"])
    assert api.get(reverse("api:stocktake-detail", kwargs={"pk": st.pk})).status_code == 404
    response = api.post(
        reverse("api:stocktake-count", kwargs={"pk": st.pk}),
        {"bin": "A-01", "part": store["oil"].number, "counted": "1"},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_api_list_has_a_fixed_number_of_queries(client, store, django_assert_max_num_queries):
    api = _api(client, store["clerk"])
    st = stocktake_start(actor=store["clerk"], warehouse=store["warehouse"], bins=[store["a1"]])
    stocktake_cancel(actor=store["clerk"], stocktake=st)
    for code in ("A-01", "A-02", "B-01"):
        st = stocktake_start(
            actor=store["clerk"],
            warehouse=store["warehouse"],
            bins=[bin_of(store["warehouse"], code)],
        )
    with django_assert_max_num_queries(12):
        response = api.get(reverse("api:stocktake-list"))
    assert response.json()["count"] == 4


# ---------------------------------------------------------------- pages


def test_blind_count_sheet_hides_the_expected_quantity(client, store):
    store["oil"].__class__.objects.filter(pk=store["oil"].pk).update(name="机滤")
    stock_up(warehouse=store["warehouse"], part=store["pad"], quantity=7777, bin=store["b1"])
    blind = stocktake_start(actor=store["clerk"], warehouse=store["warehouse"], bins=[store["b1"]])
    client.force_login(store["clerk"])
    page = client.get(reverse("stocktake-count", kwargs={"pk": blind.pk}))
    assert page.status_code == 200
    assert store["pad"].number in page.content.decode()
    assert "7777" not in page.content.decode() and "7,777" not in page.content.decode()
    stocktake_cancel(actor=store["clerk"], stocktake=blind)
    open_ = stocktake_start(
        actor=store["clerk"], warehouse=store["warehouse"], bins=[store["b1"]], blind=False
    )
    page = client.get(reverse("stocktake-count", kwargs={"pk": open_.pk}))
    assert "7777" in page.content.decode() or "7,777" in page.content.decode()


def test_page_scan_adds_one_and_review_shows_variance(client, store):
    st = stocktake_start(actor=store["clerk"], warehouse=store["warehouse"], bins=[store["a1"]])
    client.force_login(store["clerk"])
    url = reverse("stocktake-count", kwargs={"pk": st.pk})
    client.post(url, {"bin": store["a1"].barcode, "code": store["oil"].barcode})
    client.post(url, {"bin": store["a1"].barcode, "code": store["oil"].barcode})
    line = st.lines.get()
    assert line.counted == D("2")
    client.post(url, {"bin": store["a1"].barcode, "code": store["oil"].number, "quantity": "7"})
    line.refresh_from_db()
    assert line.counted == D("7")
    response = client.post(reverse("stocktake-action", kwargs={"pk": st.pk, "step": "submit"}))
    assert response.status_code == 302
    client.force_login(store["manager"])
    review = client.get(reverse("stocktake-detail", kwargs={"pk": st.pk}))
    assert review.status_code == 200
    assert "-3" in review.content.decode()
    assert "-150.00" in review.content.decode()  # 3 x 50


def test_list_page_and_start_form(client, store, django_assert_max_num_queries):
    client.force_login(store["clerk"])
    response = client.post(
        reverse("stocktake-start"),
        {"warehouse": store["warehouse"].pk, "bins": [store["a1"].pk], "blind": "on"},
    )
    assert response.status_code == 302
    st = Stocktake.objects.get()
    assert list(st.bins.all()) == [store["a1"]]
    with django_assert_max_num_queries(15):
        page = client.get(reverse("stocktake-list"))
    assert st.number in page.content.decode()


def test_api_blind_count_hides_expected_until_review(client, store):
    st = stocktake_start(actor=store["clerk"], warehouse=store["warehouse"], bins=[store["a1"]])
    api = _api(client, store["clerk"])
    url = reverse("api:stocktake-detail", kwargs={"pk": st.pk})
    line = api.get(url).json()["lines"][0]
    assert line["expected"] is None and line["variance"] is None
    stocktake_count(
        actor=store["clerk"], stocktake=st, bin=store["a1"], part=store["oil"], counted=7
    )
    stocktake_submit(actor=store["clerk"], stocktake=st)
    line = api.get(url).json()["lines"][0]
    assert (line["expected"], line["variance"]) == ("10.00", "-3.00")
