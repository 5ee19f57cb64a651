"""Pure tests of the ICMP packet building and parsing in ``observe/ping.py``."""

from __future__ import annotations

import ipaddress
import struct

import pytest

from pytest_dockernet.observe.ping import (
    PingResult,
    Reply,
    checksum,
    echo_request,
    parse_icmp,
)

IDENT = 0x1234
ME = ipaddress.IPv4Address("10.0.0.2")


def ipv4(payload: bytes, source: str, ttl: int = 64, options: bytes = b"") -> bytes:
    """An IPv4 header (protocol ICMP) with ``options`` (a multiple of 4 bytes), then ``payload``."""
    ihl = 5 + len(options) // 4
    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x40 | ihl,
        0,
        4 * ihl + len(payload),
        0,
        0,
        ttl,
        1,
        0,
        ipaddress.IPv4Address(source).packed,
        ME.packed,
    )
    return header + options + payload


def icmp(icmp_type: int, code: int, rest: bytes) -> bytes:
    """An ICMP message: type, code, checksum, then ``rest`` (which starts with id/seq or unused)."""
    header = struct.pack("!BBH", icmp_type, code, 0) + rest
    return header[:2] + struct.pack("!H", checksum(header)) + header[4:]


def echo_reply(ident: int, seq: int, payload: bytes = b"pytest-dockernet") -> bytes:
    return icmp(0, 0, struct.pack("!HH", ident, seq) + payload)


def icmp_error(icmp_type: int, code: int, quoted_ident: int, seq: int = 3) -> bytes:
    """An ICMP error quoting our echo request's IP header and first 8 ICMP bytes."""
    quoted = ipv4(echo_request(quoted_ident, seq), str(ME))[:28]
    return icmp(icmp_type, code, b"\0\0\0\0" + quoted)


# --- checksum ------------------------------------------------------------------------------


def test_checksum_known_vector() -> None:
    # RFC 1071 section 3 example: the one's complement sum of these words is 0xddf2.
    assert checksum(bytes.fromhex("0001f203f4f5f6f7")) == 0xFFFF - 0xDDF2


def test_checksum_of_ipv4_header_example() -> None:
    # The classic Wikipedia IPv4 header example: checksum field zeroed gives 0xb861.
    header = bytes.fromhex("450000730000400040110000c0a80001c0a800c7")
    assert checksum(header) == 0xB861


def test_checksum_folds_the_carry_of_the_first_fold() -> None:
    # 0xffff + 0xffff + 0x0001 = 0x1ffff; folding once gives 0x10000, twice gives 0x0001.
    assert checksum(bytes.fromhex("ffffffff0001")) == 0xFFFE


def test_checksum_pads_odd_length() -> None:
    assert checksum(b"\x01") == checksum(b"\x01\x00") == 0xFEFF


def test_packet_with_checksum_filled_in_checksums_to_zero() -> None:
    assert checksum(echo_request(0xBEEF, 42, b"odd-length payload!")) == 0


# --- echo_request --------------------------------------------------------------------------


def test_echo_request_layout() -> None:
    packet = echo_request(0xABCD, 7, b"xyz")
    icmp_type, code, _, ident, seq = struct.unpack("!BBHHH", packet[:8])
    assert (icmp_type, code, ident, seq) == (8, 0, 0xABCD, 7)
    assert packet[8:] == b"xyz"
    assert checksum(packet) == 0


def test_echo_request_default_payload() -> None:
    assert echo_request(1, 1)[8:] == b"pytest-dockernet"


# --- parse_icmp ----------------------------------------------------------------------------


def test_echo_reply_with_our_ident() -> None:
    packet = ipv4(echo_reply(IDENT, 5), "10.0.0.9", ttl=63)
    assert parse_icmp(packet, IDENT) == ("reply", 5, 63, ipaddress.IPv4Address("10.0.0.9"))


def test_echo_reply_with_other_ident_is_ignored() -> None:
    assert parse_icmp(ipv4(echo_reply(IDENT + 1, 5), "10.0.0.9"), IDENT) is None


def test_too_short_packet_is_ignored() -> None:
    assert parse_icmp(ipv4(echo_reply(IDENT, 5), "10.0.0.9")[:27], IDENT) is None


@pytest.mark.parametrize(
    ("code", "text"),
    [(1, "destination host unreachable"), (13, "destination administratively prohibited")],
)
def test_destination_unreachable_quoting_our_request(code: int, text: str) -> None:
    packet = ipv4(icmp_error(3, code, IDENT, seq=3), "10.0.0.1", ttl=64)
    assert parse_icmp(packet, IDENT) == (
        f"{text} (from 10.0.0.1)",
        3,
        64,
        ipaddress.IPv4Address("10.0.0.1"),
    )


def test_destination_unreachable_unknown_code_names_the_code() -> None:
    result = parse_icmp(ipv4(icmp_error(3, 5, IDENT), "10.0.0.1"), IDENT)
    assert result is not None
    assert result[0] == "destination unreachable (code 5) (from 10.0.0.1)"


def test_time_exceeded_quoting_our_request() -> None:
    result = parse_icmp(ipv4(icmp_error(11, 0, IDENT, seq=9), "192.0.2.1", ttl=255), IDENT)
    assert result == (
        "time to live exceeded (from 192.0.2.1)",
        9,
        255,
        ipaddress.IPv4Address("192.0.2.1"),
    )


@pytest.mark.parametrize("icmp_type", [3, 11])
def test_error_quoting_someone_elses_echo_is_ignored(icmp_type: int) -> None:
    assert parse_icmp(ipv4(icmp_error(icmp_type, 1, IDENT ^ 0xFFFF), "10.0.0.1"), IDENT) is None


def test_echo_request_seen_on_the_socket_is_ignored() -> None:
    assert parse_icmp(ipv4(echo_request(IDENT, 1), "10.0.0.2"), IDENT) is None


def test_ip_header_with_options_still_parses() -> None:
    packet = ipv4(echo_reply(IDENT, 2), "10.0.0.9", ttl=62, options=b"\x01\x01\x01\x00")
    assert packet[0] == 0x46
    assert parse_icmp(packet, IDENT) == ("reply", 2, 62, ipaddress.IPv4Address("10.0.0.9"))


# --- PingResult ----------------------------------------------------------------------------


def test_ping_result_counts_and_text() -> None:
    src = ipaddress.IPv4Address("10.0.0.9")
    result = PingResult(
        source="pid 42",
        destination=src,
        sent=3,
        replies=(Reply(1, src, 64, 0.25), Reply(3, src, 61, 1.5)),
        errors=("destination host unreachable (from 10.0.0.1)",),
    )
    assert result.received == 2
    text = str(result)
    assert text.splitlines()[0] == "ping from pid 42 to 10.0.0.9: 3 sent, 2 received"
    assert "reply seq=1 from 10.0.0.9 ttl=64 time=0.250 ms" in text
    assert "reply seq=3 from 10.0.0.9 ttl=61 time=1.500 ms" in text
    assert text.splitlines()[-1] == "    destination host unreachable (from 10.0.0.1)"


def test_ping_result_without_replies() -> None:
    result = PingResult("host", ipaddress.IPv4Address("10.0.0.9"), 1, ())
    assert result.received == 0
    assert str(result) == "ping from host to 10.0.0.9: 1 sent, 0 received"
