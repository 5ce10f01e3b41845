"""Text messages (SMS) through the outbox.

``sms_enqueue`` queues a message on the outbox's ``sms`` channel inside the caller's
transaction; the outbox drain hands it to the configured ``SmsBackend`` after commit and
retries on failure. Chinese providers send only pre-approved templates, so a message is a
logical template name (``registration``: ``settings.SMS_TEMPLATE_REGISTRATION``) plus its
parameters; ``text`` is the same message written out, for the console and the logs.

Backends, chosen by ``settings.SMS_BACKEND``:

* ``console`` (the demo default): writes the message to the log.
* ``aliyun``: Alibaba Cloud SMS (dysmsapi 2017-05-25 ``SendSms``), RPC style, signed with
  HMAC-SHA1 as Alibaba Cloud documents for its RPC APIs.
* a dotted path to another ``SmsBackend`` subclass.
"""

import base64
import datetime
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from aftersales.core.models import OutboxMessage
from aftersales.core.outbox import channel, outbox_enqueue

log = logging.getLogger(__name__)


class SmsError(Exception):
    """Delivery failed; the outbox retries the message later."""

    permanent = False


class SmsPermanentError(SmsError):
    """Delivery can never succeed (e.g. the number does not exist): retrying is pointless.
    ``permanent`` tells an outbox that supports it to give the message up at once."""

    permanent = True


@dataclass(frozen=True)
class Sms:
    mobile: str
    template: str  # logical name, e.g. "registration"
    params: dict = field(default_factory=dict)
    text: str = ""
    reference: str = ""  # our id for the message (the outbox row), echoed by some providers
    code: str = ""  # the provider's template code, when the message template names its own


def template_code(template: str) -> str:
    """The provider's code for a logical template: ``settings.SMS_TEMPLATE_<NAME>``."""
    code = getattr(settings, f"SMS_TEMPLATE_{template.upper()}", "")
    if not code:
        raise ImproperlyConfigured(f"SMS_TEMPLATE_{template.upper()} is not set")
    return code


class SmsBackend:
    """Delivers one text message. ``send`` returns the provider's message id and raises
    ``SmsError`` (retry later) or ``SmsPermanentError`` (give up) on failure."""

    def send(self, sms: Sms) -> str:
        raise NotImplementedError


class ConsoleSmsBackend(SmsBackend):
    """Writes the message to the log instead of sending it (demo and development only:
    the log then holds verification codes)."""

    def send(self, sms: Sms) -> str:
        log.info("SMS to %s [%s %s]: %s", sms.mobile, sms.template, sms.params, sms.text)
        return f"console-{uuid.uuid4().hex}"


# ---------------------------------------------------------------- Alibaba Cloud


def percent_encode(value: str) -> str:
    """RFC 3986 encoding of UTF-8 as Alibaba Cloud's RPC signature requires: letters,
    digits and ``-_.~`` stay, everything else is %XY (a space is %20, never +)."""
    return urllib.parse.quote(str(value), safe="-_.~")


def rpc_string_to_sign(method: str, params: dict) -> str:
    canonical = "&".join(
        f"{percent_encode(k)}={percent_encode(v)}"
        for k, v in sorted(params.items())
        if k != "Signature"
    )
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical)}"


def rpc_signature(method: str, params: dict, secret: str) -> str:
    """Base64(HMAC-SHA1(secret + "&", StringToSign))."""
    digest = hmac.new(
        f"{secret}&".encode(), rpc_string_to_sign(method, params).encode(), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode()


class AliyunSmsBackend(SmsBackend):
    """Alibaba Cloud SMS: ``SendSms`` of dysmsapi 2017-05-25, sent as a signed POST.

    Answers ``{"Code": "OK", "BizId": ...}`` on success; any other code is a failure.
    ``isv.MOBILE_NUMBER_ILLEGAL`` (and the like) can never succeed; everything else,
    including ``isv.BUSINESS_LIMIT_CONTROL`` (the provider's own flow control), network
    errors and 5xx answers, is worth a retry."""

    ACTION = "SendSms"
    VERSION = "2017-05-25"
    PERMANENT_CODES = frozenset(
        {
            "isv.MOBILE_NUMBER_ILLEGAL",  # not a valid mobile number
            "isv.BLACK_KEY_CONTROL_LIMIT",  # the number is on the provider's blacklist
        }
    )

    def __init__(
        self,
        *,
        endpoint: str,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        region: str = "cn-hangzhou",
        timeout: float = 10,
    ):
        missing = [
            name
            for name, value in (
                ("SMS_ALIYUN_ACCESS_KEY_ID", access_key_id),
                ("SMS_ALIYUN_ACCESS_KEY_SECRET", access_key_secret),
                ("SMS_SIGN_NAME", sign_name),
            )
            if not value
        ]
        if missing:
            raise ImproperlyConfigured(f"SMS_BACKEND=aliyun needs {', '.join(missing)}")
        self.endpoint = endpoint
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.sign_name = sign_name
        self.region = region
        self.timeout = timeout

    @classmethod
    def from_settings(cls):
        return cls(
            endpoint=settings.SMS_ALIYUN_ENDPOINT,
            access_key_id=settings.SMS_ALIYUN_ACCESS_KEY_ID,
            access_key_secret=settings.SMS_ALIYUN_ACCESS_KEY_SECRET,
            sign_name=settings.SMS_SIGN_NAME,
            region=settings.SMS_ALIYUN_REGION,
            timeout=settings.SMS_TIMEOUT,
        )

    def signed_params(self, sms: Sms, *, method="POST", now=None, nonce=None) -> dict:
        now = now or datetime.datetime.now(datetime.UTC)
        params = {
            "Action": self.ACTION,
            "Version": self.VERSION,
            "Format": "JSON",
            "RegionId": self.region,
            "AccessKeyId": self.access_key_id,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": nonce or uuid.uuid4().hex,
            "Timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "PhoneNumbers": sms.mobile,
            "SignName": self.sign_name,
            "TemplateCode": sms.code or template_code(sms.template),
            "TemplateParam": json.dumps(sms.params, ensure_ascii=False, separators=(",", ":")),
        }
        if sms.reference:
            params["OutId"] = sms.reference
        params["Signature"] = rpc_signature(method, params, self.access_key_secret)
        return params

    def send(self, sms: Sms) -> str:
        body = urllib.parse.urlencode(self.signed_params(sms), quote_via=urllib.parse.quote)
        request = urllib.request.Request(
            self.endpoint,
            data=body.encode(),
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:  # 4xx/5xx still carry a JSON error body
            status, raw = exc.code, exc.read()
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsError(f"Alibaba Cloud SMS unreachable: {exc}") from exc
        try:
            answer = json.loads(raw)
        except ValueError:
            raise SmsError(f"Alibaba Cloud SMS answered HTTP {status}: {raw[:200]!r}") from None
        code = answer.get("Code")
        if status == 200 and code == "OK":
            return str(answer.get("BizId", ""))
        error = (
            f"Alibaba Cloud SMS refused ({code}, HTTP {status}): {answer.get('Message', '')} "
            f"[RequestId {answer.get('RequestId', '-')}]"
        )
        if code in self.PERMANENT_CODES:
            raise SmsPermanentError(error)
        raise SmsError(error)


BACKENDS = {"console": ConsoleSmsBackend, "aliyun": AliyunSmsBackend.from_settings}


def get_backend() -> SmsBackend:
    name = settings.SMS_BACKEND
    factory = BACKENDS.get(name)
    if factory is None:
        if "." not in name:
            raise ImproperlyConfigured(
                f"SMS_BACKEND must be one of {', '.join(BACKENDS)} or a dotted path, not {name!r}"
            )
        factory = import_string(name)
    return factory()


# ---------------------------------------------------------------- the outbox channel


def sms_enqueue(
    *,
    mobile: str,
    template: str,
    params: dict,
    text: str,
    dealer=None,
    dedup_key: str | None = None,
):
    """Queue a text message in the current transaction; it leaves after commit."""
    return outbox_enqueue(
        channel="sms",
        recipient=mobile,
        body=text,
        payload={"template": template, "params": params},
        dealer=dealer,
        dedup_key=dedup_key,
    )


@channel("sms", secret=True)
def _send_sms(message):
    sms = Sms(
        mobile=message.recipient,
        template=message.payload.get("template", ""),
        params=message.payload.get("params", {}),
        text=message.body,
        reference=str(message.pk),
        code=message.payload.get("template_code", ""),
    )
    provider_id = get_backend().send(sms)
    OutboxMessage.objects.filter(pk=message.pk).update(provider_id=str(provider_id or "")[:64])
    log.info("SMS outbox message %s delivered (provider id %s)", message.pk, provider_id)
