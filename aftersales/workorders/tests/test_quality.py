"""Quality: the technician's self-check and the inspector's QC (issue 5 item 8)."""

import pytest

from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.org.models import Dealer
from aftersales.workorders.choices import CheckKind, ROStatus
from aftersales.workorders.models import QualityCheck
from aftersales.workorders.quality import (
    QC_ITEMS,
    SELF_CHECK_ITEMS,
    check_history,
    qc_record,
    self_check_record,
)
from aftersales.workorders.testing import all_true, make_repair_order, worked_on_by
from aftersales.workorders.transitions import (
    GuardRefused,
    StaleVersion,
    refusals,
    repair_order_transition,
)

S = ROStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def bj01(demo_org):
    return Dealer.objects.get(code="BJ01")


@pytest.fixture
def worked(bj01, demo_org):
    """An order in progress whose jobs bj01-tech has finished."""
    order = make_repair_order(dealer=bj01, status=S.IN_PROGRESS)
    return worked_on_by(order, demo_org["bj01-tech"])


def test_self_check_with_every_item_ticked_closes_the_work(worked, demo_org):
    # when the technician who did the work ticks every item
    order = self_check_record(
        actor=demo_org["bj01-tech"],
        repair_order=worked,
        version=worked.version,
        items=all_true(SELF_CHECK_ITEMS),
        remarks="刹车片已更换",
    )
    # then the order is self-checked and the check is kept for round 0
    assert order.status == S.SELF_CHECKED and order.work_done_at is not None
    check = QualityCheck.objects.get(repair_order=order)
    assert (check.kind, check.passed, check.round) == (CheckKind.SELF, True, 0)
    assert check.items == all_true(SELF_CHECK_ITEMS)
    assert check.checked_by == demo_org["bj01-tech"]


def test_self_check_with_an_unticked_item_is_refused_naming_it(worked, demo_org):
    items = {**all_true(SELF_CHECK_ITEMS), "fluids": False}
    with pytest.raises(ValidationFailed) as refused:
        self_check_record(
            actor=demo_org["bj01-tech"], repair_order=worked, version=worked.version, items=items
        )
    # then the item is named and nothing changed
    assert refused.value.code == "check_incomplete"
    assert list(refused.value.fields) == ["fluids"]
    assert str(SELF_CHECK_ITEMS["fluids"]) in str(refused.value.message)
    worked.refresh_from_db()
    assert worked.status == S.IN_PROGRESS
    assert not QualityCheck.objects.filter(repair_order=worked).exists()


def test_self_check_needs_every_item_answered(worked, demo_org):
    items = all_true(SELF_CHECK_ITEMS)
    del items["test_drive"]
    with pytest.raises(ValidationFailed) as refused:
        self_check_record(
            actor=demo_org["bj01-tech"], repair_order=worked, version=worked.version, items=items
        )
    assert refused.value.code == "check_incomplete" and "test_drive" in refused.value.fields


def test_self_check_by_someone_who_did_not_work_on_it(bj01, demo_org):
    # given an order whose work bj01-foreman's team did, with no clock entry of bj01-tech
    order = make_repair_order(dealer=bj01, status=S.IN_PROGRESS)
    order.lines.update(job_status="done")
    # the technician who never clocked on may not self-check it
    with pytest.raises(PermissionDenied):
        self_check_record(
            actor=demo_org["bj01-tech"],
            repair_order=order,
            version=order.version,
            items=all_true(SELF_CHECK_ITEMS),
        )
    # the foreman may
    order = self_check_record(
        actor=demo_org["bj01-foreman"],
        repair_order=order,
        version=order.version,
        items=all_true(SELF_CHECK_ITEMS),
    )
    assert order.status == S.SELF_CHECKED


def test_self_check_with_a_stale_version_is_refused(worked, demo_org):
    with pytest.raises(StaleVersion):
        self_check_record(
            actor=demo_org["bj01-tech"],
            repair_order=worked,
            version=worked.version - 1 if worked.version > 1 else worked.version + 1,
            items=all_true(SELF_CHECK_ITEMS),
        )


@pytest.fixture
def self_checked(worked, demo_org):
    return self_check_record(
        actor=demo_org["bj01-tech"],
        repair_order=worked,
        version=worked.version,
        items=all_true(SELF_CHECK_ITEMS),
    )


def test_qc_by_an_inspector_who_worked_on_the_order_is_refused(bj01, demo_org):
    # given an order the inspector himself clocked on
    order = make_repair_order(dealer=bj01, status=S.IN_PROGRESS)
    worked_on_by(order, demo_org["bj01-qc"])
    order = repair_order_transition(
        repair_order=order, to=S.SELF_CHECKED, actor=demo_org["bj01-foreman"]
    )
    # when he records the QC, pass or fail
    for passed in (True, False):
        with pytest.raises(GuardRefused) as refused:
            qc_record(
                actor=demo_org["bj01-qc"],
                repair_order=order,
                version=order.version,
                items=all_true(QC_ITEMS),
                passed=passed,
                reason="x",
            )
        assert refused.value.code == "same_person" and refused.value.status == 409
    # the generic transition is refused the same way and pages can show why
    with pytest.raises(GuardRefused) as refused:
        repair_order_transition(repair_order=order, to=S.QC_PASSED, actor=demo_org["bj01-qc"])
    assert refused.value.code == "same_person"
    assert [r.code for r in refusals(order, S.QC_FAILED, demo_org["bj01-qc"])] == ["same_person"]
    order.refresh_from_db()
    assert order.status == S.SELF_CHECKED
    assert not QualityCheck.objects.filter(repair_order=order, kind=CheckKind.QC).exists()


def test_qc_failure_sends_the_order_back_and_counts_a_rework(self_checked, demo_org):
    items = {**all_true(QC_ITEMS), "no_leaks": False}
    order = qc_record(
        actor=demo_org["bj01-qc"],
        repair_order=self_checked,
        version=self_checked.version,
        items=items,
        passed=False,
        reason="油底壳渗油",
    )
    assert order.status == S.QC_FAILED and order.rework_count == 1
    check = QualityCheck.objects.get(repair_order=order, kind=CheckKind.QC)
    assert (check.passed, check.remarks, check.round) == (False, "油底壳渗油", 0)
    assert check.items["no_leaks"] is False
    event = order.events.filter(to_status=S.QC_FAILED).get()
    assert event.message == "油底壳渗油" and event.data["failed"] == ["no_leaks"]


def test_qc_failure_needs_a_reason_and_a_failed_item(self_checked, demo_org):
    qc = demo_org["bj01-qc"]
    cases = [
        ({**all_true(QC_ITEMS), "road_test": False}, "", "reason"),
        (all_true(QC_ITEMS), "不合格", "items"),
    ]
    for items, reason, field in cases:
        with pytest.raises(ValidationFailed) as refused:
            qc_record(
                actor=qc,
                repair_order=self_checked,
                version=self_checked.version,
                items=items,
                passed=False,
                reason=reason,
            )
        assert field in refused.value.fields
    self_checked.refresh_from_db()
    assert (self_checked.status, self_checked.rework_count) == (S.SELF_CHECKED, 0)


def test_qc_pass_needs_every_item(self_checked, demo_org):
    with pytest.raises(ValidationFailed) as refused:
        qc_record(
            actor=demo_org["bj01-qc"],
            repair_order=self_checked,
            version=self_checked.version,
            items={**all_true(QC_ITEMS), "torque_marks": False},
            passed=True,
        )
    assert list(refused.value.fields) == ["torque_marks"]


def test_rework_round_is_checked_again_and_history_keeps_every_round(self_checked, demo_org):
    tech, qc = demo_org["bj01-tech"], demo_org["bj01-qc"]
    # given a failed QC and the rework done
    order = qc_record(
        actor=qc,
        repair_order=self_checked,
        version=self_checked.version,
        items={**all_true(QC_ITEMS), "clean": False},
        passed=False,
        reason="车内脏",
    )
    order = repair_order_transition(repair_order=order, to=S.REWORK, actor=tech)
    # when the technician checks again and the inspector passes it
    order = self_check_record(
        actor=tech, repair_order=order, version=order.version, items=all_true(SELF_CHECK_ITEMS)
    )
    order = qc_record(
        actor=qc, repair_order=order, version=order.version, items=all_true(QC_ITEMS), passed=True
    )
    # then the order passed, with one rework, and both rounds are kept
    assert order.status == S.QC_PASSED and order.rework_count == 1
    assert order.qc_passed_at is not None
    history = check_history(order)
    assert [h["round"] for h in history] == [0, 1]
    assert [(c.kind, c.passed) for c in history[0]["checks"]] == [
        (CheckKind.SELF, True),
        (CheckKind.QC, False),
    ]
    assert [(c.kind, c.passed) for c in history[1]["checks"]] == [
        (CheckKind.SELF, True),
        (CheckKind.QC, True),
    ]
    assert (str(QC_ITEMS["clean"]), False) in history[0]["checks"][1].item_rows


def test_qc_needs_the_inspector_role_at_the_orders_dealer(self_checked, demo_org):
    for username in ("bj01-tech", "sh01-qc"):
        with pytest.raises(PermissionDenied):
            qc_record(
                actor=demo_org[username],
                repair_order=self_checked,
                version=self_checked.version,
                items=all_true(QC_ITEMS),
                passed=True,
            )
