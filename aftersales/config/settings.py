"""Settings, read from the environment (12-factor).

Two modes: ``AFTERSALES_MODE=demo`` (the default; generates and keeps a secret key under
``var/``, SQLite, no Redis) and ``AFTERSALES_MODE=production`` (refuses to start without
``SECRET_KEY``; secure cookies, HSTS, SSL redirect).
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("AFTERSALES_VAR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

MODE = os.environ.get("AFTERSALES_MODE", "demo")
if MODE not in {"demo", "production"}:
    raise ImproperlyConfigured("AFTERSALES_MODE must be 'demo' or 'production'")
DEMO = MODE == "demo"


def _env_bool(name, default=False):
    return os.environ.get(name, str(default)).lower() in {"1", "true", "yes", "on"}


def _env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _demo_secret_key():
    # Demo mode keeps one key across restarts so sessions survive `make demo` twice.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY") or (_demo_secret_key() if DEMO else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set in production mode")


def _demo_pii_key():
    path = VAR_DIR / "pii_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


# Idempotency keys of write requests are remembered this many days (core/idempotency.py).
IDEMPOTENCY_DAYS = int(os.environ.get("IDEMPOTENCY_DAYS", "7"))

# An API token's user and roles are kept this many seconds in each server process
# (org/authentication.py); a change reaches the other processes at most this late.
AUTH_CACHE_SECONDS = float(os.environ.get("AUTH_CACHE_SECONDS", "5"))

# Uploaded import files and their error reports are deleted this many days after the
# import finished (aftersales/crm/imports.py purge_old_import_files, a nightly job).
CRM_IMPORT_FILE_DAYS = int(os.environ.get("CRM_IMPORT_FILE_DAYS", "30"))

# Encrypts resident ID numbers at rest and keys their lookup hash (aftersales/crm/pii.py).
# Losing it makes stored ID numbers unreadable: back it up apart from the database.
PII_KEY = os.environ.get("PII_KEY") or (_demo_pii_key() if DEMO else "")
if not PII_KEY:
    raise ImproperlyConfigured("PII_KEY must be set in production mode")

DEBUG = _env_bool("DEBUG", False)
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEMO else "")
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "aftersales.core",
    "aftersales.org",
    "aftersales.catalogue",
    "aftersales.crm",
    "aftersales.parts",
    "aftersales.workorders",
    "aftersales.billing",
    "aftersales.claims",
    "aftersales.appointments",
    "aftersales.complaints",
    "aftersales.reminders",
    "aftersales.care",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "aftersales.core.middleware.AuditChannelMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "aftersales.config.urls"
WSGI_APPLICATION = "aftersales.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "aftersales" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "aftersales.org.context_processors.navigation",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'aftersales.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite has no SELECT ... FOR UPDATE: IMMEDIATE transactions take the write lock at
    # BEGIN, so writers queue instead of failing with "database is locked" mid-transaction;
    # the project's backend lets them queue without SQLite's long sleeps (core/sqlite).
    DATABASES["default"]["ENGINE"] = "aftersales.core.sqlite"
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file (not :memory:) so job-runner subprocesses in tests share it; one per run.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
elif "postgresql" in DATABASES["default"]["ENGINE"]:
    # Short OLTP queries: JIT compilation cost seconds on the duplicate search and never paid
    # back (measured in bench/, issue 3).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "org.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "aftersales.org.backends.UsernameOrMobileBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login protection: lock an account after N failures and, separately, an IP address.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.5"))  # hours; never permanent
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
# Username and mobile number are one account: failures with either count together.
AXES_USERNAME_CALLABLE = "aftersales.org.backends.lockout_username"
# Behind a proxy the client address comes only from the header our proxy sets.
BEHIND_PROXY = _env_bool("BEHIND_PROXY")
AXES_CLIENT_IP_CALLABLE = "aftersales.org.backends.client_ip"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "aftersales" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "aftersales" / "static"]
# Bootstrap, htmx, ECharts, icons and the CJK web font, copied from npm packages by `make`.
VENDOR_DIR = VAR_DIR / "vendor"
if VENDOR_DIR.exists():
    STATICFILES_DIRS.append(("vendor", VENDOR_DIR))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"

# Cache: Redis when configured (shared by several web machines), else local memory.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Jobs: a broker means a real Celery worker + beat; none means the embedded runner.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
JOBS_HEARTBEAT_MAX_AGE = int(os.environ.get("JOBS_HEARTBEAT_MAX_AGE", "120"))  # seconds

# Outbox: exponential back-off base and attempts before a message is given up (dead).
OUTBOX_RETRY_BASE_SECONDS = int(os.environ.get("OUTBOX_RETRY_BASE_SECONDS", "30"))
OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "8"))

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "2525"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS")
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "aftersales@localhost")

# Text messages (aftersales/core/sms.py): "console" logs them (demo), "aliyun" sends them
# through Alibaba Cloud SMS. Providers send only approved templates: one code per template.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "console")
SMS_TIMEOUT = float(os.environ.get("SMS_TIMEOUT", "10"))  # seconds per provider call
SMS_ALIYUN_ENDPOINT = os.environ.get("SMS_ALIYUN_ENDPOINT", "https://dysmsapi.aliyuncs.com/")
SMS_ALIYUN_REGION = os.environ.get("SMS_ALIYUN_REGION", "cn-hangzhou")
SMS_ALIYUN_ACCESS_KEY_ID = os.environ.get("SMS_ALIYUN_ACCESS_KEY_ID", "")
SMS_ALIYUN_ACCESS_KEY_SECRET = os.environ.get("SMS_ALIYUN_ACCESS_KEY_SECRET", "")
SMS_SIGN_NAME = os.environ.get("SMS_SIGN_NAME", "")
SMS_TEMPLATE_REGISTRATION = os.environ.get("SMS_TEMPLATE_REGISTRATION", "")
# "your car is ready" (repair orders); with the aliyun backend an unset template makes that
# message fail in the outbox (shown there), not the start-up
SMS_TEMPLATE_VEHICLE_READY = os.environ.get("SMS_TEMPLATE_VEHICLE_READY", "")
if SMS_BACKEND not in {"console", "aliyun"} and "." not in SMS_BACKEND:
    raise ImproperlyConfigured("SMS_BACKEND must be 'console', 'aliyun' or a dotted path")
if SMS_BACKEND == "aliyun" and not (
    SMS_ALIYUN_ACCESS_KEY_ID
    and SMS_ALIYUN_ACCESS_KEY_SECRET
    and SMS_SIGN_NAME
    and SMS_TEMPLATE_REGISTRATION
):
    raise ImproperlyConfigured(
        "SMS_BACKEND=aliyun needs SMS_ALIYUN_ACCESS_KEY_ID, SMS_ALIYUN_ACCESS_KEY_SECRET, "
        "SMS_SIGN_NAME and SMS_TEMPLATE_REGISTRATION"
    )

# WeChat official account (aftersales/core/wechat.py): "console" logs template messages
# (demo), "official" sends them through the official-account API.
WECHAT_BACKEND = os.environ.get("WECHAT_BACKEND", "console")
WECHAT_API_BASE = os.environ.get("WECHAT_API_BASE", "https://api.weixin.qq.com")
WECHAT_APPID = os.environ.get("WECHAT_APPID", "")
WECHAT_SECRET = os.environ.get("WECHAT_SECRET", "")
WECHAT_TIMEOUT = float(os.environ.get("WECHAT_TIMEOUT", "10"))  # seconds per API call
# fetch a new access token this many seconds before WeChat's expiry (7200 s)
WECHAT_TOKEN_MARGIN = int(os.environ.get("WECHAT_TOKEN_MARGIN", "300"))
# the token set in the account's server configuration: signs WeChat's pushes to us
WECHAT_PUSH_TOKEN = os.environ.get("WECHAT_PUSH_TOKEN", "")
# a message event without its own WeChat template goes out on this template, all its text
# in one data field
WECHAT_DEFAULT_TEMPLATE_ID = os.environ.get("WECHAT_DEFAULT_TEMPLATE_ID", "")
WECHAT_DEFAULT_TEMPLATE_FIELD = os.environ.get("WECHAT_DEFAULT_TEMPLATE_FIELD", "thing1")
# the site's address put in front of links in customer messages (booking links), e.g.
# https://service.example.com ; empty: links are sent as paths (demo)
WECHAT_LINK_BASE = os.environ.get("WECHAT_LINK_BASE", "").rstrip("/")
if WECHAT_BACKEND not in {"console", "official"} and "." not in WECHAT_BACKEND:
    raise ImproperlyConfigured("WECHAT_BACKEND must be 'console', 'official' or a dotted path")
if WECHAT_BACKEND == "official" and not (WECHAT_APPID and WECHAT_SECRET):
    raise ImproperlyConfigured("WECHAT_BACKEND=official needs WECHAT_APPID and WECHAT_SECRET")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first so an anonymous API call answers 401 with a WWW-Authenticate header.
        "aftersales.org.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["aftersales.core.drf.HasModelPermission"],
    "DEFAULT_PAGINATION_CLASS": "aftersales.core.drf.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "aftersales.core.drf.FilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "aftersales.core.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# SQLite ignores an index's INCLUDE columns (parts.Fitment's covering index is for
# PostgreSQL; on SQLite it is a plain two-column index, which is what SQLite needs).
SILENCED_SYSTEM_CHECKS = ["models.W040"]

SPECTACULAR_SETTINGS = {
    "TITLE": "aftersales API",
    "DESCRIPTION": "After-sales service management: dealers, OEM customer-service centre, owners.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # several documents have a "status" field; name each choice set after its document
    "ENUM_NAME_OVERRIDES": {
        "PurchaseOrderStatusEnum": "aftersales.parts.choices.PurchaseOrderStatus",
        "StocktakeStatusEnum": "aftersales.parts.choices.StocktakeStatus",
        "TransferStatusEnum": "aftersales.parts.choices.TransferStatus",
        "ReservationStatusEnum": "aftersales.parts.choices.ReservationStatus",
        "ImportStatusEnum": "aftersales.crm.choices.ImportStatus",
        "OutboxStatusEnum": "aftersales.core.models.OutboxStatus",
        "RepairOrderStatusEnum": "aftersales.workorders.choices.ROStatus",
        "InvoiceStatusEnum": "aftersales.billing.choices.InvoiceStatus",
        "PaymentKindEnum": "aftersales.billing.choices.PaymentKind",
        "BillingPaymentMethodEnum": "aftersales.billing.choices.PaymentMethod",
        "RepairOrderKindEnum": "aftersales.workorders.choices.ROKind",
        "RepairOrderLineKindEnum": "aftersales.workorders.choices.LineKind",
        "FollowUpStatusEnum": "aftersales.workorders.choices.FollowUpStatus",
        "ClockReasonEnum": "aftersales.workorders.choices.ClockReason",
        "CheckKindEnum": "aftersales.workorders.choices.CheckKind",
        "EventKindEnum": "aftersales.workorders.choices.EventKind",
        "PhotoKindEnum": "aftersales.workorders.models.PhotoKind",
        "BayKindEnum": "aftersales.workorders.choices.BayKind",
        "OperationCategoryEnum": "aftersales.workorders.choices.OperationCategory",
        "CallOutcomeEnum": "aftersales.workorders.choices.CallOutcome",
        "ComplaintStatusEnum": "aftersales.complaints.choices.ComplaintStatus",
        "ComplaintChannelEnum": "aftersales.complaints.choices.Channel",
        "ComplaintCategoryEnum": "aftersales.complaints.choices.Category",
        "ComplaintFollowUpOutcomeEnum": "aftersales.complaints.choices.FollowUpOutcome",
        "ComplaintStepStatusEnum": "aftersales.complaints.choices.StepStatus",
        "LegalCaseStatusEnum": "aftersales.complaints.choices.CaseStatus",
    },
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # htmx takes the token from hx-headers on <body>, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEMO:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}, "weasyprint.progress": {"level": "WARNING"}},
}
