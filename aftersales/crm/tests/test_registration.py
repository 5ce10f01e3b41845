"""Owner registration (SPEC §2, issue 3 item 12): VIN tail + resident ID + mobile, a code
by SMS, the login linked to the customer; limits, expiry, single use, and answers that
never tell which detail did not match."""

import datetime
import itertools
import threading

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from aftersales.core.errors import ValidationFailed
from aftersales.core.models import AuditAction, AuditChannel, AuditLog, OutboxMessage
from aftersales.core.outbox import outbox_drain
from aftersales.crm import registration
from aftersales.crm.models import Customer, RegistrationCode, SmsQuota
from aftersales.crm.registration import TooManyCodes, registration_confirm, registration_start
from aftersales.crm.services import ownership_transfer
from aftersales.crm.testing import make_customer, make_vehicle, valid_id_number
from aftersales.org.models import User
from aftersales.testing.fake_sms import TEMPLATE_REGISTRATION, fake_sms  # noqa: F401

START = "api:owner-registration-start"
CONFIRM = "api:owner-registration-confirm"
_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def _english(settings):
    """The messages are asserted in English (the API answers in the client's language)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def owner_login():
    """A login with no staff role, as an owner signing in from the owner's side has."""
    return User.objects.create(username=f"owner{next(_seq)}")


def registered_owner(mobile=None):
    """A customer with a resident ID and a vehicle, as the dealer entered them at sale."""
    seq = next(_seq)
    id_number = valid_id_number(datetime.date(1980 + seq % 20, 3, 9), seq=seq)
    data = {"id_number": id_number, "name": f"车主{seq}"}
    if mobile:
        data["mobile"] = mobile
    customer = make_customer(**data)
    vehicle = make_vehicle(owner=customer)
    return {
        "customer": customer,
        "vehicle": vehicle,
        "details": {
            "vin_last8": vehicle.vin[-8:],
            "id_number": id_number,
            "mobile": customer.mobile,
        },
    }


def post(client, name, data, user=None):
    if user is not None:
        client.force_login(user)
    return client.post(reverse(name), data=data, content_type="application/json")


def last_code(mobile) -> str:
    """The code as it left in the SMS (the only place it exists in clear)."""
    message = OutboxMessage.objects.filter(channel="sms", recipient=mobile).latest("id")
    return message.payload["params"]["code"]


def allow_next_send(mobile):
    # Time control: as if the last code went out more than a minute ago.
    SmsQuota.objects.filter(mobile=mobile).update(
        last_sent_at=timezone.now() - datetime.timedelta(seconds=61)
    )


def customer_audit(customer):
    return AuditLog.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), object_id=str(customer.pk)
    )


# ---------------------------------------------------------------- the happy path


@pytest.mark.django_db
def test_anonymous_callers_are_refused_with_401(client):
    # Given nobody signed in
    # When either step is called
    responses = [
        post(client, START, {"vin_last8": "AB123456", "id_number": "x", "mobile": "1"}),
        post(client, CONFIRM, {"mobile": "13900000000", "code": "123456"}),
    ]

    # Then both answer 401 and nothing is counted or sent
    assert [r.status_code for r in responses] == [401, 401]
    assert [r.json()["code"] for r in responses] == ["not_authenticated"] * 2
    assert not SmsQuota.objects.exists()
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_owner_receives_a_code_and_confirming_it_links_the_login(client):
    # Given a registered owner and a login without any staff role
    owner, login = registered_owner(), owner_login()

    # When the owner asks for a code with the details the dealer entered (any spelling)
    details = dict(owner["details"], vin_last8=owner["details"]["vin_last8"].lower())
    started = post(client, START, details, login)

    # Then a code is queued by SMS to that mobile, stored only as a hash
    assert started.status_code == 202
    assert started.json()["expires_in"] == 300
    assert started.json()["resend_after"] == 60
    code = last_code(owner["customer"].mobile)
    assert len(code) == 6 and code.isdigit()
    [stored] = RegistrationCode.objects.all()
    assert stored.customer == owner["customer"] and stored.user == login
    assert code not in stored.code_hash and len(stored.code_hash) == 64
    message = OutboxMessage.objects.get(channel="sms")
    assert message.payload["template"] == "registration"
    assert code in message.body

    # When the owner confirms the code
    confirmed = post(client, CONFIRM, {"mobile": owner["customer"].mobile, "code": code})

    # Then the login is linked to the customer
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["customer"] == owner["customer"].pk
    assert Customer.objects.get(pk=owner["customer"].pk).user == login
    # and the link is audited as an API change by the owner
    [entry] = customer_audit(owner["customer"]).filter(action=AuditAction.UPDATE)
    assert entry.actor == login
    assert entry.channel == AuditChannel.API
    assert entry.changes["user"] == [None, login.pk]


@pytest.mark.django_db
def test_the_code_travels_through_the_outbox_to_the_sms_provider(client, fake_sms):  # noqa: F811
    # Given the Alibaba Cloud SMS adapter pointed at the local fake provider
    owner, login = registered_owner(), owner_login()

    # When the owner asks for a code and the outbox is drained
    assert post(client, START, owner["details"], login).status_code == 202
    assert fake_sms.messages == []  # nothing leaves before the outbox runs
    assert outbox_drain() == {"sent": 1, "retry": 0, "dead": 0}

    # Then the provider received a correctly signed SendSms with the code for that number
    [sent] = fake_sms.messages
    assert sent["PhoneNumbers"] == owner["customer"].mobile
    assert sent["TemplateCode"] == TEMPLATE_REGISTRATION
    code = sent["TemplateParam"]["code"]

    # When the owner types the code they received
    confirmed = post(client, CONFIRM, {"mobile": owner["customer"].mobile, "code": code})

    # Then the login is linked
    assert confirmed.status_code == 200
    assert Customer.objects.get(pk=owner["customer"].pk).user == login


# ---------------------------------------------------------------- revealing nothing

MISMATCHES = [
    combo
    for n in (1, 2, 3)
    for combo in itertools.combinations(("vin_last8", "id_number", "mobile"), n)
]


@pytest.mark.django_db
@pytest.mark.parametrize("wrong", MISMATCHES, ids=lambda combo: "+".join(combo))
def test_every_mismatch_answers_exactly_like_a_match(client, wrong):
    # Given an owner whose details match, and a target owner whose details are mixed, in
    # the fields under test, with real details of other people (one person per field)
    matching, target = registered_owner(), registered_owner()
    others = {field: registered_owner() for field in target["details"]}
    reference = post(client, START, matching["details"], owner_login())
    details = {
        field: (others[field] if field in wrong else target)["details"][field]
        for field in target["details"]
    }

    # When someone asks for a code with the mixed details
    answer = post(client, START, details, owner_login())

    # Then the answer is the same status and the same body as for a match
    assert answer.status_code == reference.status_code == 202
    assert answer.json() == reference.json()
    # and no code was made or sent for it
    assert RegistrationCode.objects.count() == 1
    assert OutboxMessage.objects.filter(channel="sms").count() == 1
    # yet the number asked about was counted all the same
    assert SmsQuota.objects.get(mobile=details["mobile"]).sent == 1


@pytest.mark.django_db
def test_confirming_after_a_mismatch_answers_like_a_wrong_code(client):
    # Given one login whose details matched and one whose details did not
    owner, stranger = registered_owner(), registered_owner()
    matched_login, guessing_login = owner_login(), owner_login()
    post(client, START, owner["details"], matched_login)
    guessed = dict(stranger["details"], id_number=owner["details"]["id_number"])
    post(client, START, guessed, guessing_login)
    right = last_code(owner["customer"].mobile)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    # When both confirm a code that is not the one sent
    after_mismatch = post(
        client, CONFIRM, {"mobile": guessed["mobile"], "code": wrong}, guessing_login
    )
    after_match = post(
        client, CONFIRM, {"mobile": owner["customer"].mobile, "code": wrong}, matched_login
    )

    # Then the answers cannot be told apart: a guesser learns nothing of a match
    assert after_match.status_code == after_mismatch.status_code == 400
    assert after_match.json() == after_mismatch.json()
    assert after_match.json()["code"] == "invalid_code"


@pytest.mark.django_db
def test_a_former_owner_no_longer_matches_after_the_vehicle_changes_hands(client):
    # Given a vehicle sold on to a new owner
    seller = registered_owner()
    buyer = make_customer(id_number=valid_id_number(seq=next(_seq)))
    ownership_transfer(actor=None, vehicle=seller["vehicle"], new_owner=buyer)

    # When the former owner asks for a code with their old details
    answer = post(client, START, seller["details"], owner_login())

    # Then the usual answer comes, but no code is sent
    assert answer.status_code == 202
    assert not RegistrationCode.objects.exists()
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("vin_last8", "RB12345", "last 8 characters"),
        ("vin_last8", "RB12345O", "never I, O or Q"),
        ("id_number", "11010519850615123", "18 characters"),
        ("mobile", "1391234567", "11 digits"),
        ("mobile", "23912345678", "starts with 13-19"),
    ],
)
def test_malformed_details_are_refused_with_a_field_message(client, field, value, says):
    # Given well-formed details with one field spoiled
    owner = registered_owner()
    details = dict(owner["details"], **{field: value})

    # When the owner asks for a code
    answer = post(client, START, details, owner_login())

    # Then the answer is a 400 naming the field, and nothing was counted or sent
    assert answer.status_code == 400
    body = answer.json()
    assert list(body["fields"]) == [field]
    assert says in body["fields"][field][0]
    assert not SmsQuota.objects.exists()
    assert not RegistrationCode.objects.exists()


@pytest.mark.django_db
def test_a_malformed_code_is_refused_without_using_a_try(client):
    # Given a code sent to an owner
    owner, login = registered_owner(), owner_login()
    post(client, START, owner["details"], login)

    # When the owner types five letters
    answer = post(client, CONFIRM, {"mobile": owner["customer"].mobile, "code": "12a45"})

    # Then it is a field error, and the code keeps all its tries
    assert answer.status_code == 400
    assert "6 digits" in answer.json()["fields"]["code"][0]
    assert RegistrationCode.objects.get().wrong_tries == 0


# ---------------------------------------------------------------- the code's life


@pytest.mark.django_db
def test_an_expired_code_is_refused(client):
    # Given a code whose five minutes are over
    owner, login = registered_owner(), owner_login()
    post(client, START, owner["details"], login)
    code = last_code(owner["customer"].mobile)
    RegistrationCode.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    # When the owner confirms it
    answer = post(client, CONFIRM, {"mobile": owner["customer"].mobile, "code": code})

    # Then it is refused and nothing is linked
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_code"
    assert Customer.objects.get(pk=owner["customer"].pk).user is None


@pytest.mark.django_db
def test_a_code_expires_five_minutes_after_it_was_made(client):
    # Given a code just made
    owner, login = registered_owner(), owner_login()
    before = timezone.now()
    post(client, START, owner["details"], login)
    after = timezone.now()

    # Then it expires five minutes later
    stored = RegistrationCode.objects.get()
    assert (
        before + datetime.timedelta(minutes=5)
        <= stored.expires_at
        <= after + datetime.timedelta(minutes=5)
    )


@pytest.mark.django_db
def test_a_code_links_once_and_repeating_the_confirm_answers_the_same(client):
    # Given an owner who confirmed their code
    owner, login = registered_owner(), owner_login()
    post(client, START, owner["details"], login)
    code = last_code(owner["customer"].mobile)
    first = post(client, CONFIRM, {"mobile": owner["customer"].mobile, "code": code})

    # When the same confirm arrives again (a double tap, a retried request)
    again = post(client, CONFIRM, {"mobile": owner["customer"].mobile, "code": code})

    # Then it answers the same success, and the link was made and audited once
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert customer_audit(owner["customer"]).filter(action=AuditAction.UPDATE).count() == 1
    assert RegistrationCode.objects.get().used_at is not None


@pytest.mark.django_db
def test_a_used_code_cannot_link_again(client):
    # Given an owner who confirmed their code, and whose link staff later removed
    owner, login = registered_owner(), owner_login()
    post(client, START, owner["details"], login)
    code = last_code(owner["customer"].mobile)
    post(client, CONFIRM, {"mobile": owner["customer"].mobile, "code": code})
    Customer.objects.filter(pk=owner["customer"].pk).update(user=None)

    # When the old code is confirmed again
    answer = post(client, CONFIRM, {"mobile": owner["customer"].mobile, "code": code})

    # Then it is refused: a code is good for one link only
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_code"
    assert Customer.objects.get(pk=owner["customer"].pk).user is None


@pytest.mark.django_db
def test_five_wrong_tries_kill_the_code_even_for_the_right_one(client):
    # Given a code sent to an owner
    owner, login = registered_owner(), owner_login()
    mobile = owner["customer"].mobile
    post(client, START, owner["details"], login)
    code = last_code(mobile)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    # When five wrong codes are typed
    answers = [post(client, CONFIRM, {"mobile": mobile, "code": wrong}) for _ in range(5)]

    # Then each is refused, and after them the right code is refused too
    assert [a.status_code for a in answers] == [400] * 5
    late = post(client, CONFIRM, {"mobile": mobile, "code": code})
    assert late.status_code == 400
    assert late.json() == answers[0].json()
    assert RegistrationCode.objects.get().wrong_tries == 5
    assert Customer.objects.get(pk=owner["customer"].pk).user is None


@pytest.mark.django_db
def test_four_wrong_tries_leave_the_right_code_working(client):
    # Given four wrong tries on a code
    owner, login = registered_owner(), owner_login()
    mobile = owner["customer"].mobile
    post(client, START, owner["details"], login)
    code = last_code(mobile)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(4):
        post(client, CONFIRM, {"mobile": mobile, "code": wrong})

    # When the right code is typed
    answer = post(client, CONFIRM, {"mobile": mobile, "code": code})

    # Then the login is linked, and the right try did not count as a wrong one
    assert answer.status_code == 200
    assert RegistrationCode.objects.get().wrong_tries == 4


@pytest.mark.django_db
def test_a_new_code_replaces_the_previous_one(client):
    # Given an owner who asked for a code, and a minute later for another
    owner, login = registered_owner(), owner_login()
    mobile = owner["customer"].mobile
    post(client, START, owner["details"], login)
    first = last_code(mobile)
    allow_next_send(mobile)
    post(client, START, owner["details"], login)
    second = last_code(mobile)

    # When the first code is typed
    old = post(client, CONFIRM, {"mobile": mobile, "code": first})

    # Then the first code was retired and only the newest one works
    assert old.status_code == 400
    retired = RegistrationCode.objects.order_by("id").first()
    assert retired.expires_at <= timezone.now() and retired.used_at is None
    assert post(client, CONFIRM, {"mobile": mobile, "code": second}).status_code == 200


@pytest.mark.django_db
def test_the_code_works_only_for_the_login_that_asked_for_it(client):
    # Given a code sent for one login
    owner, login, intruder = registered_owner(), owner_login(), owner_login()
    post(client, START, owner["details"], login)
    code = last_code(owner["customer"].mobile)

    # When another login types it
    answer = post(client, CONFIRM, {"mobile": owner["customer"].mobile, "code": code}, intruder)

    # Then it is refused and nothing is linked
    assert answer.status_code == 400
    assert Customer.objects.get(pk=owner["customer"].pk).user is None


# ---------------------------------------------------------------- send limits


@pytest.mark.django_db
def test_one_code_a_minute_per_number_even_when_nothing_matches(client):
    # Given a number that just asked for a code, with details that match nothing
    owner = registered_owner()
    details = dict(owner["details"], id_number=valid_id_number(seq=999))
    assert post(client, START, details, owner_login()).status_code == 202

    # When another request for that number follows at once (even from another login)
    refused = post(client, START, details, owner_login())

    # Then it is refused with 429 and told how long to wait
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 61

    # When the minute has passed
    allow_next_send(details["mobile"])

    # Then a code may be asked for again
    assert post(client, START, details, owner_login()).status_code == 202
    assert SmsQuota.objects.get(mobile=details["mobile"]).sent == 2


@pytest.mark.django_db
def test_ten_codes_a_day_per_number(client):
    # Given a number that had ten codes today, each a minute apart
    owner, login = registered_owner(), owner_login()
    mobile = owner["customer"].mobile
    for _ in range(10):
        assert post(client, START, owner["details"], login).status_code == 202
        allow_next_send(mobile)

    # When it asks for an eleventh
    refused = post(client, START, owner["details"], login)

    # Then it is refused until tomorrow, and no eleventh SMS is queued
    assert refused.status_code == 429
    assert "tomorrow" in refused.json()["message"]
    assert int(refused["Retry-After"]) <= 86400
    assert OutboxMessage.objects.filter(channel="sms").count() == 10

    # When the day is over (the counter belongs to yesterday)
    SmsQuota.objects.filter(mobile=mobile).update(
        day=timezone.localdate() - datetime.timedelta(days=1)
    )

    # Then the number may ask again
    assert post(client, START, owner["details"], login).status_code == 202


@pytest.mark.django_db
def test_the_minute_between_codes_holds_across_midnight(client):
    # Given a code sent to a number seconds before midnight (yesterday's counter)
    owner, login = registered_owner(), owner_login()
    mobile = owner["customer"].mobile
    SmsQuota.objects.create(
        mobile=mobile,
        day=timezone.localdate() - datetime.timedelta(days=1),
        sent=1,
        last_sent_at=timezone.now() - datetime.timedelta(seconds=10),
    )

    # When it asks again today
    answer = post(client, START, owner["details"], login)

    # Then the minute still applies
    assert answer.status_code == 429
    assert not RegistrationCode.objects.exists()


def _run_together(count, work):
    """Run ``work()`` in ``count`` threads, each with its own database connection, released
    at the same moment; returns their results and errors."""
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(work())
        except Exception as exc:  # collected: a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_for_one_number_send_one_code():
    # Given a registered owner and eight requests for a code at the same moment
    owner, login = registered_owner(), owner_login()

    # When they run concurrently, each on its own connection
    results, errors = _run_together(8, lambda: registration_start(user=login, **owner["details"]))

    # Then exactly one went through and the others were told to wait
    assert len(results) == 1
    assert len(errors) == 7 and all(isinstance(e, TooManyCodes) for e in errors)
    assert SmsQuota.objects.get(mobile=owner["customer"].mobile).sent == 1
    assert RegistrationCode.objects.count() == 1
    assert OutboxMessage.objects.filter(channel="sms").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_never_pass_the_daily_limit(monkeypatch):
    # Given no spacing between codes, to test the daily count alone (negative, so that a
    # send stamped a moment after this request's clock read still counts as earlier)
    monkeypatch.setattr(registration, "RESEND_INTERVAL", -datetime.timedelta(hours=1))
    # and 16 requests at once
    owner, login = registered_owner(), owner_login()

    # When they run concurrently
    results, errors = _run_together(16, lambda: registration_start(user=login, **owner["details"]))

    # Then exactly ten codes went out
    assert len(results) == 10
    assert len(errors) == 6 and all(isinstance(e, TooManyCodes) for e in errors)
    assert SmsQuota.objects.get(mobile=owner["customer"].mobile).sent == 10
    assert OutboxMessage.objects.filter(channel="sms").count() == 10


@pytest.mark.django_db(transaction=True)
def test_concurrent_guesses_use_at_most_five_tries():
    # Given a code sent to an owner and twelve different wrong guesses at once
    owner, login = registered_owner(), owner_login()
    registration_start(user=login, **owner["details"])
    mobile = owner["customer"].mobile
    code = last_code(mobile)
    guesses = iter(f"{(int(code) + n) % 1_000_000:06d}" for n in range(1, 13))
    lock = threading.Lock()

    def guess():
        with lock:
            attempt = next(guesses)
        return registration_confirm(user=login, mobile=mobile, code=attempt)

    # When they run concurrently
    results, errors = _run_together(12, guess)

    # Then all are refused, five tries are used, and the right code is dead
    assert results == [] and len(errors) == 12
    assert RegistrationCode.objects.get().wrong_tries == 5
    with pytest.raises(ValidationFailed) as late:
        registration_confirm(user=login, mobile=mobile, code=code)
    assert late.value.code == "invalid_code"


# ---------------------------------------------------------------- link conflicts


@pytest.mark.django_db
def test_a_customer_linked_to_another_login_is_not_taken_over(client):
    # Given a customer already linked to a first login
    owner, first, second = registered_owner(), owner_login(), owner_login()
    Customer.objects.filter(pk=owner["customer"].pk).update(user=first)
    post(client, START, owner["details"], second)
    code = last_code(owner["customer"].mobile)

    # When a second login confirms a right code for that customer
    answer = post(client, CONFIRM, {"mobile": owner["customer"].mobile, "code": code})

    # Then it is refused with a clear message and the first link stays
    assert answer.status_code == 409
    assert answer.json()["code"] == "customer_already_linked"
    assert "another login" in answer.json()["message"]
    assert Customer.objects.get(pk=owner["customer"].pk).user == first
    # and repeating the confirm gives the same refusal, not a confusing code error
    again = post(client, CONFIRM, {"mobile": owner["customer"].mobile, "code": code})
    assert again.status_code == 409
    assert again.json() == answer.json()


@pytest.mark.django_db
def test_a_login_linked_to_one_customer_cannot_link_a_second(client):
    # Given a login already linked to one customer, and a second customer's right code
    linked, other = registered_owner(), registered_owner()
    login = owner_login()
    Customer.objects.filter(pk=linked["customer"].pk).update(user=login)
    post(client, START, other["details"], login)
    code = last_code(other["customer"].mobile)

    # When the login confirms it
    answer = post(client, CONFIRM, {"mobile": other["customer"].mobile, "code": code})

    # Then it is refused and neither customer changes
    assert answer.status_code == 409
    assert answer.json()["code"] == "login_already_linked"
    assert Customer.objects.get(pk=other["customer"].pk).user is None
    assert Customer.objects.get(pk=linked["customer"].pk).user == login
    assert not customer_audit(other["customer"]).filter(action=AuditAction.UPDATE).exists()


@pytest.mark.django_db
def test_both_steps_are_documented_in_the_api_schema(client):
    # Given the OpenAPI schema
    client.force_login(owner_login())
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()

    # Then both steps are there with their answers
    start = schema["paths"]["/api/owner/registration/start/"]["post"]
    confirm = schema["paths"]["/api/owner/registration/confirm/"]["post"]
    assert {"202", "400", "401", "429"} <= set(start["responses"])
    assert {"200", "400", "401", "409"} <= set(confirm["responses"])
