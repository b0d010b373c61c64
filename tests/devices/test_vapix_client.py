"""The VAPIX client against simulated cameras over real HTTP on loopback.

Every call, every error path and every simulator fault; the upgrade helper end to end. Servers
that are not cameras (a web server that is not an Axis device, an HTTPS server for certificate
pinning, a Basic-only server) are started here on loopback.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import http.server
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from devices.simulator.firmware import image_filename, write_image
from devices.simulator.fleet import FleetThread, run_in_thread
from devices.vapix import (
    ApiNotSupported,
    AuthFailed,
    CertificateMismatch,
    DeviceRefused,
    DeviceRole,
    FirmwareErrorCode,
    InsufficientPrivilege,
    InvalidArgument,
    JsonApiErrorCode,
    NotAxisDevice,
    TextErrorCode,
    Timeout,
    Timeouts,
    UnexpectedResponse,
    Unreachable,
    VapixClient,
    fetch_certificate_fingerprint,
)
from devices.vapix.streams import UPLOAD_CHUNK_SIZE
from devices.vapix.testing import upgrade, wait_for_restart
from devices.vapix.upgrade import (
    Outcome,
    Progress,
    Refusal,
    RestartState,
    Stage,
    UpgradeStarted,
    VersionCheck,
    check_back_online,
    commit,
    snapshot_health_check,
    start_upgrade,
    verify_version,
)

REPO = Path(__file__).resolve().parents[2]
FAST = Timeouts(connect=1.0, read=3.0, probe=1.0, upload_minimum=10.0)
POLL = 0.05


# --- helpers --------------------------------------------------------------------------------------


@pytest.fixture
def fleet(clean_camera_fleet: FleetThread) -> FleetThread:
    return clean_camera_fleet


@pytest.fixture
def connect() -> Iterator[Callable[..., VapixClient]]:
    """Return a factory of clients for simulated cameras; every client is closed afterwards."""
    clients: list[VapixClient] = []

    def make(
        camera: Any, username: str | None = None, password: str | None = None, **options: Any
    ) -> VapixClient:
        options.setdefault("retries", 0)
        options.setdefault("timeouts", FAST)
        options.setdefault("port", camera.port)
        client = VapixClient(
            camera.host,
            username=username or camera.username,
            password=password or camera.password,
            **options,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def image(tmp_path: Path) -> Callable[..., Path]:
    """Return a factory of test firmware images on disk (official names unless `name`)."""

    def make(
        product: str, version: str, *, name: str | None = None, size: int = 64_000, **fields: Any
    ) -> Path:
        path = tmp_path / (name or image_filename(product, version))
        return write_image(path, product, version, size, **fields)

    return make


def wait_back(client: VapixClient, boot_id: str | None, *, uptime: int | None = None) -> None:
    """Wait until a device restarted (new boot) and is ready again."""
    started = UpgradeStarted("", boot_id, uptime, "")
    assert (
        wait_for_restart(client, started, limit=15, poll_interval=POLL).state == RestartState.BACK
    )


def run_upgrade(client: VapixClient, path: Path, target: str | None, **options: Any) -> Any:
    options.setdefault("poll_interval", POLL)
    options.setdefault("restart_limit", 15)
    options.setdefault("commit_retry_delay", 0.05)
    return upgrade(client, path, target, **options)


# --- API discovery, device information, system ready ----------------------------------------------


def test_api_list_of_a_current_camera(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    client = connect(fleet.by_product("P3265-V"))

    api_list = client.get_api_list()

    assert api_list.has("fwmgr", major=1)
    assert api_list.versions("privacy-mask") == ["3.0", "2.4"]


def test_api_discovery_that_needs_authentication_on_lts_firmware(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    client = connect(fleet.by_product("M3066-V"))

    assert client.get_api_list().has("basic-device-info")
    assert client.transport.realm == f"AXIS_{fleet.by_product('M3066-V').serial}"


def test_supported_versions_and_negotiation(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    client = connect(fleet.by_product("P3265-V"))

    assert client.get_supported_versions("firmwaremanagement") == ["1.10"]
    assert client.negotiate_api_version("firmwaremanagement") == "1.10"
    with pytest.raises(ApiNotSupported):
        client.negotiate_api_version("systemready", major=2)
    with pytest.raises(InvalidArgument):
        client.get_supported_versions("nosuchapi")


def test_device_info_all_and_unrestricted(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("P3265-V")
    client = connect(camera)

    everything = client.get_device_info()
    anonymous = connect(camera, password="wrong-but-unused").get_unrestricted_device_info()

    assert everything.serial_number == camera.serial
    assert everything.version == camera.version
    assert everything.soc is not None
    assert anonymous.serial_number == camera.serial
    assert anonymous.soc is None


def test_selected_properties_and_an_unknown_one(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    client = connect(fleet.by_product("M1075-L"))

    assert client.get_device_properties(["ProdNbr", "Version"]) == {
        "ProdNbr": "M1075-L",
        "Version": fleet.by_product("M1075-L").version,
    }
    with pytest.raises(DeviceRefused) as caught:
        client.get_device_properties(["Nonsense"])
    assert caught.value.code == JsonApiErrorCode.INVALID_PARAMETER


def test_legacy_camera_identity_comes_from_parameters(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("M3024-L")
    client = connect(camera)

    info = client.get_unrestricted_device_info()

    assert info.product_number == "M3024-L"
    assert info.version == camera.version
    with pytest.raises(ApiNotSupported):
        client.firmware_status()
    with pytest.raises(ApiNotSupported):
        client.system_ready()


def test_system_ready_with_and_without_boot_id(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    current = connect(fleet.by_product("P3265-V")).system_ready(wait_seconds=1)
    lts = connect(fleet.by_product("M3066-V")).system_ready()

    assert current.is_ready
    assert current.boot_id is not None
    assert current.uptime is not None
    assert current.passphrase_policy == "none"
    assert lts.is_ready
    assert lts.boot_id is None


def test_any_json_api_can_be_called_generically(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    client = connect(fleet.by_product("P3265-V"))

    data, api_version = client.call_json_api("/axis-cgi/systemready.cgi", "systemready")
    with pytest.raises(DeviceRefused) as caught:
        client.call_json_api("/axis-cgi/firmwaremanagement.cgi", "bogus")
    with pytest.raises(InvalidArgument):
        client.call_json_api("/elsewhere", "x")

    assert data["systemready"] == "yes"
    assert api_version == "1.5"
    assert caught.value.code == FirmwareErrorCode.UNKNOWN_METHOD


def test_applications_list_reads_the_simulated_cameras(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    # The simulator serves applications/list.cgi since issue 10 (it answered 404 before).
    applications = connect(fleet.by_product("P3265-V")).list_applications()

    assert [(a.name, a.status) for a in applications] == [("recorderagent", "Running")]
    assert connect(fleet.by_product("M3024-L")).list_applications() == []


# --- parameters -----------------------------------------------------------------------------------


def test_parameters_list_and_update(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("P3265-V")
    client = connect(camera)

    before = client.list_parameters("root.Brand", "Network.SSH.Enabled")
    client.update_parameters({"Network.SSH.Enabled": "yes"})
    after = client.list_parameters("Network.SSH")

    assert before.get("Brand.ProdNbr") == "P3265-V"
    assert before.get("Network.SSH.Enabled") == "no"
    assert after.get("Network.SSH.Enabled") == "yes"


def test_parameter_update_refused(fleet: FleetThread, connect: Callable[..., VapixClient]) -> None:
    client = connect(fleet.by_product("P3265-V"))

    with pytest.raises(DeviceRefused) as caught:
        client.update_parameters({"Brand.NoSuchThing": "x"})

    assert caught.value.code == TextErrorCode.PARAMETER_ERROR


def test_missing_parameter_group_is_reported_not_raised(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    parameters = connect(fleet.by_product("P3265-V")).list_parameters("Brand", "NoSuchGroup")

    assert parameters.group("Brand")["ProdNbr"] == "P3265-V"
    assert parameters.errors


# --- firmware management --------------------------------------------------------------------------


def test_upload_then_commit_and_purge(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    camera = fleet.by_product("P3265-V")
    previous = camera.version
    client = connect(camera)
    boot_id = client.system_ready().boot_id
    sent: list[tuple[int, int]] = []

    accepted = client.upgrade_firmware(
        image("P3265-V", "12.11.86"), on_progress=lambda done, total: sent.append((done, total))
    )
    wait_back(client, boot_id)
    uncommitted = client.firmware_status()
    version = client.commit_firmware()
    committed = client.firmware_status()
    client.purge_firmware()

    assert accepted.firmware_version == "12.11.86"
    assert sent[-1][0] == sent[-1][1]
    assert uncommitted.is_uncommitted
    assert uncommitted.time_to_rollback is not None
    assert uncommitted.inactive_version == previous
    assert version == "12.11.86"
    assert committed.is_committed is True
    assert client.firmware_status().inactive_version is None
    assert client.commit_firmware() == "12.11.86"  # idempotent


def test_rollback_returns_to_the_previous_version(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    camera = fleet.by_product("M1075-L")
    client = connect(camera)
    boot_id = client.system_ready().boot_id
    client.upgrade_firmware(image("M1075-L", "11.11.192"))
    wait_back(client, boot_id)

    boot_id = client.system_ready().boot_id
    client.rollback_firmware()
    wait_back(client, boot_id)

    status = client.firmware_status()
    assert status.active_version == camera.version
    assert status.inactive_version is None


def test_rollback_without_old_firmware_is_refused(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    with pytest.raises(DeviceRefused) as caught:
        connect(fleet.by_product("P3265-V")).rollback_firmware()

    assert caught.value.code == FirmwareErrorCode.NO_OLD_FIRMWARE


def test_purge_and_a_second_upgrade_while_uncommitted_are_refused(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    client = connect(fleet.by_product("P3265-V"))
    boot_id = client.system_ready().boot_id
    client.upgrade_firmware(image("P3265-V", "12.11.86"))
    wait_back(client, boot_id)

    with pytest.raises(DeviceRefused) as purge:
        client.purge_firmware()
    with pytest.raises(DeviceRefused) as second:
        client.upgrade_firmware(image("P3265-V", "12.11.86", name="again.bin"))

    assert purge.value.code == FirmwareErrorCode.NOT_COMMITTED
    assert second.value.code == FirmwareErrorCode.NOT_COMMITTED


def test_stop_auto_rollback_keeps_the_image_uncommitted(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    client = connect(fleet.by_product("P3265-V"))
    boot_id = client.system_ready().boot_id
    client.upgrade_firmware(image("P3265-V", "12.11.86"))
    wait_back(client, boot_id)

    client.stop_auto_rollback()

    status = client.firmware_status()
    assert status.is_uncommitted
    assert status.time_to_rollback is None


def test_reboot_gives_a_new_boot(fleet: FleetThread, connect: Callable[..., VapixClient]) -> None:
    client = connect(fleet.by_product("Q6135-LE"))
    before = client.system_ready()

    client.reboot()
    wait_back(client, before.boot_id)

    assert client.system_ready().boot_id != before.boot_id


def test_legacy_camera_reboots_through_restart_cgi(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("M3024-L")

    connect(camera).reboot()

    fleet.wait_for(camera.serial, lambda state: any("restart" in str(e) for e in state["log"]))


@pytest.mark.parametrize(
    ("fields", "version", "code"),
    [
        ({"corrupt": True}, "12.11.86", FirmwareErrorCode.INVALID_IMAGE),
        ({"signed": False}, "12.11.86", FirmwareErrorCode.SIGNATURE_MISSING),
        ({"cert": "unknown"}, "12.11.86", FirmwareErrorCode.UNKNOWN_CERTIFICATE),
        ({"revoked": True}, "12.11.86", FirmwareErrorCode.VERSION_REVOKED),
        ({}, "12.11.61", FirmwareErrorCode.DOWNGRADE_NEEDS_FACTORY_DEFAULT),
    ],
    ids=["corrupt", "unsigned", "unknown-certificate", "revoked", "too-old"],
)
def test_refused_images_raise_device_refused_with_the_code(
    fleet: FleetThread,
    connect: Callable[..., VapixClient],
    image: Callable[..., Path],
    fields: dict[str, Any],
    version: str,
    code: int,
) -> None:
    client = connect(fleet.by_product("P3265-V"))

    with pytest.raises(DeviceRefused) as caught:
        client.upgrade_firmware(image("P3265-V", version, **fields))

    assert caught.value.code == code
    assert client.firmware_status().active_version == fleet.by_product("P3265-V").version


def test_image_for_another_model_is_refused_by_the_device(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    with pytest.raises(DeviceRefused) as caught:
        connect(fleet.by_product("P3265-V")).upgrade_firmware(image("M1075-L", "11.11.192"))

    assert caught.value.code == FirmwareErrorCode.IMAGE_DOES_NOT_MATCH


def test_upload_json_part_without_filename_passes_strict_firmware(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_knobs(camera.serial, reject_json_filename=True)

    accepted = connect(camera).upgrade_firmware(image("P3265-V", "12.11.86"))

    assert accepted.firmware_version == "12.11.86"


def test_hard_factory_default_that_changes_the_address(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("M1075-L")
    fleet.set_knobs(camera.serial, hard_reset_changes_ip=True)
    client = connect(camera)

    client.factory_default("hard")
    fleet.wait_for(camera.serial, lambda s: not s["listening"])
    result = wait_for_restart(
        client, UpgradeStarted("", "unused", None, ""), limit=1.0, poll_interval=POLL
    )

    assert result.state == RestartState.DOWN


def test_legacy_upgrade_through_firmwareupgrade_cgi(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    camera = fleet.by_product("M3024-L")
    client = connect(camera)

    client.upgrade_firmware_legacy(image("M3024-L", "5.51.7.6"))
    fleet.wait_for(
        camera.serial, lambda s: s["phase"] == "running" and s["active_version"] == "5.51.7.6"
    )

    assert client.get_device_info().version == "5.51.7.6"
    with pytest.raises(DeviceRefused) as caught:
        client.upgrade_firmware_legacy(image("P3265-V", "12.11.86"))
    assert caught.value.code == TextErrorCode.UPGRADE_FAILED


def test_factory_default_then_initial_admin(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("P3265-V")
    client = connect(camera)
    boot_id = client.system_ready().boot_id

    client.factory_default("soft")
    wait_back(client, boot_id)
    fresh = connect(camera, username="fleetadmin", password="Fleet-Admin-2026")
    assert fresh.system_ready().needs_setup
    with pytest.raises(DeviceRefused) as too_early:
        fresh.list_users()
    created = fresh.create_initial_admin("fleetadmin", "Fleet-Admin-2026")

    assert too_early.value.code == TextErrorCode.INITIAL_ADMIN_REQUIRED
    assert created == "fleetadmin"
    assert fresh.whoami().role == DeviceRole.ADMIN
    assert not fresh.system_ready().needs_setup


def test_initial_admin_on_old_firmware_must_be_root(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("M1065-LW")
    client = connect(camera)
    client.factory_default("hard")
    fleet.wait_for(
        camera.serial,
        lambda s: (
            s["phase"] == "running"
            and any(event["event"] == "down" for event in s["log"])  # type: ignore[attr-defined]
            and bool(s["needs_setup"])
        ),
    )

    created = connect(
        camera, username="fleetadmin", password="Fleet-Admin-2026"
    ).create_initial_admin("fleetadmin", "Fleet-Admin-2026")

    assert created == "root"
    assert connect(camera, password="Fleet-Admin-2026").whoami().name == "root"


# --- local users ----------------------------------------------------------------------------------


def test_add_user_change_password_change_role_and_remove(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("P3265-V")
    admin = connect(camera)

    added = admin.add_user(
        "nocviewer", "First-Pass-2026", DeviceRole.VIEWER, ptz=True, comment="NOC"
    )
    as_viewer = connect(camera, username="nocviewer", password="First-Pass-2026")
    assert as_viewer.whoami().role == DeviceRole.VIEWER
    admin.change_password("nocviewer", "Second-Pass-2026")
    promoted = admin.set_user_role("nocviewer", DeviceRole.OPERATOR)
    admin.remove_user("nocviewer")

    assert added.role == DeviceRole.VIEWER
    assert added.ptz
    assert connect(camera, username="nocviewer", password="Second-Pass-2026") is not None
    assert promoted.role == DeviceRole.OPERATOR
    assert not promoted.ptz
    assert "nocviewer" not in [user.name for user in admin.list_users()]


def test_changed_password_works_and_the_old_one_does_not(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("M1075-L")
    admin = connect(camera)
    admin.add_user("opsuser", "First-Pass-2026", DeviceRole.OPERATOR)

    admin.change_password("opsuser", "Second-Pass-2026")

    assert (
        connect(camera, username="opsuser", password="Second-Pass-2026").whoami().name == "opsuser"
    )
    with pytest.raises(AuthFailed):
        connect(camera, username="opsuser", password="First-Pass-2026").whoami()


def test_changing_our_own_password_switches_the_client(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("P3265-V")
    client = connect(camera)

    client.change_password("root", "Brand-New-Root-2026")

    assert client.firmware_status().active_version == camera.version


def test_existing_user_is_refused(fleet: FleetThread, connect: Callable[..., VapixClient]) -> None:
    with pytest.raises(DeviceRefused) as caught:
        connect(fleet.by_product("P3265-V")).add_user("viewer", "Some-Pass-2026", DeviceRole.VIEWER)

    assert caught.value.code == TextErrorCode.USER_EXISTS


@pytest.mark.parametrize(
    ("name", "password"),
    [
        ("bad.name", "Some-Pass-2026"),
        ("waytoolongname15", "Some-Pass-2026"),
        ("okname", "tab\there"),
    ],
)
def test_invalid_names_and_passwords_are_refused_before_sending(
    fleet: FleetThread, connect: Callable[..., VapixClient], name: str, password: str
) -> None:
    camera = fleet.by_product("P3265-V")
    client = connect(camera)
    log_before = len(fleet.state(camera.serial)["log"])  # type: ignore[arg-type]

    with pytest.raises(InvalidArgument):
        client.add_user(name, password, DeviceRole.VIEWER)

    assert len(fleet.state(camera.serial)["log"]) == log_before  # type: ignore[arg-type]


def test_passphrase_policy_of_the_device_is_applied(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_knobs(camera.serial, passphrase_policy="complex")

    with pytest.raises(InvalidArgument, match="passphrase policy"):
        connect(camera).add_user("weakling", "alllowercase", DeviceRole.VIEWER)


def test_lock_out_protection(fleet: FleetThread, connect: Callable[..., VapixClient]) -> None:
    current_camera, old_camera = fleet.by_product("P3265-V"), fleet.by_product("M1065-LW")
    current, old = connect(current_camera), connect(old_camera)
    current.add_user("second", "Second-Admin-2026", DeviceRole.ADMIN)
    old.add_user("second", "Second-Admin-2026", DeviceRole.ADMIN)
    second_on_current = connect(current_camera, username="second", password="Second-Admin-2026")
    second_on_old = connect(old_camera, username="second", password="Second-Admin-2026")

    with pytest.raises(InvalidArgument, match="authenticates"):
        current.remove_user("root")
    with pytest.raises(InvalidArgument, match="admin"):
        current.set_user_role("root", DeviceRole.VIEWER)
    with pytest.raises(InvalidArgument, match="root cannot be removed"):
        second_on_old.remove_user("root")
    second_on_current.remove_user("root")

    assert [u.name for u in second_on_current.list_users()] == ["second", "operator", "viewer"] or (
        "root" not in [u.name for u in second_on_current.list_users()]
    )
    assert "root" in [u.name for u in old.list_users()]


def test_weak_account_is_refused_admin_calls(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("P3265-V")
    viewer = connect(camera, username="viewer", password=camera.viewer_password)

    with pytest.raises(AuthFailed):
        viewer.firmware_status()
    assert viewer.snapshot().startswith(b"\xff\xd8")
    with pytest.raises(InsufficientPrivilege):
        viewer.firmware_status()
    with pytest.raises(InsufficientPrivilege):
        viewer.update_parameters({"Network.SSH.Enabled": "yes"})
    with pytest.raises(DeviceRefused) as forbidden:
        viewer.get_device_info()
    assert forbidden.value.code == JsonApiErrorCode.ACCESS_FORBIDDEN


def test_weak_account_gets_403_when_the_device_says_so(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("M1075-L")
    fleet.set_knobs(camera.serial, privilege_status=403)

    with pytest.raises(InsufficientPrivilege):
        connect(camera, username="operator", password=camera.operator_password).list_users()


# --- authentication variants ----------------------------------------------------------------------


def test_digest_without_qop(fleet: FleetThread, connect: Callable[..., VapixClient]) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_knobs(camera.serial, digest_qop=False)

    assert connect(camera).whoami().name == "root"


def test_digest_is_chosen_when_both_schemes_are_offered(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_knobs(camera.serial, auth_policy="both")

    assert connect(camera).whoami().name == "root"


def test_basic_only_over_plain_http_is_refused(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_knobs(camera.serial, auth_policy="basic")

    with pytest.raises(AuthFailed, match="Basic"):
        connect(camera).whoami()


def test_stale_nonce_is_renewed_without_failing(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_knobs(camera.serial, nonce_max_uses=2)
    client = connect(camera)

    names = [client.whoami().name for _ in range(5)]

    assert names == ["root"] * 5


def test_stale_nonce_after_expiry_is_renewed() -> None:
    short_lived = run_in_thread(
        count=1, seed=11, time_scale=0.005, products=["P3265-V"], nonce_lifetime=0.3
    )
    try:
        camera = short_lived.cameras[0]
        client = VapixClient(
            camera.host, port=camera.port, username="root", password=camera.password, retries=0
        )
        first = client.whoami()
        time.sleep(0.5)
        second = client.whoami()
        client.close()
    finally:
        short_lived.stop()

    assert first == second


def test_a_wrong_password_is_tried_once_per_call(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("M1075-L")
    # Two failed logins in a row lock the camera for 10 s (2,000 simulated seconds).
    fleet.set_knobs(camera.serial, lockout_after=2, lockout_seconds=2000)

    with pytest.raises(AuthFailed):
        connect(camera, password="not-the-password").get_device_info()
    works = connect(camera).get_device_info()
    for _ in range(2):
        with pytest.raises(AuthFailed):
            connect(camera, password="not-the-password").get_device_info()
    with pytest.raises(AuthFailed):
        connect(camera).get_device_info()

    assert works.serial_number == camera.serial


# --- HTTPS to simulated cameras -------------------------------------------------------------------


def test_https_to_a_camera_with_its_pinned_certificate(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("P3265-V")
    assert camera.https_port is not None
    fingerprint = fetch_certificate_fingerprint(camera.host, camera.https_port)

    client = connect(camera, port=camera.https_port, scheme="https", tls_fingerprint=fingerprint)
    info = client.get_device_info()
    fleet.set_knobs(camera.serial, auth_policy="basic")
    basic = client.firmware_status()

    assert fingerprint == camera.certificate_sha256
    assert info.serial_number == camera.serial
    assert basic.active_version == camera.version


def test_https_to_a_camera_whose_certificate_changed(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("M1075-L")
    assert camera.https_port is not None
    pinned = fetch_certificate_fingerprint(camera.host, camera.https_port)
    client = connect(camera, port=camera.https_port, scheme="https", tls_fingerprint=pinned)
    client.system_ready()

    replacement = fleet.regenerate_certificate(camera.serial)
    client.transport.session.close()  # a new connection, as after the device's restart
    with pytest.raises(CertificateMismatch) as caught:
        client.system_ready()

    assert caught.value.presented == replacement
    assert caught.value.expected == pinned


# --- media, PTZ, recordings -----------------------------------------------------------------------


def test_snapshot_is_a_jpeg_and_bad_arguments_are_refused(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    client = connect(fleet.by_product("P3265-V"))

    jpeg = client.snapshot(compression=50)
    with pytest.raises(DeviceRefused) as caught:
        client.snapshot(resolution="123x45")

    assert jpeg.startswith(b"\xff\xd8\xff")
    assert caught.value.code == TextErrorCode.MEDIA_ERROR
    with pytest.raises(InvalidArgument):
        client.snapshot(resolution="big")


def test_mjpeg_stream_yields_frames(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    client = connect(fleet.by_product("Q6135-LE"))

    frames = list(client.mjpeg_frames(fps=10, max_frames=3))

    assert len(frames) == 3
    assert all(frame.jpeg.startswith(b"\xff\xd8") for frame in frames)


def test_mjpeg_with_bad_arguments_is_refused(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    client = connect(fleet.by_product("Q6135-LE"))

    with pytest.raises(DeviceRefused) as caught:
        next(client.mjpeg_frames(resolution="123x45"))

    assert caught.value.code == TextErrorCode.MEDIA_ERROR


def test_an_invalid_address_is_an_invalid_argument() -> None:
    client = VapixClient("not a host", username="root", password="x", retries=0)

    with pytest.raises(InvalidArgument):
        client.system_ready()
    client.close()


def test_ptz_presets_list_save_goto_remove(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    client = connect(fleet.by_product("Q6135-LE"))

    client.save_ptz_preset("Gate")
    names = [preset.name for preset in client.list_ptz_presets()]
    client.goto_ptz_preset("Gate")
    client.remove_ptz_preset("Gate")

    assert "Gate" in names
    assert "Gate" not in [preset.name for preset in client.list_ptz_presets()]
    with pytest.raises(DeviceRefused) as caught:
        client.goto_ptz_preset("Nowhere")
    assert caught.value.code == TextErrorCode.PTZ_ERROR


def test_ptz_position_and_presets_from_parameters(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    client = connect(fleet.by_product("Q6135-LE"))
    client.save_ptz_preset("Dock")

    presets = client.list_ptz_presets_from_parameters()
    client.goto_ptz_preset("Home")
    position = client.get_ptz_position()

    assert client.has_ptz()
    assert {"Home", "Dock"} <= {preset.name for preset in presets}
    assert {"pan", "tilt", "zoom"} <= set(position)


def test_camera_without_ptz_has_no_presets(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    client = connect(fleet.by_product("P3265-V"))

    assert not client.has_ptz()
    with pytest.raises(ApiNotSupported):
        client.list_ptz_presets()


def test_recordings_list_play_and_export(
    fleet: FleetThread, connect: Callable[..., VapixClient], tmp_path: Path
) -> None:
    client = connect(fleet.by_product("M1075-L"))

    recordings = client.list_recordings()
    frames = list(client.play_recording(recordings[0], max_frames=2))
    written = client.download_recording(recordings[0], tmp_path / "clip.bin")

    assert recordings
    assert recordings[0].disk_id == "SD_DISK"
    assert recordings[0].start_time is not None
    assert len(frames) == 2
    assert written > 0


def test_missing_recording_is_refused(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    client = connect(fleet.by_product("M1075-L"))
    gone = client.list_recordings()[0]
    gone = type(gone)(
        recording_id="20000101_000000_0000_X", disk_id="SD_DISK", start_time=None, stop_time=None
    )

    with pytest.raises(DeviceRefused) as caught:
        list(client.export_recording(gone))

    assert caught.value.code == TextErrorCode.RECORDING_ERROR


# --- faults ---------------------------------------------------------------------------------------


def test_offline_camera_is_unreachable(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_fault(camera.serial, "offline")

    with pytest.raises(Unreachable):
        connect(camera).system_ready()


def test_hanging_camera_times_out(fleet: FleetThread, connect: Callable[..., VapixClient]) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_fault(camera.serial, "hang")
    client = connect(camera, timeouts=Timeouts(connect=1.0, read=0.5, probe=0.5))

    started = time.monotonic()
    with pytest.raises(Timeout):
        client.get_device_info()

    assert time.monotonic() - started < 3


def test_wrong_credentials_fail_authentication(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_fault(camera.serial, "wrong-credentials")

    with pytest.raises(AuthFailed) as caught:
        connect(camera).firmware_status()

    assert not isinstance(caught.value, InsufficientPrivilege)


def test_wrong_password_fails_authentication(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    with pytest.raises(AuthFailed):
        connect(fleet.by_product("M1075-L"), password="not-the-password").get_device_info()


def test_html_error_pages_are_unexpected_responses(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_fault(camera.serial, "html-errors", 500)

    with pytest.raises(UnexpectedResponse) as caught:
        connect(camera, retries=1, retry_backoff=0.01).firmware_status()

    assert caught.value.status == 500
    assert "Internal Server Error" in caught.value.body


def test_html_page_with_200_from_a_known_camera_is_unexpected(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("P3265-V")
    client = connect(camera)
    client.get_device_info()
    fleet.set_fault(camera.serial, "html-errors", 200)

    with pytest.raises(UnexpectedResponse):
        client.firmware_status()
    with pytest.raises(UnexpectedResponse):
        client.list_parameters("Brand")


def test_slow_link_still_delivers_with_progress(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_fault(camera.serial, "slow-link", 400_000)
    client = connect(camera)
    sent: list[int] = []

    assert client.snapshot().startswith(b"\xff\xd8")
    accepted = client.upgrade_firmware(
        image("P3265-V", "12.11.86", size=200_000), on_progress=lambda done, _: sent.append(done)
    )

    assert accepted.firmware_version == "12.11.86"
    assert sent == sorted(sent)


def test_flapping_camera_is_sometimes_unreachable(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("M1075-L")
    fleet.set_fault(camera.serial, "flapping", 30)
    client = connect(camera)
    outcomes: set[str] = set()

    deadline = time.monotonic() + 5
    while len(outcomes) < 2 and time.monotonic() < deadline:
        try:
            client.system_ready()
            outcomes.add("answered")
        except Unreachable:
            outcomes.add("unreachable")
        time.sleep(0.02)

    assert outcomes == {"answered", "unreachable"}


def test_refuse_image_fault_gives_the_configured_code(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_fault(camera.serial, "refuse-image", 422)

    with pytest.raises(DeviceRefused) as caught:
        connect(camera).upgrade_firmware(image("P3265-V", "12.11.86"))

    assert caught.value.code == FirmwareErrorCode.SIGNATURE_MISSING


def test_latency_beyond_the_read_timeout_times_out(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_fault(camera.serial, "latency", 800)

    slow_but_fine = connect(camera).system_ready()
    with pytest.raises(Timeout):
        connect(camera, timeouts=Timeouts(connect=1.0, read=0.3, probe=0.3)).system_ready()

    assert slow_but_fine.is_ready


def test_flaky_server_errors_are_retried_for_reads(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("M1075-L")
    fleet.set_fault(camera.serial, "flaky-errors", 30)
    patient = connect(camera, retries=8, retry_backoff=0.001)
    impatient = connect(camera)

    statuses = [patient.firmware_status().active_version for _ in range(10)]
    failures: list[int | None] = []
    for _ in range(40):
        try:
            impatient.firmware_status()
        except UnexpectedResponse as error:
            failures.append(error.status)

    assert statuses == [camera.version] * 10
    assert failures
    assert set(failures) == {500}


def test_truncated_json_is_an_unexpected_response(
    fleet: FleetThread, connect: Callable[..., VapixClient]
) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_fault(camera.serial, "bad-json")

    with pytest.raises(UnexpectedResponse):
        connect(camera).system_ready()
    with pytest.raises(UnexpectedResponse):
        connect(camera).firmware_status()


def test_upload_connection_reset(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_fault(camera.serial, "upload-reset", 50)
    path = image("P3265-V", "12.11.86", size=2_000_000)

    with pytest.raises(Unreachable):
        connect(camera).upgrade_firmware(path)
    result = run_upgrade(connect(camera), path, "12.11.86", restart_limit=1)

    assert result.outcome == Outcome.FAILED
    assert "cut off" in result.message
    assert connect(camera).firmware_status().active_version == camera.version


def test_upload_stall_times_out(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_fault(camera.serial, "upload-stall", 10)
    path = image("P3265-V", "12.11.86", size=20_000_000)
    quick = Timeouts(connect=1.0, read=1.0, upload_minimum=1.0, upload_bytes_per_second=1e9)
    client = connect(camera, timeouts=quick)

    started = time.monotonic()
    # Sending blocks once the socket buffers are full, or the whole body fits into them and the
    # answer never comes: either way the upload budget (about 1 s here) ends it as a timeout.
    with pytest.raises(Timeout):
        client.upgrade_firmware(path)
    elapsed = time.monotonic() - started
    fleet.clear_faults(camera.serial)  # lets the simulator finish the stalled request

    assert elapsed < 10


def test_upload_survives_a_pause_longer_than_the_connect_timeout(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_fault(camera.serial, "upload-stall", 10)
    fleet.set_knobs(camera.serial, upload_stall_seconds=200)  # 1 s at this time scale
    # Larger than the loopback socket buffers, so the client's sends block during the pause.
    path = image("P3265-V", "12.11.86", size=20_000_000)
    client = connect(camera, timeouts=Timeouts(connect=0.3, read=3.0, upload_minimum=10.0))

    accepted = client.upgrade_firmware(path)

    assert accepted.firmware_version == "12.11.86"
    events = [entry["event"] for entry in fleet.state(camera.serial)["log"]]
    assert "upload-stalled" in events


def test_upgrade_answered_by_a_swapped_device(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_fault(camera.serial, "swapped-serial")

    result = run_upgrade(connect(camera), image("P3265-V", "12.11.86"), "12.11.86")

    assert result.outcome == Outcome.OTHER_DEVICE


def test_skewed_clock_still_gives_an_upgrade_time(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_fault(camera.serial, "clock-skew", 7200)
    client = connect(camera)
    boot_id = client.system_ready().boot_id
    client.upgrade_firmware(image("P3265-V", "12.11.86"))
    wait_back(client, boot_id)

    status = client.firmware_status()

    assert status.last_upgrade_at is not None
    assert status.last_upgrade_at.tzinfo is not None
    assert status.last_upgrade_at > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=90)


# --- the upgrade helper end to end ----------------------------------------------------------------


def test_upgrade_succeeds_and_reports_progress(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    camera = fleet.by_product("P3265-V")
    previous = camera.version
    client = connect(camera)
    reports: list[Progress] = []

    # The target version comes from the official file name, P3265-V_12_11_86.bin.
    result = run_upgrade(client, image("P3265-V", "12.11.86"), None, on_progress=reports.append)

    assert result.outcome == Outcome.SUCCEEDED
    assert result.target_version == "12.11.86"
    assert result.previous_version == previous
    assert result.running_version == "12.11.86"
    stages = [report.stage for report in reports]
    assert stages[0] == Stage.CHECKING
    assert Stage.UPLOADING in stages
    assert stages[-3:] == [Stage.VERIFYING, Stage.COMMITTING, Stage.FINISHED]
    status = client.firmware_status()
    assert status.is_committed is True
    assert status.time_to_rollback is None


def test_upgrade_with_a_passing_health_check(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    client = connect(fleet.by_product("M1075-L"))
    reports: list[Progress] = []

    result = run_upgrade(
        client,
        image("M1075-L", "11.11.192"),
        "11.11.192",
        health_check=snapshot_health_check,
        on_progress=reports.append,
    )

    assert result.outcome == Outcome.SUCCEEDED
    assert Stage.HEALTH_CHECK in [report.stage for report in reports]


def test_upgrade_with_a_failing_health_check_rolls_back(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    camera = fleet.by_product("M1075-L")
    previous = camera.version

    result = run_upgrade(
        connect(camera), image("M1075-L", "11.11.192"), "11.11.192", health_check=lambda _: False
    )

    assert result.outcome == Outcome.UNHEALTHY
    assert result.running_version == "11.11.192"
    fleet.wait_for(
        camera.serial, lambda s: s["phase"] == "running" and s["active_version"] == previous
    )


def test_upgrade_when_the_answer_comes_after_flashing(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_knobs(camera.serial, answer_after_flash=True)

    result = run_upgrade(connect(camera), image("P3265-V", "12.11.86"), "12.11.86")

    assert result.outcome == Outcome.SUCCEEDED


def test_upgrade_of_a_camera_without_boot_id(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    result = run_upgrade(
        connect(fleet.by_product("M3066-V")), image("M3066-V", "10.12.338"), "10.12.338"
    )

    assert result.outcome == Outcome.SUCCEEDED


def test_upgrade_when_the_rebooting_camera_swallows_connections(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    camera = fleet.by_product("M1075-L")
    fleet.set_knobs(camera.serial, down_mode="blackhole")
    client = connect(camera, timeouts=Timeouts(connect=0.5, read=0.5, probe=0.3))

    result = run_upgrade(client, image("M1075-L", "11.11.192"), "11.11.192")

    assert result.outcome == Outcome.SUCCEEDED


def test_upgrade_to_the_running_version_does_nothing(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    camera = fleet.by_product("P3265-V")

    result = run_upgrade(connect(camera), image("P3265-V", camera.version), camera.version)

    assert result.outcome == Outcome.ALREADY_UP_TO_DATE


@pytest.mark.parametrize(
    ("fields", "version", "code", "refusal"),
    [
        ({"corrupt": True}, "12.11.86", 415, Refusal.CORRUPT),
        ({}, "12.11.61", 409, Refusal.TOO_OLD),
        ({"revoked": True}, "12.11.86", 410, Refusal.REVOKED),
    ],
    ids=["corrupt", "too-old", "revoked"],
)
def test_upgrade_with_a_refused_image(
    fleet: FleetThread,
    connect: Callable[..., VapixClient],
    image: Callable[..., Path],
    fields: dict[str, Any],
    version: str,
    code: int,
    refusal: Refusal,
) -> None:
    camera = fleet.by_product("P3265-V")

    result = run_upgrade(connect(camera), image("P3265-V", version, **fields), version)

    assert result.outcome == Outcome.REFUSED
    assert result.error_code == code
    assert result.refusal == refusal
    assert not result.succeeded


def test_upgrade_with_an_image_for_another_model(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    client = connect(fleet.by_product("P3265-V"))

    by_device = run_upgrade(client, image("M1075-L", "12.11.86", name="download.bin"), "12.11.86")
    by_name = run_upgrade(client, image("M1075-L", "12.11.86"), "12.11.86")

    assert by_device.outcome == Outcome.REFUSED
    assert by_device.error_code == FirmwareErrorCode.IMAGE_DOES_NOT_MATCH
    assert by_device.refusal == Refusal.WRONG_MODEL
    assert by_name.outcome == Outcome.REFUSED
    assert "checked locally" in by_name.message


def test_upgrade_of_a_camera_that_never_returns(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_fault(camera.serial, "never-returns")

    # A healthy camera is back within about 0.5 s at this time scale.
    result = run_upgrade(connect(camera), image("P3265-V", "12.11.86"), "12.11.86", restart_limit=1)

    assert result.outcome == Outcome.NEVER_RETURNED
    assert result.running_version is None


def test_upgrade_that_comes_back_on_the_old_version(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_fault(camera.serial, "comes-back-old")

    result = run_upgrade(connect(camera), image("P3265-V", "12.11.86"), "12.11.86")

    assert result.outcome == Outcome.ROLLED_BACK
    assert result.running_version == camera.version


def test_upgrade_that_comes_back_on_an_unexpected_version(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    client = connect(fleet.by_product("P3265-V"))

    result = run_upgrade(client, image("P3265-V", "12.11.86", name="latest.bin"), "12.11.90")

    assert result.outcome == Outcome.UNEXPECTED_VERSION
    assert result.running_version == "12.11.86"


def test_upgrade_whose_answer_is_lost(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_fault(camera.serial, "answer-lost")
    reports: list[Progress] = []

    result = run_upgrade(
        connect(camera), image("P3265-V", "12.11.86"), "12.11.86", on_progress=reports.append
    )

    assert result.outcome == Outcome.SUCCEEDED
    assert any("answer was lost" in report.message for report in reports)


def test_upgrade_refused_by_a_fault(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_fault(camera.serial, "refuse-image", 421)

    result = run_upgrade(connect(camera), image("P3265-V", "12.11.86"), "12.11.86")

    assert result.outcome == Outcome.REFUSED
    assert result.error_code == 421


def test_upgrade_blocked_by_another_uncommitted_image(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    client = connect(fleet.by_product("Q6135-LE"))
    boot_id = client.system_ready().boot_id
    client.upgrade_firmware(image("Q6135-LE", "12.8.49"))
    wait_back(client, boot_id)

    result = run_upgrade(client, image("Q6135-LE", "12.9.57"), "12.9.57")
    resumed = run_upgrade(client, image("Q6135-LE", "12.8.49"), "12.8.49")

    assert result.outcome == Outcome.BLOCKED
    assert resumed.outcome == Outcome.SUCCEEDED


def test_upgrade_of_an_unreachable_camera_fails_cleanly(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_fault(camera.serial, "offline")

    result = run_upgrade(connect(camera), image("P3265-V", "12.11.86"), "12.11.86")

    assert result.outcome == Outcome.FAILED


def test_upgrade_with_a_missing_image_file_is_our_mistake_and_raises(
    fleet: FleetThread, connect: Callable[..., VapixClient], tmp_path: Path
) -> None:
    camera = fleet.by_product("P3265-V")

    with pytest.raises(InvalidArgument, match="does not exist"):
        run_upgrade(connect(camera), tmp_path / "P3265-V_12_11_86.bin", "12.11.86")
    with pytest.raises(InvalidArgument, match="target_version"):
        run_upgrade(connect(camera), tmp_path / "download.bin", None)
    assert fleet.state(camera.serial)["active_version"] == camera.version


def test_steps_auto_rollback_when_never_committed(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    camera = fleet.by_product("M1075-L")
    client = connect(camera)

    started = start_upgrade(
        client, image("M1075-L", "11.11.192"), "11.11.192", auto_rollback_minutes=1
    )
    back = wait_for_restart(client, started, limit=15, poll_interval=POLL)
    verified = verify_version(client, "11.11.192", started.previous_version)
    assert back.state == RestartState.BACK
    assert verified.check == VersionCheck.TARGET
    # One simulated minute without a commit: the device rolls back by itself.
    rolled_back = wait_for_restart(
        client, UpgradeStarted("", back.boot_id, back.uptime, ""), limit=15, poll_interval=POLL
    )

    assert rolled_back.state == RestartState.BACK
    assert (
        verify_version(client, "11.11.192", started.previous_version).check == VersionCheck.PREVIOUS
    )
    assert client.firmware_status().inactive_version is None


def test_steps_check_back_online_and_commit(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    camera = fleet.by_product("P3265-V")
    fleet.set_fault(camera.serial, "slow-link", 2_000_000)
    client = connect(camera)
    started = start_upgrade(client, image("P3265-V", "12.11.86"), "12.11.86")
    fleet.clear_faults(camera.serial)

    states = []
    deadline = time.monotonic() + 15
    seen_down = False
    while time.monotonic() < deadline:
        check = check_back_online(client, started.previous_boot_id, seen_down=seen_down)
        states.append(check.state)
        seen_down = seen_down or check.state == RestartState.DOWN
        if check.state == RestartState.BACK:
            break
        time.sleep(0.02)
    status = commit(client, retry_delay=0.05)

    assert states[-1] == RestartState.BACK
    assert RestartState.DOWN in states
    assert status.is_committed is True
    assert commit(client).is_committed is True


def test_restart_without_boot_id_is_seen_by_the_version_when_the_outage_was_missed(
    fleet: FleetThread, connect: Callable[..., VapixClient], image: Callable[..., Path]
) -> None:
    camera = fleet.by_product("M3066-V")
    client = connect(camera)
    previous = camera.version
    client.upgrade_firmware(image("M3066-V", "10.12.338"))
    # No probe while the camera is down: the outage goes unseen.
    fleet.wait_for(
        camera.serial, lambda s: s["phase"] == "running" and s["active_version"] == "10.12.338"
    )

    blind = check_back_online(client, None)
    informed = check_back_online(client, None, previous_version=previous)

    assert blind.state == RestartState.SAME_BOOT
    assert informed.state == RestartState.BACK


# --- memory use while uploading -------------------------------------------------------------------


@pytest.fixture(scope="module")
def camera_in_another_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Return the fleet-file entry of one P3265-V served by a simulator in its own process.

    The in-process fleet's buffers would count in this process's allocations; a separate
    process leaves only the client's to measure.
    """
    fleet_file = tmp_path_factory.mktemp("separate-simulator") / "fleet.json"
    # Seed 4 makes the one camera a P3265-V; time scale as in the camera_fleet fixture.
    options = ["--count", "1", "--seed", "4", "--time-scale", "0.005", "--fleet-out"]
    process = subprocess.Popen(
        [sys.executable, "-m", "devices.simulator", *options, str(fleet_file)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert process.stdout is not None
        assert "1 cameras listening" in process.stdout.readline()
        (camera,) = json.loads(fleet_file.read_text())
        assert camera["product_number"] == "P3265-V"
        yield camera
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_upload_keeps_about_one_chunk_in_memory(
    camera_in_another_process: dict[str, Any], image: Callable[..., Path]
) -> None:
    camera = camera_in_another_process
    path = image("P3265-V", "12.11.86", size=30 * 1024 * 1024)
    client = VapixClient(
        camera["host"],
        port=camera["port"],
        username=camera["username"],
        password=camera["password"],
        retries=0,
        timeouts=Timeouts(connect=2, read=10, upload_minimum=60),
    )
    client.firmware_status()  # the authentication handshake happens before the measurement
    reported: list[int] = []

    tracemalloc.start()
    try:
        accepted = client.upgrade_firmware(path, on_progress=lambda sent, _: reported.append(sent))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        client.close()

    assert accepted.firmware_version == "12.11.86"
    assert reported[-1] > path.stat().st_size
    # The body is read piece by piece, never more than one upload chunk at a time ...
    steps = [after - before for before, after in zip([0, *reported], reported, strict=False)]
    assert max(steps) <= UPLOAD_CHUNK_SIZE
    # ... and nothing in the client holds on to them: a few chunks' worth for 30 MB.
    assert peak < 8 * UPLOAD_CHUNK_SIZE, f"peak {peak} bytes while uploading {reported[-1]}"


# --- servers that are not simulated cameras -------------------------------------------------------


@dataclass
class LoopbackServer:
    """A tiny HTTP(S) server on loopback that records what it received."""

    answer: Callable[[http.server.BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]]
    tls: ssl.SSLContext | None = None
    requests: list[dict[str, str]] = field(default_factory=list)
    handshakes: int = 0

    def __post_init__(self) -> None:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                owner.requests.append({"path": self.path, **dict(self.headers.items())})
                status, headers, body = owner.answer(self)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = _serve
            do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self) -> tuple[Any, Any]:
                sock, address = super().get_request()
                if owner.tls is not None:
                    # Counted before the handshake: the client sees no certificate before this.
                    owner.handshakes += 1
                    sock = owner.tls.wrap_socket(sock, server_side=True)
                return sock, address

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[..., LoopbackServer]]:
    servers: list[LoopbackServer] = []

    def start(answer: Any, tls: ssl.SSLContext | None = None) -> LoopbackServer:
        server = LoopbackServer(answer, tls)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def client_for(server: LoopbackServer, **options: Any) -> VapixClient:
    options.setdefault("retries", 0)
    options.setdefault("timeouts", FAST)
    return VapixClient(
        "127.0.0.1", port=server.port, username="root", password="Secret-2026", **options
    )


SYSTEMREADY = json.dumps(
    {
        "apiVersion": "1.5",
        "method": "systemready",
        "data": {"systemready": "yes", "needsetup": "no"},
    }
).encode()


def _not_found(_handler: Any) -> tuple[int, dict[str, str], bytes]:
    return 404, {"Content-Type": "text/html"}, b"<html><body><h1>404 Not Found</h1></body></html>"


def _login_page(_handler: Any) -> tuple[int, dict[str, str], bytes]:
    return (
        200,
        {"Content-Type": "text/html"},
        b"<!DOCTYPE html><html><body>Router login</body></html>",
    )


def _redirect(_handler: Any) -> tuple[int, dict[str, str], bytes]:
    return 302, {"Location": "/login.html", "Content-Type": "text/html"}, b""


@pytest.mark.parametrize(
    "answer",
    [_not_found, _login_page, _redirect],
    ids=["404-everywhere", "login-page", "redirect-to-login"],
)
@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.system_ready(),
        lambda c: c.get_device_info(),
        lambda c: c.snapshot(),
        lambda c: c.list_parameters("Brand"),
    ],
    ids=["systemready", "device-info", "snapshot", "param"],
)
def test_other_web_servers_are_not_axis_devices(
    serve: Callable[..., LoopbackServer], answer: Any, call: Callable[[VapixClient], Any]
) -> None:
    client = client_for(serve(answer))

    with pytest.raises(NotAxisDevice):
        call(client)
    client.close()


def _self_signed(tmp_path: Path, name: str) -> tuple[ssl.SSLContext, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    fingerprint = certificate.fingerprint(hashes.SHA256()).hex()
    return context, fingerprint


def _basic_camera(handler: http.server.BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
    if not handler.headers.get("Authorization", "").startswith("Basic "):
        return 401, {"WWW-Authenticate": 'Basic realm="AXIS_ACCC8E00F1A2"'}, b""
    return 200, {"Content-Type": "application/json"}, SYSTEMREADY


def _sha256_digest_camera(
    handler: http.server.BaseHTTPRequestHandler,
) -> tuple[int, dict[str, str], bytes]:
    """Offer MD5 and SHA-256 Digest (RFC 7616); accept only a correct SHA-256 answer."""
    realm, nonce = "AXIS_ACCC8E00F1A2", "Wm9uY2UtZm9yLXNoYTI1Ng=="
    challenge = {
        "WWW-Authenticate": (
            f'Digest realm="{realm}", nonce="{nonce}", algorithm=MD5, qop="auth", '
            f'Digest realm="{realm}", nonce="{nonce}", algorithm=SHA-256, qop="auth"'
        )
    }
    header = handler.headers.get("Authorization", "")
    if not header.startswith("Digest "):
        return 401, challenge, b""
    fields = dict(
        (key.strip(), value.strip().strip('"'))
        for key, _, value in (part.partition("=") for part in header[7:].split(", "))
    )

    def h(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    ha1 = h(f"root:{realm}:Secret-2026")
    ha2 = h(f"{handler.command}:{handler.path}")
    expected = h(f"{ha1}:{nonce}:{fields['nc']}:{fields['cnonce']}:auth:{ha2}")
    if fields.get("algorithm") != "SHA-256" or fields.get("response") != expected:
        return 401, challenge, b""
    return 200, {"Content-Type": "application/json"}, SYSTEMREADY


def test_sha256_digest_is_preferred_when_offered(serve: Callable[..., LoopbackServer]) -> None:
    server = serve(_sha256_digest_camera)
    client = client_for(server)

    ready = client.system_ready()
    client.close()

    assert ready.is_ready
    assert "algorithm=SHA-256" in server.requests[-1]["Authorization"]


def test_https_with_the_pinned_certificate_and_basic_auth(
    serve: Callable[..., LoopbackServer], tmp_path: Path
) -> None:
    tls, fingerprint = _self_signed(tmp_path, "camera")
    server = serve(_basic_camera, tls)

    seen = fetch_certificate_fingerprint("127.0.0.1", server.port)
    client = client_for(server, scheme="https", tls_fingerprint=seen.upper())
    ready = client.system_ready()
    client.close()

    assert seen == fingerprint
    assert ready.is_ready
    assert server.requests[-1]["Authorization"].startswith("Basic ")


def test_https_with_a_changed_certificate_is_refused_before_sending(
    serve: Callable[..., LoopbackServer], tmp_path: Path
) -> None:
    tls, _ = _self_signed(tmp_path, "impostor")
    _, pinned = _self_signed(tmp_path, "camera")
    server = serve(_basic_camera, tls)
    client = client_for(server, scheme="https", tls_fingerprint=pinned)

    with pytest.raises(CertificateMismatch) as caught:
        client.system_ready()
    client.close()

    assert caught.value.expected == pinned
    assert server.handshakes >= 1
    assert server.requests == []


def test_https_needs_a_pin_or_a_ca_bundle(
    serve: Callable[..., LoopbackServer], tmp_path: Path
) -> None:
    tls, _ = _self_signed(tmp_path, "camera")
    server = serve(_basic_camera, tls)

    with pytest.raises(InvalidArgument):
        client_for(server, scheme="https")
    with pytest.raises(InvalidArgument):
        client_for(server, scheme="https", tls_fingerprint="not-hex")


def test_certificate_of_a_closed_port_is_unreachable(serve: Callable[..., LoopbackServer]) -> None:
    server = serve(_not_found)
    port = server.port
    server.stop()

    with pytest.raises(Unreachable):
        fetch_certificate_fingerprint("127.0.0.1", port, timeout=1)


def test_certificate_of_an_impossible_host_name_is_an_invalid_argument() -> None:
    with pytest.raises(InvalidArgument):
        fetch_certificate_fingerprint("a" * 300, 443, timeout=1)


def test_basic_over_plain_http_never_sends_the_password(
    serve: Callable[..., LoopbackServer],
) -> None:
    server = serve(_basic_camera)
    client = client_for(server)

    with pytest.raises(AuthFailed):
        client.system_ready()
    client.close()

    assert all("Authorization" not in request for request in server.requests)


def test_upload_is_sent_with_content_length_not_chunked(
    serve: Callable[..., LoopbackServer], image: Callable[..., Path]
) -> None:
    def fwmgr(handler: http.server.BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        if handler.headers.get("Content-Type", "").startswith("multipart/form-data"):
            data: dict[str, Any] = {"firmwareVersion": "12.11.86"}
        else:
            data = {"activeFirmwareVersion": "12.11.77", "activeFirmwarePart": "1"}
        body = json.dumps({"apiVersion": "1.10", "method": "x", "data": data}).encode()
        return 200, {"Content-Type": "application/json"}, body

    server = serve(fwmgr)
    path = image("P3265-V", "12.11.86", size=300_000)
    client = client_for(server)

    accepted = client.upgrade_firmware(path)
    client.close()

    upload = server.requests[-1]
    assert accepted.firmware_version == "12.11.86"
    assert "Transfer-Encoding" not in upload
    assert int(upload["Content-Length"]) > path.stat().st_size
    assert upload["Content-Type"].startswith("multipart/form-data; boundary=")


def test_json_with_the_wrong_content_type_is_unexpected(
    serve: Callable[..., LoopbackServer],
) -> None:
    def jpeg_everywhere(_handler: Any) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": "image/jpeg"}, b"\xff\xd8\xff\xe0"

    def confirm(handler: http.server.BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        if "param.cgi" in handler.path:
            return 200, {"Content-Type": "text/plain"}, b"root.Brand.Brand=AXIS\n"
        return jpeg_everywhere(handler)

    client = client_for(serve(confirm))

    with pytest.raises(UnexpectedResponse) as caught:
        client.system_ready()
    client.close()

    assert not isinstance(caught.value, NotAxisDevice)
