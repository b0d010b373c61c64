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
* Bounds on what a device can make us do. Every exchange has a deadline (``Timeouts.total``,
  a long poll or an upload their own): connecting, sending, the answer's headers and its whole
  body. A per-read socket timeout cannot stop an answer trickled out byte by byte, so one
  watchdog thread shuts the socket of an exchange down at its deadline and the blocked read
  returns at once (``DeadlineExceeded``). Every body is read up to a byte cap (``Limits``),
  refused early by its ``Content-Length``, never held whole when larger (``AnswerTooLarge``);
  error pages are read as a short excerpt. Streams (MJPEG, recordings) are read chunk by chunk,
  each chunk within ``Timeouts.total`` (``StreamedAnswer``).
* Error mapping: connection problems become ``Unreachable``/``Timeout``, HTTP status problems
  ``AuthFailed``/``InsufficientPrivilege``/``ApiNotSupported``/``NotAxisDevice``/
  ``UnexpectedResponse``. No exception of ``requests``/``urllib3``/``ssl`` leaves this module.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import heapq
import hmac
import http.client
import itertools
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from devices.vapix.errors import (
    AnswerTooLarge,
    ApiNotSupported,
    AuthFailed,
    CertificateMismatch,
    DeadlineExceeded,
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
Watch = Callable[[socket.socket], None]

KIB = 1024
MIB = 1024 * KIB
READ_CHUNK_SIZE = 64 * KIB
# Error pages are kept only as an excerpt for logs (UnexpectedResponse.body keeps 500 chars).
ERROR_EXCERPT_BYTES = 64 * KIB


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait (VAPIX.md §15.1): connect, ordinary calls, probes and uploads.

    ``connect``, ``read`` and ``probe`` bound each wait on the socket; ``total`` is the deadline
    of a whole exchange (connect, send, headers and the full body; the challenge round of
    Digest included) and of each chunk of a stream. A long poll gets ``connect`` plus its read
    timeout when that is longer; an upload gets ``upload_deadline(size)``.
    """

    connect: float = 5.0
    read: float = 15.0
    probe: float = 5.0
    upload_minimum: float = 120.0
    upload_maximum: float = 1200.0
    upload_bytes_per_second: float = 1_000_000.0
    total: float = 30.0

    def for_upload(self, size: int) -> float:
        """Return the read timeout for an upload of ``size`` bytes (size / 1 MB/s + 120 s)."""
        return min(self.upload_minimum + size / self.upload_bytes_per_second, self.upload_maximum)

    def upload_deadline(self, size: int) -> float:
        """Return the deadline of a whole upload of ``size`` bytes: connect plus the budget."""
        return self.connect + self.for_upload(size)


@dataclass(frozen=True)
class Limits:
    """Largest answers the client reads, in bytes; anything larger raises ``AnswerTooLarge``.

    JSON and text answers of real devices stay below 40 KB (a full param.cgi list); a 4K JPEG
    is a few MB. ``frame`` caps each MJPEG part, ``recording`` one export.
    """

    json: int = 1 * MIB
    text: int = 1 * MIB
    snapshot: int = 32 * MIB
    frame: int = 16 * MIB
    recording: int = 16 * 1024 * MIB


class _Exchange:
    """One exchange's deadline and the socket it runs on, as the watchdog sees them."""

    __slots__ = ("deadline", "expired", "finished", "sock")

    def __init__(self, deadline: float, sock: socket.socket | None = None) -> None:
        self.deadline = deadline
        self.sock = sock
        self.expired = False
        self.finished = False


def _cut(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for TLS: SSLSocket.shutdown would drop its SSL object
    # under the thread that is reading. An already closed socket needs nothing.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread that cuts the connections of exchanges past their deadline.

    Arming and finishing cost a heap push and a lock; finished exchanges leave the heap at
    their deadline, or all at once when they are more than half of it.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._heap: list[tuple[float, int, _Exchange]] = []
        self._finished = 0
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, exchange: _Exchange) -> None:
        """Start watching ``exchange``; its socket is cut when the deadline passes."""
        with self._condition:
            if self._finished > 1024 and self._finished * 2 > len(self._heap):
                self._heap = [entry for entry in self._heap if not entry[2].finished]
                heapq.heapify(self._heap)
                self._finished = 0
            heapq.heappush(self._heap, (exchange.deadline, next(self._order), exchange))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="vapix-deadlines", daemon=True
                )
                self._thread.start()
            elif self._heap[0][2] is exchange:
                self._condition.notify()

    def attach(self, exchange: _Exchange, sock: socket.socket) -> None:
        """Record the socket an exchange runs on (cut at once when already expired)."""
        with self._condition:
            exchange.sock = sock
            if exchange.expired and not exchange.finished:
                _cut(sock)

    def finish(self, exchange: _Exchange) -> None:
        """Stop watching ``exchange``; its socket is left alone from now on."""
        with self._condition:
            if not exchange.finished:
                exchange.finished = True
                exchange.sock = None
                if not exchange.expired:  # an expired one has left the heap already
                    self._finished += 1

    def _run(self) -> None:
        with self._condition:
            while True:
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    _, _, exchange = heapq.heappop(self._heap)
                    if exchange.finished:
                        self._finished -= 1
                        continue
                    exchange.expired = True
                    if exchange.sock is not None:
                        _cut(exchange.sock)
                self._condition.wait(self._heap[0][0] - now if self._heap else None)

    def reset_after_fork(self) -> None:
        """Forget the parent's thread and lock (a forked worker starts its own)."""
        self._condition = threading.Condition()
        self._heap = []
        self._finished = 0
        self._thread = None


_WATCHDOG = _Watchdog()
os.register_at_fork(after_in_child=_WATCHDOG.reset_after_fork)


def _size(limit: int) -> str:
    return f"{limit // MIB} MiB" if limit >= MIB and limit % MIB == 0 else f"{limit} bytes"


def _too_large(what: str, limit: int) -> AnswerTooLarge:
    return AnswerTooLarge(
        f"{what}: the answer is larger than the {_size(limit)} this call reads", limit=limit
    )


def _deadline_exceeded(what: str, seconds: float) -> DeadlineExceeded:
    return DeadlineExceeded(f"{what}: no complete answer within {seconds:g} s")


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


def _pool_classes(watch: Watch, fingerprint: str | None) -> dict[str, type[HTTPConnectionPool]]:
    """Return pool classes whose connections report their socket to ``watch``.

    With a ``fingerprint``, HTTPS connections accept only the pinned certificate.
    """

    class WatchedHTTPConnection(HTTPConnection):
        """A connection whose socket the exchange's deadline can cut."""

        def connect(self) -> None:
            super().connect()
            if self.sock is not None:
                watch(self.sock)

        def request(self, *args: Any, **kwargs: Any) -> None:
            if self.sock is not None:  # a kept-alive connection: connect() is not called
                watch(self.sock)
            super().request(*args, **kwargs)

    class WatchedHTTPSConnection(WatchedHTTPConnection, HTTPSConnection):
        """An HTTPS connection whose socket the exchange's deadline can cut."""

    class PinnedHTTPSConnection(WatchedHTTPSConnection):
        """An HTTPS connection that refuses any certificate but the pinned one."""

        def connect(self) -> None:
            super().connect()
            der = self.sock.getpeercert(binary_form=True) if self.sock else None  # type: ignore[union-attr]
            presented = certificate_fingerprint(der) if der else ""
            if not hmac.compare_digest(presented, fingerprint or ""):
                self.close()
                raise CertificateMismatch(
                    f"{self.host}:{self.port} presented a certificate that is not the pinned one",
                    expected=fingerprint or "",
                    presented=presented,
                )
            # Checked against the pin, which is stronger than a CA chain for this one device.
            self.is_verified = True

    class WatchedHTTPConnectionPool(HTTPConnectionPool):
        ConnectionCls = WatchedHTTPConnection

    class WatchedHTTPSConnectionPool(HTTPSConnectionPool):
        ConnectionCls = PinnedHTTPSConnection if fingerprint else WatchedHTTPSConnection

    return {"http": WatchedHTTPConnectionPool, "https": WatchedHTTPSConnectionPool}


class DeviceAdapter(HTTPAdapter):
    """A transport adapter for one device: no retries, deadlines, optional certificate pin.

    With a ``fingerprint``, the device certificate is checked against the SHA-256 pin when the
    TLS connection is set up, before the request is written, so credentials never reach a
    device that presents another certificate.
    """

    def __init__(self, *, watch: Watch, fingerprint: str | None = None) -> None:
        self.fingerprint = normalize_fingerprint(fingerprint) if fingerprint is not None else None
        self._watch = watch
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        if self.fingerprint is not None:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            kwargs["ssl_context"] = context
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self._watch, self.fingerprint)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        # With a pin, CA verification is replaced by it; requests must not switch it back on.
        pinned = self.fingerprint is not None
        super().cert_verify(conn, url, False if pinned else verify, cert)  # type: ignore[no-untyped-call]


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
        limits: Limits | None = None,
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
        self.limits = limits or Limits()
        self._exchange: _Exchange | None = None
        self.session = requests.Session()
        # Device traffic must not take a proxy or .netrc credentials from the environment.
        self.session.trust_env = False
        self.session.headers["User-Agent"] = USER_AGENT
        # A compressed answer could expand far beyond the byte caps before they are checked.
        self.session.headers["Accept-Encoding"] = "identity"
        pin = tls_fingerprint if scheme == "https" else None
        adapter = DeviceAdapter(watch=self._watch_socket, fingerprint=pin)
        self.session.mount(f"{self.base_url}/", adapter)
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

    def _watch_socket(self, sock: socket.socket) -> None:
        if self._exchange is not None:
            _WATCHDOG.attach(self._exchange, sock)

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
        deadline: float | None = None,
        limit: int | None = None,
        classify_missing: bool = True,
        plain_401_is_answer: bool = False,
    ) -> requests.Response:
        """Send one request and return its 2xx response, authenticating as the device asks.

        The body is read in full, at most ``limit`` bytes (default ``Limits.text``), within
        ``deadline`` seconds from now for the whole exchange (default ``Timeouts.total``, or
        connect plus ``read_timeout`` when that is longer). ``body_factory`` builds a fresh
        streamed body for each attempt (an attempt is repeated only after a 401).
        ``send_timeout`` (default: the connect timeout) bounds connecting and each wait while
        the body goes out; urllib3 uses one value for both. ``plain_401_is_answer`` returns a
        401 that carries no challenge as the answer (pwdgrp.cgi reports initial-admin errors
        that way). Raises a ``VapixError`` for every failure.
        """
        response, _ = self._exchange_with(
            method,
            path,
            params=params,
            data=data,
            body_factory=body_factory,
            headers=headers,
            read_timeout=read_timeout,
            send_timeout=send_timeout,
            deadline=deadline,
            limit=self.limits.text if limit is None else limit,
            classify_missing=classify_missing,
            plain_401_is_answer=plain_401_is_answer,
        )
        return response

    def open_stream(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None
    ) -> StreamedAnswer:
        """Send one request and return its 2xx answer with the body still to be read.

        The headers must arrive within ``Timeouts.total``, and so must each chunk later.
        """
        response, sock = self._exchange_with(method, path, params=params, limit=None)
        what = f"{method} {path} on {self.host}:{self.port}"
        return StreamedAnswer(response, sock, what=what, chunk_deadline=self.timeouts.total)

    def _exchange_with(
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
        deadline: float | None = None,
        limit: int | None,
        classify_missing: bool = True,
        plain_401_is_answer: bool = False,
    ) -> tuple[requests.Response, socket.socket | None]:
        """Run the exchange; ``limit=None`` leaves a 2xx body unread for a stream."""
        url = self.base_url + path
        what = f"{method} {path} on {self.host}:{self.port}"
        connect = send_timeout or self.timeouts.connect
        timeout = (connect, read_timeout or self.timeouts.read)
        if deadline is None:
            deadline = self.timeouts.total
            if read_timeout is not None:  # a long poll waits longer than an ordinary call
                deadline = max(deadline, connect + read_timeout)
        ends = time.monotonic() + deadline
        sent_with: str | None = None
        sock: socket.socket | None = None
        for attempt in range(3):
            body = body_factory() if body_factory is not None else data
            exchange = _Exchange(ends)
            self._exchange = exchange
            _WATCHDOG.watch(exchange)
            try:
                request = requests.Request(method, url, params=params, data=body, headers=headers)
                prepared = self.session.prepare_request(request)
                authorization = self._auth.header(method, prepared.url or url)
                if authorization:
                    prepared.headers["Authorization"] = authorization
                challenge = self._auth.challenge
                sent_with = challenge.params.get("nonce") if challenge else None
                response = self.session.send(
                    prepared, timeout=timeout, stream=True, allow_redirects=False
                )
                sock = exchange.sock
                if not 200 <= response.status_code < 300:
                    _read_body(
                        response,
                        ERROR_EXCERPT_BYTES,
                        exchange,
                        what,
                        seconds=deadline,
                        excerpt=True,
                    )
                elif limit is not None:
                    _read_body(response, limit, exchange, what, seconds=deadline)
            except VapixError:
                raise
            except Exception as error:  # every transport failure is mapped
                if exchange.expired:
                    raise _deadline_exceeded(what, deadline) from error
                raise map_transport_error(error, what) from error
            finally:
                _WATCHDOG.finish(exchange)
                self._exchange = None
                close = getattr(body, "close", None)
                if close is not None:
                    close()
            if response.status_code != 401:
                break
            challenges = self._note_challenges(response)
            if not challenges and plain_401_is_answer:
                return response, sock
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
        checked = self._check_status(response, what, path, classify_missing=classify_missing)
        return checked, sock

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


def _read_body(
    response: requests.Response,
    limit: int,
    exchange: _Exchange,
    what: str,
    *,
    seconds: float,
    excerpt: bool = False,
) -> None:
    """Read a body into ``response.content``: at most ``limit`` bytes, before the deadline.

    A larger body raises ``AnswerTooLarge``; with ``excerpt`` its first ``limit`` bytes are
    kept instead (error pages, which matter only for logs).
    """
    declared = response.headers.get("Content-Length", "").strip()
    if not excerpt and declared.isdecimal() and int(declared) > limit:
        response.close()
        raise _too_large(what, limit)
    body = bytearray()
    for chunk in response.iter_content(READ_CHUNK_SIZE):
        body += chunk
        if len(body) > limit:
            response.close()
            if not excerpt:
                raise _too_large(what, limit)
            del body[limit:]
            break
        if exchange.expired:  # cut between two reads: the body may look complete
            break
    if exchange.expired:
        response.close()
        raise _deadline_exceeded(what, seconds)
    response._content = bytes(body)


class StreamedAnswer:
    """A 2xx answer whose body is read piece by piece, each piece within its own deadline."""

    def __init__(
        self,
        response: requests.Response,
        sock: socket.socket | None,
        *,
        what: str,
        chunk_deadline: float,
    ) -> None:
        self.response = response
        self.what = what
        self._sock = sock
        self._chunk_deadline = chunk_deadline

    @property
    def headers(self) -> Mapping[str, str]:
        return self.response.headers

    @property
    def content_type(self) -> str:
        """Return the media type, lower-case, without parameters."""
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def chunks(self, size: int = READ_CHUNK_SIZE) -> Iterator[bytes]:
        """Yield the body in chunks of ``size`` bytes; each must arrive within the deadline."""
        source = self.response.iter_content(size)
        while True:
            exchange = _Exchange(time.monotonic() + self._chunk_deadline, self._sock)
            _WATCHDOG.watch(exchange)
            try:
                chunk = next(source, None)
            except Exception as error:  # every transport failure is mapped
                if exchange.expired:
                    raise _deadline_exceeded(self.what, self._chunk_deadline) from error
                raise map_transport_error(error, self.what) from error
            finally:
                _WATCHDOG.finish(exchange)
            if exchange.expired:
                raise _deadline_exceeded(self.what, self._chunk_deadline)
            if chunk is None:
                return
            if chunk:
                yield chunk

    def read_text(self, limit: int) -> str:
        """Return the whole body as text (an error answer), at most ``limit`` bytes."""
        body = bytearray()
        for chunk in self.chunks():
            body += chunk
            if len(body) > limit:
                raise _too_large(self.what, limit)
        self.response._content = bytes(body)
        return response_text(self.response)

    def close(self) -> None:
        self.response.close()


def wait(seconds: float) -> None:
    """Sleep; a separate name so the upgrade helper's pauses are easy to find and to speed up."""
    time.sleep(seconds)
