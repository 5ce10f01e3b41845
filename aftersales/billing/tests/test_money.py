"""The money rules of settlement (aftersales/billing/money.py)."""

from decimal import Decimal

import pytest

from aftersales.billing.money import (
    capital_amount,
    money,
    parse_money,
    percent_of,
    spread,
    vat_split,
)
from aftersales.core.errors import ValidationFailed

D = Decimal


def test_money_rounds_half_up_to_the_cent_and_refuses_floats():
    assert money("2.345") == D("2.35")
    assert money("2.344") == D("2.34")
    assert money("-2.345") == D("-2.35")
    with pytest.raises(TypeError):
        money(2.5)


@pytest.mark.parametrize(
    ("gross", "rate", "net", "tax"),
    [
        ("1130.00", "0.13", "1000.00", "130.00"),
        ("100.00", "0.13", "88.50", "11.50"),  # 88.4955… rounds up
        ("0.01", "0.13", "0.01", "0.00"),
        ("99.99", "0.06", "94.33", "5.66"),
        ("50.00", "0", "50.00", "0.00"),
    ],
)
def test_vat_split_rounds_the_net_and_leaves_the_rest_as_tax(gross, rate, net, tax):
    got_net, got_tax = vat_split(D(gross), D(rate))
    assert (got_net, got_tax) == (D(net), D(tax))
    assert got_net + got_tax == D(gross)


def test_spread_is_pro_rata_and_puts_the_remainder_on_the_largest_line():
    # given three lines of 100, 100 and 200, when 10.00 is spread
    shares = spread(D("10.00"), [D("100"), D("100"), D("200")])
    # then the shares are 2.50 / 2.50 / 5.00
    assert shares == [D("2.50"), D("2.50"), D("5.00")]
    # and a discount that does not divide evenly lands its remainder on the largest
    shares = spread(D("1.00"), [D("1"), D("1"), D("1")])
    assert shares == [D("0.34"), D("0.33"), D("0.33")]
    assert sum(shares) == D("1.00")
    shares = spread(D("0.10"), [D("3"), D("30"), D("3")])
    assert shares == [D("0.01"), D("0.08"), D("0.01")] and sum(shares) == D("0.10")


def test_spread_of_nothing():
    assert spread(D("5"), []) == []
    assert spread(D("0"), [D("1"), D("2")]) == [D("0"), D("0")]


def test_percent_of():
    assert percent_of(D("5"), D("100")) == D("5.00")
    assert percent_of(D("1"), D("3")) == D("33.33")
    assert percent_of(D("1"), D("0")) == D("0")


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("1130.00", "壹仟壹佰叁拾元整"),
        ("1005.07", "壹仟零伍元零柒分"),
        ("0.50", "伍角整"),
        ("0.07", "柒分"),
        ("12.34", "壹拾贰元叁角肆分"),
        ("100000", "壹拾万元整"),
        ("10050", "壹万零伍拾元整"),
        ("20010300.40", "贰仟零壹万零叁佰元肆角整"),
        ("100000000.01", "壹亿元零壹分"),
        ("0", "零元整"),
        ("-88.00", "负捌拾捌元整"),
    ],
)
def test_capital_amount_writes_chinese_invoice_numerals(amount, words):
    assert capital_amount(D(amount)) == words


@pytest.mark.parametrize(
    ("typed", "amount"),
    [("128.5", "128.50"), (" 7 ", "7.00"), (12, "12.00"), (D("0.01"), "0.01"), ("1e2", "100.00")],
)
def test_parse_money_reads_what_a_user_typed(typed, amount):
    assert parse_money(typed) == D(amount)
    assert str(parse_money(typed)) == amount


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12.345", "Amounts have at most two decimal places (fen)."),
        ("abc", "Enter an amount in yuan, e.g. 128.50."),
        ("NaN", "Enter an amount in yuan, e.g. 128.50."),
        ("", "Enter an amount in yuan, e.g. 128.50."),
        (None, "Enter an amount in yuan, e.g. 128.50."),
        ("0", "The amount must be more than zero."),
        ("-5", "The amount must be more than zero."),
        ("10000000000", "The amount is too large."),
    ],
)
def test_parse_money_refuses_bad_input_on_the_named_field(typed, message):
    from django.utils import translation

    with translation.override("en"), pytest.raises(ValidationFailed) as refused:
        parse_money(typed, field="tendered")
    assert str(refused.value.message) == message
    assert list(refused.value.fields) == ["tendered"]


def test_parse_money_may_allow_zero_and_negative_amounts():
    assert parse_money("0", field="counted_cash", positive=False) == D("0.00")
    assert parse_money("-3.10", positive=False) == D("-3.10")
    with pytest.raises(ValidationFailed):
        parse_money("0.001", positive=False)


def test_parse_money_errors_are_translated():
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationFailed) as refused:
        parse_money("1.234")
    assert str(refused.value.message) == "金额最多两位小数（到分）。"
