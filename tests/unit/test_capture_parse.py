"""Pure tests of the frame parsing and the kernel filter in ``observe/capture.py``.

Frames are built by hand: Ethernet, IPv4 (optionally with options or as a fragment), ICMP. The
filter is run by the kernel on a Unix datagram socket pair, which needs no privilege and feeds
the filter the same bytes a packet socket does (the frame from its Ethernet header on).
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from collections.abc import Iterator

import pytest

from pytest_dockernet.observe.capture import (
    ETH_P_IP,
    Echo,
    attach_filter,
    filter_program,
    parse_frame,
)
from pytest_dockernet.observe.ping import checksum, echo_request

IDENT = 0x4D2E
SRC, DST = "10.199.3.2", "10.199.3.3"
ETH_P_ARP, ETH_P_IPV6 = 0x0806, 0x86DD


def ethernet(payload: bytes, ethertype: int = ETH_P_IP) -> bytes:
    return (
        b"\x02\x42\x0a\xc7\x03\x03"
        + b"\x02\x42\x0a\xc7\x03\x02"
        + struct.pack("!H", ethertype)
        + payload
    )


def ipv4(
    payload: bytes,
    *,
    src: str = SRC,
    dst: str = DST,
    ttl: int = 64,
    protocol: int = socket.IPPROTO_ICMP,
    fragment: int = 0,
    options: bytes = b"",
    version: int = 4,
) -> bytes:
    ihl = 5 + len(options) // 4
    header = struct.pack(
        "!BBHHHBBH4s4s",
        version << 4 | ihl,
        0,
        4 * ihl + len(payload),
        0x1234,
        fragment,
        ttl,
        protocol,
        0,
        ipaddress.IPv4Address(src).packed,
        ipaddress.IPv4Address(dst).packed,
    )
    return header + options + payload


def echo_reply(ident: int, seq: int) -> bytes:
    header = struct.pack("!BBHHH", 0, 0, 0, ident, seq) + b"pytest-dockernet"
    return header[:2] + struct.pack("!H", checksum(header)) + header[4:]


def request_frame(ident: int = IDENT, **ip: object) -> bytes:
    return ethernet(ipv4(echo_request(ident, 1), **ip))  # type: ignore[arg-type]


# --- parse_frame ---------------------------------------------------------------------------


def test_echo_request() -> None:
    assert parse_frame(request_frame(ttl=63)) == Echo(
        src=ipaddress.IPv4Address(SRC),
        dst=ipaddress.IPv4Address(DST),
        ttl=63,
        is_request=True,
        ident=IDENT,
    )


def test_echo_reply_with_ip_options() -> None:
    frame = ethernet(ipv4(echo_reply(IDENT, 7), src=DST, dst=SRC, options=b"\x01\x01\x01\x00"))
    echo = parse_frame(frame)
    assert echo is not None
    assert (echo.src, echo.dst, echo.is_request, echo.ident) == (
        ipaddress.IPv4Address(DST),
        ipaddress.IPv4Address(SRC),
        False,
        IDENT,
    )


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(ethernet(b"\0" * 28, ETH_P_ARP), id="arp"),
        pytest.param(ethernet(b"\x60" + b"\0" * 60, ETH_P_IPV6), id="ipv6"),
        pytest.param(ethernet(ipv4(b"\0" * 8, protocol=socket.IPPROTO_UDP)), id="udp"),
        pytest.param(ethernet(ipv4(b"\x03\x01" + b"\0" * 34)), id="icmp-unreachable"),
        pytest.param(request_frame(fragment=0x0004), id="later-fragment"),
        pytest.param(request_frame(version=6), id="not-version-4"),
        pytest.param(request_frame()[: 14 + 20 + 7], id="truncated-icmp"),
        pytest.param(request_frame()[:20], id="truncated-ip"),
    ],
)
def test_anything_but_an_echo_is_ignored(frame: bytes) -> None:
    assert parse_frame(frame) is None


def test_first_fragment_with_more_fragments_still_parses() -> None:
    echo = parse_frame(request_frame(fragment=0x2000))  # MF set, offset 0: it holds the header
    assert echo is not None and echo.ident == IDENT


# --- filter_program, run by the kernel -----------------------------------------------------


@pytest.fixture
def filtered() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A sender and a receiver whose kernel filter passes echoes of IDENT only."""
    sender, receiver = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    attach_filter(receiver, filter_program(IDENT))
    receiver.setblocking(False)
    with sender, receiver:
        yield sender, receiver


def passes(pair: tuple[socket.socket, socket.socket], frame: bytes) -> bool:
    sender, receiver = pair
    sender.send(frame)
    try:
        receiver.recv(4096)
    except BlockingIOError:
        return False
    return True


def test_filter_passes_our_request_and_reply(filtered: tuple[socket.socket, socket.socket]) -> None:
    assert passes(filtered, request_frame())
    assert passes(filtered, ethernet(ipv4(echo_reply(IDENT, 1), src=DST, dst=SRC)))


def test_filter_reads_the_identifier_behind_ip_options(
    filtered: tuple[socket.socket, socket.socket],
) -> None:
    options = b"\x01" * 8
    assert passes(filtered, request_frame(options=options))
    assert not passes(filtered, request_frame(IDENT ^ 1, options=options))


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(request_frame(IDENT ^ 0x8000), id="other-ident"),
        pytest.param(ethernet(ipv4(echo_request(IDENT, 1)), ETH_P_IPV6), id="not-ipv4"),
        pytest.param(ethernet(ipv4(echo_request(IDENT, 1), protocol=socket.IPPROTO_UDP)), id="udp"),
        pytest.param(request_frame(fragment=0x0010), id="later-fragment"),
    ],
)
def test_filter_drops_everything_else(
    filtered: tuple[socket.socket, socket.socket], frame: bytes
) -> None:
    assert not passes(filtered, frame)


def test_filter_keeps_only_the_headers(filtered: tuple[socket.socket, socket.socket]) -> None:
    sender, receiver = filtered
    sender.send(ethernet(ipv4(echo_request(IDENT, 1, b"x" * 1000))))
    assert len(receiver.recv(4096)) == 256
