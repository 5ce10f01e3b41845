"""The capacity set-up: services validate and audit, the page saves through them, another
dealer's staff cannot change it."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from aftersales.appointments import setup
from aftersales.appointments.models import Absence, ScheduleSettings, Technician
from aftersales.appointments.testing import make_user
from aftersales.appointments.tests.conftest import at
from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.core.models import AuditLog
from aftersales.workorders.testing import staff_of

pytestmark = pytest.mark.django_db


def test_a_technicians_skills_and_shift_are_saved_and_audited(bj01, manager):
    user = make_user(bj01, "technician")

    tech = setup.technician_save(
        actor=manager,
        dealer=bj01,
        user=user,
        bay_kinds=["general", "alignment"],
        categories=["chassis"],
        weekdays=[0, 1, 2, 3, 4],
        shift_start="09:00",
        shift_end="18:00",
    )
    again = setup.technician_save(
        actor=manager,
        dealer=bj01,
        user=user,
        bay_kinds=["ev"],
        shift_start="08:00",
        shift_end="12:00",
    )

    assert (
        again.pk == tech.pk and again.bay_kinds == ["ev"] and again.shift_end == datetime.time(12)
    )
    audited = AuditLog.objects.filter(object_id=str(tech.pk), content_type__model="technician")
    assert audited.count() == 2


@pytest.mark.parametrize(
    "changes, field, code",
    [
        ({"bay_kinds": []}, "bay_kinds", "no_bay_kind"),
        ({"bay_kinds": ["moon"]}, "bay_kinds", "unknown_bay_kind"),
        ({"categories": ["nope"]}, "categories", "unknown_category"),
        ({"shift_start": "18:00", "shift_end": "09:00"}, "shift_end", "end_before_start"),
        ({"shift_start": "8 o'clock"}, "shift_start", "bad_time"),
        ({"weekdays": [7]}, "weekdays", "bad_weekday"),
        ({"break_start": "12:00"}, "break_end", "break_half"),
        ({"break_start": "", "break_end": "13:00"}, "break_start", "break_half"),
        ({"break_start": "13:00", "break_end": "12:00"}, "break_end", "end_before_start"),
        ({"break_start": "08:00", "break_end": "09:00"}, "break_start", "break_outside"),
        ({"break_start": "17:00", "break_end": "17:30"}, "break_start", "break_outside"),
        ({"break_start": "11:00", "break_end": "13:30"}, "break_end", "break_too_long"),
    ],
)
def test_bad_technician_data_is_refused_naming_the_field(bj01, manager, changes, field, code):
    values = {"bay_kinds": ["general"], "shift_start": "08:30", "shift_end": "17:30", **changes}
    with pytest.raises(ValidationFailed) as refused:
        setup.technician_save(
            actor=manager, dealer=bj01, user=make_user(bj01, "technician"), **values
        )
    assert field in refused.value.fields and refused.value.code == code
    assert not Technician.objects.filter(dealer=bj01).exists()


def test_a_daily_break_is_saved_cut_from_the_capacity_and_cleared(bj01, manager):
    from aftersales.appointments.capacity import day_capacity
    from aftersales.appointments.tests.conftest import DAY

    user = make_user(bj01, "technician")
    values = {"bay_kinds": ["general"], "shift_start": "08:30", "shift_end": "17:30"}

    tech = setup.technician_save(
        actor=manager, dealer=bj01, user=user, break_start="12:00", break_end="13:00", **values
    )
    person = next(p for p in day_capacity(bj01, DAY).technicians if p.user_id == user.pk)
    cleared = setup.technician_save(
        actor=manager, dealer=bj01, user=user, break_start="", break_end="", **values
    )
    whole = next(p for p in day_capacity(bj01, DAY).technicians if p.user_id == user.pk)

    assert (tech.break_start, tech.break_end) == (datetime.time(12), datetime.time(13))
    assert [(a.time(), b.time()) for a, b in person.windows] == [
        (datetime.time(8, 30), datetime.time(12)),
        (datetime.time(13), datetime.time(17, 30)),
    ]
    assert person.rest_breaks == person.breaks == ((at(12), at(13)),)
    assert cleared.break_start is None and len(whole.windows) == 1 and whole.rest is None


def test_an_advisors_break_must_lie_within_the_reception_hours(bj01, manager):
    user = make_user(bj01, "service_advisor")

    with pytest.raises(ValidationFailed) as refused:
        setup.advisor_save(
            actor=manager,
            dealer=bj01,
            user=user,
            reception_end="12:00",
            break_start="12:00",
            break_end="13:00",
        )
    saved = setup.advisor_save(
        actor=manager, dealer=bj01, user=user, break_start="12:30", break_end="13:15"
    )

    assert refused.value.code == "break_outside"
    assert saved.break_end == datetime.time(13, 15)


def test_only_the_dealers_own_staff_with_the_role_and_the_permission(bj01, tj01, manager):
    advisor = make_user(bj01, "service_advisor")
    with pytest.raises(ValidationFailed) as refused:  # not a technician
        setup.technician_save(actor=manager, dealer=bj01, user=advisor, bay_kinds=["general"])
    assert refused.value.code == "not_staff"
    with pytest.raises(ValidationFailed):  # a technician of another dealer
        setup.technician_save(
            actor=manager, dealer=bj01, user=make_user(tj01, "technician"), bay_kinds=["general"]
        )
    with pytest.raises(PermissionDenied):
        setup.schedule_settings_save(
            actor=staff_of(tj01, "service_manager"), dealer=bj01, slot_minutes=30
        )
    with pytest.raises(PermissionDenied):
        setup.schedule_settings_save(
            actor=staff_of(bj01, "service_advisor"), dealer=bj01, slot_minutes=30
        )


def test_settings_closed_days_and_absences(bj01, manager, workshop):
    ahead = timezone.localdate() + datetime.timedelta(days=7)
    saved = setup.schedule_settings_save(
        actor=manager, dealer=bj01, open_weekdays=["0", "1", "2", "3", "4", "5"], slot_minutes="30"
    )
    refusals = [
        ({"slot_minutes": 3}, "out_of_range"),
        ({"slot_minutes": "ten"}, "not_a_number"),
        ({"open_weekdays": []}, "no_weekday"),
        ({"colour": "red"}, "unknown_field"),
    ]
    for changes, code in refusals:
        with pytest.raises(ValidationFailed) as refused:
            setup.schedule_settings_save(actor=manager, dealer=bj01, **changes)
        assert refused.value.code == code
    closed = setup.closed_day_add(actor=manager, dealer=bj01, day=ahead, reason="盘点")
    for day, reason, code in [
        (ahead, "再次", "already_closed"),
        (timezone.localdate() - datetime.timedelta(days=1), "补", "in_the_past"),
        (ahead + datetime.timedelta(days=1), " ", "reason_required"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            setup.closed_day_add(actor=manager, dealer=bj01, day=day, reason=reason)
        assert refused.value.code == code
    tech = workshop["technicians"][0]
    absence = setup.absence_add(
        actor=manager, dealer=bj01, user=tech.user, starts_at=at(9), ends_at=at(12), reason="培训"
    )
    with pytest.raises(ValidationFailed) as refused:
        setup.absence_add(
            actor=manager, dealer=bj01, user=tech.user, starts_at=at(12), ends_at=at(9)
        )
    assert refused.value.code == "end_before_start"
    with pytest.raises(ValidationFailed) as refused:  # a technician not in the capacity yet
        setup.absence_add(
            actor=manager,
            dealer=bj01,
            user=make_user(bj01, "technician"),
            starts_at=at(9),
            ends_at=at(12),
        )
    assert refused.value.code == "not_staff"

    assert ScheduleSettings.objects.get(dealer=bj01).slot_minutes == saved.slot_minutes == 30
    assert saved.open_weekdays == [0, 1, 2, 3, 4, 5]
    assert AuditLog.objects.filter(content_type__model="closedday").count() == 1
    setup.closed_day_remove(actor=manager, closed_day=closed)
    setup.absence_remove(actor=manager, absence=absence)
    assert not Absence.objects.exists()


def test_the_page_shows_the_capacity_and_saves_a_technician(client, bj01, manager, workshop):
    newcomer = make_user(bj01, "technician", name="新技师")
    client.force_login(manager)

    page = client.get(reverse("schedule-setup"))
    response = client.post(
        reverse("schedule-setup"),
        {
            "form": "technician",
            "dealer": bj01.pk,
            "user": newcomer.pk,
            "bay_kinds": ["body", "paint"],
            "categories": ["body"],
            "weekdays": ["0", "2", "4"],
            "shift_start": "08:00",
            "shift_end": "16:00",
        },
    )

    assert page.status_code == 200 and "新技师" in page.content.decode()
    assert response.status_code == 302
    tech = Technician.objects.get(user=newcomer)
    assert tech.bay_kinds == ["body", "paint"] and tech.weekdays == [0, 2, 4]


# ---------------------------------------------------------------- the API


@pytest.fixture
def api(manager):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(manager)
    return client


def _send(client, method, url, data):
    return getattr(client, method)(url, data, content_type="application/json")


def test_the_api_puts_a_technician_into_the_capacity_and_changes_them(api, bj01, workshop):
    user = make_user(bj01, "technician", name="李工")

    made = _send(
        api,
        "post",
        reverse("api:technician-list"),
        {"dealer": bj01.pk, "user": user.pk, "bay_kinds": ["alignment"], "categories": ["chassis"]},
    )
    changed = _send(
        api,
        "patch",
        reverse("api:technician-detail", args=[made.json()["id"]]),
        {"shift_start": "09:00", "shift_end": "16:00", "weekdays": [0, 1, 2]},
    )
    refused = _send(
        api,
        "patch",
        reverse("api:technician-detail", args=[made.json()["id"]]),
        {"shift_end": "07:00"},
    )
    listed = api.get(reverse("api:technician-list"), {"dealer": bj01.pk, "active": "true"})

    assert made.status_code == 201 and made.json()["name"] == "李工"
    assert changed.status_code == 200
    assert changed.json()["bay_kinds"] == ["alignment"]  # what was not sent stays
    assert changed.json()["shift_end"] == "16:00:00" and changed.json()["weekdays"] == [0, 1, 2]
    assert refused.status_code == 400 and refused.json()["code"] == "end_before_start"
    assert refused.json()["fields"]["shift_end"] == ["The end must be after the start."]
    assert len(listed.json()["results"]) == 3

    url = reverse("api:technician-detail", args=[made.json()["id"]])
    lunch = _send(api, "patch", url, {"break_start": "12:00", "break_end": "12:45"})
    too_long = _send(api, "patch", url, {"break_end": "15:00"})
    cleared = _send(api, "patch", url, {"break_start": None, "break_end": None})
    assert lunch.status_code == 200
    assert (lunch.json()["break_start"], lunch.json()["break_end"]) == ("12:00:00", "12:45:00")
    assert lunch.json()["shift_end"] == "16:00:00"  # what was not sent stays
    assert too_long.status_code == 400 and too_long.json()["code"] == "break_too_long"
    assert cleared.status_code == 200 and cleared.json()["break_start"] is None


def test_the_api_for_rules_closed_days_advisors_and_absences(api, bj01, workshop):
    rules = api.get(reverse("api:schedule-settings-list")).json()["results"][0]
    saved = _send(
        api,
        "patch",
        reverse("api:schedule-settings-detail", args=[rules["id"]]),
        {"slot_minutes": 30},
    )
    bad = _send(
        api, "post", reverse("api:schedule-settings-list"), {"dealer": bj01.pk, "reminder_hour": 23}
    )
    day = (timezone.localdate() + datetime.timedelta(days=9)).isoformat()
    closed = _send(api, "post", reverse("api:closed-day-list"), {"day": day, "reason": "盘点"})
    twice = _send(api, "post", reverse("api:closed-day-list"), {"day": day, "reason": "盘点"})
    advisor = _send(
        api,
        "post",
        reverse("api:advisor-list"),
        {"user": make_user(bj01, "service_advisor").pk, "reception_end": "16:00"},
    )
    tech = workshop["technicians"][0]
    starts = timezone.now() + datetime.timedelta(days=1)
    absence = _send(
        api,
        "post",
        reverse("api:absence-list"),
        {
            "user": tech.user_id,
            "starts_at": starts.isoformat(),
            "ends_at": (starts + datetime.timedelta(hours=3)).isoformat(),
            "reason": "培训",
        },
    )

    assert saved.status_code == 200 and saved.json()["slot_minutes"] == 30
    assert bad.status_code == 400 and bad.json()["code"] == "out_of_range"
    assert closed.status_code == 201 and closed.json()["dealer"] == bj01.pk  # the user's own
    assert twice.status_code == 400 and twice.json()["code"] == "already_closed"
    assert advisor.status_code == 201 and advisor.json()["reception_end"] == "16:00:00"
    assert absence.status_code == 201
    removed = api.delete(reverse("api:absence-detail", args=[absence.json()["id"]]))
    reopened = api.delete(reverse("api:closed-day-detail", args=[closed.json()["id"]]))
    assert removed.status_code == reopened.status_code == 204
    assert not Absence.objects.exists()


def test_another_dealers_manager_cannot_set_up_this_dealer(bj01, tj01, workshop):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(staff_of(tj01, "service_manager"))
    tech = workshop["technicians"][0]

    created = _send(
        client,
        "post",
        reverse("api:closed-day-list"),
        {
            "dealer": bj01.pk,
            "day": (timezone.localdate() + datetime.timedelta(days=3)).isoformat(),
            "reason": "x",
        },
    )
    changed = _send(
        client, "patch", reverse("api:technician-detail", args=[tech.pk]), {"active": False}
    )
    listed = client.get(reverse("api:technician-list")).json()["results"]

    assert created.status_code == 404 and changed.status_code == 404
    assert tech.pk not in {row["id"] for row in listed}
    tech.refresh_from_db()
    assert tech.active
