"""Domain errors of the devices app, each with the stable `code` the API answers with."""

from django.utils.functional import Promise

from common.errors import Conflict, Invalid


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
