"""Booking pages: the calendar (week and day, capacity, other dealers' bookings hidden),
the booking form (find the car, live free times, refusals shown translated, a new
customer's car registered on the way), the booking page (history with moves, confirm,
cancel, check in into a repair order) and the owner's own page from a signed link."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from aftersales.appointments.bookings import booking_reschedule
from aftersales.appointments.choices import BookingStatus
from aftersales.appointments.links import booking_link, booking_token
from aftersales.appointments.models import Booking, ClosedDay
from aftersales.appointments.testing import make_booking
from aftersales.crm.models import Customer, Vehicle
from aftersales.crm.testing import make_customer, make_vehicle, valid_vin
from aftersales.workorders.choices import ROStatus
from aftersales.workorders.testing import staff_of

pytestmark = pytest.mark.django_db

TOMORROW = lambda: timezone.localdate() + datetime.timedelta(days=1)  # noqa: E731


@pytest.fixture
def page(client, sa):
    client.force_login(sa)
    return client


def _slot_values(html: str) -> list[str]:
    return re.findall(r'name="starts_at" id="slot-\d+" value="([^"]+)"', html)


# ---------------------------------------------------------------- calendar


def test_the_week_shows_the_dealers_bookings_and_capacity_in_chinese_by_default(
    page, workshop, sa, bj01, tj01
):
    # Given a booking at BJ01 and one at TJ01
    mine = make_booking(bj01, actor=sa)
    theirs = make_booking(tj01)

    # When the BJ01 advisor opens the calendar
    response = page.get(reverse("appointment-calendar"))

    # Then it is in Chinese, lists BJ01's booking only, and shows each day's capacity
    assert response.status_code == 200
    assert "预约日历" in response.text
    assert mine in response.context["object_list"]
    assert theirs not in response.context["object_list"]
    assert mine.vehicle.plate in response.text and theirs.vehicle.plate not in response.text
    day = next(
        r for r in response.context["days"] if r["day"] == timezone.localdate(mine.starts_at)
    )
    assert day["load"]["booked"] == 1.0
    # two all-round technicians 08:30-18:00
    assert day["load"]["available"] == 19.0
    kinds = {k["kind"]: k for k in day["load"]["per_kind"]}
    assert set(kinds) == {"general", "quick"}
    assert kinds[mine.bay.kind]["booked"] == 1.0
    # one advisor: 38 reception slots of 15 minutes, one taken
    assert day["load"]["reception_slots"] == 37


def test_the_day_view_lays_bookings_out_by_bay_and_time_in_english(page, workshop, sa, bj01):
    booking = make_booking(bj01, actor=sa)
    day = timezone.localdate(booking.starts_at)

    response = page.get(
        reverse("appointment-calendar"),
        {"view": "day", "day": day.isoformat()},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert "Booking calendar" in response.text
    assert 'id="day-timeline"' in response.text
    lanes = response.context["days"][0]["lanes"]["lanes"]
    placed = [item for lane in lanes for item in lane["items"]]
    assert [item["booking"] for item in placed] == [booking]
    assert placed[0]["left"] == 0.0  # the first free time: the opening
    assert "free reception slots" in response.text
    assert f'href="{reverse("booking-detail", args=[booking.pk])}"' in response.text


def test_the_calendar_reads_a_fixed_number_of_queries(page, workshop, sa, bj01):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_booking(bj01, actor=sa)
    with CaptureQueriesContext(connection) as one:
        page.get(reverse("appointment-calendar"))
    for _ in range(4):
        make_booking(bj01, vehicle=make_vehicle(owner=make_customer(dealer=bj01), dealer=bj01))
    with CaptureQueriesContext(connection) as five:
        response = page.get(reverse("appointment-calendar"))
    assert len(response.context["object_list"]) == 5
    assert len(five) == len(one)


def test_a_closed_day_says_why(page, workshop, sa, bj01):
    day = TOMORROW()
    ClosedDay.objects.create(dealer=bj01, day=day, reason="盘点")

    response = page.get(reverse("appointment-calendar"), {"view": "day", "day": day.isoformat()})

    assert response.context["days"][0]["load"] is None
    assert "盘点" in response.text


def test_a_region_manager_picks_the_dealer(client, demo_org, workshop, bj01):
    booking = make_booking(bj01)
    manager = next(u for name, u in demo_org.items() if name.endswith("-rm"))
    client.force_login(manager)

    response = client.get(reverse("appointment-calendar"), {"dealer": bj01.pk})

    assert response.status_code == 200
    assert response.context["dealer"] == bj01
    assert len(response.context["dealers"]) > 1
    assert booking in response.context["object_list"]


def test_an_advisor_cannot_open_another_dealers_calendar_or_free_times(page, workshop, bj01, tj01):
    # TJ01 is in BJ01's region: an advisor of BJ01 still sees BJ01 only
    make_booking(tj01)
    calendar = page.get(reverse("appointment-calendar"), {"dealer": tj01.pk})
    assert calendar.context["dealer"] == bj01 and calendar.context["dealers"] == []
    slots = page.get(reverse("booking-slots"), {"dealer": tj01.pk})
    assert slots.status_code == 200
    capacity_of_bj01 = page.get(reverse("booking-slots"))
    assert slots.context["days"] == capacity_of_bj01.context["days"]


# ---------------------------------------------------------------- the booking form


def test_the_form_finds_the_car_and_books_a_suggested_time(page, workshop, sa, bj01, vehicle):
    # Given the advisor found the car by its plate
    found = page.get(reverse("booking-new"), {"q": vehicle.plate})
    assert found.context["vehicle"] == vehicle
    form = found.context["form"]
    # When the free times of tomorrow are asked for
    slots = page.get(
        reverse("booking-slots"),
        {"vehicle": vehicle.pk, "service_type": "maintenance", "day": TOMORROW().isoformat()},
    )
    values = _slot_values(slots.text)
    assert values and values[0].startswith(TOMORROW().isoformat())
    # And the second one is booked
    response = page.post(
        reverse("booking-new"),
        {
            "dealer": bj01.pk,
            "vehicle": vehicle.pk,
            "q": vehicle.plate,
            "idempotency_key": form.initial["idempotency_key"],
            "channel": "phone",
            "service_type": "maintenance",
            "day": TOMORROW().isoformat(),
            "starts_at": values[1],
            "concern": "保养",
            "confirm": "on",
        },
    )
    # Then the booking exists, confirmed, and its page opens
    booking = Booking.objects.get(vehicle=vehicle)
    assert response.status_code == 302
    assert response["Location"] == reverse("booking-detail", args=[booking.pk])
    assert booking.status == BookingStatus.CONFIRMED and booking.channel == "phone"
    assert timezone.localtime(booking.starts_at).strftime("%Y-%m-%d %H:%M") == values[1]


def test_the_slot_partial_follows_the_operations_and_says_when_nothing_is_free(
    page, workshop, bj01, oil_change
):
    day = TOMORROW()
    plain = page.get(reverse("booking-slots"), {"service_type": "repair", "day": day.isoformat()})
    assert plain.context["hours"] == 2
    with_oil = page.get(
        reverse("booking-slots"),
        {"service_type": "maintenance", "operations": [oil_change.pk], "day": day.isoformat()},
    )
    assert with_oil.context["hours"] == 1 and "快修" in with_oil.text  # the quick bay kind
    for offset in range(7):
        ClosedDay.objects.create(dealer=bj01, day=day + datetime.timedelta(days=offset), reason="x")
    closed = page.get(reverse("booking-slots"), {"day": day.isoformat()})
    assert 'id="no-slots"' in closed.text


def test_a_free_time_running_over_lunch_says_when_the_work_is_done(page, workshop, bj01):
    from aftersales.appointments.models import Technician

    # (a shift from 10:30: the first free times shown reach the lunch)
    Technician.objects.filter(dealer=bj01).update(
        shift_start=datetime.time(10, 30),
        break_start=datetime.time(12),
        break_end=datetime.time(13),
    )
    day = TOMORROW()

    slots = page.get(reverse("booking-slots"), {"service_type": "repair", "day": day.isoformat()})

    # two hours of repair from 11:00: one before lunch, one after it
    at_eleven = slots.text.split(f'value="{day.isoformat()} 11:00"')[1].split("</label>")[0]
    assert 'title="预计完工 14:00"' in at_eleven
    assert f'value="{day.isoformat()} 12:30"' not in slots.text  # nothing starts at lunch


def test_form_errors_are_shown_translated(page, workshop, sa, bj01, vehicle):
    data = {
        "dealer": bj01.pk,
        "vehicle": vehicle.pk,
        "q": vehicle.plate,
        "channel": "phone",
        "service_type": "maintenance",
        "day": TOMORROW().isoformat(),
    }
    # no time chosen
    chinese = page.post(reverse("booking-new"), data)
    assert chinese.status_code == 200
    assert "请选择一个空闲时间。" in chinese.text
    english = page.post(reverse("booking-new"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert "Choose one of the free times." in english.text
    # a time on a closed day: the service's reason
    ClosedDay.objects.create(dealer=bj01, day=TOMORROW(), reason="公司活动")
    refused = page.post(
        reverse("booking-new"),
        {**data, "starts_at": f"{TOMORROW().isoformat()} 10:00"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert refused.status_code == 200
    assert "公司活动" in refused.context["error"]
    assert not Booking.objects.filter(vehicle=vehicle).exists()


def test_an_unknown_plate_offers_to_register_the_customer_and_car(page, workshop, sa, bj01):
    from aftersales.catalogue.demo import load_catalogue_demo
    from aftersales.catalogue.models import Variant

    load_catalogue_demo()
    variant = Variant.objects.get(code="X3-15T-2024")
    vin = valid_vin(variant.vin_prefix, variant.model_year)

    looked_up = page.get(reverse("booking-new"), {"q": vin})
    assert looked_up.context["vehicle"] is None
    assert looked_up.context["quick"].initial == {"vin": vin}

    bad = page.post(
        reverse("booking-new"),
        {
            "action": "register",
            "new-name": "王五",
            "new-mobile": "123",
            "new-vin": vin,
            "new-variant": variant.pk,
        },
    )
    assert bad.status_code == 200 and bad.context["quick"].errors
    assert not Vehicle.objects.filter(vin=vin).exists()

    made = page.post(
        reverse("booking-new"),
        {
            "action": "register",
            "dealer": bj01.pk,
            "new-name": "王五",
            "new-mobile": "13912345678",
            "new-vin": vin,
            "new-plate": "京A9K123",
            "new-variant": variant.pk,
        },
    )
    assert made.status_code == 302
    vehicle = Vehicle.objects.get(vin=vin)
    assert vehicle.owner.name == "王五" and vehicle.plate == "京A9K123"
    assert page.get(made["Location"]).context["vehicle"] == vehicle


def test_a_dcrc_agent_books_but_registers_nobody(client, workshop, bj01):
    agent = staff_of(bj01, "dcrc_agent")
    client.force_login(agent)
    response = client.get(reverse("booking-new"), {"q": "京A00000"})
    assert response.status_code == 200
    assert response.context["quick"] is None
    refused = client.post(reverse("booking-new"), {"action": "register", "new-name": "x"})
    assert refused.status_code == 403
    assert not Customer.objects.filter(name="x").exists()


# ---------------------------------------------------------------- the booking page


def test_the_booking_page_shows_history_with_the_move_and_no_shows(page, workshop, sa, bj01):
    booking = make_booking(bj01, actor=sa)
    earlier = Booking.objects.create(
        **{
            f.attname: getattr(booking, f.attname)
            for f in Booking._meta.concrete_fields
            if f.attname not in ("id", "number", "status", "version", "created_at", "updated_at")
        },
        number="AP-OLD-1",
        status=BookingStatus.NO_SHOW,
    )
    assert earlier.customer_id == booking.customer_id
    moved_to = booking.starts_at + datetime.timedelta(days=1)
    booking_reschedule(actor=sa, booking=booking, version=booking.version, starts_at=moved_to)

    response = page.get(reverse("booking-detail", args=[booking.pk]))

    assert response.status_code == 200
    assert response.context["no_shows"] == 1
    assert 'id="no-show-count"' in response.text
    move = (
        f"{timezone.localtime(booking.starts_at):%m-%d %H:%M} → "
        f"{timezone.localtime(moved_to):%m-%d %H:%M}"
    )
    assert move in response.text
    assert 'id="booking-confirm"' in response.text and 'id="check-in-form"' in response.text


def test_confirm_cancel_and_a_stale_form(page, workshop, sa, bj01):
    booking = make_booking(bj01, actor=sa)
    confirmed = page.post(
        reverse("booking-confirm", args=[booking.pk]), {"version": booking.version}
    )
    assert confirmed.status_code == 302
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    # an old form (the version before the confirmation) is refused with the reason
    stale = page.post(
        reverse("booking-cancel", args=[booking.pk]),
        {"version": booking.version - 1, "reason": "客户改期"},
        follow=True,
    )
    assert booking.__class__.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED
    assert [m.level_tag for m in stale.context["messages"]][-1] == "error"
    no_reason = page.post(
        reverse("booking-cancel", args=[booking.pk]),
        {"version": booking.version},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "Say why" in str(list(no_reason.context["messages"])[-1])
    page.post(
        reverse("booking-cancel", args=[booking.pk]),
        {"version": booking.version, "reason": "客户改期"},
    )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and booking.cancel_reason == "客户改期"


def test_check_in_opens_the_repair_order_page(page, workshop, sa, bj01):
    booking = make_booking(bj01, actor=sa)
    response = page.post(
        reverse("booking-check-in", args=[booking.pk]),
        {
            "version": booking.version,
            "odometer_km": 23000,
            "fuel_level": "50",
            "covers_installed": "on",
        },
    )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CHECKED_IN
    assert response.status_code == 302
    assert response["Location"] == reverse("repair-order-detail", args=[booking.repair_order_id])
    assert booking.repair_order.status == ROStatus.CHECKED_IN


def test_another_dealers_booking_is_not_found(page, workshop, tj01):
    theirs = make_booking(tj01)
    assert page.get(reverse("booking-detail", args=[theirs.pk])).status_code == 404
    refused = page.post(reverse("booking-cancel", args=[theirs.pk]), {"reason": "x"})
    assert refused.status_code == 404


# ---------------------------------------------------------------- the owner's link


def test_the_owner_books_from_the_link_without_signing_in(client, workshop, bj01):
    owner = make_customer(dealer=bj01)
    car = make_vehicle(owner=owner, dealer=bj01, plate="京A7B8C9")
    url = booking_link(dealer=bj01, vehicle=car, service_type="maintenance")
    assert url == reverse("booking-link", args=[url.rstrip("/").split("/")[-1]])

    shown = client.get(url)
    assert shown.status_code == 200
    assert "京A***C9" in shown.text and "京A7B8C9" not in shown.text
    slots = client.get(url, {"slots": 1, "day": TOMORROW().isoformat()})
    values = _slot_values(slots.text)
    assert values

    booked = client.post(url, {"starts_at": values[0], "contact_mobile": owner.mobile})
    assert booked.status_code == 302
    booking = Booking.objects.get(vehicle=car)
    assert booking.channel == "reminder" and booking.status == BookingStatus.REQUESTED
    assert booking.created_by is None
    # the page now shows the booking and takes no second one
    again = client.get(url)
    assert booking.number in again.text and again.context["form"] is None
    client.post(url, {"starts_at": values[1]})
    assert Booking.objects.filter(vehicle=car).count() == 1


def test_a_tampered_link_is_not_found_and_an_old_one_expired(client, workshop, bj01, vehicle):
    token = booking_token(dealer=bj01, vehicle=vehicle, service_type="maintenance")
    bad = client.get(reverse("booking-link", args=[token[:-3] + "abc"]))
    assert bad.status_code == 404 and 'data-code="link_invalid"' in bad.text

    from django.core import signing

    from aftersales.appointments import links

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("time.time", lambda: 1_000_000_000.0)
        stale = signing.dumps({"d": bj01.pk, "v": vehicle.pk, "s": "repair"}, salt=links.SALT)
    expired = client.get(reverse("booking-link", args=[stale]))
    assert expired.status_code == 400 and 'data-code="link_expired"' in expired.text
