"""Parsers of the VAPIX client against answer shapes of real devices (see vapix_samples)."""

from __future__ import annotations

import email.parser
import email.policy
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from devices.vapix import parsing, rules
from devices.vapix.errors import (
    DeviceRefused,
    FirmwareErrorCode,
    InvalidArgument,
    JsonApiErrorCode,
    SystemReadyErrorCode,
    TextErrorCode,
    UnexpectedResponse,
)
from devices.vapix.models import DeviceRole, ParameterList, compare_versions, parse_version
from devices.vapix.streams import (
    MultipartFileUpload,
    boundary_from_content_type,
    iter_mjpeg_frames,
)
from devices.vapix.transport import response_text
from devices.vapix.upgrade import image_name_info
from tests.devices import vapix_samples as samples

# --- JSON envelopes -------------------------------------------------------------------------


def test_envelope_with_data_returns_data_and_api_version() -> None:
    data, api_version = parsing.parse_envelope(samples.DOME_FWMGR_STATUS_FRESH, api="fwmgr")

    assert api_version == "1.10"
    assert data["activeFirmwareVersion"] == "12.11.77"


def test_envelope_error_raises_device_refused_with_code() -> None:
    with pytest.raises(DeviceRefused) as caught:
        parsing.parse_envelope(samples.DOME_FWMGR_ERROR_405, api="firmwaremanagement")

    assert caught.value.code == FirmwareErrorCode.UNKNOWN_METHOD
    assert caught.value.device_message == "Unknown method in request."
    assert caught.value.api == "firmwaremanagement"


def test_error_envelope_of_other_json_apis_has_the_same_shape() -> None:
    with pytest.raises(DeviceRefused) as caught:
        parsing.parse_envelope(samples.TIME_ERROR_4000, api="time")

    assert caught.value.code == 4000


@pytest.mark.parametrize(
    "body",
    [
        '{"apiVersion": "1.0", "data": {}, "error": {"code": 400, "message": "x"}}',
        '{"apiVersion": "1.0", "method": "status"}',
        '{"apiVersion": "1.0", "data": {"activeFirmwareVersion": "12.11.77"',
        '["data"]',
        '{"apiVersion": "1.0", "error": {"message": "no code"}}',
        '{"apiVersion": "1.0", "error": {"code": "bad", "message": "x"}}',
        '{"apiVersion": "1.0", "data": "text"}',
        "",
    ],
    ids=[
        "both",
        "neither",
        "truncated",
        "array",
        "no-code",
        "text-code",
        "data-not-object",
        "empty",
    ],
)
def test_broken_envelopes_are_unexpected_responses(body: str) -> None:
    with pytest.raises(UnexpectedResponse):
        parsing.parse_envelope(body, api="firmwaremanagement")


def test_absurdly_deep_json_is_an_unexpected_response() -> None:
    with pytest.raises(UnexpectedResponse):
        parsing.parse_envelope("[" * 100_000, api="systemready")


def test_error_code_in_unicode_digits_is_an_unexpected_response() -> None:
    body = '{"apiVersion": "1.0", "error": {"code": "\u00b2", "message": "x"}}'

    with pytest.raises(UnexpectedResponse):
        parsing.parse_envelope(body, api="firmwaremanagement")


def test_numbers_a_device_cannot_mean_are_left_out() -> None:
    ready = parsing.parse_system_ready(
        '{"data": {"systemready": "yes", "needsetup": "no", "uptime": "1e999", '
        '"previewmode": "nan"}}'
    )
    status = parsing.parse_firmware_status(
        '{"data": {"activeFirmwareVersion": "12.11.77", "timeToRollback": "-1e400"}}'
    )

    assert ready.uptime is None
    assert ready.preview_mode_seconds is None
    assert status.time_to_rollback is None


def test_text_with_a_charset_that_cannot_replace_falls_back_to_utf8() -> None:
    response = requests.Response()
    response._content = "caf\u00e9".encode()
    response.headers["Content-Type"] = "text/plain; charset=idna"

    assert response_text(response) == "caf\u00e9"


def test_html_page_on_a_json_endpoint_is_an_unexpected_response() -> None:
    with pytest.raises(UnexpectedResponse, match="HTML"):
        parsing.parse_envelope(samples.ROUTER_LOGIN_PAGE, api="systemready")


# --- API discovery --------------------------------------------------------------------------


def test_api_list_keeps_duplicate_ids_and_optional_fields() -> None:
    api_list = parsing.parse_api_list(samples.DOME_API_LIST)

    assert api_list.api_version == "1.1"
    assert api_list.versions("privacy-mask") == ["3.0", "2.4"]
    packagemanager = next(e for e in api_list.entries if e.id == "packagemanager")
    assert packagemanager.status is None
    assert packagemanager.doc_link == ""
    assert api_list.has("fwmgr", major=1)
    assert not api_list.has("fwmgr", major=2)


def test_api_list_of_older_firmware_has_no_status_at_all() -> None:
    api_list = parsing.parse_api_list(samples.BOX_API_LIST)

    assert api_list.api_version == "1.0"
    assert all(entry.status is None for entry in api_list.entries)
    assert not api_list.has("fwmgr")
    assert api_list.versions("basic-device-info") == ["1.1"]


def test_supported_versions_with_and_without_api_version_key() -> None:
    assert parsing.parse_supported_versions(samples.DOME_FWMGR_SUPPORTED_VERSIONS, api="f") == [
        "1.10"
    ]
    assert parsing.parse_supported_versions(samples.BOX_SUPPORTED_VERSIONS, api="a") == ["1.0"]


def test_supported_versions_request_with_api_version_is_refused_with_4002() -> None:
    with pytest.raises(DeviceRefused) as caught:
        parsing.parse_supported_versions(
            samples.BOX_SUPPORTED_VERSIONS_ERROR_4002, api="apidiscovery"
        )

    assert caught.value.code == JsonApiErrorCode.MISSING_PARAMETER


# --- basic device information ---------------------------------------------------------------


def test_device_info_with_all_properties() -> None:
    info = parsing.parse_device_info(samples.DOME_DEVICE_INFO_ALL)

    assert info.product_number == "P3265-V"
    assert info.serial_number == "B8A44F0C51D2"
    assert info.version == "12.11.77"
    assert info.soc == "Axis Artpec-8"
    assert info.architecture == "aarch64"
    assert info.product_variant == ""
    assert info.api_version == "1.3"
    assert info.properties["HardwareID"] == "931.11"


def test_unrestricted_device_info_leaves_restricted_properties_empty() -> None:
    info = parsing.parse_device_info(samples.DOME_DEVICE_INFO_UNRESTRICTED)

    assert info.version == "12.11.77"
    assert info.architecture is None
    assert info.soc is None
    assert info.soc_serial_number is None


def test_device_info_of_older_box_camera_with_empty_soc_serial() -> None:
    info = parsing.parse_device_info(samples.BOX_DEVICE_INFO_ALL)

    assert info.product_number == "M1065-LW"
    assert info.version == "9.80.1"
    assert info.soc_serial_number == ""
    assert info.api_version == "1.1"


def test_device_info_without_serial_is_unexpected() -> None:
    body = '{"apiVersion": "1.3", "data": {"propertyList": {"ProdNbr": "X", "Version": "1"}}}'
    with pytest.raises(UnexpectedResponse):
        parsing.parse_device_info(body)


# --- system ready ---------------------------------------------------------------------------


def test_system_ready_of_current_firmware_has_uptime_boot_id_and_policy() -> None:
    ready = parsing.parse_system_ready(samples.DOME_SYSTEMREADY)

    assert ready.is_ready
    assert not ready.needs_setup
    assert ready.uptime == 4811
    assert ready.boot_id == "0f3c2b8e-77aa-4c41-9d0e-5b1f6e2a9c10"
    assert ready.passphrase_policy == "none"
    assert ready.api_version == "1.5"


def test_system_ready_error_carries_its_documented_code() -> None:
    body = '{"apiVersion": "1.5", "error": {"code": 9000, "message": "Internal error"}}'

    with pytest.raises(DeviceRefused) as caught:
        parsing.parse_system_ready(body)

    assert caught.value.code == SystemReadyErrorCode.UNEXPECTED_ERROR
    assert caught.value.api == "systemready"


def test_system_ready_of_lts_firmware_has_no_uptime_or_boot_id() -> None:
    ready = parsing.parse_system_ready(samples.LTS_SYSTEMREADY)

    assert ready.is_ready
    assert ready.uptime is None
    assert ready.boot_id is None


def test_system_ready_of_a_fresh_device_needs_setup_in_preview_mode() -> None:
    ready = parsing.parse_system_ready(samples.FRESH_SYSTEMREADY)

    assert ready.needs_setup
    assert ready.preview_mode_seconds == 7200


# --- firmware management ------------------------------------------------------------------


def test_firmware_status_of_a_device_without_rollback_image() -> None:
    status = parsing.parse_firmware_status(samples.DOME_FWMGR_STATUS_FRESH)

    assert status.active_version == "12.11.77"
    assert status.active_part == "7454651131"
    assert status.reset_source == "crash"
    assert status.inactive_version is None
    assert status.is_committed is None
    assert not status.is_uncommitted
    assert not status.has_rollback_image


def test_firmware_status_after_an_upgrade_counts_down_to_rollback() -> None:
    status = parsing.parse_firmware_status(samples.DOME_FWMGR_STATUS_UNCOMMITTED)

    assert status.is_uncommitted
    assert status.time_to_rollback == 1712
    assert status.inactive_version == "12.11.77"
    assert status.last_upgrade_at == datetime(2026, 11, 27, 8, 14, 9, tzinfo=UTC)
    assert status.last_upgrade_at is not None
    assert status.last_upgrade_at.utcoffset() == timedelta(hours=1)


def test_firmware_status_committed() -> None:
    status = parsing.parse_firmware_status(samples.DOME_FWMGR_STATUS_COMMITTED)

    assert status.is_committed is True
    assert status.time_to_rollback is None
    assert status.last_upgrade_at is not None
    assert status.last_upgrade_at.tzinfo == timezone(timedelta(hours=1))


def test_upgrade_answer_names_the_new_version() -> None:
    accepted = parsing.parse_firmware_version_answer(samples.FWMGR_UPGRADE_ACCEPTED)

    assert accepted.firmware_version == "12.11.86"


@pytest.mark.parametrize(
    ("body", "code", "meaning"),
    [
        (samples.FWMGR_ERROR_421, 421, "image does not match this device"),
        (samples.FWMGR_ERROR_409, 409, "downgrade is only allowed with a hard factory default"),
    ],
)
def test_refused_upgrade_carries_code_and_our_meaning(body: str, code: int, meaning: str) -> None:
    with pytest.raises(DeviceRefused) as caught:
        parsing.parse_firmware_version_answer(body)

    assert caught.value.code == code
    assert caught.value.meaning == meaning
    assert not caught.value.is_busy


def test_busy_firmware_manager_is_marked_as_retryable() -> None:
    body = '{"apiVersion": "1.10", "error": {"code": 423, "message": "Busy."}}'
    with pytest.raises(DeviceRefused) as caught:
        parsing.parse_empty_answer(body, api="firmwaremanagement")

    assert caught.value.is_busy


# --- param.cgi ------------------------------------------------------------------------------


def test_parameter_list_strips_root_prefix_and_handles_crlf() -> None:
    parameters = parsing.parse_parameter_list(samples.DOME_PARAM_NETWORK)

    assert parameters.get("Network.HTTP.AuthenticationPolicy") == "recommended"
    assert parameters.get("root.Network.eth0.MACAddress") == "b8:a4:4f:0c:51:d2"
    assert parameters.get("Network.DNSUpdate.DNSName") == ""
    assert parameters.errors == ()


def test_mixed_parameter_list_collects_errors_and_prefixless_groups() -> None:
    parameters = parsing.parse_parameter_list(samples.DOME_PARAM_MIXED)

    assert parameters.errors == ("Error: Error -1 getting param in group 'Network.Filter'",)
    assert parameters.get("Network.HTTP.AuthenticationPolicy") == "recommended"
    assert parameters.get("HTTPS.Port") == "443"
    assert parameters.get("Time.POSIXTimeZone") == "<UTC1>-1<UTC2>-2,M3.5.0/2:00:00,M10.5.0/3:00:00"


def test_full_parameter_list_keeps_equals_signs_in_values() -> None:
    parameters = parsing.parse_parameter_list(samples.BOX_PARAM_LIST)

    assert parameters.get("Network.RTP.R0.AlwaysMulticastProfile") == "videocodec=h264"
    assert parameters.get("StreamProfile.S0.Parameters") == (
        "videocodec=h264&resolution=1920x1080&fps=0"
    )
    assert parameters.group("Brand")["ProdNbr"] == "M1065-LW"
    assert parameters.group("root.Properties.System") == {
        "Architecture": "armv7hf",
        "HardwareID": "70E",
        "SerialNumber": "ACCC8E51F0A4",
        "Soc": "Ambarella S2L",
    }


def test_parameter_list_of_a_missing_group_is_only_an_error() -> None:
    parameters = parsing.parse_parameter_list(samples.PARAM_ERROR_SPEAKER)

    assert parameters.values == {}
    assert len(parameters.errors) == 1


@pytest.mark.parametrize(
    "sample", [samples.ENCODER_PARAM_PROPERTIES, samples.RELAY_PARAM_PROPERTIES]
)
def test_properties_of_legacy_devices_parse(sample: str) -> None:
    parameters = parsing.parse_parameter_list(sample)

    assert parameters.get("Properties.API.HTTP.Version") == "3"
    assert parameters.get("Properties.Firmware.Version") is not None


@pytest.mark.parametrize("body", [samples.ROUTER_LOGIN_PAGE, "", "just words\n"])
def test_parameter_list_rejects_what_is_not_key_value(body: str) -> None:
    with pytest.raises(UnexpectedResponse):
        parsing.parse_parameter_list(body)


def test_parameter_update_ok_and_refusal() -> None:
    parsing.parse_parameter_update(samples.PARAM_UPDATE_OK)
    with pytest.raises(DeviceRefused) as caught:
        parsing.parse_parameter_update(samples.PARAM_UPDATE_ERROR)

    assert caught.value.code == TextErrorCode.PARAMETER_ERROR
    assert "Network.SSH.Enabled" in caught.value.device_message


# --- pwdgrp.cgi / usergroup.cgi --------------------------------------------------------------


def test_users_of_current_firmware_with_roles_and_ptz() -> None:
    users = {user.name: user for user in parsing.parse_users(samples.DOME_PWDGRP_GET)}

    assert list(users) == ["root", "svcfleet", "nocadmin", "vms", "lobby"]
    assert users["nocadmin"].role == DeviceRole.ADMIN
    assert users["nocadmin"].ptz
    assert users["svcfleet"].role == DeviceRole.ADMIN
    assert not users["svcfleet"].ptz
    assert users["vms"].role == DeviceRole.OPERATOR
    assert users["lobby"].role == DeviceRole.VIEWER


def test_users_of_older_firmware_leave_out_service_accounts() -> None:
    users = {user.name: user for user in parsing.parse_users(samples.BOX_PWDGRP_GET)}

    assert set(users) == {"root", "kiosk", "display", "lobby", "guard", "fleet"}
    assert users["fleet"].role == DeviceRole.ADMIN
    assert users["guard"].role == DeviceRole.OPERATOR
    assert users["lobby"].role == DeviceRole.VIEWER
    assert users["kiosk"].role is None


@pytest.mark.parametrize(
    "line",
    [
        "Created account opsviewer.",
        "Modified account opsviewer.",
        "Modified the account opsviewer.",
        "Removed account opsviewer.",
    ],
)
def test_pwdgrp_success_sentences(line: str) -> None:
    assert parsing.parse_pwdgrp_answer(samples.pwdgrp_page(line)) == line


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (
            "Error: this user name already exists, consult the system log file.",
            TextErrorCode.USER_EXISTS,
        ),
        ("Error: invalid password.", TextErrorCode.INVALID_PASSWORD),
        ("Error: account user name.", TextErrorCode.INVALID_USER),
        ("Error: action operation type.", TextErrorCode.INVALID_ACTION),
        ("Error: malformed action operation, remove.", TextErrorCode.MALFORMED_ACTION),
        ("Error: consult the system log file.", TextErrorCode.GENERIC),
        ("Error: not a valid initial admin user.", TextErrorCode.NOT_VALID_INITIAL_ADMIN),
        (
            "Error: initial admin user must be created first.",
            TextErrorCode.INITIAL_ADMIN_REQUIRED,
        ),
    ],
)
def test_pwdgrp_error_sentences_map_to_codes(line: str, code: str) -> None:
    with pytest.raises(DeviceRefused) as caught:
        parsing.parse_pwdgrp_answer(samples.pwdgrp_page(line))

    assert caught.value.code == code
    assert caught.value.api == "pwdgrp"


def test_pwdgrp_unknown_sentence_is_not_success() -> None:
    with pytest.raises(UnexpectedResponse):
        parsing.parse_pwdgrp_answer(samples.pwdgrp_page("Account probably created"))


@pytest.mark.parametrize(
    ("body", "name", "groups"),
    [
        (samples.DOME_USERGROUP, "svcfleet", ("admin", "operator", "viewer")),
        (samples.BOX_USERGROUP, "root", ("root", "admin", "operator", "ptz", "viewer")),
    ],
)
def test_usergroup_names_account_and_groups(body: str, name: str, groups: tuple[str]) -> None:
    whoami = parsing.parse_usergroup(body)

    assert whoami.name == name
    assert whoami.groups == groups
    assert whoami.role == DeviceRole.ADMIN


# --- WWW-Authenticate ------------------------------------------------------------------------


def test_digest_challenge_of_a_current_device() -> None:
    [challenge] = parsing.parse_www_authenticate(samples.DOME_401_WWW_AUTHENTICATE)

    assert challenge.scheme == "digest"
    assert challenge.realm == "AXIS_B8A44F0C51D2"
    assert challenge.serial_number == "B8A44F0C51D2"
    assert challenge.params["nonce"] == "Zx1kQ2pdBgA=5a1c0e7f22d94b3e8f61c07a9b2d4e6f18c3a5b7"
    assert challenge.params["algorithm"] == "MD5"
    assert challenge.params["qop"] == "auth"
    assert not challenge.is_stale


def test_several_challenges_in_one_header_and_stale_without_qop() -> None:
    header = (
        'Digest realm="AXIS_WS_ACCC8E000001", nonce="abc=,def", algorithm=MD5, stale=TRUE, '
        'Basic realm="AXIS_WS_ACCC8E000001"'
    )
    digest, basic = parsing.parse_www_authenticate(header)

    assert digest.scheme == "digest"
    assert digest.params["nonce"] == "abc=,def"
    assert digest.is_stale
    assert "qop" not in digest.params
    assert basic.scheme == "basic"
    assert basic.serial_number == "ACCC8E000001"


def test_challenge_of_another_server_has_no_serial() -> None:
    [challenge] = parsing.parse_www_authenticate('Basic realm="Router"')

    assert challenge.serial_number is None


# --- PTZ -------------------------------------------------------------------------------------


def test_presetposall_lists_numbers_and_names() -> None:
    presets = parsing.parse_ptz_presets(samples.PTZ_PRESETPOSALL)

    assert [(p.number, p.name, p.camera) for p in presets] == [(1, "Home", 1), (4, "Gate", 1)]


def test_presetposall_error_text_is_refused() -> None:
    with pytest.raises(DeviceRefused):
        parsing.parse_ptz_presets("Error: camera 3 does not exist\r\n")


def test_ptz_queries_are_key_value_text() -> None:
    assert parsing.parse_key_values(samples.PTZ_POSITION)["pan"] == "51.2891"
    assert parsing.parse_key_values(samples.PTZ_LIMITS)["MaxTilt"] == "90"


def test_presets_of_a_multi_sensor_unit_from_parameters() -> None:
    parameters = parsing.parse_parameter_list(samples.MULTISENSOR_PARAM_PTZ)

    presets = parsing.parse_ptz_presets_from_parameters(parameters)

    assert [(p.camera, p.number, p.name, p.is_home) for p in presets] == [
        (2, 1, "Home", True),
        (3, 1, "Home", True),
        (3, 3, "Parking", False),
    ]


def test_presets_from_parameters_of_single_cameras() -> None:
    box = parsing.parse_ptz_presets_from_parameters(
        parsing.parse_parameter_list(samples.BOX_PARAM_LIST)
    )
    fixed = parsing.parse_ptz_presets_from_parameters(
        parsing.parse_parameter_list(samples.OLD_FIXED_PARAM_PTZ)
    )

    assert [(p.camera, p.number, p.name, p.is_home) for p in box] == [(1, 1, "Home", True)]
    assert fixed == []


def test_presets_with_an_unreadable_image_source_belong_to_camera_one() -> None:
    parameters = parsing.parse_parameter_list(
        "root.PTZ.Preset.P0.ImageSource=\u00b2\nroot.PTZ.Preset.P0.Position.P1.Name=Gate\n"
    )

    presets = parsing.parse_ptz_presets_from_parameters(parameters)

    assert [(p.camera, p.name) for p in presets] == [(1, "Gate")]


# --- edge recordings ------------------------------------------------------------------------


def test_recordings_list() -> None:
    done, ongoing = parsing.parse_recordings(samples.RECORDINGS_LIST)

    assert done.recording_id == "20261127_081501_4F2A_B8A44F0C51D2"
    assert done.disk_id == "SD_DISK"
    assert done.start_time == datetime(2026, 11, 27, 8, 15, 1, 412000, tzinfo=UTC)
    assert done.status == "completed"
    assert done.resolution == "1920x1080"
    assert not done.is_locked
    assert ongoing.stop_time is None
    assert ongoing.is_locked
    assert ongoing.event_id == "motion"


def test_recordings_error_answer_is_refused() -> None:
    with pytest.raises(DeviceRefused, match="not available"):
        parsing.parse_recordings(samples.RECORDINGS_ERROR)


@pytest.mark.parametrize(
    "body",
    [
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><root>&a;</root>',
        "<root><recordings>",
        samples.ROUTER_LOGIN_PAGE,
    ],
)
def test_recordings_reject_dtds_and_broken_xml(body: str) -> None:
    with pytest.raises(UnexpectedResponse):
        parsing.parse_recordings(body)


# --- other JSON APIs and applications ---------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (samples.DOME_TIME_INFO, "posixTimeZone"),
        (samples.DOME_NTP_INFO, "client"),
        (samples.BOX_PORTS, "items"),
    ],
    ids=["time", "ntp", "portmanagement"],
)
def test_other_json_apis_share_the_envelope(body: str, key: str) -> None:
    data, api_version = parsing.parse_envelope(body, api="other")

    assert key in data
    assert api_version is not None


def test_supported_versions_of_an_api_with_a_high_minor() -> None:
    versions = parsing.parse_supported_versions(
        samples.DOME_NETWORK_SETTINGS_VERSIONS, api="network_settings"
    )

    assert versions == ["1.38"]
    assert compare_versions(versions[0], "1.4") == 1


def test_installed_applications() -> None:
    applications = parsing.parse_applications(samples.APPLICATIONS_LIST)

    assert [a.name for a in applications] == ["vmd", "fenceguard", "ConnectAgent"]
    assert applications[0].nice_name == "AXIS Video Motion Detection"
    assert applications[0].version == "4.5-2"
    assert applications[0].is_running
    assert not applications[1].is_running


def test_applications_error_reply_is_refused() -> None:
    with pytest.raises(DeviceRefused, match="type 6"):
        parsing.parse_applications(samples.APPLICATIONS_ERROR)


# --- MJPEG -----------------------------------------------------------------------------------

JPEG_A = b"\xff\xd8\xff\xe0" + b"A" * 300 + b"\xff\xd9"
JPEG_B = b"\xff\xd8\xff\xe0" + b"B" * 120 + b"\xff\xd9"


def _mjpeg_body(boundary: str, frames: list[bytes], *, lengths: bool = True) -> bytes:
    body = b""
    for frame in frames:
        body += f"--{boundary}\r\nContent-Type: image/jpeg\r\n".encode()
        if lengths:
            body += f"Content-Length: {len(frame)}\r\n".encode()
        body += b"\r\n" + frame + b"\r\n"
    return body


def _split(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


@pytest.mark.parametrize("chunk_size", [1, 7, 64, 100_000])
@pytest.mark.parametrize("lengths", [True, False], ids=["content-length", "boundary-only"])
def test_mjpeg_frames_from_any_chunking(chunk_size: int, lengths: bool) -> None:
    body = _mjpeg_body("myboundary", [JPEG_A, JPEG_B, JPEG_A], lengths=lengths)

    frames = list(iter_mjpeg_frames(_split(body, chunk_size), "myboundary"))

    assert [frame.jpeg for frame in frames] == [JPEG_A, JPEG_B, JPEG_A]
    assert frames[0].headers["content-type"] == "image/jpeg"


def test_mjpeg_boundary_with_dashes_in_the_header_and_closing_boundary() -> None:
    boundary = boundary_from_content_type('multipart/x-mixed-replace; boundary="--camfleet"')
    body = _mjpeg_body("camfleet", [JPEG_B]) + b"--camfleet--\r\n"

    frames = list(iter_mjpeg_frames([body], boundary))

    assert [frame.jpeg for frame in frames] == [JPEG_B]


def test_mjpeg_part_that_is_not_a_jpeg_is_unexpected() -> None:
    body = b"--myboundary\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nerror\r\n"

    with pytest.raises(UnexpectedResponse):
        list(iter_mjpeg_frames([body], "myboundary"))


def test_multipart_content_type_without_boundary_is_unexpected() -> None:
    with pytest.raises(UnexpectedResponse):
        boundary_from_content_type("multipart/x-mixed-replace")


# --- firmware upload body --------------------------------------------------------------------


def test_upload_body_is_json_part_then_file_part_with_exact_length(tmp_path: Path) -> None:
    image = tmp_path / "P3265-V_12_11_86.bin"
    image.write_bytes(b"AXISSIM/1 header\n" + bytes(range(256)) * 1000)
    progress: list[tuple[int, int]] = []
    body = MultipartFileUpload(
        json_part=b'{"apiVersion":"1.0","method":"upgrade","params":{}}',
        file_path=image,
        on_progress=lambda sent, total: progress.append((sent, total)),
    )

    raw = b"".join(iter(lambda: body.read(16384), b""))

    assert len(raw) == len(body)
    assert progress[-1] == (len(body), len(body))
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {body.content_type}\r\n\r\n".encode() + raw
    )
    json_part, file_part = message.iter_parts()
    assert json_part.get_content_type() == "application/json"
    assert json_part.get_param("filename", header="content-disposition") is None
    assert json_part.get_content().strip() == b'{"apiVersion":"1.0","method":"upgrade","params":{}}'
    assert file_part.get_filename() == "P3265-V_12_11_86.bin"
    assert file_part.get_payload(decode=True) == image.read_bytes()


def test_upload_body_reads_at_most_the_requested_size(tmp_path: Path) -> None:
    image = tmp_path / "image.bin"
    image.write_bytes(b"x" * 300_000)
    body = MultipartFileUpload(json_part=b"{}", file_path=image)

    sizes = [len(piece) for piece in iter(lambda: body.read(65536), b"")]

    assert max(sizes) <= 65536
    assert sum(sizes) == len(body)
    assert body.read(10) == b""
    assert len(b"".join(body.reopen())) == len(body)


# --- versions, names, account rules ------------------------------------------------------------


def test_versions_compare_numerically() -> None:
    assert parse_version("12.11.77") == (12, 11, 77)
    assert compare_versions("1.10", "1.8") == 1
    assert compare_versions("12.11", "12.11.0") == 0
    assert compare_versions("8.45.4.5", "10.12.323") == -1
    # Digits that are not decimal end the version like any other suffix.
    assert parse_version("12.\u00b2") == (12,)


def test_official_image_names_give_product_and_version() -> None:
    assert image_name_info("P3265-V_12_11_77.bin") == ("P3265-V", "12.11.77")
    assert image_name_info("images/M3206-LVE_10_12_338.bin") == ("M3206-LVE", "10.12.338")
    assert image_name_info("Q6075_9_80_3_9.bin") == ("Q6075", "9.80.3.9")
    assert image_name_info("firmware.bin") is None


@pytest.mark.parametrize("name", ["a", "opsviewer", "A1b2C3d4E5f6G7"])
def test_valid_user_names(name: str) -> None:
    rules.validate_user_name(name)


@pytest.mark.parametrize("name", ["", "ops.viewer", "ops viewer", "A1b2C3d4E5f6G7h", "jörg"])
def test_invalid_user_names(name: str) -> None:
    with pytest.raises(InvalidArgument):
        rules.validate_user_name(name)


@pytest.mark.parametrize(
    ("password", "policy", "ok"),
    [
        ("x", None, True),
        ("Corr3ct Horse Battery", "none", True),
        ("p" * 64, None, True),
        ("p" * 65, None, False),
        ("", None, False),
        ("tab\tinside", None, False),
        ("pässword", None, False),
        ("fourteen-chars", "length", False),
        ("fifteen-chars-x", "length", True),
        ("alllowercase-1", "complex", False),
        ("Short-1a", "complex", False),
        ("Good-Passw0rd", "complex", True),
    ],
)
def test_password_rules_and_passphrase_policies(
    password: str, policy: str | None, ok: bool
) -> None:
    if ok:
        rules.validate_password(password, policy=policy)
    else:
        with pytest.raises(InvalidArgument):
            rules.validate_password(password, policy=policy)


def test_secondary_groups_and_root_rule() -> None:
    assert rules.secondary_groups(DeviceRole.ADMIN, ptz=True) == "admin:operator:viewer:ptz"
    assert rules.secondary_groups(DeviceRole.VIEWER, ptz=False) == "viewer"
    assert rules.root_is_permanent("10.12.323")
    assert not rules.root_is_permanent("11.11.192")


def test_parameter_list_group_of_nothing_is_empty() -> None:
    assert ParameterList(values={"Brand.Brand": "AXIS"}).group("Network") == {}
