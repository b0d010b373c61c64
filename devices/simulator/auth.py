"""HTTP Digest and Basic authentication the way an Axis camera's Apache does it (VAPIX.md §2).

Nonces follow Apache mod_auth_digest: base64 of the 8-byte little-endian microsecond timestamp,
followed by a hex SHA-1 keyed with a per-fleet secret and the realm. They are therefore
stateless (nothing is stored per client, which keeps 1,000 cameras cheap) and expire after
`lifetime` real seconds, after which the challenge carries ``stale=TRUE``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct
import time
from dataclasses import dataclass

_PARAM_RE = re.compile(r'(\w+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]+)')


def md5_hex(text: str) -> str:
    """Return the hex MD5 of a UTF-8 string (RFC 2617 H())."""
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def parse_auth_params(text: str) -> dict[str, str]:
    """Parse ``k=v, k="v"`` pairs of an Authorization header (keys lower-cased)."""
    params: dict[str, str] = {}
    for key, value in _PARAM_RE.findall(text):
        if value.startswith('"'):
            value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        params[key.lower()] = value
    return params


@dataclass
class DigestOutcome:
    """Result of checking an Authorization header: the user name if valid, and staleness."""

    username: str | None
    stale: bool = False


class NonceFactory:
    """Make and check Apache-style nonces for one fleet."""

    def __init__(self, secret: bytes, lifetime: float = 300.0) -> None:
        self._secret = secret
        self.lifetime = lifetime

    def _sign(self, realm: str, stamp: str) -> str:
        return hmac.new(self._secret, f"{realm}:{stamp}".encode(), hashlib.sha1).hexdigest()

    def make(self, realm: str) -> str:
        """Return a fresh nonce for `realm`."""
        stamp = base64.b64encode(struct.pack("<q", time.time_ns() // 1000)).decode("ascii")
        return stamp + self._sign(realm, stamp)

    def check(self, realm: str, nonce: str) -> tuple[bool, bool]:
        """Return (genuine, expired) for a nonce presented by a client."""
        stamp, signature = nonce[:12], nonce[12:]
        if not hmac.compare_digest(self._sign(realm, stamp), signature):
            return False, False
        try:
            (micros,) = struct.unpack("<q", base64.b64decode(stamp))
        except (binascii.Error, struct.error):
            return False, False
        return True, time.time() - micros / 1e6 > self.lifetime


def digest_challenge(realm: str, nonce: str, *, qop: bool, stale: bool = False) -> str:
    """Return a ``WWW-Authenticate`` value in the exact order the P3265-V sends."""
    value = f'Digest realm="{realm}", nonce="{nonce}", algorithm=MD5'
    if qop:
        value += ', qop="auth"'
    if stale:
        value += ", stale=TRUE"
    return value


def basic_challenge(realm: str) -> str:
    """Return a Basic ``WWW-Authenticate`` value."""
    return f'Basic realm="{realm}"'


def check_digest(
    header: str,
    *,
    method: str,
    raw_uri: str,
    realm: str,
    nonces: NonceFactory,
    password_of: dict[str, str],
    max_uses: int = 0,
) -> DigestOutcome:
    """Check a Digest Authorization header value (without the scheme word).

    `raw_uri` must be the request-target exactly as sent: the digest ``uri`` has to match it
    byte for byte (VAPIX.md §2.1). Accepts RFC 2617 ``qop=auth`` and RFC 2069 (no qop).
    With `max_uses`, a correct answer whose nonce count exceeds it is treated as stale.
    """
    params = parse_auth_params(header)
    username = params.get("username")
    nonce = params.get("nonce", "")
    if (
        username is None
        or params.get("realm") != realm
        or params.get("uri") != raw_uri
        or params.get("algorithm", "MD5").upper() != "MD5"
    ):
        return DigestOutcome(None)
    genuine, expired = nonces.check(realm, nonce)
    if not genuine:
        return DigestOutcome(None)
    password = password_of.get(username)
    if password is None:
        return DigestOutcome(None)
    ha1 = md5_hex(f"{username}:{realm}:{password}")
    ha2 = md5_hex(f"{method}:{raw_uri}")
    qop = params.get("qop")
    if qop == "auth":
        expected = md5_hex(
            f"{ha1}:{nonce}:{params.get('nc', '')}:{params.get('cnonce', '')}:auth:{ha2}"
        )
    elif qop is None:
        expected = md5_hex(f"{ha1}:{nonce}:{ha2}")
    else:
        return DigestOutcome(None)
    if not hmac.compare_digest(expected, params.get("response", "")):
        return DigestOutcome(None)
    try:
        count = int(params.get("nc", "0"), 16)
    except ValueError:
        return DigestOutcome(None)
    if expired or (max_uses and count > max_uses):
        # Right password on an old nonce: Apache answers 401 with stale=TRUE so the client
        # retries silently instead of asking the user again.
        return DigestOutcome(None, stale=True)
    return DigestOutcome(username)


def check_basic(header: str, password_of: dict[str, str]) -> str | None:
    """Return the user name if a Basic credential (without the scheme word) is right."""
    try:
        decoded = base64.b64decode(header.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    expected = password_of.get(username)
    if not sep or expected is None or not hmac.compare_digest(expected, password):
        return None
    return username
