"""The path MTU search's pure parts: reading "fragmentation needed" and "packet too big", sizing
the echo request, and the search between the bounds."""

from __future__ import annotations

import ipaddress
import struct

import pytest

from pytest_dockernet.observe.ping import (
    PingResult,
    echo_payload,
    echo_request,
    echo_request6,
    parse_icmp,
    parse_icmp6,
)
from pytest_dockernet.probing.path_mtu import Attempt, PathMtu, largest_passing
from tests.unit.test_ping_parse import IDENT, icmp, ipv4

ME = ipaddress.IPv4Address("10.0.0.2")
ROUTER6 = ipaddress.IPv6Address("fd00:1::1")


def frag_needed(mtu: int) -> bytes:
    """Type 3 code 4 with the next-hop MTU in its second half-word, quoting our request."""
    quoted = ipv4(echo_request(IDENT, 1), str(ME))[:28]
    return icmp(3, 4, struct.pack("!HH", 0, mtu) + quoted)


def test_fragmentation_needed_names_the_next_hop_mtu_and_its_sender() -> None:
    parsed = parse_icmp(ipv4(frag_needed(1400), "10.0.0.1"), IDENT)
    assert parsed is not None
    kind, seq, _, sender = parsed
    assert (kind, seq, sender) == (
        "fragmentation needed (next-hop MTU 1400) (from 10.0.0.1)",
        1,
        ipaddress.IPv4Address("10.0.0.1"),
    )
    assert PingResult("h", ME, 1, (), (kind,)).next_hop_mtu == 1400


def test_packet_too_big_names_its_mtu() -> None:
    header = struct.pack(
        "!IHBB16s16s", 6 << 28, 8, 58, 64, ipaddress.IPv6Address("fd00:1::5").packed, ROUTER6.packed
    )
    quoted = header + echo_request6(IDENT, 2)[:8]
    packet = struct.pack("!BBHI", 2, 0, 0, 1280) + quoted
    parsed = parse_icmp6(packet, ROUTER6, 64, IDENT)
    assert parsed is not None
    assert parsed[0] == f"packet too big (next-hop MTU 1280) (from {ROUTER6})"
    assert PingResult("h", ROUTER6, 1, (), (parsed[0],)).next_hop_mtu == 1280


def test_other_errors_name_no_mtu() -> None:
    assert PingResult("h", ME, 1, (), ("no reply within 1 s",)).next_hop_mtu is None


@pytest.mark.parametrize("size", [1500, 68, 9000])
def test_the_request_is_the_size_asked_for(size: int) -> None:
    assert len(echo_request(1, 1, echo_payload(size))) + 20 == size


@pytest.mark.parametrize("size", [1500, 1280])
def test_the_request6_is_the_size_asked_for(size: int) -> None:
    assert len(echo_request6(1, 1, echo_payload(size, 6))) + 40 == size


def test_a_size_below_the_headers_is_refused() -> None:
    with pytest.raises(ValueError, match="size 20 is smaller than the 28 bytes"):
        echo_payload(20)


def test_the_search_follows_a_routers_hint_and_checks_one_byte_more() -> None:
    tried: list[int] = []

    def attempt(size: int) -> tuple[bool, int | None]:
        tried.append(size)
        return size <= 1400, None if size <= 1400 else 1400

    assert largest_passing(68, 1500, attempt) == 1400
    assert tried == [1500, 1400, 1401]


def test_the_search_halves_through_silence() -> None:
    tried: list[int] = []

    def attempt(size: int) -> tuple[bool, int | None]:
        tried.append(size)
        return size <= 1000, None

    assert largest_passing(68, 1500, attempt) == 1000
    assert len(tried) <= 12
    assert 1000 in tried and 1001 in tried


def test_the_whole_interface_passes_at_once() -> None:
    assert largest_passing(68, 1500, lambda size: (True, None)) == 1500


def test_nothing_answered_is_none() -> None:
    assert largest_passing(68, 1500, lambda size: (False, None)) is None


def test_a_hint_outside_the_bounds_is_not_followed() -> None:
    tried: list[int] = []

    def attempt(size: int) -> tuple[bool, int | None]:
        tried.append(size)
        return size <= 1200, 9000

    assert largest_passing(68, 1500, attempt) == 1200
    assert 9000 not in tried


def test_the_report_lists_every_size_tried() -> None:
    found = PathMtu(
        "h",
        "container 'far' at 10.0.1.3",
        1400,
        (
            Attempt(1500, False, "fragmentation needed (next-hop MTU 1400) (from 10.0.0.1)"),
            Attempt(1400, True, "answered"),
        ),
    )
    assert str(found) == (
        "path MTU from h to container 'far' at 10.0.1.3: 1400 bytes; sizes tried:\n"
        "  1500 bytes: fragmentation needed (next-hop MTU 1400) (from 10.0.0.1)\n"
        "  1400 bytes: answered"
    )
