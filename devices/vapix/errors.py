"""Typed errors of the VAPIX client.

Every failure that reaches a caller of ``devices.vapix`` is a ``VapixError``; nothing from
``requests``, ``urllib3``, ``ssl`` or ``json`` escapes. Callers branch on the class (and on
``DeviceRefused.code``), never on message texts, which differ between firmware versions.

Which errors are worth retrying later: ``Unreachable`` and ``Timeout`` (the device may be
rebooting or offline) except ``DeadlineExceeded``, and ``DeviceRefused`` with code 423 (busy).
Everything else needs a person or a different request.
"""

from __future__ import annotations

from enum import IntEnum


class VapixError(Exception):
    """Base class of every error the VAPIX client raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(VapixError, ValueError):
    """An argument breaks a rule the device would enforce; nothing was sent."""


class Unreachable(VapixError):
    """No connection: refused, reset, no route, name not resolved or connect timeout."""


class Timeout(VapixError):
    """Connected, but the device did not answer within the read timeout."""


class DeadlineExceeded(Timeout):
    """The device's answer did not arrive in full within the call's deadline (trickled out).

    Not retried: a device that answers this slowly would only hold the caller up again.
    """


class AuthFailed(VapixError):
    """The device rejected our credentials (or offered no authentication scheme we accept)."""


class InsufficientPrivilege(AuthFailed):
    """The credentials work, but the account's role is too low for this call (401/403/2001)."""


class NotAxisDevice(VapixError):
    """Something answers HTTP at this address, but it is not an Axis device."""


class ApiNotSupported(VapixError):
    """The device is an Axis device, but this CGI does not exist on its firmware (HTTP 404)."""


class UnexpectedResponse(VapixError):
    """The answer breaks the protocol: bad JSON, HTML error page, wrong content type, 5xx."""

    def __init__(self, message: str, *, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        # A short excerpt only: bodies can be large and are kept for logs.
        self.body = body[:500]


class AnswerTooLarge(UnexpectedResponse):
    """The answer (or one streamed frame) is larger than the client reads for this call."""

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class CertificateMismatch(VapixError):
    """The device presented a TLS certificate other than the pinned one."""

    def __init__(self, message: str, *, expected: str, presented: str) -> None:
        super().__init__(message)
        self.expected = expected
        self.presented = presented


class FirmwareErrorCode(IntEnum):
    """Documented error codes of firmwaremanagement.cgi (VAPIX.md §6.5)."""

    BAD_REQUEST = 400
    NO_OLD_FIRMWARE = 404
    UNKNOWN_METHOD = 405
    DOWNGRADE_NEEDS_FACTORY_DEFAULT = 409
    VERSION_REVOKED = 410
    NOT_COMMITTED = 412
    INVALID_IMAGE = 415
    API_VERSION_NOT_SUPPORTED = 417
    IMAGE_DOES_NOT_MATCH = 421
    SIGNATURE_MISSING = 422
    BUSY = 423
    UNKNOWN_CERTIFICATE = 424
    INTERNAL_ERROR = 500


class JsonApiErrorCode(IntEnum):
    """Documented error codes of basicdeviceinfo.cgi and apidiscovery.cgi (VAPIX.md §3, §4)."""

    INVALID_PARAMETER = 1000
    ACCESS_FORBIDDEN = 2001
    METHOD_NOT_ALLOWED = 2002
    API_VERSION_NOT_SUPPORTED = 2003
    METHOD_NOT_SUPPORTED = 2004
    INVALID_JSON = 4000
    MISSING_PARAMETER = 4002
    INTERNAL_ERROR = 8000


class SystemReadyErrorCode(IntEnum):
    """Documented error codes of systemready.cgi (VAPIX.md §5)."""

    INTERNAL_ERROR = 1000
    UNEXPECTED_ERROR = 9000


class TextErrorCode:
    """Codes for errors that the text CGIs (pwdgrp.cgi, param.cgi, ptz.cgi) report in words."""

    USER_EXISTS = "user_exists"
    INVALID_PASSWORD = "invalid_password"  # noqa: S105 - an error code, not a password
    INVALID_USER = "invalid_user"
    INVALID_ACTION = "invalid_action"
    MALFORMED_ACTION = "malformed_action"
    NOT_VALID_INITIAL_ADMIN = "not_valid_initial_admin"
    INITIAL_ADMIN_REQUIRED = "initial_admin_required"
    GENERIC = "generic"
    PARAMETER_ERROR = "parameter_error"
    PTZ_ERROR = "ptz_error"
    RECORDING_ERROR = "recording_error"
    MEDIA_ERROR = "media_error"
    UPGRADE_FAILED = "upgrade_failed"


_FIRMWARE_MEANINGS = {
    400: "request not parseable or unknown parameter value",
    404: "no old firmware to roll back to",
    405: "unknown method",
    409: "downgrade is only allowed with a hard factory default",
    410: "image version is revoked",
    412: "active image is not committed",
    415: "invalid or corrupt image",
    417: "API version not supported",
    421: "image does not match this device",
    422: "image lacks a mandatory signature",
    423: "busy with another firmware operation",
    424: "image references an unknown custom firmware certificate",
    500: "unexpected internal error",
}


class DeviceRefused(VapixError):
    """The device understood the request and refused it with a documented error.

    ``code`` is the integer of a JSON API error (``FirmwareErrorCode``, ``JsonApiErrorCode``, ...)
    or one of the ``TextErrorCode`` strings for the CGIs that answer in words. ``api`` names the
    CGI, e.g. ``"firmwaremanagement"``.
    """

    def __init__(self, code: int | str, message: str, *, api: str = "") -> None:
        super().__init__(f"{api or 'device'} refused with {code}: {message}")
        self.code = code
        self.device_message = message
        self.api = api

    @property
    def is_busy(self) -> bool:
        """Return whether the device is only busy with another firmware operation (423)."""
        return self.api == "firmwaremanagement" and self.code == FirmwareErrorCode.BUSY

    @property
    def meaning(self) -> str:
        """Return our own description of the code (device messages vary between versions)."""
        if self.api == "firmwaremanagement" and isinstance(self.code, int):
            return _FIRMWARE_MEANINGS.get(self.code, "undocumented error")
        return self.device_message
