"""Pure tests of the IPv6 half of addressing, arguments and packet parsing (no Docker)."""

from __future__ import annotations

import ipaddress
import itertools
import struct

import pytest

from pytest_dockernet import addressing
from pytest_dockernet.model.arguments import check_family, gateway_of, parse_destination
from pytest_dockernet.observe.ping import echo_request6, parse_icmp6
from pytest_dockernet.observe.ports import quoted_error6
from pytest_dockernet.observe.subnets import Occupant, clash
from pytest_dockernet.topology.listeners import peer_address

from .values import container, network, registry

ME = ipaddress.IPv6Address("fd64:6e65:7400:1::2")
ROUTER = ipaddress.IPv6Address("fd64:6e65:7400:1::1")


def test_the_default_ipv6_pool_is_a_ula_48() -> None:
    pool = addressing.parse_subnet6(addressing.DEFAULT_POOL6)
    assert pool.prefixlen == 48
    assert pool.subnet_of(ipaddress.IPv6Network("fc00::/7"))


def test_ipv6_candidates_are_64s_of_the_pool_in_order_from_a_random_start() -> None:
    pool = ipaddress.IPv6Network("fd00:1:2::/48")
    first = list(itertools.islice(addressing.candidates(pool, 64), 3))
    assert all(s.prefixlen == 64 and s.subnet_of(pool) for s in first)
    index = [(int(s.network_address) - int(pool.network_address)) >> 64 for s in first]
    assert index[1:] == [(i + 1) % 65536 for i in index[:-1]]


def test_candidates_of_a_pool_wrap_around_and_cover_it_once() -> None:
    pool = ipaddress.IPv6Network("fd00:1:2::/62")
    found = list(addressing.candidates(pool, 64))
    assert sorted(found) == list(pool.subnets(new_prefix=64))


@pytest.mark.parametrize("bad", ["fd00::1/64", "10.0.0.0/24", "fd00::/129"])
def test_parse_subnet6_names_the_value_and_the_form(bad: str) -> None:
    with pytest.raises(ValueError, match="is not an IPv6 network") as info:
        addressing.parse_subnet6(bad, "subnet6")
    assert repr(bad) in str(info.value)


def test_parse_any_address_reads_the_family_from_a_colon() -> None:
    assert addressing.parse_any_address("fd00::5") == ipaddress.IPv6Address("fd00::5")
    assert addressing.parse_any_address("10.0.0.5") == ipaddress.IPv4Address("10.0.0.5")
    with pytest.raises(ValueError, match="not an IPv6 address"):
        addressing.parse_any_address("fd00::zz")


def test_check_host_address_over_ipv6_refuses_the_anycast_address_and_other_subnets() -> None:
    subnet = ipaddress.IPv6Network("fd00:1::/64")
    assert addressing.check_host_address(ipaddress.IPv6Address("fd00:1::5"), subnet, "ip") == (
        ipaddress.IPv6Address("fd00:1::5")
    )
    with pytest.raises(ValueError, match="subnet-router anycast"):
        addressing.check_host_address(subnet.network_address, subnet, "ip")
    with pytest.raises(ValueError, match="outside the subnet"):
        addressing.check_host_address(ipaddress.IPv6Address("fd00:2::5"), subnet, "ip")
    with pytest.raises(ValueError, match="outside the subnet"):
        addressing.check_host_address(ipaddress.IPv4Address("10.0.0.5"), subnet, "ip")


def test_clash_compares_only_subnets_of_one_family() -> None:
    used = [
        Occupant(ipaddress.IPv4Network("10.0.0.0/8"), "a"),
        Occupant(ipaddress.IPv6Network("fd00:1::/48"), "b"),
    ]
    assert clash(ipaddress.IPv6Network("fd00:1:0:5::/64"), used) == used[1]
    assert clash(ipaddress.IPv6Network("fd00:2::/64"), used) is None
    assert clash(ipaddress.IPv4Network("10.1.0.0/24"), used) == used[0]


@pytest.mark.parametrize(
    ("value", "ok"), [(4, True), (6, True), (5, False), (True, False), ("6", False)]
)
def test_check_family(value: object, ok: bool) -> None:
    if ok:
        assert check_family(value) == value
    else:
        with pytest.raises(ValueError, match="family must be 4 or 6"):
            check_family(value)


def test_route_destinations_of_either_family() -> None:
    assert parse_destination("default", 6) == ipaddress.IPv6Network("::/0")
    assert parse_destination("default") == ipaddress.IPv4Network("0.0.0.0/0")
    assert parse_destination("fd00:9::/64") == ipaddress.IPv6Network("fd00:9::/64")
    assert parse_destination(ipaddress.IPv6Address("fd00::9")) == ipaddress.IPv6Network(
        "fd00::9/128"
    )


def test_a_via_container_means_its_ipv6_address_on_the_shared_network() -> None:
    reg = registry()
    lan = network(reg, "lan", "10.1.0.0/24")
    lan.subnet6, lan.gateway6 = (
        ipaddress.IPv6Network("fd00:1::/64"),
        ipaddress.IPv6Address("fd00:1::1"),
    )
    router = container(reg, "r", {lan: "10.1.0.2"})
    router.addresses6 = {lan: ipaddress.IPv6Address("fd00:1::2")}
    assert gateway_of(router, [lan], "h1", 6) == ipaddress.IPv6Address("fd00:1::2")
    assert gateway_of(router, [lan], "h1") == ipaddress.IPv4Address("10.1.0.2")
    router.addresses6 = {}
    with pytest.raises(ValueError, match="shares no network with IPv6 with h1"):
        gateway_of(router, [lan], "h1", 6)


def test_ip6_of_a_container_on_a_network_without_ipv6_names_the_fix() -> None:
    reg = registry()
    lan = network(reg, "lan", "10.1.0.0/24")
    c = container(reg, "c", {lan: "10.1.0.2"})
    with pytest.raises(ValueError, match="ipv6=True"):
        c.ip6(lan)


def test_echo_request6_leaves_the_checksum_to_the_kernel() -> None:
    packet = echo_request6(0x1234, 7, b"x")
    assert packet == struct.pack("!BBHHH", 128, 0, 0, 0x1234, 7) + b"x"


def test_an_echo_reply6_with_our_ident_is_a_reply_with_its_hop_limit() -> None:
    reply = struct.pack("!BBHHH", 129, 0, 0, 0x1234, 3)
    assert parse_icmp6(reply, ME, 63, 0x1234) == ("reply", 3, 63, ME)
    assert parse_icmp6(reply, ME, 63, 0x4321) is None


def _ipv6_header(next_header: int, src: ipaddress.IPv6Address, dst: ipaddress.IPv6Address) -> bytes:
    return struct.pack("!IHBB16s16s", 6 << 28, 8, next_header, 64, src.packed, dst.packed)


def test_an_icmpv6_error_quoting_our_echo_names_its_sender_and_kind() -> None:
    quoted = _ipv6_header(58, ME, ipaddress.IPv6Address("fd00:9::5")) + struct.pack(
        "!BBHHH", 128, 0, 0, 0x1234, 2
    )
    unreachable = struct.pack("!BBHI", 1, 1, 0, 0) + quoted
    kind, seq, _, sender = parse_icmp6(unreachable, ROUTER, 64, 0x1234) or ("", 0, 0, None)
    assert (kind, seq, sender) == (
        f"destination administratively prohibited (from {ROUTER})",
        2,
        ROUTER,
    )
    exceeded = struct.pack("!BBHI", 3, 0, 0, 0) + quoted
    assert parse_icmp6(exceeded, ROUTER, 64, 0x1234)[0].startswith("hop limit exceeded")  # type: ignore[index]


def test_a_port_unreachable6_quoting_our_datagram_is_found_and_others_are_not() -> None:
    dst = ipaddress.IPv6Address("fd00:9::5")
    quoted = _ipv6_header(17, ME, dst) + struct.pack("!HHHH", 40000, 53, 8, 0)
    packet = struct.pack("!BBHI", 1, 4, 0, 0) + quoted
    assert quoted_error6(packet, dst, "udp", 40000, dst, 53) == (1, 4, dst)
    assert quoted_error6(packet, dst, "udp", 40001, dst, 53) is None
    assert quoted_error6(packet, dst, "tcp", 40000, dst, 53) is None


def test_an_ipv4_mapped_peer_is_shown_as_ipv4() -> None:
    assert peer_address("::ffff:10.0.0.2") == ipaddress.IPv4Address("10.0.0.2")
    assert peer_address("fd00::2") == ipaddress.IPv6Address("fd00::2")
