"""Signed license files for offline systems: Ed25519 over a canonical JSON payload.

A license file is one line of canonical JSON (keys sorted, no spaces, UTF-8):

    {"algorithm":"Ed25519","key_id":"…","payload":{…},"signature":"<base64>"}

The signature covers the canonical bytes of `payload` alone. A verifier checks that the whole
file is in canonical form too, so every byte of the file matters: no byte can change without
the check failing. `key_id` is the first 16 hex digits of the SHA-256 of the raw public key, so
an offline system can tell which published key to use after a rotation.

The private key comes from the LICENSE_SIGNING_KEY setting: an Ed25519 private key in PEM
(PKCS#8), or the 32 raw bytes in base64. Development and tests use a public development key
that production refuses (config/settings/prod.py).
"""

import base64
import binascii
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ALGORITHM = "Ed25519"
FORMAT_VERSION = 1


class LicenseFileInvalid(Exception):
    """The license file does not verify; the message says why."""


def canonical(value: Any) -> bytes:
    """Return the canonical JSON bytes of a value: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def load_private_key(text: str) -> Ed25519PrivateKey:
    """Read an Ed25519 private key from PEM or from base64 of its 32 raw bytes."""
    text = (text or "").strip()
    if not text:
        raise ImproperlyConfigured(
            "LICENSE_SIGNING_KEY is not set; README, Configuration, says how to make one."
        )
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        except (ValueError, TypeError):
            raise ImproperlyConfigured("LICENSE_SIGNING_KEY is not a readable PEM key.") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ImproperlyConfigured("LICENSE_SIGNING_KEY must be an Ed25519 key.")
        return key
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        raw = b""
    if len(raw) != 32:
        # Never echo the value: it is a secret.
        raise ImproperlyConfigured(
            "LICENSE_SIGNING_KEY must be an Ed25519 private key in PEM or 32 bytes in base64."
        )
    return Ed25519PrivateKey.from_private_bytes(raw)


def signing_key() -> Ed25519PrivateKey:
    """Return the configured signing key."""
    return load_private_key(settings.LICENSE_SIGNING_KEY)


def public_key_pem(private_key: Ed25519PrivateKey | None = None) -> str:
    """Return the public key that verifies our license files, in PEM (SubjectPublicKeyInfo)."""
    public = (private_key or signing_key()).public_key()
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def key_id(public_key: Ed25519PublicKey) -> str:
    """Return the short name of a public key: 16 hex digits of the SHA-256 of its raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign(payload: dict[str, Any], private_key: Ed25519PrivateKey | None = None) -> bytes:
    """Return the license file (bytes, one line) carrying `payload` and its signature."""
    private_key = private_key or signing_key()
    signature = private_key.sign(canonical(payload))
    document = {
        "algorithm": ALGORITHM,
        "key_id": key_id(private_key.public_key()),
        "payload": payload,
        "signature": base64.b64encode(signature).decode(),
    }
    return canonical(document) + b"\n"


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """Read an Ed25519 public key in PEM, or raise LicenseFileInvalid."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError):
        raise LicenseFileInvalid("The public key is not a readable PEM public key.") from None
    if not isinstance(key, Ed25519PublicKey):
        raise LicenseFileInvalid("The public key is not an Ed25519 key.")
    return key


def verify(content: bytes, public_key: Ed25519PublicKey | None = None) -> dict[str, Any]:
    """Return the payload of a license file whose signature holds; else raise LicenseFileInvalid."""
    public_key = public_key or signing_key().public_key()
    try:
        document = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise LicenseFileInvalid("The file is not a license file (not JSON text).") from None
    if not isinstance(document, dict) or set(document) != {
        "algorithm",
        "key_id",
        "payload",
        "signature",
    }:
        raise LicenseFileInvalid("The file is not a license file (unexpected fields).")
    if content.rstrip(b"\n") != canonical(document):
        raise LicenseFileInvalid("The file was changed: it is not in its canonical form.")
    if document["algorithm"] != ALGORITHM:
        raise LicenseFileInvalid(f"Unknown signature algorithm {document['algorithm']!r}.")
    if document["key_id"] != key_id(public_key):
        raise LicenseFileInvalid(
            f"The file was signed with key {document['key_id']}, not with this public key "
            f"({key_id(public_key)})."
        )
    try:
        signature = base64.b64decode(str(document["signature"]), validate=True)
        public_key.verify(signature, canonical(document["payload"]))
    except (binascii.Error, InvalidSignature):
        raise LicenseFileInvalid("The signature does not match: the file was changed.") from None
    return document["payload"]
