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


def split_prefixed_secret(raw: str | None) -> tuple[str, str]:
    """Return (lookup prefix, whole secret) of a token as sent, or ("", "") for anything else.

    The prefix (letters and hex) has no underscore; the url-safe part after it may.
    """
    secret = (raw or "").strip()
    prefix, _separator, rest = secret.partition("_")
    if not prefix or not rest or not secret.isprintable() or len(secret) > 200:
        return "", ""
    return prefix, secret
