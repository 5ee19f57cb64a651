"""Entering a container's network namespace from the host, without any tool in the image.

Netlink sockets and raw sockets belong to the namespace they were created in. So the plugin
switches one thread into the container's namespace just long enough to create a socket, then
switches back; everything afterwards (routes, links, ICMP) happens through that socket.
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pyroute2 import IPRoute, NFCTSocket
from pyroute2.netlink import NLM_F_DUMP_INTR
from pyroute2.netlink.exceptions import NetlinkDumpInterrupted, NetlinkError

from ..errors import PrivilegeError

T = TypeVar("T")
CLONE_NEWNET = 0x40000000
CLONE_NEWUTS = 0x04000000
NAMESPACES = {"net": CLONE_NEWNET, "uts": CLONE_NEWUTS}
DUMP_ATTEMPTS = 50
"""How often a netlink dump is read before an interruption is reported: beside 200 link
changes a second among 300 links, pyroute2 0.7.10 found 98% of its dumps interrupted, and 50
reads gave a whole one 199 times in 200 (10 reads: 146)."""
_libc = ctypes.CDLL(None, use_errno=True)

PRIVILEGE_HINT = (
    "entering a container's network namespace needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN, "
    "CAP_NET_RAW for ping): run pytest as root, e.g. `sudo -E pytest`, or in a CI job running "
    "as root; membership of the docker group alone is not enough"
)


def netns_path(pid: int, namespace: str = "net") -> str:
    return f"/proc/{pid}/ns/{namespace}"


def _setns(fd: int, what: str, namespace: str) -> None:
    if _libc.setns(fd, NAMESPACES[namespace]) != 0:
        err = ctypes.get_errno()
        if err == errno.EPERM:
            raise PrivilegeError(f"setns({what}) was refused: {PRIVILEGE_HINT}")
        raise OSError(err, f"setns({what}): {os.strerror(err)}")


def _open(path: str) -> int:
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except PermissionError as exc:
        raise PrivilegeError(f"cannot open {path}: {PRIVILEGE_HINT}") from exc


@contextmanager
def inside(pid: int, namespace: str = "net") -> Iterator[None]:
    """Run the body with this thread in the network (or UTS) namespace of process ``pid``.

    Only sockets should be created in the body: they keep the namespace after the thread
    switches back, which it always does, even when the body raises.
    """
    target = _open(netns_path(pid, namespace))
    try:
        own = _open(f"/proc/self/task/{threading.get_native_id()}/ns/{namespace}")
        try:
            _setns(target, netns_path(pid, namespace), namespace)
            try:
                yield
            finally:
                _setns(own, "back to the test's own namespace", namespace)
        finally:
            os.close(own)
    finally:
        os.close(target)


def enable_ipv6(pid: int, ifname: str) -> None:
    """Turn IPv6 on for interface ``ifname`` in the namespace of ``pid``
    (``net.ipv6.conf.<ifname>.disable_ipv6=0``): Docker turns it off in a container on network
    "none", so the plugin's own upstream turns it on for the link the plugin made.

    E.g. ``enable_ipv6(upstream.pid, "eth0")``.
    """
    with inside(pid):  # /proc/sys/net shows the namespace of the thread that opens it
        Path(f"/proc/sys/net/ipv6/conf/{ifname}/disable_ipv6").write_text("0")


def set_hostname(pid: int, hostname: str) -> None:
    """Set the hostname (``uname -n``) that the processes of ``pid``'s UTS namespace see."""
    with inside(pid, "uts"):
        socket.sethostname(hostname)


def flush_conntrack(pid: int) -> None:
    """Empty the connection tracking table of ``pid``'s network namespace, both families, as
    a fresh namespace has it (``conntrack -F`` there); the host's table is left alone.

    E.g. ``flush_conntrack(container.init_pid)``.
    """
    nfct = conntrack_socket(pid, socket.AF_UNSPEC)
    try:
        nfct.flush()
    finally:
        nfct.close()


def conntrack_socket(pid: int | None, family: int = socket.AF_INET) -> NFCTSocket:
    """A pyroute2 handle on the connection tracking table of ``pid``'s network namespace (the
    host's own when None), for one address family (``socket.AF_UNSPEC``: both)."""
    if pid is None:
        return NFCTSocket(nfgen_family=family)
    with inside(pid):
        nfct = NFCTSocket(nfgen_family=family)
        nfct.fileno()  # pyroute2 0.9 opens the socket on first use: here, in the namespace
    return nfct


_RAW_ICMP = {
    4: (socket.AF_INET, socket.IPPROTO_ICMP),
    6: (socket.AF_INET6, socket.IPPROTO_ICMPV6),
}


def raw_icmp_socket(pid: int | None, family: int = 4) -> socket.socket:
    """A raw ICMP (``family=6``: ICMPv6) socket in the namespace of ``pid`` (the host's own
    when None)."""
    domain, proto = _RAW_ICMP[family]
    try:
        if pid is None:
            return socket.socket(domain, socket.SOCK_RAW, proto)
        with inside(pid):
            return socket.socket(domain, socket.SOCK_RAW, proto)
    except PermissionError as exc:
        raise PrivilegeError(f"cannot open a raw ICMP socket: {PRIVILEGE_HINT}") from exc


def socket_in(pid: int | None, kind: socket.SocketKind, family: int = 4) -> socket.socket:
    """An IPv4 (``family=6``: IPv6) TCP (SOCK_STREAM) or UDP (SOCK_DGRAM) socket in the
    namespace of ``pid`` (the host's own when None): a probe or a listener that needs nothing
    in the image."""
    domain = socket.AF_INET if family == 4 else socket.AF_INET6
    if pid is None:
        return socket.socket(domain, kind)
    with inside(pid):
        return socket.socket(domain, kind)


def udp_socket(pid: int) -> socket.socket:
    """A UDP socket in the namespace of ``pid``, e.g. to ask Docker's embedded DNS."""
    with inside(pid):
        return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


def iproute(pid: int | None) -> IPRoute:
    """A pyroute2 netlink handle on the namespace of ``pid`` (the host's own when None)."""
    if pid is None:
        return IPRoute()
    # pyroute2's own IPRoute(netns=...) forks a helper process per handle (about 19 ms);
    # a socket created while this thread is inside the namespace stays there (about 2 ms).
    with inside(pid):
        return IPRoute()


@dataclass
class DumpCounts:
    """How often this process's dumps were read again, and given up on (for the soak's
    figures)."""

    read_again: int = 0
    gave_up: int = 0


dump_counts = DumpCounts()


def interrupted(messages: Iterable[Any]) -> bool:
    """A message of the dump carries NLM_F_DUMP_INTR: the table changed while it was read.

    pyroute2 0.7 raises NetlinkDumpInterrupted for it (after the whole dump); 0.8 and later
    pass the messages on with the flag in their headers. The kernel also flags the closing
    NLMSG_DONE, which pyroute2 does not hand out; a change only that flag shows came after
    the last message was read, so what was read is one consistent view."""
    return any(
        isinstance(msg, dict) and msg.get("header", {}).get("flags", 0) & NLM_F_DUMP_INTR
        for msg in messages
    )


def dumped(read: Callable[[], Iterable[T]]) -> list[T]:
    """A netlink dump (``ipr.get_links``, ``nft.get_rules``...) read whole, and read again while
    the kernel flags it interrupted (links, addresses, routes or rules came or went meanwhile,
    as other tests set up and tear down), on every pyroute2 the plugin supports.

    Pass the unfiltered call: pyroute2 >= 0.8 drops the messages a filter (``ifname=``,
    ``table=``...) does not match, and the flag with them.

    Example::

        with iproute(None) as ipr:
            names = [link.get_attr("IFLA_IFNAME") for link in dumped(ipr.get_links)]
    """
    for _ in range(DUMP_ATTEMPTS - 1):
        try:
            found = list(read())
        except NetlinkDumpInterrupted:
            pass
        except NetlinkError as exc:
            if exc.code != errno.EINTR:  # what libmnl makes of the flag, should a layer do so
                raise
        else:
            if not interrupted(found):
                return found
        dump_counts.read_again += 1
        time.sleep(0.01)
    found = list(read())
    if interrupted(found):
        dump_counts.gave_up += 1
        raise NetlinkDumpInterrupted()
    return found
