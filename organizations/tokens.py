"""Secrets of invitation links and tokens: only their hash is stored or compared."""

import hashlib
import secrets

from django.db.models import Model


def hash_secret(raw: str) -> str:
    """Return the SHA-256 hex digest stored in place of an invitation or API token secret."""
    return hashlib.sha256(raw.encode()).hexdigest()


def new_prefixed_secret(prefix: str, model: type[Model]) -> tuple[str, str]:
    """Return (lookup prefix, raw secret) with a prefix no row of `model` holds yet.

    The prefix is stored in clear to find the row; the part after it is only ever hashed. A
    prefix taken meanwhile is caught by the model's unique constraint.
    """
    for _attempt in range(5):
        lookup = f"{prefix}{secrets.token_hex(5)}"
        if not model._default_manager.filter(prefix=lookup).exists():
            break
    return lookup, f"{lookup}_{secrets.token_urlsafe(32)}"
