"""Parsers from VAPIX answer bodies to typed results.

Pure functions without I/O, so every shape recorded from real devices can be tested directly.
They are strict where VAPIX.md §15.1 asks for it (JSON envelopes: exactly one of ``data`` and
``error``; HTML where JSON or text is expected is a protocol error) and lenient where real
firmware differs (missing ``method``/``apiVersion``/``status`` keys, ``root.`` prefixes that come
and go, CRLF line ends, unknown fields).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

from devices.vapix.errors import DeviceRefused, TextErrorCode, UnexpectedResponse
from devices.vapix.models import (
    ApiEntry,
    ApiList,
    Application,
    Challenge,
    DeviceInfo,
    DeviceRole,
    DeviceUser,
    FirmwareStatus,
    ParameterList,
    PtzPreset,
    Recording,
    SystemReady,
    UpgradeAccepted,
    WhoAmI,
)

JsonObject = dict[str, Any]


def looks_like_html(text: str) -> bool:
    """Return whether a body is an HTML page (error pages of web servers and of the device)."""
    head = text.lstrip()[:200].lower()
    return head.startswith(("<!doctype html", "<html", "<head", "<body", "<?xml")) and (
        "<html" in head or "<body" in head or "<head" in head
    )


def parse_envelope(body: bytes | str, *, api: str) -> tuple[JsonObject, str | None]:
    """Return ``(data, apiVersion)`` of an AJR answer, or raise for an ``error`` answer.

    Raises ``DeviceRefused`` for a well-formed error and ``UnexpectedResponse`` for anything
    that is not exactly one JSON object with exactly one of ``data``/``error``.
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:  # RecursionError: absurdly deep nesting
        kind = "an HTML page" if looks_like_html(text) else "invalid JSON"
        raise UnexpectedResponse(f"{api} answered {kind}", body=text) from error
    if not isinstance(document, dict):
        raise UnexpectedResponse(f"{api} answered JSON that is not an object", body=text)
    has_data, has_error = "data" in document, "error" in document
    if has_data == has_error:
        raise UnexpectedResponse(
            f"{api} answered with {'both' if has_data else 'neither'} of data and error",
            body=text,
        )
    api_version = document.get("apiVersion")
    api_version = str(api_version) if api_version is not None else None
    if has_error:
        refusal = document["error"]
        if not isinstance(refusal, dict) or "code" not in refusal:
            raise UnexpectedResponse(f"{api} answered a malformed error", body=text)
        code = refusal["code"]
        if isinstance(code, str) and code.strip().isdecimal():
            code = int(code)
        if not isinstance(code, int) or isinstance(code, bool):
            raise UnexpectedResponse(f"{api} answered a non-numeric error code", body=text)
        raise DeviceRefused(code, str(refusal.get("message", "")), api=api)
    data = document["data"]
    if not isinstance(data, dict):
        raise UnexpectedResponse(f"{api} answered data that is not an object", body=text)
    return data, api_version


def _string(data: Mapping[str, Any], key: str, *, api: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise UnexpectedResponse(f"{api} answer lacks the string field {key!r}")
    return value


def _optional_string(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _optional_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value.strip()))
        except (ValueError, OverflowError):  # OverflowError: "1e999" is infinite
            return None
    return None


def parse_supported_versions(body: bytes | str, *, api: str) -> list[str]:
    """Return the versions of a ``getSupportedVersions`` answer (one per major)."""
    data, _ = parse_envelope(body, api=api)
    versions = data.get("apiVersions")
    if not isinstance(versions, list) or not all(isinstance(v, str) for v in versions):
        raise UnexpectedResponse(f"{api} getSupportedVersions lacks apiVersions")
    return list(versions)


def parse_api_list(body: bytes | str) -> ApiList:
    """Return the entries of apidiscovery ``getApiList`` (duplicates ids kept, status optional)."""
    data, api_version = parse_envelope(body, api="apidiscovery")
    raw = data.get("apiList")
    if not isinstance(raw, list):
        raise UnexpectedResponse("apidiscovery answer lacks apiList")
    entries = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise UnexpectedResponse("apidiscovery answered an entry without id")
        entries.append(
            ApiEntry(
                id=item["id"],
                version=str(item.get("version", "")),
                name=str(item.get("name", "")),
                doc_link=str(item.get("docLink", "")),
                status=_optional_string(item, "status"),
            )
        )
    return ApiList(entries=tuple(entries), api_version=api_version)


def parse_device_info(body: bytes | str) -> DeviceInfo:
    """Return basicdeviceinfo properties (all or unrestricted; BDI does not echo ``method``)."""
    data, api_version = parse_envelope(body, api="basicdeviceinfo")
    raw = data.get("propertyList")
    if not isinstance(raw, dict):
        raise UnexpectedResponse("basicdeviceinfo answer lacks propertyList")
    properties = {str(key): str(value) for key, value in raw.items() if value is not None}
    for key in ("ProdNbr", "SerialNumber", "Version"):
        if key not in properties:
            raise UnexpectedResponse(f"basicdeviceinfo answer lacks {key}")
    return DeviceInfo(
        brand=properties.get("Brand", ""),
        product_number=properties["ProdNbr"],
        product_full_name=properties.get("ProdFullName", ""),
        product_short_name=properties.get("ProdShortName", ""),
        product_type=properties.get("ProdType", ""),
        product_variant=properties.get("ProdVariant", ""),
        serial_number=properties["SerialNumber"],
        version=properties["Version"],
        hardware_id=properties.get("HardwareID", ""),
        build_date=properties.get("BuildDate", ""),
        web_url=properties.get("WebURL", ""),
        architecture=properties.get("Architecture"),
        soc=properties.get("Soc"),
        soc_serial_number=properties.get("SocSerialNumber"),
        api_version=api_version,
        properties=properties,
    )


def _yes(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower() == "yes"


def parse_system_ready(body: bytes | str) -> SystemReady:
    """Return the systemready answer; ``uptime``/``bootid`` are None on 10.12 and older."""
    data, api_version = parse_envelope(body, api="systemready")
    if "systemready" not in data:
        raise UnexpectedResponse("systemready answer lacks the systemready field")
    boot_id = _optional_string(data, "bootid")
    return SystemReady(
        is_ready=_yes(data.get("systemready")),
        needs_setup=_yes(data.get("needsetup")),
        uptime=_optional_int(data.get("uptime")),
        boot_id=boot_id or None,
        preview_mode_seconds=_optional_int(data.get("previewmode")),
        passphrase_policy=_optional_string(data, "passphrasepolicy"),
        api_version=api_version,
    )


def _parse_timestamp(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_firmware_status(body: bytes | str) -> FirmwareStatus:
    """Return fwmgr ``status``; note the device's spelling ``isCommited``."""
    data, api_version = parse_envelope(body, api="firmwaremanagement")
    committed = data.get("isCommited", data.get("isCommitted"))
    return FirmwareStatus(
        active_version=_string(data, "activeFirmwareVersion", api="firmwaremanagement"),
        active_part=str(data.get("activeFirmwarePart", "")),
        inactive_version=_optional_string(data, "inactiveFirmwareVersion"),
        is_committed=committed if isinstance(committed, bool) else None,
        pending_commit=_optional_string(data, "pendingCommit"),
        time_to_rollback=_optional_int(data.get("timeToRollback")),
        last_upgrade_at=_parse_timestamp(data.get("lastUpgradeAt")),
        reset_source=_optional_string(data, "resetSource"),
        api_version=api_version,
    )


def parse_firmware_version_answer(body: bytes | str) -> UpgradeAccepted:
    """Return the ``firmwareVersion`` of an fwmgr ``upgrade`` or ``commit`` answer."""
    data, api_version = parse_envelope(body, api="firmwaremanagement")
    version = _string(data, "firmwareVersion", api="firmwaremanagement")
    return UpgradeAccepted(firmware_version=version, api_version=api_version)


def parse_empty_answer(body: bytes | str, *, api: str) -> str | None:
    """Check an AJR answer whose ``data`` carries nothing we need; return its apiVersion."""
    _, api_version = parse_envelope(body, api=api)
    return api_version


# --- param.cgi ----------------------------------------------------------------------------


def parse_parameter_list(text: str) -> ParameterList:
    """Return param.cgi ``action=list`` lines as a mapping without the ``root.`` prefix.

    ``# Error:`` lines are collected, not raised: a multi-group request may mix both.
    """
    if looks_like_html(text):
        raise UnexpectedResponse("param.cgi answered an HTML page", body=text)
    values: dict[str, str] = {}
    errors: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("#"):
            errors.append(line.lstrip("#").strip())
            continue
        name, separator, value = line.partition("=")
        if not separator or not name or " " in name:
            raise UnexpectedResponse("param.cgi answered a line that is not key=value", body=text)
        values[name.removeprefix("root.")] = value
    if not values and not errors:
        raise UnexpectedResponse("param.cgi answered nothing", body=text)
    return ParameterList(values=values, errors=tuple(errors))


def parse_parameter_update(text: str) -> None:
    """Accept param.cgi ``action=update``'s ``OK``; raise ``DeviceRefused`` for ``# Error:``."""
    stripped = text.strip()
    if stripped == "OK":
        return
    if stripped.startswith("#"):
        message = " ".join(line.lstrip("#").strip() for line in stripped.splitlines())
        raise DeviceRefused(TextErrorCode.PARAMETER_ERROR, message, api="param")
    raise UnexpectedResponse("param.cgi update answered neither OK nor an error", body=text)


# --- pwdgrp.cgi / usergroup.cgi -------------------------------------------------------------

_TITLE_OPEN = re.compile("<title>", re.IGNORECASE)
_TITLE_CLOSE = re.compile("</title>", re.IGNORECASE)
_PWDGRP_SUCCESS = (
    "Created account ",
    "Modified account ",
    "Modified the account ",
    "Removed account ",
)
_PWDGRP_ERRORS: tuple[tuple[str, str], ...] = (
    ("Error: this user name already exists", TextErrorCode.USER_EXISTS),
    ("Error: invalid password", TextErrorCode.INVALID_PASSWORD),
    ("Error: account user name", TextErrorCode.INVALID_USER),
    ("Error: action operation type", TextErrorCode.INVALID_ACTION),
    ("Error: malformed action operation", TextErrorCode.MALFORMED_ACTION),
    ("Error: not a valid initial admin user", TextErrorCode.NOT_VALID_INITIAL_ADMIN),
    ("Error: initial admin user must be created first", TextErrorCode.INITIAL_ADMIN_REQUIRED),
    ("Error: consult the system log file", TextErrorCode.GENERIC),
)


def html_text(body: str) -> str:
    """Return the visible text of a small HTML page: title dropped, tags stripped, spaces joined.

    Linear in the length of the page: every ``find`` starts where the previous one ended (a
    regex such as ``<title>.*?</title>`` rescans the rest of the page from every opening tag).
    """
    pieces: list[str] = []
    position = 0
    while (opening := _TITLE_OPEN.search(body, position)) is not None:
        closing = _TITLE_CLOSE.search(body, opening.end())
        if closing is None:
            break  # no closed title after this one either
        pieces += [body[position : opening.start()], " "]
        position = closing.end()
    pieces.append(body[position:])
    without_title = "".join(pieces)
    text: list[str] = []
    position = 0
    while (start := without_title.find("<", position)) >= 0:
        end = without_title.find(">", start + 1)
        if end < 0:
            break  # an unclosed "<" is text, and so is every "<" after it
        text += [without_title[position:start], " "]
        position = end + 1
    text.append(without_title[position:])
    return " ".join(html.unescape("".join(text)).split())


def parse_pwdgrp_answer(body: str) -> str:
    """Return the success sentence of a pwdgrp.cgi write; raise ``DeviceRefused`` for errors.

    Only the documented success sentences count as success (VAPIX.md §15.3).
    """
    text = html_text(body)
    if text.startswith(_PWDGRP_SUCCESS):
        return text
    for prefix, code in _PWDGRP_ERRORS:
        if text.startswith(prefix):
            raise DeviceRefused(code, text, api="pwdgrp")
    if text.startswith("Error:"):
        raise DeviceRefused(TextErrorCode.GENERIC, text, api="pwdgrp")
    raise UnexpectedResponse("pwdgrp.cgi answered an unknown text", body=body)


_GROUP_LINE = re.compile(r'^\s*([\w-]+)\s*=\s*"([^"]*)"\s*$')
_SERVICE_ACCOUNT = re.compile(r"^(www\w*|sdk)$")


def parse_pwdgrp_groups(text: str) -> dict[str, list[str]]:
    """Return pwdgrp.cgi ``action=get`` as group name → member names."""
    if looks_like_html(text):
        # A refusal (e.g. no admin exists yet) comes as the usual one-line page.
        parse_pwdgrp_answer(text)
        raise UnexpectedResponse("pwdgrp.cgi get answered an HTML page", body=text)
    groups: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _GROUP_LINE.match(line)
        if match is None:
            raise UnexpectedResponse("pwdgrp.cgi get answered a line that is not group=", body=text)
        groups[match.group(1)] = [name for name in match.group(2).split(",") if name]
    if not groups:
        raise UnexpectedResponse("pwdgrp.cgi get answered no groups", body=text)
    return groups


def parse_users(text: str) -> list[DeviceUser]:
    """Return the real accounts of pwdgrp.cgi ``action=get`` with their role and PTZ flag.

    Accounts are the members of ``digusers`` and ``users``; internal service accounts
    (``www*``, ``sdk``) that only appear in role groups are left out.
    """
    groups = parse_pwdgrp_groups(text)
    names: list[str] = []
    for group in ("digusers", "users"):
        for name in groups.get(group, []):
            if name not in names and not _SERVICE_ACCOUNT.match(name):
                names.append(name)
    users = []
    for name in names:
        role = next(
            (
                r
                for r in (DeviceRole.ADMIN, DeviceRole.OPERATOR, DeviceRole.VIEWER)
                if name in groups.get(r.value, [])
            ),
            None,
        )
        users.append(DeviceUser(name=name, role=role, ptz=name in groups.get("ptz", [])))
    return users


def parse_usergroup(text: str) -> WhoAmI:
    """Return usergroup.cgi's two lines: account name, then its groups."""
    if looks_like_html(text):
        raise UnexpectedResponse("usergroup.cgi answered an HTML page", body=text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) != 2 or " " in lines[0]:
        raise UnexpectedResponse("usergroup.cgi answer is not two lines", body=text)
    return WhoAmI(name=lines[0], groups=tuple(lines[1].split()))


# --- WWW-Authenticate --------------------------------------------------------------------------

# Separators and tokens are disjoint character sets, so no pattern can backtrack: parsing is
# linear in the header's length (``\s*,?\s*`` was quadratic on a run of spaces).
_TCHARS = r"[A-Za-z0-9!#$%&'*+.^_`|~-]+"
_SEPARATORS = re.compile(r"[\s,]*")
_SCHEME = re.compile(rf"[\s,]*({_TCHARS})(?=[\s,]|$)")
_PARAM = re.compile(rf'[\s,]*({_TCHARS})\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)')


def parse_www_authenticate(value: str) -> list[Challenge]:
    """Return the challenges of one or more (comma-joined) ``WWW-Authenticate`` headers."""
    challenges: list[Challenge] = []
    position = 0
    while True:
        separators = _SEPARATORS.match(value, position)
        if separators is None or separators.end() == len(value):
            break
        scheme = _SCHEME.match(value, position)
        if scheme is None:
            break
        position = scheme.end()
        params: dict[str, str] = {}
        while True:
            param = _PARAM.match(value, position)
            if param is None:
                break
            raw = param.group(2)
            if raw.startswith('"'):
                raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
            params[param.group(1).lower()] = raw
            position = param.end()
        challenges.append(Challenge(scheme=scheme.group(1).lower(), params=params))
    return challenges


# --- PTZ -----------------------------------------------------------------------------------------

_CAMERA_HEADER = re.compile(r"camera\s+(\d+)", re.IGNORECASE)
_PRESET_LINE = re.compile(r"^presetposno(\d+)=(.*)$")


def parse_ptz_presets(text: str, *, camera: int = 1) -> list[PtzPreset]:
    """Return presets of ptz.cgi ``query=presetposall`` (``presetposno<n>=<name>`` lines)."""
    if looks_like_html(text):
        raise UnexpectedResponse("ptz.cgi answered an HTML page", body=text)
    stripped = text.strip()
    if stripped.lower().startswith("error"):
        raise DeviceRefused(TextErrorCode.PTZ_ERROR, stripped, api="ptz")
    presets = []
    current = camera
    for line in stripped.splitlines():
        line = line.strip()
        if not line:
            continue
        match = _PRESET_LINE.match(line)
        if match:
            presets.append(
                PtzPreset(number=int(match.group(1)), name=match.group(2), camera=current)
            )
            continue
        header = _CAMERA_HEADER.search(line)
        if header is None:
            raise UnexpectedResponse("ptz.cgi answered an unknown preset line", body=text)
        current = int(header.group(1))
    return presets


_PARAM_PRESET = re.compile(r"^PTZ\.Preset\.P(\d+)\.Position\.P(\d+)\.Name$")


def parse_ptz_presets_from_parameters(parameters: ParameterList) -> list[PtzPreset]:
    """Return the presets stored in the ``root.PTZ.Preset`` parameter group."""
    presets = []
    for name, value in parameters.values.items():
        match = _PARAM_PRESET.match(name)
        if match is None:
            continue
        group, number = match.group(1), int(match.group(2))
        source = parameters.get(f"PTZ.Preset.P{group}.ImageSource") or "0"
        home = parameters.get(f"PTZ.Preset.P{group}.HomePosition")
        camera = int(source) + 1 if source.lstrip("-").isdecimal() else 1
        presets.append(
            PtzPreset(number=number, name=value, camera=camera, is_home=home == str(number))
        )
    return sorted(presets, key=lambda preset: (preset.camera, preset.number))


def parse_key_values(text: str) -> dict[str, str]:
    """Return ``key=value`` lines of a small text answer (ptz.cgi queries)."""
    if looks_like_html(text):
        raise UnexpectedResponse("device answered an HTML page where text was expected", body=text)
    result = {}
    for line in text.splitlines():
        key, separator, value = line.strip().partition("=")
        if separator:
            result[key] = value
    return result


# --- Installed applications ---------------------------------------------------------------------


def parse_applications(text: str) -> list[Application]:
    """Return the applications of applications/list.cgi (``<reply result="ok">``)."""
    root = _xml_root(text, "applications/list.cgi")
    if root.tag != "reply":
        raise UnexpectedResponse("applications/list.cgi answer is not a reply", body=text)
    if root.get("result") != "ok":
        error = root.find("error")
        kind = error.get("type", "") if error is not None else ""
        raise DeviceRefused(TextErrorCode.GENERIC, f"error type {kind}".strip(), api="applications")
    return [
        Application(
            name=element.get("Name", ""),
            nice_name=element.get("NiceName", ""),
            vendor=element.get("Vendor", ""),
            version=element.get("Version", ""),
            status=element.get("Status", ""),
            license=element.get("License", ""),
            application_id=element.get("ApplicationID", ""),
        )
        for element in root.findall("application")
    ]


def _xml_root(text: str, source: str) -> ElementTree.Element:
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        # Entity declarations have no place in device answers; refusing them defuses XML bombs.
        raise UnexpectedResponse(f"{source} answered XML with a DTD", body=text)
    try:
        return ElementTree.fromstring(text.strip())  # noqa: S314 - DTDs refused above
    except ElementTree.ParseError as error:
        raise UnexpectedResponse(f"{source} answered invalid XML", body=text) from error


# --- Edge recordings -----------------------------------------------------------------------------


def parse_recordings(text: str) -> list[Recording]:
    """Return the recordings of record/list.cgi (``<root><recordings><recording .../>``)."""
    root = _xml_root(text, "record/list.cgi")
    recordings_element = root if root.tag == "recordings" else root.find("recordings")
    if recordings_element is None:
        error_element = root.find(".//error") if root.tag != "error" else root
        if error_element is not None:
            message = error_element.get("description") or (error_element.text or "").strip()
            raise DeviceRefused(TextErrorCode.RECORDING_ERROR, message, api="record")
        raise UnexpectedResponse("record/list.cgi answer has no recordings element", body=text)
    result = []
    for element in recordings_element.findall("recording"):
        video = element.find("video")
        result.append(
            Recording(
                recording_id=element.get("recordingid", ""),
                disk_id=element.get("diskid", ""),
                start_time=_parse_timestamp(element.get("starttime")),
                stop_time=_parse_timestamp(element.get("stoptime")),
                recording_type=element.get("recordingtype", ""),
                status=element.get("recordingstatus", ""),
                source=element.get("source", ""),
                event_id=element.get("eventid", ""),
                is_locked=element.get("locked", "").lower() == "yes",
                video_mime_type=video.get("mimetype", "") if video is not None else "",
                resolution=video.get("resolution", "") if video is not None else "",
                framerate=video.get("framerate", "") if video is not None else "",
            )
        )
    return result
