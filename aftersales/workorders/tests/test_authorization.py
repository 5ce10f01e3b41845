"""Authorization (issue 5 item 6): signing on screen or paper, the decision on additional
work (counter, phone), declined recommendations, and what is refused."""

import io
from decimal import Decimal

import pytest
from PIL import Image, ImageDraw

from aftersales.core.errors import ValidationFailed
from aftersales.org.models import Dealer
from aftersales.workorders import authorization, estimate
from aftersales.workorders.choices import Approval, ApprovalChannel, EventKind, ROStatus
from aftersales.workorders.testing import make_operation, make_rates, make_repair_order
from aftersales.workorders.transitions import OrderClosed, refusals, repair_order_transition

pytestmark = pytest.mark.django_db
S = ROStatus


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def bj(demo_org):
    dealer = Dealer.objects.get(code="BJ01")
    make_rates(dealer)
    return dealer


@pytest.fixture
def sa(demo_org):
    return demo_org["bj01-sa"]


def png(draw=True, size=(300, 100)) -> bytes:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    if draw:
        ImageDraw.Draw(image).line([(10, 80), (120, 20), (280, 70)], fill=(0, 0, 0, 255), width=3)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def estimated(dealer, status=S.ESTIMATED):
    """An order with one proposed labour line and its terms set."""
    return make_repair_order(dealer=dealer, status=status)


def test_signing_on_screen_stores_the_png_and_approves_the_order(bj, sa):
    order = estimated(bj)
    signed = authorization.repair_order_sign(
        actor=sa,
        repair_order=order,
        version=order.version,
        kind="screen",
        signed_by_name="张伟",
        signature_png=png(),
    )
    assert signed.status == S.APPROVED
    assert signed.signature.name.endswith(".png")
    assert signed.signature.read()[:8] == b"\x89PNG\r\n\x1a\n"
    line = order.lines.get()
    assert line.approval == Approval.APPROVED
    assert line.approval_channel == ApprovalChannel.SIGNATURE
    assert line.approved_by_name == "张伟" and line.decided_at is not None
    assert signed.events.filter(kind=EventKind.APPROVAL).exists()


def test_signing_on_paper_from_awaiting_approval(bj, sa):
    order = estimated(bj)
    order = authorization.repair_order_send_for_approval(
        actor=sa, repair_order=order, version=order.version
    )
    assert order.status == S.AWAITING_APPROVAL
    signed = authorization.repair_order_sign(
        actor=sa, repair_order=order, version=order.version, kind="paper", signed_by_name="张伟"
    )
    assert signed.status == S.APPROVED
    assert signed.signature_kind == "paper" and not signed.signature


@pytest.mark.parametrize(
    "data",
    [png(draw=False), b"not an image", b""],
    ids=["blank", "garbage", "empty"],
)
def test_a_blank_or_broken_signature_is_refused_and_changes_nothing(bj, sa, data):
    order = estimated(bj)
    with pytest.raises(ValidationFailed) as refused:
        authorization.repair_order_sign(
            actor=sa,
            repair_order=order,
            version=order.version,
            kind="screen",
            signed_by_name="张伟",
            signature_png=data,
        )
    assert refused.value.code == "invalid_signature"
    order.refresh_from_db()
    assert order.status == S.ESTIMATED and order.signed_at is None
    assert order.lines.get().approval == Approval.PROPOSED


def test_a_one_colour_opaque_canvas_is_blank(bj, sa):
    image = Image.new("RGB", (200, 80), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    with pytest.raises(ValidationFailed):
        authorization.check_signature_png(out.getvalue())


def test_signing_needs_the_estimate_terms(bj, sa):
    from aftersales.workorders.transitions import GuardRefused

    order = estimated(bj)
    order.__class__.objects.filter(pk=order.pk).update(payment_method="")
    with pytest.raises(GuardRefused):
        authorization.repair_order_sign(
            actor=sa, repair_order=order, version=order.version, kind="paper", signed_by_name="张"
        )
    order.refresh_from_db()
    assert order.status == S.ESTIMATED and order.lines.get().approval == Approval.PROPOSED


def test_work_cannot_start_before_the_signature(bj, demo_org):
    order = make_repair_order(dealer=bj, status=S.APPROVED, signed_at=None, signature_kind="")
    codes = {r.code for r in refusals(order, S.IN_PROGRESS, demo_org["bj01-tech"])}
    assert "not_authorized" in codes
    from aftersales.workorders.transitions import GuardRefused

    with pytest.raises(GuardRefused):
        repair_order_transition(repair_order=order, to=S.IN_PROGRESS, actor=demo_org["bj01-tech"])


def test_a_signed_order_passes_the_signature_guard(bj, sa, demo_org):
    order = estimated(bj)
    order = authorization.repair_order_sign(
        actor=sa, repair_order=order, version=order.version, kind="paper", signed_by_name="张伟"
    )
    codes = {r.code for r in refusals(order, S.IN_PROGRESS, demo_org["bj01-tech"])}
    assert "not_authorized" not in codes


def test_a_cancelled_order_cannot_be_signed(bj, sa):
    order = estimated(bj, status=S.CANCELLED)
    with pytest.raises(OrderClosed):
        authorization.repair_order_sign(
            actor=sa, repair_order=order, version=order.version, kind="paper", signed_by_name="张"
        )


def test_a_technician_may_not_record_the_signature(bj, demo_org):
    from aftersales.core.errors import PermissionDenied

    order = estimated(bj)
    with pytest.raises(PermissionDenied):
        authorization.repair_order_sign(
            actor=demo_org["bj01-tech"],
            repair_order=order,
            version=order.version,
            kind="paper",
            signed_by_name="张",
        )


# ---------------------------------------------------------------- additional work


def _additional(order, sa):
    op = make_operation(code="OP-ADDL", hours="1.5", warranty_scope="none")
    return estimate.line_add_labour(
        actor=sa, repair_order=order, version=order.version, operation=op
    )


def test_approval_by_phone_records_who_called_and_the_customer(bj, sa):
    order = make_repair_order(dealer=bj, status=S.IN_PROGRESS)
    line = _additional(order, sa)
    order.refresh_from_db()
    line = authorization.line_decide(
        actor=sa,
        line=line,
        version=order.version,
        decision="approved",
        channel="phone",
        customer_name="王先生",
    )
    assert line.approval == Approval.APPROVED
    assert line.approval_channel == ApprovalChannel.PHONE
    assert line.approval_recorded_by == sa
    assert line.approved_by_name == "王先生"
    event = order.events.filter(kind=EventKind.APPROVAL).last()
    assert event.actor == sa
    assert event.data["channel"] == "phone" and event.data["customer_name"] == "王先生"
    # deciding it again is refused
    order.refresh_from_db()
    with pytest.raises(authorization.AlreadyDecided) as refused:
        authorization.line_decide(
            actor=sa,
            line=line,
            version=order.version,
            decision="declined",
            channel="counter",
            customer_name="王先生",
        )
    assert refused.value.status == 409


def test_a_declined_line_is_kept_as_a_declined_recommendation(bj, sa, demo_org):
    from aftersales.parts.choices import ReservationStatus
    from aftersales.parts.models import Fitment
    from aftersales.parts.testing import make_part, make_warehouse, stock_up

    warehouse = make_warehouse(dealer=bj)
    order = make_repair_order(dealer=bj, status=S.IN_PROGRESS, warehouse=warehouse)
    part = make_part(list_price=Decimal("200"))
    Fitment.objects.create(part=part, vehicle_model_id=order.vehicle.variant.vehicle_model_id)
    stock_up(warehouse=warehouse, part=part, quantity=1)
    line = estimate.line_add_part(
        actor=sa, repair_order=order, version=order.version, part=part, quantity=1
    )
    order.refresh_from_db()
    total_before = order.estimate_total
    authorization.line_decide(
        actor=sa,
        line=line,
        version=order.version,
        decision="declined",
        channel="counter",
        customer_name="张伟",
    )
    line.refresh_from_db()
    line.reservation.refresh_from_db()
    order.refresh_from_db()
    assert line.approval == Approval.DECLINED
    assert line.reservation.status == ReservationStatus.RELEASED
    assert order.estimate_total == total_before - Decimal("200.00")
    assert list(authorization.declined_recommendations(sa, order.vehicle)) == [line]
    assert not authorization.declined_recommendations(demo_org["tj01-sa"], order.vehicle).exists()


def test_an_additional_line_on_a_closed_order_cannot_be_approved(bj, sa):
    from aftersales.workorders.models import RepairOrderLine

    order = make_repair_order(dealer=bj, status=S.CLOSED)
    line = RepairOrderLine.objects.create(
        repair_order=order, kind="fee", description="x", additional=True, amount=1
    )
    with pytest.raises(OrderClosed):
        authorization.line_decide(
            actor=sa,
            line=line,
            version=order.version,
            decision="approved",
            channel="counter",
            customer_name="张伟",
        )
    line.refresh_from_db()
    assert line.approval == Approval.PROPOSED


def test_a_decision_needs_the_customers_name(bj, sa):
    order = make_repair_order(dealer=bj, status=S.IN_PROGRESS)
    line = _additional(order, sa)
    order.refresh_from_db()
    with pytest.raises(ValidationFailed) as refused:
        authorization.line_decide(
            actor=sa,
            line=line,
            version=order.version,
            decision="approved",
            channel="phone",
            customer_name=" ",
        )
    assert "customer_name" in refused.value.fields
