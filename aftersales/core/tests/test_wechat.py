"""The WeChat official-account adapter against a local server that speaks its protocol:
the access token is fetched once and shared through the cache, fetched again when WeChat
says it expired or is no longer valid; template messages reach the account; errors split
into retry and give-up; the outbox delivers, retries and records WeChat's msgid; the
delivery push and the OAuth binding."""

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from django.utils import timezone

from aftersales.core.models import OutboxMessage, OutboxStatus
from aftersales.core.outbox import outbox_drain
from aftersales.core.wechat import (
    ConsoleWechatBackend,
    OfficialWechatBackend,
    WechatError,
    WechatPermanentError,
    delivery_event,
    get_backend,
    signature,
    wechat_enqueue,
)
from aftersales.core.wechat_views import wechat_push
from aftersales.testing.fake_wechat import fake_wechat  # noqa: F401
from aftersales.testing.servers import free_port

OPENID = "oWx_owner_0001"
DATA = {"thing1": "保养提醒", "thing2": "京A·12345", "time3": "2026-12-15", "thing4": "星驰北京"}


def send(backend=None, **overrides):
    args = {"openid": OPENID, "template_id": "TPL-REMINDER", "data": DATA, "url": "https://x/b"}
    return (backend or get_backend()).send_template(**{**args, **overrides})


def make_due(message):
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())


# ---------------------------------------------------------------- token and sending


def test_a_template_message_reaches_the_account(fake_wechat):  # noqa: F811
    # Given an owner who follows the account
    fake_wechat.follow(OPENID)

    # When the adapter sends a template message
    msgid = send()

    # Then WeChat accepted exactly that message
    [accepted] = fake_wechat.messages
    assert msgid == str(accepted["msgid"])
    assert accepted["touser"] == OPENID
    assert accepted["template_id"] == "TPL-REMINDER"
    assert accepted["url"] == "https://x/b"
    assert accepted["data"] == {key: {"value": value} for key, value in DATA.items()}


def test_the_access_token_is_fetched_once_and_shared(fake_wechat):  # noqa: F811
    # Given an owner who follows the account
    fake_wechat.follow(OPENID)

    # When two adapters (two workers) send three messages
    send()
    send(OfficialWechatBackend.from_settings())
    send()

    # Then one token served them all (the cache is shared)
    assert fake_wechat.token_requests == 1
    assert len(fake_wechat.messages) == 3


def test_a_token_is_kept_a_little_shorter_than_wechat_keeps_it(fake_wechat, settings):  # noqa: F811
    # Given tokens that live shorter than the safety margin
    fake_wechat.expires_in = 200
    settings.WECHAT_TOKEN_MARGIN = 300
    fake_wechat.follow(OPENID)

    # When two messages are sent
    send()
    send()

    # Then the first token was never trusted to survive: each send fetched its own
    assert fake_wechat.token_requests == 2


@pytest.mark.parametrize("how", ["expire_tokens", "revoke_tokens"])
def test_an_expired_or_replaced_token_is_fetched_again_and_the_send_retried(fake_wechat, how):  # noqa: F811
    # Given a cached token that WeChat no longer accepts (42001 expired, 40001 replaced)
    fake_wechat.follow(OPENID)
    send()
    getattr(fake_wechat, how)()

    # When the next message is sent
    send()

    # Then a new token was fetched and the message went out
    assert fake_wechat.token_requests == 2
    assert len(fake_wechat.messages) == 2
    assert [code for code, _ in fake_wechat.rejected] == [
        42001 if how == "expire_tokens" else 40001
    ]


def test_a_wrong_secret_is_refused_at_the_token(fake_wechat, settings):  # noqa: F811
    # Given the wrong app secret
    settings.WECHAT_SECRET = "not-the-secret"
    fake_wechat.follow(OPENID)

    # When a message is sent
    with pytest.raises(WechatError) as refused:
        send()

    # Then WeChat refused the token request with its code; nothing was sent
    assert refused.value.errcode == 40125
    assert fake_wechat.messages == []


@pytest.mark.parametrize(
    ("setup", "overrides", "errcode"),
    [
        ("unfollow", {}, 43004),  # the owner unfollowed the account
        (None, {"openid": "o-nobody"}, 40003),  # not an openid of this account
        ("follow", {"template_id": "TPL-UNKNOWN"}, 40037),
        ("follow", {"data": {"thing1": "only one"}}, 47003),  # a data key is missing
    ],
)
def test_refusals_that_can_never_succeed_are_permanent(fake_wechat, setup, overrides, errcode):  # noqa: F811
    # Given an owner in the state the case needs
    if setup:
        getattr(fake_wechat, setup)(OPENID)

    # When a message is sent
    with pytest.raises(WechatPermanentError) as refused:
        send(**overrides)

    # Then it is refused for good with WeChat's code
    assert refused.value.errcode == errcode
    assert refused.value.permanent


@pytest.mark.parametrize(
    ("errcode", "status"), [(-1, 200), (45009, 200), (0, 502)]
)  # busy, daily quota, a broken gateway
def test_temporary_failures_are_retried(fake_wechat, errcode, status):  # noqa: F811
    # Given WeChat answers an error once
    fake_wechat.follow(OPENID)
    fake_wechat.answer_error(errcode, status=status)

    # When a message is sent
    with pytest.raises(WechatError) as refused:
        send()

    # Then it is a failure worth a retry
    assert not refused.value.permanent


@pytest.mark.django_db
def test_an_unreachable_api_is_a_retryable_failure(settings):
    # Given an API address where nothing listens
    settings.WECHAT_API_BASE = f"http://127.0.0.1:{free_port()}"
    settings.WECHAT_BACKEND = "official"
    settings.WECHAT_APPID, settings.WECHAT_SECRET = "wx-x", "s"
    cache.delete("wechat:access_token:wx-x")

    # When a message is sent
    with pytest.raises(WechatError) as refused:
        send()

    # Then it is a retryable failure
    assert not refused.value.permanent
    assert "unreachable" in str(refused.value)


def test_the_demo_default_writes_to_the_log(settings, caplog):
    # Given the default settings
    settings.WECHAT_BACKEND = "console"

    # When a message is sent
    with caplog.at_level("INFO", logger="aftersales.core.wechat"):
        msgid = send()

    # Then it is in the log and has an id
    assert isinstance(get_backend(), ConsoleWechatBackend)
    assert msgid.startswith("console-")
    assert OPENID in caplog.text


# ---------------------------------------------------------------- through the outbox


@pytest.mark.django_db
def test_the_outbox_delivers_a_queued_message_and_keeps_the_msgid(fake_wechat):  # noqa: F811
    # Given a queued template message to a follower
    fake_wechat.follow(OPENID)
    message = wechat_enqueue(
        openid=OPENID, template_id="TPL-REMINDER", data=DATA, text="保养提醒", url="/b/1/"
    )

    # When the outbox is drained
    counts = outbox_drain()

    # Then WeChat has it and the row is sent with WeChat's msgid
    assert counts["sent"] == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert message.payload["msgid"] == str(fake_wechat.messages[0]["msgid"])


@pytest.mark.django_db
def test_a_busy_api_is_retried_until_the_message_goes_out(fake_wechat):  # noqa: F811
    # Given WeChat is busy twice
    fake_wechat.follow(OPENID)
    fake_wechat.answer_error(-1, "system error", times=2)
    message = wechat_enqueue(openid=OPENID, template_id="TPL-REMINDER", data=DATA, text="t")

    # When the outbox drains three times (the back-off elapsing in between)
    outcomes = []
    for _ in range(3):
        make_due(message)
        outcomes.append({k: v for k, v in outbox_drain().items() if v})

    # Then it was retried and finally sent, once
    assert outcomes == [{"retry": 1}, {"retry": 1}, {"sent": 1}]
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 3)
    assert len(fake_wechat.messages) == 1


@pytest.mark.django_db
def test_an_unfollowed_owner_is_given_up_at_once(fake_wechat):  # noqa: F811
    # Given an owner who unfollowed the account
    fake_wechat.unfollow(OPENID)
    message = wechat_enqueue(openid=OPENID, template_id="TPL-REMINDER", data=DATA, text="t")

    # When the outbox is drained
    counts = outbox_drain()

    # Then the message is dead after one attempt, with WeChat's reason
    assert counts["dead"] == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.DEAD
    assert "43004" in message.last_error


@pytest.mark.django_db
def test_a_message_held_back_for_quiet_hours_waits(fake_wechat):  # noqa: F811
    # Given a message that may leave only in an hour
    fake_wechat.follow(OPENID)
    later = timezone.now() + timezone.timedelta(hours=1)
    wechat_enqueue(openid=OPENID, template_id="TPL-REMINDER", data=DATA, text="t", not_before=later)

    # When the outbox is drained now
    counts = outbox_drain()

    # Then nothing went out yet
    assert counts == {"sent": 0, "retry": 0, "dead": 0}
    assert fake_wechat.messages == []


# ---------------------------------------------------------------- pushes from WeChat


@pytest.mark.django_db
def test_the_delivery_push_records_the_status(fake_wechat):  # noqa: F811
    # Given a delivered template message
    fake_wechat.follow(OPENID)
    message = wechat_enqueue(openid=OPENID, template_id="TPL-REMINDER", data=DATA, text="t")
    outbox_drain()
    message.refresh_from_db()
    assert message.provider_id == str(message.payload["msgid"])  # the push is found by it

    # When WeChat pushes its delivery report, signed with our token
    query, xml = fake_wechat.delivery_push(
        message.payload["msgid"], openid=OPENID, status="failed:user block"
    )
    request = RequestFactory().post("/wechat/push/", data=xml, content_type="text/xml")
    request.GET = request.GET.copy()
    request.GET.update(query)
    response = wechat_push(request)

    # Then WeChat is told "success" and the row carries the status
    assert response.status_code == 200
    assert response.content == b"success"
    message.refresh_from_db()
    assert message.payload["delivery"] == "failed:user block"


@pytest.mark.django_db
def test_a_push_with_a_wrong_signature_changes_nothing(fake_wechat):  # noqa: F811
    # Given a delivered message and a push signed with another token
    fake_wechat.follow(OPENID)
    message = wechat_enqueue(openid=OPENID, template_id="TPL-REMINDER", data=DATA, text="t")
    outbox_drain()
    message.refresh_from_db()
    query, xml = fake_wechat.delivery_push(message.payload["msgid"], token="forged")

    # When it arrives
    request = RequestFactory().post(
        "/wechat/push/?" + "&".join(f"{k}={v}" for k, v in query.items()),
        data=xml,
        content_type="text/xml",
    )
    response = wechat_push(request)

    # Then it is refused and the row is unchanged
    assert response.status_code == 403
    message.refresh_from_db()
    assert "delivery" not in message.payload


def test_the_server_check_echoes_when_the_signature_is_ours(fake_wechat):  # noqa: F811
    # Given WeChat's server verification request
    timestamp, nonce = str(int(timezone.now().timestamp())), "n0nce"
    sig = signature("fake-push-token", timestamp, nonce)

    # When it arrives
    request = RequestFactory().get(
        "/wechat/push/",
        {"signature": sig, "timestamp": timestamp, "nonce": nonce, "echostr": "e42"},
    )

    # Then the echo string is returned
    assert wechat_push(request).content == b"e42"


@pytest.mark.django_db
def test_other_pushes_are_ignored():
    # Given a push that is not a delivery report
    xml = b"<xml><MsgType><![CDATA[event]]></MsgType><Event>subscribe</Event></xml>"

    # When it is recorded
    # Then nothing is found or changed
    assert delivery_event(xml) is None
    assert delivery_event(b"not xml") is None
