"""The camera simulator against the concrete examples of VAPIX.md, over real HTTP on loopback.

No database is needed: these are plain tests. The project's VAPIX client is deliberately not
used; requests speaks to the simulator directly so the two are checked independently.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image
from requests.auth import HTTPBasicAuth, HTTPDigestAuth

from devices.simulator.camera import Timing
from devices.simulator.faults import FaultSpecError, assign, parse_spec
from devices.simulator.firmware import (
    TRAILER_LENGTH,
    ImageError,
    StreamingVerifier,
    build_image,
    image_filename,
    iter_image,
    make_header,
    verify_stream,
    write_image,
)
from devices.simulator.firmware import (
    main as firmware_main,
)
from devices.simulator.fleet import (
    CameraInfo,
    Fleet,
    FleetThread,
    run_in_thread,
    write_fleet_file,
)

REPO = Path(__file__).resolve().parents[2]
FWMGR = "/axis-cgi/firmwaremanagement.cgi"
BDI = "/axis-cgi/basicdeviceinfo.cgi"
DISCOVERY = "/axis-cgi/apidiscovery.cgi"
SYSTEMREADY = "/axis-cgi/systemready.cgi"
PWDGRP = "/axis-cgi/pwdgrp.cgi"
PARAM = "/axis-cgi/param.cgi"
TIMEOUT = 5


# ----- helpers ----------------------------------------------------------------------------------


def session_for(camera: CameraInfo, user: str = "root") -> requests.Session:
    """Return a requests session authenticating as root, operator or viewer."""
    password = {
        "root": camera.password,
        "operator": camera.operator_password,
        "viewer": camera.viewer_password,
    }[user]
    session = requests.Session()
    session.auth = HTTPDigestAuth(user, password)
    return session


def ajr(
    session: requests.Session | Any,
    camera: CameraInfo,
    path: str,
    method: str,
    params: dict[str, Any] | None = None,
    *,
    version: str | None = "1.0",
    context: str | None = None,
) -> requests.Response:
    """POST one AJR envelope and return the raw response."""
    body: dict[str, Any] = {"method": method}
    if version is not None:
        body["apiVersion"] = version
    if context is not None:
        body["context"] = context
    if params is not None:
        body["params"] = params
    return session.post(camera.base_url + path, json=body, timeout=TIMEOUT)


def upgrade(
    session: requests.Session,
    camera: CameraInfo,
    image: bytes,
    params: dict[str, str] | None = None,
) -> requests.Response:
    """Send a multipart upgrade the way the vendor's curl example does (JSON part first)."""
    envelope = {"apiVersion": "1.0", "context": "t", "method": "upgrade", "params": params or {}}
    files = [
        ("json", (None, json.dumps(envelope), "application/json")),
        ("file", ("image.bin", image, "application/octet-stream")),
    ]
    return session.post(camera.base_url + FWMGR, files=files, timeout=TIMEOUT)


def next_version(camera: CameraInfo) -> str:
    """Return a version above the camera's (same major.minor, patch + 1)."""
    parts = camera.version.split(".")
    parts[-1] = str(int(parts[-1]) + 1)
    return ".".join(parts)


def systemready(camera: CameraInfo) -> dict[str, str] | None:
    """Return the systemready data, or None while the camera refuses or drops connections."""
    try:
        response = requests.post(
            camera.base_url + SYSTEMREADY,
            json={"apiVersion": "1.0", "method": "systemready"},
            timeout=1,
        )
    except requests.ConnectionError:
        return None
    return response.json()["data"]


def wait_until(condition: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll `condition` until it returns something truthy; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.01)
    pytest.fail("condition not reached in time")


def wait_for_new_boot(camera: CameraInfo, old_boot_id: str) -> dict[str, str]:
    """Wait for the camera to come back ready with another boot id."""

    def ready() -> dict[str, str] | None:
        data = systemready(camera)
        if data and data["bootid"] != old_boot_id and data["systemready"] == "yes":
            return data
        return None

    return wait_until(ready)


def install_next_version(
    session: requests.Session, camera: CameraInfo, params: dict[str, str] | None = None
) -> str:
    """Upgrade to the next patch version, wait until it runs, and return the new boot id."""
    boot_id = systemready(camera)["bootid"]
    image = build_image(camera.product_number, next_version(camera), 1000)
    assert "data" in upgrade(session, camera, image, params).json()
    return wait_for_new_boot(camera, boot_id)["bootid"]


def status(session: requests.Session, camera: CameraInfo) -> dict[str, Any]:
    """Return fwmgr status data."""
    return ajr(session, camera, FWMGR, "status").json()["data"]


def page_text(response: requests.Response) -> str:
    """Return the text of a pwdgrp-style HTML page with tags and whitespace stripped."""
    body = response.text.split("<body", 1)[-1].split(">", 1)[-1]
    return re.sub(r"<[^>]+>", "", body).strip()


def refused(camera: CameraInfo) -> bool:
    """Return whether a TCP connection to the camera is refused."""
    try:
        with socket.create_connection((camera.host, camera.port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


@pytest.fixture
def fleet(clean_camera_fleet: FleetThread) -> FleetThread:
    """Return the reset session fleet under a short name."""
    return clean_camera_fleet


@pytest.fixture
def p3265(fleet: FleetThread) -> CameraInfo:
    """Return the AXIS OS 12.11 dome camera."""
    return fleet.by_product("P3265-V")


# ----- authentication ---------------------------------------------------------------------------

_CHALLENGE = re.compile(
    r'^Digest realm="AXIS_([0-9A-F]{12})", nonce="[A-Za-z0-9+/]{11}=[0-9a-f]{40}", '
    r'algorithm=MD5, qop="auth"$'
)


def test_anonymous_fwmgr_gets_the_recorded_digest_challenge(p3265: CameraInfo) -> None:
    response = ajr(requests, p3265, FWMGR, "status")
    assert response.status_code == 401
    match = _CHALLENGE.match(response.headers["WWW-Authenticate"])
    assert match is not None
    assert match.group(1) == p3265.serial
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["Server"].startswith("Apache/")


def test_anonymous_cgi_gets_apache_401_page(p3265: CameraInfo) -> None:
    response = requests.get(p3265.base_url + PARAM + "?action=list", timeout=TIMEOUT)
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<title>401 Unauthorized</title>" in response.text
    assert _CHALLENGE.match(response.headers["WWW-Authenticate"])


def test_wrong_password_is_refused(p3265: CameraInfo) -> None:
    auth = HTTPDigestAuth("root", p3265.password + "x")
    response = requests.get(p3265.base_url + "/axis-cgi/usergroup.cgi", auth=auth, timeout=5)
    assert response.status_code == 401


def _digest_header(
    camera: CameraInfo, challenge: str, uri: str, method: str = "GET", qop: bool = True
) -> str:
    fields = dict(re.findall(r'(\w+)="?([^",]+)"?', challenge))
    ha1 = hashlib.md5(f"root:{fields['realm']}:{camera.password}".encode()).hexdigest()  # noqa: S324
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()  # noqa: S324
    nonce = fields["nonce"]
    if qop:
        digest = hashlib.md5(f"{ha1}:{nonce}:00000001:abc:auth:{ha2}".encode()).hexdigest()  # noqa: S324
        extra = ', qop=auth, nc=00000001, cnonce="abc"'
    else:
        digest = hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()  # noqa: S324
        extra = ""
    return (
        f'Digest username="root", realm="{fields["realm"]}", nonce="{nonce}", uri="{uri}", '
        f'algorithm=MD5, response="{digest}"{extra}'
    )


def test_digest_uri_must_match_the_request_target(p3265: CameraInfo) -> None:
    path = "/axis-cgi/usergroup.cgi"
    challenge = requests.get(p3265.base_url + path, timeout=5).headers["WWW-Authenticate"]
    good = _digest_header(p3265, challenge, path)
    assert (
        requests.get(p3265.base_url + path, headers={"Authorization": good}, timeout=5).status_code
        == 200
    )
    wrong = _digest_header(p3265, challenge, path + "?x=1")
    response = requests.get(p3265.base_url + path, headers={"Authorization": wrong}, timeout=5)
    assert response.status_code == 401


def test_rfc2069_digest_without_qop_is_accepted(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_knobs(p3265.serial, digest_qop=False)
    path = "/axis-cgi/usergroup.cgi"
    challenge = requests.get(p3265.base_url + path, timeout=5).headers["WWW-Authenticate"]
    assert "qop" not in challenge
    header = _digest_header(p3265, challenge, path, qop=False)
    response = requests.get(p3265.base_url + path, headers={"Authorization": header}, timeout=5)
    assert response.status_code == 200


def test_expired_nonce_gets_stale_true() -> None:
    handle = run_in_thread(count=1, seed=3, time_scale=0.01, nonce_lifetime=0.2)
    try:
        camera = handle.cameras[0]
        path = "/axis-cgi/usergroup.cgi"
        challenge = requests.get(camera.base_url + path, timeout=5).headers["WWW-Authenticate"]
        header = _digest_header(camera, challenge, path)
        time.sleep(0.3)
        response = requests.get(
            camera.base_url + path, headers={"Authorization": header}, timeout=5
        )
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].endswith("stale=TRUE")
    finally:
        handle.stop()


def test_basic_policy_offers_basic(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_knobs(p3265.serial, auth_policy="basic")
    path = p3265.base_url + "/axis-cgi/usergroup.cgi"
    challenge = requests.get(path, timeout=5).headers["WWW-Authenticate"]
    assert challenge == f'Basic realm="AXIS_{p3265.serial}"'
    assert (
        requests.get(path, auth=HTTPBasicAuth("root", p3265.password), timeout=5).status_code == 200
    )
    assert (
        requests.get(path, auth=HTTPDigestAuth("root", p3265.password), timeout=5).status_code
        == 401
    )


def test_both_policy_sends_two_challenges(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_knobs(p3265.serial, auth_policy="both")
    response = requests.get(p3265.base_url + "/axis-cgi/usergroup.cgi", timeout=5)
    challenges = response.raw.headers.getlist("WWW-Authenticate")
    assert [c.split()[0] for c in challenges] == ["Digest", "Basic"]


# ----- privileges -------------------------------------------------------------------------------


def test_viewer_may_take_snapshots_but_not_upgrade(p3265: CameraInfo) -> None:
    viewer = session_for(p3265, "viewer")
    snapshot = viewer.get(p3265.base_url + "/axis-cgi/jpg/image.cgi", timeout=5)
    assert snapshot.status_code == 200
    assert ajr(viewer, p3265, FWMGR, "status").status_code == 401


def test_viewer_gets_2001_for_restricted_device_info(p3265: CameraInfo) -> None:
    body = ajr(session_for(p3265, "viewer"), p3265, BDI, "getAllProperties").json()
    assert body["error"]["code"] == 2001


def test_operator_may_change_image_params_but_not_network(p3265: CameraInfo) -> None:
    operator = session_for(p3265, "operator")
    ok = operator.get(p3265.base_url + PARAM + "?action=update&Image.I0.Appearance.Rotation=180")
    assert ok.text == "OK\n"
    refused_update = operator.get(
        p3265.base_url + PARAM + "?action=update&Network.SSH.Enabled=yes", timeout=5
    )
    assert refused_update.text == "# Error: Error setting 'Network.SSH.Enabled' to 'yes'!\n"
    assert ajr(operator, p3265, FWMGR, "status").status_code == 401
    assert operator.get(p3265.base_url + PWDGRP + "?action=get").status_code == 401


def test_privilege_status_knob_answers_403(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_knobs(p3265.serial, privilege_status=403)
    response = session_for(p3265, "viewer").get(p3265.base_url + PWDGRP + "?action=get")
    assert response.status_code == 403


def test_viewer_without_ptz_cannot_move_ptz(fleet: FleetThread) -> None:
    camera = fleet.by_product("Q6135-LE")
    url = camera.base_url + "/axis-cgi/com/ptz.cgi?gotoserverpresetname=Home"
    assert session_for(camera, "viewer").get(url, timeout=5).status_code == 401
    assert session_for(camera).get(url, timeout=5).status_code == 204


# ----- AJR envelopes ----------------------------------------------------------------------------


def test_basic_device_info_envelope_has_no_method(p3265: CameraInfo) -> None:
    body = ajr(session_for(p3265), p3265, BDI, "getAllProperties", context="id-check").json()
    assert list(body) == ["apiVersion", "context", "data"]
    assert body["apiVersion"] == "1.3"
    properties = body["data"]["propertyList"]
    assert properties["ProdNbr"] == "P3265-V"
    assert properties["SerialNumber"] == p3265.serial
    assert properties["Version"] == p3265.version
    assert all(isinstance(value, str) for value in properties.values())


def test_unrestricted_properties_are_anonymous_and_hide_the_soc(p3265: CameraInfo) -> None:
    body = ajr(requests, p3265, BDI, "getAllUnrestrictedProperties").json()
    assert "Soc" not in body["data"]["propertyList"]
    assert body["data"]["propertyList"]["ProdNbr"] == "P3265-V"


def test_unrestricted_properties_missing_on_9_80(fleet: FleetThread) -> None:
    camera = fleet.by_product("M1065-LW")
    body = ajr(requests, camera, BDI, "getAllUnrestrictedProperties").json()
    assert body["error"]["code"] == 2004


def test_basic_device_info_errors(p3265: CameraInfo) -> None:
    root = session_for(p3265)
    unknown = ajr(root, p3265, BDI, "getProperties", {"propertyList": ["Nope"]}).json()
    assert unknown["error"] == {"code": 1000, "message": "Property not supported: Nope"}
    some = ajr(root, p3265, BDI, "getProperties", {"propertyList": ["Brand"]}).json()
    assert some["data"] == {"propertyList": {"Brand": "AXIS"}}
    assert ajr(root, p3265, BDI, "getAllProperties", version="2.0").json()["error"]["code"] == 2003
    assert ajr(root, p3265, BDI, "bogus").json()["error"]["code"] == 2004
    wrong_http = requests.get(p3265.base_url + BDI, timeout=5).json()
    assert wrong_http["error"]["code"] == 2002
    junk = requests.post(
        p3265.base_url + BDI, data="{", headers={"Content-Type": "application/json"}, timeout=5
    ).json()
    assert junk["error"]["code"] == 4000
    no_type = requests.post(p3265.base_url + BDI, data=b'{"method": "x"}', timeout=5).json()
    # The CGI reads its body as JSON whatever the Content-Type (issue 10): without one, the
    # envelope is judged as with application/json (here: apiVersion missing).
    assert no_type["error"]["code"] == 4002
    assert no_type == ajr(requests, p3265, BDI, "x", version=None).json()


def test_get_supported_versions_shapes(p3265: CameraInfo) -> None:
    bdi = ajr(requests, p3265, BDI, "getSupportedVersions", version=None).json()
    assert bdi == {"method": "getSupportedVersions", "data": {"apiVersions": ["1.3"]}}
    with_version = ajr(requests, p3265, DISCOVERY, "getSupportedVersions").json()
    assert with_version["error"] == {
        "code": 4002,
        "message": "'apiVersion' must not be provided for method 'getSupportedVersions'",
    }
    fw = ajr(session_for(p3265), p3265, FWMGR, "getSupportedVersions", version=None).json()
    assert fw == {
        "apiVersion": "1.10",
        "method": "getSupportedVersions",
        "data": {"apiVersions": ["1.10"]},
    }


def test_api_discovery_list_shape(p3265: CameraInfo) -> None:
    body = ajr(requests, p3265, DISCOVERY, "getApiList", context="onboard").json()
    assert list(body)[:3] == ["method", "apiVersion", "context"]
    entries = body["data"]["apiList"]
    ids = [entry["id"] for entry in entries]
    assert ids.count("privacy-mask") == 2
    assert "status" not in next(e for e in entries if e["id"] == "packagemanager")
    assert next(e for e in entries if e["id"] == "fwmgr")["version"] == "1.10"
    filtered = ajr(requests, p3265, DISCOVERY, "getApiList", {"id": "fw*"}).json()
    assert [e["id"] for e in filtered["data"]["apiList"]] == ["fwmgr"]
    nothing = ajr(requests, p3265, DISCOVERY, "getApiList", {"id": "nope"}).json()
    assert nothing["data"]["apiList"] == []


def test_api_discovery_needs_auth_on_10_12(fleet: FleetThread) -> None:
    camera = fleet.by_product("M3066-V")
    assert ajr(requests, camera, DISCOVERY, "getApiList").status_code == 401
    assert ajr(session_for(camera), camera, DISCOVERY, "getApiList").status_code == 200


def test_legacy_camera_has_no_json_apis(fleet: FleetThread) -> None:
    camera = fleet.by_product("M3024-L")
    for path in (DISCOVERY, BDI, FWMGR, SYSTEMREADY):
        response = ajr(session_for(camera), camera, path, "getSupportedVersions", version=None)
        assert response.status_code == 404
        assert "<title>404 Not Found</title>" in response.text
    assert requests.get(camera.base_url + PARAM, timeout=5).headers["Server"].startswith("Boa/")


def test_systemready_fields_follow_the_firmware(fleet: FleetThread) -> None:
    modern = ajr(requests, fleet.by_product("P3265-V"), SYSTEMREADY, "systemready").json()
    assert modern["apiVersion"] == "1.5"
    assert modern["method"] == "systemready"
    assert set(modern["data"]) == {
        "systemready",
        "needsetup",
        "uptime",
        "bootid",
        "passphrasepolicy",
    }
    old = ajr(requests, fleet.by_product("M3066-V"), SYSTEMREADY, "systemready").json()
    assert old["apiVersion"] == "1.2"
    assert old["data"] == {"systemready": "yes", "needsetup": "no"}


# ----- firmware management: API -----------------------------------------------------------------


def test_fwmgr_errors_match_the_recording(p3265: CameraInfo) -> None:
    root = session_for(p3265)
    bogus = ajr(root, p3265, FWMGR, "bogus").json()
    assert bogus == {
        "apiVersion": "1.10",
        "method": "bogus",
        "error": {"code": 405, "message": "Unknown method in request."},
    }
    assert ajr(root, p3265, FWMGR, "status", version="2.0").json()["error"]["code"] == 417
    assert ajr(root, p3265, FWMGR, "rollback").json()["error"] == {
        "code": 404,
        "message": "No old firmware exists.",
    }
    junk = root.post(p3265.base_url + FWMGR, data="[", headers={"Content-Type": JSON}, timeout=5)
    assert junk.status_code == 200
    assert junk.json()["error"]["code"] == 400


JSON = "application/json"


def test_fresh_status_shape(p3265: CameraInfo) -> None:
    body = ajr(session_for(p3265), p3265, FWMGR, "status", context="c1").json()
    assert body["context"] == "c1"
    assert set(body["data"]) == {"activeFirmwareVersion", "activeFirmwarePart", "resetSource"}
    assert body["data"]["activeFirmwarePart"].isdigit()


def test_upgrade_reboots_into_an_uncommitted_image_then_commit(p3265: CameraInfo) -> None:
    root = session_for(p3265)
    old_version = p3265.version
    boot_id = systemready(p3265)["bootid"]
    target = next_version(p3265)
    image = build_image([p3265.product_number, "M1075-L"], target, 50_000)
    answer = upgrade(root, p3265, image, {"autoCommit": "never", "autoRollback": "30"})
    assert answer.json() == {
        "apiVersion": "1.10",
        "context": "t",
        "method": "upgrade",
        "data": {"firmwareVersion": target},
    }
    wait_until(lambda: refused(p3265))
    wait_for_new_boot(p3265, boot_id)
    data = status(root, p3265)
    assert data["activeFirmwareVersion"] == target
    assert data["inactiveFirmwareVersion"] == old_version
    assert data["isCommited"] is False
    assert 0 < data["timeToRollback"] <= 1800
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$", data["lastUpgradeAt"])
    commit = ajr(root, p3265, FWMGR, "commit").json()
    assert commit["data"] == {"firmwareVersion": target}
    after = status(root, p3265)
    assert after["isCommited"] is True
    assert "timeToRollback" not in after
    assert ajr(root, p3265, BDI, "getAllProperties").json()["data"]["propertyList"]["Version"] == (
        target
    )


def test_uncommitted_image_rolls_back_by_itself(fleet: FleetThread, p3265: CameraInfo) -> None:
    root = session_for(p3265)
    old_version = p3265.version
    boot_id = systemready(p3265)["bootid"]
    image = build_image(p3265.product_number, next_version(p3265), 10_000)
    upgrade(root, p3265, image, {"autoRollback": "3"})  # autoCommit default -> never
    new_boot = wait_for_new_boot(p3265, boot_id)
    assert status(root, p3265)["isCommited"] is False
    wait_for_new_boot(p3265, new_boot["bootid"])
    data = status(root, p3265)
    assert data["activeFirmwareVersion"] == old_version
    assert "inactiveFirmwareVersion" not in data
    events = [entry["event"] for entry in fleet.state(p3265.serial)["log"]]
    assert "auto-rollback" in events


def test_default_params_commit_when_boot_finishes(p3265: CameraInfo) -> None:
    root = session_for(p3265)
    boot_id = systemready(p3265)["bootid"]
    upgrade(root, p3265, build_image(p3265.product_number, next_version(p3265), 1000))
    wait_for_new_boot(p3265, boot_id)
    data = status(root, p3265)
    assert data["isCommited"] is True
    assert "timeToRollback" not in data


def test_rollback_method_restores_old_version_and_settings(p3265: CameraInfo) -> None:
    root = session_for(p3265)
    old_version = p3265.version
    boot_id = install_next_version(root, p3265)
    added = root.post(
        p3265.base_url + PWDGRP,
        data={"action": "add", "user": "temp", "pwd": "Temp-Pass-123", "sgrp": "viewer"},
    )
    assert page_text(added) == "Created account temp."
    assert ajr(root, p3265, FWMGR, "rollback").json()["data"] == {}
    wait_for_new_boot(p3265, boot_id)
    assert status(root, p3265)["activeFirmwareVersion"] == old_version
    users = root.get(p3265.base_url + PWDGRP + "?action=get").text
    assert "temp" not in users


def test_upgrade_refusals_use_the_documented_codes(p3265: CameraInfo) -> None:
    root = session_for(p3265)
    product = p3265.product_number
    newer = next_version(p3265)
    cases = {
        421: build_image("M1075-L", newer, 1000),
        415: build_image(product, newer, 5000, corrupt=True),
        422: build_image(product, newer, 1000, signed=False),
        424: build_image(product, newer, 1000, cert="unknown"),
        410: build_image(product, newer, 1000, revoked=True),
        409: build_image(product, "12.11.1", 1000),
    }
    for code, image in cases.items():
        body = upgrade(root, p3265, image).json()
        assert body["error"]["code"] == code, body
    assert upgrade(root, p3265, b"\x1f\x8b junk bytes 20").json()["error"]["code"] == 421
    truncated = build_image(product, newer, 5000)[:-10]
    assert upgrade(root, p3265, truncated).json()["error"]["code"] == 415
    bad_param = upgrade(root, p3265, build_image(product, newer, 10), {"autoCommit": "x"})
    assert bad_param.json()["error"]["code"] == 400
    message = upgrade(root, p3265, cases[409]).json()["error"]["message"]
    assert message == "Downgrade is only allowed if factoryDefault=hard is set."
    assert status(root, p3265)["activeFirmwareVersion"] == p3265.version


def test_upgrade_while_uncommitted_is_412_and_purge_too(p3265: CameraInfo) -> None:
    root = session_for(p3265)
    boot_id = systemready(p3265)["bootid"]
    image = build_image(p3265.product_number, next_version(p3265), 1000)
    upgrade(root, p3265, image, {"autoCommit": "never", "autoRollback": "never"})
    wait_for_new_boot(p3265, boot_id)
    assert upgrade(root, p3265, image).json()["error"]["code"] == 412
    assert ajr(root, p3265, FWMGR, "purge").json()["error"]["code"] == 412
    assert ajr(root, p3265, FWMGR, "commit").status_code == 200
    assert ajr(root, p3265, FWMGR, "purge").json()["data"] == {}
    assert "inactiveFirmwareVersion" not in status(root, p3265)


def test_second_request_during_an_upgrade_is_423(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_fault(p3265.serial, "slow-link", 100_000)
    root = session_for(p3265)
    status(root, p3265)  # primes the nonce so the upload is not sent twice
    target = next_version(p3265)
    image = build_image(p3265.product_number, target, 40_000)

    result: dict[str, requests.Response] = {}
    worker = threading.Thread(target=lambda: result.update(r=upgrade(root, p3265, image)))
    worker.start()
    wait_until(lambda: fleet.state(p3265.serial)["fwmgr_busy"] == "receiving")
    assert ajr(session_for(p3265), p3265, FWMGR, "status").json()["error"]["code"] == 423
    worker.join()
    assert result["r"].json()["data"]["firmwareVersion"] == target


def test_json_part_with_filename_knob(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_knobs(p3265.serial, reject_json_filename=True)
    envelope = json.dumps({"apiVersion": "1.0", "method": "upgrade"})
    files = [
        ("json", ("blob", envelope, "application/json")),
        ("file", ("x.bin", b"123", "application/octet-stream")),
    ]
    body = session_for(p3265).post(p3265.base_url + FWMGR, files=files, timeout=5).json()
    assert body["error"] == {"code": 400, "message": "Only string objects allowed."}


def test_expect_continue_gets_401_before_the_body(p3265: CameraInfo) -> None:
    with socket.create_connection((p3265.host, p3265.port), timeout=5) as connection:
        connection.sendall(
            b"POST /axis-cgi/firmwaremanagement.cgi HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 99999999\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        head = connection.recv(4096)
    assert head.startswith(b"HTTP/1.1 401")


def test_boot_failure_comes_back_on_the_old_version(p3265: CameraInfo) -> None:
    root = session_for(p3265)
    old = p3265.version
    image = build_image(p3265.product_number, next_version(p3265), 1000, boots=False)
    assert "data" in upgrade(root, p3265, image).json()
    wait_until(lambda: status_or_none(root, p3265) == old)


def status_or_none(session: requests.Session, camera: CameraInfo) -> str | None:
    """Return the active version once the camera answers fwmgr normally, else None."""
    try:
        response = ajr(session, camera, FWMGR, "status")
    except requests.ConnectionError:
        return None
    if response.status_code != 200 or "data" not in response.json():
        return None
    data = response.json()["data"]
    return data["activeFirmwareVersion"] if "inactiveFirmwareVersion" not in data else None


def test_power_cycle_rolls_back_an_uncommitted_image(fleet: FleetThread, p3265: CameraInfo) -> None:
    root = session_for(p3265)
    old = p3265.version
    new_boot = install_next_version(root, p3265, {"autoRollback": "30"})
    fleet.power_cycle(p3265.serial)
    wait_for_new_boot(p3265, new_boot)
    assert status(root, p3265)["activeFirmwareVersion"] == old


def test_reboot_keeps_the_rollback_timer(p3265: CameraInfo) -> None:
    root = session_for(p3265)
    boot_id = install_next_version(root, p3265, {"autoRollback": "30"})
    assert ajr(root, p3265, FWMGR, "reboot").json()["data"] == {}
    wait_for_new_boot(p3265, boot_id)
    data = status(root, p3265)
    assert data["isCommited"] is False
    assert "timeToRollback" in data
    assert ajr(root, p3265, FWMGR, "stopAuto").json()["data"] == {}
    stopped = status(root, p3265)
    assert stopped["isCommited"] is False
    assert "timeToRollback" not in stopped


def test_factory_default_needs_a_new_initial_admin(fleet: FleetThread) -> None:
    camera = fleet.by_product("M1075-L")  # 11.11: the first admin must be root
    root = session_for(camera)
    boot_id = systemready(camera)["bootid"]
    assert ajr(root, camera, FWMGR, "factoryDefault", {"factoryDefaultMode": "soft"}).ok
    ready = wait_for_new_boot(camera, boot_id)
    assert ready["needsetup"] == "yes"
    assert "previewmode" in ready
    url = camera.base_url + PWDGRP
    not_yet = requests.post(url, data={"action": "get"}, timeout=5)
    assert not_yet.status_code == 401
    assert page_text(not_yet) == "Error: initial admin user must be created first."
    wrong = requests.post(
        url,
        data={"action": "add", "user": "boss", "pwd": "Pw-1", "grp": "users", "sgrp": "admin"},
        timeout=5,
    )
    assert wrong.status_code == 401
    assert page_text(wrong) == "Error: not a valid initial admin user."
    first = requests.post(
        url,
        data={
            "action": "add",
            "user": "root",
            "pwd": "New-Root-Pass-1",
            "grp": "root",
            "sgrp": "admin:operator:viewer:ptz",
        },
        timeout=5,
    )
    assert page_text(first) == "Created account root."
    usergroup = requests.get(
        camera.base_url + "/axis-cgi/usergroup.cgi",
        auth=HTTPDigestAuth("root", "New-Root-Pass-1"),
        timeout=5,
    )
    assert usergroup.text == "root\nadmin operator viewer ptz\n"


def test_legacy_firmwareupgrade_cgi(fleet: FleetThread) -> None:
    camera = fleet.by_product("M3024-L")
    root = session_for(camera)
    root.get(camera.base_url + "/axis-cgi/usergroup.cgi")
    image = build_image("M3024-L", "5.51.7.6", 1000)
    response = root.post(
        camera.base_url + "/axis-cgi/firmwareupgrade.cgi",
        files={"fileData": ("M3024-L_5_51_7_6.bin", image)},
        timeout=5,
    )
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Upgrade successful" in response.text
    wait_until(lambda: refused(camera))
    wait_until(lambda: camera.version == "5.51.7.6" and not refused(camera))


# ----- parameters and users ---------------------------------------------------------------------


def test_param_list_prefix_rules(p3265: CameraInfo) -> None:
    root = session_for(p3265)
    url = p3265.base_url + PARAM
    whole = root.get(url, params={"action": "list", "group": "Brand"}, timeout=5)
    assert whole.headers["Content-Type"] == "text/plain; charset=iso-8859-1"
    assert whole.text.startswith("root.Brand.Brand=AXIS\n")
    single = root.get(url, params={"action": "list", "group": "root.Network.SSH.Enabled"}).text
    assert single == "root.Network.SSH.Enabled=no\n"
    bare = root.get(url, params={"action": "list", "group": "Properties.System.SerialNumber"})
    assert bare.text == f"Properties.System.SerialNumber={p3265.serial}\n"
    wildcard = root.get(url, params={"action": "list", "group": "ImageSource.*.Name"}).text
    assert wildcard == "root.ImageSource.I0.Name=Image source 1\n"


def test_param_list_error_and_the_12x_prefix_quirk(p3265: CameraInfo) -> None:
    text = (
        session_for(p3265)
        .get(p3265.base_url + PARAM + "?action=list&group=Network.Filter,Time.SyncSource")
        .text
    )
    assert text == (
        "# Error: Error -1 getting param in group 'Network.Filter'\nTime.SyncSource=NTP\n"
    )
    text = session_for(p3265).get(p3265.base_url + PARAM + "?action=list&group=Nope,Time.DST").text
    assert text.splitlines()[1] == "Time.DST.Enabled=yes"


def test_viewer_sees_no_network_params(p3265: CameraInfo) -> None:
    viewer = session_for(p3265, "viewer")
    text = viewer.get(p3265.base_url + PARAM + "?action=list", timeout=5).text
    assert "root.Brand.ProdNbr=P3265-V" in text
    assert "root.Network." not in text


def test_param_update_reads_back(p3265: CameraInfo) -> None:
    root = session_for(p3265)
    url = p3265.base_url + PARAM
    assert root.post(url, data={"action": "update", "Network.SSH.Enabled": "yes"}).text == "OK\n"
    listed = root.get(url + "?action=list&group=Network.SSH.Enabled").text
    assert listed == "Network.SSH.Enabled=yes\n"
    readonly = root.get(url + "?action=update&Brand.ProdNbr=X").text
    assert readonly == "# Error: Error setting 'Brand.ProdNbr' to 'X'!\n"


def test_pwdgrp_texts(p3265: CameraInfo) -> None:
    root = session_for(p3265)
    url = p3265.base_url + PWDGRP

    def call(**data: str) -> str:
        response = root.post(url, data=data, timeout=5)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/html")
        assert response.text.startswith("<html><head><title>User accounts</title></head>")
        return page_text(response)

    add = {"action": "add", "user": "joe", "pwd": "Corr3ct Horse", "grp": "users"}
    assert call(**add, sgrp="viewer:operator", comment="NOC") == "Created account joe."
    assert call(**add, sgrp="viewer") == (
        "Error: this user name already exists, consult the system log file."
    )
    assert call(action="add", user="bad_name!", pwd="x", sgrp="viewer") == (
        "Error: account user name."
    )
    assert call(action="add", user="a" * 15, pwd="x", sgrp="viewer") == (
        "Error: account user name."
    )
    assert call(action="add", user="ann", pwd="", sgrp="viewer") == "Error: invalid password."
    assert call(action="add", user="ann", pwd="ü-pass", sgrp="viewer", strict_pwd="1") == (
        "Error: invalid password."
    )
    assert call(action="update", user="joe", pwd="N3w-Passphrase") == "Modified account joe."
    assert call(action="update", user="nobody", pwd="x") == "Error: account user name."
    assert call(action="frobnicate") == "Error: action operation type."
    groups = root.get(url + "?action=get", timeout=5)
    assert groups.headers["Content-Type"].startswith("text/plain")
    lines = dict(line.split("=", 1) for line in groups.text.split("\r\n") if line)
    assert lines["operator"] == '"joe,operator,root"'
    assert lines["digusers"] == '"root,operator,viewer,joe"'
    joe = requests.get(
        p3265.base_url + "/axis-cgi/usergroup.cgi",
        auth=HTTPDigestAuth("joe", "N3w-Passphrase"),
        timeout=5,
    )
    assert joe.text == "joe\nusers operator viewer\n"
    assert call(action="remove", user="joe") == "Removed account joe."


def test_complex_passphrase_policy(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_knobs(p3265.serial, passphrase_policy="complex")
    root = session_for(p3265)
    url = p3265.base_url + PWDGRP
    weak = root.post(url, data={"action": "add", "user": "u1", "pwd": "short", "sgrp": "viewer"})
    assert page_text(weak) == "Error: invalid password."
    strong = {"action": "add", "user": "u1", "pwd": "Str0ng-Enough!", "sgrp": "viewer"}
    assert page_text(root.post(url, data=strong)) == "Created account u1."
    assert systemready(p3265)["passphrasepolicy"] == "complex"


def test_last_admin_cannot_be_removed(p3265: CameraInfo) -> None:
    response = session_for(p3265).post(
        p3265.base_url + PWDGRP, data={"action": "remove", "user": "root"}
    )
    assert page_text(response) == "Error: malformed action operation, remove."


# ----- media, PTZ, recordings -------------------------------------------------------------------


def test_snapshots_are_jpegs_that_differ_per_camera(fleet: FleetThread) -> None:
    images = []
    for camera in fleet.cameras[:2]:
        response = session_for(camera).get(
            camera.base_url + "/axis-cgi/jpg/image.cgi", params={"resolution": "320x240"}
        )
        assert response.headers["Content-Type"] == "image/jpeg"
        assert response.content[:3] == b"\xff\xd8\xff"
        image = Image.open(io.BytesIO(response.content))
        assert image.size == (320, 240)
        images.append(image.getpixel((1, 120)))
    assert images[0] != images[1]
    unsupported = session_for(fleet.cameras[0]).get(
        fleet.cameras[0].base_url + "/axis-cgi/jpg/image.cgi?resolution=1x1"
    )
    assert unsupported.headers["Content-Type"].startswith("text/plain")


def test_mjpeg_stream_sends_the_requested_frames(p3265: CameraInfo) -> None:
    response = session_for(p3265).get(
        p3265.base_url + "/axis-cgi/mjpg/video.cgi?resolution=320x240&nbrofframes=3&fps=30",
        timeout=5,
    )
    assert response.headers["Content-Type"] == "multipart/x-mixed-replace; boundary=myboundary"
    parts = response.content.split(b"--myboundary\r\n")[1:]
    assert len(parts) == 3
    head, _, rest = parts[0].partition(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    assert rest[:3] == b"\xff\xd8\xff"
    assert rest[length:] == b"\r\n"


def test_ptz_presets(fleet: FleetThread) -> None:
    camera = fleet.by_product("Q6135-LE")
    root = session_for(camera)
    url = camera.base_url + "/axis-cgi/com/ptz.cgi"
    assert root.get(url + "?query=presetposall").text == (
        "Preset Positions for camera 1\r\npresetposno1=Home\r\n"
    )
    assert root.get(url + "?pan=45&tilt=10").status_code == 204
    assert root.get(url + "?setserverpresetname=Gate").status_code == 204
    assert root.get(url + "?move=home").status_code == 204
    assert root.get(url + "?gotoserverpresetname=Gate").status_code == 204
    assert root.get(url + "?query=position").text.startswith("pan=45\r\ntilt=10\r\n")
    params = root.get(camera.base_url + PARAM + "?action=list&group=PTZ.Preset").text
    assert "root.PTZ.Preset.P0.Position.P2.Name=Gate" in params
    no_ptz = fleet.by_product("P3265-V")
    assert session_for(no_ptz).get(no_ptz.base_url + "/axis-cgi/com/ptz.cgi").status_code == 404


def test_recordings_list_and_playback(p3265: CameraInfo) -> None:
    root = session_for(p3265)
    listing = root.get(p3265.base_url + "/axis-cgi/record/list.cgi?recordingid=all", timeout=5)
    assert listing.headers["Content-Type"].startswith("text/xml")
    recordings = ET.fromstring(listing.text).find("recordings")  # noqa: S314 - our own XML
    items = recordings.findall("recording")
    assert int(recordings.get("totalnumberofrecordings")) == len(items) >= 3
    first = items[0].get("recordingid")
    assert first.endswith(p3265.serial)
    playback = root.get(
        p3265.base_url + "/axis-cgi/record/export/exportrecording.cgi",
        params={"recordingid": first, "diskid": "SD_DISK", "nbrofframes": "2"},
        timeout=5,
    )
    assert playback.content.count(b"--myboundary\r\n") == 2
    missing = root.get(p3265.base_url + "/axis-cgi/record/export/exportrecording.cgi?recordingid=x")
    assert missing.status_code == 404


# ----- faults -----------------------------------------------------------------------------------


def test_fault_offline_refuses_connections(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_fault(p3265.serial, "offline")
    assert refused(p3265)
    fleet.clear_faults(p3265.serial)
    assert systemready(p3265)["systemready"] == "yes"


def test_fault_slow_link_limits_bytes_per_second(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_fault(p3265.serial, "slow-link", 40_000)
    root = session_for(p3265)
    started = time.monotonic()
    response = root.get(p3265.base_url + "/axis-cgi/jpg/image.cgi?resolution=640x480")
    elapsed = time.monotonic() - started
    assert elapsed >= len(response.content) / 40_000 * 0.8


def test_fault_wrong_credentials(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_fault(p3265.serial, "wrong-credentials")
    assert session_for(p3265).get(p3265.base_url + PARAM + "?action=list").status_code == 401


def test_fault_refuse_image(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_fault(p3265.serial, "refuse-image", 422)
    image = build_image(p3265.product_number, next_version(p3265), 10)
    assert upgrade(session_for(p3265), p3265, image).json()["error"]["code"] == 422


def test_fault_hang_never_answers(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_fault(p3265.serial, "hang")
    with pytest.raises(requests.ReadTimeout):
        requests.get(p3265.base_url + PARAM, timeout=0.3)


def test_fault_html_errors(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_fault(p3265.serial, "html-errors", 502)
    response = ajr(requests, p3265, SYSTEMREADY, "systemready")
    assert response.status_code == 502
    assert "<title>502 Bad Gateway</title>" in response.text


def test_fault_never_returns(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_fault(p3265.serial, "never-returns")
    assert ajr(session_for(p3265), p3265, FWMGR, "reboot").json()["data"] == {}
    wait_until(lambda: refused(p3265))
    time.sleep(Timing().down * fleet.fleet.time_scale * 3)  # three reboot windows
    assert refused(p3265)
    assert fleet.state(p3265.serial)["phase"] == "down"


def test_fault_comes_back_old(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_fault(p3265.serial, "comes-back-old")
    old = p3265.version
    root = session_for(p3265)
    upgrade(root, p3265, build_image(p3265.product_number, next_version(p3265), 10))
    wait_until(lambda: status_or_none(root, p3265) == old)
    events = [entry["event"] for entry in fleet.state(p3265.serial)["log"]]
    assert "boot-failed" in events


def test_fault_flapping(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_fault(p3265.serial, "flapping", 20)  # 20 simulated s = 0.1 s here
    wait_until(lambda: refused(p3265))
    wait_until(lambda: not refused(p3265))


def test_fault_answer_lost(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_fault(p3265.serial, "answer-lost")
    root = session_for(p3265)
    boot_id = systemready(p3265)["bootid"]
    target = next_version(p3265)
    with pytest.raises(requests.ConnectionError):
        upgrade(root, p3265, build_image(p3265.product_number, target, 10))
    wait_for_new_boot(p3265, boot_id)
    assert p3265.version == target


def test_fault_names_are_validated(fleet: FleetThread, p3265: CameraInfo) -> None:
    with pytest.raises(FaultSpecError):
        fleet.set_fault(p3265.serial, "gremlins")
    with pytest.raises(FaultSpecError):
        parse_spec("offline=lots")


# ----- control API, fleet file, determinism ----------------------------------------------------


def test_control_api(fleet: FleetThread, p3265: CameraInfo) -> None:
    base = fleet.control_url
    cameras = requests.get(base + "/cameras", timeout=5).json()
    assert {c["serial"] for c in cameras} == {c.serial for c in fleet.cameras}
    url = f"{base}/cameras/{p3265.serial}"
    set_faults = requests.post(url + "/faults", json={"offline": True}, timeout=5).json()
    assert set_faults == {"faults": {"offline": True}}
    assert refused(p3265)
    assert requests.delete(url + "/faults", timeout=5).json() == {"faults": {}}
    assert not refused(p3265)
    bad = requests.post(url + "/faults", json={"bogus": 1}, timeout=5)
    assert bad.status_code == 400
    knobs = requests.post(url + "/knobs", json={"privilege_status": 403}, timeout=5).json()
    assert knobs["knobs"]["privilege_status"] == 403
    spec = requests.post(base + "/faults", json={"spec": "html-errors=all:500"}, timeout=5)
    assert len(spec.json()) == len(fleet.cameras)
    assert requests.get(p3265.base_url + "/axis-cgi/usergroup.cgi", timeout=5).status_code == 500
    assert requests.delete(base + "/faults", timeout=5).json() == {}
    assert requests.get(p3265.base_url + "/axis-cgi/usergroup.cgi", timeout=5).status_code == 401
    cycled = requests.post(url + "/power-cycle", timeout=5).json()
    assert cycled["phase"] == "down"
    assert refused(p3265)
    assert requests.post(base + "/reset", timeout=5).json() == {"cameras": len(fleet.cameras)}
    shown = requests.get(url, timeout=5).json()
    assert shown["faults"] == {}
    assert shown["log"][0]["event"] == "reset"
    assert requests.get(base + "/cameras/NOPE", timeout=5).status_code == 404


def test_fleet_file_json_and_csv(fleet: FleetThread, tmp_path: Path) -> None:
    entries = fleet.fleet.fleet_entries()
    json_rows = read_fleet_file(write_fleet_file(tmp_path / "fleet.json", entries))
    for row in json_rows:
        assert set(FLEET_FILE_KEYS) <= set(row)
    csv_rows = read_fleet_file(write_fleet_file(tmp_path / "fleet.csv", entries))
    assert [r["serial"] for r in csv_rows] == [r["serial"] for r in json_rows]
    assert csv_rows[0]["port"] == str(json_rows[0]["port"])
    assert list(csv_rows[0]) == FLEET_FILE_KEYS


def test_same_seed_same_fleet() -> None:
    def identities(seed: int) -> list[tuple[str, str, str, str, str]]:
        fleet = Fleet(30, seed=seed, first_port=40000)
        for camera in fleet.cameras:
            camera.reset()  # what start() does before anything listens: the first boot
        return [
            (c.serial, c.product.number, c.active_version, c.identity.admin_password, c.boot_id)
            for c in fleet.cameras
        ]

    assert identities(5) == identities(5)
    assert identities(5) != identities(6)
    assert len({serial for serial, *_ in identities(5)}) == 30
    assert len({boot_id for *_, boot_id in identities(5)}) == 30
    products = {product for _, product, *_ in identities(5) + identities(6)}
    assert len(products) >= 5


def test_fault_shares_are_deterministic() -> None:
    rules = parse_spec("offline=10%,never-returns=2,slow-link=5%:1000")
    first = assign(rules, 40, seed=9)
    assert first == assign(rules, 40, seed=9)
    assert sum("offline" in f for f in first) == 4
    assert sum("never-returns" in f for f in first) == 2
    assert [f["slow-link"] for f in first if "slow-link" in f] == [1000, 1000]


FLEET_FILE_KEYS = ["host", "port", "username", "password", "serial", "product_number"]
FLEET_FILE_KEYS += ["model", "version"]


def read_fleet_file(path: Path) -> list[dict[str, Any]]:
    """Return the rows of a --fleet-out file, JSON or CSV."""
    if path.suffix == ".csv":
        with path.open() as stream:
            return list(csv.DictReader(stream))
    return json.loads(path.read_text())


@pytest.mark.parametrize(
    ("entry_point", "fleet_file"),
    [(["-m", "devices.simulator"], "fleet.json"), (["manage.py", "simulate_cameras"], "fleet.csv")],
    ids=["python-m-json", "manage.py-csv"],
)
def test_command_writes_fleet_file_and_stops_on_ctrl_c(
    entry_point: list[str], fleet_file: str, tmp_path: Path
) -> None:
    out = tmp_path / fleet_file
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    arguments = ["--count", "3", "--seed", "2", "--fleet-out", str(out), "--faults", "offline=1"]
    process = subprocess.Popen(
        [sys.executable, *entry_point, *arguments],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        line = process.stdout.readline()
        assert "3 cameras listening" in line
        assert "(1 offline by fault)" in line
        rows = read_fleet_file(out)
        assert len(rows) == 3
        assert all(set(FLEET_FILE_KEYS) <= set(row) for row in rows)
        listening = [r for r in rows if not refused_address(r["host"], int(r["port"]))]
        assert len(listening) == 2
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        process.stdout.close()


def refused_address(host: str, port: int) -> bool:
    """Return whether host:port refuses TCP connections."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


# ----- firmware tool ----------------------------------------------------------------------------


def test_firmware_image_roundtrip_and_streaming_memory(tmp_path: Path) -> None:
    path = write_image(
        tmp_path / image_filename("P3265-V", "12.11.86"), ["P3265-V"], "12.11.86", 3 << 20
    )
    assert path.name == "P3265-V_12_11_86.bin"
    with path.open("rb") as stream:
        header = verify_stream(stream, chunk_size=7919)
    assert header.products == ("P3265-V",)
    assert header.version == "12.11.86"
    verifier = StreamingVerifier()
    for chunk in iter_image(make_header("M1075-L", "11.11.192"), 2 << 20):
        verifier.feed(chunk)
        # Only the trailer-sized tail is kept between chunks, whatever the image size.
        assert len(verifier._tail) <= TRAILER_LENGTH
    assert verifier.finish().version == "11.11.192"
    with pytest.raises(ImageError):
        verify_stream(io.BytesIO(build_image("P3265-V", "12.11.86", 1000, corrupt=True)))


# ----- HTTPS, knobs and the remaining faults ----------------------------------------------------


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_https_presents_the_pinned_certificate_and_offers_basic(
    fleet: FleetThread, p3265: CameraInfo
) -> None:
    pem = ssl.get_server_certificate((p3265.host, p3265.https_port))
    fingerprint = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()
    assert fingerprint == p3265.certificate_sha256
    url = p3265.https_url + "/axis-cgi/usergroup.cgi"
    challenge = requests.get(url, verify=False, timeout=5).headers["WWW-Authenticate"]  # noqa: S501
    assert challenge == f'Basic realm="AXIS_{p3265.serial}"'
    basic = HTTPBasicAuth("root", p3265.password)
    assert requests.get(url, auth=basic, verify=False, timeout=5).text.startswith("root\n")  # noqa: S501
    new = fleet.regenerate_certificate(p3265.serial)
    pem = ssl.get_server_certificate((p3265.host, p3265.https_port))
    assert hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest() == new != fingerprint


def test_lockout_after_failed_logins(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_knobs(p3265.serial, lockout_after=3, lockout_seconds=150)  # 0.75 s here
    wrong = HTTPDigestAuth("root", "wrong")
    url = p3265.base_url + "/axis-cgi/usergroup.cgi"
    for _ in range(3):
        assert requests.get(url, auth=wrong, timeout=5).status_code == 401
    right = HTTPDigestAuth("root", p3265.password)
    assert requests.get(url, auth=right, timeout=5).status_code == 401
    wait_until(lambda: requests.get(url, auth=right, timeout=5).status_code == 200)


def test_nonce_max_uses_makes_it_stale(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_knobs(p3265.serial, nonce_max_uses=2)
    path = "/axis-cgi/usergroup.cgi"
    challenge = requests.get(p3265.base_url + path, timeout=5).headers["WWW-Authenticate"]
    third = _digest_header(p3265, challenge, path).replace("nc=00000001", "nc=00000003")
    fields = dict(re.findall(r'(\w+)="?([^",]+)"?', challenge))
    ha1 = hashlib.md5(f"root:{fields['realm']}:{p3265.password}".encode()).hexdigest()  # noqa: S324
    ha2 = hashlib.md5(f"GET:{path}".encode()).hexdigest()  # noqa: S324
    digest = hashlib.md5(  # noqa: S324
        f"{ha1}:{fields['nonce']}:00000003:abc:auth:{ha2}".encode()
    ).hexdigest()
    third = re.sub(r'response="[0-9a-f]+"', f'response="{digest}"', third)
    response = requests.get(p3265.base_url + path, headers={"Authorization": third}, timeout=5)
    assert response.status_code == 401
    assert "stale=TRUE" in response.headers["WWW-Authenticate"]


def test_blackhole_reboot_accepts_but_never_answers(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_knobs(p3265.serial, down_mode="blackhole")
    fleet.set_fault(p3265.serial, "never-returns")
    ajr(session_for(p3265), p3265, FWMGR, "reboot")
    wait_until(lambda: fleet.state(p3265.serial)["phase"] == "down")
    assert not refused(p3265)
    with pytest.raises(requests.ReadTimeout):
        requests.get(p3265.base_url + PARAM, timeout=0.3)


def test_fault_latency(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_fault(p3265.serial, "latency", 300)
    started = time.monotonic()
    systemready(p3265)
    assert time.monotonic() - started >= 0.3


def test_fault_flaky_errors(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_fault(p3265.serial, "flaky-errors", 50)
    codes = {ajr(requests, p3265, SYSTEMREADY, "systemready").status_code for _ in range(30)}
    assert codes == {200, 500}


def test_fault_bad_json(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_fault(p3265.serial, "bad-json")
    response = ajr(requests, p3265, SYSTEMREADY, "systemready")
    assert response.status_code == 200
    with pytest.raises(ValueError, match=r"Expecting|Unterminated"):
        json.loads(response.text)


def test_fault_upload_reset(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_fault(p3265.serial, "upload-reset", 30)
    root = session_for(p3265)
    status(root, p3265)
    image = build_image(p3265.product_number, next_version(p3265), 2_000_000)
    with pytest.raises(requests.ConnectionError):
        upgrade(root, p3265, image)
    fleet.clear_faults(p3265.serial)
    assert "activeFirmwareVersion" in status(root, p3265)


def test_fault_upload_stall(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_fault(p3265.serial, "upload-stall", 30)
    root = session_for(p3265)
    status(root, p3265)
    image = build_image(p3265.product_number, next_version(p3265), 2_000_000)
    envelope = json.dumps({"apiVersion": "1.0", "method": "upgrade"})
    files = [("json", (None, envelope, JSON)), ("file", ("x.bin", image, "application/x"))]
    with pytest.raises(requests.ReadTimeout):
        root.post(p3265.base_url + FWMGR, files=files, timeout=0.5)


def test_fault_swapped_serial(fleet: FleetThread, p3265: CameraInfo) -> None:
    original = p3265.serial
    fleet.set_fault(original, "swapped-serial")
    boot_id = systemready(p3265)["bootid"]
    fleet.power_cycle(original)
    wait_for_new_boot(p3265, boot_id)
    properties = ajr(requests, p3265, BDI, "getAllUnrestrictedProperties").json()["data"]
    assert properties["propertyList"]["SerialNumber"] != original
    challenge = requests.get(p3265.base_url + PARAM, timeout=5).headers["WWW-Authenticate"]
    assert f"AXIS_{properties['propertyList']['SerialNumber']}" in challenge


def test_fault_clock_skew(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_fault(p3265.serial, "clock-skew", 7200)
    root = session_for(p3265)
    boot_id = systemready(p3265)["bootid"]
    upgrade(root, p3265, build_image(p3265.product_number, next_version(p3265), 10))
    wait_for_new_boot(p3265, boot_id)
    upgraded = datetime.fromisoformat(status(root, p3265)["lastUpgradeAt"])
    assert upgraded - datetime.now(UTC) > timedelta(hours=1)


def test_hard_factory_default_can_move_the_camera(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_knobs(p3265.serial, hard_reset_changes_ip=True)
    reply = ajr(session_for(p3265), p3265, FWMGR, "factoryDefault", {"factoryDefaultMode": "hard"})
    assert reply.json()["data"] == {}
    wait_until(lambda: refused(p3265))
    time.sleep(0.5)
    assert refused(p3265)


def test_a_taken_port_is_reported() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match="could not listen"):
            run_in_thread(count=1, first_port=port)


def test_firmware_command_writes_an_official_looking_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    firmware_main(["--product", "Q6135-LE", "--version", "12.9.60", "--size", "64k"])
    path = tmp_path / "Q6135-LE_12_9_60.bin"
    with path.open("rb") as stream:
        assert verify_stream(stream).products == ("Q6135-LE",)
    assert (
        path.stat().st_size
        == 64 * 1024 + TRAILER_LENGTH + len(path.read_bytes().split(b"\n")[0]) + 1
    )


def test_answer_after_flash_knob(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_knobs(p3265.serial, answer_after_flash=True)
    root = session_for(p3265)
    boot_id = systemready(p3265)["bootid"]
    target = next_version(p3265)
    answer = upgrade(root, p3265, build_image(p3265.product_number, target, 10))
    assert answer.json()["data"] == {"firmwareVersion": target}
    events = [entry["event"] for entry in fleet.state(p3265.serial)["log"]]
    assert events.index("flashing") < events.index("installed")
    wait_for_new_boot(p3265, boot_id)
    assert status(root, p3265)["activeFirmwareVersion"] == target


def test_upload_stall_for_a_while_then_completes(fleet: FleetThread, p3265: CameraInfo) -> None:
    fleet.set_knobs(p3265.serial, upload_stall_seconds=60)  # 0.3 s here
    fleet.set_fault(p3265.serial, "upload-stall", 50)
    root = session_for(p3265)
    status(root, p3265)
    target = next_version(p3265)
    started = time.monotonic()
    answer = upgrade(root, p3265, build_image(p3265.product_number, target, 2_000_000))
    assert time.monotonic() - started >= 0.3
    assert answer.json()["data"] == {"firmwareVersion": target}


def test_cameras_can_each_have_their_own_loopback_address() -> None:
    handle = run_in_thread(count=3, seed=4, time_scale=0.01, host="127.77.0.0/29")
    try:
        assert [c.host for c in handle.cameras] == ["127.77.0.1", "127.77.0.2", "127.77.0.3"]
        for camera in handle.cameras:
            properties = ajr(requests, camera, BDI, "getAllUnrestrictedProperties").json()
            if "data" in properties:  # the legacy model has no basicdeviceinfo
                assert properties["data"]["propertyList"]["SerialNumber"] == camera.serial
    finally:
        handle.stop()
    with pytest.raises(ValueError, match="loopback"):
        Fleet(2, host="192.0.2.1")
