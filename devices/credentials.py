"""Device passwords encrypted at rest with Fernet, under keys that rotate (DESIGN.md §5).

`DEVICE_CREDENTIAL_KEYS` lists Fernet keys, newest first: the newest encrypts, every listed key
decrypts. To rotate, put a new key first, run `python manage.py rotate_device_credentials`, then
drop the old key. A decrypted password travels as a `Secret`, whose repr and str are masked, so
it cannot reach a log line, an exception message or an audit event by accident.
"""

import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from devices.errors import CredentialsUnreadable

MASK = "********"

KEYS_HINT = (
    "Set DEVICE_CREDENTIAL_KEYS to a comma-separated list of Fernet keys, newest first; make "
    "one with: python -c "
    '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class Secret:
    """A password in memory: masked in repr/str, compared in constant time, never pickled."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the password itself, for the one call that sends it to the device."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, format_spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    # Unhashable: a password has no business being a dict key or a set member.
    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling would carry the password into caches, task queues or crash dumps.
        raise TypeError("a Secret cannot be pickled")


@lru_cache(maxsize=4)
def _keys(configured: tuple[str, ...]) -> tuple[Fernet, ...]:
    if not configured:
        raise ImproperlyConfigured(f"DEVICE_CREDENTIAL_KEYS is empty. {KEYS_HINT}")
    fernets = []
    for position, key in enumerate(configured, start=1):
        try:
            fernets.append(Fernet(key.strip()))
        except ValueError:
            # The key itself is never echoed: it is a secret too.
            raise ImproperlyConfigured(
                f"DEVICE_CREDENTIAL_KEYS entry {position} is not a Fernet key "
                f"(32 url-safe base64-encoded bytes). {KEYS_HINT}"
            ) from None
    return tuple(fernets)


def _configured_keys() -> tuple[str, ...]:
    return tuple(settings.DEVICE_CREDENTIAL_KEYS)


def _multi_fernet() -> MultiFernet:
    return MultiFernet(list(_keys(_configured_keys())))


def _newest() -> Fernet:
    return _keys(_configured_keys())[0]


def encrypt_secret(value: str | Secret) -> str:
    """Return the Fernet token of a password, encrypted with the newest key."""
    raw = value.reveal() if isinstance(value, Secret) else value
    return _multi_fernet().encrypt(raw.encode()).decode("ascii")


def _unreadable() -> CredentialsUnreadable:
    return CredentialsUnreadable(
        message=_(
            "The stored device password cannot be decrypted with the configured keys "
            "(DEVICE_CREDENTIAL_KEYS). Put back the key it was encrypted with, or enter the "
            "device's credentials again."
        )
    )


def decrypt_secret(token: str) -> Secret:
    """Return the password a token holds, decrypted with whichever configured key made it."""
    try:
        return Secret(_multi_fernet().decrypt(token.encode("ascii")).decode())
    except (InvalidToken, UnicodeError):
        raise _unreadable() from None


def is_current(token: str) -> bool:
    """Return True when the token was encrypted with the newest key (rotation has nothing to do)."""
    try:
        _newest().decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeError):
        return False
    return True


def rotate_secret(token: str) -> str:
    """Return the token re-encrypted with the newest key (MultiFernet.rotate)."""
    try:
        return _multi_fernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError):
        raise _unreadable() from None
