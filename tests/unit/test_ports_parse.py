"""Which ICMP error answers a port probe: the raw socket sees every ICMP error of the namespace."""

from __future__ import annotations

import ipaddress
import socket
import struct

import pytest

from pytest_dockernet.observe.ports import check_port, check_proto, quoted_error

DST = ipaddress.IPv4Address("10.0.0.2")


def ip_header(proto: int, src: str, dst: str, payload: bytes, ttl: int = 64) -> bytes:
    return (
        struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(payload), 0, 0, ttl, proto, 0)
        + ipaddress.IPv4Address(src).packed
        + ipaddress.IPv4Address(dst).packed
        + payload
    )


def icmp_error(icmp_type: int, code: int, sender: str, proto: int, sport: int, dport: int) -> bytes:
    quoted = ip_header(proto, "10.0.0.3", str(DST), struct.pack("!HHI", sport, dport, 0))
    icmp = struct.pack("!BBHI", icmp_type, code, 0, 0) + quoted
    return ip_header(socket.IPPROTO_ICMP, sender, "10.0.0.3", icmp)


def test_port_unreachable_quoting_our_udp_probe():
    packet = icmp_error(3, 3, "10.0.0.2", socket.IPPROTO_UDP, 40000, 53)
    assert quoted_error(packet, "udp", 40000, DST, 53) == (3, 3, DST)


def test_admin_prohibited_from_a_router_for_tcp():
    packet = icmp_error(3, 13, "10.0.0.1", socket.IPPROTO_TCP, 40000, 80)
    assert quoted_error(packet, "tcp", 40000, DST, 80) == (3, 13, ipaddress.IPv4Address("10.0.0.1"))


@pytest.mark.parametrize(
    ("proto", "sport", "dport", "packet_proto"),
    [
        ("tcp", 40000, 80, socket.IPPROTO_UDP),  # another protocol
        ("udp", 40001, 53, socket.IPPROTO_UDP),  # another probe's port
        ("udp", 40000, 54, socket.IPPROTO_UDP),  # another destination port
    ],
)
def test_errors_of_other_probes_are_not_ours(proto, sport, dport, packet_proto):
    packet = icmp_error(3, 3, "10.0.0.2", packet_proto, 40000, 53 if dport in (53, 54) else 80)
    assert quoted_error(packet, proto, sport, DST, dport) is None


def test_echo_reply_and_truncated_packets_are_ignored():
    reply = ip_header(
        socket.IPPROTO_ICMP, "10.0.0.2", "10.0.0.3", struct.pack("!BBHHH", 0, 0, 0, 1, 1)
    )
    assert quoted_error(reply, "tcp", 40000, DST, 80) is None
    assert quoted_error(b"", "tcp", 40000, DST, 80) is None
    full = icmp_error(3, 3, "10.0.0.2", socket.IPPROTO_TCP, 40000, 80)
    assert quoted_error(full[:40], "tcp", 40000, DST, 80) is None


@pytest.mark.parametrize("bad", [0, 65536, -1, True, "80", 8.0])
def test_bad_port(bad):
    with pytest.raises(ValueError, match="port must be an int from 1 to 65535"):
        check_port(bad)


def test_bad_proto():
    with pytest.raises(ValueError, match="proto must be 'tcp' or 'udp', got 'icmp'"):
        check_proto("icmp")
