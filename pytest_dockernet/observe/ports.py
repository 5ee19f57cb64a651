"""TCP and UDP probes from inside a namespace: a handshake or a datagram, and what came back.

The probe's socket is created in the source's namespace from the host, so nothing is needed in
the image. A raw ICMP socket opened beside it catches the ICMP error that answered the probe:
a refusal by TCP reset is told apart from an ICMP error (a REJECT rule, no route, a closed UDP
port) and from silence (a DROP rule, or nobody at the address).

Outcomes:
- ``open``: TCP's handshake completed and the peer did not close at once; UDP got an answer.
- ``refused``: TCP got a reset; UDP got ICMP port unreachable (nothing listens there).
- ``closed at once``: TCP's handshake completed, then the peer closed or reset without a
  word, as docker-proxy does when the container behind it refuses.
- ``unreachable``: an ICMP error other than UDP's port unreachable, or no route here.
- ``no answer``: nothing came back in time (dropped, or a UDP service that stays silent).
"""

from __future__ import annotations

import errno
import ipaddress
import os
import select
import socket
import struct
import time
from dataclasses import dataclass

from ..addressing import IPAddress
from ..engine.netns import raw_icmp_socket, socket_in
from .ping import (
    DEST_UNREACHABLE,
    DEST_UNREACHABLE6,
    TIME_EXCEEDED,
    TIME_EXCEEDED6,
    describe_icmp6_error,
    describe_icmp_error,
)

PROTOS = ("tcp", "udp")
OPEN, REFUSED, CLOSED_AT_ONCE, UNREACHABLE, NO_ANSWER = (
    "open",
    "refused",
    "closed at once",
    "unreachable",
    "no answer",
)
PAYLOAD = b"pytest-dockernet probe\n"
"""What a UDP probe sends when the test gives no payload."""
GRACE = 0.1
"""Seconds a TCP probe waits after the handshake for the peer to close or reset at once."""
PORT_UNREACHABLE = 3
PORT_UNREACHABLE6 = 4
_IPV6_HEADER = 40
IPPROTO = {"tcp": socket.IPPROTO_TCP, "udp": socket.IPPROTO_UDP}
"""The IP protocol number of each of ``PROTOS``, as packet headers and netlink carry it."""


@dataclass(frozen=True)
class PortResult:
    """What one connection attempt (TCP) or one datagram (UDP) met.

    ``assert_port_open`` and ``assert_port_closed`` return it; a port matrix
    (``assert_reachability(..., port=)``) holds one per pair.

    Example:
        ```python
        dockernet.listen(web, 8080)
        result = assert_port_open(client, web, 8080)
        result.outcome  # 'open'
        result.answer  # b'pytest-dockernet web:8080/tcp\\n'
        result.local  # (IPv4Address('10.199.3.3'), 41234): the probe's own end
        ```
    """

    source: str
    """Where the probe was sent from, as messages name it (a container, an upstream, the host)."""
    destination: IPAddress
    """The address probed."""
    port: int
    """The port probed."""
    proto: str
    """``tcp`` or ``udp``."""
    outcome: str
    """``open``, ``refused``, ``closed at once``, ``unreachable`` or ``no answer``."""
    detail: str
    """What was met, in words: the reset's or the ICMP error's sender, the time it took."""
    answer: bytes = b""
    """The first bytes the service sent back (a greeting, a UDP answer), if any."""
    local: tuple[IPAddress, int] | None = None
    """The probe's own address and port, as the listener would see them without NAT."""

    @property
    def open(self) -> bool:
        """The outcome is ``open``: the handshake completed, or the datagram got an answer."""
        return self.outcome == OPEN

    def __str__(self) -> str:
        return (
            f"{self.proto} from {self.source} to {self.destination}:{self.port}: "
            f"{self.outcome} ({self.detail})"
        )


def check_port(port: object, what: str = "port") -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"{what} must be an int from 1 to 65535, got {port!r}")
    return port


def check_proto(proto: object) -> str:
    if proto not in PROTOS:
        raise ValueError(f"proto must be 'tcp' or 'udp', got {proto!r}")
    return str(proto)


def quoted_error(
    packet: bytes, proto: str, local_port: int, destination: ipaddress.IPv4Address, port: int
) -> tuple[int, int, ipaddress.IPv4Address] | None:
    """(type, code, sender) of an ICMP error read from a raw socket (IP header included) that
    quotes the probe from ``local_port`` to ``destination:port``; None for anything else."""
    ihl = (packet[0] & 0x0F) * 4 if packet else 0
    if ihl < 20 or len(packet) < ihl + 8 or packet[ihl] not in (DEST_UNREACHABLE, TIME_EXCEEDED):
        return None
    inner = packet[ihl + 8 :]
    inner_ihl = (inner[0] & 0x0F) * 4 if inner else 0
    if inner_ihl < 20 or len(inner) < inner_ihl + 4 or inner[9] != IPPROTO[proto]:
        return None
    if ipaddress.IPv4Address(inner[16:20]) != destination:
        return None
    if struct.unpack("!HH", inner[inner_ihl : inner_ihl + 4]) != (local_port, port):
        return None
    return packet[ihl], packet[ihl + 1], ipaddress.IPv4Address(packet[12:16])


def quoted_error6(
    packet: bytes,
    sender: ipaddress.IPv6Address,
    proto: str,
    local_port: int,
    destination: ipaddress.IPv6Address,
    port: int,
) -> tuple[int, int, ipaddress.IPv6Address] | None:
    """(type, code, sender) of an ICMPv6 error read from a raw ICMPv6 socket (no IPv6 header:
    ``sender`` comes beside it) that quotes the probe from ``local_port`` to
    ``destination:port``; None for anything else."""
    if len(packet) < 8 + _IPV6_HEADER + 4 or packet[0] not in (DEST_UNREACHABLE6, TIME_EXCEEDED6):
        return None
    inner = packet[8:]
    if inner[6] != IPPROTO[proto] or ipaddress.IPv6Address(inner[24:40]) != destination:
        return None
    if struct.unpack("!HH", inner[_IPV6_HEADER : _IPV6_HEADER + 4]) != (local_port, port):
        return None
    return packet[0], packet[1], sender


Refusal = tuple[bool, str]
"""An ICMP error that quotes a probe: whether it is "port unreachable" (the port is closed),
and what it says, as ping prints it."""


def _quoted(
    icmp: socket.socket, proto: str, local_port: int, destination: IPAddress, port: int
) -> Refusal | None:
    """The next packet queued on ``icmp``, when it is an error quoting this probe."""
    if isinstance(destination, ipaddress.IPv4Address):
        found = quoted_error(icmp.recv(65535), proto, local_port, destination, port)
        if found is None:
            return None
        closed = found[:2] == (DEST_UNREACHABLE, PORT_UNREACHABLE)
        return closed, describe_icmp_error(*found)
    packet, address = icmp.recvfrom(65535)
    sender = ipaddress.IPv6Address(address[0].split("%")[0])
    found6 = quoted_error6(packet, sender, proto, local_port, destination, port)
    if found6 is None:
        return None
    closed = found6[:2] == (DEST_UNREACHABLE6, PORT_UNREACHABLE6)
    return closed, describe_icmp6_error(*found6)


def _icmp_seen(
    icmp: socket.socket,
    proto: str,
    local_port: int,
    destination: IPAddress,
    port: int,
    wait: float = 0.0,
) -> Refusal | None:
    """The ICMP error quoting this probe among those queued on ``icmp`` (waiting up to
    ``wait`` seconds for one)."""
    deadline = time.monotonic() + wait
    while True:
        ready, _, _ = select.select([icmp], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return None
        found = _quoted(icmp, proto, local_port, destination, port)
        if found is not None:
            return found


def _local(sock: socket.socket) -> tuple[IPAddress, int] | None:
    try:
        host, port = sock.getsockname()[:2]
    except OSError:
        return None
    return ipaddress.ip_address(host.split("%")[0]), port


Seen = tuple[str, str, bytes]
"""(outcome, detail, answer) of one probe."""


def _tcp(
    icmp: socket.socket,
    sock: socket.socket,
    destination: IPAddress,
    port: int,
    timeout: float,
) -> Seen:
    sock.setblocking(False)
    started = time.monotonic()
    err = sock.connect_ex((str(destination), port))
    local_port = sock.getsockname()[1]
    if err == errno.EINPROGRESS:
        _, writable, _ = select.select([], [sock], [], timeout)
        if not writable:
            seen = _icmp_seen(icmp, "tcp", local_port, destination, port)
            if seen is not None:
                return UNREACHABLE, seen[1], b""
            return NO_ANSWER, f"no answer to the SYN within {timeout:g} s", b""
        err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    took = (time.monotonic() - started) * 1000
    if err == 0:
        return _after_handshake(sock, took)
    seen = _icmp_seen(icmp, "tcp", local_port, destination, port, wait=0.05)
    if seen is not None:
        return UNREACHABLE, seen[1], b""
    if err == errno.ECONNREFUSED:
        return REFUSED, f"answered with a TCP reset after {took:.1f} ms", b""
    return UNREACHABLE, f"{os.strerror(err)} (no ICMP error seen)", b""


def _after_handshake(sock: socket.socket, took: float) -> Seen:
    """Open, unless the peer closes or resets at once: docker-proxy accepts every connection
    on a published port and drops it when the container behind it refuses."""
    shook = f"handshake completed in {took:.1f} ms"
    ready, _, _ = select.select([sock], [], [], GRACE)
    if not ready:
        return OPEN, shook, b""
    try:
        answer = sock.recv(4096)
    except OSError as exc:
        return CLOSED_AT_ONCE, f"{shook}, then {os.strerror(exc.errno or 0).lower()}", b""
    if not answer:
        return (
            CLOSED_AT_ONCE,
            f"{shook}, then the peer closed without a word (a proxy whose backend refused?)",
            b"",
        )
    return OPEN, f"{shook}; the service answered", answer


def _udp(
    icmp: socket.socket,
    sock: socket.socket,
    destination: IPAddress,
    port: int,
    timeout: float,
    payload: bytes,
) -> Seen:
    sock.setblocking(False)
    try:
        sock.connect((str(destination), port))
        sock.send(payload)
    except OSError as exc:
        return UNREACHABLE, f"send failed: {os.strerror(exc.errno or errno.EIO)}", b""
    local_port = sock.getsockname()[1]
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([sock, icmp], [], [], left)
        if sock in ready:
            try:
                return OPEN, "answered", sock.recv(65535)
            except OSError:
                pass  # the ICMP error that caused it is read below
        seen = _icmp_seen(icmp, "udp", local_port, destination, port, wait=0.05 if ready else 0)
        if seen is not None:
            return REFUSED if seen[0] else UNREACHABLE, seen[1], b""
    return NO_ANSWER, f"no answer within {timeout:g} s (dropped, or a silent service)", b""


def connect(
    pid: int | None,
    destination: IPAddress,
    port: int,
    *,
    proto: str = "tcp",
    timeout: float = 1.0,
    payload: bytes = PAYLOAD,
    source: str = "",
) -> PortResult:
    """Open a TCP connection, or send one UDP datagram, from the namespace of ``pid`` (the
    host's own when None) to ``destination:port``, and classify what came back."""
    check_port(port)
    check_proto(proto)
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    family = destination.version
    with raw_icmp_socket(pid, family) as icmp, socket_in(pid, kind, family) as sock:
        if proto == "tcp":
            outcome, detail, answer = _tcp(icmp, sock, destination, port, timeout)
        else:
            outcome, detail, answer = _udp(icmp, sock, destination, port, timeout, payload)
        local = _local(sock)
    return PortResult(
        source or ("host" if pid is None else f"pid {pid}"),
        destination,
        port,
        proto,
        outcome,
        detail,
        answer,
        local,
    )
