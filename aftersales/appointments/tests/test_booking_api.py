"""The bookings API: create (a retry with the same Idempotency-Key answers the first
booking), refusals with their codes, confirm / reschedule / cancel / check in, 409 for a
step the status does not allow, another dealer's booking 404, the list's filters with a
fixed number of queries, and the free slots of a dealer."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from aftersales.appointments.models import Booking, ClosedDay
from aftersales.appointments.slots import find_slots
from aftersales.appointments.testing import make_booking
from aftersales.crm.testing import make_customer, make_vehicle

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, sa):
    client.force_login(sa)
    return client


def tomorrow():
    return timezone.localdate() + datetime.timedelta(days=1)


def first_free(dealer, bay_kind="quick", hours=1):
    day = tomorrow()
    return find_slots(
        dealer=dealer,
        first=day,
        last=day + datetime.timedelta(days=6),
        bay_kind=bay_kind,
        hours=hours,
        limit=1,
    )[0].starts_at


def create(api, body, key="k1", **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post(
        reverse("api:booking-list"), body, content_type="application/json", **headers, **extra
    )


def test_a_booking_is_created_once_per_key(api, workshop, bj01, vehicle, oil_change):
    body = {
        "vehicle": vehicle.pk,
        "service_type": "maintenance",
        "channel": "phone",
        "starts_at": first_free(bj01).isoformat(),
        "operations": ["APOIL"],
        "concern": "保养",
    }
    first = create(api, body)
    again = create(api, body)
    assert first.status_code == 201, first.json()
    data = first.json()
    assert data["dealer_code"] == "BJ01" and data["status"] == "requested"
    assert data["bay_kind"] == "quick" and data["hours"] == "1.00"
    assert [op["code"] for op in data["operations"]] == ["APOIL"]
    assert [e["kind"] for e in data["events"]] == ["created"]
    assert again.json()["id"] == data["id"]
    assert Booking.objects.count() == 1


def test_refusals_answer_with_their_codes(api, workshop, bj01, tj01, vehicle):
    day = tomorrow()
    ClosedDay.objects.create(dealer=bj01, day=day, reason="盘点")
    base = {"vehicle": vehicle.pk, "service_type": "maintenance", "channel": "phone"}
    at = lambda d, h, m=0: timezone.make_aware(  # noqa: E731
        datetime.datetime.combine(d, datetime.time(h, m))
    ).isoformat()

    closed = create(api, {**base, "starts_at": at(day, 10)}, key="a", HTTP_ACCEPT_LANGUAGE="en")
    assert closed.status_code == 400 and closed.json()["code"] == "closed_day"
    assert "盘点" in closed.json()["message"] + str(closed.json().get("fields"))
    later = day + datetime.timedelta(days=1)
    night = create(api, {**base, "starts_at": at(later, 20)}, key="b")
    assert night.status_code == 400 and night.json()["code"] == "outside_hours"
    past = create(
        api,
        {**base, "starts_at": at(timezone.localdate() - datetime.timedelta(days=2), 10)},
        key="c",
    )
    assert past.status_code == 400 and past.json()["code"] == "in_the_past"
    body_shop = create(
        api,
        {
            **base,
            "service_type": "repair",
            "operations": [],
            "starts_at": at(later, 10),
            "channel": "phone",
        }
        | _body_op(),
        key="d",
    )
    assert body_shop.status_code == 400 and body_shop.json()["code"] == "no_bay_kind"
    unknown = create(api, {**base, "starts_at": at(later, 10), "operations": ["NOPE"]}, key="e")
    assert unknown.status_code == 400 and "operations" in unknown.json()["fields"]
    other_dealer = create(api, {**base, "dealer": tj01.pk, "starts_at": at(later, 10)}, key="f")
    assert other_dealer.status_code == 404
    assert not Booking.objects.exists()


def _body_op():
    from aftersales.workorders.testing import make_operation

    op = make_operation(code="APPAINT", name="喷漆", hours="3", category="paint", bay_kind="paint")
    return {"operations": [op.code]}


def test_the_last_slot_taken_is_409_slot_taken(api, workshop, bj01, vehicle):
    # Given the one general bay booked from the first free time tomorrow
    taken = make_booking(bj01, service_type="repair")
    # When another repair is booked at that time
    response = create(
        api,
        {
            "vehicle": vehicle.pk,
            "service_type": "repair",
            "channel": "phone",
            "starts_at": taken.starts_at.isoformat(),
        },
    )
    # Then it is refused: the slot is taken
    assert response.status_code == 409 and response.json()["code"] == "slot_taken"
    assert Booking.objects.count() == 1


def test_confirm_reschedule_cancel_and_illegal_steps(api, workshop, sa, bj01):
    booking = make_booking(bj01, actor=sa)
    url = lambda name: reverse(f"api:booking-{name}", args=[booking.pk])  # noqa: E731
    confirmed = api.post(
        url("confirm"), {"version": booking.version}, content_type="application/json"
    )
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    version = confirmed.json()["version"]
    again = api.post(url("confirm"), {"version": version}, content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"
    stale = api.post(url("cancel"), {"version": 1, "reason": "x"}, content_type="application/json")
    assert stale.status_code == 409 and stale.json()["code"] == "stale"

    new_time = booking.starts_at + datetime.timedelta(days=1)
    moved = api.post(
        url("reschedule"),
        {"version": version, "starts_at": new_time.isoformat()},
        content_type="application/json",
    )
    assert moved.status_code == 200, moved.json()
    move = moved.json()["events"][-1]
    assert move["kind"] == "rescheduled"
    assert move["from_starts_at"] is not None and move["to_starts_at"] is not None
    assert moved.json()["reschedules"] == 1

    cancelled = api.post(
        url("cancel"),
        {"version": moved.json()["version"], "reason": "客户改期"},
        content_type="application/json",
    )
    assert cancelled.status_code == 200 and cancelled.json()["cancel_reason"] == "客户改期"
    check_in = api.post(
        url("check-in"),
        {"version": cancelled.json()["version"], "odometer_km": 1000, "fuel_level": "50"},
        content_type="application/json",
    )
    assert check_in.status_code == 409 and check_in.json()["code"] == "illegal_transition"


def test_check_in_answers_the_repair_order(api, workshop, sa, bj01):
    booking = make_booking(bj01, actor=sa)
    response = api.post(
        reverse("api:booking-check-in", args=[booking.pk]),
        {"version": booking.version, "odometer_km": 23000, "fuel_level": "50"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["booking"]["status"] == "checked_in"
    assert body["booking"]["repair_order"] == body["repair_order"]
    assert body["repair_order_number"]


def test_another_dealers_booking_is_404(api, workshop, tj01):
    theirs = make_booking(tj01)
    for response in (
        api.get(reverse("api:booking-detail", args=[theirs.pk])),
        api.post(
            reverse("api:booking-confirm", args=[theirs.pk]),
            {"version": theirs.version},
            content_type="application/json",
        ),
        api.get(reverse("api:booking-slots-detail", args=[tj01.pk])),
    ):
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    listed = api.get(reverse("api:booking-list")).json()["results"]
    assert theirs.pk not in [row["id"] for row in listed]


@pytest.mark.parametrize("count", [1, 6])
def test_the_list_filters_with_a_fixed_number_of_queries(
    api, workshop, sa, bj01, count, django_assert_max_num_queries
):
    made = [
        make_booking(bj01, vehicle=make_vehicle(owner=make_customer(dealer=bj01), dealer=bj01))
        for _ in range(count)
    ]
    day = timezone.localdate(made[0].starts_at).isoformat()
    with django_assert_max_num_queries(8):
        response = api.get(
            reverse("api:booking-list"),
            {"first": day, "last": day, "status": "requested,confirmed", "channel": "phone"},
        )
    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == {b.pk for b in made}
    found = api.get(reverse("api:booking-list"), {"q": made[0].vehicle.plate}).json()
    assert [row["id"] for row in found["results"]] == [made[0].pk]
    assert api.get(reverse("api:booking-list"), {"channel": "app"}).json()["results"] == []
    bad = api.get(reverse("api:booking-list"), {"first": "tomorrow"})
    assert bad.status_code == 400


def test_the_slots_of_a_dealer(api, workshop, bj01, oil_change):
    day = tomorrow()
    response = api.get(
        reverse("api:booking-slots-detail", args=[bj01.pk]),
        {"operations": "APOIL", "first": day.isoformat(), "last": day.isoformat(), "limit": 3},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["bay_kind"] == "quick" and body["hours"] == "1.00"
    assert len(body["slots"]) == 3
    first = datetime.datetime.fromisoformat(body["slots"][0]["starts_at"])
    assert timezone.localtime(first).time() == datetime.time(8, 30)
    too_long = api.get(
        reverse("api:booking-slots-detail", args=[bj01.pk]),
        {"first": day.isoformat(), "last": (day + datetime.timedelta(days=40)).isoformat()},
    )
    assert too_long.status_code == 400
