"""Pages of the labour catalogue and the workshop set-up."""

from decimal import Decimal

import pytest
from django.urls import reverse

from aftersales.catalogue.demo import load_catalogue_demo
from aftersales.catalogue.models import Variant, VehicleModel
from aftersales.org.models import Dealer
from aftersales.parts.testing import make_part
from aftersales.workorders.models import (
    LabourOperation,
    LabourRate,
    LabourTime,
    MaintenancePackage,
    ServiceSettings,
    WorkshopBay,
)
from aftersales.workorders.testing import make_bay, make_operation, make_rates

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client, demo_org):
    def as_(username):
        client.force_login(demo_org[username])
        return client

    return as_


@pytest.fixture
def x3(db):
    load_catalogue_demo()
    return VehicleModel.objects.get(code="X3")


# ------------------------------------------------------------------ operations


def test_operation_list_searches_and_filters(login):
    # given three operations
    make_operation(code="BR-01", name="更换前刹车片", category="chassis")
    make_operation(code="OIL-01", name="更换机油机滤", category="maintenance")
    make_operation(code="HV-01", name="更换车载充电机", category="hv", name_en="Replace OBC")
    client = login("bj01-sa")
    url = reverse("labour-operation-list")

    def codes(**params):
        response = client.get(url, params)
        assert response.status_code == 200
        return [op.code for op in response.context["object_list"]]

    # then search matches code, Chinese and English name; the category narrows
    assert codes() == ["BR-01", "HV-01", "OIL-01"]
    assert codes(q="br-") == ["BR-01"]
    assert codes(q="机油") == ["OIL-01"]
    assert codes(q="obc") == ["HV-01"]
    assert codes(category="hv") == ["HV-01"]
    # and an advisor gets no create form
    assert client.get(url).context["form"] is None


def test_operation_list_query_count_is_fixed(login, django_assert_max_num_queries):
    client = login("bj01-sa")
    url = reverse("labour-operation-list")
    for i in range(3):
        make_operation(code=f"Q{i:03d}")
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    for i in range(3, 45):
        make_operation(code=f"Q{i:03d}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(response.context["object_list"]) == 45


def test_oem_admin_creates_an_operation(login):
    client = login("oem-admin")
    response = client.post(
        reverse("labour-operation-list"),
        {
            "code": "br-02",
            "name": "更换后刹车片",
            "category": "chassis",
            "warranty_scope": "vehicle",
            "default_hours": "1.1",
            "active": "on",
        },
    )
    op = LabourOperation.objects.get(code="BR-02")
    assert response.status_code == 302
    assert response["Location"] == reverse("labour-operation-detail", args=[op.pk])
    assert op.default_hours == Decimal("1.10")


def test_create_with_a_taken_code_shows_the_error(login):
    make_operation(code="BR-03")
    client = login("oem-admin")
    response = client.post(
        reverse("labour-operation-list"),
        {
            "code": "BR-03",
            "name": "x",
            "category": "chassis",
            "warranty_scope": "vehicle",
            "default_hours": "1",
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["code"]
    assert LabourOperation.objects.filter(code="BR-03").count() == 1


def test_dealer_staff_cannot_create_operations(login):
    client = login("bj01-admin")
    response = client.post(
        reverse("labour-operation-list"),
        {"code": "X-1", "name": "x", "category": "other", "default_hours": "1"},
    )
    assert response.status_code == 403
    assert not LabourOperation.objects.filter(code="X-1").exists()


def test_operation_detail_sets_and_removes_standard_times(login, x3):
    op = make_operation(code="BR-04", hours="1.2")
    variant = Variant.objects.get(code="X3-15T-2024")
    client = login("oem-admin")
    url = reverse("labour-operation-detail", args=[op.pk])
    # when a model time and a variant time are set
    for data in (
        {"action": "time_set", "vehicle_model": x3.pk, "hours": "1.5"},
        {"action": "time_set", "vehicle_model": x3.pk, "variant": variant.pk, "hours": "1.3"},
    ):
        assert client.post(url, data).status_code == 302
    # then the page lists them
    response = client.get(url)
    assert [(t.variant_id, t.hours) for t in response.context["times"]] == [
        (None, Decimal("1.50")),
        (variant.pk, Decimal("1.30")),
    ]
    # when a variant of another model is given, the error is shown and nothing saved
    s7 = VehicleModel.objects.get(code="S7")
    response = client.post(
        url, {"action": "time_set", "vehicle_model": s7.pk, "variant": variant.pk, "hours": "1"}
    )
    assert response.status_code == 400
    assert response.context["time_form"].errors["variant"]
    # when one is removed
    time = LabourTime.objects.get(operation=op, variant=variant)
    assert client.post(url, {"action": "time_remove", "time": time.pk}).status_code == 302
    assert list(LabourTime.objects.filter(operation=op).values_list("variant", flat=True)) == [None]


def test_operation_edit(login):
    op = make_operation(code="BR-05", hours="1.0")
    client = login("oem-admin")
    url = reverse("labour-operation-detail", args=[op.pk])
    data = {
        "action": "update",
        "name": "更换前刹车片（新）",
        "category": "chassis",
        "warranty_scope": "none",
        "default_hours": "0",
    }
    response = client.post(url, data)
    assert response.status_code == 400 and response.context["form"].errors["default_hours"]
    response = client.post(url, {**data, "default_hours": "0.9"})
    op.refresh_from_db()
    assert response.status_code == 302
    assert (op.name, op.warranty_scope, op.default_hours, op.active) == (
        "更换前刹车片（新）",
        "none",
        Decimal("0.90"),
        False,
    )


def test_operation_detail_read_only_for_a_technician(login):
    op = make_operation(code="BR-06")
    client = login("bj01-tech")
    url = reverse("labour-operation-detail", args=[op.pk])
    response = client.get(url)
    assert response.status_code == 200 and response.context["form"] is None
    assert client.post(url, {"action": "update"}).status_code == 403


# ------------------------------------------------------------------ packages


def test_package_create_and_edit(login, x3):
    change = make_operation(code="PK-OIL")
    make_operation(code="PK-CHK")
    oil = make_part(number="OIL-4L", name="机油 4L")
    client = login("oem-admin")
    response = client.post(
        reverse("package-list"),
        {
            "code": "x3-10k",
            "name": "X3 1万公里保养",
            "vehicle_model": x3.pk,
            "interval_km": "10000",
            "active": "on",
            "operations": "PK-OIL",
            "parts": "OIL-4L × 4",
        },
    )
    package = MaintenancePackage.objects.get(code="X3-10K")
    assert response.status_code == 302
    assert [po.operation for po in package.operations.all()] == [change]
    assert [(pp.part, pp.quantity) for pp in package.parts.all()] == [(oil, Decimal("4.00"))]
    # the detail page shows the contents and prefills the form
    url = reverse("package-detail", args=[package.pk])
    page = client.get(url)
    assert "OIL-4L × 4" in page.context["form"].initial["parts"]
    assert "机油 4L" in page.content.decode()
    # an unknown operation code is refused with the code named
    response = client.post(
        url, {"name": "X3", "operations": "PK-OIL, NOPE", "parts": "OIL-4L 4", "active": "on"}
    )
    assert response.status_code == 400
    assert "NOPE" in str(response.context["form"].errors["operations"])
    # a valid edit replaces the operations
    response = client.post(
        url, {"name": "X3", "operations": "PK-OIL, pk-chk", "parts": "OIL-4L 5", "active": "on"}
    )
    assert response.status_code == 302
    assert package.operations.count() == 2
    assert package.parts.get().quantity == Decimal("5.00")


def test_package_list_for_an_advisor(login):
    MaintenancePackage.objects.create(code="P1", name="首保", interval_km=5000)
    client = login("bj01-sa")
    response = client.get(reverse("package-list"), {"q": "首保"})
    assert [p.code for p in response.context["object_list"]] == ["P1"]
    assert response.context["form"] is None
    assert client.post(reverse("package-list"), {"code": "P2"}).status_code == 403


# ------------------------------------------------------------------ workshop set-up


def test_service_manager_sets_rates_bays_and_settings(login):
    bj01 = Dealer.objects.get(code="BJ01")
    client = login("bj01-svcmgr")
    url = reverse("workshop-setup")
    page = client.get(url)
    assert page.status_code == 200 and page.context["dealer"] == bj01
    assert page.context["rates_form"] is not None
    # rates: empty boxes leave a rate unset
    response = client.post(
        url, {"action": "rates", "dealer": bj01.pk, "customer": "180", "warranty": "150"}
    )
    assert response.status_code == 302
    assert dict(LabourRate.objects.filter(dealer=bj01).values_list("pay_type", "rate")) == {
        "customer": Decimal("180.00"),
        "warranty": Decimal("150.00"),
    }
    # bays: add, refuse a duplicate code with the message, edit
    assert (
        client.post(
            url, {"action": "bay_create", "code": "b01", "name": "1号工位", "kind": "general"}
        ).status_code
        == 302
    )
    response = client.post(
        url, {"action": "bay_create", "code": "B01", "name": "again", "kind": "general"}
    )
    assert response.status_code == 400
    assert "B01" in str(response.context["bay_form"].errors)
    bay = WorkshopBay.objects.get(dealer=bj01)
    prefix = f"bay{bay.pk}"
    response = client.post(
        url,
        {
            "action": "bay_update",
            "bay": bay.pk,
            f"{prefix}-name": "快修",
            f"{prefix}-kind": "quick",
        },
    )
    bay.refresh_from_db()
    assert response.status_code == 302 and (bay.name, bay.kind, bay.active) == (
        "快修",
        "quick",
        False,
    )
    # settings: a due time below 24 hours is refused, a valid one saved
    settings = {
        "action": "settings",
        "follow_up_after_hours": "24",
        "follow_up_due_hours": "12",
        "follow_up_attempts": "3",
        "low_score": "3",
        "comeback_days": "30",
        "workday_start": "08:30",
        "workday_end": "18:00",
    }
    response = client.post(url, settings)
    assert response.status_code == 400
    assert response.context["settings_form"].errors["follow_up_due_hours"]
    assert not ServiceSettings.objects.filter(dealer=bj01).exists()
    assert client.post(url, {**settings, "follow_up_due_hours": "48"}).status_code == 302
    assert ServiceSettings.for_dealer(bj01).follow_up_due_hours == 48


def test_advisor_reads_the_setup_without_forms(login):
    bj01 = Dealer.objects.get(code="BJ01")
    make_rates(bj01)
    make_bay(bj01)
    client = login("bj01-sa")
    page = client.get(reverse("workshop-setup"))
    assert page.status_code == 200
    assert page.context["rates_form"] is None and page.context["bay_form"] is None
    assert dict((v, r) for v, _label, r in page.context["rates"])["customer"] == Decimal("120")
    assert [b.code for b in page.context["object_list"]] == ["B01"]
    response = client.post(reverse("workshop-setup"), {"action": "rates", "customer": "1"})
    assert response.status_code == 403
    assert LabourRate.objects.get(dealer=bj01, pay_type="customer").rate == Decimal("120")


def test_region_manager_picks_a_dealer_of_the_region(login):
    tj01, sh01 = Dealer.objects.get(code="TJ01"), Dealer.objects.get(code="SH01")
    make_bay(tj01, code="T01")
    client = login("north-rm")
    page = client.get(reverse("workshop-setup"), {"dealer": tj01.pk})
    assert page.status_code == 200 and page.context["dealer"] == tj01
    assert page.context["choose_dealer"]
    assert [b.code for b in page.context["object_list"]] == ["T01"]
    assert client.get(reverse("workshop-setup"), {"dealer": sh01.pk}).status_code == 404


def test_another_dealers_manager_cannot_post_to_bj01(login):
    bj01 = Dealer.objects.get(code="BJ01")
    client = login("tj01-svcmgr")
    response = client.post(
        reverse("workshop-setup"), {"action": "rates", "dealer": bj01.pk, "customer": "1"}
    )
    assert response.status_code == 404
    assert not LabourRate.objects.filter(dealer=bj01).exists()


def test_pages_render_in_chinese_and_english(login, x3):
    op = make_operation(code="BR-07")
    client = login("oem-admin")
    for language, word in (("zh-hans", "工时"), ("en", "Labour operations")):
        client.cookies["django_language"] = language
        body = client.get(reverse("labour-operation-list"), HTTP_ACCEPT_LANGUAGE=language)
        assert body.status_code == 200
        assert client.get(reverse("labour-operation-detail", args=[op.pk])).status_code == 200
        if language == "en":
            assert word in body.content.decode()
