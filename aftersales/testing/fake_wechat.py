"""A local stand-in for the WeChat official-account API, for tests.

It listens on 127.0.0.1 on a free port and answers as the real API does:

* ``GET /cgi-bin/token?grant_type=client_credential&appid=&secret=``: a new access token
  with ``expires_in`` (wrong appid 40013, wrong secret 40125 – the real codes);
* ``POST /cgi-bin/message/template/send?access_token=``: checks the token (missing 41001,
  unknown 40001, expired 42001), the JSON body (47001), the openid (unknown 40003, not
  following the account 43004), the template id (40037) and that every data key the
  template needs is there as ``{"value": ...}`` (47003); records the message and answers
  ``{"errcode": 0, "errmsg": "ok", "msgid": n}``;
* ``GET /sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code``: the
  openid for a code issued by ``oauth_code`` (unknown 40029, used again 40163).

It can be told to answer errors (``answer_error``), to let its tokens expire
(``expire_tokens``) and builds the ``TEMPLATESENDJOBFINISH`` push WeChat sends back
(``delivery_push``). Use the ``fake_wechat`` fixture: it starts the server, points the
settings at it (``WECHAT_BACKEND = "official"``), clears the cached token, and stops the
server afterwards (``from aftersales.testing.fake_wechat import fake_wechat  # noqa: F401``).
"""

import hashlib
import itertools
import json
import secrets
import time

import pytest

from aftersales.testing.fake_http import FakeJsonServer

APPID = "wx0123456789abcdef"
SECRET = "fake-wechat-app-secret-32-chars!"
PUSH_TOKEN = "fake-push-token"
# the account's templates and the data keys each needs
TEMPLATES = {
    "TPL-REMINDER": ("thing1", "thing2", "time3", "thing4"),
    "TPL-GENERIC": ("thing1",),
}


class FakeWechat(FakeJsonServer):
    """The server and what it saw: ``messages`` (accepted template messages),
    ``rejected`` ``(errcode, body)``, ``token_requests`` (how many tokens were issued)."""

    def __init__(self, *, appid=APPID, secret=SECRET, templates=None, expires_in=7200):
        self.appid = appid
        self.secret = secret
        self.templates = dict(TEMPLATES if templates is None else templates)
        self.expires_in = expires_in
        self.followers: set[str] = set()  # openids following the account
        self.unfollowed: set[str] = set()  # known openids that unfollowed (43004)
        self.messages: list[dict] = []
        self.rejected: list[tuple[int, dict]] = []
        self.token_requests = 0
        self._tokens: dict[str, float] = {}  # token -> expires at (monotonic)
        self._codes: dict[str, str | None] = {}  # oauth code -> openid (None once used)
        self._errors: list[tuple[int, int, str]] = []
        self._msgids = itertools.count(2_000_000_001)
        super().__init__()

    # ------------------------------------------------------------ test controls

    def follow(self, *openids: str):
        self.followers.update(openids)
        self.unfollowed.difference_update(openids)

    def unfollow(self, *openids: str):
        self.followers.difference_update(openids)
        self.unfollowed.update(openids)

    def expire_tokens(self):
        """Every token issued so far is past its expiry (what two hours do)."""
        with self._lock:
            for token in self._tokens:
                self._tokens[token] = 0.0

    def revoke_tokens(self):
        """Forget every token (another server fetched a new one: 40001 for the old)."""
        with self._lock:
            self._tokens.clear()

    def answer_error(self, errcode: int, errmsg: str = "", *, times: int = 1, status: int = 200):
        """Refuse the next ``times`` well-formed template sends with ``errcode`` (HTTP
        ``status``; WeChat answers its errors with 200, a broken gateway with 5xx)."""
        with self._lock:
            self._errors.extend([(status, errcode, errmsg or f"error {errcode}")] * times)

    def oauth_code(self, openid: str) -> str:
        """A code WeChat would hand our owner site after the owner authorised it."""
        code = secrets.token_hex(16)
        with self._lock:
            self._codes[code] = openid
        return code

    @staticmethod
    def delivery_push(msgid, *, openid="o-user", status="success", token=PUSH_TOKEN):
        """The ``TEMPLATESENDJOBFINISH`` push for a message and the query string that signs
        it: ``(query dict, xml bytes)``."""
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
        xml = (
            "<xml><ToUserName><![CDATA[gh_fake]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{timestamp}</CreateTime>"
            "<MsgType><![CDATA[event]]></MsgType>"
            "<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event>"
            f"<MsgID>{msgid}</MsgID>"
            f"<Status><![CDATA[{status}]]></Status></xml>"
        ).encode()
        return {"signature": signature, "timestamp": timestamp, "nonce": nonce}, xml

    # ------------------------------------------------------------ the protocol

    def token(self, query: dict) -> dict:
        if query.get("grant_type") != "client_credential":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        if query.get("appid") != self.appid:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if query.get("secret") != self.secret:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        token = secrets.token_urlsafe(48)
        with self._lock:
            self.token_requests += 1
            self._tokens[token] = time.monotonic() + self.expires_in
        return {"access_token": token, "expires_in": self.expires_in}

    def _token_error(self, token: str | None) -> dict | None:
        if not token:
            return {"errcode": 41001, "errmsg": "access_token missing"}
        with self._lock:
            expires = self._tokens.get(token)
        if expires is None:
            return {
                "errcode": 40001,
                "errmsg": "invalid credential, access_token is invalid or not latest",
            }
        if expires <= time.monotonic():
            return {"errcode": 42001, "errmsg": "access_token expired"}
        return None

    def send(self, query: dict, raw: bytes) -> tuple[int, dict]:
        def refuse(answer, body=None, status=200):
            self.rejected.append((answer["errcode"], body))
            return status, answer

        error = self._token_error(query.get("access_token"))
        if error:
            return refuse(error)
        try:
            body = json.loads(raw.decode("utf-8"))
            assert isinstance(body, dict)
        except (ValueError, AssertionError, UnicodeDecodeError):
            return refuse({"errcode": 47001, "errmsg": "data format error"})
        openid = body.get("touser")
        if not openid or (openid not in self.followers and openid not in self.unfollowed):
            return refuse({"errcode": 40003, "errmsg": "invalid openid"}, body)
        if openid in self.unfollowed:
            return refuse({"errcode": 43004, "errmsg": "require subscribe"}, body)
        needed = self.templates.get(body.get("template_id"))
        if needed is None:
            return refuse({"errcode": 40037, "errmsg": "invalid template_id"}, body)
        data = body.get("data")
        if not isinstance(data, dict):
            return refuse({"errcode": 47001, "errmsg": "data format error"}, body)
        for key in needed:
            value = data.get(key)
            if not isinstance(value, dict) or not isinstance(value.get("value"), str):
                return refuse(
                    {"errcode": 47003, "errmsg": f"argument invalid! data.{key}.value invalid"},
                    body,
                )
        with self._lock:
            planned = self._errors.pop(0) if self._errors else None
        if planned:
            status, code, text = planned
            return refuse({"errcode": code, "errmsg": text}, body, status)
        msgid = next(self._msgids)
        self.messages.append({**body, "msgid": msgid})
        return 200, {"errcode": 0, "errmsg": "ok", "msgid": msgid}

    def oauth(self, query: dict) -> dict:
        if query.get("appid") != self.appid:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if query.get("secret") != self.secret:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        if query.get("grant_type") != "authorization_code":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        code = query.get("code", "")
        with self._lock:
            if code not in self._codes:
                return {"errcode": 40029, "errmsg": "invalid code"}
            openid = self._codes[code]
            if openid is None:
                return {"errcode": 40163, "errmsg": "code been used"}
            self._codes[code] = None
        return {
            "access_token": secrets.token_urlsafe(32),
            "expires_in": 7200,
            "refresh_token": secrets.token_urlsafe(32),
            "openid": openid,
            "scope": "snsapi_base",
        }

    content_type = "application/json; encoding=utf-8"

    def answer(self, method, path, query, body):
        if method == "GET" and path == "/cgi-bin/token":
            return 200, self.token(query)
        if method == "GET" and path == "/sns/oauth2/access_token":
            return 200, self.oauth(query)
        if method == "POST" and path == "/cgi-bin/message/template/send":
            return self.send(query, body)
        return 404, {"errcode": 404, "errmsg": "not found"}


@pytest.fixture
def fake_wechat(settings):
    """A running fake WeChat official-account API with the settings pointing at it."""
    from django.core.cache import cache

    server = FakeWechat().start()
    settings.WECHAT_BACKEND = "official"
    settings.WECHAT_API_BASE = server.url
    settings.WECHAT_APPID = server.appid
    settings.WECHAT_SECRET = server.secret
    settings.WECHAT_TIMEOUT = 5
    settings.WECHAT_PUSH_TOKEN = PUSH_TOKEN
    settings.WECHAT_DEFAULT_TEMPLATE_ID = "TPL-GENERIC"
    settings.WECHAT_DEFAULT_TEMPLATE_FIELD = "thing1"
    cache.delete(f"wechat:access_token:{server.appid}")
    yield server
    cache.delete(f"wechat:access_token:{server.appid}")
    server.stop()
