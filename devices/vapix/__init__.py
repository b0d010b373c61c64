"""VAPIX client for Axis devices: typed calls, typed errors, no Django.

Start with ``VapixClient``; ``devices.vapix.upgrade`` holds the firmware upgrade steps.
"""

from devices.vapix.client import VapixClient
from devices.vapix.errors import (
    ApiNotSupported,
    AuthFailed,
    CertificateMismatch,
    DeviceRefused,
    FirmwareErrorCode,
    InsufficientPrivilege,
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
    ApiEntry,
    ApiList,
    DeviceInfo,
    FirmwareStatus,
    MjpegFrame,
    ParameterList,
    PtzPreset,
    Recording,
    Role,
    SystemReady,
    UpgradeAccepted,
    User,
    WhoAmI,
    compare_versions,
)
from devices.vapix.transport import Timeouts, fetch_certificate_fingerprint

__all__ = [
    "ApiEntry",
    "ApiList",
    "ApiNotSupported",
    "AuthFailed",
    "CertificateMismatch",
    "DeviceInfo",
    "DeviceRefused",
    "FirmwareErrorCode",
    "FirmwareStatus",
    "InsufficientPrivilege",
    "InvalidArgument",
    "JsonApiErrorCode",
    "MjpegFrame",
    "NotAxisDevice",
    "ParameterList",
    "PtzPreset",
    "Recording",
    "Role",
    "SystemReady",
    "TextErrorCode",
    "Timeout",
    "Timeouts",
    "UnexpectedResponse",
    "Unreachable",
    "UpgradeAccepted",
    "User",
    "VapixClient",
    "VapixError",
    "WhoAmI",
    "compare_versions",
    "fetch_certificate_fingerprint",
]
