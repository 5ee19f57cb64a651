"""Pure tests of subnet/address parsing and pool picking in ``addressing.py`` (no Docker)."""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv4Network

import pytest

from pytest_dockernet.addressing import candidates, check_host_address, parse_address, parse_subnet
from pytest_dockernet.observe.subnets import Occupant, clash

# --- parse_subnet --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("10.231.1.0/24", "10.231.1.0/24"), ("192.168.0.0/16", "192.168.0.0/16")],
)
def test_parse_subnet_valid(value: str, expected: str) -> None:
    assert parse_subnet(value) == IPv4Network(expected)


def test_parse_subnet_passes_a_network_through() -> None:
    net = IPv4Network("10.0.0.0/8")
    assert parse_subnet(net) is net


def test_parse_subnet_host_bits_set() -> None:
    with pytest.raises(ValueError, match="no host bits") as info:
        parse_subnet("10.0.0.1/24")
    assert "'10.0.0.1/24'" in str(info.value)


@pytest.mark.parametrize("value", ["garbage", "10.0.0.0/33", "300.1.1.0/24", "fd00::/64"])
def test_parse_subnet_rejects_non_ipv4_networks(value: str) -> None:
    with pytest.raises(ValueError, match="is not an IPv4 network") as info:
        parse_subnet(value, "pool")
    assert str(info.value).startswith(f"pool {value!r}")


@pytest.mark.parametrize(("value", "type_name"), [(24, "int"), (None, "NoneType")])
def test_parse_subnet_non_str_is_type_error(value: object, type_name: str) -> None:
    with pytest.raises(TypeError, match=f"got {type_name}$"):
        parse_subnet(value)


# --- parse_address -------------------------------------------------------------------------


def test_parse_address_valid() -> None:
    assert parse_address("10.231.1.4") == IPv4Address("10.231.1.4")
    ip = IPv4Address("10.1.1.1")
    assert parse_address(ip) is ip


@pytest.mark.parametrize("value", ["10.0.0.256", "10.0.0.0/24", "fd00::1", "host"])
def test_parse_address_invalid(value: str) -> None:
    with pytest.raises(ValueError, match="is not an IPv4 address") as info:
        parse_address(value, "gateway")
    assert str(info.value).startswith(f"gateway {value!r}")


def test_parse_address_non_str() -> None:
    with pytest.raises(TypeError, match=r"got bytes$"):
        parse_address(b"10.0.0.1")


# --- check_host_address --------------------------------------------------------------------

NET = IPv4Network("10.5.0.0/24")


def test_check_host_address_accepts_a_host() -> None:
    ip = IPv4Address("10.5.0.7")
    assert check_host_address(ip, NET, "gateway") is ip


def test_check_host_address_outside() -> None:
    with pytest.raises(
        ValueError, match=r"gateway 10\.5\.1\.1 is outside the subnet 10\.5\.0\.0/24"
    ):
        check_host_address(IPv4Address("10.5.1.1"), NET, "gateway")


@pytest.mark.parametrize("ip", ["10.5.0.0", "10.5.0.255"])
def test_check_host_address_network_and_broadcast(ip: str) -> None:
    with pytest.raises(ValueError, match=f"ip {ip} is the network or broadcast address"):
        check_host_address(IPv4Address(ip), NET, "ip")


@pytest.mark.parametrize("ip", ["10.9.9.0", "10.9.9.1"])
def test_check_host_address_slash_31_accepts_both(ip: str) -> None:
    addr = IPv4Address(ip)
    assert check_host_address(addr, IPv4Network("10.9.9.0/31"), "ip") == addr


# --- clash ---------------------------------------------------------------------------------

USED = [
    Occupant(IPv4Network("10.1.0.0/16"), "Docker network 'a'"),
    Occupant(IPv4Network("10.2.3.0/24"), "host route '10.2.3.0/24 dev eth0'"),
]


@pytest.mark.parametrize(
    ("subnet", "owner"),
    [
        ("10.1.5.0/24", "Docker network 'a'"),  # inside an occupant
        ("10.0.0.0/8", "Docker network 'a'"),  # covers occupants: the first one is named
        ("10.2.3.128/25", "host route '10.2.3.0/24 dev eth0'"),
        ("10.3.0.0/24", None),
    ],
)
def test_clash(subnet: str, owner: str | None) -> None:
    found = clash(IPv4Network(subnet), USED)
    assert (found.owner if found else None) == owner


def test_clash_with_nothing_used() -> None:
    assert clash(IPv4Network("10.0.0.0/8"), []) is None


# --- candidates ----------------------------------------------------------------------------


def test_candidates_yields_every_subnet_once_in_rotated_order() -> None:
    pool = IPv4Network("10.199.0.0/22")
    in_order = [IPv4Network(f"10.199.{i}.0/24") for i in range(4)]
    for _ in range(20):
        got = list(candidates(pool, 24))
        assert sorted(got) == in_order
        start = in_order.index(got[0])
        assert got == in_order[start:] + in_order[:start]


def test_candidates_starts_at_random(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pytest_dockernet.addressing.random.randrange", lambda n: n - 1)
    got = list(candidates(IPv4Network("10.199.0.0/22"), 24))
    assert got[0] == IPv4Network("10.199.3.0/24")
    assert got[1] == IPv4Network("10.199.0.0/24")


def test_candidates_same_prefix_as_pool() -> None:
    pool = IPv4Network("10.199.0.0/24")
    assert list(candidates(pool, 24)) == [pool]


def test_candidates_prefix_shorter_than_pool() -> None:
    with pytest.raises(ValueError, match=r"/20 is larger than the pool 10\.199\.0\.0/22"):
        list(candidates(ipaddress.IPv4Network("10.199.0.0/22"), 20))
