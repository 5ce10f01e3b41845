"""Owner registration: an owner links their login to their customer record (SPEC §2).

The owner gives the last 8 characters of the VIN, the resident ID number and the mobile
number. When the three match a vehicle's current owner as the dealer entered it, a
6-digit code goes to that mobile by SMS; confirming the code links the login to the
customer (``Customer.user``).

What an answer never reveals: whether the three fields matched a record, or which one did
not. ``registration_start`` answers the same whether or not there was a match and counts
the send limits for every number asked about; ``registration_confirm`` answers the same
for a wrong code, an expired or exhausted one and a code that was never sent. Only an
owner who holds the phone (the right code) learns more, e.g. that the record is already
linked to another login.

Rules: a code lives 5 minutes, is used once and survives 5 wrong tries; a number gets at
most one code per 60 s and 10 per day (``SmsQuota``, changed by a conditional UPDATE so
concurrent requests cannot exceed it). Codes are stored as an HMAC, never in clear.
"""

import datetime
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.core import sms
from aftersales.core.audit import audit_update, snapshot
from aftersales.core.errors import Conflict, ServiceError, ValidationFailed
from aftersales.crm import pii
from aftersales.crm.models import Customer, RegistrationCode, SmsQuota
from aftersales.crm.validators import normalise_id_number, normalise_mobile

CODE_LENGTH = 6
CODE_TTL = datetime.timedelta(minutes=5)
MAX_WRONG_TRIES = 5
RESEND_INTERVAL = datetime.timedelta(seconds=60)
DAILY_LIMIT = 10

_SEPARATORS = re.compile(r"[\s\-·.•_]")
_VIN_TAIL = re.compile(r"[0-9A-HJ-NPR-Z]{8}")  # VIN characters: no I, O or Q


class TooManyCodes(ServiceError):
    """The number asked for codes too often; ``retry_after`` says when it may ask again."""

    status = 429
    code = "throttled"
    default_message = gettext_lazy("Too many codes were requested for this number.")

    def __init__(self, message=None, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class StartAnswer:
    """What the owner is told after asking for a code: the same with or without a match."""

    expires_in: int = int(CODE_TTL.total_seconds())
    resend_after: int = int(RESEND_INTERVAL.total_seconds())

    @property
    def message(self) -> str:
        return _(
            "If these details match a vehicle's owner in our records, a code has been sent "
            "by SMS to that mobile number. It is valid for %(minutes)d minutes."
        ) % {"minutes": self.expires_in // 60}


def _wrong_code() -> ValidationFailed:
    # One answer for a wrong, expired, exhausted or never-sent code: telling them apart
    # would tell a caller whose guessed details matched a record that a code went out.
    return ValidationFailed(
        fields={"code": [_("This code is not correct or no longer valid. Ask for a new code.")]},
        code="invalid_code",
    )


# ---------------------------------------------------------------- input


def _vin_tail(value) -> str:
    raw = _SEPARATORS.sub("", str(value or "")).upper()
    if len(raw) != 8:
        raise DjangoValidationError(
            _("Enter the last 8 characters of the VIN (%(n)d given).") % {"n": len(raw)}
        )
    if not _VIN_TAIL.fullmatch(raw):
        raise DjangoValidationError(
            _("A VIN has only capital letters and digits, never I, O or Q.")
        )
    return raw


def _clean(**checks) -> dict:
    """Run each ``field=(normaliser, value)``; all bad fields are reported together."""
    cleaned, errors = {}, {}
    for field, (normalise, value) in checks.items():
        try:
            cleaned[field] = normalise(value)
        except DjangoValidationError as exc:
            errors[field] = exc.messages
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def _code_hash(*, user_id: int, mobile: str, code: str) -> str:
    """Keyed with SECRET_KEY and bound to the login and the number it was sent for."""
    message = f"owner-registration:{user_id}:{mobile}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- send limits


def _take_send_slot(mobile: str, now: datetime.datetime):
    """Count one code for ``mobile`` or raise ``TooManyCodes``. One conditional UPDATE
    decides, so concurrent requests can never pass the limits together."""
    today = timezone.localdate(now)
    # The 60 s spacing holds across midnight: a new day's row starts from yesterday's last send.
    yesterday_last = (
        SmsQuota.objects.filter(mobile=mobile, day=today - datetime.timedelta(days=1))
        .values_list("last_sent_at", flat=True)
        .first()
    )
    SmsQuota.objects.bulk_create(
        [SmsQuota(mobile=mobile, day=today, sent=0, last_sent_at=yesterday_last)],
        ignore_conflicts=True,
    )
    taken = (
        SmsQuota.objects.filter(mobile=mobile, day=today, sent__lt=DAILY_LIMIT)
        .filter(Q(last_sent_at__isnull=True) | Q(last_sent_at__lte=now - RESEND_INTERVAL))
        .update(sent=F("sent") + 1, last_sent_at=now)
    )
    if taken:
        return
    quota = SmsQuota.objects.get(mobile=mobile, day=today)
    if quota.sent >= DAILY_LIMIT:
        tomorrow = timezone.make_aware(
            datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time())
        )
        raise TooManyCodes(
            _("This number has reached the limit of %(n)d codes a day. Try again tomorrow.")
            % {"n": DAILY_LIMIT},
            retry_after=max(1, int((tomorrow - now).total_seconds())),
        )
    wait = max(1, int((quota.last_sent_at + RESEND_INTERVAL - now).total_seconds()) + 1)
    raise TooManyCodes(
        _(
            "A code for this number was asked for less than a minute ago. Wait %(s)d seconds "
            "before asking again."
        )
        % {"s": wait},
        retry_after=wait,
    )


# ---------------------------------------------------------------- the two steps


def _matching_customer(*, vin_last8: str, id_number: str, mobile: str) -> Customer | None:
    return (
        Customer.objects.live()
        .filter(
            mobile=mobile,
            id_number_hash=pii.blind_index(id_number),
            vehicles__vin_last8=vin_last8,
        )
        .order_by("pk")
        .first()
    )


@transaction.atomic
def registration_start(*, user, vin_last8: str, id_number: str, mobile: str) -> StartAnswer:
    """Send a code if the three fields match a vehicle's current owner. Answers the same
    either way; raises ``ValidationFailed`` for malformed input and ``TooManyCodes``."""
    data = _clean(
        vin_last8=(_vin_tail, vin_last8),
        id_number=(normalise_id_number, id_number),
        mobile=(normalise_mobile, mobile),
    )
    now = timezone.now()
    _take_send_slot(data["mobile"], now)
    customer = _matching_customer(**data)
    if customer is None:
        return StartAnswer()
    # A newer code replaces the older ones: one live code per login and number.
    RegistrationCode.objects.filter(
        user=user, mobile=data["mobile"], used_at__isnull=True, expires_at__gt=now
    ).update(expires_at=now)
    code = f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"
    record = RegistrationCode.objects.create(
        mobile=data["mobile"],
        user=user,
        customer=customer,
        code_hash=_code_hash(user_id=user.pk, mobile=data["mobile"], code=code),
        expires_at=now + CODE_TTL,
    )
    sms.sms_enqueue(
        mobile=data["mobile"],
        template="registration",
        params={"code": code},
        text=_(
            "Your verification code is %(code)s. It links your login to your vehicle and "
            "is valid for %(minutes)d minutes. Never tell it to anyone."
        )
        % {"code": code, "minutes": int(CODE_TTL.total_seconds()) // 60},
        dedup_key=f"owner-registration-code:{record.pk}",
    )
    return StartAnswer()


def _link_conflict(customer: Customer, user) -> Conflict | None:
    if customer.user_id and customer.user_id != user.pk:
        return Conflict(
            _(
                "This customer record is already linked to another login. If that is not "
                "yours, contact your dealer to have it released."
            ),
            code="customer_already_linked",
        )
    if Customer.objects.filter(user=user).exclude(pk=customer.pk).exists():
        return Conflict(
            _("Your login is already linked to another customer record."),
            code="login_already_linked",
        )
    return None


def _link(*, code_id: int, user) -> Customer:
    """Mark the code used and link the login, in one transaction. A link that cannot be
    made (the record or the login is linked elsewhere) still uses up the code: the owner
    proved the number, and the answer will not change without staff action."""
    with transaction.atomic():
        record = RegistrationCode.objects.select_for_update().get(pk=code_id)
        customer = Customer.objects.select_for_update().get(pk=record.customer_id)
        if record.used_at is None:
            # The reserved try was not a wrong one: give it back.
            RegistrationCode.objects.filter(pk=code_id).update(
                used_at=timezone.now(), wrong_tries=F("wrong_tries") - 1
            )
        # else a concurrent confirm with the same code got here first: answer as it did.
        conflict = _link_conflict(customer, user)
        if conflict is None and customer.user_id != user.pk:
            before = snapshot(customer)
            customer.user = user
            try:
                with transaction.atomic():
                    customer.save(update_fields=["user", "updated_at"])
            except IntegrityError:  # the login was linked elsewhere a moment ago
                conflict = _link_conflict(Customer.objects.get(pk=customer.pk), user)
            else:
                audit_update(customer, actor=user, before=before)
    if conflict is not None:
        raise conflict
    return customer


def _already_confirmed(*, user, mobile: str, code_hash: str) -> Customer:
    """A confirm repeated with a code that was already used: the same success again if the
    link stands, the same refusal if it was refused; nothing is linked twice."""
    used = RegistrationCode.objects.filter(
        user=user, mobile=mobile, used_at__isnull=False, used_at__gt=timezone.now() - CODE_TTL
    ).select_related("customer")
    for record in used:
        if hmac.compare_digest(record.code_hash, code_hash):
            customer = record.customer
            if customer.user_id == user.pk:
                return customer
            conflict = _link_conflict(customer, user)
            if conflict is not None:
                raise conflict
    raise _wrong_code()


def registration_confirm(*, user, mobile: str, code: str) -> Customer:
    """Link the login to the customer the code was sent for. Not one transaction on
    purpose: the try a guess uses up must stay counted when the guess is refused."""
    data = _clean(mobile=(normalise_mobile, mobile), code=(_code_shape, code))
    now = timezone.now()
    given_hash = _code_hash(user_id=user.pk, mobile=data["mobile"], code=data["code"])
    live = (
        RegistrationCode.objects.filter(
            user=user,
            mobile=data["mobile"],
            used_at__isnull=True,
            expires_at__gt=now,
            wrong_tries__lt=MAX_WRONG_TRIES,
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    if live is None:
        return _already_confirmed(user=user, mobile=data["mobile"], code_hash=given_hash)
    # Reserve a try before comparing, so concurrent guesses cannot exceed the limit.
    reserved = RegistrationCode.objects.filter(
        pk=live.pk, used_at__isnull=True, expires_at__gt=now, wrong_tries__lt=MAX_WRONG_TRIES
    ).update(wrong_tries=F("wrong_tries") + 1)
    if not reserved:
        return _already_confirmed(user=user, mobile=data["mobile"], code_hash=given_hash)
    if not hmac.compare_digest(live.code_hash, given_hash):
        raise _wrong_code()
    return _link(code_id=live.pk, user=user)


def _code_shape(value) -> str:
    raw = _SEPARATORS.sub("", str(value or ""))
    if not re.fullmatch(rf"\d{{{CODE_LENGTH}}}", raw):
        raise DjangoValidationError(
            _("The code has %(n)d digits.") % {"n": CODE_LENGTH},
        )
    return raw
