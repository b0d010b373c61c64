"""Firmware images of each test go to its own folder."""

import pytest


@pytest.fixture(autouse=True)
def firmware_root(settings, tmp_path):
    settings.FIRMWARE_STORAGE = ""
    settings.FIRMWARE_ROOT = tmp_path / "firmware"
    return settings.FIRMWARE_ROOT
