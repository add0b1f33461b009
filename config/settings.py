"""One settings module, read from the environment.

With no variables set the application runs embedded: SQLite in ./var, a
Celery worker over kombu's filesystem transport (no broker server), local
file storage and console e-mail. DATABASE_URL and CELERY_BROKER_URL switch
to PostgreSQL and a real broker; DJANGO_ENV=production hardens everything.
"""

from pathlib import Path
from urllib.parse import urlsplit

import csp.constants as csp
import environ
import imageio_ffmpeg
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)
if PRODUCTION:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
else:
    SECRET_KEY = env.str(
        "DJANGO_SECRET_KEY",
        default="insecure-development-key-change-me-0123456789abcdefghijklmnop",
    )
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "guardian",
    "governance",
    "documents",
    "requests",
    "audit",
    "oversight",
    # Second factor (authenticator apps, backup codes, security keys and passkeys) and lock-out after failed
    # sign-ins; accounts comes after them, so that its admin replaces theirs.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "axes",
    "accounts",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
    "operations",
]

MIDDLEWARE = [
    # First: every answer, refusals included, carries its request id, and the logs of its work name it.
    "operations.logs.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The headers first, so that every answer carries them, refusals included; then the input checks, before a
    # session, a form or a query sees any of it (config/middleware.py).
    "csp.middleware.CSPMiddleware",
    "config.middleware.HeadersMiddleware",
    "config.middleware.InputEdgeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # The session's second factor, its idle time, and the pages that need the one before anything runs
    # (accounts.checks keeps them in this order).
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.IdleTimeoutMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a sign-in refused by the lock-out into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "governance.context_processors.shell",
                "requests.context_processors.notifications",
                "accounts.context_processors.second_factor",
            ],
        },
    },
]

# Database: SQLite file by default; DATABASE_URL=postgres://... for a city.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE makes
    # every transaction take the write lock up front, so the ledger's single
    # writer never meets a lock upgrade deadlock. synchronous=FULL: in WAL mode
    # NORMAL may lose the last transactions on power loss, and a ledger event
    # must be on disk when the transaction that wrote it returns.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    # Pages read a page of 50 rows through indexes; starting parallel workers
    # costs more (25-35 ms) than the work itself. Reports may raise it locally.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", f"-c max_parallel_workers_per_gather={env.int('DATABASE_PARALLEL_WORKERS', default=0)}"
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "governance.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out account or address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.PeopleBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2id first: PBKDF2 hashes (the earlier default) still verify and are re-hashed at the next sign-in.
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# OWASP's first recommendation for Argon2id: 19 MiB, two passes, one lane (tens of milliseconds here).
ARGON2_TIME_COST = env.int("ARGON2_TIME_COST", default=2)
ARGON2_MEMORY_KIB = env.int("ARGON2_MEMORY_KIB", default=19456)
ARGON2_PARALLELISM = env.int("ARGON2_PARALLELISM", default=1)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False
ANONYMOUS_USER_NAME = None  # no anonymous guardian user: deny by default

# Language and time: Vietnamese first, English second; UTC in the database.
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
try:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request otherwise
except OSError:
    pass
MEDIA_URL = "/media-not-served/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
FILE_UPLOAD_PERMISSIONS = 0o640
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# The largest form is the request's: 50 camera rows of 5 fields. A post with more fields is refused before it is
# parsed (Django's default, said here so that nobody raises it for a form that grew).
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
CAMERA_IMPORT_MAX_BYTES = env.int("CAMERA_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="camera-data@localhost")

# Celery: filesystem transport by default (no broker server); a real broker
# with CELERY_BROKER_URL (redis://127.0.0.1:6379/0).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_queue_dir / "control"),
    }
# The queue tasks are sent to and workers read: deployments (or test runs)
# sharing one broker each name their own.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
AUDIT_CHECKPOINT_MINUTES = env.int("AUDIT_CHECKPOINT_MINUTES", default=15)
CELERY_BEAT_SCHEDULE = {
    "audit-checkpoint": {
        "task": "audit.tasks.audit_checkpoint_task",
        "schedule": crontab(minute=f"*/{AUDIT_CHECKPOINT_MINUTES}"),
    },
    "audit-resume-waiting": {
        "task": "audit.tasks.resume_waiting_work",
        "schedule": crontab(minute="*/10"),
    },
    "oversight-resume-waiting": {
        "task": "oversight.tasks.resume_waiting_reports",
        "schedule": crontab(minute="*/10"),
    },
}
# A report or a "verify now" run still waiting for a worker after this long
# (the broker was down when it was asked for, or lost the message) is
# dispatched again.
AUDIT_WAIT_MINUTES = env.int("AUDIT_WAIT_MINUTES", default=10)

# Official documents (Decree 30/2020/NĐ-CP): the place written before each document's date; the body named above an
# issuing agency that has no parent agency ("" leaves the line out); each agency's abbreviation in document numbers,
# by agency code, e.g. {"ioc-hk": "TTGSĐH"} (an agency not listed uses its code in upper case).
DOCUMENT_PLACE = env.str("DOCUMENT_PLACE", default="Hà Nội")
DOCUMENT_SUPERIOR_BODY = env.str("DOCUMENT_SUPERIOR_BODY", default="")
DOCUMENT_AGENCY_SYMBOLS = env.json("DOCUMENT_AGENCY_SYMBOLS", default={})

# Ledger: the Ed25519 key that signs checkpoints (PEM, PKCS#8). seed_demo
# creates a demo key at this path when none exists.
AUDIT_SIGNING_KEY_FILE = Path(env.str("AUDIT_SIGNING_KEY_FILE", default=str(VAR_DIR / "keys" / "audit-ed25519.pem")))
# Ledger: the share of one CPU core (more than 0, at most 1) a background "verify now" run may take, the database's
# work on it included; it sleeps in proportion to its work. The audit_verify command runs at full speed.
LEDGER_VERIFY_MAX_CPU = env.float("LEDGER_VERIFY_MAX_CPU", default=0.5)

# The organisation's PDF signature on the records it issues (documents.signing): a PEM private key and its
# certificate. Production brings both (issued by a certification authority); elsewhere a self-signed pair for
# DOCUMENT_SIGNING_ORGANISATION is made on first use.
DOCUMENT_SIGNING_KEY_FILE = Path(
    env.str("DOCUMENT_SIGNING_KEY_FILE", default=str(VAR_DIR / "keys" / "documents-signing-key.pem"))
)
DOCUMENT_SIGNING_CERT_FILE = Path(
    env.str("DOCUMENT_SIGNING_CERT_FILE", default=str(VAR_DIR / "keys" / "documents-signing-cert.pem"))
)
DOCUMENT_SIGNING_ORGANISATION = env.str(
    "DOCUMENT_SIGNING_ORGANISATION", default="Trung tâm Giám sát, điều hành đô thị thông minh"
)

# Security.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
# A signed-in session unused this long is signed out (accounts.middleware.IdleTimeoutMiddleware).
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)

# Sign-in protection (accounts.signin, django-axes): an account may fail this many times within the lock-out
# period; the next failure locks it, and then even the right password is refused until the period ends or a
# system administrator unlocks it. An address (a whole office may share one) is allowed more.
SIGNIN_FAILURES_ALLOWED = env.int("SIGNIN_FAILURES_ALLOWED", default=5)
SIGNIN_ADDRESS_FAILURES_ALLOWED = env.int("SIGNIN_ADDRESS_FAILURES_ALLOWED", default=30)
SIGNIN_LOCKOUT_MINUTES = env.int("SIGNIN_LOCKOUT_MINUTES", default=30)  # 0: until an administrator unlocks
# Failed sign-ins reach the ledger once per account or address per window, and once at a lock-out.
SIGNIN_FAILURE_WINDOW_MINUTES = env.int("SIGNIN_FAILURE_WINDOW_MINUTES", default=15)
AXES_HANDLER = "accounts.signin.SigninLockHandler"
AXES_FAILURE_LIMIT = SIGNIN_FAILURES_ALLOWED + 1
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = SIGNIN_LOCKOUT_MINUTES / 60 if SIGNIN_LOCKOUT_MINUTES else None
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "accounts.signin.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_ENABLE_ADMIN = False  # accounts.admin shows lock-outs to system administrators only
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins are in the ledger
AXES_VERBOSE = False

# Second factor (django-otp, django-otp-webauthn). Security keys and passkeys answer only to the origins
# listed (https, or http://localhost while developing); the relying party is their host name.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Camera data governance")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
WEBAUTHN_ORIGINS = env.list("WEBAUTHN_ORIGINS", default=CSRF_TRUSTED_ORIGINS or ["http://localhost:8000"])
OTP_WEBAUTHN_ALLOWED_ORIGINS = WEBAUTHN_ORIGINS
OTP_WEBAUTHN_RP_ID = env.str("WEBAUTHN_RP_ID", default=urlsplit(WEBAUTHN_ORIGINS[0]).hostname or "localhost")
OTP_WEBAUTHN_RP_NAME = env.str("WEBAUTHN_RP_NAME", default="Camera data governance")
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): everything from this server, nothing inline. A page that truly needs an
# inline script or style gives it the request's nonce ({{ request.csp_nonce }}); the nonce enters the header only then.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, csp.NONCE],
        "style-src": [csp.SELF, csp.NONCE],
        "img-src": [csp.SELF, "data:"],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "media-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    },
}
# Permissions-Policy (config.middleware.HeadersMiddleware): no page uses the device's sensors, camera, microphone,
# location, payment or ports. Security keys and passkeys (WebAuthn) and full-screen video stay allowed, here only.
PERMISSIONS_POLICY = {
    **dict.fromkeys(
        [
            "accelerometer",
            "autoplay",
            "browsing-topics",
            "camera",
            "display-capture",
            "encrypted-media",
            "geolocation",
            "gyroscope",
            "hid",
            "idle-detection",
            "local-fonts",
            "magnetometer",
            "microphone",
            "midi",
            "payment",
            "picture-in-picture",
            "screen-wake-lock",
            "serial",
            "usb",
            "xr-spatial-tracking",
        ],
        (),
    ),
    "fullscreen": ("self",),
    "publickey-credentials-create": ("self",),
    "publickey-credentials-get": ("self",),
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# LOG_FORMAT=json: one JSON object per line (time, level, logger, message, the request's id and reference, and
# one line per request with its status and duration); "text" (the default) for people reading a terminal.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured('LOG_FORMAT must be "text" or "json"')
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "operations.logs.RequestContextFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(reference)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_context"],
            **({"formatter": "json"} if LOG_FORMAT == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # axes logs every sign-in at INFO; failures stay (WARNING), and the ledger has the rest.
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "WARNING"}},
}

# Requests: a request sent back for information expires when the requesting
# agency does not answer within this many days.
REQUEST_INFO_EXPIRY_DAYS = env.int("REQUEST_INFO_EXPIRY_DAYS", default=14)
REQUEST_ATTACHMENT_MAX_BYTES = env.int("REQUEST_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
CELERY_BEAT_SCHEDULE["requests-expire-stale"] = {
    "task": "requests.tasks.expire_stale_requests",
    "schedule": crontab(minute=5),
}
# Deadlines that chase people (requests.deadlines): reviewers and approvers are reminded this much working time
# before their deadline, requesting officers this much before an unanswered question expires; after the deadline
# the request is escalated to the approving officials. Each reminder is sent once.
DEADLINE_REMINDER_WORKING_HOURS = env.float("DEADLINE_REMINDER_WORKING_HOURS", default=4)
ANSWER_REMINDER_WORKING_HOURS = env.float("ANSWER_REMINDER_WORKING_HOURS", default=8)
if not 0 <= DEADLINE_REMINDER_WORKING_HOURS <= 1000 or not 0 <= ANSWER_REMINDER_WORKING_HOURS <= 1000:
    raise ImproperlyConfigured("DEADLINE_REMINDER_WORKING_HOURS and ANSWER_REMINDER_WORKING_HOURS must be 0 to 1000 hours")
CELERY_BEAT_SCHEDULE["requests-chase-deadlines"] = {
    "task": "requests.tasks.chase_deadlines",
    "schedule": crontab(minute="*/10"),
}
# Health (operations): /readyz and /metrics answer these networks (this machine by default) and callers sending
# "Authorization: Bearer <HEALTH_TOKEN>"; /healthz answers anyone. A worker of each queue of HEALTH_WORKER_QUEUES
# takes a heartbeat task every minute; readiness fails when one has not for HEALTH_HEARTBEAT_MAX_SECONDS.
HEALTH_ALLOWED_NETWORKS = env.list("HEALTH_ALLOWED_NETWORKS", default=["127.0.0.1/32", "::1/128"])
HEALTH_TOKEN = env.str("HEALTH_TOKEN", default="")
HEALTH_WORKER_QUEUES = env.list("HEALTH_WORKER_QUEUES", default=[CELERY_TASK_DEFAULT_QUEUE])
HEALTH_HEARTBEAT_MAX_SECONDS = env.int("HEALTH_HEARTBEAT_MAX_SECONDS", default=180)
HEALTH_CHECKPOINT_MAX_MINUTES = env.int("HEALTH_CHECKPOINT_MAX_MINUTES", default=3 * AUDIT_CHECKPOINT_MINUTES)
HEALTH_MIN_FREE_MB = env.int("HEALTH_MIN_FREE_MB", default=1024)
HEALTH_TIMEOUT_SECONDS = env.float("HEALTH_TIMEOUT_SECONDS", default=2.0)
try:
    import ipaddress as _ipaddress

    for _network in HEALTH_ALLOWED_NETWORKS:
        _ipaddress.ip_network(_network, strict=False)
except ValueError as _exc:
    raise ImproperlyConfigured(f"HEALTH_ALLOWED_NETWORKS: {_exc}") from None
for _queue in HEALTH_WORKER_QUEUES:
    CELERY_BEAT_SCHEDULE[f"operations-heartbeat-{_queue}"] = {
        "task": "operations.tasks.heartbeat",
        "schedule": 60.0,
        "args": (_queue,),
        "options": {"queue": _queue, "expires": 120},
    }
# Webhook deliveries whose next attempt is due and whose message was lost (a broker that refused, a worker that died).
CELERY_BEAT_SCHEDULE["api-resume-webhooks"] = {
    "task": "api.tasks.resume_webhooks",
    "schedule": crontab(minute="*/5"),
}

# Release: footage sources, exports, download links, retention and holds.
# FOOTAGE_LAYOUT is the default layout of the segment files under
# FOOTAGE_ROOT ("frigate" or "generic", or a pattern with {camera} and
# strftime fields); FOOTAGE_CAMERAS overrides it per camera code, e.g.
# {"HK-HB-001": {"root": "/mnt/nvr2", "layout": "generic"}}.
FOOTAGE_SOURCE = env.str("FOOTAGE_SOURCE", default="requests.sources.files.SegmentFileSource")
FOOTAGE_ROOT = Path(env.str("FOOTAGE_ROOT", default=str(VAR_DIR / "footage")))
FOOTAGE_LAYOUT = env.str("FOOTAGE_LAYOUT", default="frigate")
FOOTAGE_CAMERAS = env.json("FOOTAGE_CAMERAS", default={})
# The ffmpeg binary that the imageio-ffmpeg wheel carries, unless a system build is named.
FFMPEG_BINARY = env.str("FFMPEG_BINARY", default="") or imageio_ffmpeg.get_ffmpeg_exe()
EXPORT_ROOT = Path(env.str("EXPORT_ROOT", default=str(VAR_DIR / "exports")))
LEGAL_HOLD_ROOT = Path(env.str("LEGAL_HOLD_ROOT", default=str(VAR_DIR / "holds")))
EXPORT_MAX_RETRIES = env.int("EXPORT_MAX_RETRIES", default=5)
# What an export does when decoding a clip finds damaged footage: "release" it with the damage declared
# (manifest, hand-over record, release page, ledger), or "hold" it until a custodian acknowledges the damage.
EXPORT_ON_DAMAGE = env.str("EXPORT_ON_DAMAGE", default="release")
if EXPORT_ON_DAMAGE not in ("release", "hold"):
    raise ImproperlyConfigured('EXPORT_ON_DAMAGE must be "release" or "hold"')
RELEASE_LINK_HOURS = env.int("RELEASE_LINK_HOURS", default=72)
RELEASE_MAX_DOWNLOADS = env.int("RELEASE_MAX_DOWNLOADS", default=5)
RELEASE_RETENTION_DAYS = env.int("RELEASE_RETENTION_DAYS", default=30)
VERIFY_LINK_DAYS = env.int("VERIFY_LINK_DAYS", default=30)
# The address people open this site at, for links printed where no page is at hand (the hand-over record's
# verification link and its QR code): the first trusted origin, else the development server's address outside
# production. Empty: documents print the link's path and say that the site's address is not configured.
SITE_URL = env.str(
    "SITE_URL", default=CSRF_TRUSTED_ORIGINS[0] if CSRF_TRUSTED_ORIGINS else ("" if PRODUCTION else "http://127.0.0.1:8000")
).rstrip("/")
# Checking a file against a release: the largest file hashed here (larger ones: paste the SHA-256), and how many
# checks one address may make per minute without signing in.
VERIFY_UPLOAD_MAX_BYTES = env.int("VERIFY_UPLOAD_MAX_BYTES", default=512 * 1024 * 1024)
VERIFY_CHECKS_PER_MINUTE = env.int("VERIFY_CHECKS_PER_MINUTE", default=10)
# Counters such as the one above live in the cache: this process's memory by default; with several web processes,
# a shared one (CACHE_URL=redis://127.0.0.1:6379/1) makes them count together.
# The integration API (api/): tokens of service accounts and people's sessions; deny by default; one error shape.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.TokenAuthentication", "api.auth.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated", "api.auth.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.auth.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": env.str("API_RATE", default="600/min")},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.handle",
    # OPTIONS describes nothing (the OpenAPI document does, to a signed-in caller).
    "DEFAULT_METADATA_CLASS": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Webhooks to agency systems (api.webhooks): HTTPS only; each delivery tried this many times with growing waits,
# each attempt bounded by the timeout. Plain http to the loopback address is accepted only where this is set
# (a receiver on the same machine, in tests and demonstrations).
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_ALLOW_LOOPBACK_HTTP = env.bool("WEBHOOK_ALLOW_LOOPBACK_HTTP", default=False)

SPECTACULAR_SETTINGS = {
    "TITLE": "API tích hợp — Quản lý khai thác dữ liệu camera",
    "DESCRIPTION": (
        "API cho hệ thống quản lý hồ sơ vụ việc của các đơn vị và các đầu ghi: cùng quy tắc, cùng mã nguồn như giao "
        "diện web. Xác thực bằng token của tài khoản dịch vụ (Authorization: Bearer cgk_…), do quản trị viên đơn vị cấp; "
        "mỗi token có phạm vi (scope). Đối tượng người gọi không được xem trả về 404. Mọi lỗi có dạng "
        '{"error": {"code", "message", "fields"}}, thông báo theo Accept-Language (vi, en).'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "APPEND_COMPONENTS": {
        "securitySchemes": {"token": {"type": "http", "scheme": "bearer", "description": "cgk_…"}},
    },
    "SECURITY": [{"token": []}],
    "AUTHENTICATION_WHITELIST": [],
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_DIST": "SIDECAR",
}

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# A message a worker took but never acknowledged (the worker died) goes back
# to the queue after this many seconds (Redis broker).
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
if CELERY_BROKER_URL.startswith("redis"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        # Workers look for such messages when they start and then every few
        # seconds. Left to kombu's defaults they would look every 100 s after
        # the first look, and a worker restarted before the message of the
        # one it replaces had timed out would leave it waiting that long.
        "unacked_restore_interval": max(1, min(10, CELERY_VISIBILITY_TIMEOUT // 10)),
        "unacked_restore_throttle": 1,
    }
CELERY_BEAT_SCHEDULE["requests-purge-releases"] = {
    "task": "requests.tasks.purge_expired_releases",
    "schedule": crontab(minute=35, hour=3),
}
CELERY_BEAT_SCHEDULE["requests-resume-stalled-exports"] = {
    "task": "requests.tasks.resume_stalled_exports",
    "schedule": crontab(minute="*/10"),
}
# An export nobody has reported progress on for this long is dispatched again.
EXPORT_STALL_MINUTES = env.int("EXPORT_STALL_MINUTES", default=30)

# Working time (governance.calendar): these local hours [start, end) on
# working days, Monday to Friday without Vietnam's public holidays and the
# centre's days off. Deadlines counted in working time use it, and reports list
# approvals and releases outside it. REPORT_WORKING_HOURS is its former name.
WORKING_HOURS = tuple(env.list("WORKING_HOURS", cast=int, default=env.list("REPORT_WORKING_HOURS", cast=int, default=[7, 18])))

# Oversight reports: where built reports are kept, and what the "unusual
# patterns" section looks for.
REPORT_ROOT = Path(env.str("REPORT_ROOT", default=str(VAR_DIR / "reports")))
# An agency is flagged when it files more than this many times its own average
# over the previous REPORT_BASELINE_PERIODS periods of the same length (and at
# least REPORT_VOLUME_MIN requests).
REPORT_VOLUME_FACTOR = env.float("REPORT_VOLUME_FACTOR", default=2.0)
REPORT_VOLUME_MIN = env.int("REPORT_VOLUME_MIN", default=5)
REPORT_BASELINE_PERIODS = env.int("REPORT_BASELINE_PERIODS", default=4)
# One official signing more than this share of an agency's approvals (of at least REPORT_APPROVER_MIN).
REPORT_APPROVER_SHARE = env.float("REPORT_APPROVER_SHARE", default=0.8)
REPORT_APPROVER_MIN = env.int("REPORT_APPROVER_MIN", default=5)
# A request using this share of its legal basis's window or camera limit is "near the limit".
REPORT_NEAR_LIMIT = env.float("REPORT_NEAR_LIMIT", default=0.9)
# An emergency request may be submitted without its official letter; after this many hours it is flagged.
EMERGENCY_PAPERWORK_HOURS = env.int("EMERGENCY_PAPERWORK_HOURS", default=72)
