"""Capturing one ICMP echo exchange on many interfaces at once, without tcpdump in any image.

Each capture point is an AF_PACKET socket the host opens inside the point's namespace, bound to
one interface, with a kernel filter that passes only ICMP (over IPv6: ICMPv6) of one echo
identifier. A bridge
is put in promiscuous mode through its socket, as tcpdump does: otherwise the bridge device
never sees the frames it forwards between its ports. Everything ends on its own: after a time
limit, a frame limit, or once the caller has seen what it waited for.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import ipaddress
import os
import select
import socket
import struct
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..addressing import IPAddress
from ..engine.netns import PRIVILEGE_HINT, inside, raw_icmp_socket
from ..errors import DockernetError, PrivilegeError
from .ping import ECHO_REPLY, ECHO_REPLY6, ECHO_REQUEST, ECHO_REQUEST6, echo_request, echo_request6

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
ETH_HEADER = 14
IPV6_HEADER = 40
SO_ATTACH_FILTER = 26
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
PACKET_OUTGOING = 4
SNAPLEN = 256
"""Bytes kept of each frame: every header we read fits (14 + at most 60 + 8)."""
MAX_FRAMES = 256
"""Frames one capture keeps at most: one echo through a router makes about twenty."""


def filter_program(ident: int) -> bytes:
    """Classic BPF: IPv4, protocol ICMP, first fragment, ICMP identifier ``ident``.

    The identifier sits at the same offset in echo requests and replies; the userspace parser
    checks the ICMP type. Anything else never reaches the socket.
    """
    ins = struct.Struct("HBBI")
    ld_h_abs, ld_b_abs, ld_h_ind, ldx_b_msh = 0x28, 0x30, 0x48, 0xB1
    jeq, jset, ret = 0x15, 0x45, 0x06
    drop = 10  # index of the last instruction
    program = [
        (ld_h_abs, 0, 0, 12),  # 0: ethertype
        (jeq, 0, drop - 2, ETH_P_IP),  # 1
        (ld_b_abs, 0, 0, ETH_HEADER + 9),  # 2: IP protocol
        (jeq, 0, drop - 4, socket.IPPROTO_ICMP),  # 3
        (ld_h_abs, 0, 0, ETH_HEADER + 6),  # 4: flags and fragment offset
        (jset, drop - 6, 0, 0x1FFF),  # 5: a later fragment holds no ICMP header
        (ldx_b_msh, 0, 0, ETH_HEADER),  # 6: X = IP header length
        (ld_h_ind, 0, 0, ETH_HEADER + 4),  # 7: ICMP identifier
        (jeq, 0, 1, ident),  # 8
        (ret, 0, 0, SNAPLEN),  # 9: keep
        (ret, 0, 0, 0),  # 10: drop
    ]
    return b"".join(ins.pack(*i) for i in program)


def filter_program6(ident: int) -> bytes:
    """Classic BPF: IPv6, next header ICMPv6 (no extension header: an echo carries none), ICMPv6
    echo identifier ``ident``."""
    ins = struct.Struct("HBBI")
    ld_h_abs, ld_b_abs = 0x28, 0x30
    jeq, ret = 0x15, 0x06
    drop = 7
    program = [
        (ld_h_abs, 0, 0, 12),  # 0: ethertype
        (jeq, 0, drop - 2, ETH_P_IPV6),  # 1
        (ld_b_abs, 0, 0, ETH_HEADER + 6),  # 2: next header
        (jeq, 0, drop - 4, socket.IPPROTO_ICMPV6),  # 3
        (ld_h_abs, 0, 0, ETH_HEADER + IPV6_HEADER + 4),  # 4: ICMPv6 echo identifier
        (jeq, 0, 1, ident),  # 5
        (ret, 0, 0, SNAPLEN),  # 6: keep
        (ret, 0, 0, 0),  # 7: drop
    ]
    return b"".join(ins.pack(*i) for i in program)


def attach_filter(sock: socket.socket, program: bytes) -> None:
    """SO_ATTACH_FILTER with a ``struct sock_fprog`` pointing at ``program``."""
    buf = ctypes.create_string_buffer(program)
    fprog = struct.pack("HL", len(program) // 8, ctypes.addressof(buf))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)


@dataclass(frozen=True)
class Echo:
    """The fields of one ICMP echo frame that a hop reports."""

    src: IPAddress
    dst: IPAddress
    ttl: int
    """The TTL, or over IPv6 the hop limit."""
    is_request: bool
    ident: int


def parse_frame6(frame: bytes) -> Echo | None:
    """An Ethernet frame holding an ICMPv6 echo request or reply; None for anything else."""
    ip = frame[ETH_HEADER:]
    if len(ip) < IPV6_HEADER + 8 or ip[0] >> 4 != 6 or ip[6] != socket.IPPROTO_ICMPV6:
        return None
    icmp_type = ip[IPV6_HEADER]
    if icmp_type not in (ECHO_REQUEST6, ECHO_REPLY6):
        return None
    (ident,) = struct.unpack_from("!H", ip, IPV6_HEADER + 4)
    return Echo(
        src=ipaddress.IPv6Address(ip[8:24]),
        dst=ipaddress.IPv6Address(ip[24:40]),
        ttl=ip[7],
        is_request=icmp_type == ECHO_REQUEST6,
        ident=ident,
    )


def parse_frame(frame: bytes) -> Echo | None:
    """An Ethernet frame holding an ICMP echo request or reply, over IPv4 or IPv6; None for
    anything else."""
    if len(frame) >= ETH_HEADER and struct.unpack_from("!H", frame, 12)[0] == ETH_P_IPV6:
        return parse_frame6(frame)
    if len(frame) < ETH_HEADER + 20 or struct.unpack_from("!H", frame, 12)[0] != ETH_P_IP:
        return None
    ip = frame[ETH_HEADER:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[0] >> 4 != 4 or ihl < 20 or len(ip) < ihl + 8 or ip[9] != socket.IPPROTO_ICMP:
        return None
    if struct.unpack_from("!H", ip, 6)[0] & 0x1FFF:
        return None
    icmp_type = ip[ihl]
    if icmp_type not in (ECHO_REQUEST, ECHO_REPLY):
        return None
    (ident,) = struct.unpack_from("!H", ip, ihl + 4)
    return Echo(
        src=ipaddress.IPv4Address(ip[12:16]),
        dst=ipaddress.IPv4Address(ip[16:20]),
        ttl=ip[8],
        is_request=icmp_type == ECHO_REQUEST,
        ident=ident,
    )


@dataclass(frozen=True)
class Point:
    """One interface to capture on, in a container's namespace (``pid``) or the host's (None)."""

    pid: int | None
    interface: str
    promiscuous: bool = False
    """Set for bridges, which see forwarded frames only in promiscuous mode."""


@dataclass(frozen=True)
class Seen:
    """One frame of the echo at one point; ``order`` is when this process read it."""

    point: Point
    outgoing: bool
    echo: Echo
    order: int


@dataclass(frozen=True)
class Capture:
    """Everything the capture points saw of one echo request and its reply."""

    ident: int
    seen: tuple[Seen, ...]
    ended: str
    """Why the capture stopped: what the caller waited for, the time limit or the frame limit."""
    send_error: str | None


def _open(point: Point, program: bytes) -> socket.socket:
    # Protocol 0 receives nothing until bind(), so no frame of another interface slips in.
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    try:
        attach_filter(sock, program)
        sock.bind((point.interface, ETH_P_ALL))
        if point.promiscuous:
            index = socket.if_nametoindex(point.interface)
            mreq = struct.pack("iHH8s", index, PACKET_MR_PROMISC, 0, b"")
            sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        where = "the host" if point.pid is None else f"the namespace of pid {point.pid}"
        if exc.errno == errno.ENODEV:
            raise DockernetError(f"no interface {point.interface!r} in {where}") from exc
        raise
    return sock


def _open_all(points: Iterable[Point], program: bytes) -> dict[socket.socket, Point]:
    """One socket per point; one namespace switch per container, not per interface."""
    by_pid: dict[int | None, list[Point]] = {}
    for point in points:
        by_pid.setdefault(point.pid, []).append(point)
    opened: dict[socket.socket, Point] = {}
    try:
        for pid, group in by_pid.items():
            with contextlib.nullcontext() if pid is None else inside(pid):
                for point in group:
                    opened[_open(point, program)] = point
    except PermissionError as exc:
        _close_all(opened)
        raise PrivilegeError(f"cannot open a packet capture socket: {PRIVILEGE_HINT}") from exc
    except BaseException:
        _close_all(opened)
        raise
    return opened


def _close_all(sockets: Iterable[socket.socket]) -> None:
    """Close the sockets concurrently.

    Closing a packet socket waits for an RCU grace period (about 13 ms); concurrent closes
    share the wait.
    """
    sockets = list(sockets)
    if sockets:
        with ThreadPoolExecutor(max_workers=min(32, len(sockets))) as pool:
            list(pool.map(socket.socket.close, sockets))


@contextlib.contextmanager
def _sockets(points: Iterable[Point], program: bytes) -> Iterator[dict[socket.socket, Point]]:
    opened = _open_all(points, program)
    try:
        yield opened
    finally:
        _close_all(opened)


def _drain(sock: socket.socket, point: Point, ident: int, seen: list[Seen]) -> None:
    while len(seen) < MAX_FRAMES:
        try:
            frame, address = sock.recvfrom(SNAPLEN)
        except BlockingIOError:
            return
        echo = parse_frame(frame)
        if echo is not None and echo.ident == ident:
            seen.append(Seen(point, address[2] == PACKET_OUTGOING, echo, len(seen)))


def echo_and_capture(
    src_pid: int,
    dst: IPAddress,
    points: Iterable[Point],
    *,
    timeout: float,
    until: Callable[[Seen], bool],
    grace: float = 0.005,
) -> Capture:
    """Send one echo request (ICMPv6 to an IPv6 ``dst``) from ``src_pid``'s namespace to ``dst``
    while capturing at ``points``.

    Stops ``grace`` seconds after a frame for which ``until`` is true (so the points that saw
    it earlier are read too), after ``timeout`` seconds, or at ``MAX_FRAMES`` frames.
    """
    ident = int.from_bytes(os.urandom(2), "big") or 1
    seen: list[Seen] = []
    v6 = dst.version == 6
    program = filter_program6(ident) if v6 else filter_program(ident)
    request = echo_request6 if v6 else echo_request
    with _sockets(points, program) as opened, raw_icmp_socket(src_pid, dst.version) as icmp:
        try:
            icmp.sendto(request(ident, 1), (str(dst), 0))
        except OSError as exc:
            reason = f"send failed: {os.strerror(exc.errno or errno.EIO)}"
            return Capture(ident, (), "nothing was sent", reason)
        deadline = time.monotonic() + timeout
        awaited = False
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select(list(opened), [], [], left)
            before = len(seen)
            for sock in ready:
                _drain(sock, opened[sock], ident, seen)
            if len(seen) >= MAX_FRAMES:
                return Capture(ident, tuple(seen), f"frame limit of {MAX_FRAMES}", None)
            if not awaited and any(until(s) for s in seen[before:]):
                awaited = True
                deadline = min(deadline, time.monotonic() + grace)
    ended = "the awaited frame arrived" if awaited else f"time limit of {timeout:g} s"
    return Capture(ident, tuple(seen), ended, None)
