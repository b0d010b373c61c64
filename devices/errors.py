"""Domain errors of the devices app, each with the stable `code` the API answers with."""

from django.utils.functional import Promise

from common.errors import Conflict, DomainError, Invalid


class AddressNotAllowed(Invalid):
    """The device address resolves to somewhere the service must not connect to.

    `reason` says which rule refused it (outside_allowed_networks, loopback, link_local,
    metadata, own_address, unspecified, multicast), for logs and tests; the message says what
    to do about it.
    """

    default_code = "address_not_allowed"

    def __init__(self, message: str | Promise, *, reason: str, address: str) -> None:
        super().__init__(self.default_code, message, {"host": [message]})
        self.reason = reason
        self.address = address


class HostNotFound(Invalid):
    """The device's host name resolves to no address."""

    default_code = "unreachable"


class AlreadyOnboarded(Conflict):
    """A device with this serial number is already in an organization (this one or another)."""

    default_code = "already_onboarded"


class CredentialsUnreadable(Conflict):
    """A stored device password cannot be decrypted with the configured keys."""

    default_code = "credentials_unreadable"


class DeviceUnavailable(DomainError):
    """Talking to a device failed; `code` says how. 502: the device, not the request, failed."""

    http_status = 502
    default_code = "device_unavailable"

    def __init__(self, message: str | Promise = "", fields: dict | None = None) -> None:
        super().__init__(self.default_code, message, fields)


class DeviceUnreachable(DeviceUnavailable):
    default_code = "unreachable"


class DeviceTimeout(DeviceUnavailable):
    default_code = "timeout"


class DeviceAuthFailed(DeviceUnavailable):
    default_code = "auth_failed"


class DeviceNotAxis(DeviceUnavailable):
    default_code = "not_axis_device"


class CertificateChanged(DeviceUnavailable):
    """The device presents a certificate other than the pinned one; it gets no credentials."""

    default_code = "certificate_untrusted"


class DeviceRefusedAction(DeviceUnavailable):
    """The device understood the request and refused it; the message carries its reason."""

    default_code = "device_refused"
