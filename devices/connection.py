"""The one door from the service to a device: every VAPIX call of the product starts here.

`open_client(device)` checks the stored address against the allowed device networks again
(the setting or the DNS answer may have changed since onboarding), connects to the checked IP
(never to the name again: no DNS-rebinding window), pins the stored certificate and hands over
the decrypted password only inside the client. A device whose certificate changed gets no
credentials until an admin accepts the new fingerprint.

`device_error(error)` turns what the VAPIX client raised into a domain error with a stable
`code` and a message a person can act on; it never contains the password (the client's
messages do not carry it, and `Secret` masks it anywhere else).

Resolving a name and talking to a device take time: call these outside database transactions.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from devices import networks
from devices.credentials import Secret
from devices.errors import (
    CertificateChanged,
    DeviceAuthFailed,
    DeviceNotAxis,
    DeviceRefusedAction,
    DeviceTimeout,
    DeviceUnavailable,
    DeviceUnreachable,
)
from devices.models import Device
from devices.networks import CheckedAddress
from devices.vapix import (
    AuthFailed,
    CertificateMismatch,
    DeviceRefused,
    InsufficientPrivilege,
    NotAxisDevice,
    Timeout,
    Timeouts,
    Unreachable,
    VapixClient,
    VapixError,
)

# Every call names us in the device's logs.
CLIENT_CONTEXT = "camfleet"


def device_timeouts() -> Timeouts:
    """Return the client timeouts (settings DEVICE_CONNECT_TIMEOUT, DEVICE_READ_TIMEOUT)."""
    return Timeouts(
        connect=settings.DEVICE_CONNECT_TIMEOUT,
        read=settings.DEVICE_READ_TIMEOUT,
    )


def client_for(
    address: CheckedAddress,
    *,
    scheme: str,
    username: str,
    password: str | Secret,
    certificate_fingerprint: str = "",
    retries: int = 1,
    timeouts: Timeouts | None = None,
) -> VapixClient:
    """Return a client for a checked address; the connection goes to `address.ip` only."""
    secret = password.reveal() if isinstance(password, Secret) else password
    return VapixClient(
        str(address.ip),
        port=address.port,
        scheme="https" if scheme == Device.Scheme.HTTPS else "http",
        username=username,
        password=secret,
        tls_fingerprint=certificate_fingerprint or None,
        timeouts=timeouts or device_timeouts(),
        retries=retries,
        context=CLIENT_CONTEXT,
    )


def open_client(
    device: Device, *, retries: int = 1, timeouts: Timeouts | None = None
) -> VapixClient:
    """Return a client for a stored device, or raise a domain error saying why there is none.

    Raises AddressNotAllowed/HostNotFound when the address is no longer allowed or resolvable,
    and CertificateChanged while a changed certificate waits for an admin's decision.
    """
    if device.status == Device.Status.CERTIFICATE_CHANGED:
        raise CertificateChanged(
            message=_(
                "The device presented a different certificate; no credentials are sent to it "
                "until an administrator accepts the new fingerprint on the device page."
            )
        )
    address = networks.resolve_device_address(device.host, device.port)
    return client_for(
        address,
        scheme=device.scheme,
        username=device.username,
        password=device.password,
        certificate_fingerprint=device.certificate_fingerprint,
        retries=retries,
        timeouts=timeouts,
    )


def device_error(error: VapixError) -> DeviceUnavailable:
    """Return the domain error for what the VAPIX client raised (the stable API `code`)."""
    if isinstance(error, CertificateMismatch):
        return CertificateChanged(
            message=_(
                "The device presented a certificate that does not match the pinned fingerprint."
                " Nothing was sent to it."
            )
        )
    if isinstance(error, InsufficientPrivilege):
        return DeviceAuthFailed(
            message=_(
                "The device accepted the user name and password, but the account's role is too "
                "low for this. Use an administrator account of the device."
            )
        )
    if isinstance(error, AuthFailed):
        return DeviceAuthFailed(message=_("The device refused the user name or password."))
    if isinstance(error, Timeout):
        return DeviceTimeout(
            message=_(
                "The device connected but did not answer in time. Try again; if it keeps "
                "happening, check the network to the device and its load."
            )
        )
    if isinstance(error, Unreachable):
        return DeviceUnreachable(
            message=_(
                "The device could not be reached. Check the address and port, and that the "
                "device is powered and on a network the service can reach."
            )
        )
    if isinstance(error, NotAxisDevice):
        return DeviceNotAxis(
            message=_("Something answers at this address, but it is not an Axis device.")
        )
    if isinstance(error, DeviceRefused):
        return DeviceRefusedAction(
            message=_("The device refused: %(reason)s") % {"reason": error.meaning},
        )
    return DeviceUnavailable(
        message=_("The device gave an answer the service does not understand. Try again later.")
    )
