"""Settings shared by every environment; everything that differs comes from the environment.

The defaults let `make run` work with nothing installed: SQLite and a filesystem Celery broker
under var/. Production sets DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY and friends (README).
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))

# The "django-insecure-" prefix marks the public development key: wsgi, asgi and Celery refuse it
# outside development (config/entry_points.py), and so does `check --deploy`.
SECRET_KEY = env(
    "SECRET_KEY", default="django-insecure-camfleet-development-only-change-me-0123456789abcdef"
)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "guardian",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_email",
    "django_otp.plugins.otp_static",
    "axes",
    "django_celery_beat",
    "common",
    "accounts",
    "organizations",
    "devices",
    "upgrades",
    "licensing",
    "config.apps.CamfleetConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns lockouts raised by the backend into the lockout page.
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
                "organizations.context_processors.navigation",
            ],
        },
    }
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'camfleet.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # `make run`: web, worker and the health poll threads write at once. Take the write lock at
    # the start of each transaction (no lock upgrade that fails at once with "database is
    # locked"), wait for it instead of failing, and let readers go on meanwhile (WAL).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ja", _("Japanese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Files browsers ask for at the site's root (/favicon.ico), served by whitenoise; pages link the
# SVG icon in static/.
WHITENOISE_ROOT = BASE_DIR / "config" / "site_root"

# E-mail: the console in development; production sets EMAIL_URL (smtp://user:pass@host:587).
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="camfleet <noreply@camfleet.invalid>")

# A cache shared by every web process in production (DRF throttling, cached sessions); the
# default is per process, which is right only for a single development server.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 12)
EMAIL_VERIFICATION_MAX_AGE = timedelta(days=3)

# Seconds before a mail server that stopped answering counts as down (a retry), instead of
# holding the worker until the task's time limit.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)

# Second factors, from django-otp
OTP_TOTP_ISSUER = "camfleet"
# Only for the admin's own sign-in form (django-otp sends that code itself); the sign-in pages
# send theirs through accounts.services.send_email_code, in the person's language.
OTP_EMAIL_SUBJECT = "camfleet sign-in code"
OTP_EMAIL_TOKEN_VALIDITY = 600

# Reverse proxies in front of the app; each appends to X-Forwarded-For, and the client is the
# PROXY_COUNT-th address from its right (common.http.client_address). 0: the header is ignored.
PROXY_COUNT = env.int("PROXY_COUNT", default=0)

# Sign-in throttling (django-axes): per account and, separately, per client address.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# axes' reset deletes every attempt matching *any* lockout parameter, so one's own sign-in
# would clear the failures against everyone else from the same address (issue 9, item 1).
# accounts.sign_in.complete_sign_in clears only the signed-in account's, from its address.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout"
# One throttle per account whatever the case, spacing or width of the typed address.
AXES_USERNAME_CALLABLE = "accounts.sign_in.axes_username"
AXES_CLIENT_IP_CALLABLE = "common.http.client_address"
# Never store what was typed into the password or code fields of a failed attempt.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "password", "token", "otp_token"]
AXES_VERBOSE = False

# Sign-up throttling: attempts per e-mail address and per client address, in a window as long
# as a sign-in lockout.
SIGN_UP_ATTEMPTS_PER_EMAIL = env.int("SIGN_UP_ATTEMPTS_PER_EMAIL", default=5)
SIGN_UP_ATTEMPTS_PER_ADDRESS = env.int("SIGN_UP_ATTEMPTS_PER_ADDRESS", default=10)
SIGN_UP_WINDOW = AXES_COOLOFF_TIME

# django-guardian
ANONYMOUS_USER_NAME = None
GUARDIAN_MONKEY_PATCH_USER = False

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # No BasicAuthentication: DRF answers 500 to a NUL byte in Basic credentials.
        # Token first: an anonymous call then answers 401 with `WWW-Authenticate: Token`.
        "organizations.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON bodies only: form fields are all strings and cannot say null, a number or an empty list.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "common.api.ApiSchema",
    "DEFAULT_PAGINATION_CLASS": "common.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "common.api.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["common.throttling.UserRateThrottle"],
    # For DRF throttles that read the address themselves: the same hop as common.http.
    "NUM_PROXIES": PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {"user": env("API_THROTTLE_RATE", default="1200/minute")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "camfleet API",
    "DESCRIPTION": "Manage organizations, folders, Axis devices, upgrades and licenses.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the installed sidecar package: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Every error answer is documented with the one error body (common/api.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.api.document_error_bodies",
    ],
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "organizations.roles.Role.choices",
        "InvitableRoleEnum": "organizations.api.serializers.INVITABLE_ROLES",
        "DeviceImportStateEnum": "devices.api.serializers.IMPORT_STATES",
        "DeviceImportRowStateEnum": "devices.api.serializers.IMPORT_ROW_STATES",
        "DeviceAccountRoleEnum": "devices.api.accounts.DEVICE_ACCOUNT_ROLES",
        "DeviceStatusEnum": "devices.models.Device.Status",
        "UpgradeTaskStateEnum": "upgrades.api.jobs.TASK_STATES",
        "UpgradeJobStatusEnum": "upgrades.api.jobs.JOB_STATUSES",
        "UpgradeJobOriginEnum": "upgrades.api.jobs.JOB_ORIGINS",
        "UpgradeSkipCodeEnum": "upgrades.api.jobs.SKIP_CODES",
    },
}

# Celery. The default broker needs no server: kombu's filesystem transport under var/
# (development only; production uses Redis or RabbitMQ through CELERY_BROKER_URL).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
    _results_dir = VAR_DIR / "celery" / "results"
    # kombu and the file result backend refuse folders that do not exist yet.
    for _folder in (_queue_dir, VAR_DIR / "celery" / "control", _results_dir):
        _folder.mkdir(parents=True, exist_ok=True)
    _default_results = f"file://{_results_dir}"
else:
    _default_results = CELERY_BROKER_URL
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=_default_results)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"devices.*": {"queue": "devices"}, "upgrades.*": {"queue": "upgrades"}}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Remote control (celery inspect/control) is off: its broadcast subscription makes a worker on
# Redis exit ("Unrecoverable error") when Redis restarts while tasks run, and nothing here uses
# it. tests/upgrades/test_crash.py restarts the broker mid-job and needs the worker to live on.
CELERY_WORKER_ENABLE_REMOTE_CONTROL = env.bool("CELERY_WORKER_ENABLE_REMOTE_CONTROL", default=False)
# A net under every task, above the longest VAPIX budget (a firmware upload, devices/vapix):
# a task that forgets its own limits still cannot hold a worker for ever. Tasks set tighter ones.
CELERY_TASK_SOFT_TIME_LIMIT = 30 * 60
CELERY_TASK_TIME_LIMIT = 35 * 60
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE: dict = {
    # Health polling: each tick claims the devices that are due (devices/health.py).
    "devices.dispatch-polls": {
        "task": "devices.dispatch_polls",
        "schedule": env.float("DEVICE_POLL_TICK", default=15.0),
    },
    # Passwords of CSV device imports nobody onboarded are destroyed within minutes of expiring.
    "devices.expire_device_imports": {
        "task": "devices.expire_device_imports",
        "schedule": 300.0,
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Content-Security-Policy (django-csp) on every answer, the same in development, tests and
# production, so the browser tests run under the production policy. Scripts come only from our
# static files: no inline script or handler, no eval (htmx runs with allowEval off, base.html;
# the API docs start Swagger UI from a script file). Stylesheets come only from our static files
# too, so injected markup cannot add <style> rules that select and leak other elements; style=""
# attributes stay allowed (they style only their own element; the folder tree indents with them).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        # Bootstrap draws its checkbox, select and close icons as data: SVG images.
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Devices (devices/credentials.py, devices/networks.py) -------------------------------------
# Fernet keys that encrypt device passwords at rest, comma-separated, newest first: the newest
# encrypts, all decrypt (`manage.py rotate_device_credentials` moves every password to the
# newest). Development and tests derive a fixed, public key; production requires real ones.
DEVICE_CREDENTIAL_KEYS = env.list("DEVICE_CREDENTIAL_KEYS", default=[])
# The public development key (dev and test settings only; production refuses it).
DEVELOPMENT_DEVICE_CREDENTIAL_KEY = "Y2FtZmxlZXQtZGV2ZWxvcG1lbnQtb25seS1rZXktMDE="
# The networks the service may connect to devices in (CIDR, comma-separated). Link-local, cloud
# metadata and the service's own addresses are refused whatever this says.
DEVICE_ALLOWED_NETWORKS = env.list(
    "DEVICE_ALLOWED_NETWORKS", default=["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
)
# Loopback device addresses (the simulator on 127.0.0.1): development and tests only, never
# read from the environment here, so production cannot turn it on by accident.
DEVICE_ALLOW_LOOPBACK = False
# Seconds the service waits for a device to accept a connection and to answer one call
# (devices/connection.py); a whole exchange also ends within the client's 30 s deadline.
DEVICE_CONNECT_TIMEOUT = env.float("DEVICE_CONNECT_TIMEOUT", default=5.0)
DEVICE_READ_TIMEOUT = env.float("DEVICE_READ_TIMEOUT", default=15.0)
# Live and playback streams one person may have open at once, across every web process
# (counted in the cache: CACHE_URL must be shared, i.e. Redis, when there is more than one).
DEVICE_STREAMS_PER_USER = env.int("DEVICE_STREAMS_PER_USER", default=4)

# --- Device health (devices/health.py) -----------------------------------------------------------
# Every device is polled once per interval (seconds), spread over it; the dispatcher runs every
# DEVICE_POLL_TICK seconds (CELERY_BEAT_SCHEDULE). One poll task polls up to BATCH_SIZE devices
# on CONCURRENCY threads, with these client timeouts (a poll makes no retries).
DEVICE_POLL_INTERVAL = env.int("DEVICE_POLL_INTERVAL", default=300)
DEVICE_POLL_CONCURRENCY = env.int("DEVICE_POLL_CONCURRENCY", default=32)
DEVICE_POLL_BATCH_SIZE = env.int("DEVICE_POLL_BATCH_SIZE", default=200)
DEVICE_POLL_CONNECT_TIMEOUT = env.float("DEVICE_POLL_CONNECT_TIMEOUT", default=3.0)
DEVICE_POLL_READ_TIMEOUT = env.float("DEVICE_POLL_READ_TIMEOUT", default=5.0)
# Seconds a device is offline or unreachable before its organization's owners and admins get an
# e-mail (once per outage).
DEVICE_OFFLINE_ALERT_AFTER = env.int("DEVICE_OFFLINE_ALERT_AFTER", default=15 * 60)

# --- Camera-station servers (devices/servers/) --------------------------------------------------
# Seconds between a server's check-ins (the answer tells the server); a check-in sooner than the
# minimum after the last one is refused with 429 and Retry-After.
SERVER_CHECK_IN_INTERVAL = env.int("SERVER_CHECK_IN_INTERVAL", default=60)
SERVER_CHECK_IN_MIN_INTERVAL = env.int("SERVER_CHECK_IN_MIN_INTERVAL", default=10)
# A server is late after two missed check-ins, and offline (admins get one e-mail per outage)
# after this many seconds without one.
SERVER_OFFLINE_AFTER = env.int("SERVER_OFFLINE_AFTER", default=10 * 60)
# An upgrade picked up but never reported back on fails after this many seconds.
SERVER_UPGRADE_TIMEOUT = env.int("SERVER_UPGRADE_TIMEOUT", default=60 * 60)
# Where links in e-mails sent outside a request (outage alerts) point.
SITE_ORIGIN = env("SITE_ORIGIN", default="http://127.0.0.1:8000")
# Check-ins kept per server for its history page.
SERVER_CHECK_IN_HISTORY = env.int("SERVER_CHECK_IN_HISTORY", default=100)
CELERY_BEAT_SCHEDULE["devices.watch_servers"] = {
    "task": "devices.watch_servers",
    "schedule": 60.0,
}
# Licensing: wallet expiry and the growth allowances, once a day (licensing/tasks.py).
CELERY_BEAT_SCHEDULE["licensing.run_daily"] = {
    "task": "licensing.run_daily",
    "schedule": crontab(hour=0, minute=30),
}
# --- Upgrades: the firmware catalog (upgrades/storage.py) -------------------------------------
# Where AXIS OS images are kept: the alias of an entry in STORAGES (e.g. an S3 backend) when
# set, else files under FIRMWARE_ROOT.
FIRMWARE_STORAGE = env("FIRMWARE_STORAGE", default="")
FIRMWARE_ROOT = Path(env("FIRMWARE_ROOT", default=str(VAR_DIR / "firmware")))
# The largest image accepted (real AXIS OS images are 30 to 300 MB).
FIRMWARE_MAX_BYTES = env.int("FIRMWARE_MAX_BYTES", default=1 << 30)

# --- Licensing: signed license files of offline systems (licensing/signing.py) ---------------
# The Ed25519 private key that signs license files: PEM (PKCS#8) or its 32 raw bytes in base64.
# Its public key is published at /licensing/public-key.pem. Development and tests use a fixed,
# public key; production requires a real one (config/settings/prod.py).
LICENSE_SIGNING_KEY = env("LICENSE_SIGNING_KEY", default="")
# The public development key (dev and test settings only; production refuses it).
DEVELOPMENT_LICENSE_SIGNING_KEY = "Y2FtZmxlZXQtZGV2ZWxvcG1lbnQtbGljZW5zZS1rZXk="
# Days a license file stays valid: an offline system needs a fresh one at least this often.
LICENSE_FILE_VALID_DAYS = env.int("LICENSE_FILE_VALID_DAYS", default=365)
# --- Upgrades: jobs and tasks (upgrades/engine.py, upgrades/tasks.py) --------------------------
# A job pauses itself when more than this share of its started tasks failed (at least
# UPGRADE_FAILURE_MINIMUM failures, so one failure among the first few does not stop it).
UPGRADE_FAILURE_THRESHOLD_PERCENT = env.int("UPGRADE_FAILURE_THRESHOLD_PERCENT", default=20)
UPGRADE_FAILURE_MINIMUM = env.int("UPGRADE_FAILURE_MINIMUM", default=3)
# Seconds between scheduler ticks (beat), and tasks one tick starts at most.
UPGRADE_TICK = env.float("UPGRADE_TICK", default=15.0)
UPGRADE_TICK_BATCH = env.int("UPGRADE_TICK_BATCH", default=200)
# Devices upgrading at once, per organization and per folder (the device's own folder).
UPGRADE_MAX_CONCURRENT_PER_ORGANIZATION = env.int(
    "UPGRADE_MAX_CONCURRENT_PER_ORGANIZATION", default=100
)
UPGRADE_MAX_CONCURRENT_PER_FOLDER = env.int("UPGRADE_MAX_CONCURRENT_PER_FOLDER", default=20)
# Seconds an upgrade is expected to take when the model has no successful upgrade to go by;
# a task in a maintenance window starts only when this much of the window is left.
UPGRADE_EXPECTED_DURATION = env.int("UPGRADE_EXPECTED_DURATION", default=20 * 60)
# A running step shows a sign of life at least this often; one silent for longer is resumed
# by the tick from the device's real state (its worker died or its message was lost).
UPGRADE_STALE_AFTER = env.float("UPGRADE_STALE_AFTER", default=120.0)
# Seconds between the re-checks of a restarting device, and how long it may take to come back.
UPGRADE_RECHECK_INTERVAL = env.float("UPGRADE_RECHECK_INTERVAL", default=5.0)
UPGRADE_RESTART_TIMEOUT = env.float("UPGRADE_RESTART_TIMEOUT", default=15 * 60)
# The upload's time budget: this minimum plus 1 s per MB of image, at most the maximum; a
# device that stops taking data fails the upload once the budget is spent.
UPGRADE_UPLOAD_MINIMUM = env.float("UPGRADE_UPLOAD_MINIMUM", default=120.0)
UPGRADE_UPLOAD_MAXIMUM = env.float("UPGRADE_UPLOAD_MAXIMUM", default=1200.0)
# Upload progress is written to the task at most once per this many seconds.
UPGRADE_PROGRESS_INTERVAL = env.float("UPGRADE_PROGRESS_INTERVAL", default=1.0)
# After an upload whose answer was lost, a device still idle on its old version this long
# later did not take the image (the upload broke off), and the task fails.
UPGRADE_IDLE_GRACE = env.float("UPGRADE_IDLE_GRACE", default=60.0)
# An unreachable device is tried again this many seconds later, inside its window.
UPGRADE_OFFLINE_RETRY = env.float("UPGRADE_OFFLINE_RETRY", default=60.0)
# The device rolls back by itself this many minutes after the upload unless we commit.
UPGRADE_AUTO_ROLLBACK_MINUTES = env.int("UPGRADE_AUTO_ROLLBACK_MINUTES", default=30)
# Seconds between the schedule sweeps that give "as soon as available" and window devices
# their tasks (devices onboarded or schedules changed after a release arrived).
UPGRADE_SCHEDULE_SWEEP = env.float("UPGRADE_SCHEDULE_SWEEP", default=300.0)
CELERY_BEAT_SCHEDULE["upgrades.tick"] = {"task": "upgrades.tick", "schedule": UPGRADE_TICK}
CELERY_BEAT_SCHEDULE["upgrades.schedule_sweep"] = {
    "task": "upgrades.schedule_sweep",
    "schedule": UPGRADE_SCHEDULE_SWEEP,
}
