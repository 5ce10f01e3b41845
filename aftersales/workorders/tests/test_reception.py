"""Reception: opening a repair order, the reception data, the walk-around, photos,
checking in (warranty, odometer, comebacks)."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.crm.models import DealerVehicle, OdometerReading
from aftersales.crm.testing import make_customer, make_vehicle
from aftersales.org.models import Dealer
from aftersales.workorders import reception
from aftersales.workorders.choices import FuelLevel, ROStatus, WarrantyStatus
from aftersales.workorders.models import (
    RepairOrder,
    RepairOrderEvent,
    RepairOrderLine,
    RepairOrderPhoto,
    ServiceSettings,
)
from aftersales.workorders.testing import make_operation, make_repair_order
from aftersales.workorders.transitions import GuardRefused, StaleVersion

S = ROStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def bj01(demo_org):
    return Dealer.objects.get(code="BJ01")


@pytest.fixture
def tj01(demo_org):
    return Dealer.objects.get(code="TJ01")


@pytest.fixture
def sa(demo_org):
    return demo_org["bj01-sa"]


@pytest.fixture
def vehicle(bj01):
    return make_vehicle(owner=make_customer(dealer=bj01), dealer=bj01, odometer_km=12_000)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def png_bytes(size=(8, 6), fmt="PNG"):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def open_order(sa, bj01, vehicle, **kwargs):
    return reception.repair_order_open(actor=sa, dealer=bj01, vehicle=vehicle, **kwargs)


def fill(order, sa, **extra):
    data = {
        "odometer_km": 12_500,
        "fuel_level": FuelLevel.HALF,
        "concern": "前轮刹车有异响",
        "covers_installed": True,
    }
    data.update(extra)
    return reception.reception_update(actor=sa, repair_order=order, version=order.version, **data)


# ---------------------------------------------------------------- opening


def test_open_makes_a_numbered_draft_for_the_owner_and_the_relationship(sa, tj01, demo_org):
    # given a vehicle sold and registered at TJ01, unknown to BJ01
    bj01 = Dealer.objects.get(code="BJ01")
    vehicle = make_vehicle(owner=make_customer(dealer=tj01), dealer=tj01)
    assert not DealerVehicle.objects.filter(dealer=bj01, vehicle=vehicle).exists()
    # when BJ01's advisor opens an order for it
    order = open_order(sa, bj01, vehicle, concern="空调不凉")
    # then it is a draft numbered for BJ01, for the owner, advised by the actor
    assert order.status == S.DRAFT
    assert order.number.startswith(f"RO-BJ01-{timezone.localdate().year}-")
    assert (order.customer_id, order.service_advisor_id) == (vehicle.owner_id, sa.pk)
    assert order.contact_mobile == vehicle.owner.mobile
    # and BJ01 may see the vehicle from now on, and the timeline starts
    assert DealerVehicle.objects.filter(dealer=bj01, vehicle=vehicle).exists()
    assert RepairOrderEvent.objects.filter(repair_order=order, to_status=S.DRAFT).count() == 1


def test_open_takes_the_dealers_first_active_warehouse(sa, bj01, vehicle):
    from aftersales.parts.testing import make_warehouse

    make_warehouse(dealer=bj01, code="Z-BODY")
    main = make_warehouse(dealer=bj01, code="A-MAIN")
    order = open_order(sa, bj01, vehicle)
    assert order.warehouse_id == main.pk


def test_second_open_order_for_the_vehicle_is_refused_naming_the_first(sa, bj01, vehicle):
    first = open_order(sa, bj01, vehicle)
    with pytest.raises(reception.AlreadyOpen) as refused:
        open_order(sa, bj01, vehicle)
    assert refused.value.status == 409 and refused.value.code == "already_open"
    assert first.number in str(refused.value.message)
    assert RepairOrder.objects.filter(vehicle=vehicle).count() == 1


def test_a_delivered_order_does_not_block_a_new_one(sa, bj01, vehicle):
    make_repair_order(dealer=bj01, status=S.DELIVERED, vehicle=vehicle, delivered_at=timezone.now())
    assert open_order(sa, bj01, vehicle).status == S.DRAFT


def test_open_needs_the_permission_at_that_dealer(demo_org, bj01, tj01, vehicle):
    with pytest.raises(PermissionDenied):
        open_order(demo_org["bj01-tech"], bj01, vehicle)
    with pytest.raises(PermissionDenied):
        open_order(demo_org["tj01-sa"], bj01, vehicle)
    assert not RepairOrder.objects.filter(vehicle=vehicle).exists()


def test_open_with_the_same_idempotency_key_acts_once(sa, bj01, vehicle):
    first = open_order(sa, bj01, vehicle, idempotency_key="k-1")
    again = open_order(sa, bj01, vehicle, idempotency_key="k-1")
    assert again.pk == first.pk
    assert RepairOrder.objects.filter(vehicle=vehicle).count() == 1


def test_open_refuses_a_bad_mobile(sa, bj01, vehicle):
    with pytest.raises(ValidationFailed) as refused:
        open_order(sa, bj01, vehicle, contact_mobile="1391234")
    assert "contact_mobile" in refused.value.fields
    assert not RepairOrder.objects.filter(vehicle=vehicle).exists()


# ---------------------------------------------------------------- reception data


def test_reception_update_saves_and_normalises(sa, bj01, vehicle):
    order = open_order(sa, bj01, vehicle)
    order = fill(order, sa, contact_mobile="139 0000 1111", valuables="行车记录仪")
    order.refresh_from_db()
    assert order.odometer_km == 12_500 and not order.odometer_suspect
    assert order.contact_mobile == "13900001111"
    assert (order.fuel_level, order.valuables, order.covers_installed) == ("50", "行车记录仪", True)
    assert order.version == 2


def test_stale_version_is_refused(sa, bj01, vehicle):
    order = open_order(sa, bj01, vehicle)
    fill(order, sa)
    with pytest.raises(StaleVersion):
        reception.reception_update(actor=sa, repair_order=order, version=1, concern="别的")
    order.refresh_from_db()
    assert order.concern == "前轮刹车有异响"


def test_bad_values_are_refused_and_change_nothing(sa, bj01, vehicle):
    order = open_order(sa, bj01, vehicle)
    for bad in ({"odometer_km": "abc"}, {"fuel_level": "60"}, {"kind": "party"}, {"owner": 1}):
        with pytest.raises(ValidationFailed):
            reception.reception_update(actor=sa, repair_order=order, version=1, **bad)
    order.refresh_from_db()
    assert (order.odometer_km, order.fuel_level, order.version) == (None, "", 1)


def test_lower_odometer_is_flagged_and_check_in_needs_a_reason(sa, bj01, vehicle):
    # given a vehicle last read at 12,000 km
    order = open_order(sa, bj01, vehicle)
    # when the advisor enters 9,000 km
    order = fill(order, sa, odometer_km=9_000)
    # then the order is flagged and the answer warns
    assert order.odometer_suspect
    assert "12000" in order.warnings[0] and "9000" in order.warnings[0]
    # and checking in is refused without a reason
    with pytest.raises(GuardRefused) as refused:
        reception.repair_order_check_in(actor=sa, repair_order=order, version=order.version)
    assert refused.value.code == "odometer_reason"
    order.refresh_from_db()
    assert order.status == S.DRAFT
    # when the reason is given, check-in goes through
    order = reception.reception_update(
        actor=sa, repair_order=order, version=order.version, odometer_reason="更换过仪表盘"
    )
    order = reception.repair_order_check_in(actor=sa, repair_order=order, version=order.version)
    assert order.status == S.CHECKED_IN
    # and the vehicle keeps its higher reading: the low one stays on the order only
    vehicle.refresh_from_db()
    assert vehicle.odometer_km == 12_000
    assert not OdometerReading.objects.filter(vehicle=vehicle, km=9_000).exists()
    # a suspect reading never decides "in warranty" by itself
    assert order.warranty_status in (WarrantyStatus.OEM_DECISION, WarrantyStatus.OUT)


def test_correcting_the_odometer_up_clears_the_flag(sa, bj01, vehicle):
    order = fill(open_order(sa, bj01, vehicle), sa, odometer_km=9_000, odometer_reason="x")
    order = reception.reception_update(
        actor=sa, repair_order=order, version=order.version, odometer_km=12_345
    )
    assert not order.odometer_suspect and order.odometer_reason == "" and order.warnings == []


def test_check_in_records_the_reading_and_the_warranty(sa, bj01, vehicle):
    order = fill(open_order(sa, bj01, vehicle), sa, odometer_km=12_800)
    order = reception.repair_order_check_in(actor=sa, repair_order=order, version=order.version)
    order.refresh_from_db()
    assert order.status == S.CHECKED_IN and order.checked_in_at is not None
    vehicle.refresh_from_db()
    assert vehicle.odometer_km == 12_800
    assert OdometerReading.objects.filter(vehicle=vehicle, km=12_800, dealer=bj01).exists()
    # sold 2024-03-01 with 12,800 km: well within the 3-year / 100,000 km term
    assert order.warranty_status == WarrantyStatus.IN and order.warranty_reason


def test_check_in_refusals_name_the_missing_data(sa, bj01, vehicle):
    order = open_order(sa, bj01, vehicle)
    with pytest.raises(GuardRefused) as refused:
        reception.repair_order_check_in(actor=sa, repair_order=order, version=order.version)
    assert {"odometer_km", "fuel_level", "concern", "covers_installed"} <= set(refused.value.fields)


def test_after_work_starts_only_concern_and_diagnosis_change(sa, bj01, vehicle):
    order = make_repair_order(dealer=bj01, status=S.IN_PROGRESS, vehicle=vehicle)
    with pytest.raises(reception.ReceptionLocked):
        reception.reception_update(
            actor=sa, repair_order=order, version=order.version, valuables="伞"
        )
    order = reception.reception_update(
        actor=sa, repair_order=order, version=order.version, diagnosis="刹车片磨损到极限"
    )
    assert order.diagnosis == "刹车片磨损到极限"


def test_odometer_cannot_change_after_check_in(sa, bj01, vehicle):
    order = make_repair_order(dealer=bj01, status=S.CHECKED_IN, vehicle=vehicle)
    with pytest.raises(reception.ReceptionLocked):
        reception.reception_update(actor=sa, repair_order=order, version=1, odometer_km=1)


# ---------------------------------------------------------------- walk-around


def test_walkaround_marks_are_kept_rounded(sa, bj01, vehicle):
    order = open_order(sa, bj01, vehicle)
    marks = [
        {"x": 10.04, "y": 90, "kind": "scratch", "note": "左前门"},
        {"x": 0, "y": 100, "kind": "dent"},
    ]
    order = reception.reception_update(actor=sa, repair_order=order, version=1, walkaround=marks)
    order.refresh_from_db()
    assert order.walkaround == [
        {"x": 10.0, "y": 90.0, "kind": "scratch", "note": "左前门"},
        {"x": 0.0, "y": 100.0, "kind": "dent", "note": ""},
    ]


@pytest.mark.parametrize(
    "marks",
    [
        "scratch",
        [{"x": 101, "y": 5, "kind": "dent"}],
        [{"x": -1, "y": 5, "kind": "dent"}],
        [{"x": "5", "y": 5, "kind": "dent"}],
        [{"x": True, "y": 5, "kind": "dent"}],
        [{"x": 5, "y": 5, "kind": "burn"}],
        [{"x": 5, "y": 5, "kind": "dent", "colour": "red"}],
        [{"x": 5, "y": 5, "kind": "dent", "note": "长" * 101}],
        [{"x": 5, "y": 5, "kind": "chip"}] * 51,
    ],
    ids=["not-list", "x>100", "x<0", "x-text", "x-bool", "kind", "extra", "note", "51-marks"],
)
def test_walkaround_is_validated_strictly(sa, bj01, vehicle, marks):
    order = open_order(sa, bj01, vehicle)
    with pytest.raises(ValidationFailed) as refused:
        reception.reception_update(actor=sa, repair_order=order, version=1, walkaround=marks)
    assert "walkaround" in refused.value.fields
    order.refresh_from_db()
    assert order.walkaround == [] and order.version == 1


# ---------------------------------------------------------------- photos


def test_photo_accepts_a_real_png_whatever_its_name(sa, bj01, vehicle):
    order = open_order(sa, bj01, vehicle)
    upload = SimpleUploadedFile("IMG_0001.jpg", png_bytes(), content_type="image/jpeg")
    photo = reception.photo_add(actor=sa, repair_order=order, upload=upload, kind="damage")
    assert photo.content_type == "image/png"
    assert photo.image.name.endswith(".png") and order.number in photo.image.name
    with photo.image.open("rb") as stored:
        assert stored.read() == png_bytes()
    assert RepairOrderEvent.objects.filter(repair_order=order, kind="photo").count() == 1


def test_photo_refuses_a_text_file_named_jpg(sa, bj01, vehicle):
    order = open_order(sa, bj01, vehicle)
    upload = SimpleUploadedFile("damage.jpg", b"not an image at all", content_type="image/jpeg")
    with pytest.raises(ValidationFailed) as refused:
        reception.photo_add(actor=sa, repair_order=order, upload=upload, kind="damage")
    assert refused.value.code == "not_an_image"
    assert not RepairOrderPhoto.objects.exists()


def test_photo_refuses_a_gif_and_a_huge_file(sa, bj01, vehicle):
    order = open_order(sa, bj01, vehicle)
    gif = SimpleUploadedFile("a.gif", png_bytes(fmt="GIF"), content_type="image/gif")
    with pytest.raises(ValidationFailed):
        reception.photo_add(actor=sa, repair_order=order, upload=gif, kind="damage")
    huge = SimpleUploadedFile("b.png", png_bytes() + b"\0" * (10 * 1024 * 1024))
    with pytest.raises(ValidationFailed) as refused:
        reception.photo_add(actor=sa, repair_order=order, upload=huge, kind="damage")
    assert refused.value.code == "too_large"
    assert not RepairOrderPhoto.objects.exists()


def test_photo_remove(sa, bj01, vehicle, demo_org):
    order = open_order(sa, bj01, vehicle)
    upload = SimpleUploadedFile("a.png", png_bytes())
    photo = reception.photo_add(actor=sa, repair_order=order, upload=upload, kind="damage")
    with pytest.raises(PermissionDenied):
        reception.photo_remove(actor=demo_org["tj01-sa"], photo=photo)
    reception.photo_remove(actor=sa, photo=photo)
    assert not RepairOrderPhoto.objects.exists()


# ---------------------------------------------------------------- comebacks


def _delivered(dealer, vehicle, *, days_ago, concern, status=S.DELIVERED):
    when = timezone.now() - datetime.timedelta(days=days_ago)
    return make_repair_order(
        dealer=dealer,
        status=status,
        vehicle=vehicle,
        concern=concern,
        delivered_at=when,
        closed_at=when if status == S.CLOSED else None,
    )


def _check_in(sa, bj01, vehicle, concern):
    order = fill(open_order(sa, bj01, vehicle), sa, concern=concern)
    return reception.repair_order_check_in(actor=sa, repair_order=order, version=order.version)


def test_similar_concern_within_the_window_is_a_comeback(sa, bj01, vehicle):
    first = _delivered(bj01, vehicle, days_ago=12, concern="前轮刹车有异响", status=S.CLOSED)
    order = _check_in(sa, bj01, vehicle, "刹车异响又出现了")
    assert order.comeback_of_id == first.pk
    event = RepairOrderEvent.objects.get(repair_order=order, data__comeback_of=first.pk)
    assert first.number in event.message


def test_a_visit_at_another_dealer_counts(sa, bj01, tj01, vehicle):
    first = _delivered(tj01, vehicle, days_ago=5, concern="Front brakes squeal")
    order = _check_in(sa, bj01, vehicle, "front brake squeal again")
    assert order.comeback_of_id == first.pk


def test_outside_the_window_or_a_different_concern_is_not_a_comeback(sa, bj01, vehicle):
    _delivered(bj01, vehicle, days_ago=31, concern="前轮刹车有异响", status=S.CLOSED)
    _delivered(bj01, vehicle, days_ago=3, concern="空调不制冷")
    order = _check_in(sa, bj01, vehicle, "刹车异响又出现了")
    assert order.comeback_of_id is None


def test_the_window_is_the_dealers_setting(sa, bj01, vehicle):
    ServiceSettings.objects.create(dealer=bj01, comeback_days=60)
    first = _delivered(bj01, vehicle, days_ago=45, concern="前轮刹车有异响", status=S.CLOSED)
    assert _check_in(sa, bj01, vehicle, "刹车异响").comeback_of_id == first.pk


def test_a_shared_operation_category_is_a_comeback(sa, bj01, vehicle):
    first = _delivered(bj01, vehicle, days_ago=10, concern="仪表报警")
    order = fill(open_order(sa, bj01, vehicle), sa, concern="车窗升降不灵")
    assert reception.find_comeback(order) is None
    operation = make_operation(code="OP-EL-1", name="检查电路", category="electrical")
    for target in (first, order):
        RepairOrderLine.objects.create(
            repair_order=target, kind="labour", operation=operation, description="检查电路"
        )
    assert reception.find_comeback(order) == first


def test_similarity_examples():
    assert reception.concern_similarity("前轮刹车有异响", "刹车异响又出现了") >= 0.25
    assert reception.concern_similarity("前轮刹车有异响", "空调不制冷") == 0
    assert reception.concern_similarity("Engine light is on", "engine warning light") >= 0.25
    assert reception.concern_similarity("", "刹车") == 0


def test_advisor_sets_corrects_and_clears_the_comeback(sa, bj01, vehicle, demo_org):
    first = _delivered(bj01, vehicle, days_ago=60, concern="空调不制冷")
    order = open_order(sa, bj01, vehicle)
    order = reception.repair_order_set_comeback(
        actor=sa, repair_order=order, version=order.version, comeback_of=first.number
    )
    assert order.comeback_of_id == first.pk
    # another vehicle's order is refused
    stranger = make_repair_order(dealer=bj01, status=S.CLOSED)
    with pytest.raises(ValidationFailed):
        reception.repair_order_set_comeback(
            actor=sa, repair_order=order, version=order.version, comeback_of=stranger.pk
        )
    with pytest.raises(PermissionDenied):
        reception.repair_order_set_comeback(
            actor=demo_org["bj01-tech"], repair_order=order, version=order.version
        )
    order = reception.repair_order_set_comeback(
        actor=sa, repair_order=order, version=order.version, comeback_of=None
    )
    order.refresh_from_db()
    assert order.comeback_of_id is None
    messages = list(
        RepairOrderEvent.objects.filter(repair_order=order, kind="note").values_list(
            "message", flat=True
        )
    )
    assert len(messages) == 2 and first.number in messages[0]
