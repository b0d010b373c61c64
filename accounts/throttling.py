"""Sign-up throttling: attempts per e-mail address and per client address, in a fixed window.

django-axes throttles sign-in by counting failures. A sign-up has no failure to count (even a
refused one tells whether an address has an account, and a successful one sends a mail), so
every attempt counts here. The counters live in the shared cache, like DRF's throttles.
"""

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache

from accounts.models import canonical_email


def count_sign_up_attempt(*, email: str, address: str | None) -> int:
    """Count one sign-up attempt; return 0, or the seconds until it may be tried again.

    Both the e-mail address being signed up and the client address have their own limit, so
    neither new client addresses nor new e-mail addresses get around it.
    """
    window = int(settings.SIGN_UP_WINDOW.total_seconds())
    digest = hashlib.sha256(canonical_email(email).encode(errors="replace")).hexdigest()
    counters = [(f"accounts:sign-up:email:{digest}", settings.SIGN_UP_ATTEMPTS_PER_EMAIL)]
    if address is not None:
        limit = settings.SIGN_UP_ATTEMPTS_PER_ADDRESS
        counters.append((f"accounts:sign-up:address:{address}", limit))
    return max(_count(key, limit=limit, window=window) for key, limit in counters)


def _count(key: str, *, limit: int, window: int) -> int:
    now = time.time()
    # The first attempt opens the window and sets when it ends; later ones only count.
    cache.add(f"{key}:ends", now + window, window)
    cache.add(key, 0, window)
    try:
        attempts = cache.incr(key)
    except ValueError:  # the window ended between add and incr: this attempt opens the next
        cache.set(key, 1, window)
        attempts = 1
    if attempts <= limit:
        return 0
    ends_at = cache.get(f"{key}:ends", now + window)
    return max(1, math.ceil(ends_at - now))
