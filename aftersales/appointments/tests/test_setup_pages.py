"""The workshop capacity page: shown in Chinese and English with the dealer's technicians
(and the technician-role staff not yet in the capacity), each form saves through the
services, a refusal is shown with its reason and nothing changes, viewers get no forms."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from aftersales.appointments.models import Absence, Advisor, ClosedDay, ScheduleSettings
from aftersales.appointments.testing import make_user
from aftersales.workorders.testing import staff_of

pytestmark = pytest.mark.django_db


def zh(msgid: str) -> str:
    with translation.override("zh-hans"):
        return gettext(msgid)


@pytest.fixture
def page(client, manager):
    client.force_login(manager)
    return client


def _save(client, dealer, **form):
    answer = client.post(reverse("schedule-setup"), {"dealer": dealer.pk, **form}, follow=True)
    assert answer.status_code == 200
    return answer


def test_the_page_in_chinese_and_english_lists_the_capacity(bj01, manager, workshop):
    newcomer = make_user(bj01, "technician", name="新来的技师")
    chinese, english = Client(), Client(HTTP_ACCEPT_LANGUAGE="en")
    for client in (chinese, english):
        client.force_login(manager)

    zh_page = chinese.get(reverse("schedule-setup"))
    en_page = english.get(reverse("schedule-setup"))

    assert zh_page.status_code == en_page.status_code == 200
    assert zh("Workshop capacity") in zh_page.text and 'lang="zh-hans"' in zh_page.text
    assert "Workshop capacity" in en_page.text and "Booking rules" in en_page.text
    assert "Mon" in en_page.text and reverse("workshop-setup") in en_page.text
    for tech in workshop["technicians"]:
        assert f'data-technician="{tech.user_id}"' in zh_page.text
    assert "新来的技师" in zh_page.text and zh("not in the capacity yet") in zh_page.text
    assert f'data-technician="{newcomer.pk}"' in zh_page.text


def test_the_booking_rules_form_saves(page, bj01, workshop):
    answer = _save(
        page,
        bj01,
        form="settings",
        open_weekdays=["0", "1", "2", "3", "4", "5"],
        closed_on_public_holidays="on",
        slot_minutes="30",
        reception_minutes="20",
        no_show_grace_minutes="45",
        horizon_days="60",
        reminder_hour="9",
    )

    rules = ScheduleSettings.objects.get(dealer=bj01)
    assert zh("Saved.") in answer.text
    assert rules.open_weekdays == [0, 1, 2, 3, 4, 5] and rules.closed_on_public_holidays
    assert (rules.slot_minutes, rules.reception_minutes, rules.horizon_days) == (30, 20, 60)


def test_a_refusal_is_shown_and_nothing_changes(page, bj01, workshop):
    tech = workshop["technicians"][0]

    answer = _save(
        page,
        bj01,
        form="technician",
        user=tech.user_id,
        bay_kinds=["general"],
        weekdays=["0"],
        shift_start="17:00",
        shift_end="09:00",
    )

    assert zh("The end must be after the start.") in answer.text
    tech.refresh_from_db()
    assert tech.weekdays == list(range(7))


def test_a_technicians_lunch_break_is_set_on_the_page_and_shown_again(page, bj01, workshop):
    tech = workshop["technicians"][0]
    fields = {
        "form": "technician",
        "user": tech.user_id,
        "bay_kinds": ["general"],
        "shift_start": "08:30",
        "shift_end": "17:30",
    }

    refused = _save(page, bj01, **fields, break_start="12:00", break_end="")
    shown = _save(page, bj01, **fields, break_start="12:00", break_end="13:00")

    assert zh("Enter both the start and the end of the break, or neither.") in refused.text
    tech.refresh_from_db()
    assert (tech.break_start, tech.break_end) == (datetime.time(12), datetime.time(13))
    form = shown.text.split(f'data-technician="{tech.user_id}"')[1].split("</form>")[0]
    assert 'name="break_start" class="form-control form-control-sm" value="12:00"' in form


def test_closed_days_advisors_and_absences_are_added_and_removed(page, bj01, workshop):
    day = timezone.localdate() + datetime.timedelta(days=5)
    _save(page, bj01, form="closed_day", day=day.isoformat(), reason="盘点")
    closed = ClosedDay.objects.get(dealer=bj01)
    advisor = make_user(bj01, "service_advisor", name="王顾问")
    _save(
        page,
        bj01,
        form="advisor",
        user=advisor.pk,
        weekdays=["0", "1", "2", "3", "4"],
        reception_start="09:00",
        reception_end="12:00",
    )
    tech = workshop["technicians"][0]
    starts = f"{day.isoformat()}T09:00"
    listed = _save(
        page,
        bj01,
        form="absence",
        user=tech.user_id,
        starts_at=starts,
        ends_at=f"{day.isoformat()}T12:00",
        reason="培训",
    )

    absence = Absence.objects.get(dealer=bj01)
    assert Advisor.objects.get(user=advisor).reception_end == datetime.time(12)
    assert timezone.localtime(absence.starts_at).time() == datetime.time(9)
    assert "盘点" in listed.text and "培训" in listed.text

    _save(page, bj01, form="closed_day_remove", id=closed.pk)
    _save(page, bj01, form="absence_remove", id=absence.pk)
    assert not ClosedDay.objects.exists() and not Absence.objects.exists()


def test_a_viewer_gets_no_forms_and_cannot_post(client, bj01, workshop):
    client.force_login(staff_of(bj01, "service_advisor"))  # sees the capacity, may not change it

    shown = client.get(reverse("schedule-setup"))
    posted = client.post(
        reverse("schedule-setup"), {"dealer": bj01.pk, "form": "closed_day", "reason": "x"}
    )

    assert shown.status_code == 200 and len(shown.context["technicians"]) == 2
    assert 'name="form" value="closed_day"' not in shown.text
    assert posted.status_code == 403
    assert not ClosedDay.objects.exists()


def test_another_dealers_manager_cannot_touch_this_dealers_staff(client, bj01, tj01, workshop):
    client.force_login(staff_of(tj01, "service_manager"))
    tech = workshop["technicians"][0]

    page = client.get(f"{reverse('schedule-setup')}?dealer={bj01.pk}")
    posted = client.post(
        reverse("schedule-setup"),
        {"dealer": bj01.pk, "form": "technician", "user": tech.user_id, "bay_kinds": ["body"]},
    )

    assert page.context["dealer"] == tj01
    assert f'data-technician="{tech.user_id}"' not in page.text
    assert posted.status_code == 404
    tech.refresh_from_db()
    assert tech.bay_kinds != ["body"]
