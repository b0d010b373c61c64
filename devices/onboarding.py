"""Onboarding: check an address and credentials against the device, read its identity, store it.

`onboard_device` is the whole of it for one device (the page and the API call it);
`check_device` is its first half, all the I/O, which the CSV import runs per row in a Celery job
before anything is created. The order is the product's:

1. the access check (admin+) and the input, before any network I/O;
2. `networks.resolve_device_address`, time-boxed (getaddrinfo itself has no timeout);
3. for HTTPS, the certificate's SHA-256 fingerprint from the checked IP, compared with the one
   the admin expects when they gave one;
4. `connection.client_for(...)`: a factory-fresh device (systemready `needsetup`) first gets the
   entered account as its administrator, then the account must be an administrator
   (usergroup.cgi) and `read_identity` reads the device (VAPIX.md §12);
5. `services.create_device` (a short transaction, no I/O in it).

At onboarding the request's address or credentials are at fault, not a stored device: each
failure answers 400 (409 for already_onboarded) with its stable code and the field its message
belongs to, and creates nothing. Credentials travel as given or as `Secret`; no message, log
line or audit event here carries the password.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from common.errors import DomainError, Invalid, NotFound
from common.text import has_control_characters
from devices import connection, networks, selectors, services
from devices.credentials import Secret
from devices.errors import AlreadyOnboarded, DeviceUnavailable
from devices.models import ALREADY_ONBOARDED_MESSAGE, Device
from devices.networks import CheckedAddress
from devices.services import DeviceIdentity
from devices.vapix import (
    ApiNotSupported,
    DeviceRefused,
    DeviceRole,
    InvalidArgument,
    UnexpectedResponse,
    VapixClient,
    VapixError,
    fetch_certificate_fingerprint,
)
from organizations import access, audit
from organizations import selectors as organization_selectors
from organizations.models import Folder, Membership
from organizations.roles import Action
from organizations.services.locks import lock_organization

logger = logging.getLogger(__name__)

ONBOARDING_EVENT_TYPES = {
    "device.credentials_change": _("Device credentials changed"),
    "device.import": _("Device import started"),
}

USERNAME_MAX_LENGTH = Device._meta.get_field("username").max_length
PASSWORD_MAX_LENGTH = 256
# getaddrinfo has no timeout of its own: a resolver that never answers must not hold a request.
RESOLVE_TIMEOUT = 5.0
# A few threads for name lookups; one stuck in getaddrinfo is abandoned, not waited for.
_resolver = ThreadPoolExecutor(max_workers=8, thread_name_prefix="device-resolve")

# The input field each refusal belongs to (forms and the API's `fields`).
REFUSAL_FIELDS = {
    "unreachable": "host",
    "timeout": "host",
    "not_axis_device": "host",
    "address_not_allowed": "host",
    "already_onboarded": "host",
    "auth_failed": "password",
    "insufficient_privilege": "username",
    "certificate_untrusted": "expected_fingerprint",
    "device_refused": "host",
    "device_unavailable": "host",
}


class OnboardingRefused(Invalid):
    """The device at the given address, with the given credentials, cannot be onboarded (400).

    Same codes as `connection.device_error`, but the request is at fault, so 400 and a field.
    """

    def __init__(self, code: str, message: str | Promise) -> None:
        field = REFUSAL_FIELDS.get(code, "host")
        super().__init__(code, message, {field: [message]})


def refusal(error: DomainError) -> DomainError:
    """Return the onboarding answer for a domain error raised while checking a device."""
    if isinstance(error, DeviceUnavailable):
        return OnboardingRefused(error.code, error.message)
    if isinstance(error, AlreadyOnboarded):
        message = ALREADY_ONBOARDED_MESSAGE
        return AlreadyOnboarded(message=message, fields={"host": [message]})
    return error


@dataclass(frozen=True)
class CheckedDevice:
    """A device that answered with its identity: what `services.create_device` needs."""

    address: CheckedAddress
    scheme: str
    username: str
    identity: DeviceIdentity
    certificate_fingerprint: str = ""


def _invalid(code: str, field: str, message: str | Promise) -> Invalid:
    return Invalid(code, message, {field: [message]})


def clean_credentials(username: str, password: str | Secret) -> tuple[str, Secret]:
    """Return the user name and the password as a `Secret`, or raise Invalid naming the field."""
    username = (username or "").strip()
    if not username:
        raise _invalid("invalid_username", "username", _("Enter the device account's user name."))
    if len(username) > USERNAME_MAX_LENGTH or has_control_characters(username) or ":" in username:
        raise _invalid(
            "invalid_username",
            "username",
            _("The user name must be at most %(limit)d characters, without colons.")
            % {"limit": USERNAME_MAX_LENGTH},
        )
    secret = password if isinstance(password, Secret) else Secret(password or "")
    raw = secret.reveal()
    if not raw:
        raise _invalid("invalid_password", "password", _("Enter the device account's password."))
    if len(raw) > PASSWORD_MAX_LENGTH or has_control_characters(raw):
        raise _invalid(
            "invalid_password",
            "password",
            _("The password must be at most %(limit)d characters, without control characters.")
            % {"limit": PASSWORD_MAX_LENGTH},
        )
    return username, secret


def clean_scheme(scheme: str) -> str:
    """Return "http" or "https", or raise Invalid on the scheme field."""
    value = (scheme or "").strip().lower()
    if value not in Device.Scheme.values:
        raise _invalid("invalid_scheme", "scheme", _("The scheme must be HTTP or HTTPS."))
    return value


def clean_expected_fingerprint(fingerprint: str) -> str:
    """Return an expected fingerprint normalized (or ""), or raise Invalid on its field."""
    if not (fingerprint or "").strip():
        return ""
    try:
        return services.normalize_fingerprint(fingerprint)
    except Invalid as error:
        raise _invalid(error.code, "expected_fingerprint", error.message) from None


def default_port(scheme: str) -> int:
    """Return the port a scheme uses when none is given."""
    return 443 if scheme == Device.Scheme.HTTPS else 80


def resolve_address(host: str, port: object) -> CheckedAddress:
    """Run `networks.resolve_device_address` with a time limit (RESOLVE_TIMEOUT seconds).

    An IP literal needs no lookup; a name is resolved in a worker thread that is abandoned,
    not waited for, when the resolver does not answer in time.
    """
    future = _resolver.submit(networks.resolve_device_address, host, port)
    try:
        return future.result(timeout=RESOLVE_TIMEOUT)
    except FutureTimeout:
        message = _(
            "Looking up “%(host)s” took too long. Check the name, or enter the device's IP address."
        ) % {"host": (host or "").strip()[:253]}
        raise OnboardingRefused("timeout", message) from None


def read_identity(client: VapixClient) -> DeviceIdentity:
    """Return what the device says about itself: basic device info (param.cgi on old firmware),
    the MAC address and whether it has PTZ (param.cgi `Network.eth0.MACAddress`,
    `Properties.PTZ.PTZ`; left empty when the device offers neither)."""
    info = client.get_device_info()
    mac_address, has_ptz = "", False
    try:
        parameters = client.list_parameters("Network.eth0.MACAddress", "Properties.PTZ.PTZ")
    except (DeviceRefused, ApiNotSupported, UnexpectedResponse) as error:
        # The identity is what matters; a device that hides these still onboards.
        logger.info("device %s:%s gave no MAC/PTZ parameters: %s", client.host, client.port, error)
    else:
        mac_address = parameters.get("Network.eth0.MACAddress") or ""
        has_ptz = (parameters.get("Properties.PTZ.PTZ") or "").lower() == "yes"
    return DeviceIdentity(
        serial_number=info.serial_number,
        product_number=info.product_number,
        product_name=info.product_full_name or info.product_short_name,
        firmware_version=info.version,
        mac_address=mac_address,
        hardware_id=info.hardware_id,
        architecture=info.architecture or "",
        has_ptz=has_ptz,
    )


def _first_admin_if_fresh(client: VapixClient, username: str, secret: Secret) -> str:
    """Return the account to use: on a factory-fresh device, the entered account, made its first
    administrator (or ``root``, the only name firmware before 11.5 takes).

    A fresh device has no account at all and stays open to whoever sets it up first, so it is
    never left in that state (VAPIX.md §12 step 3). Firmware without systemready predates
    set-up mode.
    """
    try:
        ready = client.system_ready()
    except (ApiNotSupported, UnexpectedResponse):
        return username
    if not ready.needs_setup:
        return username
    try:
        account = client.create_initial_admin(username, secret.reveal())
    except InvalidArgument as error:
        raise _invalid(
            "invalid_password",
            "password",
            _(
                "This device is new and has no account yet: the account you entered would "
                "become its first administrator, but the device does not accept this password "
                "(%(rule)s)."
            )
            % {"rule": error},
        ) from None
    logger.info("device %s:%s: created its first administrator", client.host, client.port)
    return account


def _require_administrator(client: VapixClient, username: str) -> None:
    """Refuse an account that is not an administrator on the device.

    Upgrades, restarts and device accounts need it (VAPIX.md §2.3); a viewer or operator account
    would onboard and fail at the first of them. A device without usergroup.cgi is not refused:
    its answers to those calls decide.
    """
    try:
        account = client.whoami()
    except (ApiNotSupported, UnexpectedResponse) as error:
        logger.info("device %s:%s has no usergroup.cgi: %s", client.host, client.port, error)
        return
    if account.role != DeviceRole.ADMIN:
        raise OnboardingRefused(
            "insufficient_privilege",
            _(
                "The account “%(username)s” is not an administrator on this device. camfleet "
                "needs an administrator account to upgrade, restart and manage the device's "
                "accounts: enter one."
            )
            % {"username": username},
        )


def _admin_identity(
    address: CheckedAddress, *, scheme: str, username: str, secret: Secret, fingerprint: str
) -> tuple[str, DeviceIdentity]:
    """Return the account to store and the device's identity, once the account is its admin."""

    def client(account: str) -> VapixClient:
        return connection.client_for(
            address,
            scheme=scheme,
            username=account,
            password=secret,
            certificate_fingerprint=fingerprint,
        )

    with client(username) as device:
        account = _first_admin_if_fresh(device, username, secret)
        if account == username:
            _require_administrator(device, username)
            return username, read_identity(device)
    # The device made another account than the one this client signs in as.
    with client(account) as device:
        _require_administrator(device, account)
        return account, read_identity(device)


def _fingerprint_at(address: CheckedAddress, expected: str) -> str:
    try:
        presented = fetch_certificate_fingerprint(
            str(address.ip), address.port, timeout=settings.DEVICE_CONNECT_TIMEOUT
        )
    except VapixError as error:
        raise refusal(connection.device_error(error)) from None
    if expected and presented != expected:
        raise OnboardingRefused(
            "certificate_untrusted",
            _(
                "The device presented a certificate with the SHA-256 fingerprint %(presented)s, "
                "not the one you entered. Nothing was sent to it. Check that this is the right "
                "device, or leave the expected fingerprint empty to trust what it presents."
            )
            % {"presented": presented},
        )
    return presented


def check_device(
    *,
    host: str,
    port: object,
    scheme: str,
    username: str,
    password: str | Secret,
    expected_fingerprint: str = "",
) -> CheckedDevice:
    """Check the input, the address and the credentials against the device; read its identity.

    Network I/O only, no database writes: call it outside any transaction, after the access
    check. Raises a DomainError with one of the onboarding codes; refuses a serial number that
    is already onboarded (the constraint still decides a race when the device is stored).
    """
    scheme = clean_scheme(scheme)
    username, secret = clean_credentials(username, password)
    expected = clean_expected_fingerprint(expected_fingerprint)
    if port in (None, ""):
        port = default_port(scheme)
    try:
        address = resolve_address(host, port)
    except DomainError as error:
        raise refusal(error) from None
    fingerprint = _fingerprint_at(address, expected) if scheme == Device.Scheme.HTTPS else ""
    try:
        username, identity = _admin_identity(
            address, scheme=scheme, username=username, secret=secret, fingerprint=fingerprint
        )
    except VapixError as error:
        raise refusal(connection.device_error(error)) from None
    serial_number = services.normalize_serial_number(identity.serial_number)
    # Early, so a CSV preview says so; the unique constraint decides a race when storing.
    if serial_number and Device.objects.filter(serial_number=serial_number).exists():
        raise refusal(AlreadyOnboarded(message=ALREADY_ONBOARDED_MESSAGE))
    return CheckedDevice(
        address=address,
        scheme=scheme,
        username=username,
        identity=identity,
        certificate_fingerprint=fingerprint,
    )


def onboard_device(
    *,
    actor: Membership,
    folder_id: UUID | str,
    host: str,
    port: object,
    scheme: str,
    username: str,
    password: str | Secret,
    expected_fingerprint: str = "",
) -> Device:
    """Onboard one device into a visible folder (admin+): check it, read it, store it.

    The access check and the folder come first, before any network I/O. Each failure raises a
    DomainError with its own code and message, and nothing is created.
    """
    access.require(actor, Action.DEVICE_MANAGE)
    folder = organization_selectors.get_visible_folder(actor, folder_id)
    checked = check_device(
        host=host,
        port=port,
        scheme=scheme,
        username=username,
        password=password,
        expected_fingerprint=expected_fingerprint,
    )
    return store_checked_device(actor=actor, folder=folder, checked=checked, password=password)


def store_checked_device(
    *, actor: Membership, folder: Folder, checked: CheckedDevice, password: str | Secret
) -> Device:
    """Store a checked device (`services.create_device`), with the onboarding answers."""
    try:
        return services.create_device(
            actor=actor,
            folder=folder,
            identity=checked.identity,
            address=checked.address,
            scheme=checked.scheme,
            username=checked.username,
            password=password,
            certificate_fingerprint=checked.certificate_fingerprint,
        )
    except DomainError as error:
        raise refusal(error) from None


def change_device_credentials(
    *, actor: Membership, device: Device, username: str, password: str | Secret
) -> Device:
    """Store new credentials for a device after the device itself accepted them (admin+).

    The device must answer with the same serial number (another camera now at this address
    must not get this device's record). The audit event names the user name, never the password.
    """
    access.require(actor, Action.DEVICE_MANAGE)
    username, secret = clean_credentials(username, password)
    try:
        address = resolve_address(device.host, device.port)
        username, identity = _admin_identity(
            address,
            scheme=device.scheme,
            username=username,
            secret=secret,
            fingerprint=device.certificate_fingerprint,
        )
    except VapixError as error:
        raise refusal(connection.device_error(error)) from None
    if services.normalize_serial_number(identity.serial_number) != device.serial_number:
        message = _(
            "The device at this address reports another serial number; the credentials were "
            "not changed. Check the device's address."
        )
        raise OnboardingRefused("serial_number_mismatch", message)
    return _store_credentials(actor=actor, device_id=device.pk, username=username, password=secret)


@transaction.atomic(durable=True)
def _store_credentials(
    *, actor: Membership, device_id: UUID, username: str, password: Secret
) -> Device:
    access.require(actor, Action.DEVICE_MANAGE)
    organization = lock_organization(actor.organization_id)
    device = (
        selectors.visible_devices(actor)
        .select_related("folder")
        .select_for_update(of=("self",))
        .filter(pk=device_id)
        .first()
    )
    if device is None:
        raise NotFound("device_not_found", _("Device not found."))
    previous_username = device.username
    device.username = username
    device.password = password
    device.save(update_fields=["username", "encrypted_password"])
    audit.record(
        actor,
        organization,
        "device.credentials_change",
        device,
        {"username": {"from": previous_username, "to": username}, "password": "changed"},
    )
    return device
