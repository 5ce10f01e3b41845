"""The repair order's state machine: the table, the guards, versions and the timeline."""

import pytest

from aftersales.core.errors import PermissionDenied
from aftersales.core.models import AuditLog
from aftersales.org.models import Dealer
from aftersales.workorders.choices import TRANSITIONS, ROStatus
from aftersales.workorders.models import RepairOrder, RepairOrderEvent
from aftersales.workorders.testing import make_repair_order
from aftersales.workorders.transitions import (
    GUARDS,
    GuardRefused,
    IllegalTransition,
    StaleVersion,
    refusals,
    repair_order_transition,
)

S = ROStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def bj01(demo_org):
    return Dealer.objects.get(code="BJ01")


def test_every_status_has_a_row_and_every_step_a_guard():
    assert set(TRANSITIONS) == set(S)
    for source, targets in TRANSITIONS.items():
        for target in targets:
            assert GUARDS[(source, target)].permissions, (source, target)
    assert TRANSITIONS[S.CLOSED] == set() and TRANSITIONS[S.CANCELLED] == set()


def test_illegal_step_is_refused_with_its_code_and_changes_nothing(bj01, demo_org):
    # given an order just checked in
    order = make_repair_order(dealer=bj01, status=S.CHECKED_IN)
    version = order.version
    # when the advisor tries to deliver it
    with pytest.raises(IllegalTransition) as refused:
        repair_order_transition(repair_order=order, to=S.DELIVERED, actor=demo_org["bj01-sa"])
    # then it is refused as illegal and nothing changed
    assert refused.value.code == "illegal_transition" and refused.value.status == 409
    order.refresh_from_db()
    assert (order.status, order.version) == (S.CHECKED_IN, version)
    assert not RepairOrderEvent.objects.filter(repair_order=order).exists()


def test_check_in_needs_the_reception_data(bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.DRAFT)
    with pytest.raises(GuardRefused) as refused:
        repair_order_transition(repair_order=order, to=S.CHECKED_IN, actor=demo_org["bj01-sa"])
    assert set(refused.value.fields) >= {"odometer_km", "fuel_level", "concern", "covers_installed"}
    order.refresh_from_db()
    assert order.status == S.DRAFT


def test_work_cannot_start_without_the_customers_signature(bj01, demo_org):
    # given an approved order whose signature was (wrongly) never recorded
    order = make_repair_order(dealer=bj01, status=S.APPROVED, signed_at=None, signature_kind="")
    with pytest.raises(GuardRefused) as refused:
        repair_order_transition(repair_order=order, to=S.IN_PROGRESS, actor=demo_org["bj01-tech"])
    assert refused.value.code == "not_authorized"
    assert "signature" in refused.value.fields


def test_a_step_needs_its_role_at_the_orders_dealer(bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.SELF_CHECKED)
    # the technician may not pass his own work; another dealer's inspector may not either
    for username in ("bj01-tech", "sh01-qc"):
        with pytest.raises(PermissionDenied):
            repair_order_transition(repair_order=order, to=S.QC_PASSED, actor=demo_org[username])
    order.refresh_from_db()
    assert order.status == S.SELF_CHECKED


def test_a_stale_version_is_refused(bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.CHECKED_IN)
    seen = order.version
    repair_order_transition(
        repair_order=order, to=S.DIAGNOSING, actor=demo_org["bj01-sa"], version=seen
    )
    with pytest.raises(StaleVersion) as refused:
        repair_order_transition(
            repair_order=order, to=S.ESTIMATED, actor=demo_org["bj01-sa"], version=seen
        )
    assert refused.value.code == "stale"


def test_a_step_is_stamped_evented_and_audited(bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.SELF_CHECKED)
    repair_order_transition(
        repair_order=order, to=S.QC_FAILED, actor=demo_org["bj01-qc"], note="刹车异响仍在"
    )
    order.refresh_from_db()
    assert order.status == S.QC_FAILED and order.rework_count == 1
    event = RepairOrderEvent.objects.get(repair_order=order)
    assert (event.from_status, event.to_status, event.actor.username, event.message) == (
        S.SELF_CHECKED,
        S.QC_FAILED,
        "bj01-qc",
        "刹车异响仍在",
    )
    audit = AuditLog.objects.filter(object_id=str(order.pk), content_type__model="repairorder")
    assert audit.get().changes == {"status": [S.SELF_CHECKED, S.QC_FAILED]}


def test_cancelling_needs_a_reason(bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.ESTIMATED)
    assert [r.code for r in refusals(order, S.CANCELLED, demo_org["bj01-sa"])] == ["missing_data"]
    RepairOrder.objects.filter(pk=order.pk).update(cancel_reason="客户不修了")
    order = repair_order_transition(
        repair_order=order.pk, to=S.CANCELLED, actor=demo_org["bj01-sa"]
    )
    assert order.status == S.CANCELLED and order.cancelled_at is not None


def test_the_documented_diagram_is_the_transition_table():
    # docs/repair-orders.md draws the table; a change to one must show in the other
    from pathlib import Path

    from django.conf import settings

    from aftersales.workorders.choices import transition_diagram

    doc = (Path(settings.BASE_DIR) / "docs" / "repair-orders.md").read_text()
    assert transition_diagram() in doc
