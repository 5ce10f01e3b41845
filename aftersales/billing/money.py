"""Money rules of settlement: rounding, the VAT split and spreading a discount.

Repair-order prices include VAT. Every amount is a ``Decimal`` in CNY, rounded
ROUND_HALF_UP to 0.01, and each rule works per line:

* a line's gross amount (incl. VAT) = round(quantity × unit price) − its discounts;
* its net amount (excl. VAT) = round_half_up(gross / (1 + VAT rate), 0.01);
* its tax = gross − net (so net + tax is always exactly the gross);
* an invoice's totals are the sums of its lines (never recomputed from the total);
* an invoice discount is spread over the lines in proportion to their amounts after the
  line discounts, each share rounded to 0.01; the rounding remainder goes to the largest
  line (the first of equal largest lines), so the shares add up to the discount exactly.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from aftersales.core.errors import ValidationFailed

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")
# the largest amount a MONEY field (max_digits=12, decimal_places=2) holds, plus a cent
TOO_LARGE = Decimal("10000000000")


def money(value) -> Decimal:
    """``value`` as CNY: a Decimal rounded half up to 0.01 (floats are refused). For
    amounts the system works out; what a user types goes through ``parse_money``."""
    if isinstance(value, float):
        raise TypeError("money amounts are never floats")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def parse_money(value, *, field: str = "amount", positive: bool = True) -> Decimal:
    """A CNY amount as a user sent it (str, int or Decimal) with at most two decimal
    places: more places are refused, not rounded (the cashier types what changes hands).
    ``positive`` refuses zero and below. Errors are ``ValidationFailed`` on ``field``."""
    if isinstance(value, float):
        value = str(value)
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        amount = None
    if amount is None or not amount.is_finite():
        raise ValidationFailed(
            _("Enter an amount in yuan, e.g. 128.50."),
            code="invalid",
            fields={field: [_("Not an amount.")]},
        )
    if amount != amount.quantize(CENT):
        raise ValidationFailed(
            _("Amounts have at most two decimal places (fen)."),
            fields={field: [_("At most two decimal places.")]},
        )
    if positive and amount <= 0:
        raise ValidationFailed(
            _("The amount must be more than zero."), fields={field: [_("Must be more than zero.")]}
        )
    if abs(amount) >= TOO_LARGE:
        raise ValidationFailed(_("The amount is too large."), fields={field: [_("Too large.")]})
    return amount.quantize(CENT)


def vat_split(gross, rate) -> tuple[Decimal, Decimal]:
    """(net, tax) of a gross amount at ``rate`` (0.13 for 13 %): net rounded half up,
    tax the rest."""
    gross = money(gross)
    net = money(gross / (Decimal(1) + Decimal(rate)))
    return net, gross - net


def spread(total, amounts: list[Decimal]) -> list[Decimal]:
    """``total`` shared over ``amounts`` pro rata, each share rounded half up to 0.01, the
    remainder on the largest amount. The shares add up to ``total`` exactly."""
    total = money(total)
    if not amounts:
        return []
    base = sum(amounts, Decimal(0))
    if base <= 0 or total == 0:
        return [ZERO for _ in amounts]
    shares = [money(total * amount / base) for amount in amounts]
    largest = max(range(len(amounts)), key=lambda i: (amounts[i], -i))
    shares[largest] += total - sum(shares, Decimal(0))
    return shares


def percent_of(part, whole) -> Decimal:
    """``part`` as a percentage of ``whole`` (two places); 0 when ``whole`` is 0."""
    whole = Decimal(whole)
    if whole <= 0:
        return Decimal("0.00")
    return (Decimal(part) * HUNDRED / whole).quantize(CENT, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------- 大写 (capital numerals)

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ["", "拾", "佰", "仟"]
_BIG_UNITS = ["", "万", "亿", "万亿"]


def _four(group: int) -> str:
    """A group of up to four digits (0 < group < 10000), zeros inside written once."""
    text, zero = "", False
    for position in range(3, -1, -1):
        digit = group // 10**position % 10
        if digit == 0:
            zero = bool(text)
            continue
        if zero:
            text += "零"
            zero = False
        text += _DIGITS[digit] + _SMALL_UNITS[position]
    return text


def capital_amount(value) -> str:
    """An amount in Chinese capital numerals as printed on invoices (大写金额), e.g.
    1130.00 → 壹仟壹佰叁拾元整, 1005.07 → 壹仟零伍元零柒分, 0.50 → 伍角整; negative amounts
    start with 负."""
    amount = money(value)
    if amount < 0:
        return "负" + capital_amount(-amount)
    cents = int(amount * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    if cents == 0:
        return "零元整"
    text = ""
    if yuan:
        groups = []
        while yuan:
            groups.append(yuan % 10000)
            yuan //= 10000
        need_zero = False
        for index in range(len(groups) - 1, -1, -1):
            group = groups[index]
            if group == 0:
                need_zero = bool(text)
                continue
            if text and (need_zero or group < 1000):
                text += "零"
            text += _four(group) + _BIG_UNITS[index]
            need_zero = False
        text += "元"
    if jiao == 0 and fen == 0:
        return text + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif text:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    else:
        text += "整"
    return text
