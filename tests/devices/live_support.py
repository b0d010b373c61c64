"""Fixtures of the live view, control and recordings tests: simulated cameras as devices."""

import time

import pytest
from django.core.cache import cache
from django.core.signals import request_finished
from django.db import close_old_connections

from devices.models import Device
from devices.vapix.streams import iter_mjpeg_frames
from tests.devices.factories import DeviceFactory


@pytest.fixture
def fresh_cache():
    """An empty cache: stream slots and cached resolutions from other tests are gone."""
    cache.clear()
    yield
    cache.clear()


def device_for(camera, folder, **fields) -> Device:
    """Store a simulated camera as a device of `folder`'s organization (HTTP, root account)."""
    return DeviceFactory(
        folder=folder,
        serial_number=camera.serial,
        product_number=camera.product_number,
        product_name=f"AXIS {camera.product_number}",
        has_ptz=camera.has_ptz,
        host=camera.host,
        port=camera.port,
        username=camera.username,
        password=camera.password,
        **fields,
    )


def frames_of(response, count):
    """Return `count` JPEGs parsed from a streaming answer (without reading it to the end)."""
    boundary = response["Content-Type"].split("boundary=")[1]
    frames = iter_mjpeg_frames(iter(response.streaming_content), boundary)
    return [next(frames).jpeg for _ in range(count)]


def leave(response):
    """Close a streaming answer the way the WSGI server does when the viewer goes away.

    (As the test client does: without closing the test's database connection on the way.)
    """
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def wait_for_no_streams(fleet, serial, timeout=5.0):
    deadline = time.monotonic() + timeout
    while fleet.open_streams(serial) and time.monotonic() < deadline:
        time.sleep(0.02)
    return fleet.open_streams(serial)
