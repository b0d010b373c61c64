"""The VAPIX client: one ``VapixClient`` per device, one method per device call.

Synchronous and not thread-safe: give each thread or task its own client. Idempotent reads are
retried (``retries`` times, with backoff) on network errors, 5xx and fwmgr ``423 busy``; calls
that change the device (upgrade, rollback, reboot, factory default, user changes) are never
repeated automatically — read the device state again instead (VAPIX.md §15.1).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

import requests

from devices.vapix import parsing, rules
from devices.vapix.errors import (
    AnswerTooLarge,
    ApiNotSupported,
    DeadlineExceeded,
    DeviceRefused,
    InvalidArgument,
    JsonApiErrorCode,
    NotAxisDevice,
    TextErrorCode,
    Timeout,
    UnexpectedResponse,
    Unreachable,
    VapixError,
)
from devices.vapix.models import (
    ApiList,
    Application,
    DeviceInfo,
    DeviceRole,
    DeviceUser,
    FirmwareStatus,
    MjpegFrame,
    ParameterList,
    PtzPreset,
    Recording,
    SystemReady,
    UpgradeAccepted,
    WhoAmI,
    parse_version,
)
from devices.vapix.streams import (
    MultipartFileUpload,
    ProgressCallback,
    boundary_from_content_type,
    iter_mjpeg_frames,
)
from devices.vapix.transport import (
    Limits,
    StreamedAnswer,
    Timeouts,
    VapixTransport,
    map_transport_error,
    response_text,
)
from devices.vapix.transport import wait as _wait

T = TypeVar("T")

API_VERSION = "1.0"
STREAM_CHUNK_SIZE = 64 * 1024

APIDISCOVERY = "/axis-cgi/apidiscovery.cgi"
BASICDEVICEINFO = "/axis-cgi/basicdeviceinfo.cgi"
SYSTEMREADY = "/axis-cgi/systemready.cgi"
FIRMWAREMANAGEMENT = "/axis-cgi/firmwaremanagement.cgi"
PARAM = "/axis-cgi/param.cgi"
PWDGRP = "/axis-cgi/pwdgrp.cgi"
USERGROUP = "/axis-cgi/usergroup.cgi"
SNAPSHOT = "/axis-cgi/jpg/image.cgi"
MJPEG = "/axis-cgi/mjpg/video.cgi"
PTZ = "/axis-cgi/com/ptz.cgi"
RECORDINGS = "/axis-cgi/record/list.cgi"
EXPORT_RECORDING = "/axis-cgi/record/export/exportrecording.cgi"
APPLICATIONS = "/axis-cgi/applications/list.cgi"
LEGACY_RESTART = "/axis-cgi/restart.cgi"
LEGACY_FACTORY_DEFAULT = "/axis-cgi/factorydefault.cgi"
LEGACY_HARD_FACTORY_DEFAULT = "/axis-cgi/hardfactorydefault.cgi"
LEGACY_FIRMWARE_UPGRADE = "/axis-cgi/firmwareupgrade.cgi"

AJR_APIS = {
    "apidiscovery": APIDISCOVERY,
    "basicdeviceinfo": BASICDEVICEINFO,
    "systemready": SYSTEMREADY,
    "firmwaremanagement": FIRMWAREMANAGEMENT,
}

FactoryDefaultMode = Literal["none", "soft", "hard"]
AutoCommit = Literal["never", "boot", "started", "default"]


def _is_retryable(error: VapixError) -> bool:
    if isinstance(error, DeadlineExceeded):
        return False  # the device answers, only too slowly: trying again doubles the wait
    if isinstance(error, Unreachable | Timeout):
        return True
    if isinstance(error, DeviceRefused):
        return error.is_busy
    return isinstance(error, UnexpectedResponse) and (error.status or 0) >= 500


class VapixClient:
    """Talk to one Axis device over VAPIX.

    ``scheme="https"`` needs ``tls_fingerprint`` (from ``fetch_certificate_fingerprint`` at
    onboarding) or ``ca_bundle``. ``context`` is sent in every JSON request and echoed by the
    device, which helps to find our calls in its logs. ``timeouts`` and ``limits`` bound how
    long each exchange may take and how much of an answer is read (see the package docstring
    for what one method call can take in the worst case).
    """

    def __init__(
        self,
        host: str,
        *,
        username: str,
        password: str,
        port: int | None = None,
        scheme: Literal["http", "https"] = "http",
        tls_fingerprint: str | None = None,
        ca_bundle: str | None = None,
        timeouts: Timeouts | None = None,
        limits: Limits | None = None,
        retries: int = 2,
        retry_backoff: float = 0.5,
        context: str = "camfleet",
    ) -> None:
        self.transport = VapixTransport(
            host,
            username=username,
            password=password,
            port=port,
            scheme=scheme,
            tls_fingerprint=tls_fingerprint,
            ca_bundle=ca_bundle,
            timeouts=timeouts,
            limits=limits,
        )
        self.retries = retries
        self.retry_backoff = retry_backoff
        self.context = context
        self._firmware_version: str | None = None

    def __enter__(self) -> VapixClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the device's connections."""
        self.transport.close()

    @property
    def host(self) -> str:
        return self.transport.host

    @property
    def port(self) -> int:
        return self.transport.port

    @property
    def timeouts(self) -> Timeouts:
        return self.transport.timeouts

    @property
    def limits(self) -> Limits:
        return self.transport.limits

    # --- plumbing ----------------------------------------------------------------------------

    def _retrying(self, call: Callable[[], T]) -> T:
        for attempt in range(self.retries + 1):
            try:
                return call()
            except VapixError as error:
                if attempt >= self.retries or not _is_retryable(error):
                    raise
                _wait(self.retry_backoff * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _checked(self, parse: Callable[[], T]) -> T:
        """Run a parser; an unparseable answer from an unconfirmed server means it is not Axis."""
        try:
            result = parse()
        except UnexpectedResponse as error:
            if not self.transport.confirm_axis():
                raise NotAxisDevice(
                    f"{self.host}:{self.port} does not answer like an Axis device"
                ) from error
            raise
        except DeviceRefused:
            self.transport.axis_confirmed = True
            raise
        self.transport.axis_confirmed = True
        return result

    def _parsed(self, response: requests.Response, parse: Callable[[bytes], T]) -> T:
        return self._checked(lambda: parse(response.content))

    def _parsed_text(self, text: str, parse: Callable[[str], T]) -> T:
        return self._checked(lambda: parse(text))

    def _ajr(
        self,
        api: str,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        api_version: str | None = API_VERSION,
        read_timeout: float | None = None,
        path: str | None = None,
    ) -> requests.Response:
        """POST one JSON envelope to ``api`` (at ``path``, default its AJR_APIS path)."""
        envelope: dict[str, Any] = {"context": self.context, "method": method}
        if api_version is not None:
            envelope["apiVersion"] = api_version
        if params:
            envelope["params"] = dict(params)
        response = self.transport.request(
            "POST",
            path or AJR_APIS[api],
            data=json.dumps(envelope).encode(),
            headers={"Content-Type": "application/json"},
            read_timeout=read_timeout,
            limit=self.limits.json,
        )
        self._expect_json(response, api)
        return response

    def _expect_json(self, response: requests.Response, api: str) -> None:
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type and "json" not in content_type and content_type != "text/plain":
            body = response_text(response)
            error = UnexpectedResponse(
                f"{api} answered {content_type or 'no content type'} instead of JSON",
                status=response.status_code,
                body=body,
            )
            if not self.transport.confirm_axis():
                raise NotAxisDevice(
                    f"{self.host}:{self.port} does not answer like an Axis device"
                ) from error
            raise error

    def _text(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        form: Mapping[str, str] | None = None,
    ) -> str:
        if form is not None:
            response = self.transport.request(
                "POST",
                path,
                params=params,
                data=dict(form),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                plain_401_is_answer=path == PWDGRP,
            )
        else:
            response = self.transport.request("GET", path, params=params)
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type and not content_type.startswith("text/"):
            raise UnexpectedResponse(
                f"{path} answered {content_type} instead of text", status=response.status_code
            )
        return response_text(response)

    # --- API discovery -----------------------------------------------------------------------

    def get_api_list(self) -> ApiList:
        """Return the APIs the device announces (apidiscovery ``getApiList``)."""
        return self._retrying(
            lambda: self._parsed(self._ajr("apidiscovery", "getApiList"), parsing.parse_api_list)
        )

    def get_supported_versions(self, api: str) -> list[str]:
        """Return the versions (one per major) of ``api``, one of ``AJR_APIS``."""
        if api not in AJR_APIS:
            raise InvalidArgument(f"unknown JSON API {api!r}")
        return self._retrying(
            lambda: self._parsed(
                self._ajr(api, "getSupportedVersions", api_version=None),
                lambda body: parsing.parse_supported_versions(body, api=api),
            )
        )

    def negotiate_api_version(self, api: str, *, major: int = 1) -> str:
        """Return the highest ``major.x`` version the device implements for ``api``.

        Raises ``ApiNotSupported`` when the device offers no version of that major.
        """
        candidates = [
            version
            for version in self.get_supported_versions(api)
            if version.split(".")[0] == str(major)
        ]
        if not candidates:
            raise ApiNotSupported(f"{api} offers no {major}.x version on {self.host}")
        return max(candidates, key=parse_version)

    def call_json_api(
        self,
        path: str,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        api_version: str | None = API_VERSION,
    ) -> tuple[dict[str, Any], str | None]:
        """Call any AJR JSON CGI (time.cgi, ntp.cgi, io/portmanagement.cgi, ...).

        Returns ``(data, apiVersion)``; errors raise ``DeviceRefused`` with the CGI's code.
        Not retried: the method may change the device.
        """
        if not path.startswith("/axis-cgi/") or not path.endswith(".cgi"):
            raise InvalidArgument("path is an /axis-cgi/... .cgi path")
        api = path.rsplit("/", 1)[-1].removesuffix(".cgi")
        response = self._ajr(api, method, params, api_version=api_version, path=path)
        return self._parsed(response, lambda body: parsing.parse_envelope(body, api=api))

    # --- basic device information --------------------------------------------------------------

    def get_device_info(self) -> DeviceInfo:
        """Return all device properties (operator); falls back to param.cgi on old firmware."""
        try:
            return self._retrying(
                lambda: self._parsed(
                    self._ajr("basicdeviceinfo", "getAllProperties"), parsing.parse_device_info
                )
            )
        except ApiNotSupported:
            return self._device_info_from_parameters()

    def get_unrestricted_device_info(self) -> DeviceInfo:
        """Return the properties anyone may read (``getAllUnrestrictedProperties``).

        Firmware before ~9.x lacks the method (error 2004): the full set is read instead;
        without basicdeviceinfo at all (before 8.40), param.cgi answers (authenticated).
        """
        try:
            return self._retrying(
                lambda: self._parsed(
                    self._ajr("basicdeviceinfo", "getAllUnrestrictedProperties"),
                    parsing.parse_device_info,
                )
            )
        except DeviceRefused as error:
            if error.code != JsonApiErrorCode.METHOD_NOT_SUPPORTED:
                raise
            return self.get_device_info()
        except ApiNotSupported:
            return self._device_info_from_parameters()

    def get_device_properties(self, names: list[str]) -> dict[str, str]:
        """Return selected properties (``getProperties``); unknown names raise code 1000."""

        def call() -> dict[str, str]:
            response = self._ajr("basicdeviceinfo", "getProperties", {"propertyList": names})
            data, _ = self._parsed(
                response, lambda body: parsing.parse_envelope(body, api="basicdeviceinfo")
            )
            properties = data.get("propertyList")
            if not isinstance(properties, dict):
                raise UnexpectedResponse("basicdeviceinfo getProperties lacks propertyList")
            return {str(key): str(value) for key, value in properties.items()}

        return self._retrying(call)

    def _device_info_from_parameters(self) -> DeviceInfo:
        parameters = self.list_parameters("root.Brand", "root.Properties")
        brand = parameters.group("Brand")
        system = parameters.group("Properties.System")
        firmware = parameters.group("Properties.Firmware")
        if "ProdNbr" not in brand or "Version" not in firmware:
            raise UnexpectedResponse("param.cgi lacks Brand.ProdNbr or Properties.Firmware")
        return DeviceInfo(
            brand=brand.get("Brand", ""),
            product_number=brand["ProdNbr"],
            product_full_name=brand.get("ProdFullName", ""),
            product_short_name=brand.get("ProdShortName", ""),
            product_type=brand.get("ProdType", ""),
            product_variant=brand.get("ProdVariant", ""),
            serial_number=system.get("SerialNumber", ""),
            version=firmware["Version"],
            hardware_id=system.get("HardwareID", ""),
            build_date=firmware.get("BuildDate", ""),
            web_url=brand.get("WebURL", ""),
            architecture=system.get("Architecture"),
            soc=system.get("Soc"),
            properties={**brand, **system, **firmware},
        )

    # --- system ready --------------------------------------------------------------------------

    def system_ready(self, *, wait_seconds: int | None = None) -> SystemReady:
        """Return systemready (anonymous); ``wait_seconds`` makes the device hold the answer
        until it is ready or that time has passed (long poll). Not retried: it is the probe
        used while a device reboots."""
        params = {"timeout": wait_seconds} if wait_seconds else None
        read_timeout = self.timeouts.probe + (wait_seconds or 0)
        response = self._ajr("systemready", "systemready", params, read_timeout=read_timeout)
        return self._parsed(response, parsing.parse_system_ready)

    # --- parameters ----------------------------------------------------------------------------

    def list_parameters(self, *groups: str) -> ParameterList:
        """Return parameters of ``groups`` (``root.Brand``, ``Network.SSH.Enabled``, ...; none =
        everything); ``# Error`` lines of missing groups are in ``errors``."""
        params = {"action": "list"}
        if groups:
            params["group"] = ",".join(groups)
        return self._retrying(
            lambda: self._parsed_text(self._text(PARAM, params), parsing.parse_parameter_list)
        )

    def update_parameters(self, values: Mapping[str, str]) -> None:
        """Set parameters (``{"Network.SSH.Enabled": "no"}``); a refusal raises
        ``DeviceRefused`` with ``TextErrorCode.PARAMETER_ERROR``."""
        if not values:
            raise InvalidArgument("no parameters to update")
        form = {"action": "update", **values}
        parsing.parse_parameter_update(self._text(PARAM, form=form))

    # --- firmware management -------------------------------------------------------------------

    def firmware_status(self) -> FirmwareStatus:
        """Return the firmware state: active/inactive version, commit state, rollback timer."""
        return self._retrying(
            lambda: self._parsed(
                self._ajr("firmwaremanagement", "status"), parsing.parse_firmware_status
            )
        )

    def upgrade_firmware(
        self,
        image_path: Path | str,
        *,
        factory_default_mode: FactoryDefaultMode = "none",
        auto_commit: AutoCommit = "never",
        auto_rollback: str = "30",
        on_progress: ProgressCallback | None = None,
    ) -> UpgradeAccepted:
        """Upload an image; the device verifies it, answers, and then reboots by itself.

        The image is streamed from disk (one chunk in memory at a time). Defaults are our
        normal upgrade: ``autoCommit=never``, ``autoRollback=30`` minutes, so the caller must
        ``commit_firmware`` after checking the new version. A refused image raises
        ``DeviceRefused`` (409, 410, 412, 415, 421, 422, 423, 424). ``Unreachable``/``Timeout``
        after the body went out may mean the device took the image and rebooted before
        answering: decide by the version after the restart, never by re-sending.
        """
        if auto_rollback not in ("never", "default") and not auto_rollback.isdecimal():
            raise InvalidArgument("auto_rollback is 'never', 'default' or minutes as digits")
        params: dict[str, str] = {"autoCommit": auto_commit, "autoRollback": auto_rollback}
        if factory_default_mode != "none":
            params["factoryDefaultMode"] = factory_default_mode
        envelope = {
            "apiVersion": API_VERSION,
            "context": self.context,
            "method": "upgrade",
            "params": params,
        }
        path = _image_file(image_path)
        self._prime_authentication()
        upload = MultipartFileUpload(
            json_part=json.dumps(envelope).encode(), file_path=path, on_progress=on_progress
        )
        response = self._send_image(FIRMWAREMANAGEMENT, upload)
        self._expect_json(response, "firmwaremanagement")
        return self._parsed(response, parsing.parse_firmware_version_answer)

    def _send_image(
        self, path: str, upload: MultipartFileUpload, params: Mapping[str, str] | None = None
    ) -> requests.Response:
        bodies = iter([upload])
        budget = self.timeouts.for_upload(upload.file_size)
        return self.transport.request(
            "POST",
            path,
            params=params,
            # A repeated attempt (new Digest nonce) re-reads the file from the start.
            body_factory=lambda: next(bodies, None) or upload.reopen(),
            headers={"Content-Type": upload.content_type},
            # A device may pause reading an image for a while: the whole upload budget
            # applies to sending too, not only to waiting for the answer (VAPIX.md §15.1).
            read_timeout=budget,
            send_timeout=budget,
            # The same budget bounds the whole exchange, not only each wait on the socket.
            deadline=self.timeouts.upload_deadline(upload.file_size),
        )

    def _prime_authentication(self) -> None:
        # A cheap admin call right before, so the large body goes out with a fresh Digest nonce
        # and is not answered by a 401 challenge (or a stale nonce) after the image was sent
        # (VAPIX.md §6.3).
        self.firmware_status()

    def upgrade_firmware_legacy(
        self, image_path: Path | str, *, factory_default: bool = False
    ) -> None:
        """Upload an image to ``firmwareupgrade.cgi`` (pre-7.40 devices without fwmgr).

        The answer carries no structured result: judge success by the version after reboot.
        """
        path = _image_file(image_path)
        if self.transport.realm == "":
            self.list_parameters("root.Properties.Firmware.Version")
        upload = MultipartFileUpload(json_part=None, file_path=path, file_field="fileData")
        params = {"type": "factorydefault" if factory_default else "normal"}
        response = self._send_image(LEGACY_FIRMWARE_UPGRADE, upload, params)
        # The page is unspecified; a visible "failed" is the only refusal it can express.
        text = parsing.html_text(response_text(response))
        if "fail" in text.lower() or text.lower().startswith("error"):
            raise DeviceRefused(TextErrorCode.UPGRADE_FAILED, text, api="firmwareupgrade")

    def commit_firmware(self) -> str:
        """Commit the running image (stops the rollback timer); return its version."""
        response = self._ajr("firmwaremanagement", "commit")
        return self._parsed(response, parsing.parse_firmware_version_answer).firmware_version

    def rollback_firmware(self) -> None:
        """Return to the previous image and its settings; the device reboots (404: none)."""
        self._fwmgr_simple("rollback")

    def purge_firmware(self) -> None:
        """Delete the rollback image (412 while the active image is uncommitted)."""
        self._fwmgr_simple("purge")

    def stop_auto_rollback(self) -> None:
        """Stop the automatic rollback timer without committing (fwmgr ``stopAuto``)."""
        self._fwmgr_simple("stopAuto")

    def reboot(self) -> None:
        """Reboot into the active image (never a rollback); ``restart.cgi`` on old firmware."""
        try:
            self._fwmgr_simple("reboot")
        except ApiNotSupported:
            self.transport.request("GET", LEGACY_RESTART).close()

    def factory_default(self, mode: Literal["soft", "hard"] = "soft") -> None:
        """Reset settings (``hard`` also resets the IP address); the device reboots."""
        if mode not in ("soft", "hard"):
            raise InvalidArgument("factory default mode is soft or hard")
        try:
            self._fwmgr_simple("factoryDefault", {"factoryDefaultMode": mode})
        except ApiNotSupported:
            legacy = LEGACY_HARD_FACTORY_DEFAULT if mode == "hard" else LEGACY_FACTORY_DEFAULT
            self.transport.request("GET", legacy).close()

    def _fwmgr_simple(self, method: str, params: Mapping[str, str] | None = None) -> None:
        response = self._ajr("firmwaremanagement", method, params)
        self._parsed(
            response, lambda body: parsing.parse_empty_answer(body, api="firmwaremanagement")
        )

    # --- local user accounts -------------------------------------------------------------------

    def whoami(self) -> WhoAmI:
        """Return the account this client authenticates as and its groups (usergroup.cgi)."""
        return self._retrying(
            lambda: self._parsed_text(self._text(USERGROUP), parsing.parse_usergroup)
        )

    def list_users(self) -> list[DeviceUser]:
        """Return the local accounts with role and PTZ flag (service accounts left out)."""
        return self._retrying(
            lambda: self._parsed_text(
                self._text(PWDGRP, form={"action": "get"}), parsing.parse_users
            )
        )

    def add_user(
        self, name: str, password: str, role: DeviceRole, *, ptz: bool = False, comment: str = ""
    ) -> DeviceUser:
        """Create a local account and return it as the device lists it afterwards."""
        rules.validate_user_name(name)
        rules.validate_password(password, policy=self._passphrase_policy())
        form = {
            "action": "add",
            "user": name,
            "pwd": password,
            "grp": "users",
            "sgrp": rules.secondary_groups(DeviceRole(role), ptz=ptz),
            "strict_pwd": "1",
        }
        if comment:
            form["comment"] = comment
        parsing.parse_pwdgrp_answer(self._text(PWDGRP, form=form))
        return self._read_back(name, expected_role=DeviceRole(role), expected_ptz=ptz)

    def create_initial_admin(self, name: str, password: str) -> str:
        """Create the first admin of a factory-fresh device (``needsetup``), anonymously.

        Firmware before 11.5 accepts only ``root``: that name is tried when the device refuses
        ``name`` as the initial admin. Returns the name created; the client keeps
        authenticating as the user it was made for, so make a new client for ``root``.
        """
        rules.validate_user_name(name)
        rules.validate_password(password, policy=self._passphrase_policy())

        def attempt(user: str) -> None:
            form = {
                "action": "add",
                "user": user,
                "pwd": password,
                "grp": "root" if user == "root" else "users",
                "sgrp": rules.secondary_groups(DeviceRole.ADMIN, ptz=True),
                "strict_pwd": "1",
            }
            response = self.transport.request(
                "POST",
                PWDGRP,
                data=form,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                plain_401_is_answer=True,
            )
            parsing.parse_pwdgrp_answer(response_text(response))

        try:
            attempt(name)
        except DeviceRefused as error:
            if error.code != TextErrorCode.NOT_VALID_INITIAL_ADMIN or name == "root":
                raise
            attempt("root")
            return "root"
        return name

    def change_password(self, name: str, new_password: str) -> None:
        """Set a new password for ``name``; for our own account the client switches to it and
        proves it works before returning."""
        rules.validate_user_name(name)
        rules.validate_password(new_password, policy=self._passphrase_policy())
        form = {"action": "update", "user": name, "pwd": new_password, "strict_pwd": "1"}
        parsing.parse_pwdgrp_answer(self._text(PWDGRP, form=form))
        if name == self.transport.username:
            self.transport.set_password(new_password)
            self.whoami()

    def set_user_role(self, name: str, role: DeviceRole, *, ptz: bool = False) -> DeviceUser:
        """Change the role and PTZ flag of an account; refuses to demote our own account."""
        rules.validate_user_name(name)
        if name == self.transport.username and DeviceRole(role) != DeviceRole.ADMIN:
            raise InvalidArgument("refusing to take admin away from the account the client uses")
        if DeviceRole(role) != DeviceRole.ADMIN:
            self._require_another_admin(name)
        form = {
            "action": "update",
            "user": name,
            "sgrp": rules.secondary_groups(DeviceRole(role), ptz=ptz),
        }
        parsing.parse_pwdgrp_answer(self._text(PWDGRP, form=form))
        return self._read_back(name, expected_role=DeviceRole(role), expected_ptz=ptz)

    def remove_user(self, name: str) -> None:
        """Remove an account, refusing our own account, the last admin and a permanent root."""
        rules.validate_user_name(name)
        if name == self.transport.username:
            raise InvalidArgument("refusing to remove the account the client authenticates with")
        self._require_another_admin(name)
        if name == "root" and rules.root_is_permanent(self._current_version()):
            raise InvalidArgument("root cannot be removed on firmware before 11.5")
        parsing.parse_pwdgrp_answer(self._text(PWDGRP, form={"action": "remove", "user": name}))
        if any(user.name == name for user in self.list_users()):
            raise UnexpectedResponse(f"pwdgrp.cgi reported {name} removed, but it is still listed")

    def _require_another_admin(self, name: str) -> None:
        admins = [user.name for user in self.list_users() if user.role == DeviceRole.ADMIN]
        if admins == [name]:
            raise InvalidArgument(f"{name} is the last admin account; refusing")

    def _read_back(self, name: str, *, expected_role: DeviceRole, expected_ptz: bool) -> DeviceUser:
        for user in self.list_users():
            if user.name == name:
                if user.role != expected_role or user.ptz != expected_ptz:
                    raise UnexpectedResponse(
                        f"pwdgrp.cgi lists {name} as {user.role} (ptz={user.ptz}) after the change"
                    )
                return user
        raise UnexpectedResponse(f"pwdgrp.cgi does not list {name} after the change")

    def _passphrase_policy(self) -> str | None:
        try:
            return self.system_ready().passphrase_policy
        except ApiNotSupported:
            return None

    def _current_version(self) -> str:
        if self._firmware_version is None:
            self._firmware_version = self.get_device_info().version
        return self._firmware_version

    # --- media ---------------------------------------------------------------------------------

    def snapshot(
        self,
        *,
        resolution: str | None = None,
        camera: int | None = None,
        compression: int | None = None,
    ) -> bytes:
        """Return one JPEG image (viewer)."""
        params = _media_params(resolution=resolution, camera=camera, compression=compression)

        def call() -> bytes:
            response = self.transport.request(
                "GET", SNAPSHOT, params=params, limit=self.limits.snapshot
            )
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            body = response.content
            if content_type == "text/plain":
                _raise_media_error(response_text(response))
            if content_type != "image/jpeg" or not body.startswith(b"\xff\xd8\xff"):
                error = UnexpectedResponse(
                    f"image.cgi answered {content_type or 'no content type'}, not a JPEG",
                    status=response.status_code,
                    body=body[:200].decode("latin-1"),
                )
                if not self.transport.confirm_axis():
                    raise NotAxisDevice(f"{self.host}:{self.port} is not an Axis device") from error
                raise error
            self.transport.axis_confirmed = True
            return body

        return self._retrying(call)

    def mjpeg_frames(
        self,
        *,
        resolution: str | None = None,
        camera: int | None = None,
        fps: int | None = None,
        max_frames: int | None = None,
        duration: int | None = None,
    ) -> Iterator[MjpegFrame]:
        """Yield the frames of an MJPEG stream; stop after ``max_frames`` or ``duration`` s.

        The connection closes when the iterator is exhausted or closed. Each chunk of the
        stream must arrive within ``Timeouts.total``; a part larger than ``Limits.frame``
        raises ``AnswerTooLarge``.
        """
        params = _media_params(resolution=resolution, camera=camera)
        if fps is not None:
            params["fps"] = str(fps)
        if max_frames is not None:
            params["nbrofframes"] = str(max_frames)
        if duration is not None:
            params["duration"] = str(duration)
        return self._mjpeg(params, max_frames)

    def _mjpeg(self, params: dict[str, str], max_frames: int | None) -> Iterator[MjpegFrame]:
        answer = self.transport.open_stream("GET", MJPEG, params=params)
        yield from self._frames(answer, "video.cgi", max_frames)

    def _frames(
        self, answer: StreamedAnswer, source: str, max_frames: int | None
    ) -> Iterator[MjpegFrame]:
        """Yield the frames of a multipart answer and close it; every failure is typed."""
        try:
            content_type = answer.headers.get("Content-Type", "")
            if content_type.lower().startswith("text/plain"):
                _raise_media_error(answer.read_text(self.limits.text))
            if not content_type.lower().startswith("multipart/"):
                raise UnexpectedResponse(f"{source} answered {content_type or 'nothing'}")
            boundary = boundary_from_content_type(content_type)
            chunks = answer.chunks(STREAM_CHUNK_SIZE)
            frames = iter_mjpeg_frames(chunks, boundary, max_frame_bytes=self.limits.frame)
            for count, frame in enumerate(frames, start=1):
                yield frame
                if max_frames is not None and count >= max_frames:
                    return
        except VapixError:
            raise
        except Exception as error:  # mapped to a typed error
            raise map_transport_error(error, f"{source} on {self.host}:{self.port}") from error
        finally:
            answer.close()

    # --- applications -------------------------------------------------------------------------

    def list_applications(self) -> list[Application]:
        """Return the installed ACAP applications (applications/list.cgi, admin)."""
        return self._retrying(
            lambda: self._parsed_text(self._text(APPLICATIONS), parsing.parse_applications)
        )

    # --- PTZ -----------------------------------------------------------------------------------

    def list_ptz_presets(self, *, camera: int = 1) -> list[PtzPreset]:
        """Return the PTZ presets of ``camera``; ``ApiNotSupported`` without PTZ."""
        params = {"query": "presetposall", "camera": str(camera)}
        return self._retrying(
            lambda: self._parsed_text(
                self._text(PTZ, params), lambda text: parsing.parse_ptz_presets(text, camera=camera)
            )
        )

    def has_ptz(self) -> bool:
        """Return whether the device has PTZ (``Properties.PTZ.PTZ``)."""
        return self.list_parameters("Properties.PTZ.PTZ").get("Properties.PTZ.PTZ") == "yes"

    def list_ptz_presets_from_parameters(self) -> list[PtzPreset]:
        """Return the presets of every camera (video channel) from the ``PTZ.Preset`` group,
        with the home position marked."""
        parameters = self.list_parameters("root.PTZ.Preset")
        return parsing.parse_ptz_presets_from_parameters(parameters)

    def get_ptz_position(self, *, camera: int = 1) -> dict[str, str]:
        """Return the current position (``pan``, ``tilt``, ``zoom``, ...) of ``camera``."""
        params = {"query": "position", "camera": str(camera)}
        position = self._parsed_text(self._text(PTZ, params), parsing.parse_key_values)
        if not position or any(key.lower().startswith("error") for key in position):
            raise DeviceRefused(TextErrorCode.PTZ_ERROR, "no PTZ position", api="ptz")
        return position

    def goto_ptz_preset(self, name: str, *, camera: int = 1) -> None:
        """Move ``camera`` to the preset called ``name``."""
        self._ptz_command({"gotoserverpresetname": name, "camera": str(camera)})

    def save_ptz_preset(self, name: str, *, camera: int = 1) -> None:
        """Store the current position of ``camera`` as preset ``name``."""
        self._ptz_command({"setserverpresetname": name, "camera": str(camera)})

    def remove_ptz_preset(self, name: str, *, camera: int = 1) -> None:
        """Delete the preset called ``name``."""
        self._ptz_command({"removeserverpresetname": name, "camera": str(camera)})

    def _ptz_command(self, params: dict[str, str]) -> None:
        if not params.get("camera", "").isdecimal():
            raise InvalidArgument("camera is a positive number")
        text = self._text(PTZ, params).strip()
        # Commands answer 204 or an empty 200; errors come back as text starting with "Error".
        if text:
            if text.lower().startswith("error"):
                raise DeviceRefused(TextErrorCode.PTZ_ERROR, text, api="ptz")
            if parsing.looks_like_html(text):
                raise UnexpectedResponse("ptz.cgi answered an HTML page", body=text)

    # --- edge recordings ------------------------------------------------------------------------

    def list_recordings(
        self,
        *,
        disk_id: str | None = None,
        start_time: str | None = None,
        stop_time: str | None = None,
    ) -> list[Recording]:
        """Return the edge recordings (optionally of one disk and a time window, ISO 8601)."""
        params = {"recordingid": "all"}
        if disk_id:
            params["diskid"] = disk_id
        if start_time:
            params["starttime"] = start_time
        if stop_time:
            params["stoptime"] = stop_time
        return self._retrying(
            lambda: self._parsed_text(self._text(RECORDINGS, params), parsing.parse_recordings)
        )

    def export_recording(
        self, recording: Recording, *, export_format: Literal["matroska", "mp4"] = "matroska"
    ) -> Iterator[bytes]:
        """Yield the bytes of a recording as a playable file, streamed in chunks.

        Each chunk must arrive within ``Timeouts.total``; a recording larger than
        ``Limits.recording`` raises ``AnswerTooLarge`` (after that much was yielded).
        """
        params = {
            "schemaversion": "1",
            "recordingid": recording.recording_id,
            "diskid": recording.disk_id,
            "exportformat": export_format,
        }
        return self._stream_bytes(params)

    def play_recording(
        self, recording: Recording, *, max_frames: int | None = None
    ) -> Iterator[MjpegFrame]:
        """Yield a recording's frames when the device plays it back as MJPEG over HTTP.

        Devices that export a container file instead (Matroska/MP4) raise
        ``UnexpectedResponse``; use ``export_recording`` for them.
        """
        params = {
            "schemaversion": "1",
            "recordingid": recording.recording_id,
            "diskid": recording.disk_id,
        }
        if max_frames is not None:
            params["nbrofframes"] = str(max_frames)
        return self._recording_frames(params, max_frames)

    def _recording_frames(
        self, params: dict[str, str], max_frames: int | None
    ) -> Iterator[MjpegFrame]:
        yield from self._frames(self._recording_request(params), "playback", max_frames)

    def _recording_request(self, params: dict[str, str]) -> StreamedAnswer:
        try:
            return self.transport.open_stream("GET", EXPORT_RECORDING, params=params)
        except ApiNotSupported as error:
            # The recording list came from this device, so a 404 means this recording is gone.
            raise DeviceRefused(
                TextErrorCode.RECORDING_ERROR,
                f"recording {params['recordingid']} not found",
                api="record",
            ) from error

    def download_recording(
        self,
        recording: Recording,
        destination: Path | str,
        *,
        export_format: Literal["matroska", "mp4"] = "matroska",
    ) -> int:
        """Write a recording to ``destination``; return the number of bytes written."""
        written = 0
        with open(destination, "wb") as file:
            for chunk in self.export_recording(recording, export_format=export_format):
                file.write(chunk)
                written += len(chunk)
        return written

    def _stream_bytes(self, params: dict[str, str]) -> Iterator[bytes]:
        answer = self._recording_request(params)
        try:
            content_type = answer.content_type
            if content_type.startswith("text/") or "xml" in content_type:
                text = answer.read_text(self.limits.text)
                if text.lstrip().startswith("<"):
                    parsing.parse_recordings(text)  # raises DeviceRefused for <error> answers
                raise UnexpectedResponse(f"exportrecording.cgi answered {content_type}")
            limit = self.limits.recording
            received = 0
            for chunk in answer.chunks(STREAM_CHUNK_SIZE):
                received += len(chunk)
                if received > limit:
                    raise AnswerTooLarge(
                        f"exportrecording.cgi on {self.host}:{self.port}: the recording is "
                        f"larger than the {limit} bytes this client reads",
                        limit=limit,
                    )
                yield chunk
        except VapixError:
            raise
        except Exception as error:  # mapped to a typed error
            what = f"recording export on {self.host}:{self.port}"
            raise map_transport_error(error, what) from error
        finally:
            answer.close()


def _image_file(image_path: Path | str) -> Path:
    path = Path(image_path)
    if not path.is_file():
        raise InvalidArgument(f"firmware image {path} does not exist")
    return path


def _raise_media_error(text: str) -> None:
    """Raise for the error text image.cgi/video.cgi send instead of an image."""
    message = text.strip()
    if message.lower().startswith("error"):
        raise DeviceRefused(TextErrorCode.MEDIA_ERROR, message, api="media")
    raise UnexpectedResponse("image.cgi answered text instead of an image", body=text)


def _media_params(
    *, resolution: str | None, camera: int | None, compression: int | None = None
) -> dict[str, str]:
    params: dict[str, str] = {}
    if resolution is not None:
        width, separator, height = resolution.partition("x")
        if not (separator and width.isdecimal() and height.isdecimal()):
            raise InvalidArgument("resolution is WIDTHxHEIGHT, e.g. 640x360")
        params["resolution"] = resolution
    if camera is not None:
        params["camera"] = str(camera)
    if compression is not None:
        if not 0 <= compression <= 100:
            raise InvalidArgument("compression is 0 to 100")
        params["compression"] = str(compression)
    return params
