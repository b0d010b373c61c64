"""Production: secrets and hosts must come from the environment; secure cookies and HSTS."""

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
CACHES = {"default": env.cache("CACHE_URL")}
# Sessions read from the shared cache, written through to the database.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL)
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Load balancers probe the health check over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Devices: real credential keys are required; the public development key is refused.
DEVICE_CREDENTIAL_KEYS = env.list("DEVICE_CREDENTIAL_KEYS", default=[])
DEVICE_ALLOW_LOOPBACK = False


def _check_device_credential_keys(keys: list[str]) -> None:
    hint = (
        "Set DEVICE_CREDENTIAL_KEYS to one or more Fernet keys, comma-separated, newest first "
        '(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
        "); README, Configuration."
    )
    if not keys:
        raise ImproperlyConfigured(
            f"camfleet will not start: DEVICE_CREDENTIAL_KEYS is not set. {hint}"
        )
    for position, key in enumerate(keys, start=1):
        if key.strip() == DEVELOPMENT_DEVICE_CREDENTIAL_KEY:  # noqa: F405
            raise ImproperlyConfigured(
                f"camfleet will not start: DEVICE_CREDENTIAL_KEYS entry {position} is the public "
                f"development key. {hint}"
            )
        try:
            Fernet(key.strip())
        except ValueError:
            # Never echo the key: it is a secret.
            raise ImproperlyConfigured(
                f"camfleet will not start: DEVICE_CREDENTIAL_KEYS entry {position} is not a "
                f"Fernet key. {hint}"
            ) from None


_check_device_credential_keys(DEVICE_CREDENTIAL_KEYS)


def _check_license_signing_key(text: str) -> None:
    from licensing.signing import load_private_key

    hint = (
        "Set LICENSE_SIGNING_KEY to an Ed25519 private key (PEM, or its 32 raw bytes in base64: "
        '`python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())"`); '
        "README, Configuration."
    )
    if not text.strip():
        raise ImproperlyConfigured(
            f"camfleet will not start: LICENSE_SIGNING_KEY is not set. {hint}"
        )
    if text.strip() == DEVELOPMENT_LICENSE_SIGNING_KEY:  # noqa: F405
        raise ImproperlyConfigured(
            f"camfleet will not start: LICENSE_SIGNING_KEY is the public development key. {hint}"
        )
    try:
        load_private_key(text)
    except ImproperlyConfigured as error:
        raise ImproperlyConfigured(f"camfleet will not start: {error} {hint}") from None


LICENSE_SIGNING_KEY = env("LICENSE_SIGNING_KEY", default="")
_check_license_signing_key(LICENSE_SIGNING_KEY)
