"""Settings from TELESANTE_* environment variables; laptop defaults, strict production."""

import ipaddress
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured


def env(name: str, default: str = "") -> str:
    return os.environ.get(f"TELESANTE_{name}", default)


def env_flag(name: str) -> bool:
    return env(name).lower() in {"1", "true", "yes", "on"}


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""


BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env("VAR_DIR", str(Path.cwd() / "var")))

DEMO = env_flag("DEMO")
DEBUG = env_flag("DEBUG")
DEV_SECRET = "insecure-dev-key-change-me"
SECRET_KEY = env("SECRET_KEY", DEV_SECRET)
if not (DEBUG or DEMO) and (SECRET_KEY == DEV_SECRET or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "TELESANTE_SECRET_KEY doit être défini (50 caractères au moins) en production."
    )
ALLOWED_HOSTS = env("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG or DEMO else "").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "csp",
    "django_tasks",
    "django_tasks_db",
    # django-ninja as an app: /api/v1/docs uses the Swagger UI it ships (pinned with it, served
    # by the platform as static files) instead of fetching it from a CDN.
    "ninja",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "telesante.core",
    "telesante.accounts",
    "telesante.structures",
    "telesante.patients",
    "telesante.acts",
    "telesante.documents",
    "telesante.teleexpertise",
    "telesante.telesurveillance",
    "telesante.rooms",
    "telesante.teleconsultation",
    "telesante.notifications",
    "telesante.outbox",
    "telesante.deployment",
    "telesante.indicators",
    "telesante.directory",
    "telesante.regulation",
    "telesante.demo",
    "django_prometheus",
    "telesante.psc",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "telesante.core.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "telesante.core.api_errors.api_error_shape",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "telesante.core.middleware.ResponseHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "telesante.core.middleware.RefuseNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "telesante.accounts.middleware.RequireSecondFactorMiddleware",
    "telesante.core.observability.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "telesante.urls"
ASGI_APPLICATION = "telesante.asgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.i18n",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "telesante.core.context.platform",
                "telesante.notifications.context.unread",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'telesante.sqlite3'}"),
        conn_max_age=60,
        # A kept connection is checked before reuse: after a database restart the next request
        # reconnects instead of failing.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Covering-index columns (INCLUDE) only speed up PostgreSQL; SQLite uses the plain index.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    # A file rather than memory lets a real server process started by a test see the test data.
    if env("TEST_SQLITE"):
        DATABASES["default"]["TEST"] = {"NAME": env("TEST_SQLITE")}
else:
    # Short queries: compiling them (JIT) costs more than it saves; on SSDs a random read costs
    # little more than a sequential one, so the planner should prefer index lookups. A page's
    # rows read by key with their select_related joins (8 tables) took 14 ms to plan and 0.5 ms
    # to run: with at most 4 joins reordered, planning all of a busy-hour page's statements
    # costs a quarter of its former time, and their execution no more (docs/benchmarks.md § 8).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        "-c jit=off -c random_page_cost=1.1 -c join_collapse_limit=4 -c from_collapse_limit=4"
    )
    # Each process borrows its connections from a pool (psycopg_pool) for the length of a
    # request, rather than each request thread keeping its own: a process never holds more than
    # DB_POOL_MAX_SIZE connections, however many threads serve it. A connection is checked
    # before it is lent, by its socket rather than a round trip (core/postgresql: after a
    # database restart the next request reconnects); a request that waits DB_POOL_TIMEOUT
    # seconds for one, the database down or every connection lent, answers 503
    # (core/views.server_error) instead of hanging.
    DATABASES["default"]["ENGINE"] = "telesante.core.postgresql"
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Values bound by the server and statements prepared on their second run in a connection:
    # a list's statements keep one text per shape (core/prepared.py), and after five runs
    # PostgreSQL keeps a generic plan instead of planning the walls' UNION each time (5 ms of
    # planning for 0.6 ms of work on a téléconsultation page). A pooler in front of PostgreSQL
    # must keep sessions (pgBouncer's transaction mode would lose the prepared statements).
    DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 2
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": int(env("DB_POOL_MIN_SIZE", "2")),
        "max_size": int(env("DB_POOL_MAX_SIZE", "20")),
        "timeout": float(env("DB_POOL_TIMEOUT", "0.5")),
        # An idle connection beyond min_size is closed after this long.
        "max_idle": 60,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")
# A connection waits for its next event in a blocking read of 5 s (BZPOPMIN, channels_redis);
# redis-py's default socket timeout is 5 s too: a WebSocket that heard nothing for 5 s ended on
# a TimeoutError. The socket waits longer than the read it serves.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15}]},
    }
    if REDIS_URL
    else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
}
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# Background work (emails, escalations): the database queue run by `telesante worker`;
# demo and tests run tasks at once, in process.
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend"
        if DEMO or DEBUG or env_flag("TASKS_IMMEDIATE")
        else "django_tasks_db.DatabaseBackend"
    }
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["telesante.accounts.backends.Backend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# django-allauth: email login, no self sign-up (the region creates accounts), TOTP required.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "telesante.accounts.adapter.AccountAdapter"
# Failed logins are limited per account (10 in 30 minutes, with a growing delay from the third:
# accounts/lockout.py); per address the limit is far higher, since a whole hospital may share
# one. allauth keeps the counts in the cache (Redis with TELESANTE_REDIS_URL).
ACCOUNT_RATE_LIMITS = {"login_failed": "300/15m/ip,10/30m/key", "login": "120/m/ip"}
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Télésanté"
MFA_ADAPTER = "telesante.accounts.adapter.MFAAdapter"
MFA_FORMS = {"authenticate": "telesante.accounts.adapter.CodeForm"}

# Pro Santé Connect (OpenID Connect, README « Pro Santé Connect »): on when the client id and
# the issuer (or its discovery document's URL) are set; otherwise no button and no route.
PSC_ISSUER = env("PSC_ISSUER").rstrip("/")
PSC_DISCOVERY_URL = env("PSC_DISCOVERY_URL") or (
    f"{PSC_ISSUER}/.well-known/wallet-openid-configuration" if PSC_ISSUER else ""
)
# Production's token endpoint asks for the platform's certificate (mTLS): PEM files.
PSC_CLIENT_CERT = env("PSC_CLIENT_CERT")
PSC_CLIENT_KEY = env("PSC_CLIENT_KEY")
PSC_CLIENT_ID = env("PSC_CLIENT_ID")
SOCIALACCOUNT_ADAPTER = "telesante.psc.adapter.SocialAccountAdapter"
SOCIALACCOUNT_PROVIDERS = {
    "psc": {
        "APPS": [
            {
                "client_id": PSC_CLIENT_ID,
                "secret": env("PSC_CLIENT_SECRET"),
                "settings": {"server_url": PSC_DISCOVERY_URL},
            }
        ]
        if PSC_CLIENT_ID and PSC_DISCOVERY_URL
        else []
    }
}

SESSION_COOKIE_AGE = int(env("SESSION_MINUTES", "30")) * 60
SESSION_SAVE_EVERY_REQUEST = True  # the age counts from the last request: expiry on inactivity
SESSION_ENGINE = "telesante.accounts.sessions"  # which writes it back at most once a minute
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# No inline script, style or handler anywhere, nothing from another origin: scripts and styles
# are files of ours; images also as data: (the TOTP QR code) and blob: (a snapshot's preview);
PSC_ORIGINS = (env("PSC_ORIGINS") or origin_of(PSC_DISCOVERY_URL)).replace(",", " ").split()
# 'self' covers the WebSockets of the same host. Nobody frames the platform.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "media-src": [SELF, "blob:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        # The login and logout forms lead to Pro Santé Connect's pages (its authorization and
        # end-session endpoints' origins, TELESANTE_PSC_ORIGINS; by default the issuer's).
        "form-action": [SELF, *PSC_ORIGINS],
        "frame-ancestors": [NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not (DEBUG or DEMO):
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = not env_flag("BEHIND_TLS_PROXY_NO_REDIRECT")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
# Addresses of our own reverse proxies: only from them is X-Forwarded-For believed (audit
# entries, login limits); any other client could write any address there.
TELESANTE_TRUSTED_PROXIES = [
    str(ipaddress.ip_address(a.strip())) for a in env("TRUSTED_PROXIES").split(",") if a.strip()
]
CSRF_TRUSTED_ORIGINS = [o for o in env("CSRF_TRUSTED_ORIGINS").split(",") if o]

# Request bodies other than file uploads (JSON, forms); uploads are limited per file below.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(env("MAX_REQUEST_BYTES", str(2 * 1024 * 1024)))

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
MAX_UPLOAD_BYTES = int(env("MAX_UPLOAD_BYTES", str(15 * 1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Images are decoded (location removed, thumbnail) only up to this many pixels: a 48 MP phone
# photo fits; decoding costs a few bytes a pixel, whatever the file's size.
MAX_IMAGE_PIXELS = int(env("MAX_IMAGE_PIXELS", str(50_000_000)))

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = DEBUG or DEMO

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_flag("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "telesante@localhost")

# TELESANTE_LOG_FORMAT=json: one JSON object a line, with the request id nginx gave.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "telesante.core.logs.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if env("LOG_FORMAT") == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
}
# HTTP requests one process serves at once; beyond, 503 at once (core/shedding.py). 0: no limit.
# Django runs a process's views one after the other, so those in flight are a queue: at 24 the
# capacity bench's busy mix waited seconds in it (p50 4.8 s, throughput halved at 80 users); at
# 6 the excess is refused at once and the rest served (docs/benchmarks.md, section 8).
TELESANTE_MAX_IN_FLIGHT = int(env("MAX_IN_FLIGHT", "6"))
# Who may read /metrics (Prometheus): the monitoring network's addresses, as CIDR.
TELESANTE_METRICS_NETWORKS = env("METRICS_NETWORKS", "127.0.0.1/32,::1/128").split(",")

# A commune with APL at or below this counts as under-served (sous-dense); regions may differ.
TELESANTE_APL_UNDERSERVED = float(env("APL_UNDERSERVED", "2.5"))

# Télé-expertise rules (REGULATORY.md, marked "verify": configurable, not constants).
TELESANTE_TE2_YEARLY_CAP = int(env("TE2_YEARLY_CAP", "4"))
# Share of a professional's yearly activity that may be done remotely (flagged in billing).
TELESANTE_REMOTE_SHARE_CAP = float(env("REMOTE_SHARE_CAP", "0.20"))

# Statistical confidentiality: counts of acts or people below this are masked in exports.
TELESANTE_INDICATORS_MIN_COUNT = int(env("INDICATORS_MIN_COUNT", "5"))

# Télésurveillance: a batch of up to 10,000 measurements has its own request size limit.
TELESANTE_MEASUREMENTS_MAX_BYTES = int(env("MEASUREMENTS_MAX_BYTES", str(4 * 1024 * 1024)))
# Batches are ingested in a thread pool (each thread its own connection); tests turn it off so
# that the ingest shares the test's transaction.
TELESANTE_INGEST_THREADS = not env_flag("INGEST_INLINE")
TELESANTE_MQTT_URL = env("MQTT_URL", "mqtt://127.0.0.1:1883")
# Readiness checks the broker only where one is configured (the MQTT bridge's hosts).
TELESANTE_MQTT_REQUIRED = bool(env("MQTT_URL"))
# Video rooms: tokens a WebSocket presents live this long; STUN/TURN handed to browsers (coturn
# REST shared secret → time-limited credentials). Empty lists: direct connections only (a LAN).
TELESANTE_ROOM_TOKEN_SECONDS = int(env("ROOM_TOKEN_SECONDS", "120"))
TELESANTE_STUN_URLS = [u for u in env("STUN_URLS").split(",") if u]
TELESANTE_TURN_URLS = [u for u in env("TURN_URLS").split(",") if u]
TELESANTE_TURN_SECRET = env("TURN_SECRET")
TELESANTE_TURN_TTL = int(env("TURN_TTL", "3600"))
TELESANTE_GUEST_LINK_HOURS = int(env("GUEST_LINK_HOURS", "24"))
# Télérégulation: the caller's video link opens once within these minutes; the session it
# opens lasts at most the second figure (calls last 2 to 10 minutes).
TELESANTE_REGULATION_LINK_MINUTES = int(env("REGULATION_LINK_MINUTES", "10"))
TELESANTE_REGULATION_SESSION_MINUTES = int(env("REGULATION_SESSION_MINUTES", "60"))
# A room connection not refreshed for this long is gone (its server process stopped without
# closing it); each process refreshes its own connections every third of it.
TELESANTE_PRESENCE_SECONDS = float(env("PRESENCE_SECONDS", "45"))
# Remote activity cap of a professional (share of their yearly acts) and when to warn.
TELESANTE_REMOTE_CAP = float(env("REMOTE_CAP", "0.20"))
TELESANTE_REMOTE_CAP_WARN = float(env("REMOTE_CAP_WARN", "0.18"))
# A téléconsultation is billed only if the performer and the patient's side were in the call
# together at least this long (seconds; at least 1).
TELESANTE_VIDEO_MIN_SECONDS = int(env("VIDEO_MIN_SECONDS", "1"))
# TE2 « no combination with another act » of the same expert for the same patient: the window,
# in calendar days ending on the day of the answer (1 = the same day; 0 turns the check off).
TELESANTE_TE2_COMBINATION_DAYS = int(env("TE2_COMBINATION_DAYS", "1"))
# Messages to patients and guests (guest codes, reminders): e-mail through EMAIL_*, SMS through
# this class (`send(to, text)`): the console (development) or an SMS operator's.
TELESANTE_SMS_BACKEND = env("SMS_BACKEND", "telesante.notifications.delivery.ConsoleSMSBackend")
# The operators' backends (notifications/sms_providers.py: OVHcloudSMSBackend, SMSFactorBackend):
# the API's root (empty: the operator's own), key or token, OVHcloud's application secret,
# consumer key and SMS service name, the registered sender name, the timeout in seconds.
TELESANTE_SMS_URL = env("SMS_URL")
TELESANTE_SMS_KEY = env("SMS_KEY")
TELESANTE_SMS_SECRET = env("SMS_SECRET")
TELESANTE_SMS_CONSUMER_KEY = env("SMS_CONSUMER_KEY")
TELESANTE_SMS_ACCOUNT = env("SMS_ACCOUNT")
TELESANTE_SMS_SENDER = env("SMS_SENDER")
TELESANTE_SMS_TIMEOUT = float(env("SMS_TIMEOUT", "10"))
# The platform's public address, for the links the worker sends (it has no request to ask).
TELESANTE_BASE_URL = env(
    "BASE_URL", "http://127.0.0.1:8000" if DEBUG or DEMO else f"https://{ALLOWED_HOSTS[0]}"
).rstrip("/")
# The accessibility statement and legal notices (/accessibilite/): who publishes the platform,
# who hosts it (HDS-certified for health data), and where to report an accessibility problem.
# Unset, the page says which setting to fill in rather than name anyone.
TELESANTE_PUBLISHER = env("PUBLISHER", "éditeur à renseigner (TELESANTE_PUBLISHER)")
TELESANTE_HOSTING = env("HOSTING", "hébergeur HDS à renseigner (TELESANTE_HOSTING)")
TELESANTE_ACCESSIBILITY_CONTACT = env("ACCESSIBILITY_CONTACT", "accessibilite@telesante.example")
# The INSi teleservice (patients/insi.py): the local backend answers from synthetic test
# identities (development, demo, tests); production names the real teleservice's backend, which
# refuses until the national agreement and the certificate are configured.
TELESANTE_INSI_BACKEND = env(
    "INSI_BACKEND",
    "telesante.patients.insi.LocalBackend"
    if DEBUG or DEMO
    else "telesante.patients.insi.TeleserviceBackend",
)

# The outbox of documents (outbox/): MSSanté by SMTP over TLS to the structure's operator, the
# DMP through a pluggable backend (MHD ITI-65 here). Development writes files under var/outbox/
# instead, so that nothing leaves the machine; `make demo` names the real backends and points
# them at `telesante local-receivers`.
_LOCAL = DEBUG or DEMO
TELESANTE_MSSANTE_BACKEND = env(
    "MSSANTE_BACKEND",
    "telesante.outbox.mssante.FileBackend" if _LOCAL else "telesante.outbox.mssante.SMTPBackend",
)
TELESANTE_MSSANTE_HOST = env("MSSANTE_HOST", "localhost")
TELESANTE_MSSANTE_PORT = int(env("MSSANTE_PORT", "587"))
# STARTTLS on the submission port, or TLS from the first byte (port 465) with this flag.
TELESANTE_MSSANTE_IMPLICIT_TLS = env_flag("MSSANTE_IMPLICIT_TLS")
TELESANTE_MSSANTE_USER = env("MSSANTE_USER")
TELESANTE_MSSANTE_PASSWORD = env("MSSANTE_PASSWORD")
# The structure's organisational box the documents are sent from.
TELESANTE_MSSANTE_FROM = env("MSSANTE_FROM", "telesante@localhost")
# The operator's CA (empty: the system's) and the structure's client certificate, if asked.
TELESANTE_MSSANTE_CA_FILE = env("MSSANTE_CA_FILE")
TELESANTE_MSSANTE_CERT_FILE = env("MSSANTE_CERT_FILE")
TELESANTE_MSSANTE_KEY_FILE = env("MSSANTE_KEY_FILE")
TELESANTE_DMP_BACKEND = env(
    "DMP_BACKEND",
    "telesante.outbox.dmp.FileBackend" if _LOCAL else "telesante.outbox.dmp.MHDBackend",
)
# The MHD Document Recipient's base URL (the Bundle is POSTed there) and its bearer token.
TELESANTE_DMP_MHD_URL = env("DMP_MHD_URL")
TELESANTE_DMP_MHD_TOKEN = env("DMP_MHD_TOKEN")
TELESANTE_OUTBOX_DIR = Path(env("OUTBOX_DIR", str(VAR_DIR / "outbox")))
# The platform's OID: root of its documents' ids and of its local patient ids (an ANS-assigned
# branch in production).
TELESANTE_OID = env("OID", "1.2.250.1.999.1")
