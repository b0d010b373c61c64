"""Secrets of invitation links and API tokens: only their hash is stored or compared."""

import hashlib


def hash_secret(raw: str) -> str:
    """Return the SHA-256 hex digest stored in place of an invitation or API token secret."""
    return hashlib.sha256(raw.encode()).hexdigest()
