"""Shared fixtures of the billing invoice tests."""

from decimal import Decimal

import pytest

from aftersales.org.models import Dealer
from aftersales.workorders.choices import Approval, LineKind, PayType
from aftersales.workorders.models import RepairOrderLine
from aftersales.workorders.testing import make_repair_order

VALID_USCC = "91110000600037341L"


@pytest.fixture
def bj01(demo_org):
    return Dealer.objects.get(code="BJ01")


@pytest.fixture
def tj01(demo_org):
    return Dealer.objects.get(code="TJ01")


def add_line(
    order,
    *,
    amount,
    pay_type=PayType.CUSTOMER,
    kind=LineKind.FEE,
    quantity="1",
    description="环保费",
    approval=Approval.APPROVED,
):
    quantity = Decimal(quantity)
    amount = Decimal(amount)
    return RepairOrderLine.objects.create(
        repair_order=order,
        kind=kind,
        description=description,
        quantity=quantity,
        unit_price=amount / quantity,
        amount=amount,
        pay_type=pay_type,
        approval=approval,
    )


@pytest.fixture
def mixed_order(bj01):
    """A delivered order of BJ01: customer labour 144.00 (from make_repair_order) and a
    customer part 226.00, a warranty labour 300.00, an insurance sublet 565.00, an internal
    fee 10.00 and a declined customer fee 50.00."""
    order = make_repair_order(dealer=bj01, status="delivered")
    add_line(order, amount="226.00", kind=LineKind.PART, quantity="2", description="机油滤清器")
    add_line(
        order,
        amount="300.00",
        pay_type=PayType.WARRANTY,
        kind=LineKind.LABOUR,
        description="更换水泵",
    )
    add_line(
        order,
        amount="565.00",
        pay_type=PayType.INSURANCE,
        kind=LineKind.SUBLET,
        description="钣金喷漆",
    )
    add_line(order, amount="10.00", pay_type=PayType.INTERNAL, description="洗车")
    add_line(order, amount="50.00", description="空调清洗", approval=Approval.DECLINED)
    return order
