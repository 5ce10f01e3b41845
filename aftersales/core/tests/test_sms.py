"""Text messages: the outbox's ``sms`` channel, the console backend and the Alibaba Cloud
adapter, checked against a local fake of the provider that verifies signatures itself."""

import datetime
import logging
import os
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.utils import timezone

from aftersales.core.models import OutboxMessage, OutboxStatus
from aftersales.core.outbox import outbox_drain
from aftersales.core.sms import (
    AliyunSmsBackend,
    Sms,
    SmsError,
    SmsPermanentError,
    get_backend,
    rpc_signature,
    rpc_string_to_sign,
    sms_enqueue,
)
from aftersales.testing.fake_sms import (
    SIGN_NAME,
    TEMPLATE_REGISTRATION,
    expected_signature,
    fake_sms,  # noqa: F401
)
from aftersales.testing.servers import free_port

# Alibaba Cloud's own worked example of its RPC signature (DescribeRegions, secret
# "testsecret"): the parameters, the string to sign and the signature it documents.
DOC_PARAMS = {
    "TimeStamp": "2016-02-23T12:46:24Z",
    "Format": "XML",
    "AccessKeyId": "testid",
    "Action": "DescribeRegions",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
    "Version": "2014-05-26",
    "SignatureVersion": "1.0",
}
DOC_STRING_TO_SIGN = (
    "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML"
    "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"
    "%26SignatureVersion%3D1.0%26TimeStamp%3D2016-02-23T12%253A46%253A24Z"
    "%26Version%3D2014-05-26"
)
DOC_SIGNATURE = "CT9X0VtwR86fNWSnsc6v8YGOjuE="

CODE_SMS = Sms(
    mobile="13912345678",
    template="registration",
    params={"code": "042917"},
    text="您的验证码为 042917，5 分钟内有效。",
)


def adapter(**overrides) -> AliyunSmsBackend:
    """The Alibaba Cloud adapter as the settings configure it, with some options changed."""
    from django.conf import settings

    options = {
        "endpoint": settings.SMS_ALIYUN_ENDPOINT,
        "access_key_id": settings.SMS_ALIYUN_ACCESS_KEY_ID,
        "access_key_secret": settings.SMS_ALIYUN_ACCESS_KEY_SECRET,
        "sign_name": settings.SMS_SIGN_NAME,
        "timeout": settings.SMS_TIMEOUT,
    }
    return AliyunSmsBackend(**{**options, **overrides})


def make_due(message):
    # Time control: move the retry time to now instead of waiting for the back-off.
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())


# ---------------------------------------------------------------- signing


def test_the_adapter_signs_alibaba_clouds_documented_example():
    # Given the parameters of Alibaba Cloud's worked signing example
    # When the adapter builds the string to sign and the signature
    string_to_sign = rpc_string_to_sign("GET", DOC_PARAMS)
    signature = rpc_signature("GET", DOC_PARAMS, "testsecret")

    # Then both are exactly what the documentation shows
    assert string_to_sign == DOC_STRING_TO_SIGN
    assert signature == DOC_SIGNATURE


def test_the_fake_provider_verifies_with_the_documented_signature():
    # Given the same example, When the fake computes what it expects
    # Then it expects the documented signature (the fake checks like the real service)
    assert expected_signature("GET", DOC_PARAMS, "testsecret") == DOC_SIGNATURE
    assert expected_signature("POST", DOC_PARAMS, "testsecret") != DOC_SIGNATURE


def test_signing_encodes_chinese_spaces_and_reserved_characters_the_documented_way():
    # Given values with UTF-8, a space, '*', '~' and '+'
    params = {"SignName": "星驰汽车", "TemplateParam": '{"name":"王 *~+"}', "A": "1"}

    # When the string to sign is built
    string_to_sign = rpc_string_to_sign("POST", params)

    # Then a space is %20 (never +), '*' is %2A, '~' stays, and everything is encoded twice
    assert "%2520" in string_to_sign and "+" not in string_to_sign
    assert "%252A" in string_to_sign
    assert "~" in string_to_sign
    assert "%25E6%2598%259F" in string_to_sign  # 星
    assert rpc_signature("POST", params, "s") == expected_signature("POST", params, "s")


# ---------------------------------------------------------------- the Alibaba Cloud adapter


def test_the_adapter_sends_a_signed_sendsms_the_provider_accepts(fake_sms):  # noqa: F811
    # Given the adapter configured for the fake provider
    backend = get_backend()
    assert isinstance(backend, AliyunSmsBackend)

    # When a code message is sent
    provider_id = backend.send(Sms(**{**CODE_SMS.__dict__, "reference": "77"}))

    # Then the provider verified the signature and accepted exactly that message
    [accepted] = fake_sms.messages
    assert fake_sms.rejected == []
    assert provider_id == accepted["BizId"]
    assert accepted == {
        "method": "POST",
        "PhoneNumbers": "13912345678",
        "SignName": SIGN_NAME,
        "TemplateCode": TEMPLATE_REGISTRATION,
        "TemplateParam": {"code": "042917"},
        "OutId": "77",
        "BizId": provider_id,
    }


def test_a_signed_get_request_is_accepted_too(fake_sms):  # noqa: F811
    # Given the adapter's parameters signed for GET
    params = adapter().signed_params(CODE_SMS, method="GET")

    # When they are sent as a query string, the way the RPC style also allows
    query = urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
    with urllib.request.urlopen(f"{fake_sms.url}?{query}", timeout=5) as response:
        status = response.status

    # Then the provider accepts them
    assert status == 200
    assert [m["method"] for m in fake_sms.messages] == ["GET"]


def test_a_wrong_secret_is_refused_by_the_provider(fake_sms):  # noqa: F811
    # Given an adapter with a secret the provider does not know
    backend = adapter(access_key_secret="not-the-secret")

    # When it sends
    with pytest.raises(SmsError) as refused:
        backend.send(CODE_SMS)

    # Then the provider refused the signature and nothing was delivered
    assert "SignatureDoesNotMatch" in str(refused.value)
    assert not refused.value.permanent
    assert fake_sms.messages == []
    assert [code for code, _ in fake_sms.rejected] == ["SignatureDoesNotMatch"]


def test_a_tampered_request_is_refused_by_the_provider(fake_sms):  # noqa: F811
    # Given a signed request whose number is changed after signing
    params = adapter().signed_params(CODE_SMS)
    params["PhoneNumbers"] = "13800000000"

    # When it reaches the provider
    body = urllib.parse.urlencode(params, quote_via=urllib.parse.quote).encode()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(fake_sms.url, data=body, timeout=5)

    # Then the signature no longer matches
    assert refused.value.code == 400
    assert fake_sms.rejected[0][0] == "SignatureDoesNotMatch"
    assert fake_sms.messages == []


def test_each_send_uses_a_fresh_nonce(fake_sms):  # noqa: F811
    # Given the adapter, When it sends twice in a row
    backend = adapter()
    backend.send(CODE_SMS)
    backend.send(CODE_SMS)

    # Then the provider, which refuses a reused nonce, accepted both
    assert len(fake_sms.messages) == 2
    assert fake_sms.rejected == []


def test_the_provider_refuses_a_replayed_request(fake_sms):  # noqa: F811
    # Given one signed request sent once
    body = urllib.parse.urlencode(adapter().signed_params(CODE_SMS)).encode()
    urllib.request.urlopen(fake_sms.url, data=body, timeout=5).close()

    # When exactly the same request is sent again
    with pytest.raises(urllib.error.HTTPError) as replayed:
        urllib.request.urlopen(fake_sms.url, data=body, timeout=5)

    # Then it is refused as a used nonce
    assert replayed.value.code == 400
    assert fake_sms.rejected[0][0] == "SignatureNonceUsed"
    assert len(fake_sms.messages) == 1


def test_a_stale_timestamp_is_refused_by_the_provider(fake_sms):  # noqa: F811
    # Given a request signed with a clock 20 minutes behind
    old = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=20)
    body = urllib.parse.urlencode(adapter().signed_params(CODE_SMS, now=old)).encode()

    # When it is sent, Then it is refused
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(fake_sms.url, data=body, timeout=5)
    assert refused.value.code == 400
    assert fake_sms.rejected[0][0] == "InvalidTimeStamp.Expired"


def test_the_provider_requires_the_sendsms_parameters(fake_sms):  # noqa: F811
    # Given a correctly signed request without a sign name
    backend = adapter()
    params = backend.signed_params(CODE_SMS)
    del params["SignName"]
    params["Signature"] = rpc_signature("POST", params, backend.access_key_secret)

    # When it is sent, Then the provider names the missing parameter
    body = urllib.parse.urlencode(params, quote_via=urllib.parse.quote).encode()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(fake_sms.url, data=body, timeout=5)
    assert refused.value.code == 400
    assert fake_sms.rejected[0][0] == "MissingSignName"


def test_flow_control_is_a_retryable_failure(fake_sms):  # noqa: F811
    # Given a provider throttling the number
    fake_sms.answer_error("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")

    # When a message is sent
    with pytest.raises(SmsError) as refused:
        adapter().send(CODE_SMS)

    # Then it failed in a way worth retrying, with the provider's code in the error
    assert not isinstance(refused.value, SmsPermanentError)
    assert "isv.BUSINESS_LIMIT_CONTROL" in str(refused.value)


def test_an_illegal_number_is_a_permanent_failure(fake_sms):  # noqa: F811
    # Given a number the provider does not accept
    bad = Sms(**{**CODE_SMS.__dict__, "mobile": "10012345678"})

    # When a message is sent to it
    with pytest.raises(SmsPermanentError) as refused:
        adapter().send(bad)

    # Then the failure says retrying is pointless
    assert refused.value.permanent
    assert "isv.MOBILE_NUMBER_ILLEGAL" in str(refused.value)
    assert fake_sms.messages == []


@pytest.mark.django_db
def test_an_unreachable_provider_is_a_retryable_failure(settings):
    # Given an endpoint where nothing listens
    settings.SMS_BACKEND = "aliyun"
    settings.SMS_ALIYUN_ENDPOINT = f"http://127.0.0.1:{free_port()}/"
    settings.SMS_ALIYUN_ACCESS_KEY_ID = "id"
    settings.SMS_ALIYUN_ACCESS_KEY_SECRET = "secret"
    settings.SMS_SIGN_NAME = SIGN_NAME
    settings.SMS_TEMPLATE_REGISTRATION = TEMPLATE_REGISTRATION

    # When a message is sent
    with pytest.raises(SmsError) as failed:
        get_backend().send(CODE_SMS)

    # Then it failed as "unreachable", to be retried
    assert "unreachable" in str(failed.value)
    assert not failed.value.permanent


def test_a_provider_that_never_answers_times_out(fake_sms):  # noqa: F811
    # Given a server that accepts connections and never answers, and a short timeout
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    accepted = []
    waiter = threading.Thread(target=lambda: accepted.append(silent.accept()), daemon=True)
    waiter.start()
    backend = adapter(endpoint=f"http://127.0.0.1:{silent.getsockname()[1]}/", timeout=0.3)

    # When a message is sent
    try:
        with pytest.raises(SmsError) as failed:
            backend.send(CODE_SMS)
    finally:
        for conn, _ in accepted:
            conn.close()
        silent.close()

    # Then the call gave up after the timeout instead of hanging the outbox
    assert "unreachable" in str(failed.value)


def test_the_adapter_refuses_to_start_without_credentials(settings):
    # Given the aliyun backend with no secret
    settings.SMS_BACKEND = "aliyun"
    settings.SMS_ALIYUN_ACCESS_KEY_ID = "id"
    settings.SMS_ALIYUN_ACCESS_KEY_SECRET = ""
    settings.SMS_SIGN_NAME = SIGN_NAME

    # When it is built, Then the configuration error names what is missing
    with pytest.raises(Exception) as refused:
        get_backend()
    assert "SMS_ALIYUN_ACCESS_KEY_SECRET" in str(refused.value)


# ---------------------------------------------------------------- through the outbox


@pytest.mark.django_db
def test_an_sms_is_delivered_by_the_outbox_after_commit(fake_sms):  # noqa: F811
    # Given a code message queued in the outbox
    message = sms_enqueue(
        mobile="13912345678", template="registration", params={"code": "042917"}, text="验证码"
    )
    assert fake_sms.messages == []

    # When the outbox is drained
    counts = outbox_drain()

    # Then the provider received it and the row is marked sent
    assert counts == {"sent": 1, "retry": 0, "dead": 0}
    [accepted] = fake_sms.messages
    assert accepted["TemplateParam"] == {"code": "042917"}
    assert accepted["OutId"] == str(message.pk)
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT


@pytest.mark.django_db
def test_a_provider_error_makes_the_outbox_retry_and_the_retry_delivers(fake_sms):  # noqa: F811
    # Given a provider that throttles the first attempt
    fake_sms.answer_error("isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:5")
    message = sms_enqueue(
        mobile="13912345678", template="registration", params={"code": "042917"}, text="验证码"
    )

    # When the outbox is drained
    assert outbox_drain() == {"sent": 0, "retry": 1, "dead": 0}

    # Then the message waits for a retry with the provider's answer recorded
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert message.attempts == 1
    assert "isv.BUSINESS_LIMIT_CONTROL" in message.last_error
    assert fake_sms.messages == []

    # When the retry is due and the provider accepts
    make_due(message)
    assert outbox_drain() == {"sent": 1, "retry": 0, "dead": 0}

    # Then it was delivered exactly once
    assert len(fake_sms.messages) == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert message.attempts == 2
    # and the code no longer sits in the outbox once it has left
    assert message.body == "" and message.payload == {}


@pytest.mark.django_db
def test_an_illegal_number_is_given_up_at_once(fake_sms):  # noqa: F811
    # Given a message to a number the provider calls illegal
    message = sms_enqueue(
        mobile="10012345678", template="registration", params={"code": "042917"}, text="验证码"
    )

    # When the outbox is drained
    counts = outbox_drain()

    # Then the message is dead after one attempt instead of being retried for a day
    assert counts == {"sent": 0, "retry": 0, "dead": 1}
    message.refresh_from_db()
    assert message.status == OutboxStatus.DEAD
    assert message.body == "" and message.payload == {}


@pytest.mark.django_db
def test_the_console_backend_logs_the_message(settings, caplog):
    # Given the demo default backend
    settings.SMS_BACKEND = "console"
    sms_enqueue(
        mobile="13912345678",
        template="registration",
        params={"code": "042917"},
        text="验证码 042917",
    )

    # When the outbox is drained
    with caplog.at_level(logging.INFO, logger="aftersales.core.sms"):
        counts = outbox_drain()

    # Then the message is in the log and marked sent
    assert counts == {"sent": 1, "retry": 0, "dead": 0}
    assert "13912345678" in caplog.text and "验证码 042917" in caplog.text
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT


# ---------------------------------------------------------------- settings


def _settings_probe(env):
    code = "import django; from django.conf import settings; django.setup(); print('ok')"
    base = {k: v for k, v in os.environ.items() if not k.startswith("SMS_")}
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**base, "DJANGO_SETTINGS_MODULE": "aftersales.config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_aliyun_backend_without_credentials_refuses_to_start(tmp_path):
    # Given SMS_BACKEND=aliyun and no keys in the environment
    result = _settings_probe({"SMS_BACKEND": "aliyun", "AFTERSALES_VAR": str(tmp_path)})

    # Then the settings refuse to load and say what is missing
    assert result.returncode != 0
    assert "SMS_ALIYUN_ACCESS_KEY_ID" in result.stderr


def test_an_unknown_sms_backend_refuses_to_start(tmp_path):
    result = _settings_probe({"SMS_BACKEND": "twilio", "AFTERSALES_VAR": str(tmp_path)})
    assert result.returncode != 0
    assert "SMS_BACKEND must be" in result.stderr


def test_a_complete_aliyun_configuration_loads(tmp_path):
    env = {
        "SMS_BACKEND": "aliyun",
        "SMS_ALIYUN_ACCESS_KEY_ID": "LTAI",
        "SMS_ALIYUN_ACCESS_KEY_SECRET": "secret",
        "SMS_SIGN_NAME": SIGN_NAME,
        "SMS_TEMPLATE_REGISTRATION": TEMPLATE_REGISTRATION,
        "AFTERSALES_VAR": str(tmp_path),
    }
    result = _settings_probe(env)
    assert result.returncode == 0, result.stderr
