"""The capacity set-up: services validate and audit, the page saves through them, another
dealer's staff cannot change it."""

import datetime

import pytest
from django.urls import reverse

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
    "changes, field",
    [
        ({"bay_kinds": []}, "bay_kinds"),
        ({"bay_kinds": ["moon"]}, "bay_kinds"),
        ({"categories": ["nope"]}, "categories"),
        ({"shift_start": "18:00", "shift_end": "09:00"}, "shift_end"),
        ({"weekdays": [7]}, "weekdays"),
    ],
)
def test_bad_technician_data_is_refused_naming_the_field(bj01, manager, changes, field):
    values = {"bay_kinds": ["general"], "shift_start": "08:30", "shift_end": "17:30", **changes}
    with pytest.raises(ValidationFailed) as refused:
        setup.technician_save(
            actor=manager, dealer=bj01, user=make_user(bj01, "technician"), **values
        )
    assert field in refused.value.fields
    assert not Technician.objects.filter(dealer=bj01).exists()


def test_only_the_dealers_own_staff_with_the_role_and_the_permission(bj01, tj01, manager):
    advisor = make_user(bj01, "service_advisor")
    with pytest.raises(ValidationFailed):  # not a technician
        setup.technician_save(actor=manager, dealer=bj01, user=advisor, bay_kinds=["general"])
    with pytest.raises(PermissionDenied):
        setup.schedule_settings_save(
            actor=staff_of(tj01, "service_manager"), dealer=bj01, slot_minutes=30
        )
    with pytest.raises(PermissionDenied):
        setup.schedule_settings_save(
            actor=staff_of(bj01, "service_advisor"), dealer=bj01, slot_minutes=30
        )


def test_settings_closed_days_and_absences(bj01, manager, workshop):
    saved = setup.schedule_settings_save(
        actor=manager, dealer=bj01, open_weekdays=["0", "1", "2", "3", "4", "5"], slot_minutes="30"
    )
    with pytest.raises(ValidationFailed):
        setup.schedule_settings_save(actor=manager, dealer=bj01, slot_minutes=3)
    with pytest.raises(ValidationFailed):
        setup.schedule_settings_save(actor=manager, dealer=bj01, open_weekdays=[])
    closed = setup.closed_day_add(
        actor=manager, dealer=bj01, day=datetime.date(2026, 12, 3), reason="盘点"
    )
    with pytest.raises(ValidationFailed):
        setup.closed_day_add(
            actor=manager, dealer=bj01, day=datetime.date(2026, 12, 3), reason="再次"
        )
    tech = workshop["technicians"][0]
    absence = setup.absence_add(
        actor=manager, dealer=bj01, user=tech.user, starts_at=at(9), ends_at=at(12), reason="培训"
    )
    with pytest.raises(ValidationFailed):
        setup.absence_add(
            actor=manager, dealer=bj01, user=tech.user, starts_at=at(12), ends_at=at(9)
        )

    assert ScheduleSettings.objects.get(dealer=bj01).slot_minutes == saved.slot_minutes == 30
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
