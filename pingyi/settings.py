"""Settings for pingyi, read from environment variables with safe development defaults.

Development (the default): DEBUG on, SQLite under ./var, background jobs run in process.
Production: set DJANGO_DEBUG=0, SECRET_KEY, DATABASE_URL, REDIS_URL and ALLOWED_HOSTS
(see docs/configuration.md).
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PINGYI_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("生产环境必须设置 SECRET_KEY 环境变量")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"

# Personal data (ID numbers, phones): encrypted with PINGYI_FIELD_KEYS (Fernet keys,
# comma-separated; the first encrypts, all decrypt, so a new key goes first and
# `manage.py rotate_member_keys` re-encrypts) and found through an HMAC keyed by
# PINGYI_LOOKUP_KEY. Development derives both from SECRET_KEY; production must set them and
# keep them out of the database's backups.
PINGYI_FIELD_KEYS = env_list("PINGYI_FIELD_KEYS", "")
PINGYI_LOOKUP_KEY = os.environ.get("PINGYI_LOOKUP_KEY", "")
if not DEBUG and not (PINGYI_FIELD_KEYS and PINGYI_LOOKUP_KEY):
    raise ImproperlyConfigured("生产环境必须设置 PINGYI_FIELD_KEYS 与 PINGYI_LOOKUP_KEY 环境变量")

# SMS (one-time codes, notices to members): the console backend prints them; set
# PINGYI_SMS_BACKEND=members.sms.HttpGatewayBackend and the gateway's address to send them.
PINGYI_SMS_BACKEND = os.environ.get("PINGYI_SMS_BACKEND", "members.sms.ConsoleBackend")
PINGYI_SMS_GATEWAY_URL = os.environ.get("PINGYI_SMS_GATEWAY_URL", "")
PINGYI_SMS_GATEWAY_KEY = os.environ.get("PINGYI_SMS_GATEWAY_KEY", "")
PINGYI_SMS_SIGN = os.environ.get("PINGYI_SMS_SIGN", "工会会员评议")
PINGYI_SMS_TIMEOUT = float(os.environ.get("PINGYI_SMS_TIMEOUT", "5"))

# One-time codes sent by SMS (members' registration and login): length, lifetime, tries, and how
# often a phone or a network address may ask for one (docs/configuration.md).
PINGYI_OTP_LENGTH = 6
PINGYI_OTP_TTL_SECONDS = int(os.environ.get("PINGYI_OTP_TTL_SECONDS", "300"))
PINGYI_OTP_MAX_ATTEMPTS = int(os.environ.get("PINGYI_OTP_MAX_ATTEMPTS", "5"))
PINGYI_OTP_RESEND_SECONDS = int(os.environ.get("PINGYI_OTP_RESEND_SECONDS", "60"))
PINGYI_OTP_MAX_PER_PHONE_PER_DAY = int(os.environ.get("PINGYI_OTP_MAX_PER_PHONE_PER_DAY", "10"))
PINGYI_OTP_MAX_PER_ADDRESS_PER_HOUR = int(
    os.environ.get("PINGYI_OTP_MAX_PER_ADDRESS_PER_HOUR", "20")
)
# Wrong codes and refused registrations one address may make in an hour before it must wait.
PINGYI_OTP_MAX_FAILURES_PER_ADDRESS = int(
    os.environ.get("PINGYI_OTP_MAX_FAILURES_PER_ADDRESS", "30")
)

# Third-party login (WeChat, Alipay): dotted paths of members.providers.LoginProvider classes.
# None is enabled: the interface exists, no provider is switched on.
PINGYI_LOGIN_PROVIDERS = env_list("PINGYI_LOGIN_PROVIDERS")

# The service contacts shown on the members' help page (帮助与客服); empty ones are not shown.
_SERVICE_PHONE = os.environ.get("PINGYI_SERVICE_PHONE", "19951961330")
PINGYI_SERVICE_CONTACTS = [
    {"label": _("客服电话"), "value": _SERVICE_PHONE, "href": f"tel:{_SERVICE_PHONE}"},
    {"label": _("QQ群"), "value": os.environ.get("PINGYI_SERVICE_QQ_GROUP", "760103600")},
    {"label": _("客服微信"), "value": os.environ.get("PINGYI_SERVICE_WECHAT", "jsghfw")},
]

# Bearer tokens of the API (the mobile app logs in once and keeps its token this many days).
PINGYI_API_TOKEN_DAYS = int(os.environ.get("PINGYI_API_TOKEN_DAYS", "30"))

# Evaluation counters: each org's daily count is split over this many rows, so that a
# province's submissions do not all wait on the root's row (evaluations.counters).
PINGYI_COUNTER_SHARDS = int(os.environ.get("PINGYI_COUNTER_SHARDS", "8"))

# Reminders a union admin sends its members (members.reminders): per member and campaign at
# most one per interval and so many in all; per admin so many a day. Sends larger than
# PINGYI_REMINDER_SYNC_MAX go out on a background job.
PINGYI_REMINDER_MEMBER_INTERVAL_HOURS = int(
    os.environ.get("PINGYI_REMINDER_MEMBER_INTERVAL_HOURS", "72")
)
PINGYI_REMINDER_MEMBER_MAX = int(os.environ.get("PINGYI_REMINDER_MEMBER_MAX", "3"))
PINGYI_REMINDER_DAILY_LIMIT = int(os.environ.get("PINGYI_REMINDER_DAILY_LIMIT", "500"))
PINGYI_REMINDER_SYNC_MAX = int(os.environ.get("PINGYI_REMINDER_SYNC_MAX", "200"))

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "treebeard",
    "pingyi",
    "accounts",
    "orgs",
    "members",
    "campaigns",
    "evaluations",
    "cases",
    "analysis",
    "reports",
    "api",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "pingyi.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "pingyi.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pingyi.context_processors.site",
                "pingyi.context_processors.console",
            ],
        },
    },
]

WSGI_APPLICATION = "pingyi.wsgi.application"

# SQLite under ./var is the embedded default; DATABASE_URL=postgres://… in production.
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'pingyi.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers go on while an import writes; the timeout rides out short write locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

# The counters' covering indexes (INCLUDE) are a PostgreSQL feature; SQLite builds them as plain
# indexes, which is all the embedded default needs.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "console:home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

# Uploads: spreadsheets are read in memory up to this size, then refused.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
PINGYI_MAX_UPLOAD_BYTES = int(os.environ.get("PINGYI_MAX_UPLOAD_BYTES", 20 * 1024 * 1024))
# A zipped workbook (.xlsx) may unpack to at most this much (a 300,000-row roster: 118 MB), and
# to no more than a hundred times its size above 16 MB: anything else is refused as a zip bomb.
PINGYI_MAX_UNZIPPED_BYTES = int(os.environ.get("PINGYI_MAX_UNZIPPED_BYTES", 256 * 1024 * 1024))

# Where the CJK fonts are (empty: Debian's fonts-noto-cjk, installed by `make fonts`).
PINGYI_CJK_FONT_DIR = os.environ.get("PINGYI_CJK_FONT_DIR", "")

# Background jobs: Celery on Redis in production; without a broker they run in process.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", REDIS_URL or None)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# A job's outcome is written on its own row (import, bulletin), never read from Celery's result
# store; not storing results also keeps a Redis outage from holding a request ~20 s while Celery
# retries the result store (the job then falls back to a thread at once: pingyi/jobs.py).
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_EAGER_PROPAGATES = True
# Without a broker, long jobs (the roster import) run on a thread of the web process so that
# their progress can be shown; see pingyi/jobs.py.
PINGYI_JOBS_IN_THREAD = env_bool("PINGYI_JOBS_IN_THREAD", True)
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A job whose worker process dies (SIGKILL, out of memory) goes back on the queue and another
# process runs it again, instead of being dropped with its record left "running". Our jobs may
# run twice: an import is one transaction under a lock, a bulletin is claimed and published once.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A job taken by a worker that vanished entirely is handed out again after this many seconds
# (Redis's visibility timeout). It must exceed the longest job, or a running job starts twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("PINGYI_CELERY_VISIBILITY_TIMEOUT", "3600"))
}
# Celery beat (production): the weekly bulletin and the check for overdue cases. Both tasks are
# also management commands (build_bulletins, check_overdue_cases) for cron or a manual run.
PINGYI_BULLETIN_WEEKDAY = int(os.environ.get("PINGYI_BULLETIN_WEEKDAY", 1))  # crontab: 1 = Monday
PINGYI_BULLETIN_HOUR = int(os.environ.get("PINGYI_BULLETIN_HOUR", 8))
PINGYI_BULLETIN_MINUTE = int(os.environ.get("PINGYI_BULLETIN_MINUTE", 0))
# The weekly bulletin counts to 00:00 of this weekday (crontab numbering) on or before the build
# day; by default the build day itself (a Monday build counts to Sunday 24:00).
PINGYI_BULLETIN_CUTOFF_WEEKDAY = int(
    os.environ.get("PINGYI_BULLETIN_CUTOFF_WEEKDAY", PINGYI_BULLETIN_WEEKDAY)
)
CELERY_BEAT_SCHEDULE = {
    "weekly-bulletins": {
        "task": "reports.tasks.build_weekly_bulletins",
        "schedule": crontab(
            day_of_week=PINGYI_BULLETIN_WEEKDAY,
            hour=PINGYI_BULLETIN_HOUR,
            minute=PINGYI_BULLETIN_MINUTE,
        ),
    },
    "overdue-cases": {
        "task": "cases.tasks.check_overdue_cases",
        "schedule": crontab(minute=int(os.environ.get("PINGYI_CASE_CHECK_MINUTE", 5))),
    },
    # Integrity review: every open (or just closed) campaign is scanned each night, and the
    # network addresses and device hints past their campaign's retention are deleted.
    "integrity-scans": {
        "task": "evaluations.tasks.nightly_scans",
        "schedule": crontab(hour=int(os.environ.get("PINGYI_INTEGRITY_SCAN_HOUR", 2)), minute=30),
    },
    "purge-traces": {
        "task": "evaluations.tasks.purge_expired_traces",
        "schedule": crontab(hour=3, minute=15),
    },
}

# Redis down must not take the members' pages down: the cache answers as a miss meanwhile
# (pingyi/cache.py), and gives up on an unanswering Redis within a second.
CACHES = {
    "default": (
        {
            "BACKEND": "pingyi.cache.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Security. Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER via DJANGO_BEHIND_PROXY.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (pingyi.security): scripts and styles from the app only. Inline style
# attributes stay allowed: the analysis heatmap's cell colours and the progress bars' widths are
# data, drawn by the server. No page has an inline script or event handler (console.js, h5.js).
PINGYI_CONTENT_SECURITY_POLICY = os.environ.get(
    "PINGYI_CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)
# No page uses the camera, the microphone, location or payment; nothing embedded may either.
PINGYI_PERMISSIONS_POLICY = os.environ.get(
    "PINGYI_PERMISSIONS_POLICY",
    "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
)
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
PINGYI_BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY", not DEBUG)
if PINGYI_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if env_bool("SECURE_HSTS_PRELOAD", False) is False and not DEBUG:
    SILENCED_SYSTEM_CHECKS += ["security.W021"]  # HSTS preload is an opt-in commitment

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Every record passes the personal-data filter: an ID number or phone that slips into a
    # message is masked before any handler writes it.
    "filters": {"personal_data": {"()": "pingyi.logfilters.MaskPersonalData"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Django's own loggers come with handlers of their own (a DEBUG console, mail_admins) that
    # would bypass the masking filter: they write through ours instead.
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}

PINGYI_SITE_NAME = os.environ.get("PINGYI_SITE_NAME", _("工会会员网上评议"))
