"""Delivery and closing: ready notice, delivery check, follow-up scheduling, service visit
(issue 5 item 9)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from aftersales.billing.testing import settle
from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.models import OutboxMessage
from aftersales.crm.models import ServiceVisit
from aftersales.org.models import Dealer
from aftersales.workorders.choices import CheckKind, OldPartsDisposition, ROKind, ROStatus
from aftersales.workorders.delivery import (
    _schedule_follow_up,
    _write_service_visit,
    delivery_checks_for,
    delivery_record,
    repair_order_close,
    repair_order_ready,
)
from aftersales.workorders.models import FollowUp, QualityCheck, ServiceSettings
from aftersales.workorders.testing import all_true, make_repair_order
from aftersales.workorders.transitions import (
    GuardRefused,
    IllegalTransition,
    repair_order_transition,
)

S = ROStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def bj01(demo_org):
    return Dealer.objects.get(code="BJ01")


def test_ready_tells_the_customer_by_sms_in_chinese(bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.QC_PASSED)
    order = repair_order_ready(actor=demo_org["bj01-sa"], repair_order=order, version=order.version)
    assert order.status == S.READY and order.ready_at is not None
    sms = OutboxMessage.objects.get(channel="sms", dedup_key=f"ro-ready:{order.pk}:0:sms")
    assert sms.recipient == order.customer.mobile
    # the text is the Chinese one whatever the advisor's language (zh-quality.json:
    # "您的爱车（京A12345）已完工，可以取车了。")
    with translation.override("zh-hans"):
        expected = gettext("Your car (%(plate)s) is ready. You can pick it up now.") % {
            "plate": order.vehicle.plate
        }
    assert sms.body == expected and order.vehicle.plate in sms.body


def test_ready_needs_qc_passed(bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.SELF_CHECKED)
    with pytest.raises(IllegalTransition):
        repair_order_ready(actor=demo_org["bj01-sa"], repair_order=order, version=order.version)
    assert not OutboxMessage.objects.filter(dedup_key__startswith=f"ro-ready:{order.pk}").exists()


def test_the_wash_check_applies_only_with_a_free_wash(bj01):
    washed = make_repair_order(dealer=bj01, status=S.READY, free_wash=True)
    unwashed = make_repair_order(
        dealer=bj01, status=S.READY, free_wash=False, old_parts=OldPartsDisposition.RETURN_OEM
    )
    assert "wash" in delivery_checks_for(washed)
    assert "wash" not in delivery_checks_for(unwashed)
    with translation.override("en"):
        assert "OEM" in str(delivery_checks_for(unwashed)["old_parts"])


def test_delivery_is_refused_without_a_complete_check(bj01, demo_org):
    sa = demo_org["bj01-sa"]
    order = make_repair_order(dealer=bj01, status=S.READY, free_wash=True)
    # the generic step is refused: no delivery check saved
    with pytest.raises(GuardRefused) as refused:
        repair_order_transition(repair_order=order, to=S.DELIVERED, actor=sa)
    assert refused.value.code == "delivery_check"
    # a check with the wash not done is refused naming it
    with pytest.raises(ValidationFailed) as refused:
        delivery_record(
            actor=sa,
            repair_order=order,
            version=order.version,
            checks={**all_true(delivery_checks_for(order)), "wash": False},
        )
    assert list(refused.value.fields) == ["wash"]
    order.refresh_from_db()
    assert (order.status, order.delivery_checks) == (S.READY, {})
    assert not FollowUp.objects.filter(repair_order=order).exists()


def test_delivery_schedules_the_follow_up_once_at_the_configured_times(bj01, demo_org):
    # given a dealer that calls from 12 hours and within 48 hours of the delivery
    ServiceSettings.objects.update_or_create(
        dealer=bj01, defaults={"follow_up_after_hours": 12, "follow_up_due_hours": 48}
    )
    order = make_repair_order(dealer=bj01, status=S.READY, free_wash=False)
    # when the advisor records the delivery check
    order = delivery_record(
        actor=demo_org["bj01-sa"],
        repair_order=order,
        version=order.version,
        checks=all_true(delivery_checks_for(order)),
        remarks="客户满意",
    )
    # then the car is delivered with its check kept, and one follow-up is due
    assert order.status == S.DELIVERED and order.delivered_at is not None
    assert order.delivery_checks == all_true(delivery_checks_for(order))
    check = QualityCheck.objects.get(repair_order=order)
    assert (check.kind, check.passed, check.remarks) == (CheckKind.DELIVERY, True, "客户满意")
    follow_up = FollowUp.objects.get(repair_order=order)
    assert follow_up.dealer_id == bj01.pk and follow_up.status == "open"
    assert follow_up.opens_at == order.delivered_at + datetime.timedelta(hours=12)
    assert follow_up.due_at == order.delivered_at + datetime.timedelta(hours=48)
    # entering "delivered" again (e.g. a replayed effect) schedules nothing more
    _schedule_follow_up(order, demo_org["bj01-sa"], S.READY)
    assert FollowUp.objects.filter(repair_order=order).count() == 1


def test_delivery_needs_the_deliver_permission(bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.READY)
    with pytest.raises(PermissionDenied):
        delivery_record(
            actor=demo_org["bj01-tech"],
            repair_order=order,
            version=order.version,
            checks=all_true(delivery_checks_for(order)),
        )


def test_close_writes_one_service_visit(bj01, demo_org):
    # given a delivered maintenance order with a customer-paid line of 144.00
    order = make_repair_order(
        dealer=bj01, status=S.DELIVERED, kind=ROKind.MAINTENANCE, odometer_km=23_456
    )
    order.delivered_at = timezone.now() - datetime.timedelta(days=2)
    order.save(update_fields=["delivered_at"])
    settle(order)  # its customer invoice of 144.00 is paid
    # when the cashier closes it
    order = repair_order_close(
        actor=demo_org["bj01-cashier"], repair_order=order, version=order.version
    )
    # then the CRM has one visit for it
    assert order.status == S.CLOSED and order.closed_at is not None
    visit = ServiceVisit.objects.get(reference=order.number)
    assert (visit.customer_id, visit.vehicle_id, visit.dealer_id) == (
        order.customer_id,
        order.vehicle_id,
        bj01.pk,
    )
    assert (visit.kind, visit.amount, visit.odometer_km) == (
        "maintenance",
        Decimal("144.00"),
        23_456,
    )
    assert visit.visited_on == timezone.localdate(order.delivered_at)
    # running the effect again writes nothing more
    _write_service_visit(order, demo_org["bj01-cashier"], S.DELIVERED)
    assert ServiceVisit.objects.filter(reference=order.number).count() == 1


def test_only_the_cashier_closes(bj01, demo_org):
    order = make_repair_order(dealer=bj01, status=S.DELIVERED)
    with pytest.raises(PermissionDenied):
        repair_order_close(actor=demo_org["bj01-tech"], repair_order=order, version=order.version)
    assert not ServiceVisit.objects.filter(reference=order.number).exists()
