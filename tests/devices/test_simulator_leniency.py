"""The simulator reads requests as leniently as a real camera, over real HTTP with requests.

A camera's CGI reads the POSTed form (or JSON document) from the body whatever the client
labels it: widely used open-source clients send ``action=get`` to pwdgrp.cgi as ``text/plain``,
shell scripts send JSON with curl's form type or with no type at all. Every CGI must answer such
a request exactly as it answers the textbook one, and the JSON CGIs must stay as strict as a
real device where it is strict (POST only, JSON syntax, the envelope).
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
import requests
from PIL import Image
from requests.auth import HTTPDigestAuth

from devices.simulator.fleet import CameraInfo, FleetThread

TIMEOUT = 5
FORM = "application/x-www-form-urlencoded"
FORM_TYPES = [FORM, "text/plain", None]
JSON_TYPES = ["application/json", "text/plain", None]


def post(
    camera: CameraInfo,
    path: str,
    body: str | bytes,
    content_type: str | None,
    *,
    user: str = "root",
) -> requests.Response:
    """POST `body` labelled `content_type` (None: no Content-Type header) as `user`."""
    password = {
        "root": camera.password,
        "operator": camera.operator_password,
        "viewer": camera.viewer_password,
    }[user]
    headers = {"Content-Type": content_type} if content_type else {}
    data = body.encode() if isinstance(body, str) else body
    response = requests.post(
        camera.base_url + path,
        data=data,
        headers=headers,
        auth=HTTPDigestAuth(user, password),
        timeout=TIMEOUT,
    )
    # requests adds no Content-Type of its own to a bytes body: the request is as labelled.
    assert response.request.headers.get("Content-Type") == content_type
    return response


def answer(response: requests.Response) -> tuple[int, str, bytes]:
    """Return what two equal answers share: status, media type and body."""
    media_type = response.headers.get("Content-Type", "").split(";")[0]
    return response.status_code, media_type, response.content


# ----- the bug that was found -------------------------------------------------------------------


@pytest.mark.parametrize("content_type", FORM_TYPES)
def test_pwdgrp_get_reads_the_form_whatever_its_content_type(
    clean_camera_fleet: FleetThread, content_type: str | None
) -> None:
    camera = clean_camera_fleet.by_product("P3265-V")
    response = post(camera, "/axis-cgi/pwdgrp.cgi", "action=get", content_type)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    lines = dict(line.split("=", 1) for line in response.text.splitlines())
    assert lines["admin"] == '"root"'
    assert lines["digusers"] == '"root,operator,viewer"'


# ----- every form CGI answers the same for every label ---------------------------------------


FORM_CALLS: list[tuple[str, str, str, str]] = [
    # Each: product, path, form body, the user who sends it.
    ("P3265-V", "/axis-cgi/param.cgi", "action=list&group=Brand,Properties.Firmware", "viewer"),
    ("M1075-L", "/axis-cgi/param.cgi", "action=list&group=root.Network.SSH.Enabled", "root"),
    ("P3265-V", "/axis-cgi/param.cgi", "action=update&Image.I0.Text.DateEnabled=yes", "root"),
    ("P3265-V", "/axis-cgi/admin/param.cgi", "action=list&group=Brand.ProdNbr", "root"),
    ("M3024-L", "/axis-cgi/param.cgi", "action=list&group=Properties.Firmware.Version", "root"),
    ("P3265-V", "/axis-cgi/param.cgi", "action=bogus", "root"),
    ("P3265-V", "/axis-cgi/pwdgrp.cgi", "action=get", "root"),
    ("M1065-LW", "/axis-cgi/pwdgrp.cgi", "action=get", "root"),
    ("P3265-V", "/axis-cgi/pwdgrp.cgi", "action=remove&user=nobody", "root"),
    ("P3265-V", "/axis-cgi/pwdgrp.cgi", "action=frobnicate", "root"),
    ("P3265-V", "/axis-cgi/usergroup.cgi", "", "operator"),
    ("Q6135-LE", "/axis-cgi/com/ptz.cgi", "query=position", "viewer"),
    ("Q6135-LE", "/axis-cgi/com/ptz.cgi", "query=presetposall", "viewer"),
    ("Q6135-LE", "/axis-cgi/com/ptz.cgi", "query=limits", "viewer"),
    ("Q6135-LE", "/axis-cgi/com/ptz.cgi", "info=1", "viewer"),
    ("Q6135-LE", "/axis-cgi/com/ptz.cgi", "camera=1&query=mode", "viewer"),
    ("M1075-L", "/axis-cgi/applications/list.cgi", "", "root"),
    ("M1075-L", "/axis-cgi/record/list.cgi", "recordingid=all&maxnumberofresults=2", "viewer"),
    ("P3265-V", "/axis-cgi/jpg/image.cgi", "resolution=123x45", "viewer"),
    ("P3265-V", "/axis-cgi/mjpg/video.cgi", "resolution=123x45&nbrofframes=1", "viewer"),
    ("M1075-L", "/axis-cgi/record/export/exportrecording.cgi", "recordingid={first}", "viewer"),
]


@pytest.mark.parametrize(("product", "path", "body", "user"), FORM_CALLS)
def test_every_form_cgi_answers_the_same_for_every_content_type(
    clean_camera_fleet: FleetThread, product: str, path: str, body: str, user: str
) -> None:
    camera = clean_camera_fleet.by_product(product)
    if "{first}" in body:
        # The first edge recording: playback frames carry its own times, so they compare equal.
        listing = post(camera, "/axis-cgi/record/list.cgi", "", None, user=user).text
        body = body.format(first=re.findall(r'recordingid="([^"]+)"', listing)[0])
        body += "&nbrofframes=2"
    answers = {kind: answer(post(camera, path, body, kind, user=user)) for kind in FORM_TYPES}
    assert answers[FORM][0] == 200
    assert answers["text/plain"] == answers[FORM]
    assert answers[None] == answers[FORM]
    # The body was read, not ignored: the same arguments in the query give the same answer.
    by_query = requests.get(
        f"{camera.base_url}{path}?{body}",
        auth=HTTPDigestAuth(user, _password(camera, user)),
        timeout=TIMEOUT,
    )
    assert answer(by_query) == answers[FORM]


def _password(camera: CameraInfo, user: str) -> str:
    return {
        "root": camera.password,
        "operator": camera.operator_password,
        "viewer": camera.viewer_password,
    }[user]


@pytest.mark.parametrize("content_type", FORM_TYPES)
def test_pwdgrp_writes_read_the_form_whatever_its_content_type(
    clean_camera_fleet: FleetThread, content_type: str | None
) -> None:
    camera = clean_camera_fleet.by_product("M1075-L")
    pwdgrp = "/axis-cgi/pwdgrp.cgi"
    added = post(
        camera,
        pwdgrp,
        "action=add&user=nocviewer&pwd=Corr3ct+Horse+Battery&grp=users&sgrp=viewer&comment=NOC",
        content_type,
    )
    assert "Created account nocviewer." in added.text
    # The new account signs in with the password as sent (+ is a space in a form).
    who = requests.get(
        camera.base_url + "/axis-cgi/usergroup.cgi",
        auth=HTTPDigestAuth("nocviewer", "Corr3ct Horse Battery"),
        timeout=TIMEOUT,
    )
    assert who.text == "nocviewer\nusers viewer\n"
    changed = post(camera, pwdgrp, "action=update&user=nocviewer&sgrp=viewer:ptz", content_type)
    assert "Modified account nocviewer." in changed.text
    removed = post(camera, pwdgrp, "action=remove&user=nocviewer", content_type)
    assert "Removed account nocviewer." in removed.text


@pytest.mark.parametrize("content_type", FORM_TYPES)
def test_ptz_commands_read_the_form_whatever_its_content_type(
    clean_camera_fleet: FleetThread, content_type: str | None
) -> None:
    camera = clean_camera_fleet.by_product("Q6135-LE")
    ptz = "/axis-cgi/com/ptz.cgi"
    moved = post(camera, ptz, "pan=12.5&tilt=7&zoom=300", content_type)
    assert moved.status_code == 204
    position = post(camera, ptz, "query=position", content_type, user="viewer")
    assert position.text.startswith("pan=12.5\r\ntilt=7\r\nzoom=300\r\n")


# ----- order, line breaks, empty bodies, GET and POST -----------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "action=get",
        "action=get\n",
        "action=get\r\n",
        "user=&action=get",
    ],
)
def test_pwdgrp_get_ignores_argument_order_and_a_trailing_line_break(
    clean_camera_fleet: FleetThread, body: str
) -> None:
    camera = clean_camera_fleet.by_product("P3265-V")
    response = post(camera, "/axis-cgi/pwdgrp.cgi", body, "text/plain")
    assert response.text.startswith('root="root"\r\n')


def test_param_update_applies_every_pair_whatever_their_order(
    clean_camera_fleet: FleetThread,
) -> None:
    camera = clean_camera_fleet.by_product("P3265-V")
    body = "Image.I0.Text.DateEnabled=no&action=update&Image.I0.Text.TimeEnabled=no\n"
    assert post(camera, "/axis-cgi/param.cgi", body, None).text == "OK\n"
    listed = post(
        camera, "/axis-cgi/param.cgi", "action=list&group=Image.I0.Text", "text/plain"
    ).text
    assert "root.Image.I0.Text.DateEnabled=no\n" in listed
    assert "root.Image.I0.Text.TimeEnabled=no\n" in listed


@pytest.mark.parametrize("content_type", FORM_TYPES)
def test_an_empty_body_leaves_the_query_arguments(
    clean_camera_fleet: FleetThread, content_type: str | None
) -> None:
    camera = clean_camera_fleet.by_product("P3265-V")
    response = post(camera, "/axis-cgi/pwdgrp.cgi?action=get", b"", content_type)
    assert response.text.startswith('root="root"\r\n')
    nothing = post(camera, "/axis-cgi/pwdgrp.cgi", b"", content_type)
    assert "Error: action operation type." in nothing.text


def test_get_and_post_answer_alike_where_both_work(clean_camera_fleet: FleetThread) -> None:
    camera = clean_camera_fleet.by_product("P3265-V")
    auth = HTTPDigestAuth(camera.username, camera.password)
    for path, args in [
        ("/axis-cgi/param.cgi", "action=list&group=Brand"),
        ("/axis-cgi/pwdgrp.cgi", "action=get"),
        ("/axis-cgi/usergroup.cgi", ""),
    ]:
        url = f"{camera.base_url}{path}"
        got = requests.get(f"{url}?{args}", auth=auth, timeout=TIMEOUT)
        posted = requests.post(url, data=args.encode(), auth=auth, timeout=TIMEOUT)
        posted_query = requests.post(f"{url}?{args}", auth=auth, timeout=TIMEOUT)
        assert answer(got) == answer(posted) == answer(posted_query), path


def test_a_snapshot_takes_its_arguments_from_a_posted_form(clean_camera_fleet: FleetThread) -> None:
    camera = clean_camera_fleet.by_product("P3265-V")
    for kind in FORM_TYPES:
        response = post(camera, "/axis-cgi/jpg/image.cgi", "resolution=320x240", kind)
        assert response.headers["Content-Type"] == "image/jpeg"
        assert Image.open(io.BytesIO(response.content)).size == (320, 240)


# ----- JSON APIs ---------------------------------------------------------------------------------


def _without_clock(payload: dict[str, Any]) -> dict[str, Any]:
    """Drop the fields that change between two calls (systemready's uptime)."""
    data = payload.get("data")
    if isinstance(data, dict):
        payload = {**payload, "data": {k: v for k, v in data.items() if k != "uptime"}}
    return payload


JSON_CALLS: list[tuple[str, str, dict[str, Any], bool]] = [
    # Each: product, path, envelope, whether the call carries credentials.
    (
        "P3265-V",
        "/axis-cgi/apidiscovery.cgi",
        {"apiVersion": "1.0", "context": "c", "method": "getApiList"},
        False,
    ),
    ("P3265-V", "/axis-cgi/apidiscovery.cgi", {"method": "getSupportedVersions"}, False),
    (
        "M3066-V",
        "/axis-cgi/apidiscovery.cgi",
        {"apiVersion": "1.0", "method": "getApiList", "params": {"id": "fw*"}},
        True,
    ),
    (
        "P3265-V",
        "/axis-cgi/basicdeviceinfo.cgi",
        {"apiVersion": "1.0", "context": "c", "method": "getAllProperties"},
        True,
    ),
    (
        "M1075-L",
        "/axis-cgi/basicdeviceinfo.cgi",
        {"apiVersion": "1.0", "method": "getAllUnrestrictedProperties"},
        False,
    ),
    (
        "P3265-V",
        "/axis-cgi/basicdeviceinfo.cgi",
        {"apiVersion": "1.0", "method": "getProperties", "params": {"propertyList": ["Nope"]}},
        True,
    ),
    ("P3265-V", "/axis-cgi/basicdeviceinfo.cgi", {"apiVersion": "2.0", "method": "x"}, True),
    (
        "M1075-L",
        "/axis-cgi/systemready.cgi",
        {"apiVersion": "1.0", "context": "c", "method": "systemready"},
        False,
    ),
    ("Q6135-LE", "/axis-cgi/systemready.cgi", {"method": "getSupportedVersions"}, False),
    (
        "P3265-V",
        "/axis-cgi/firmwaremanagement.cgi",
        {"apiVersion": "1.0", "context": "c", "method": "status"},
        True,
    ),
    ("P3265-V", "/axis-cgi/firmwaremanagement.cgi", {"method": "getSupportedVersions"}, True),
    ("M1065-LW", "/axis-cgi/firmwaremanagement.cgi", {"apiVersion": "1.0", "method": "x"}, True),
]


@pytest.mark.parametrize(("product", "path", "envelope", "authenticated"), JSON_CALLS)
def test_every_json_api_answers_the_same_for_every_content_type(
    clean_camera_fleet: FleetThread,
    product: str,
    path: str,
    envelope: dict[str, Any],
    authenticated: bool,
) -> None:
    camera = clean_camera_fleet.by_product(product)
    body = json.dumps(envelope)
    answers: dict[str | None, tuple[int, str, dict[str, Any]]] = {}
    for kind in [*JSON_TYPES, FORM]:
        headers = {"Content-Type": kind} if kind else {}
        auth = HTTPDigestAuth(camera.username, camera.password) if authenticated else None
        response = requests.post(
            camera.base_url + path, data=body.encode(), headers=headers, auth=auth, timeout=TIMEOUT
        )
        status, media_type, _ = answer(response)
        answers[kind] = (status, media_type, _without_clock(response.json()))
    expected = answers["application/json"]
    assert expected[0] == 200
    assert expected[1] == "application/json"
    assert "error" not in expected[2] or expected[2]["error"]["code"] not in (400, 4000)
    for kind in ["text/plain", None, FORM]:
        assert answers[kind] == expected, kind


@pytest.mark.parametrize("content_type", JSON_TYPES)
@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/axis-cgi/basicdeviceinfo.cgi", 4000),
        ("/axis-cgi/systemready.cgi", 4000),
        ("/axis-cgi/apidiscovery.cgi", 4000),
        ("/axis-cgi/firmwaremanagement.cgi", 400),
    ],
)
def test_json_apis_stay_strict_about_the_document(
    clean_camera_fleet: FleetThread, content_type: str | None, path: str, code: int
) -> None:
    camera = clean_camera_fleet.by_product("P3265-V")
    headers = {"Content-Type": content_type} if content_type else {}
    auth = HTTPDigestAuth(camera.username, camera.password)

    def call(body: bytes) -> dict[str, Any]:
        response = requests.post(
            camera.base_url + path, data=body, headers=headers, auth=auth, timeout=TIMEOUT
        )
        assert response.status_code == 200
        result: dict[str, Any] = response.json()
        return result

    for junk in [b"", b"{", b"action=get", b"[1, 2]"]:
        assert call(junk)["error"]["code"] == code, junk


def test_json_apis_stay_post_only(clean_camera_fleet: FleetThread) -> None:
    camera = clean_camera_fleet.by_product("P3265-V")
    envelope = json.dumps({"apiVersion": "1.0", "method": "systemready"})
    response = requests.get(
        camera.base_url + "/axis-cgi/systemready.cgi",
        data=envelope.encode(),
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert response.json()["error"]["code"] == 2002


def test_a_multipart_upgrade_still_needs_its_multipart_body(
    clean_camera_fleet: FleetThread,
) -> None:
    # An upgrade envelope sent as a plain JSON document (any label) is the vendor's
    # documentation slip, answered 400 as before (VAPIX.md §6.3).
    camera = clean_camera_fleet.by_product("P3265-V")
    envelope = json.dumps({"apiVersion": "1.0", "method": "upgrade", "params": {}})
    for kind in JSON_TYPES:
        response = post(camera, "/axis-cgi/firmwaremanagement.cgi", envelope, kind)
        assert response.json()["error"]["code"] == 400
