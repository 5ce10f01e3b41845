"""A local stand-in for Alibaba Cloud SMS (dysmsapi 2017-05-25 ``SendSms``), for tests.

It listens on 127.0.0.1 on a free port and checks a request the way the real service
does: the common parameters are present and well-formed, the timestamp is recent, the
nonce is new, the AccessKeyId is known and the HMAC-SHA1 signature matches the one it
computes itself with the secret; then the SendSms parameters (number, sign name,
template, JSON template parameters). It keeps every accepted message and can be told to
answer errors. The signature is recomputed here independently of aftersales.core.sms, so
a signing mistake there cannot hide behind the same mistake here.

Use the ``fake_sms`` fixture: it starts the server, points the settings at it
(``SMS_BACKEND = "aliyun"``) and stops it afterwards. Import it into a test module
(``from aftersales.testing.fake_sms import fake_sms  # noqa: F401``).
"""

import base64
import datetime
import hashlib
import hmac
import json
import re
import uuid
from urllib.parse import parse_qsl, quote

import pytest

from aftersales.testing.fake_http import FakeJsonServer

ACCESS_KEY_ID = "LTAI-fake-key-id"
ACCESS_KEY_SECRET = "fake-secret/with+odd=chars"
SIGN_NAME = "星驰汽车"
TEMPLATE_REGISTRATION = "SMS_400000001"

COMMON = (
    "AccessKeyId",
    "Action",
    "Format",
    "RegionId",
    "Signature",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureVersion",
    "Timestamp",
    "Version",
)
SEND_SMS = ("PhoneNumbers", "SignName", "TemplateCode")
MAX_CLOCK_SKEW = datetime.timedelta(minutes=15)


def _encode(value: str) -> str:
    # RFC 3986 unreserved characters stay; the rest is UTF-8 %XY (space %20, * %2A, ~ kept).
    return quote(value, safe="").replace("%7E", "~")


def expected_signature(method: str, params: dict, secret: str) -> str:
    """What Alibaba Cloud computes for an RPC request (its documented signing)."""
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    canonical = "&".join(_encode(k) + "=" + _encode(v) for k, v in pairs)
    string_to_sign = method + "&" + _encode("/") + "&" + _encode(canonical)
    mac = hmac.new((secret + "&").encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


class FakeAliyunSms(FakeJsonServer):
    """The server and what it saw. ``messages`` holds the accepted SendSms calls with
    ``TemplateParam`` decoded; ``rejected`` the refused ones as ``(Code, params)``."""

    def __init__(
        self,
        *,
        access_key_id=ACCESS_KEY_ID,
        access_key_secret=ACCESS_KEY_SECRET,
        sign_names=(SIGN_NAME,),
        templates=(TEMPLATE_REGISTRATION,),
    ):
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.sign_names = set(sign_names)
        self.templates = set(templates)
        self.messages: list[dict] = []
        self.rejected: list[tuple[str, dict]] = []
        self._errors: list[tuple[int, str, str]] = []
        self._nonces: set[str] = set()
        super().__init__()

    @property
    def url(self) -> str:
        return super().url + "/"

    def answer_error(self, code: str, message: str = "", *, times: int = 1, status: int = 200):
        """Refuse the next ``times`` well-formed SendSms calls with ``code`` (business
        errors such as isv.BUSINESS_LIMIT_CONTROL come with HTTP 200, as the real API)."""
        with self._lock:
            self._errors.extend([(status, code, message or code)] * times)

    # ------------------------------------------------------------ checking a request

    def check(self, method: str, params: dict) -> tuple[int, dict]:
        """The (HTTP status, JSON answer) the real service would give."""
        request_id = str(uuid.uuid4()).upper()

        def refuse(status, code, message):
            self.rejected.append((code, params))
            return status, {"Code": code, "Message": message, "RequestId": request_id}

        for name in COMMON:
            if not params.get(name):
                return refuse(400, "MissingParameter", f"{name} is mandatory for this action.")
        if params["AccessKeyId"] != self.access_key_id:
            return refuse(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        if params["SignatureMethod"] != "HMAC-SHA1" or params["SignatureVersion"] != "1.0":
            return refuse(400, "InvalidSignatureMethod", "Specified signature is not supported.")
        try:
            stamp = datetime.datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            return refuse(400, "InvalidTimeStamp.Format", "Specified time stamp is not valid.")
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        if abs(now - stamp) > MAX_CLOCK_SKEW:
            return refuse(400, "InvalidTimeStamp.Expired", "Specified time stamp has expired.")
        given = params["Signature"]
        wanted = expected_signature(method, params, self.access_key_secret)
        if not hmac.compare_digest(given.encode(), wanted.encode()):
            return refuse(
                400,
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation.",
            )
        with self._lock:
            if params["SignatureNonce"] in self._nonces:
                return refuse(400, "SignatureNonceUsed", "Specified signature nonce was used.")
            self._nonces.add(params["SignatureNonce"])
        if params["Action"] != "SendSms" or params["Version"] != "2017-05-25":
            return refuse(404, "InvalidAction.NotFound", "Specified api is not found.")
        if params["Format"] != "JSON":
            return refuse(400, "InvalidParameter", "Format must be JSON for this fake.")
        for name in SEND_SMS:
            if not params.get(name):
                return refuse(400, f"Missing{name}", f"{name} is mandatory for this action.")
        if params["SignName"] not in self.sign_names:
            return refuse(200, "isv.SMS_SIGNATURE_ILLEGAL", "The sign name is not approved.")
        if params["TemplateCode"] not in self.templates:
            return refuse(200, "isv.SMS_TEMPLATE_ILLEGAL", "The template is not approved.")
        numbers = params["PhoneNumbers"].split(",")
        if not all(re.fullmatch(r"1[3-9]\d{9}", n) for n in numbers):
            return refuse(200, "isv.MOBILE_NUMBER_ILLEGAL", "Illegal mobile number.")
        try:
            template_params = json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            return refuse(200, "isv.INVALID_JSON_PARAM", "TemplateParam is not valid JSON.")
        with self._lock:
            planned = self._errors.pop(0) if self._errors else None
        if planned:
            return refuse(*planned)
        biz_id = f"{len(self.messages) + 1:06d}^{uuid.uuid4().int % 10**10}"
        self.messages.append(
            {
                "method": method,
                "PhoneNumbers": params["PhoneNumbers"],
                "SignName": params["SignName"],
                "TemplateCode": params["TemplateCode"],
                "TemplateParam": template_params,
                "OutId": params.get("OutId", ""),
                "BizId": biz_id,
            }
        )
        return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": request_id}

    def answer(self, method, path, query, body):
        # RPC style: the parameters in the query (GET) or the form body (POST)
        return self.check(method, {**query, **dict(parse_qsl(body.decode("utf-8")))})


@pytest.fixture
def fake_sms(settings):
    """A running fake Alibaba Cloud SMS server with the settings pointing at it."""
    server = FakeAliyunSms().start()
    settings.SMS_BACKEND = "aliyun"
    settings.SMS_ALIYUN_ENDPOINT = server.url
    settings.SMS_ALIYUN_ACCESS_KEY_ID = server.access_key_id
    settings.SMS_ALIYUN_ACCESS_KEY_SECRET = server.access_key_secret
    settings.SMS_SIGN_NAME = SIGN_NAME
    settings.SMS_TEMPLATE_REGISTRATION = TEMPLATE_REGISTRATION
    settings.SMS_TIMEOUT = 5
    yield server
    server.stop()
