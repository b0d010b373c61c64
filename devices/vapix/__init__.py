"""VAPIX client for Axis devices: typed calls, typed errors, no Django.

Start with ``VapixClient``; ``devices.vapix.upgrade`` holds the firmware upgrade steps, which
are the API for the upgrade pipeline. ``devices.vapix.testing`` holds blocking helpers
(``upgrade()`` sleeps for up to 15 minutes) for tests and tools only.

How long a call can take, for the time limits of the Celery tasks that make them. With the
default ``Timeouts``, one HTTP exchange (connect, send, the answer's headers and its whole body,
a Digest challenge round included) ends within ``total`` = 30 s, whatever the device does: a
watchdog cuts the connection at the deadline and ``DeadlineExceeded`` is raised. Exceptions:
``system_ready(wait_seconds=w)`` gets ``connect + probe + w``; a firmware upload of ``S`` bytes
gets ``Timeouts.upload_deadline(S)`` = 5 + min(120 + S / 1 MB/s, 1200) s; MJPEG and recording
streams last as long as the caller reads, each 64 KiB chunk within ``total``. Reads are retried
``retries`` times (default 2, backoff 0.5 s, 1 s) on network errors, 5xx and fwmgr 423, never on
``DeadlineExceeded``, so one read method ends within 3 x 30 + 1.5 s. A method can make a few
exchanges (a param.cgi probe to tell a foreign device from an Axis one, the read-back after a
user change): budget ~120 s per method call of an ordinary task, and the upload deadline plus
that for an upload. No device-facing Celery task exists yet (the existing tasks only send
e-mail); the devices and upgrades tasks set ``soft_time_limit``/``time_limit`` above these.

How much is read: ``Limits`` caps each answer (JSON and text 1 MiB, snapshots 32 MiB, each
MJPEG part 16 MiB, a recording export 16 GiB streamed); a larger answer raises
``AnswerTooLarge`` without being held in memory.
"""

from devices.vapix.client import VapixClient
from devices.vapix.errors import (
    AnswerTooLarge,
    ApiNotSupported,
    AuthFailed,
    CertificateMismatch,
    DeadlineExceeded,
    DeviceRefused,
    FirmwareErrorCode,
    InsufficientPrivilege,
    InvalidArgument,
    JsonApiErrorCode,
    NotAxisDevice,
    SystemReadyErrorCode,
    TextErrorCode,
    Timeout,
    UnexpectedResponse,
    Unreachable,
    VapixError,
)
from devices.vapix.models import (
    ApiEntry,
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
    compare_versions,
)
from devices.vapix.transport import Limits, Timeouts, fetch_certificate_fingerprint

__all__ = [
    "AnswerTooLarge",
    "ApiEntry",
    "ApiList",
    "ApiNotSupported",
    "Application",
    "AuthFailed",
    "CertificateMismatch",
    "DeadlineExceeded",
    "DeviceInfo",
    "DeviceRefused",
    "DeviceRole",
    "DeviceUser",
    "FirmwareErrorCode",
    "FirmwareStatus",
    "InsufficientPrivilege",
    "InvalidArgument",
    "JsonApiErrorCode",
    "Limits",
    "MjpegFrame",
    "NotAxisDevice",
    "ParameterList",
    "PtzPreset",
    "Recording",
    "SystemReady",
    "SystemReadyErrorCode",
    "TextErrorCode",
    "Timeout",
    "Timeouts",
    "UnexpectedResponse",
    "Unreachable",
    "UpgradeAccepted",
    "VapixClient",
    "VapixError",
    "WhoAmI",
    "compare_versions",
    "fetch_certificate_fingerprint",
]
