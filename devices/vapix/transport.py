"""HTTP layer of the VAPIX client: one ``requests.Session`` per device.

What lives here and nowhere else:

* Authentication. The first request goes out without credentials; the device's ``401``
  challenge decides the scheme. Digest (MD5 or SHA-256, with or without ``qop``, ``-sess``) is
  preferred; Basic is used only over HTTPS. The nonce is cached and ``nc`` counts up, so later
  requests (and the firmware upload) authenticate on the first try; a ``stale`` nonce is
  renewed. A request is re-sent at most twice, so a wrong password never loops (the device may
  throttle password guessing).
* Certificate pinning: HTTPS connections check the SHA-256 fingerprint of the device certificate
  inside ``connect()``, before a byte of the request is sent; a different certificate raises
  ``CertificateMismatch``. ``fetch_certificate_fingerprint`` is the trust-on-first-use helper for
  onboarding.
* Error mapping: connection problems become ``Unreachable``/``Timeout``, HTTP status problems
  ``AuthFailed``/``InsufficientPrivilege``/``ApiNotSupported``/``NotAxisDevice``/
  ``UnexpectedResponse``. No exception of ``requests``/``urllib3``/``ssl`` leaves this module.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import os
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from devices.vapix.errors import (
    ApiNotSupported,
    AuthFailed,
    CertificateMismatch,
    InsufficientPrivilege,
    InvalidArgument,
    NotAxisDevice,
    Timeout,
    UnexpectedResponse,
    Unreachable,
    VapixError,
)
from devices.vapix.models import Challenge
from devices.vapix.parsing import parse_www_authenticate

USER_AGENT = "camfleet-vapix/1"
BodyFactory = Callable[[], Any]


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait (VAPIX.md §15.1): connect, ordinary calls, probes and uploads."""

    connect: float = 5.0
    read: float = 15.0
    probe: float = 5.0
    upload_minimum: float = 120.0
    upload_maximum: float = 1200.0
    upload_bytes_per_second: float = 1_000_000.0

    def for_upload(self, size: int) -> float:
        """Return the read timeout for an upload of ``size`` bytes (size / 1 MB/s + 120 s)."""
        return min(self.upload_minimum + size / self.upload_bytes_per_second, self.upload_maximum)


def normalize_fingerprint(fingerprint: str) -> str:
    """Return a SHA-256 fingerprint as 64 lower-case hex digits (colons and case ignored)."""
    cleaned = fingerprint.replace(":", "").replace(" ", "").strip().lower()
    if len(cleaned) != 64 or any(c not in "0123456789abcdef" for c in cleaned):
        raise InvalidArgument("a certificate fingerprint is 64 hex digits (SHA-256)")
    return cleaned


def certificate_fingerprint(der: bytes) -> str:
    """Return the SHA-256 fingerprint of a DER certificate as lower-case hex."""
    return hashlib.sha256(der).hexdigest()


def fetch_certificate_fingerprint(host: str, port: int = 443, *, timeout: float = 5.0) -> str:
    """Return the SHA-256 fingerprint of the certificate a device presents (trust on first use).

    Call it once at onboarding, show or store the result, and pass it as ``tls_fingerprint`` to
    every later client. Nothing is sent over the connection besides the TLS handshake.
    """
    context = ssl.create_default_context()
    # Self-signed device certificates are the norm; trust comes from the stored fingerprint.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except TimeoutError as error:
        raise Timeout(f"TLS handshake with {host}:{port} timed out") from error
    except (OSError, ssl.SSLError) as error:
        raise Unreachable(f"no TLS connection to {host}:{port}: {error}") from error
    except (ValueError, OverflowError) as error:  # e.g. a host name IDNA cannot encode
        raise InvalidArgument(f"invalid device address {host}:{port}") from error
    if not der:
        raise UnexpectedResponse(f"{host}:{port} presented no certificate")
    return certificate_fingerprint(der)


def _pinned_pool_class(fingerprint: str) -> type[HTTPSConnectionPool]:
    """Return an HTTPS pool class whose connections accept only the pinned certificate."""

    class PinnedHTTPSConnection(HTTPSConnection):
        """An HTTPS connection that refuses any certificate but the pinned one."""

        def connect(self) -> None:
            super().connect()
            der = self.sock.getpeercert(binary_form=True) if self.sock else None  # type: ignore[union-attr]
            presented = certificate_fingerprint(der) if der else ""
            if not hmac.compare_digest(presented, fingerprint):
                self.close()
                raise CertificateMismatch(
                    f"{self.host}:{self.port} presented a certificate that is not the pinned one",
                    expected=fingerprint,
                    presented=presented,
                )
            # Checked against the pin, which is stronger than a CA chain for this one device.
            self.is_verified = True

    class PinnedHTTPSConnectionPool(HTTPSConnectionPool):
        ConnectionCls = PinnedHTTPSConnection

    return PinnedHTTPSConnectionPool


class PinnedCertificateAdapter(HTTPAdapter):
    """A transport adapter that checks the device certificate against a SHA-256 pin.

    The check runs when the TLS connection is set up, before the request is written, so
    credentials never reach a device that presents another certificate.
    """

    def __init__(self, fingerprint: str) -> None:
        self.fingerprint = normalize_fingerprint(fingerprint)
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        kwargs["ssl_context"] = context
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": HTTPConnectionPool,
            "https": _pinned_pool_class(self.fingerprint),
        }

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        # CA verification is replaced by the pin; requests must not switch it back on.
        super().cert_verify(conn, url, False, cert)  # type: ignore[no-untyped-call]


def _digest_hash(algorithm: str) -> Callable[[bytes], str]:
    name = algorithm.upper().removesuffix("-SESS")
    if name in ("MD5", ""):
        return lambda data: hashlib.md5(data, usedforsecurity=False).hexdigest()
    if name == "SHA-256":
        return lambda data: hashlib.sha256(data).hexdigest()
    raise AuthFailed(f"device asks for unsupported digest algorithm {algorithm}")


class _Authenticator:
    """Builds ``Authorization`` headers from the last challenge (not thread-safe by design)."""

    def __init__(self, username: str, password: str, *, allow_basic: bool) -> None:
        self.username = username
        self.password = password
        self.allow_basic = allow_basic
        self.challenge: Challenge | None = None
        self.nonce_count = 0
        self.realm: str = ""

    def choose(self, challenges: list[Challenge]) -> Challenge:
        """Remember the challenge we will answer; Digest first, Basic only over HTTPS."""
        digest = [c for c in challenges if c.scheme == "digest"]
        # Prefer SHA-256 when offered, then MD5; RFC 7616 lets servers offer both.
        digest.sort(key=lambda c: c.params.get("algorithm", "MD5").upper().startswith("SHA-256"))
        basic = [c for c in challenges if c.scheme == "basic"]
        if digest:
            chosen = digest[-1]
            _digest_hash(chosen.params.get("algorithm", "MD5"))
        elif basic and self.allow_basic:
            chosen = basic[0]
        elif basic:
            raise AuthFailed("device offers only Basic authentication over plain HTTP; refused")
        else:
            offered = ", ".join(c.scheme for c in challenges) or "nothing"
            raise AuthFailed(f"device offers no authentication scheme we support ({offered})")
        if self.challenge is None or chosen.params.get("nonce") != self.challenge.params.get(
            "nonce"
        ):
            self.nonce_count = 0
        self.challenge = chosen
        self.realm = chosen.realm
        return chosen

    def header(self, method: str, url: str) -> str | None:
        """Return the ``Authorization`` value for a request, or None before any challenge."""
        challenge = self.challenge
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            return f"Basic {token}"
        params = challenge.params
        algorithm = params.get("algorithm", "MD5")
        digest = _digest_hash(algorithm)
        split = urlsplit(url)
        # The uri must be the exact request-target, query string included (VAPIX.md §2.1).
        uri = (split.path or "/") + (f"?{split.query}" if split.query else "")
        realm, nonce = params.get("realm", ""), params.get("nonce", "")
        self.nonce_count += 1
        nc = f"{self.nonce_count:08x}"
        cnonce = os.urandom(8).hex()
        ha1 = digest(f"{self.username}:{realm}:{self.password}".encode())
        if algorithm.upper().endswith("-SESS"):
            ha1 = digest(f"{ha1}:{nonce}:{cnonce}".encode())
        ha2 = digest(f"{method}:{uri}".encode())
        qops = [q.strip() for q in params.get("qop", "").split(",") if q.strip()]
        if qops and "auth" not in qops:
            raise AuthFailed(f"device asks for digest qop {params['qop']}, only auth is supported")
        parts = [
            f'username="{self.username}"',
            f'realm="{realm}"',
            f'nonce="{nonce}"',
            f'uri="{uri}"',
            f"algorithm={algorithm}",
        ]
        if qops:
            response = digest(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}".encode())
            parts += [f'response="{response}"', "qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
        else:
            parts.append(f'response="{digest(f"{ha1}:{nonce}:{ha2}".encode())}"')
        if "opaque" in params:
            parts.append(f'opaque="{params["opaque"]}"')
        return "Digest " + ", ".join(parts)


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack: list[BaseException | None] = [error]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend([current.__cause__, current.__context__])
        stack.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)


def map_transport_error(error: BaseException, what: str) -> VapixError:
    """Return the typed error for an exception raised while talking to a device."""
    if isinstance(error, VapixError):
        return error
    for cause in _causes(error):
        if isinstance(cause, CertificateMismatch):
            return cause
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return Unreachable(f"{what}: connection timed out")
    if isinstance(error, requests.exceptions.ReadTimeout):
        return Timeout(f"{what}: no answer within the read timeout")
    if isinstance(error, requests.exceptions.SSLError):
        return Unreachable(f"{what}: TLS handshake failed")
    if isinstance(error, requests.exceptions.ContentDecodingError):
        return UnexpectedResponse(f"{what}: body does not match its Content-Encoding")
    if isinstance(error, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return InvalidArgument(f"{what}: invalid device address")
    for cause in _causes(error):
        if isinstance(cause, urllib3.exceptions.ReadTimeoutError | TimeoutError | socket.timeout):
            return Timeout(f"{what}: no answer within the read timeout")
    if isinstance(
        error,
        requests.exceptions.ConnectionError
        | requests.exceptions.ChunkedEncodingError
        | urllib3.exceptions.HTTPError
        | http.client.HTTPException
        | OSError,
    ):
        return Unreachable(f"{what}: connection failed ({type(error).__name__})")
    return UnexpectedResponse(f"{what}: {type(error).__name__}")


def response_text(response: requests.Response) -> str:
    """Return a text body decoded with its charset; param.cgi defaults to ISO-8859-1."""
    raw = response.content
    content_type = response.headers.get("Content-Type", "")
    for parameter in content_type.split(";")[1:]:
        key, _, value = parameter.strip().partition("=")
        if key.lower() == "charset":
            try:
                return raw.decode(value.strip().strip('"'), "replace")
            except (LookupError, ValueError):  # unknown charset, or one without "replace"
                break
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("iso-8859-1")


class VapixTransport:
    """One device's HTTP session: authentication, pinning, timeouts and error mapping."""

    def __init__(
        self,
        host: str,
        *,
        username: str,
        password: str,
        port: int | None = None,
        scheme: str = "http",
        tls_fingerprint: str | None = None,
        ca_bundle: str | None = None,
        timeouts: Timeouts | None = None,
    ) -> None:
        if scheme not in ("http", "https"):
            raise InvalidArgument("scheme must be http or https")
        if scheme == "https" and tls_fingerprint is None and ca_bundle is None:
            raise InvalidArgument(
                "HTTPS needs the device's certificate fingerprint (fetch_certificate_fingerprint)"
                " or a CA bundle"
            )
        self.host = host
        self.scheme = scheme
        self.port = port or (443 if scheme == "https" else 80)
        display_host = f"[{host}]" if ":" in host else host
        self.base_url = f"{scheme}://{display_host}:{self.port}"
        self.timeouts = timeouts or Timeouts()
        self._auth = _Authenticator(username, password, allow_basic=scheme == "https")
        self.credentials_accepted = False
        self.axis_confirmed = False
        self.session = requests.Session()
        # Device traffic must not take a proxy or .netrc credentials from the environment.
        self.session.trust_env = False
        self.session.headers["User-Agent"] = USER_AGENT
        if scheme == "https" and tls_fingerprint is not None:
            self.session.mount(f"{self.base_url}/", PinnedCertificateAdapter(tls_fingerprint))
        else:
            self.session.mount(f"{self.base_url}/", HTTPAdapter(max_retries=0))
        self.session.verify = ca_bundle if ca_bundle is not None else True

    @property
    def realm(self) -> str:
        return self._auth.realm

    @property
    def username(self) -> str:
        return self._auth.username

    def set_password(self, password: str) -> None:
        """Use a new password from now on (after changing our own account's password)."""
        self._auth.password = password

    def close(self) -> None:
        self.session.close()

    def _note_challenges(self, response: requests.Response) -> list[Challenge]:
        header = response.headers.get("WWW-Authenticate", "")
        challenges = parse_www_authenticate(header)
        if any(c.realm.startswith("AXIS_") for c in challenges):
            self.axis_confirmed = True
        return challenges

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        data: bytes | str | Mapping[str, str] | None = None,
        body_factory: BodyFactory | None = None,
        headers: Mapping[str, str] | None = None,
        read_timeout: float | None = None,
        send_timeout: float | None = None,
        stream: bool = False,
        classify_missing: bool = True,
        plain_401_is_answer: bool = False,
    ) -> requests.Response:
        """Send one request and return its 2xx response, authenticating as the device asks.

        ``body_factory`` builds a fresh streamed body for each attempt (an attempt is repeated
        only after a 401). ``send_timeout`` (default: the connect timeout) bounds connecting and
        each wait while the body goes out; urllib3 uses one value for both.
        ``plain_401_is_answer`` returns a 401 that carries no challenge as the answer
        (pwdgrp.cgi reports initial-admin errors that way). Raises a ``VapixError`` for every
        failure.
        """
        url = self.base_url + path
        what = f"{method} {path} on {self.host}:{self.port}"
        timeout = (send_timeout or self.timeouts.connect, read_timeout or self.timeouts.read)
        sent_with: str | None = None
        for attempt in range(3):
            body = body_factory() if body_factory is not None else data
            try:
                request = requests.Request(method, url, params=params, data=body, headers=headers)
                prepared = self.session.prepare_request(request)
                authorization = self._auth.header(method, prepared.url or url)
                if authorization:
                    prepared.headers["Authorization"] = authorization
                challenge = self._auth.challenge
                sent_with = challenge.params.get("nonce") if challenge else None
                response = self.session.send(
                    prepared, timeout=timeout, stream=stream, allow_redirects=False
                )
            except Exception as error:  # every transport failure is mapped
                raise map_transport_error(error, what) from error
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
            if response.status_code != 401:
                break
            challenges = self._note_challenges(response)
            if not challenges and plain_401_is_answer:
                return response
            response.close()
            if not challenges:
                raise AuthFailed(f"{what}: 401 without a challenge")
            chosen = self._auth.choose(challenges)
            # Send credentials again only for a new nonce: after the first challenge, when the
            # device marks the old one stale, or when a cached nonce expired silently. A fresh
            # nonce that is rejected means wrong credentials: no further attempt.
            renew = (
                authorization is None
                or chosen.is_stale
                or (attempt == 0 and chosen.params.get("nonce") != sent_with)
            )
            if not renew:
                raise self._rejected(what)
        else:
            raise self._rejected(what)
        if authorization is not None and response.status_code < 500:
            # Anything but a 401 (or a server error) means the device accepted who we are.
            self.credentials_accepted = True
        return self._check_status(response, what, path, classify_missing=classify_missing)

    def _rejected(self, what: str) -> AuthFailed:
        if self.credentials_accepted:
            return InsufficientPrivilege(f"{what}: account lacks the privilege for this call")
        return AuthFailed(f"{what}: credentials rejected")

    def _check_status(
        self, response: requests.Response, what: str, path: str, *, classify_missing: bool
    ) -> requests.Response:
        status = response.status_code
        if 200 <= status < 300:
            return response
        body = ""
        try:
            body = response_text(response)
        except Exception:  # noqa: S110 - the body is only an excerpt for the error
            pass
        finally:
            response.close()
        if status == 403:
            raise InsufficientPrivilege(f"{what}: forbidden (403)")
        if status == 404:
            if classify_missing and not self.confirm_axis():
                raise NotAxisDevice(f"{self.host}:{self.port} is not an Axis device ({path}: 404)")
            raise ApiNotSupported(f"{what}: this firmware has no {path}")
        # Axis CGIs never redirect; web servers of other devices send visitors to a login page.
        if 300 <= status < 400 and classify_missing and not self.confirm_axis():
            raise NotAxisDevice(f"{self.host}:{self.port} is not an Axis device ({path}: {status})")
        raise UnexpectedResponse(f"{what}: HTTP {status}", status=status, body=body)

    def confirm_axis(self) -> bool:
        """Return whether the device is an Axis device, asking param.cgi when still unknown."""
        if self.axis_confirmed:
            return True
        try:
            response = self.request(
                "GET",
                "/axis-cgi/param.cgi",
                params={"action": "list", "group": "root.Brand.Brand"},
                read_timeout=self.timeouts.probe,
                classify_missing=False,
            )
            text = response_text(response)
        except VapixError:
            return self.axis_confirmed
        if "Brand.Brand=" in text:
            self.axis_confirmed = True
        return self.axis_confirmed


def wait(seconds: float) -> None:
    """Sleep; a separate name so the upgrade helper's pauses are easy to find and to speed up."""
    time.sleep(seconds)
