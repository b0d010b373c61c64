"""The allowed device networks: what the service may connect to, resolved once."""

import ipaddress

import pytest
from django.test import override_settings

from common.errors import Invalid
from devices.errors import AddressNotAllowed, HostNotFound
from devices.networks import own_addresses, resolve_device_address


def _refusal(host: str, port: int = 80) -> AddressNotAllowed:
    with pytest.raises(AddressNotAllowed) as refused:
        resolve_device_address(host, port)
    assert refused.value.code == "address_not_allowed"
    return refused.value


@pytest.mark.parametrize("host", ["10.1.2.3", "172.16.0.9", "192.168.77.10", "fd12:3456::10"])
def test_private_addresses_are_allowed(host):
    checked = resolve_device_address(host, 443)
    assert checked.ip == ipaddress.ip_address(host)
    assert checked.port == 443


def test_the_checked_address_is_what_the_client_connects_to():
    checked = resolve_device_address("[fd12:3456::10]", "8443")
    assert checked.host == "fd12:3456::10"
    assert checked.base_url("https") == "https://[fd12:3456::10]:8443"
    assert resolve_device_address("10.1.2.3", 80).base_url("http") == "http://10.1.2.3:80"


@override_settings(DEVICE_ALLOW_LOOPBACK=False)
@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1"])
def test_loopback_is_refused_without_the_development_setting(host):
    refusal = _refusal(host)
    assert refusal.reason == "loopback"
    assert "DEVICE_ALLOW_LOOPBACK" in str(refusal.message)


@override_settings(DEVICE_ALLOW_LOOPBACK=True)
def test_loopback_is_allowed_with_the_development_setting():
    checked = resolve_device_address("127.0.0.1", 18100)
    assert checked.base_url("http") == "http://127.0.0.1:18100"


@override_settings(DEVICE_ALLOW_LOOPBACK=False)
@pytest.mark.parametrize("host", ["localhost", "vm", "127.1", "2130706433"])
def test_a_name_resolving_to_loopback_is_refused(host):
    refusal = _refusal(host)
    assert refusal.reason == "loopback"
    assert refusal.address.startswith("127.")


@override_settings(DEVICE_ALLOW_LOOPBACK=True)
@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("169.254.1.1", "link_local"),
        ("fe80::1", "link_local"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - a refused device address
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
    ],
)
def test_link_local_metadata_and_non_device_addresses_are_always_refused(host, reason):
    with override_settings(DEVICE_ALLOWED_NETWORKS=["0.0.0.0/0", "::/0"]):
        refusal = _refusal(host)
    assert refusal.reason == reason


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("::ffff:169.254.169.254", "metadata"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:8.8.8.8", "outside_allowed_networks"),
    ],
)
@override_settings(DEVICE_ALLOW_LOOPBACK=False)
def test_ipv4_mapped_addresses_are_judged_as_ipv4(host, reason):
    assert _refusal(host).reason == reason


def test_an_ipv4_mapped_private_address_connects_as_ipv4():
    checked = resolve_device_address("::ffff:10.9.8.7", 80)
    assert checked.ip == ipaddress.ip_address("10.9.8.7")


def test_public_addresses_are_outside_the_default_networks():
    refusal = _refusal("8.8.8.8")
    assert refusal.reason == "outside_allowed_networks"
    assert "DEVICE_ALLOWED_NETWORKS" in str(refusal.message)


@override_settings(DEVICE_ALLOWED_NETWORKS=["10.5.0.0/16"])
def test_the_allowed_networks_come_from_the_setting():
    assert resolve_device_address("10.5.1.1", 80).ip == ipaddress.ip_address("10.5.1.1")
    assert _refusal("10.6.1.1").reason == "outside_allowed_networks"


@override_settings(DEVICE_ALLOW_LOOPBACK=True, DEVICE_ALLOWED_NETWORKS=["0.0.0.0/0", "::/0"])
def test_the_services_own_addresses_are_refused():
    own = sorted((a for a in own_addresses() if not a.is_loopback), key=str)
    if not own:
        pytest.skip("this machine has no address besides loopback")
    refusal = _refusal(str(own[0]))
    assert refusal.reason == "own_address"


@pytest.mark.parametrize("port", [0, -1, 65536, "http", ""])
def test_a_port_out_of_range_is_refused(port):
    with pytest.raises(Invalid) as refused:
        resolve_device_address("10.1.2.3", port)
    assert refused.value.code == "invalid_port"
    assert "port" in refused.value.fields


@pytest.mark.parametrize(
    "host", ["", "   ", "http://10.1.2.3", "10.1.2.3/admin", "a b", "cam\x00era", "x" * 254]
)
def test_a_host_that_is_not_a_host_is_refused(host):
    with pytest.raises(Invalid) as refused:
        resolve_device_address(host, 80)
    assert refused.value.code == "invalid_host"


def test_a_name_that_does_not_resolve_is_unreachable():
    with pytest.raises(HostNotFound) as refused:
        resolve_device_address("no-such-camera.invalid", 80)
    assert refused.value.code == "unreachable"
    assert "no-such-camera.invalid" in str(refused.value.message)
