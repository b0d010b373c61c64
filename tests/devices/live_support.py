"""Fixtures of the live view, control and recordings tests: simulated cameras as devices."""

import pytest
from django.core.cache import cache

from devices.models import Device
from tests.devices.factories import DeviceFactory


@pytest.fixture
def device_pages(settings):
    """Render device pages even before the device list area's routes are merged."""
    settings.ROOT_URLCONF = "tests.devices.live_urls"


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
        has_ptz=camera.has_ptz,
        host=camera.host,
        port=camera.port,
        username=camera.username,
        password=camera.password,
        **fields,
    )
