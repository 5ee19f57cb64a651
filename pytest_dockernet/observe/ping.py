"""ICMP echo (ICMPv6 echo to an IPv6 address) from inside a namespace, from a raw socket the
host opens there.

No ``ping`` binary and no ``docker exec``: the echo request leaves the container's own ``eth0``
exactly as the container's ping would, and the reply's TTL is read from its IP header (over
IPv6, its hop limit, which the kernel hands over beside the packet).
"""

from __future__ import annotations

import errno
import ipaddress
import os
import re
import select
import socket
import struct
import sys
import time
from dataclasses import dataclass, field

from ..addressing import IPAddress
from ..engine.netns import raw_icmp_socket

ECHO_REPLY, DEST_UNREACHABLE, ECHO_REQUEST, TIME_EXCEEDED = 0, 3, 8, 11
DEST_UNREACHABLE6, PACKET_TOO_BIG6, TIME_EXCEEDED6, ECHO_REQUEST6, ECHO_REPLY6 = 1, 2, 3, 128, 129
FRAGMENTATION_NEEDED = 4
"""The code of "destination unreachable" a router sends for a don't-fragment packet larger
than its next hop's MTU, which it names (RFC 1191)."""
_IP_MTU_DISCOVER, _IPV6_MTU_DISCOVER, _IPV6_DONTFRAG, _PMTUDISC_PROBE = 10, 23, 62, 3
"""linux/in.h, linux/in6.h: set don't-fragment and send whatever the cached path MTU says, so
each size is tried on the path itself (the outgoing interface's MTU still refuses larger)."""
_ADVERTISED = re.compile(r"\(next-hop MTU (\d+)\)")
_UNREACHABLE_CODES6 = {
    0: "no route to destination",
    1: "administratively prohibited",
    3: "address unreachable",
    4: "port unreachable",
    5: "source address failed ingress/egress policy",
    6: "reject route to destination",
}
_IPV6_HEADER = 40
_UNREACHABLE_CODES = {
    0: "net unreachable",
    1: "host unreachable",
    3: "port unreachable",
    9: "net prohibited",
    10: "host prohibited",
    13: "administratively prohibited",
}


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def echo_request(ident: int, seq: int, payload: bytes = b"pytest-dockernet") -> bytes:
    header = struct.pack("!BBHHH", ECHO_REQUEST, 0, 0, ident, seq)
    return header[:2] + struct.pack("!H", checksum(header + payload)) + header[4:] + payload


def echo_request6(ident: int, seq: int, payload: bytes = b"pytest-dockernet") -> bytes:
    """An ICMPv6 echo request; the kernel fills its checksum in (RFC 3542, raw ICMPv6)."""
    return struct.pack("!BBHHH", ECHO_REQUEST6, 0, 0, ident, seq) + payload


@dataclass(frozen=True)
class Reply:
    seq: int
    source: IPAddress
    ttl: int
    """The reply's TTL, or over IPv6 its hop limit."""
    rtt_ms: float


@dataclass(frozen=True)
class PingResult:
    """What one ``ping -c COUNT`` would have printed, as data."""

    source: str
    destination: IPAddress
    sent: int
    replies: tuple[Reply, ...]
    errors: tuple[str, ...] = field(default=())

    @property
    def received(self) -> int:
        return len(self.replies)

    @property
    def next_hop_mtu(self) -> int | None:
        """The MTU a router named when it refused the request as too big to forward
        ("fragmentation needed", ICMPv6 "packet too big"); None when none did.

        Example::

            ping(h.pid, far.ip(b), size=1500, dont_fragment=True).next_hop_mtu  # 1400
        """
        for error in self.errors:
            found = _ADVERTISED.search(error)
            if found:
                return int(found.group(1))
        return None

    def __str__(self) -> str:
        lines = [
            f"ping from {self.source} to {self.destination}: "
            f"{self.sent} sent, {self.received} received"
        ]
        lines += [
            f"    reply seq={r.seq} from {r.source} ttl={r.ttl} time={r.rtt_ms:.3f} ms"
            for r in self.replies
        ]
        lines += [f"    {e}" for e in self.errors]
        return "\n".join(lines)


def parse_icmp(packet: bytes, ident: int) -> tuple[str, int, int, ipaddress.IPv4Address] | None:
    """Classify a packet read from a raw ICMP socket (IP header included) for echo ``ident``.

    Returns (kind, seq, ttl, source) with kind "reply", or an error text for an ICMP error
    that quotes our request; None for packets that are not ours.
    """
    ihl = (packet[0] & 0x0F) * 4
    if ihl < 20 or len(packet) < ihl + 8:
        return None
    ttl = packet[8]
    source = ipaddress.IPv4Address(packet[12:16])
    icmp_type, code = packet[ihl], packet[ihl + 1]
    if icmp_type == ECHO_REPLY:
        got_ident, seq = struct.unpack("!HH", packet[ihl + 4 : ihl + 8])
        return ("reply", seq, ttl, source) if got_ident == ident else None
    if icmp_type in (DEST_UNREACHABLE, TIME_EXCEEDED):
        inner = packet[ihl + 8 :]
        inner_ihl = (inner[0] & 0x0F) * 4 if inner else 0
        if inner_ihl < 20 or len(inner) < inner_ihl + 8 or inner[9] != socket.IPPROTO_ICMP:
            return None
        if inner[inner_ihl] != ECHO_REQUEST:
            return None
        got_ident, seq = struct.unpack("!HH", inner[inner_ihl + 4 : inner_ihl + 8])
        if got_ident != ident:
            return None
        mtu = struct.unpack("!H", packet[ihl + 6 : ihl + 8])[0]
        return (describe_icmp_error(icmp_type, code, source, mtu), seq, ttl, source)
    return None


def parse_icmp6(
    packet: bytes, source: ipaddress.IPv6Address, hop_limit: int, ident: int
) -> tuple[str, int, int, ipaddress.IPv6Address] | None:
    """Classify an ICMPv6 message read from a raw ICMPv6 socket (which hands over no IPv6
    header: ``source`` and ``hop_limit`` come beside it) for echo ``ident``, as ``parse_icmp``.

    >>> parse_icmp6(bytes([129, 0, 0, 0, 0, 7, 0, 1]), ipaddress.IPv6Address("fd00::2"), 64, 7)
    ('reply', 1, 64, IPv6Address('fd00::2'))
    """
    if len(packet) < 8:
        return None
    icmp_type, code = packet[0], packet[1]
    if icmp_type == ECHO_REPLY6:
        got_ident, seq = struct.unpack("!HH", packet[4:8])
        return ("reply", seq, hop_limit, source) if got_ident == ident else None
    if icmp_type in (DEST_UNREACHABLE6, PACKET_TOO_BIG6, TIME_EXCEEDED6):
        inner = packet[8:]  # the invoking packet: its IPv6 header, then our echo request
        if len(inner) < _IPV6_HEADER + 8 or inner[6] != socket.IPPROTO_ICMPV6:
            return None
        if inner[_IPV6_HEADER] != ECHO_REQUEST6:
            return None
        got_ident, seq = struct.unpack("!HH", inner[_IPV6_HEADER + 4 : _IPV6_HEADER + 8])
        if got_ident != ident:
            return None
        mtu = struct.unpack("!I", packet[4:8])[0]
        return (describe_icmp6_error(icmp_type, code, source, mtu), seq, hop_limit, source)
    return None


def describe_icmp6_error(
    icmp_type: int, code: int, source: ipaddress.IPv6Address, mtu: int = 0
) -> str:
    """An ICMPv6 error as ping prints it: "destination port unreachable (from fd00::1)";
    "packet too big (next-hop MTU 1400) (from fd00::1)" names the ``mtu`` it carries."""
    if icmp_type == TIME_EXCEEDED6:
        what = "hop limit exceeded"
    elif icmp_type == PACKET_TOO_BIG6:
        what = f"packet too big (next-hop MTU {mtu})"
    else:
        what = "destination " + _UNREACHABLE_CODES6.get(code, f"unreachable (code {code})")
    return f"{what} (from {source})"


def describe_icmp_error(
    icmp_type: int, code: int, source: ipaddress.IPv4Address, mtu: int = 0
) -> str:
    """An ICMP error as ping prints it: "destination port unreachable (from 10.0.0.1)";
    "fragmentation needed (next-hop MTU 1400) (from 10.0.0.1)" names the ``mtu`` it carries."""
    if icmp_type == TIME_EXCEEDED:
        what = "time to live exceeded"
    elif icmp_type == DEST_UNREACHABLE and code == FRAGMENTATION_NEEDED:
        what = f"fragmentation needed (next-hop MTU {mtu})"
    else:
        what = "destination " + _UNREACHABLE_CODES.get(code, f"unreachable (code {code})")
    return f"{what} (from {source})"


def _receive(sock: socket.socket, ident: int) -> tuple[str, int, int, IPAddress] | None:
    """One packet from the raw socket, classified (an IPv4 one carries its header)."""
    if sock.family == socket.AF_INET:
        return parse_icmp(sock.recv(65535), ident)
    data, ancillary, _, address = sock.recvmsg(65535, socket.CMSG_SPACE(4))
    hop_limit = next(
        (
            int.from_bytes(value[:4], sys.byteorder)
            for level, kind, value in ancillary
            if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_HOPLIMIT
        ),
        -1,
    )
    return parse_icmp6(data, ipaddress.IPv6Address(address[0].split("%")[0]), hop_limit, ident)


def ping(
    pid: int | None,
    destination: IPAddress,
    *,
    count: int = 1,
    timeout: float = 1.0,
    source: str = "",
    ttl: int | None = None,
    size: int | None = None,
    dont_fragment: bool = False,
) -> PingResult:
    """Send ``count`` echo requests from the namespace of ``pid`` and wait ``timeout`` seconds;
    ICMPv6 echo requests to an IPv6 ``destination`` (``ttl`` is then the hop limit).

    ``size`` is each request's whole IP packet in bytes (headers included, as an MTU counts
    it); ``dont_fragment`` sets don't-fragment (over IPv6, no fragmenting at the source), so a
    router that cannot forward it answers "fragmentation needed" instead.

    The requests go out back to back; the wait ends early once every reply is in.

    Example::

        ping(h1.pid, h2.ip6(lan), count=2).replies[0].ttl  # 64: the hop limit, same network
    """
    ident = (os.getpid() ^ int.from_bytes(os.urandom(2), "big")) & 0xFFFF
    replies: dict[int, Reply] = {}
    errors: list[str] = []
    sent_at: dict[int, float] = {}
    v6 = destination.version == 6
    request = echo_request6 if v6 else echo_request
    payload = echo_payload(size, destination.version)
    with raw_icmp_socket(pid, destination.version) as sock:
        if dont_fragment:
            level, option = (
                (socket.IPPROTO_IPV6, _IPV6_MTU_DISCOVER)
                if v6
                else (socket.IPPROTO_IP, _IP_MTU_DISCOVER)
            )
            sock.setsockopt(level, option, _PMTUDISC_PROBE)
            if v6:  # IPv6 fragments at the source only: not this request
                sock.setsockopt(socket.IPPROTO_IPV6, _IPV6_DONTFRAG, 1)
        if v6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
        if ttl is not None and v6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, ttl)
        elif ttl is not None:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
        for seq in range(1, count + 1):
            sent_at[seq] = time.monotonic()
            try:
                sock.sendto(request(ident, seq, payload), (str(destination), 0))
            except OSError as exc:
                errors.append(f"seq={seq}: send failed: {os.strerror(exc.errno or errno.EIO)}")
                sent_at.pop(seq)
        deadline = time.monotonic() + timeout
        while sent_at.keys() - replies.keys() and (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([sock], [], [], left)
            if not ready:
                break
            parsed = _receive(sock, ident)
            now = time.monotonic()
            if parsed is None:
                continue
            kind, seq, got_ttl, src = parsed
            if kind == "reply":
                if src == destination and seq in sent_at and seq not in replies:
                    replies[seq] = Reply(seq, src, got_ttl, (now - sent_at[seq]) * 1000)
            elif kind not in errors:
                errors.append(kind)
    if not replies and not errors:
        errors.append(f"no reply within {timeout:g} s")
    return PingResult(
        source=source or ("host" if pid is None else f"pid {pid}"),
        destination=destination,
        sent=count,
        replies=tuple(sorted(replies.values(), key=lambda r: r.seq)),
        errors=tuple(errors),
    )


def echo_payload(size: int | None, family: int = 4) -> bytes:
    """The echo payload that makes the whole IP packet ``size`` bytes (the IP and ICMP headers:
    28 bytes over IPv4, 48 over IPv6); the plugin's 16-byte mark when ``size`` is None.

    >>> len(echo_payload(1500))
    1472
    """
    if size is None:
        return b"pytest-dockernet"
    headers = 48 if family == 6 else 28
    if size < headers:
        raise ValueError(f"size {size} is smaller than the {headers} bytes of the headers")
    return (b"pytest-dockernet" * (size // 16 + 1))[: size - headers]
