"""The client address of a request: the one answer for throttles, security events and audit."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def normalize_address(value: object) -> str | None:
    """Return `value` in the one spelling we store and compare, or None when it is no IP address.

    An IPv4 client reaching a dual-stack socket shows up as an IPv4-mapped IPv6 address
    (::ffff:203.0.113.9); it becomes the IPv4 address, so a client has one throttle and one
    spelling in every record. Other IPv6 addresses are compressed lower case without a zone
    (PostgreSQL's inet refuses "%eth0"). Nothing else is accepted: no ports, brackets or names.
    """
    if not isinstance(value, str):
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        address = ipaddress.IPv6Address(int(address))  # without the zone
    return str(address)


def client_address(request: HttpRequest | None) -> str | None:
    """Return the address of the client that sent `request`, past the PROXY_COUNT proxies.

    Each proxy appends the address it received the request from to X-Forwarded-For, so behind
    N proxies the client is the N-th address from the right of the header (REMOTE_ADDR being
    the last proxy); whatever stands left of it was written by the client and is ignored.
    Without proxies the header is ignored altogether: a direct client could write anything.
    A header shorter than N, or without an address at that place, falls back to REMOTE_ADDR,
    the proxy: one shared throttle rather than one the client chooses.
    """
    if request is None:
        return None
    remote_address = normalize_address(request.META.get("REMOTE_ADDR"))
    proxy_count = settings.PROXY_COUNT
    if proxy_count <= 0:
        return remote_address
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    if len(hops) < proxy_count:
        return remote_address
    return normalize_address(hops[-proxy_count]) or remote_address
