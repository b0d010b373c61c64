"""Tests: PostgreSQL and Redis on this machine, fast hashing, locmem e-mail."""

import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import env

# The development key and DEBUG are allowed here only (config/entry_points.py).
DEVELOPMENT = True

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/camfleet")
}
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/15")
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Manifest storage needs collectstatic; tests render templates without it.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "100000/minute"}}  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": False}

# Serve static files straight from the app folders; no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Devices: the public development key unless one is given, and loopback devices (the simulator).
DEVICE_CREDENTIAL_KEYS = env.list(
    "DEVICE_CREDENTIAL_KEYS",
    default=[DEVELOPMENT_DEVICE_CREDENTIAL_KEY],  # noqa: F405
)
DEVICE_ALLOW_LOOPBACK = env.bool("DEVICE_ALLOW_LOOPBACK", default=True)

# Firmware images of the tests (seed_demo's catalog, uploads) stay out of var/: tests that
# check what was stored point FIRMWARE_ROOT at their own tmp_path.
# A worker process started by a test is told the test's folder through the environment.
FIRMWARE_ROOT = Path(
    env("FIRMWARE_ROOT", default=str(Path(tempfile.gettempdir()) / "camfleet-test-firmware"))
)
