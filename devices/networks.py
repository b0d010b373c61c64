"""Where the service may connect to devices: the allowed device networks (PRODUCT.md §5).

`resolve_device_address` resolves a host name once, judges every address it resolves to, and
returns the checked IP address. Callers connect to that IP, never to the name again, so a DNS
answer that changes between the check and the connection (DNS rebinding) cannot redirect them.

Refused whatever the settings: link-local (169.254/16, fe80::/10), cloud metadata addresses,
unspecified (0.0.0.0, ::) and multicast addresses, and the service's own addresses. Loopback is
refused unless `DEVICE_ALLOW_LOOPBACK` (development and tests, to reach the simulator). Every other
address must be inside `DEVICE_ALLOWED_NETWORKS`. An IPv4-mapped IPv6 address (::ffff:a.b.c.d)
is judged as the IPv4 address it carries.

The service's own addresses are found without extra dependencies: the addresses the machine's
host name resolves to, plus, on Linux, the kernel's local IPv4 routes (/proc/net/fib_trie) and
IPv6 interface addresses (/proc/net/if_inet6). Elsewhere only the host name's addresses are known.
"""

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from common.errors import Invalid
from devices.errors import AddressNotAllowed, HostNotFound

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack, …
        ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)
LINK_LOCAL_NETWORKS = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
)

# The machine's addresses change rarely (DHCP, a new interface); re-read them once a minute.
OWN_ADDRESSES_TTL = 60.0
FIB_TRIE = Path("/proc/net/fib_trie")
IF_INET6 = Path("/proc/net/if_inet6")


@dataclass(frozen=True)
class CheckedAddress:
    """A device address that passed the checks: connect to `ip`, not to `host` again."""

    host: str
    ip: IPAddress
    port: int

    @property
    def url_host(self) -> str:
        """Return the IP as it goes into a URL (IPv6 in brackets)."""
        return f"[{self.ip}]" if self.ip.version == 6 else str(self.ip)

    def base_url(self, scheme: str) -> str:
        """Return `scheme://ip:port` for the VAPIX client."""
        return f"{scheme}://{self.url_host}:{self.port}"


def _allowed_networks() -> tuple[IPNetwork, ...]:
    return _parse_networks(tuple(settings.DEVICE_ALLOWED_NETWORKS))


@lru_cache(maxsize=8)
def _parse_networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"DEVICE_ALLOWED_NETWORKS holds {entry!r}, which is not a network: write "
                "networks in CIDR form, comma-separated (10.0.0.0/8,fc00::/7)."
            ) from None
    return tuple(networks)


def _normalized(address: IPAddress) -> IPAddress:
    """Return the IPv4 address an IPv4-mapped IPv6 address carries, without an IPv6 zone."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.scope_id:
            return ipaddress.IPv6Address(str(address).split("%", 1)[0])
    return address


def _fib_trie_local_addresses(text: str) -> set[IPAddress]:
    """Return the IPv4 addresses the kernel routes as LOCAL (the machine's own)."""
    found: set[IPAddress] = set()
    last_address = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(("|--", "+--")):
            last_address = stripped[3:].strip().split(" ", 1)[0]
        elif stripped.startswith("/32 host LOCAL") and last_address:
            try:
                found.add(ipaddress.ip_address(last_address))
            except ValueError:
                continue
    return found


def _if_inet6_addresses(text: str) -> set[IPAddress]:
    """Return the IPv6 addresses of the machine's interfaces (/proc/net/if_inet6)."""
    found: set[IPAddress] = set()
    for line in text.splitlines():
        fields = line.split()
        if fields and len(fields[0]) == 32:
            try:
                found.add(ipaddress.IPv6Address(int(fields[0], 16)))
            except ValueError:
                continue
    return found


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:  # not Linux, or /proc not mounted: the host name's addresses still count
        return ""


def _discover_own_addresses() -> frozenset[IPAddress]:
    found: set[IPAddress] = set()
    try:
        for answer in socket.getaddrinfo(socket.gethostname(), None):
            found.add(_normalized(ipaddress.ip_address(answer[4][0])))
    except (OSError, UnicodeError, ValueError):
        pass  # a host name that does not resolve names no address of ours
    found |= _fib_trie_local_addresses(_read(FIB_TRIE))
    found |= _if_inet6_addresses(_read(IF_INET6))
    return frozenset(found)


_own_addresses_lock = threading.Lock()
_own_addresses: tuple[float, frozenset[IPAddress]] = (0.0, frozenset())


def own_addresses() -> frozenset[IPAddress]:
    """Return the service machine's own IP addresses (cached for OWN_ADDRESSES_TTL seconds)."""
    global _own_addresses
    with _own_addresses_lock:
        read_at, addresses = _own_addresses
        if not addresses or time.monotonic() - read_at > OWN_ADDRESSES_TTL:
            _own_addresses = (time.monotonic(), _discover_own_addresses())
        return _own_addresses[1]


def _refuse(host: str, address: IPAddress, reason: str) -> AddressNotAllowed:
    values = {"host": host, "address": address}
    if reason == "loopback":
        message = _(
            "“%(host)s” is a loopback address (%(address)s) of the service itself, not a "
            "device. Enter the device's address on the camera network (DEVICE_ALLOW_LOOPBACK "
            "is for development only)."
        )
    elif reason == "link_local":
        message = _(
            "“%(host)s” is a link-local address (%(address)s), which is never allowed. Give "
            "the device a fixed or DHCP address on the camera network and enter that."
        )
    elif reason == "metadata":
        message = _(
            "“%(host)s” is a cloud metadata address (%(address)s), which is never allowed. "
            "Enter the device's address on the camera network."
        )
    elif reason == "own_address":
        message = _(
            "“%(host)s” is an address of the service itself (%(address)s), not a device. "
            "Enter the device's address on the camera network."
        )
    elif reason in ("unspecified", "multicast"):
        message = _(
            "“%(host)s” (%(address)s) is not the address of a single device. Enter the "
            "device's own address."
        )
    else:
        message = _(
            "“%(host)s” (%(address)s) is outside the networks devices may be reached on. "
            "Enter an address inside them, or ask the administrator of this service to add "
            "its network to DEVICE_ALLOWED_NETWORKS."
        )
    return AddressNotAllowed(message % values, reason=reason, address=str(address))


def check_ip_address(host: str, address: IPAddress) -> None:
    """Raise AddressNotAllowed unless the service may connect to this IP address."""
    address = _normalized(address)
    if address.is_unspecified:
        raise _refuse(host, address, "unspecified")
    if address.is_multicast:
        raise _refuse(host, address, "multicast")
    if address in METADATA_ADDRESSES:
        raise _refuse(host, address, "metadata")
    if any(address in network for network in LINK_LOCAL_NETWORKS):
        raise _refuse(host, address, "link_local")
    if address.is_loopback:
        if settings.DEVICE_ALLOW_LOOPBACK:
            return
        raise _refuse(host, address, "loopback")
    if address in own_addresses():
        raise _refuse(host, address, "own_address")
    networks = _allowed_networks()
    if not any(address in network for network in networks):
        raise _refuse(host, address, "outside_allowed_networks")


def _clean_port(port: object) -> int:
    try:
        number = int(str(port).strip())
    except ValueError:
        number = 0
    if not 1 <= number <= 65535:
        message = _("The port must be a number from 1 to 65535.")
        raise Invalid("invalid_port", message, {"port": [message]})
    return number


def _clean_host(host: str) -> str:
    host = (host or "").strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]  # an IPv6 literal as written in URLs
    if (
        not host
        or len(host) > 253
        or any(c.isspace() or not c.isprintable() or c in "/?#@" for c in host)
    ):
        message = _("Enter the device's host name or IP address, without a scheme or path.")
        raise Invalid("invalid_host", message, {"host": [message]})
    return host


def resolve_device_address(host: str, port: object) -> CheckedAddress:
    """Resolve a device's host once and return the address to connect to, if every one is allowed.

    Refuses when any address the name resolves to is refused, so a name cannot smuggle a
    forbidden address past the check behind an allowed one.
    """
    port_number = _clean_port(port)
    host = _clean_host(host)
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        addresses = _resolve(host, port_number)
    for address in addresses:
        check_ip_address(host, address)
    return CheckedAddress(host=host, ip=_normalized(addresses[0]), port=port_number)


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError):
        answers = []
    addresses: list[IPAddress] = []
    for answer in answers:
        address = ipaddress.ip_address(answer[4][0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        message = _(
            "No address was found for “%(host)s”. Check the spelling, or enter the device's "
            "IP address."
        ) % {"host": host}
        raise HostNotFound(message=message, fields={"host": [message]})
    return addresses
