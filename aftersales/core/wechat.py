"""WeChat official account (微信公众号): template messages through the outbox, the owner's
openid from the OAuth web flow, and the delivery report WeChat pushes back.

* ``wechat_enqueue`` queues a template message on the outbox's ``wechat`` channel in the
  caller's transaction; the drain hands it to the configured backend after commit and
  retries on failure.
* Access token: ``GET /cgi-bin/token?grant_type=client_credential&appid=&secret=`` answers
  ``{access_token, expires_in}``. It is kept in the Django cache (shared by every worker)
  and fetched again a little before it expires (``WECHAT_TOKEN_MARGIN``); when the API says
  the token is invalid or expired (40001, 40014, 42001: another process may have fetched a
  new one) it is fetched again and the call retried once.
* Template message: ``POST /cgi-bin/message/template/send?access_token=`` with
  ``{touser, template_id, url, data: {key: {value}}}`` answers
  ``{errcode: 0, errmsg: "ok", msgid}``. Error codes that can never succeed (the user is
  not subscribed, an invalid openid or template) raise ``WechatPermanentError``; the rest
  (system busy, the daily quota, network and 5xx) raise ``WechatError`` and the outbox
  retries.
* ``wechat_oauth_openid(code)``: the owner's openid from the code WeChat hands our owner
  site (``/sns/oauth2/access_token``).
* ``delivery_event(xml)``: the ``TEMPLATESENDJOBFINISH`` push (after ``signature_valid``).

Backends, chosen by ``settings.WECHAT_BACKEND``: ``console`` (the demo default: writes to
the log), ``official`` (the HTTP API at ``WECHAT_API_BASE``), or a dotted path to another
``WechatBackend``.
"""

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from aftersales.core.models import OutboxMessage
from aftersales.core.outbox import channel, outbox_enqueue

log = logging.getLogger(__name__)


class WechatError(Exception):
    """The call failed; the outbox retries the message later."""

    permanent = False

    def __init__(self, message, *, errcode=None):
        super().__init__(message)
        self.errcode = errcode


class WechatPermanentError(WechatError):
    """The message can never be delivered (e.g. the owner unfollowed the account)."""

    permanent = True


# the access token is not (or no longer) valid: fetch a new one and try once more
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
PERMANENT_ERRORS = frozenset(
    {
        40003,  # invalid openid
        40036,  # invalid template_id size
        40037,  # invalid template_id
        43004,  # require subscribe: the owner does not follow the account
        43101,  # the user refused to receive messages from the account
        47001,  # data format error
        47003,  # argument invalid (a data key the template needs is missing or too long)
    }
)


def _error(where: str, answer: dict):
    code = answer.get("errcode")
    text = f"WeChat {where} refused ({code}): {answer.get('errmsg', '')}"
    if code in PERMANENT_ERRORS:
        return WechatPermanentError(text, errcode=code)
    return WechatError(text, errcode=code)


class WechatBackend:
    """Delivers one template message; returns WeChat's msgid."""

    def send_template(self, *, openid: str, template_id: str, data: dict, url: str = "") -> str:
        raise NotImplementedError

    def oauth_openid(self, code: str) -> str:
        raise NotImplementedError


class ConsoleWechatBackend(WechatBackend):
    """Writes the message to the log instead of sending it (demo and development)."""

    def send_template(self, *, openid, template_id, data, url=""):
        log.info("WeChat template %s to %s %s: %s", template_id, openid, url, data)
        return f"console-{uuid.uuid4().int % 10**12}"

    def oauth_openid(self, code):
        # the demo has no WeChat: the "code" is taken to be the openid itself
        return f"demo-{code}"


class OfficialWechatBackend(WechatBackend):
    """The official-account HTTP API."""

    def __init__(self, *, base: str, appid: str, secret: str, timeout: float = 10, margin=300):
        missing = [n for n, v in (("WECHAT_APPID", appid), ("WECHAT_SECRET", secret)) if not v]
        if missing:
            raise ImproperlyConfigured(f"WECHAT_BACKEND=official needs {', '.join(missing)}")
        self.base = base.rstrip("/")
        self.appid = appid
        self.secret = secret
        self.timeout = timeout
        self.margin = margin

    @classmethod
    def from_settings(cls):
        return cls(
            base=settings.WECHAT_API_BASE,
            appid=settings.WECHAT_APPID,
            secret=settings.WECHAT_SECRET,
            timeout=settings.WECHAT_TIMEOUT,
            margin=settings.WECHAT_TOKEN_MARGIN,
        )

    # ------------------------------------------------------------ HTTP

    def _call(self, where: str, path: str, query: dict, body: dict | None = None) -> dict:
        url = f"{self.base}{path}?{urllib.parse.urlencode(query)}"
        data = None
        headers = {"Accept": "application/json"}
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        request = urllib.request.Request(
            url, data=data, headers=headers, method="POST" if data else "GET"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise WechatError(f"WeChat {where} unreachable: {exc}") from exc
        if status >= 300:
            raise WechatError(f"WeChat {where} answered HTTP {status}: {raw[:200]!r}")
        try:
            return json.loads(raw)
        except ValueError:
            raise WechatError(f"WeChat {where} answered no JSON: {raw[:200]!r}") from None

    # ------------------------------------------------------------ access token

    @property
    def _cache_key(self) -> str:
        return f"wechat:access_token:{self.appid}"

    def access_token(self, *, fresh=False) -> str:
        """The account's access token, from the cache unless ``fresh`` or about to expire."""
        if not fresh:
            cached = cache.get(self._cache_key)
            if cached:
                return cached
        answer = self._call(
            "token",
            "/cgi-bin/token",
            {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )
        token = answer.get("access_token")
        if not token:
            raise _error("token", answer)
        lifetime = int(answer.get("expires_in") or 7200)
        # keep it a little shorter than WeChat does so a worker never sends a stale one
        # (a token that would not outlive the margin is used once and not kept)
        if lifetime > self.margin:
            cache.set(self._cache_key, token, lifetime - self.margin)
        return token

    def _with_token(self, where, path, body):
        token = self.access_token()
        answer = self._call(where, path, {"access_token": token}, body)
        if answer.get("errcode") in TOKEN_ERRORS:
            log.info("WeChat token refused (%s); fetching a new one", answer.get("errcode"))
            cache.delete(self._cache_key)
            answer = self._call(where, path, {"access_token": self.access_token(fresh=True)}, body)
        return answer

    # ------------------------------------------------------------ calls

    def send_template(self, *, openid, template_id, data, url=""):
        body = {
            "touser": openid,
            "template_id": template_id,
            "data": {key: {"value": str(value)} for key, value in data.items()},
        }
        if url:
            body["url"] = url
        answer = self._with_token("template message", "/cgi-bin/message/template/send", body)
        if answer.get("errcode", 0) != 0:
            raise _error("template message", answer)
        return str(answer.get("msgid", ""))

    def oauth_openid(self, code):
        answer = self._call(
            "oauth",
            "/sns/oauth2/access_token",
            {
                "appid": self.appid,
                "secret": self.secret,
                "code": code,
                "grant_type": "authorization_code",
            },
        )
        if not answer.get("openid"):
            raise _error("oauth", answer)
        return answer["openid"]


BACKENDS = {"console": ConsoleWechatBackend, "official": OfficialWechatBackend.from_settings}


def get_backend() -> WechatBackend:
    name = settings.WECHAT_BACKEND
    factory = BACKENDS.get(name)
    if factory is None:
        if "." not in name:
            raise ImproperlyConfigured(
                f"WECHAT_BACKEND must be one of {', '.join(BACKENDS)} or a dotted path, "
                f"not {name!r}"
            )
        factory = import_string(name)
    return factory()


# ---------------------------------------------------------------- the outbox channel


def wechat_enqueue(
    *,
    openid: str,
    template_id: str,
    data: dict,
    text: str,
    url: str = "",
    dealer=None,
    dedup_key: str | None = None,
    not_before=None,
    extra: dict | None = None,
) -> OutboxMessage:
    """Queue a template message in the current transaction; it leaves after commit (not
    before ``not_before``). ``text`` is the message written out, for people reading the
    outbox and the customer 360."""
    return outbox_enqueue(
        channel="wechat",
        recipient=openid,
        body=text,
        payload={"template_id": template_id, "data": data, "url": url, **(extra or {})},
        dealer=dealer,
        dedup_key=dedup_key,
        not_before=not_before,
    )


@channel("wechat")
def _send_wechat(message):
    payload = message.payload
    msgid = get_backend().send_template(
        openid=message.recipient,
        template_id=payload.get("template_id", ""),
        data=payload.get("data", {}),
        url=payload.get("url", ""),
    )
    # WeChat's msgid ties the later delivery report (TEMPLATESENDJOBFINISH) to this row
    OutboxMessage.objects.filter(pk=message.pk).update(
        payload={**payload, "msgid": msgid}, provider_id=str(msgid)[:64]
    )
    log.info("WeChat outbox message %s accepted (msgid %s)", message.pk, msgid)


def wechat_oauth_openid(code: str) -> str:
    """The openid of the owner who just authorised our owner site in WeChat."""
    return get_backend().oauth_openid(code)


# ---------------------------------------------------------------- pushes from WeChat


def signature(token: str, timestamp: str, nonce: str) -> str:
    """WeChat's server signature: sha1 of the sorted, concatenated token/timestamp/nonce."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def signature_valid(signature_given: str, timestamp: str, nonce: str, *, max_age=300) -> bool:
    token = settings.WECHAT_PUSH_TOKEN
    if not (token and signature_given and timestamp and nonce):
        return False
    try:
        if abs(time.time() - int(timestamp)) > max_age:
            return False
    except ValueError:
        return False
    return hmac.compare_digest(signature(token, timestamp, nonce), signature_given)


DELIVERED = "success"


def delivery_event(xml: bytes) -> OutboxMessage | None:
    """Record a ``TEMPLATESENDJOBFINISH`` push on the outbox row with that msgid
    (``payload["delivery"]``: ``success``, ``failed:user block``, ``failed: system
    failed``); other pushes are ignored. Returns the row, or None."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return None
    if (root.findtext("MsgType") or "") != "event":
        return None
    if (root.findtext("Event") or "") != "TEMPLATESENDJOBFINISH":
        return None
    msgid, status = (root.findtext("MsgID") or "").strip(), (root.findtext("Status") or "").strip()
    if not msgid:
        return None
    message = (
        OutboxMessage.objects.filter(channel="wechat", provider_id=msgid).order_by("-id").first()
    )
    if message is None:
        return None
    OutboxMessage.objects.filter(pk=message.pk).update(
        payload={**message.payload, "delivery": status}
    )
    message.payload = {**message.payload, "delivery": status}
    return message
