"""What every long-running entry point (wsgi, asgi, Celery) checks before it starts: fail closed.

Only `manage.py` (a development tool run by `make`) falls back to the development settings. A web
server or worker started without DJANGO_SETTINGS_MODULE, with the public development key or with
DEBUG on refuses to start, unless its settings say they are for development (DEVELOPMENT = True
in `config.settings.dev` and `config.settings.test`).
"""

import os

from django.conf import settings
from django.core.checks.security.base import SECRET_KEY_INSECURE_PREFIX
from django.core.exceptions import ImproperlyConfigured

SETTINGS_HINT = (
    "Set DJANGO_SETTINGS_MODULE=config.settings.prod with SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, "
    "CELERY_BROKER_URL and CACHE_URL (README, 'Running in production'); on a development machine "
    "use `make run` or DJANGO_SETTINGS_MODULE=config.settings.dev."
)


def refuse_unsafe_settings() -> None:
    """Raise ImproperlyConfigured unless the settings are explicit and safe to serve with."""
    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        raise ImproperlyConfigured(
            "camfleet will not start: DJANGO_SETTINGS_MODULE is not set. " + SETTINGS_HINT
        )
    if getattr(settings, "DEVELOPMENT", False):
        return
    problems = []
    # The development key is public (it is in the source), and so is any startproject key.
    if settings.SECRET_KEY.startswith(SECRET_KEY_INSECURE_PREFIX):
        problems.append("SECRET_KEY is the public development key; set a long random SECRET_KEY")
    if settings.DEBUG:
        problems.append("DEBUG is on; unset DEBUG")
    if problems:
        raise ImproperlyConfigured(
            f"camfleet will not start with {os.environ['DJANGO_SETTINGS_MODULE']}: "
            + "; ".join(problems)
            + ". "
            + SETTINGS_HINT
        )
