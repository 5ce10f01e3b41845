"""Access-matrix declarations of the printing area (see aftersales/testing/matrix.py)."""

import itertools

from aftersales.testing.matrix import Endpoint, declare

_seq = itertools.count(1)


def _order(dealer, status="approved"):
    """An order of ``dealer`` (its advisor made on the spot: the matrix's dealers have no
    demo staff)."""
    from aftersales.org.models import User
    from aftersales.workorders.testing import make_repair_order

    advisor = User.objects.create(username=f"print-sa-{dealer.code.lower()}-{next(_seq)}")
    return make_repair_order(dealer=dealer, status=status, advisor=advisor)


def _passed(dealer):
    return _order(dealer, status="qc_passed")


_VIEW = "workorders.view_repairorder"

declare(
    Endpoint("ro-print", "page", _VIEW, make=_order, detail=True),
    Endpoint("ro-delivery-sheet", "page", _VIEW, make=_passed, detail=True),
    Endpoint("api:ro-print-repair-order", "api", _VIEW, make=_order, detail=True),
    Endpoint("api:ro-print-delivery-sheet", "api", _VIEW, make=_passed, detail=True),
)
