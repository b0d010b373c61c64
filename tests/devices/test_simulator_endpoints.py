"""applications/list.cgi and the com/ptz.cgi queries of the simulator, over real HTTP.

The expected shapes are written here from the recorded answers; where the recordings are at
hand (``../shared/vapix-captures`` next to the repository), the tests also hold the simulator's
answers against them directly, and skip that part in a clone without them.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests
from requests.auth import HTTPDigestAuth

from devices.simulator.applications import CATALOG
from devices.simulator.fleet import CameraInfo, Fleet, FleetThread

TIMEOUT = 5
APPLICATIONS = "/axis-cgi/applications/list.cgi"
PTZ = "/axis-cgi/com/ptz.cgi"
CAPTURES = Path(__file__).resolve().parents[2].parent / "shared" / "vapix-captures"

# Attribute order of the recorded list answer (Q1615 Mk II, 9.80); any may be absent except
# the first four, License and Status.
APPLICATION_ATTRIBUTES = [
    "Name",
    "NiceName",
    "Vendor",
    "Version",
    "ApplicationID",
    "License",
    "Status",
    "ConfigurationPage",
    "VendorHomePage",
    "LicenseName",
]
REQUIRED_ATTRIBUTES = {"Name", "NiceName", "Vendor", "Version", "License", "Status"}
# Keys of the recorded ptz.cgi answers, in order.
LIMIT_KEYS = [
    "MinPan",
    "MaxPan",
    "MinTilt",
    "MaxTilt",
    "MinZoom",
    "MaxZoom",
    "MinIris",
    "MaxIris",
    "MinFocus",
    "MaxFocus",
    "MinFieldAngle",
    "MaxFieldAngle",
    "MinBrightness",
    "MaxBrightness",
]
POSITION_KEYS = ["pan", "tilt", "zoom", "iris", "focus", "brightness", "autofocus", "autoiris"]


def get(camera: CameraInfo, path: str, user: str = "root") -> requests.Response:
    """GET `path` as root, operator or viewer."""
    password = {
        "root": camera.password,
        "operator": camera.operator_password,
        "viewer": camera.viewer_password,
    }[user]
    return requests.get(
        camera.base_url + path, auth=HTTPDigestAuth(user, password), timeout=TIMEOUT
    )


def capture(name: str) -> str:
    """Return a recorded answer, or skip the comparison when the recordings are not here."""
    path = CAPTURES / name
    if not path.is_file():
        pytest.skip(f"recording {name} not available next to the repository")
    return path.read_text(encoding="utf-8")


def key_values(text: str) -> list[tuple[str, str]]:
    """Return the ``key=value`` lines of a text answer, in order."""
    return [tuple(line.split("=", 1)) for line in text.splitlines() if "=" in line]  # type: ignore[misc]


# ----- applications/list.cgi ------------------------------------------------------------------


def check_list_format(text: str) -> list[ET.Element]:
    """Assert the recorded line format of a list answer and return its application elements."""
    lines = text.splitlines()
    assert lines[0] == '<reply result="ok">'
    assert lines[-1] == "</reply>"
    for line in lines[1:-1]:
        assert re.fullmatch(r' <application( \w+="[^"]*")+ />', line), line
        names = re.findall(r' (\w+)="', line)
        assert set(names) >= REQUIRED_ATTRIBUTES
        assert names == [a for a in APPLICATION_ATTRIBUTES if a in names], "attribute order"
    root = ET.fromstring(text)  # noqa: S314 - our own simulator's answer
    assert root.tag == "reply"
    assert root.get("result") == "ok"
    return root.findall("application")


def test_every_camera_lists_its_applications_in_the_recorded_format(
    clean_camera_fleet: FleetThread,
) -> None:
    for camera in clean_camera_fleet.cameras:
        response = get(camera, APPLICATIONS)
        assert response.status_code == 200, camera.product_number
        assert response.headers["Content-Type"].startswith("text/xml")
        elements = check_list_format(response.text)
        names = [element.get("Name") for element in elements]
        assert names == [app["name"] for app in camera.applications]
        for element in elements:
            assert element.get("Status") in ("Running", "Stopped", "Idle")
            assert element.get("License") in ("Valid", "Invalid", "Missing", "Custom", "None")


def test_the_recorded_list_answer_has_the_same_format() -> None:
    # Our format check accepts the device's own answer: the two share one shape.
    elements = check_list_format(capture("q1615-mk2/applications.list.xml"))
    recorded = {name for element in elements for name in element.attrib}
    assert recorded == set(APPLICATION_ATTRIBUTES)


def test_applications_are_seeded_and_some_cameras_have_none() -> None:
    first = [camera.identity.applications for camera in Fleet(40, seed=3).cameras]
    again = [camera.identity.applications for camera in Fleet(40, seed=3).cameras]
    other = [camera.identity.applications for camera in Fleet(40, seed=4).cameras]
    assert first == again
    assert first != other
    assert any(not apps for apps in first)
    assert any(len(apps) >= 2 for apps in first)
    assert {app.name for apps in first for app in apps} <= {app.name for app in CATALOG}


def minimal(**extra: object) -> dict[str, object]:
    """Return the smallest valid application for the control API, plus `extra`."""
    return {**dict.fromkeys(("name", "nice_name", "vendor", "version"), "a"), **extra}


def test_the_control_api_sets_the_applications(clean_camera_fleet: FleetThread) -> None:
    camera = clean_camera_fleet.by_product("P3265-V")
    url = f"{clean_camera_fleet.control_url}/cameras/{camera.serial}/applications"
    wanted = [
        {
            "name": "acme",
            "nice_name": 'ACME "Eye" & Co',
            "vendor": "ACME",
            "version": "1.0-1",
            "status": "Stopped",
            "license": "Missing",
        },
        {
            "name": "vmd",
            "nice_name": "AXIS Video Motion Detection",
            "vendor": "Axis",
            "version": "4",
        },
    ]
    assert requests.post(url, json={"applications": wanted}, timeout=TIMEOUT).status_code == 200
    elements = check_list_format(get(camera, APPLICATIONS).text)
    assert [(e.get("Name"), e.get("NiceName"), e.get("Status")) for e in elements] == [
        ("acme", 'ACME "Eye" & Co', "Stopped"),
        ("vmd", "AXIS Video Motion Detection", "Running"),
    ]
    assert "ApplicationID" not in elements[0].attrib
    state = requests.get(
        f"{clean_camera_fleet.control_url}/cameras/{camera.serial}", timeout=TIMEOUT
    ).json()
    assert [app["name"] for app in state["applications"]] == ["acme", "vmd"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "give a list of applications"),
        ({"applications": [{"name": "x"}]}, "nice_name"),
        ({"applications": [minimal(status="Up")]}, "status"),
        ({"applications": [minimal(colour="red")]}, "unknown"),
        ({"applications": [minimal(), minimal()]}, "unique"),
    ],
)
def test_the_control_api_refuses_bad_applications_and_changes_nothing(
    clean_camera_fleet: FleetThread, body: dict[str, object], message: str
) -> None:
    camera = clean_camera_fleet.by_product("M1075-L")
    before = get(camera, APPLICATIONS).text
    url = f"{clean_camera_fleet.control_url}/cameras/{camera.serial}/applications"
    response = requests.post(url, json=body, timeout=TIMEOUT)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert get(camera, APPLICATIONS).text == before


def test_reset_and_factory_default_and_privilege(clean_camera_fleet: FleetThread) -> None:
    camera = clean_camera_fleet.by_product("M1075-L")
    initial = camera.applications
    installed = [
        {**CATALOG[0].as_dict(), "preinstalled": True},
        {**CATALOG[2].as_dict(), "preinstalled": False},
    ]
    clean_camera_fleet.set_applications(camera.serial, installed)
    assert [app["name"] for app in camera.applications] == [CATALOG[0].name, CATALOG[2].name]
    # Only an admin lists applications; a viewer gets the camera's privilege answer.
    assert get(camera, APPLICATIONS, user="viewer").status_code == 401
    # A factory default removes installed applications and keeps the preinstalled ones.
    response = requests.post(
        camera.base_url + "/axis-cgi/firmwaremanagement.cgi",
        json={"apiVersion": "1.0", "method": "factoryDefault"},
        auth=HTTPDigestAuth(camera.username, camera.password),
        timeout=TIMEOUT,
    )
    assert response.json()["data"] == {}
    clean_camera_fleet.wait_for(camera.serial, lambda state: bool(state["needs_setup"]))
    assert [app["name"] for app in camera.applications] == [CATALOG[0].name]
    clean_camera_fleet.reset(camera.serial)
    assert camera.applications == initial


def test_the_parameters_announce_the_application_api(clean_camera_fleet: FleetThread) -> None:
    for camera in clean_camera_fleet.cameras:
        text = get(camera, "/axis-cgi/param.cgi?action=list&group=Properties.EmbeddedDevelopment")
        values = dict(key_values(text.text))
        assert values["root.Properties.EmbeddedDevelopment.EmbeddedDevelopment"] == "yes"
        major, minor = values["root.Properties.EmbeddedDevelopment.Version"].split(".")
        assert (int(major), int(minor)) >= (1, 20)  # list.cgi needs 1.20 (Application API)


# ----- com/ptz.cgi queries ----------------------------------------------------------------------


def test_ptz_limits_in_the_recorded_format(clean_camera_fleet: FleetThread) -> None:
    camera = clean_camera_fleet.by_product("Q6135-LE")
    response = get(camera, PTZ + "?query=limits", user="viewer")
    assert response.headers["Content-Type"].startswith("text/plain")
    pairs = key_values(response.text)
    assert [key for key, _ in pairs] == LIMIT_KEYS
    limits = {key: int(value) for key, value in pairs}
    assert limits["MinPan"] < limits["MaxPan"]
    assert limits["MinTilt"] < limits["MaxTilt"]
    # The same limits are the parameters of PTZ.Limit.L1, as on the recorded device.
    params = dict(key_values(get(camera, "/axis-cgi/param.cgi?action=list&group=PTZ.Limit").text))
    assert {key.rsplit(".", 1)[1]: int(value) for key, value in params.items()} == limits


def test_ptz_position_mode_speed_presets_in_the_recorded_format(
    clean_camera_fleet: FleetThread,
) -> None:
    camera = clean_camera_fleet.by_product("Q6135-LE")
    position = key_values(get(camera, PTZ + "?query=position", user="viewer").text)
    assert [key for key, _ in position] == POSITION_KEYS
    values = dict(position)
    assert [float(values[key]) for key in ("pan", "tilt", "zoom")] == [0.0, 0.0, 1.0]
    assert values["autofocus"] in ("on", "off")
    assert get(camera, PTZ + "?query=mode", user="viewer").text.splitlines() == ["mode=normal"]
    speed = key_values(get(camera, PTZ + "?query=speed", user="viewer").text)
    assert speed[0][0] == "speed"
    assert 1 <= int(speed[0][1]) <= 100
    presets = get(camera, PTZ + "?query=presetposall", user="viewer").text.splitlines()
    assert presets == ["Preset Positions for camera 1", "presetposno1=Home"]
    # Relative moves change the reported position.
    assert get(camera, PTZ + "?rpan=10&rtilt=-5&rzoom=100").status_code == 204
    moved = dict(key_values(get(camera, PTZ + "?query=position", user="viewer").text))
    assert (moved["pan"], moved["tilt"], moved["zoom"]) == ("10", "-5", "101")


def test_ptz_info_lists_commands_the_simulator_carries_out(clean_camera_fleet: FleetThread) -> None:
    camera = clean_camera_fleet.by_product("Q6135-LE")
    lines = get(camera, PTZ + "?info=1", user="viewer").text.splitlines()
    assert lines[:3] == ["Available commands", ":", "{camera=[n]}"]
    commands = {line.split("=", 1)[0] for line in lines[3:]}
    assert {"pan", "tilt", "zoom", "gotoserverpresetname", "query"} <= commands
    queries = re.findall(r"\w+", next(line for line in lines if line.startswith("query="))[6:])
    for query in queries:
        answer = get(camera, f"{PTZ}?query={query}", user="viewer")
        assert answer.status_code == 200
        assert not answer.text.startswith("Error"), query


def test_ptz_answers_match_the_recordings(clean_camera_fleet: FleetThread) -> None:
    camera = clean_camera_fleet.by_product("Q6135-LE")
    for name, query in [
        ("limits", "query=limits"),
        ("position", "query=position"),
        ("mode", "query=mode"),
        ("speed", "query=speed"),
        ("presetposall", "query=presetposall"),
    ]:
        recorded = [key for key, _ in key_values(capture(f"ptz-unknown/ptz.query-{name}.txt"))]
        ours = [key for key, _ in key_values(get(camera, f"{PTZ}?{query}").text)]
        assert ours == recorded, name
    recorded_info = capture("ptz-unknown/ptz.info.txt").splitlines()
    ours_info = get(camera, PTZ + "?info=1").text.splitlines()
    assert ours_info[:3] == recorded_info[:3]
    recorded_commands = {line.strip().split("=", 1)[0] for line in recorded_info[2:]}
    assert {line.split("=", 1)[0] for line in ours_info[2:]} <= recorded_commands


@pytest.mark.parametrize("query", ["query=limits", "query=position", "query=mode", "info=1"])
def test_a_camera_without_ptz_has_no_ptz_cgi(clean_camera_fleet: FleetThread, query: str) -> None:
    # Non-PTZ models report Properties.PTZ.PTZ=no and have no ptz.cgi (Apache's 404).
    camera = clean_camera_fleet.by_product("P3265-V")
    response = get(camera, f"{PTZ}?{query}")
    assert response.status_code == 404
    assert "<title>404 Not Found</title>" in response.text
    params = get(camera, "/axis-cgi/param.cgi?action=list&group=Properties.PTZ.PTZ").text
    assert params == "Properties.PTZ.PTZ=no\n"


def test_list_cgi_answers_a_bodiless_xml_post_as_a_get(clean_camera_fleet: FleetThread) -> None:
    # A widely used client POSTs to list.cgi with Content-Type text/xml and no body.
    camera = clean_camera_fleet.by_product("Q6135-LE")
    posted = requests.post(
        camera.base_url + APPLICATIONS,
        headers={"Content-Type": "text/xml"},
        auth=HTTPDigestAuth(camera.username, camera.password),
        timeout=TIMEOUT,
    )
    assert posted.status_code == 200
    assert posted.text == get(camera, APPLICATIONS).text
