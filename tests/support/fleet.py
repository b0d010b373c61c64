"""Fixtures for every test that needs cameras: a fleet of simulated Axis cameras on loopback.

``camera_fleet`` (session scope) starts six cameras once, in a background thread, with a time
scale of 0.005: an upgrade's verify/reboot/boot cycle takes about half a second and a one-minute
auto-rollback timer fires after 0.3 s. ``clean_camera_fleet`` (function scope) gives the same
fleet reset to its initial state — firmware, users, passwords, faults and knobs — so every test
starts from known cameras. Both return a ``devices.simulator.fleet.FleetThread``:

    def test_something(clean_camera_fleet):
        camera = clean_camera_fleet.by_product("P3265-V")   # or .cameras[i], .camera(serial)
        url = camera.base_url                               # http://127.0.0.1:<port>
        auth = HTTPDigestAuth(camera.username, camera.password)   # root, admin password
        # also camera.operator_password / camera.viewer_password for users
        # "operator" (operator:viewer) and "viewer" (viewer only)
        clean_camera_fleet.set_fault(camera.serial, "slow-link", 20000)
        clean_camera_fleet.set_knobs(camera.serial, privilege_status=403)
        clean_camera_fleet.power_cycle(camera.serial)
        clean_camera_fleet.wait_for(camera.serial, lambda s: s["phase"] == "running")
        clean_camera_fleet.clear_faults()

Cameras, in order (``SIMULATED_PRODUCTS``): P3265-V on AXIS OS 12.11 (LTS 2026), M1075-L on 11.11,
Q6135-LE (PTZ) on the active 12.x track, M3066-V on 10.12 (no bootid, apidiscovery needs auth),
M1065-LW on 9.80 (old model on LTS 2020) and M3024-L on 5.51 (legacy: no JSON APIs). Fault
names are listed in ``devices.simulator.faults.FAULTS``; the control API URL is
``camera_fleet.control_url``. Every camera also serves HTTPS (``camera.https_url``) with its own
self-signed certificate whose SHA-256 fingerprint is ``camera.certificate_sha256``;
``camera_fleet.regenerate_certificate(serial)`` replaces it (a pinned client must then refuse).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from requests.auth import HTTPDigestAuth

from devices.simulator.fleet import CameraInfo, FleetThread, run_in_thread

SIMULATED_PRODUCTS = ["P3265-V", "M1075-L", "Q6135-LE", "M3066-V", "M1065-LW", "M3024-L"]
TIME_SCALE = 0.005


@pytest.fixture(scope="session")
def camera_fleet() -> Iterator[FleetThread]:
    """Start six simulated cameras (one per product above) for the whole test session."""
    handle = run_in_thread(
        count=len(SIMULATED_PRODUCTS),
        seed=6,
        time_scale=TIME_SCALE,
        products=SIMULATED_PRODUCTS,
        control_port=0,
        https=True,
    )
    yield handle
    handle.stop()


@pytest.fixture
def clean_camera_fleet(camera_fleet: FleetThread) -> FleetThread:
    """Return the session fleet with every camera reset to its initial state and no faults."""
    camera_fleet.reset()
    return camera_fleet


def add_admin_account(camera: CameraInfo, name: str, password: str) -> None:
    """Add another administrator account to a camera, as its own web page does (pwdgrp.cgi)."""
    answer = requests.post(
        camera.base_url + "/axis-cgi/pwdgrp.cgi",
        data={
            "action": "add",
            "user": name,
            "pwd": password,
            "grp": "users",
            "sgrp": "admin:operator:viewer:ptz",
            "strict_pwd": "1",
        },
        auth=HTTPDigestAuth(camera.username, camera.password),
        timeout=10,
    )
    assert f"Created account {name}" in answer.text, answer.text
