"""Development: `make run` on SQLite with the filesystem broker and console e-mail."""

from .base import *  # noqa: F403
from .base import env

# The development key and DEBUG are allowed here only (config/entry_points.py).
DEVELOPMENT = True

DEBUG = env.bool("DEBUG", default=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Serve static files straight from the app folders; no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Devices: the public development key unless one is given, and loopback devices (the simulator).
DEVICE_CREDENTIAL_KEYS = env.list(
    "DEVICE_CREDENTIAL_KEYS",
    default=[DEVELOPMENT_DEVICE_CREDENTIAL_KEY],  # noqa: F405
)
DEVICE_ALLOW_LOOPBACK = env.bool("DEVICE_ALLOW_LOOPBACK", default=True)
# The demo shows live status soon after `make run`: every device is polled once a minute, by
# fewer threads than in production (SQLite takes one writer at a time).
DEVICE_POLL_INTERVAL = env.int("DEVICE_POLL_INTERVAL", default=60)
DEVICE_POLL_CONCURRENCY = env.int("DEVICE_POLL_CONCURRENCY", default=8)

# Licensing: the public development signing key unless one is given.
LICENSE_SIGNING_KEY = env(
    "LICENSE_SIGNING_KEY",
    default=DEVELOPMENT_LICENSE_SIGNING_KEY,  # noqa: F405
)
