"""The stock ledger (``aftersales/parts/stock.py``): postings, moving-average cost, bins,
reservations, idempotency, and the database's own refusals (CHECK constraints, the
append-only trigger), with ``ledger_mismatches`` proving the books after each story."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone, translation

from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.org.models import Dealer, Oem, Region
from aftersales.parts import stock
from aftersales.parts.choices import MoveKind, ReservationStatus
from aftersales.parts.models import (
    AppendOnlyError,
    BinStock,
    PartDemand,
    Reservation,
    StockItem,
    StockMove,
)
from aftersales.parts.stock import Doc, InsufficientStock
from aftersales.parts.testing import bin_of, make_part, make_warehouse

D = Decimal
A, B = "A-01-01", "A-01-02"


def make_dealer(code="BJ01"):
    oem, _ = Oem.objects.get_or_create(code="XC", defaults={"name": "XC"})
    region, _ = Region.objects.get_or_create(code="NORTH", defaults={"oem": oem, "name": "N"})
    dealer, _ = Dealer.objects.get_or_create(
        code=code, defaults={"region": region, "name": f"Dealer {code}"}
    )
    return dealer


@pytest.fixture
def shop(db):
    """A dealer's main warehouse with two bins (A-01-01, A-01-02) and one part."""
    warehouse = make_warehouse(dealer=make_dealer(), bins=(A, B))
    return {"warehouse": warehouse, "part": make_part(dealer_cost=D("80.00"))}


def post(shop, kind, quantity, key, **kw):
    """One posting in its own transaction, as a service would do it."""
    with transaction.atomic():
        item = stock.item_for(warehouse=shop["warehouse"], part=kw.pop("part", shop["part"]))
        return stock.post(
            item=item, kind=kind, quantity=D(str(quantity)), posting_key=key, actor=None, **kw
        )


def receive(shop, quantity, cost, key, bin_code=None, **kw):
    bin_ = bin_of(shop["warehouse"], bin_code) if bin_code else None
    return post(shop, MoveKind.RECEIPT, quantity, key, unit_cost=D(str(cost)), bin=bin_, **kw)


def issue(shop, quantity, key, **kw):
    return stock.issue(
        actor=None,
        warehouse=shop["warehouse"],
        part=shop["part"],
        quantity=str(quantity),
        posting_key=key,
        doc=Doc("RO", 1, "RO-1"),
        **kw,
    )


def item(shop, part=None) -> StockItem:
    return StockItem.objects.get(warehouse=shop["warehouse"], part=part or shop["part"])


def in_bin(shop, code) -> Decimal:
    return BinStock.objects.get(item=item(shop), bin__code=code).on_hand


def reserve(shop, quantity, key, **kw):
    return stock.reserve(
        actor=None,
        warehouse=shop["warehouse"],
        part=shop["part"],
        quantity=D(str(quantity)),
        key=key,
        doc=Doc("RO", 1, "RO-1"),
        **kw,
    )


# ---------------------------------------------------------------- postings and cost


def test_a_receipt_books_one_movement_into_the_named_bin(shop):
    # when 10 units arrive at 80 into bin A
    moves = receive(shop, 10, "80", "r1", A)
    # then one movement says so, the balance and the bin follow, the bin becomes the default
    (move,) = moves
    assert (move.kind, move.quantity, move.unit_cost) == (MoveKind.RECEIPT, D("10"), D("80"))
    assert (move.on_hand_after, move.avg_cost_after, move.bin.code) == (D("10"), D("80"), A)
    got = item(shop)
    assert (got.on_hand, got.reserved, got.avg_cost, got.default_bin.code) == (
        D("10"),
        D("0"),
        D("80"),
        A,
    )
    assert got.last_moved_at is not None
    assert in_bin(shop, A) == D("10")
    assert stock.ledger_mismatches() == []


def test_moving_average_cost_follows_receipts_and_ignores_issues(shop):
    # given 10 at 80 and 5 at 110: (800 + 550) / 15 = 90
    receive(shop, 10, "80", "r1", A)
    receive(shop, 5, "110", "r2", A)
    assert item(shop).avg_cost == D("90.0000")
    # when 3 are issued: they leave at the average, which does not change
    (out,) = issue(shop, 3, "i1")
    assert (out.quantity, out.unit_cost, out.avg_cost_after) == (D("-3"), D("90"), D("90"))
    # and 8 arrive at 95.50: (12 × 90 + 8 × 95.5) / 20 = 92.2
    receive(shop, 8, "95.50", "r3", A)
    assert item(shop).avg_cost == D("92.2000")
    # and 3 at 100: (20 × 92.2 + 300) / 23 = 93.217391… → 93.2174 (4 places, half up)
    receive(shop, 3, "100", "r4", A)
    got = item(shop)
    assert (got.on_hand, got.avg_cost) == (D("23"), D("93.2174"))
    assert stock.ledger_mismatches() == []


def test_first_receipt_without_cost_comes_in_at_the_catalogue_cost(shop):
    # when an adjustment adds stock to a warehouse that never had the part
    (move,) = post(shop, MoveKind.ADJUSTMENT, 4, "adj1", unit_cost=D("999"), reason="found")
    # then it is valued at the dealer cost, not at the cost the caller named
    assert move.unit_cost == D("80.00")
    assert (item(shop).avg_cost, move.reason) == (D("80.0000"), "found")


def test_gains_and_losses_by_adjustment_are_valued_at_the_average(shop):
    receive(shop, 10, "50", "r1", A)
    # when an adjustment adds 2 (claiming another cost) and another removes 3
    (gain,) = post(shop, MoveKind.ADJUSTMENT, 2, "adj+", unit_cost=D("1"))
    (loss,) = post(shop, MoveKind.ADJUSTMENT, -3, "adj-")
    # then both are at the average of 50, which stays
    assert (gain.unit_cost, loss.unit_cost, loss.quantity) == (D("50"), D("50"), D("-3"))
    assert (item(shop).on_hand, item(shop).avg_cost) == (D("9"), D("50"))


def test_a_return_comes_back_at_its_cost_and_lifts_the_balance(shop):
    receive(shop, 10, "100", "r1", A)
    issue(shop, 4, "i1")
    # when 2 of the issued units come back at 100
    (back,) = stock.return_to_stock(
        actor=None,
        warehouse=shop["warehouse"],
        part=shop["part"],
        quantity="2",
        posting_key="ret1",
        doc=Doc("RO", 1),
        unit_cost=D("100"),
    )
    # then the balance is 8 at an unchanged average
    assert (back.kind, back.quantity) == (MoveKind.RETURN, D("2"))
    assert (item(shop).on_hand, item(shop).avg_cost) == (D("8"), D("100"))


def test_transfers_out_and_in_carry_the_cost(shop):
    receive(shop, 10, "60", "r1", A)
    (out,) = post(shop, MoveKind.TRANSFER_OUT, -4, "t-out")
    (came,) = post(shop, MoveKind.TRANSFER_IN, 2, "t-in", unit_cost=D("90"))
    assert (out.unit_cost, came.unit_cost) == (D("60"), D("90"))
    # (6 × 60 + 2 × 90) / 8 = 67.5
    assert (item(shop).on_hand, item(shop).avg_cost) == (D("8"), D("67.5"))


def test_zero_and_non_numbers_are_refused_and_change_nothing(shop):
    receive(shop, 5, "80", "r1", A)
    with pytest.raises(ValidationFailed):
        post(shop, MoveKind.ADJUSTMENT, 0, "zero")
    with pytest.raises(ValidationFailed), translation.override("en"):
        issue(shop, "lots", "nan")
    with pytest.raises(ValidationFailed):
        issue(shop, "-2", "neg")
    with pytest.raises(ValidationFailed):
        receive(shop, 1, "-5", "negative-cost", A)
    assert item(shop).on_hand == D("5")
    assert StockMove.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_posting_outside_a_transaction_is_a_programming_error(shop):
    assert not connection.in_atomic_block
    with pytest.raises(RuntimeError):
        stock.item_for(warehouse=shop["warehouse"], part=shop["part"])


# ---------------------------------------------------------------- bins


def test_receipt_without_bin_goes_to_the_default_bin_then_unassigned(shop):
    # given an item with no default bin: the first receipt lands on UNASSIGNED
    (first,) = receive(shop, 3, "80", "r1")
    assert first.bin.code == stock.UNASSIGNED_BIN
    # and a part whose first receipt named bin B: later receipts follow it
    other = make_part()
    receive(shop, 2, "80", "r2", B, part=other)
    (later,) = receive(shop, 1, "80", "r3", part=other)
    assert later.bin.code == B
    assert item(shop, other).default_bin.code == B


def test_issue_takes_the_default_bin_first_then_splits_with_numbered_keys(shop):
    # given 2 in the default bin A and 10 in bin B
    receive(shop, 2, "80", "r1", A)
    receive(shop, 10, "80", "r2", B)
    # when 5 are issued without naming a bin
    moves = issue(shop, 5, "ro-7-line-1")
    # then A is emptied first, then B: one movement per bin, keys key and key#2
    assert [(m.bin.code, m.quantity, m.posting_key) for m in moves] == [
        (A, D("-2"), "ro-7-line-1"),
        (B, D("-3"), "ro-7-line-1#2"),
    ]
    assert [m.on_hand_after for m in moves] == [D("10"), D("7")]
    assert (in_bin(shop, A), in_bin(shop, B), item(shop).on_hand) == (D("0"), D("7"), D("7"))
    # and a retry of the same line returns both movements and takes nothing more
    again = issue(shop, 5, "ro-7-line-1")
    assert [m.pk for m in again] == [m.pk for m in moves]
    assert item(shop).on_hand == D("7")
    assert stock.ledger_mismatches() == []


def test_issue_from_a_named_bin_is_refused_beyond_what_it_holds(shop):
    receive(shop, 2, "80", "r1", A)
    receive(shop, 10, "80", "r2", B)
    # when 3 are asked from bin A that holds 2
    with pytest.raises(InsufficientStock) as refused, translation.override("en"):
        issue(shop, 3, "i1", bin=bin_of(shop["warehouse"], A))
    # then the refusal names the bin and its quantity, and nothing moved
    assert str(refused.value.message) == "Bin A-01-01 holds only 2."
    assert (in_bin(shop, A), in_bin(shop, B)) == (D("2"), D("10"))
    # while 2 from bin A are fine
    (move,) = issue(shop, 2, "i2", bin=bin_of(shop["warehouse"], A))
    assert move.bin.code == A


def test_a_bin_of_another_warehouse_is_refused(shop):
    elsewhere = make_warehouse(dealer=shop["warehouse"].dealer, code="QS", bins=("Q-01",))
    with pytest.raises(ValidationFailed), translation.override("en"):
        post(shop, MoveKind.RECEIPT, 1, "r1", unit_cost=D("80"), bin=bin_of(elsewhere, "Q-01"))
    assert not StockMove.objects.exists()


# ---------------------------------------------------------------- refusals of negative stock


def test_issuing_more_than_available_is_refused_with_the_available_quantity(shop):
    receive(shop, 6, "80", "r1", A)
    # when 7 are asked
    with pytest.raises(InsufficientStock) as refused, translation.override("en"):
        issue(shop, 7, "i1")
    # then the message states what is available, and nothing changed
    part = shop["part"].number
    assert str(refused.value.message) == (
        f"Not enough stock of {part}: 6 piece available, 7 asked."
    )
    assert refused.value.status == 409 and refused.value.code == "insufficient_stock"
    assert str(refused.value.fields["quantity"][0]) == "At most 6."
    assert (item(shop).on_hand, StockMove.objects.count()) == (D("6"), 1)
    # and the same key may be used again once it would fit
    (move,) = issue(shop, 6, "i1")
    assert item(shop).on_hand == D("0") and move.on_hand_after == D("0")


def test_the_database_refuses_a_negative_balance_written_behind_the_service(shop):
    receive(shop, 3, "80", "r1", A)
    # when somebody writes a negative on-hand with raw SQL, the CHECK constraint refuses
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE parts_stockitem SET on_hand = -1, reserved = 0")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE parts_binstock SET on_hand = -1")
    # and reserving more than is on hand is refused too
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE parts_stockitem SET reserved = on_hand + 1")
    assert (item(shop).on_hand, item(shop).reserved, in_bin(shop, A)) == (D("3"), 0, D("3"))


# ---------------------------------------------------------------- idempotency


def test_the_same_posting_key_twice_books_once(shop):
    first = receive(shop, 10, "80", "po-1-line-1", A)
    # when the same line is posted again (even with other figures: a retried request)
    again = receive(shop, 99, "1", "po-1-line-1", A)
    # then the first movements come back and nothing is doubled
    assert [m.pk for m in again] == [m.pk for m in first]
    assert (item(shop).on_hand, item(shop).avg_cost) == (D("10"), D("80"))
    assert StockMove.objects.count() == 1


# ---------------------------------------------------------------- reservations


def test_reserve_holds_available_stock_and_records_the_demand(shop):
    receive(shop, 10, "80", "r1", A)
    # when 4 are reserved for a repair-order line
    held = reserve(shop, 4, "ro-1-l1")
    # then they are held, and the line's demand was served from stock
    assert (held.status, held.quantity, held.issued) == (ReservationStatus.ACTIVE, D("4"), 0)
    assert (held.doc_type, held.doc_number) == ("RO", "RO-1")
    got = item(shop)
    assert (got.on_hand, got.reserved, got.available) == (D("10"), D("4"), D("6"))
    demand = PartDemand.objects.get(key="ro-1-l1")
    assert (demand.quantity, demand.available, demand.served) == (D("4"), D("10"), True)
    # and reserving the same line again returns the same reservation, holding no more
    assert reserve(shop, 4, "ro-1-l1").pk == held.pk
    assert item(shop).reserved == D("4")
    assert Reservation.objects.count() == PartDemand.objects.count() == 1


def test_reserving_beyond_available_is_refused_with_the_quantity(shop):
    receive(shop, 10, "80", "r1", A)
    reserve(shop, 4, "ro-1-l1")
    # when 7 more are asked while 6 are available
    with pytest.raises(InsufficientStock) as refused, translation.override("en"):
        reserve(shop, 7, "ro-2-l1")
    part = shop["part"].number
    assert str(refused.value.message) == f"Cannot reserve 7 of {part}: 6 piece available."
    # then nothing is held for it and no demand row was written by the refused transaction
    assert item(shop).reserved == D("4")
    assert not Reservation.objects.filter(key="ro-2-l1").exists()
    assert not PartDemand.objects.filter(key="ro-2-l1").exists()
    # and the caller records the shortage for the fill rate, once
    stock.record_shortage(
        warehouse=shop["warehouse"], part=shop["part"], quantity="7", key="ro-2-l1"
    )
    stock.record_shortage(
        warehouse=shop["warehouse"], part=shop["part"], quantity="1", key="ro-2-l1"
    )
    short = PartDemand.objects.get(key="ro-2-l1")
    assert (short.quantity, short.available, short.served) == (D("7"), D("6"), False)


def test_reserved_units_cannot_be_issued_to_another_document(shop):
    receive(shop, 10, "80", "r1", A)
    reserve(shop, 4, "ro-1-l1")
    with pytest.raises(InsufficientStock) as refused, translation.override("en"):
        issue(shop, 7, "counter-1")
    assert "6 piece available, 7 asked" in str(refused.value.message)
    issue(shop, 6, "counter-2")
    assert (item(shop).on_hand, item(shop).reserved) == (D("4"), D("4"))


def test_issue_against_a_reservation_partly_then_fully(shop):
    receive(shop, 10, "80", "r1", A)
    held = reserve(shop, 5, "ro-1-l1")
    issue(shop, 5, "counter")  # the unreserved rest goes elsewhere
    # when 3 of the 5 are issued against it
    issue(shop, 3, "ro-1-l1-issue-1", reservation=held)
    held.refresh_from_db()
    assert (held.issued, held.status, held.open_quantity) == (D("3"), "active", D("2"))
    assert (item(shop).on_hand, item(shop).reserved) == (D("2"), D("2"))
    # and 3 more are refused: only 2 are still reserved
    with pytest.raises(InsufficientStock) as refused, translation.override("en"):
        issue(shop, 3, "ro-1-l1-issue-2", reservation=held)
    assert str(refused.value.message) == "Only 2 piece are still reserved for this document."
    # when the last 2 are issued the reservation is consumed and closed
    issue(shop, 2, "ro-1-l1-issue-3", reservation=held)
    held.refresh_from_db()
    assert (held.issued, held.status) == (D("5"), ReservationStatus.CONSUMED)
    assert held.closed_at is not None
    assert (item(shop).on_hand, item(shop).reserved) == (D("0"), D("0"))
    # and a consumed reservation cannot be issued against again
    with pytest.raises(Conflict) as closed:
        issue(shop, 1, "ro-1-l1-issue-4", reservation=held)
    assert closed.value.code == "reservation_closed"
    assert stock.ledger_mismatches() == []


def test_release_gives_the_open_quantity_back_once(shop):
    receive(shop, 10, "80", "r1", A)
    held = reserve(shop, 5, "ro-1-l1")
    issue(shop, 2, "ro-1-l1-issue", reservation=held)
    # when the document is cancelled
    released = stock.release(actor=None, reservation=held)
    # then the 3 still held are available again
    assert released.status == ReservationStatus.RELEASED and released.closed_at is not None
    assert (item(shop).on_hand, item(shop).reserved) == (D("8"), D("0"))
    # and a second release changes nothing
    assert stock.release(actor=None, reservation=held).status == ReservationStatus.RELEASED
    assert item(shop).reserved == D("0")
    with pytest.raises(Conflict):
        issue(shop, 1, "after-release", reservation=held)


def test_expiry_job_releases_only_reservations_past_their_time(shop):
    receive(shop, 10, "80", "r1", A)
    now = timezone.now()
    stale = reserve(shop, 3, "ro-1-l1", expires_at=now - datetime.timedelta(hours=1))
    fresh = reserve(shop, 2, "ro-2-l1", expires_at=now + datetime.timedelta(days=1))
    forever = reserve(shop, 1, "ro-3-l1")
    # when the job runs
    assert stock.expire_reservations() == 1
    # then the stale one expired and gave its units back; the others still hold
    statuses = dict(Reservation.objects.values_list("pk", "status"))
    assert statuses == {
        stale.pk: ReservationStatus.EXPIRED,
        fresh.pk: ReservationStatus.ACTIVE,
        forever.pk: ReservationStatus.ACTIVE,
    }
    assert item(shop).reserved == D("3")
    # and running it again does nothing more, until the next one is due
    assert stock.expire_reservations() == 0
    assert stock.expire_reservations(now=now + datetime.timedelta(days=2)) == 1
    assert item(shop).reserved == D("1")


def test_a_stocktake_loss_may_take_reserved_units_and_shrinks_the_promise(shop):
    receive(shop, 10, "80", "r1", A)
    reserve(shop, 8, "ro-1-l1")
    # an ordinary adjustment cannot take reserved units
    with pytest.raises(InsufficientStock):
        post(shop, MoveKind.ADJUSTMENT, -5, "adj")
    # when a count finds 5 missing
    post(shop, MoveKind.STOCKTAKE, -5, "count-1", allow_reserved=True)
    # then the 5 left are all still promised
    assert (item(shop).on_hand, item(shop).reserved) == (D("5"), D("5"))
    assert stock.ledger_mismatches() == []


# ---------------------------------------------------------------- the ledger is append-only


def test_a_movement_cannot_be_changed_or_deleted_through_the_model(shop):
    (move,) = receive(shop, 3, "80", "r1", A)
    move.quantity = D("30")
    with pytest.raises(AppendOnlyError):
        move.save()
    with pytest.raises(AppendOnlyError):
        move.delete()
    assert StockMove.objects.get().quantity == D("3")


def test_the_database_refuses_update_and_delete_on_the_ledger(shop):
    receive(shop, 3, "80", "r1", A)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE parts_stockmove SET quantity = 30")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        StockMove.objects.all().update(quantity=D("30"))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM parts_stockmove")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        StockMove.objects.all().delete()
    assert list(StockMove.objects.values_list("quantity", flat=True)) == [D("3")]


# ---------------------------------------------------------------- the check


def test_ledger_mismatches_finds_a_balance_corrupted_behind_the_ledger(shop):
    # given correct books for two dealers
    receive(shop, 10, "80", "r1", A)
    issue(shop, 4, "i1")
    other = {"warehouse": make_warehouse(dealer=make_dealer("SH01")), "part": shop["part"]}
    receive(other, 5, "80", "sh-r1")
    assert stock.ledger_mismatches() == []
    # when BJ01's balance is raised by raw SQL (within the CHECKs)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE parts_stockitem SET on_hand = on_hand + 1 WHERE id = %s", [item(shop).pk]
        )
    # then the check reports that item, with both sums, and only for its dealer
    wrong = stock.ledger_mismatches()
    assert wrong == [
        {
            "item": item(shop).pk,
            "on_hand": D("7"),
            "ledger": D("6"),
            "bins": D("6"),
            "reserved": D("0"),
        }
    ]
    assert stock.ledger_mismatches(dealer=other["warehouse"].dealer) == []
    assert len(stock.ledger_mismatches(dealer=shop["warehouse"].dealer)) == 1


def test_ledger_mismatches_finds_bins_that_do_not_add_up(shop):
    receive(shop, 10, "80", "r1", A)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE parts_binstock SET on_hand = on_hand - 1")
    (wrong,) = stock.ledger_mismatches()
    assert (wrong["on_hand"], wrong["ledger"], wrong["bins"]) == (D("10"), D("10"), D("9"))


# ---------------------------------------------------------------- manage.py parts_check


def run_check(*args) -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        with translation.override("en"):
            call_command("parts_check", *args, stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def test_parts_check_passes_on_exact_books_and_fails_on_a_corrupted_one(shop):
    # given correct books at two dealers
    receive(shop, 10, "80", "r1", A)
    issue(shop, 3, "i1")
    other = {"warehouse": make_warehouse(dealer=make_dealer("SH01")), "part": shop["part"]}
    receive(other, 5, "80", "sh-r1")
    # when checked: a summary line and success
    out, error = run_check()
    assert error is None
    assert out.strip() == "all dealers: all 2 stock items add up to their ledger and bins."
    # when BJ01's balance is corrupted behind the ledger
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE parts_stockitem SET on_hand = on_hand + 2 WHERE id = %s", [item(shop).pk]
        )
    out, error = run_check()
    # then the item is listed with its sums, and the command exits 1 with a summary
    part = shop["part"].number
    assert out.strip() == (
        f"MISMATCH BJ01/MAIN {part} (stock item {item(shop).pk}): "
        "on hand 9, ledger 7, bins 7, reserved 0"
    )
    assert error is not None and error.returncode == 1
    assert str(error) == "all dealers: 1 of 2 stock items do not add up."
    # and checking the other dealer alone finds nothing wrong
    out, error = run_check("--dealer", "sh01")
    assert error is None and out.strip().startswith("SH01: all 1 stock items add up")


def test_parts_check_refuses_an_unknown_dealer(shop):
    _out, error = run_check("--dealer", "XX99")
    assert error is not None and str(error) == "No dealer with code XX99."


def test_releasing_a_reservation_after_a_count_loss_keeps_reserved_at_or_above_zero(shop):
    # given 10 on hand, 8 reserved for a repair order, and a count that finds 5 missing
    receive(shop, 10, "80", "r1", A)
    held = reserve(shop, 8, "ro-1-l1")
    post(shop, MoveKind.STOCKTAKE, -5, "count-1", allow_reserved=True)
    # then the reservation shrank with the missing units (8 promised, 5 exist)
    held.refresh_from_db()
    assert (held.quantity, item(shop).reserved) == (D("5"), D("5"))
    # and the 5 left issued to that repair order
    issue(shop, 5, "ro-1-l1-issue", reservation=held)
    # when the repair order releases the rest (or the expiry job does)
    stock.release(actor=None, reservation=held)
    # then nothing is reserved any more, and the books add up
    assert item(shop).reserved == D("0")
    assert stock.ledger_mismatches() == []
