"""The reminder pages: the DCRC worklist (filters, recalls first, bulk assignment, fixed
queries), the call screen (the customer 360 at hand, outcomes, booking a free time from
the call once and only once), the vehicle reminder sheet, and the set-up pages (rules and
quiet hours, inspection schedule, campaigns with their targets checked, recalls from a
VIN list with per-line errors, monthly runs)."""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aftersales.appointments.models import Booking
from aftersales.appointments.testing import make_capacity, make_user
from aftersales.crm.testing import make_customer, make_vehicle, valid_vin
from aftersales.reminders import services
from aftersales.reminders.models import (
    Campaign,
    InspectionStep,
    Recall,
    Reminder,
    ReminderMessage,
    ReminderRun,
    ReminderSettings,
)
from aftersales.reminders.testing import make_reminder

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(client):
    # English, so the checks read the messages as written in the code
    client.cookies["django_language"] = "en"


@pytest.fixture
def manager(bj):
    return make_user(bj, "dcrc_manager")


@pytest.fixture
def agent(bj):
    return make_user(bj, "dcrc_agent")


def ids(response):
    return [r.pk for r in response.context["object_list"]]


# ---------------------------------------------------------------- worklist


def test_worklist_shows_the_months_tasks_recalls_first_and_filters(client, bj, tj, agent, manager):
    # given this month's reminders of BJ01 (one a recall, one registered and assigned to
    # the agent, one already reminded), one of last month and one of TJ01
    maintenance = make_reminder(bj)
    follow_up = make_reminder(bj, kind="insurance", registered=True)
    recall = make_reminder(bj, kind="recall")
    done = make_reminder(bj, kind="inspection", status="reminded")
    last_month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    old = make_reminder(bj, month=last_month)
    make_reminder(tj)
    services.reminders_assign(actor=manager, reminders=[follow_up], agent=agent)
    client.force_login(agent)
    url = reverse("reminder-worklist")

    # when the agent opens the worklist
    page = client.get(url)
    # then the month's tasks still to call are listed, the recall first; not the finished
    # one, not last month's, not another dealer's
    assert page.status_code == 200
    assert ids(page)[0] == recall.pk
    assert set(ids(page)) == {recall.pk, maintenance.pk, follow_up.pk}
    assert f'data-reminder="{recall.pk}"' in page.content.decode()

    # when they filter: follow-ups only, mine only, a kind, every status, another month
    assert ids(client.get(url, {"task": "phone_follow_up"})) == [follow_up.pk]
    assert ids(client.get(url, {"mine": "on"})) == [follow_up.pk]
    assert ids(client.get(url, {"kind": "maintenance"})) == [maintenance.pk]
    assert done.pk in ids(client.get(url, {"status": "all"}))
    assert ids(client.get(url, {"status": "reminded"})) == [done.pk]
    assert ids(client.get(url, {"month": last_month.strftime("%Y-%m")})) == [old.pk]
    due = maintenance.due_date
    assert set(ids(client.get(url, {"due_from": due, "due_to": due}))) == {
        recall.pk,
        maintenance.pk,
        follow_up.pk,
    }
    assert ids(client.get(url, {"due_from": due + datetime.timedelta(days=1)})) == []
    # an unknown value falls back to the default instead of failing
    assert client.get(url, {"month": "soon", "agent": "x"}).status_code == 200


def test_worklist_queries_do_not_grow_with_the_rows(client, bj, agent):
    # given three reminders, then twelve more
    for _ in range(3):
        make_reminder(bj)
    client.force_login(agent)
    url = reverse("reminder-worklist")
    client.get(url)  # warm the per-process caches (content types, sessions)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(12):
        make_reminder(bj)
    # when the page shows 15 rows instead of 3
    with CaptureQueriesContext(connection) as many:
        page = client.get(url)
    # then it takes the same number of queries
    assert len(ids(page)) == 15
    assert len(many) == len(few)


def test_manager_assigns_ticked_tasks_and_other_dealers_are_refused(client, bj, tj, manager, agent):
    # given two reminders of BJ01 and one of TJ01
    first, second = make_reminder(bj), make_reminder(bj)
    foreign = make_reminder(tj)
    client.force_login(manager)
    worklist = reverse("reminder-worklist")

    # the manager's worklist offers the dealer's agents
    page = client.get(worklist)
    assert agent in page.context["assign_agents"]

    # when they tick both and assign them to the agent
    response = client.post(
        reverse("reminder-assign"),
        {"ids": [first.pk, second.pk], "agent": agent.pk, "next": worklist + "?mine="},
    )
    # then both are the agent's and the list opens again where it was
    assert response.status_code == 302 and response["Location"] == worklist + "?mine="
    assert set(Reminder.objects.filter(assigned_to=agent).values_list("pk", flat=True)) == {
        first.pk,
        second.pk,
    }

    # when they assign to an agent of another dealer: refused with the reason, unchanged
    outsider = make_user(tj, "dcrc_agent")
    refused = client.post(
        reverse("reminder-assign"), {"ids": [first.pk], "agent": outsider.pk}, follow=True
    )
    assert "does not work on reminders at this dealer" in refused.content.decode()
    first.refresh_from_db()
    assert first.assigned_to == agent

    # when they tick another dealer's reminder: not found
    assert (
        client.post(reverse("reminder-assign"), {"ids": [foreign.pk], "agent": ""}).status_code
        == 404
    )

    # an agent may not assign at all
    client.force_login(agent)
    assert client.post(reverse("reminder-assign"), {"ids": [first.pk]}).status_code == 403


# ---------------------------------------------------------------- call screen


def test_call_screen_has_the_customer_360_and_masks_the_phone_for_others(
    client, bj, agent, demo_org
):
    # given a reminder with a second open reminder of the same vehicle, a visit and a note
    reminder = make_reminder(bj)
    sibling = make_reminder(bj, vehicle=reminder.vehicle, kind="insurance")
    customer = reminder.customer
    client.force_login(agent)

    # when the agent opens the call screen
    page = client.get(reverse("reminder-call", args=[reminder.pk]))
    body = page.content.decode()
    # then the customer is there with their full number to call, the vehicle's other open
    # reminder and the forms
    assert page.status_code == 200
    assert customer.name in body and f"tel:{customer.mobile}" in body
    assert page.context["other_reminders"] == [sibling]
    assert page.context["may_call"] and page.context["may_book"]
    assert 'id="call-form"' in body and 'id="book-form"' in body

    # when an analyst of the OEM (who may not call customers) opens it
    client.force_login(demo_org["oem-analyst"])
    seen = client.get(reverse("reminder-call", args=[reminder.pk]))
    # then the number is masked and there is no form to record a call
    assert seen.status_code == 200
    assert customer.mobile not in seen.content.decode()
    assert f"{customer.mobile[:3]}****{customer.mobile[-4:]}" in seen.content.decode()
    assert not seen.context["may_call"]


def test_an_unanswered_call_plans_the_next_and_a_retried_submit_counts_once(client, bj, agent):
    # given an open reminder on the agent's call screen
    reminder = make_reminder(bj)
    client.force_login(agent)
    page = client.get(reverse("reminder-call", args=[reminder.pk]))
    key = page.context["call_form"]["idempotency_key"].value()
    later = timezone.localtime() + datetime.timedelta(hours=3)
    data = {
        "idempotency_key": key,
        "outcome": "not_reached",
        "retry_at": later.strftime("%Y-%m-%dT%H:%M"),
        "note": "无人接听",
        "next": reverse("reminder-worklist"),
    }
    # when the outcome is sent twice with the same form (a double tap)
    for _ in range(2):
        response = client.post(reverse("reminder-call-record", args=[reminder.pk]), data)
        assert response.status_code == 302
        assert response["Location"] == reverse("reminder-worklist")
    # then one call is counted and the next call is planned
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == ("not_reached", 1)
    assert timezone.localtime(reminder.next_call_at).strftime("%H:%M") == later.strftime("%H:%M")
    assert "无人接听" in reminder.note

    # when a retry time in the past is sent, the form says so and nothing changes
    past = client.post(
        reverse("reminder-call-record", args=[reminder.pk]),
        {"outcome": "not_reached", "retry_at": "2020-01-01T09:00"},
    )
    assert past.status_code == 200
    assert "Choose a time in the future." in str(past.context["call_form"].errors)
    reminder.refresh_from_db()
    assert reminder.attempts == 1


def test_a_finished_call_is_refused_on_the_page(client, bj, agent):
    reminder = make_reminder(bj, status="declined")
    client.force_login(agent)
    page = client.get(reverse("reminder-call", args=[reminder.pk]))
    assert not page.context["may_call"] and 'id="call-finished"' in page.content.decode()
    response = client.post(
        reverse("reminder-call-record", args=[reminder.pk]), {"outcome": "reminded"}
    )
    assert response.status_code == 200
    assert "This reminder's call is finished." in response.content.decode()
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == ("declined", 0)


def _first_slot(client, reminder):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    slots = client.get(
        reverse("reminder-slots", args=[reminder.pk]),
        {"service_type": "maintenance", "day": tomorrow.isoformat()},
    )
    assert slots.status_code == 200
    times = re.findall(r'name="starts_at"[^>]*value="([^"]+)"', slots.content.decode())
    assert times, "no free time offered"
    return tomorrow, times


def test_booked_on_the_call_books_once_and_links_the_booking(client, bj, agent):
    # given a dealer with a workshop and an open reminder on the agent's call screen
    make_capacity(bj)
    reminder = make_reminder(bj)
    client.force_login(agent)
    page = client.get(reverse("reminder-call", args=[reminder.pk]))
    key = page.context["book_form"]["idempotency_key"].value()

    # when the agent asks for the free times and books the first one, twice (a retry)
    day, times = _first_slot(client, reminder)
    data = {
        "idempotency_key": key,
        "service_type": "maintenance",
        "day": day.isoformat(),
        "starts_at": times[0],
        "concern": "保养",
        "confirm": "on",
        "note": "周六上午来",
    }
    for _ in range(2):
        response = client.post(reverse("reminder-book", args=[reminder.pk]), data)
        assert response.status_code == 302, response.content.decode()[:2000]

    # then one booking exists, by the DCRC channel, confirmed, linked to the reminder
    booking = Booking.objects.get(vehicle=reminder.vehicle)
    assert booking.channel == "dcrc" and booking.status == "confirmed"
    assert timezone.localtime(booking.starts_at).strftime("%Y-%m-%d %H:%M") == times[0]
    reminder.refresh_from_db()
    assert (reminder.status, reminder.booking_id, reminder.attempts) == ("booked", booking.pk, 1)
    assert "周六上午来" in reminder.note

    # and the call screen shows it booked
    shown = client.get(reverse("reminder-call", args=[reminder.pk])).content.decode()
    assert booking.number in shown and 'data-status="booked"' in shown

    # when someone books again with a fresh form: refused, no second booking
    again = client.post(
        reverse("reminder-book", args=[reminder.pk]), {**data, "idempotency_key": "other"}
    )
    assert again.status_code == 200
    assert "This reminder's call is finished." in again.content.decode()
    assert Booking.objects.filter(vehicle=reminder.vehicle).count() == 1


def test_a_refused_booking_leaves_the_reminder_open(client, bj, agent):
    # given a workshop and an open reminder
    make_capacity(bj)
    reminder = make_reminder(bj)
    client.force_login(agent)
    day = timezone.localdate() + datetime.timedelta(days=1)
    # when the agent sends a time the workshop is closed (03:00) or no time at all
    for starts_at in (f"{day.isoformat()} 03:00", ""):
        response = client.post(
            reverse("reminder-book", args=[reminder.pk]),
            {
                "idempotency_key": f"k-{starts_at}",
                "service_type": "maintenance",
                "day": day.isoformat(),
                "starts_at": starts_at,
            },
        )
        # then the page says why, and nothing is booked or recorded
        assert response.status_code == 200
        assert response.context["book_form"].errors
    assert not Booking.objects.filter(vehicle=reminder.vehicle).exists()
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts, reminder.booking_id) == ("open", 0, None)


def test_another_dealers_reminder_is_not_found(client, bj, tj):
    reminder = make_reminder(bj)
    client.force_login(make_user(tj, "dcrc_agent"))
    for name in ("reminder-call", "reminder-slots"):
        assert client.get(reverse(name, args=[reminder.pk])).status_code == 404
    assert (
        client.post(
            reverse("reminder-call-record", args=[reminder.pk]), {"outcome": "reminded"}
        ).status_code
        == 404
    )
    sheet = reverse("reminder-vehicle-sheet", args=[reminder.vehicle_id])
    assert client.get(sheet).status_code == 404


# ---------------------------------------------------------------- vehicle sheet


def test_vehicle_sheet_lists_every_reminder_and_its_outcome(client, bj, agent):
    # given a vehicle with a reminder called twice and another still open
    reminder = make_reminder(bj)
    later = make_reminder(bj, vehicle=reminder.vehicle, kind="inspection")
    services.reminder_call(actor=agent, reminder=reminder, outcome="not_reached", note="忙")
    services.reminder_call(actor=agent, reminder=reminder, outcome="declined", note="不需要")
    # and a WeChat message sent about it, a text message that failed
    ReminderMessage.objects.create(
        reminder=reminder, channel="wechat", status="sent", sent_at=timezone.now()
    )
    ReminderMessage.objects.create(
        reminder=later, channel="sms", status="failed", error="isv.MOBILE_NUMBER_ILLEGAL"
    )
    client.force_login(agent)
    # when the agent opens the vehicle reminder sheet
    page = client.get(reverse("reminder-vehicle-sheet", args=[reminder.vehicle_id]))
    body = page.content.decode()
    # then both reminders are there with their outcome, calls and notes
    assert page.status_code == 200
    assert {r.pk for r in page.context["reminders"]} == {reminder.pk, later.pk}
    assert reminder.vehicle.vin in body
    assert 'data-status="declined"' in body and "不需要" in body and "忙" in body
    # with the messages and what became of them
    assert "WeChat template message" in body and "isv.MOBILE_NUMBER_ILLEGAL" in body
    # and the call screen shows the reminder's own message
    call = client.get(reverse("reminder-call", args=[later.pk]))
    assert [m["state"] for m in call.context["message_rows"]] == ["failed"]


# ---------------------------------------------------------------- set-up


def test_oem_sets_the_rules_and_quiet_hours(client, demo_org):
    client.force_login(demo_org["oem-admin"])
    page = client.get(reverse("reminder-setup"))
    assert page.status_code == 200 and page.context["may_change"]
    form = {
        "return_window_days": 30,
        "default_km_per_day": 40,
        "min_km_per_day": 3,
        "max_km_per_day": 300,
        "history_days": 730,
        "min_history_days": 30,
        "lapsed_after_months": 24,
        "quiet_from": "21:00",
        "quiet_until": "",
    }
    # when only one end of the quiet hours is given: refused with the reason
    refused = client.post(reverse("reminder-settings-save"), form)
    assert refused.status_code == 200
    assert "Give both ends of the quiet hours" in refused.content.decode()
    assert ReminderSettings.objects.count() == 0 or ReminderSettings.current().quiet_from is None
    # when both are given, the rules are saved
    saved = client.post(reverse("reminder-settings-save"), {**form, "quiet_until": "08:30"})
    assert saved.status_code == 302
    rules = ReminderSettings.current()
    assert (rules.return_window_days, rules.quiet_from, rules.quiet_until) == (
        30,
        datetime.time(21, 0),
        datetime.time(8, 30),
    )
    # a DCRC manager sees the rules but may not change them
    client.force_login(demo_org["bj01-dcrcmgr"])
    seen = client.get(reverse("reminder-setup"))
    assert seen.status_code == 200 and not seen.context["may_change"]
    assert client.post(reverse("reminder-settings-save"), form).status_code == 403


def _steps(rows):
    data = {
        "steps-TOTAL_FORMS": len(rows),
        "steps-INITIAL_FORMS": 0,
        "steps-MIN_NUM_FORMS": 0,
        "steps-MAX_NUM_FORMS": 20,
    }
    for n, (first, last, every, on_site) in enumerate(rows):
        data.update(
            {
                f"steps-{n}-from_month": first,
                f"steps-{n}-until_month": last,
                f"steps-{n}-every_months": every,
            }
        )
        if on_site:
            data[f"steps-{n}-on_site"] = "on"
    return data


def test_oem_changes_the_inspection_schedule_overlaps_refused(client, demo_org):
    client.force_login(demo_org["oem-admin"])
    url = reverse("reminder-inspection-save")
    # when two steps overlap: refused with the reason, nothing saved
    refused = client.post(url, _steps([(24, 72, 24, False), (60, "", 12, True)]))
    assert refused.status_code == 200
    assert "overlaps" in refused.content.decode()
    assert not InspectionStep.objects.exists()
    # when they do not (an empty row left out), the schedule is saved
    saved = client.post(url, _steps([(24, 48, 24, False), (60, "", 12, True), ("", "", "", "")]))
    assert saved.status_code == 302
    assert list(
        InspectionStep.objects.values_list("from_month", "until_month", "every_months", "on_site")
    ) == [(24, 48, 24, False), (60, None, 12, True)]


def _campaign_data(vehicle, **changes):
    return {
        "code": "AC-25",
        "name": "夏季空调检测",
        "description": "免费检测空调",
        "scope": "national",
        "starts_on": "2025-06-01",
        "ends_on": "2099-08-31",
        "model_years": "",
        **changes,
    }


def test_campaign_target_is_checked_and_the_campaign_edited(client, bj, demo_org):
    vehicle = make_vehicle(owner=make_customer(dealer=bj), dealer=bj)
    year = vehicle.variant.model_year
    client.force_login(demo_org["oem-admin"])
    new = reverse("reminder-campaign-new")
    assert client.get(new).status_code == 200
    # when the target is empty: refused with the reason, nothing saved
    empty = client.post(new, _campaign_data(vehicle))
    assert empty.status_code == 200
    assert "A campaign needs a target" in empty.content.decode()
    # when a model year is not a year: the reason names it
    wrong = client.post(new, _campaign_data(vehicle, model_years=f"{year}, 20x5"))
    assert "20x5 is not a model year" in wrong.content.decode()
    assert not Campaign.objects.exists()
    # when the target is valid, the campaign is saved and listed
    saved = client.post(new, _campaign_data(vehicle, model_years=str(year)))
    assert saved.status_code == 302
    campaign = Campaign.objects.get(code="AC-25")
    assert campaign.model_years == [year] and campaign.scope == "national"
    listed = client.get(reverse("reminder-campaign-list"))
    assert campaign in listed.context["object_list"]

    # when it is edited to a target that reaches nobody: refused, unchanged
    edit = reverse("reminder-campaign-edit", args=[campaign.pk])
    assert client.get(edit).status_code == 200
    nobody = client.post(
        edit, _campaign_data(vehicle, model_years=str(year - 5), active="on", name="新名称")
    )
    assert "The target matches no vehicle." in nobody.content.decode()
    campaign.refresh_from_db()
    assert campaign.name == "夏季空调检测"
    # when it is ended with a new name, both are saved (the code stays)
    ended = client.post(edit, _campaign_data(vehicle, model_years=str(year), name="新名称"))
    assert ended.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.active, campaign.code) == ("新名称", False, "AC-25")

    # a dealer's service manager sees national campaigns but may not edit them
    client.force_login(demo_org["bj01-svcmgr"])
    assert campaign in client.get(reverse("reminder-campaign-list")).context["object_list"]
    assert client.get(edit).status_code == 404


def test_dealer_creates_a_local_campaign(client, bj, demo_org):
    vehicle = make_vehicle(owner=make_customer(dealer=bj), dealer=bj)
    client.force_login(demo_org["bj01-svcmgr"])
    response = client.post(
        reverse("reminder-campaign-new"),
        _campaign_data(
            vehicle, code="BJ-L1", scope="local", model_years=str(vehicle.variant.model_year)
        ),
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get(code="BJ-L1")
    assert (campaign.scope, campaign.dealer) == ("local", bj)
    # a national scope is not offered to a dealer
    form = client.get(reverse("reminder-campaign-new")).context["form"]
    assert [v for v, _label in form.fields["scope"].choices] == ["local"]


def test_recall_upload_reports_bad_lines_and_keeps_the_good_ones(client, bj, demo_org):
    # given two registered vehicles and a list with a bad VIN, an unknown one and a repeat
    cars = [make_vehicle(owner=make_customer(dealer=bj), dealer=bj) for _ in range(2)]
    unknown = valid_vin("LXCX3A15", 2024, serial=987654)
    text = "\n".join([cars[0].vin, "NOT-A-VIN", "", cars[1].vin, unknown, cars[0].vin])
    client.force_login(demo_org["oem-admin"])
    assert client.get(reverse("reminder-recall-new")).status_code == 200
    # when the OEM uploads it
    page = client.post(
        reverse("reminder-recall-new"),
        {"code": "R-25-01", "title": "刹车软管", "starts_on": "2025-07-01", "vin_list": text},
    )
    # then the valid lines are kept, each bad line reported with its number and reason
    assert page.status_code == 200
    report = page.context["report"]
    assert report.kept == 2 and report.reminders == 2
    assert [line for line, _text, _reason in report.errors] == [2, 5, 6]
    body = page.content.decode()
    assert 'data-line="2"' in body and "Listed already on line 1." in body
    recall = Recall.objects.get(code="R-25-01")
    assert Reminder.objects.filter(recall=recall, kind="recall").count() == 2
    listed = client.get(reverse("reminder-recall-list"))
    assert recall in listed.context["object_list"]
    detail = client.get(reverse("reminder-recall-detail", args=[recall.pk]))
    assert detail.context["progress"] == {"total": 2, "done": 0}

    # when a list with no valid line is uploaded as a file: refused with the reasons
    upload = SimpleUploadedFile("vins.csv", b"vin,note\nBAD1,x\n", content_type="text/csv")
    refused = client.post(
        reverse("reminder-recall-new"),
        {"code": "R-25-02", "title": "无效", "starts_on": "2025-07-01", "vin_file": upload},
    )
    assert refused.status_code == 200
    assert "No line of the list is a VIN of a registered vehicle." in refused.content.decode()
    assert not Recall.objects.filter(code="R-25-02").exists()


def test_oem_starts_a_run_for_a_dealer_and_month(
    client, bj, demo_org, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    client.force_login(demo_org["oem-admin"])
    page = client.get(reverse("reminder-run-list"))
    assert page.status_code == 200 and page.context["may_start"]
    month = timezone.localdate().replace(day=1)
    # when the OEM runs this month for BJ01
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reminder-run-start"), {"month": month.strftime("%Y-%m"), "dealer": bj.pk}
        )
    # then the run is recorded for that dealer and month
    assert response.status_code == 302
    run = ReminderRun.objects.get()
    assert (run.month, run.dealer) == (month, bj)
    assert run.finished_at is not None and not run.error
    # a month years away is refused
    far = client.post(reverse("reminder-run-start"), {"month": "2001-01"})
    assert far.status_code == 200 and "within a year" in far.content.decode()
    # the DCRC manager sees the dealer's runs and cannot start one
    client.force_login(demo_org["bj01-dcrcmgr"])
    seen = client.get(reverse("reminder-run-list"))
    assert list(seen.context["object_list"]) == [run] and not seen.context["may_start"]


def test_pages_render_in_english_and_chinese(client, bj, agent):
    reminder = make_reminder(bj)
    client.force_login(agent)
    for language in ("zh-hans", "en"):
        client.cookies["django_language"] = language
        for url in (
            reverse("reminder-worklist"),
            reverse("reminder-call", args=[reminder.pk]),
            reverse("reminder-vehicle-sheet", args=[reminder.vehicle_id]),
        ):
            page = client.get(url)
            assert page.status_code == 200
            assert f'<html lang="{language}"' in page.content.decode()
    english = client.get(reverse("reminder-worklist")).content.decode()
    assert "Reminder worklist" in english
