"""The DCRC worklist: assigning tasks, recording calls, the API's filters and the vehicle
reminder sheet."""

import datetime

import pytest
from django.utils import timezone

from aftersales.appointments.testing import make_booking, make_user
from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.reminders import services
from aftersales.reminders.models import Reminder
from aftersales.reminders.testing import make_reminder


@pytest.fixture
def manager(bj):
    return make_user(bj, "dcrc_manager")


@pytest.fixture
def agent(bj):
    return make_user(bj, "dcrc_agent")


def test_manager_assigns_to_an_agent_of_the_dealer(bj, manager, agent):
    # given two reminders of the dealer
    rows = [make_reminder(bj), make_reminder(bj)]
    # when the DCRC manager assigns them to an agent
    services.reminders_assign(actor=manager, reminders=rows, agent=agent)
    # then both are the agent's
    assert set(Reminder.objects.values_list("assigned_to", flat=True)) == {agent.pk}


def test_another_dealers_agent_is_refused(bj, tj, manager):
    # given a reminder of BJ01 and an agent of TJ01
    reminder = make_reminder(bj)
    outsider = make_user(tj, "dcrc_agent")
    # when the manager assigns it to that agent, then it is refused and nothing changes
    with pytest.raises(ValidationFailed) as refused:
        services.reminders_assign(actor=manager, reminders=[reminder], agent=outsider)
    assert refused.value.code == "agent_not_at_dealer"
    reminder.refresh_from_db()
    assert reminder.assigned_to_id is None


def test_not_reached_is_retried_three_times_then_stays_not_reached(bj, agent):
    # given an open reminder
    reminder = make_reminder(bj)
    now = timezone.now()
    later = now + datetime.timedelta(hours=3)
    # when the first call is not answered, with a planned retry
    services.reminder_call(
        actor=agent, reminder=reminder, outcome="not_reached", retry_at=later, now=now
    )
    reminder.refresh_from_db()
    # then one attempt is counted and the next call is planned
    assert (reminder.status, reminder.attempts, reminder.next_call_at) == (
        "not_reached",
        1,
        later,
    )
    # when two more calls are not answered
    for _ in range(2):
        services.reminder_call(actor=agent, reminder=reminder, outcome="not_reached")
    reminder.refresh_from_db()
    # then it stays not reached with nothing planned, and a fourth call is refused
    assert (reminder.status, reminder.attempts, reminder.next_call_at) == (
        "not_reached",
        3,
        None,
    )
    with pytest.raises(Conflict) as refused:
        services.reminder_call(actor=agent, reminder=reminder, outcome="reminded")
    assert refused.value.code == "no_more_attempts"


def test_booked_links_a_booking_of_the_same_vehicle(bj, agent):
    # given a reminder and a booking made for its vehicle, and one for another vehicle
    reminder = make_reminder(bj)
    booking = make_booking(bj, vehicle=reminder.vehicle)
    other = make_booking(bj)
    # when the call is recorded as booked with another vehicle's booking, it is refused
    with pytest.raises(ValidationFailed) as refused:
        services.reminder_call(
            actor=agent, reminder=reminder, outcome="booked", booking_id=other.pk
        )
    assert refused.value.code == "booking_other_vehicle"
    # when it is recorded with the vehicle's booking
    services.reminder_call(
        actor=agent, reminder=reminder, outcome="booked", booking_id=booking.pk, note="周六来"
    )
    reminder.refresh_from_db()
    # then the booking is linked and the call is final
    assert (reminder.status, reminder.booking_id) == ("booked", booking.pk)
    assert "周六来" in reminder.note
    with pytest.raises(Conflict):
        services.reminder_call(actor=agent, reminder=reminder, outcome="declined")


def test_a_retried_call_with_the_same_key_acts_once(client, bj, agent):
    # given a reminder
    reminder = make_reminder(bj)
    client.force_login(agent)
    url = f"/api/reminders/{reminder.pk}/call/"
    # when the same call is posted twice with one Idempotency-Key
    for _ in range(2):
        response = client.post(
            url,
            {"outcome": "not_reached"},
            content_type="application/json",
            headers={"Idempotency-Key": "call-1"},
        )
        assert response.status_code == 200, response.content
    # then one attempt is counted
    reminder.refresh_from_db()
    assert reminder.attempts == 1
    assert response.json()["attempts"] == 1


def test_worklist_filters_and_vehicle_sheet(client, bj, tj, manager, agent):
    # given reminders of BJ01, one assigned to the agent, and one of TJ01
    mine = make_reminder(bj, kind="insurance", registered=True)
    other = make_reminder(bj, vehicle=mine.vehicle, kind="inspection")
    make_reminder(tj)
    services.reminders_assign(actor=manager, reminders=[mine], agent=agent)
    client.force_login(agent)
    # when the agent lists their own tasks, and the registered ones of a kind
    own = client.get("/api/reminders/?assigned_to=me").json()["results"]
    kind = client.get("/api/reminders/?kind=inspection&registered=false").json()["results"]
    everything = client.get("/api/reminders/?page_size=200").json()["results"]
    # then each filter keeps what it says and another dealer's rows are never listed
    assert [r["id"] for r in own] == [mine.pk]
    assert [r["id"] for r in kind] == [other.pk]
    assert {r["id"] for r in everything} == {mine.pk, other.pk}
    # when the agent opens the vehicle reminder sheet, then both reminders are on it
    sheet = client.get(f"/api/reminders/vehicle-sheet/{mine.vehicle_id}/").json()
    assert {r["id"] for r in sheet["reminders"]} == {mine.pk, other.pk}
    # a bad filter is refused with the field
    bad = client.get("/api/reminders/?due_from=tomorrow")
    assert bad.status_code == 400
    assert "due_from" in bad.json()["fields"]


def test_assign_through_the_api_refuses_another_dealers_agent(client, bj, tj, manager):
    reminder = make_reminder(bj)
    outsider = make_user(tj, "dcrc_agent")
    client.force_login(manager)
    response = client.post(
        "/api/reminders/assign/",
        {"ids": [reminder.pk], "agent": outsider.pk},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "agent_not_at_dealer"
