"""The VAPIX client against a hostile device: huge, endless, trickled and pathological answers.

A tiny threaded socket server on 127.0.0.1 plays the device. Every test asserts a typed error,
within the call's deadline (wall time measured), with memory far below what the device sends.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devices.vapix import (
    AnswerTooLarge,
    DeadlineExceeded,
    Limits,
    Recording,
    Timeout,
    Timeouts,
    UnexpectedResponse,
    VapixClient,
    VapixError,
    parsing,
    transport,
)

MIB = 1024 * 1024
# Per-read timeout 3 s, as in the reproduction; the whole exchange may take 2 s.
HOSTILE = Timeouts(connect=1.0, read=3.0, probe=1.0, total=2.0)
# Deadline plus slack for a loaded machine: still far below the 11 s of a trickled 22 bytes.
WITHIN = HOSTILE.total + 1.5

# Linear parsers take milliseconds for these inputs; the quadratic ones took 20 to 80 s.
LINEAR = 1.0

Play = Callable[[socket.socket, bytes], None]


class _Handler(socketserver.BaseRequestHandler):
    server: _HostileServer

    def handle(self) -> None:
        self.request.settimeout(10)
        request = b""
        try:
            while b"\r\n\r\n" not in request:
                data = self.request.recv(65536)
                if not data:
                    return
                request += data
            head, _, body = request.partition(b"\r\n\r\n")
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    while len(body) < int(value):
                        body += self.request.recv(65536)
            self.server.play(self.request, head.split(b"\r\n")[0])
        except OSError:
            pass  # the client gave up, which is the point


class _HostileServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.play: Play = lambda connection, request_line: None


@pytest.fixture
def device() -> Iterator[_HostileServer]:
    server = _HostileServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def client(device: _HostileServer) -> Iterator[VapixClient]:
    # Default retries on purpose: an exceeded deadline or a too large answer is not retried.
    with VapixClient(
        "127.0.0.1",
        username="root",
        password="pass",
        port=device.server_address[1],
        timeouts=HOSTILE,
    ) as made:
        yield made


def _head(content_type: str, *, length: int | None = None) -> bytes:
    # One request per connection: the server answers and hangs up.
    size = f"Content-Length: {length}\r\n" if length is not None else ""
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n{size}Connection: close\r\n\r\n"
    ).encode()


def _endless(connection: socket.socket, piece: bytes, total: int = 160 * MIB) -> None:
    """Send ``piece`` again and again, ``total`` bytes or until the client hangs up.

    Bounded, so that a client without caps fails the test instead of exhausting the machine.
    """
    sent = 0
    while sent < total:
        connection.sendall(piece)
        sent += len(piece)


def _trickle(connection: socket.socket, data: bytes, pause: float = 0.5) -> None:
    for byte in data:
        connection.sendall(bytes([byte]))
        time.sleep(pause)


def _measure(
    call: Callable[[], Any], *, trace_memory: bool = True
) -> tuple[BaseException, float, int]:
    """Run ``call``, expecting a ``VapixError``; return it, the seconds taken and peak bytes."""
    if trace_memory:
        tracemalloc.start()
    started = time.monotonic()
    try:
        call()
    except VapixError as error:
        caught: BaseException = error
    else:
        caught = AssertionError("the call returned instead of raising a VapixError")
    finally:
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
        if trace_memory:
            tracemalloc.stop()
    return caught, elapsed, peak


# --- size caps ---------------------------------------------------------------------------------


def test_a_huge_declared_json_answer_is_refused_before_it_is_read(device, client):
    size = 400 * MIB
    chunk = b" " * MIB
    device.play = lambda c, _: (
        c.sendall(_head("application/json", length=size)),
        _endless(c, chunk, size),
    )

    error, elapsed, peak = _measure(client.get_device_info)

    assert isinstance(error, AnswerTooLarge), error
    assert "larger than" in str(error)
    assert elapsed < WITHIN
    assert peak < 4 * MIB


def test_a_json_answer_without_length_is_cut_at_the_cap(device, client):
    chunk = b" " * (64 * 1024)
    device.play = lambda c, _: (c.sendall(_head("application/json")), _endless(c, chunk))

    error, elapsed, peak = _measure(client.get_device_info)

    assert isinstance(error, AnswerTooLarge), error
    assert elapsed < WITHIN
    assert peak < 4 * Limits().json


def test_a_huge_snapshot_without_length_is_cut_at_the_snapshot_cap(device, client):
    chunk = b"\xff\xd8\xff" + b"\0" * (MIB - 3)
    device.play = lambda c, _: (c.sendall(_head("image/jpeg")), _endless(c, chunk, 128 * MIB))

    error, elapsed, peak = _measure(client.snapshot)

    assert isinstance(error, AnswerTooLarge), error
    assert elapsed < WITHIN + 2  # 32 MiB go through before the cap is reached
    assert peak < 3 * Limits().snapshot
    assert peak < 128 * MIB / 2


def test_a_snapshot_below_the_cap_still_arrives(device, client):
    jpeg = b"\xff\xd8\xff" + b"\0" * (5 * MIB)
    device.play = lambda c, _: c.sendall(_head("image/jpeg", length=len(jpeg)) + jpeg)

    assert client.snapshot() == jpeg


def test_a_huge_error_page_is_read_only_as_an_excerpt(device, client):
    head = b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\nConnection: close\r\n"
    device.play = lambda c, _: (c.sendall(head + b"\r\n"), _endless(c, b"x" * 65536))

    error, elapsed, peak = _measure(lambda: client.list_parameters("root.Brand"))

    assert isinstance(error, UnexpectedResponse), error
    assert error.status == 500
    assert elapsed < WITHIN
    assert peak < 4 * MIB


def test_an_endless_mjpeg_frame_without_boundary_is_cut_at_the_frame_cap(device, client):
    stream = (
        b"HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=myboundary\r\n"
        b"Connection: close\r\n\r\n--myboundary\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff"
    )
    device.play = lambda c, _: (c.sendall(stream), _endless(c, b"\0" * 65536))

    error, elapsed, peak = _measure(lambda: list(client.mjpeg_frames()))

    assert isinstance(error, AnswerTooLarge), error
    assert "frame" in str(error)
    assert elapsed < WITHIN + 2
    assert peak < 3 * Limits().frame


def test_endless_part_headers_are_cut_too(device, client):
    stream = (
        b"HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=myboundary\r\n"
        b"Connection: close\r\n\r\n--myboundary\r\nX-Padding: "
    )
    device.play = lambda c, _: (c.sendall(stream), _endless(c, b"y" * 65536))

    error, elapsed, peak = _measure(lambda: list(client.mjpeg_frames()))

    assert isinstance(error, UnexpectedResponse), error
    assert elapsed < WITHIN
    assert peak < 4 * MIB


def test_an_endless_recording_export_stops_at_the_recording_cap(device):
    device.play = lambda c, _: (
        c.sendall(_head("video/x-matroska")),
        _endless(c, b"\x1a" * 65536),
    )
    recording = Recording(
        recording_id="r1",
        disk_id="SD_DISK",
        start_time=None,
        stop_time=None,
    )
    limits = Limits(recording=8 * MIB)
    with VapixClient(
        "127.0.0.1",
        username="root",
        password="pass",
        port=device.server_address[1],
        timeouts=HOSTILE,
        limits=limits,
    ) as capped:
        error, elapsed, peak = _measure(lambda: sum(map(len, capped.export_recording(recording))))

    assert isinstance(error, AnswerTooLarge), error
    assert elapsed < WITHIN
    assert peak < 4 * MIB


# --- deadlines ---------------------------------------------------------------------------------


def test_a_trickled_answer_hits_the_deadline_not_the_read_timeout(device, client):
    body = b'{"apiVersion": "1.0"}\n'  # 22 bytes, one every 0.5 s: 11 s
    device.play = lambda c, _: (
        c.sendall(_head("application/json", length=len(body))),
        _trickle(c, body),
    )

    error, elapsed, _ = _measure(client.get_device_info)

    assert isinstance(error, DeadlineExceeded), error
    assert isinstance(error, Timeout)  # callers that handle timeouts keep working
    assert "2 s" in str(error)
    assert elapsed < WITHIN


def test_trickled_headers_hit_the_deadline(device, client):
    device.play = lambda c, _: (c.sendall(b"HTTP/1.1 200 OK\r\n"), _trickle(c, b"X" * 100, 0.2))

    error, elapsed, _ = _measure(lambda: client.list_parameters("root.Brand"))

    assert isinstance(error, DeadlineExceeded), error
    assert elapsed < WITHIN


def test_a_trickled_snapshot_hits_the_deadline(device, client):
    jpeg = b"\xff\xd8\xff" + b"\0" * 40
    device.play = lambda c, _: (
        c.sendall(_head("image/jpeg", length=len(jpeg))),
        _trickle(c, jpeg, 0.2),
    )

    error, elapsed, _ = _measure(client.snapshot)

    assert isinstance(error, DeadlineExceeded), error
    assert elapsed < WITHIN


def test_a_trickled_mjpeg_frame_hits_the_frame_deadline(device, client):
    stream = (
        b"HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=myboundary\r\n"
        b"Connection: close\r\n\r\n--myboundary\r\nContent-Type: image/jpeg\r\n"
        b"Content-Length: 100\r\n\r\n"
    )
    device.play = lambda c, _: (c.sendall(stream), _trickle(c, b"\xff\xd8" + b"\0" * 98, 0.2))

    error, elapsed, _ = _measure(lambda: list(client.mjpeg_frames()))

    assert isinstance(error, DeadlineExceeded), error
    assert elapsed < WITHIN + HOSTILE.read


def test_the_upload_deadline_is_the_upload_budget():
    timeouts = Timeouts(connect=2.0, upload_minimum=10.0, upload_bytes_per_second=1_000_000.0)

    assert timeouts.for_upload(5_000_000) == 15.0
    assert timeouts.upload_deadline(5_000_000) == 17.0


# --- linear-time parsing -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "page",
    [
        "<title>" * 30_000,
        "<TITLE>x" * 30_000 + "</title",
        "<" * 200_000,
        "<b " * 70_000,
        "<html><body>" + "<title>a</title>" * 20_000 + "</body></html>",
    ],
    ids=["open-titles", "unclosed-titles", "open-tags", "unclosed-tags", "many-titles"],
)
def test_html_text_is_linear(page):
    started = time.monotonic()
    parsing.html_text(page)
    assert time.monotonic() - started < LINEAR


def test_html_text_keeps_its_meaning():
    page = "<html><head><TITLE>Error</TITLE></head><body><h1>Created account a&amp;b.</h1></body>"

    assert parsing.html_text(page) == "Created account a&b."
    assert parsing.html_text("a <title>x</title> b <title>y") == "a b y"
    assert parsing.html_text("1 < 2 and 3 > 2") == "1 2"
    assert parsing.html_text("tail <b") == "tail <b"
    assert parsing.html_text("a <b <c> d") == "a d"


@pytest.mark.parametrize(
    "header",
    [
        " " * 40_000 + "=",
        "Digest" + " " * 40_000 + "=",
        'Digest realm="x",' + " ," * 20_000 + "=",
        "a," * 10_000,
    ],
    ids=["spaces", "spaces-after-scheme", "empty-elements", "many-schemes"],
)
def test_www_authenticate_parsing_is_linear(header):
    started = time.monotonic()
    parsing.parse_www_authenticate(header)
    assert time.monotonic() - started < LINEAR


def test_a_pathological_pwdgrp_page_is_refused_quickly(device, client):
    ready = b'{"apiVersion": "1.0", "data": {"systemready": "yes", "needsetup": "no"}}'
    page = b"<html><body>" + b"<title>" * 100_000

    def play(connection: socket.socket, request_line: bytes) -> None:
        pwdgrp = b"pwdgrp" in request_line
        body, kind = (page, "text/html") if pwdgrp else (ready, "application/json")
        connection.sendall(_head(kind, length=len(body)) + body)

    device.play = play

    error, elapsed, _ = _measure(
        lambda: client.change_password("viewer", "a-long-passphrase-1"), trace_memory=False
    )

    assert isinstance(error, UnexpectedResponse), error
    assert elapsed < WITHIN


def test_the_watchdog_forgets_finished_exchanges():
    watchdog = transport._Watchdog()
    far = time.monotonic() + 3600  # an upload's deadline ahead of many short calls
    for _ in range(10_000):
        exchange = transport._Exchange(far)
        watchdog.watch(exchange)
        watchdog.finish(exchange)

    assert len(watchdog._heap) < 3_000


def test_the_watchdog_cuts_a_socket_at_its_deadline():
    watchdog = transport._Watchdog()
    left, right = socket.socketpair()
    with left, right:
        exchange = transport._Exchange(time.monotonic() + 0.2)
        watchdog.watch(exchange)
        watchdog.attach(exchange, left)
        left.settimeout(5)
        started = time.monotonic()

        assert left.recv(1) == b""  # shut down: the blocked read returns at once
        assert time.monotonic() - started < 2
        assert exchange.expired
