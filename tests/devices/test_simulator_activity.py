"""The simulator's upgrade counters: what the devices saw, for limit and once-only checks.

Plain tests over real HTTP (no database), like test_simulator.py, whose helpers they reuse.
"""

from __future__ import annotations

import argparse
import contextlib
import threading

import pytest
import requests

from devices.simulator.camera import Timing
from devices.simulator.cli import add_arguments, parse_timing, product_numbers, validate
from devices.simulator.firmware import build_image
from devices.simulator.fleet import FleetThread
from tests.devices.test_simulator import (
    next_version,
    session_for,
    status,
    systemready,
    upgrade,
    wait_for_new_boot,
    wait_until,
)


def test_one_upgrade_counts_one_install_and_ends_after_the_boot(
    clean_camera_fleet: FleetThread,
) -> None:
    fleet = clean_camera_fleet
    fleet.clear_activity()
    camera = fleet.by_product("P3265-V")
    boot_id = systemready(camera)["bootid"]
    target = next_version(camera)
    answer = upgrade(session_for(camera), camera, build_image(camera.product_number, target, 1000))
    assert answer.json()["data"]["firmwareVersion"] == target
    assert fleet.activity()["upgrades"]["now"] == 1  # rebooting into the new image
    wait_for_new_boot(camera, boot_id)
    activity = fleet.activity()
    assert activity["installs"] == {camera.serial: 1}
    assert activity["uploads"] == {"now": 0, "peak": 1}
    assert activity["upgrades"] == {"now": 0, "peak": 1}
    assert fleet.state(camera.serial)["installs"] == 1


def test_a_refused_image_installs_nothing_and_ends_its_upgrade_at_once(
    clean_camera_fleet: FleetThread,
) -> None:
    fleet = clean_camera_fleet
    fleet.clear_activity()
    camera = fleet.by_product("P3265-V")
    wrong_model = build_image("M1075-L", next_version(camera), 1000)
    assert upgrade(session_for(camera), camera, wrong_model).json()["error"]["code"] == 421
    activity = fleet.activity()
    assert activity["installs"] == {}
    assert activity["upgrades"] == {"now": 0, "peak": 1}


def test_peaks_count_simultaneous_uploads_across_the_fleet(clean_camera_fleet: FleetThread) -> None:
    fleet = clean_camera_fleet
    modern = [fleet.by_product(number) for number in ("P3265-V", "M1075-L", "Q6135-LE")]
    for camera in modern:
        fleet.set_fault(camera.serial, "slow-link", 200_000)  # ~0.2 s per upload: they overlap
        status(session_for(camera), camera)  # primes the nonce: the upload is sent once
    fleet.clear_activity()
    answers: list[requests.Response] = []
    threads = [
        threading.Thread(
            target=lambda c=camera: answers.append(
                upgrade(session_for(c), c, build_image(c.product_number, next_version(c), 40_000))
            )
        )
        for camera in modern
    ]
    for thread in threads:
        thread.start()
    wait_until(lambda: fleet.activity()["uploads"]["now"] == len(modern))
    for thread in threads:
        thread.join()
    assert all(answer.json().get("data") for answer in answers)
    activity = fleet.activity()
    assert activity["uploads"]["peak"] == activity["upgrades"]["peak"] == len(modern)
    wait_until(lambda: fleet.activity()["upgrades"]["now"] == 0)
    assert fleet.activity()["installs"] == {camera.serial: 1 for camera in modern}


def test_a_power_cut_during_the_upload_installs_nothing(clean_camera_fleet: FleetThread) -> None:
    fleet = clean_camera_fleet
    camera = fleet.by_product("P3265-V")
    fleet.set_fault(camera.serial, "upload-stall", 50)
    session = session_for(camera)
    status(session, camera)
    fleet.clear_activity()
    image = build_image(camera.product_number, next_version(camera), 40_000)
    thread = threading.Thread(target=lambda: _upgrade_losing_power(session, camera, image))
    thread.start()
    wait_until(lambda: fleet.state(camera.serial)["fwmgr_busy"] == "receiving")
    fleet.power_cycle(camera.serial)
    thread.join()
    wait_until(lambda: fleet.activity()["upgrades"]["now"] == 0)
    activity = fleet.activity()
    assert activity["installs"] == {}
    assert activity["uploads"]["now"] == 0


def test_the_control_api_shows_and_clears_the_counters(clean_camera_fleet: FleetThread) -> None:
    fleet = clean_camera_fleet
    camera = fleet.by_product("P3265-V")
    boot_id = systemready(camera)["bootid"]
    upgrade(session_for(camera), camera, build_image(camera.product_number, next_version(camera)))
    wait_for_new_boot(camera, boot_id)
    shown = requests.get(f"{fleet.control_url}/activity", timeout=5).json()
    assert shown["installs"][camera.serial] >= 1
    cleared = requests.delete(f"{fleet.control_url}/activity", timeout=5).json()
    assert cleared == {
        "uploads": {"now": 0, "peak": 0},
        "upgrades": {"now": 0, "peak": 0},
        "installs": {},
    }


def _upgrade_losing_power(session: requests.Session, camera, image: bytes) -> None:
    # The camera loses power mid-request: no answer is expected.
    with contextlib.suppress(requests.RequestException):
        upgrade(session, camera, image)


def test_the_command_line_sets_the_upgrade_cycle_times() -> None:
    assert parse_timing("down=10,boot=10") == Timing(verify=10, pre_reboot=5, down=10, boot=10)
    assert parse_timing("") == Timing()
    for spec, message in [
        ("reboot=3", "unknown timing 'reboot'"),
        ("down=soon", "needs a number of seconds"),
        ("boot=-1", "cannot be negative"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_timing(spec)


def test_the_command_line_pins_product_numbers_and_names_unknown_ones(tmp_path) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    good = parser.parse_args(["--count", "3", "--products", "P3265-V, M1075-L"])
    assert validate(good) is None
    assert product_numbers(good) == ["P3265-V", "M1075-L"]
    bad = parser.parse_args(["--count", "3", "--products", "P3265-V,X-1"])
    assert validate(bad).startswith("--products: unknown X-1; known: ")
    assert validate(parser.parse_args(["--count", "3", "--timing", "down=x"])).startswith(
        "--timing: timing 'down' needs a number"
    )
