"""What a running container holds that a process in it, or the host looking in, can tell it by:
its interfaces and their addresses, routes, neighbour entries, hostname (``uname -n``,
/etc/hostname, /etc/hosts), processes, tracked connections and changed files.

Two readings of one container compare: the warm pool reads a container when it starts and
again when a test gives it back, and hands it out again only if nothing differs.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..engine.netns import dumped, inside, iproute, netns_path
from .links import links
from .routes import routes

CONNTRACK_COUNT = "/proc/sys/net/netfilter/nf_conntrack_count"
NUD_NOARP = 0x40
"""A neighbour entry that needs no resolution: loopback's one entry (0.0.0.0, all zeros),
which the kernel makes for any traffic over lo, e.g. the first query to Docker's DNS."""


@dataclass(frozen=True)
class ContainerState:
    """One reading of a container (``container_state``); ``differences`` compares two.

    Example::

        before = container_state(pid, state["HostnamePath"], state["HostsPath"], ())
        ...
        container_state(pid, ...).differences(before)  # [] when nothing a test did is left
    """

    links: tuple[str, ...]
    """Each interface: name, kind, up or down, addresses."""
    routes: tuple[str, ...]
    """The main table's unicast routes, IPv4 then IPv6."""
    neighbours: tuple[str, ...]
    """The addresses resolved to link-layer ones (``ip neigh``), NOARP entries left out."""
    hostname: str
    """``uname -n`` in the container's UTS namespace."""
    etc_hostname: str
    etc_hosts: str
    processes: int
    """Processes in the container's PID namespace: its init alone, when nothing else runs."""
    connections: int
    """Entries in the connection tracking table of the container's network namespace."""
    files: tuple[str, ...]
    """What Docker reports changed in the container's filesystem (``docker diff``)."""

    def differences(self, before: ContainerState) -> list[str]:
        """Each field that differs from ``before``, as ``field: before -> now``.

        Example::

            now.differences(then)  # ['processes: 1 -> 2']
        """
        return [
            f"{f.name}: {getattr(before, f.name)!r} -> {getattr(self, f.name)!r}"
            for f in dataclasses.fields(self)
            if getattr(before, f.name) != getattr(self, f.name)
        ]


def container_state(
    pid: int, hostname_path: str, hosts_path: str, files: Iterable[str]
) -> ContainerState:
    """Read the container whose init has host PID ``pid``; ``hostname_path`` and ``hosts_path``
    are the host's copies Docker mounts as /etc/hostname and /etc/hosts (its inspect's
    ``HostnamePath``, ``HostsPath``), ``files`` the paths its ``docker diff`` lists.

    Example::

        state = client.api.inspect_container(cid)
        files = [c["Path"] for c in client.api.diff(cid) or []]
        container_state(state["State"]["Pid"], state["HostnamePath"], state["HostsPath"], files)
    """
    with iproute(pid) as ipr:
        neighbours = tuple(
            sorted(
                f"{msg.get_attr('NDA_DST')} lladdr {msg.get_attr('NDA_LLADDR')}"
                for msg in dumped(lambda: ipr.get_neighbours(family=socket.AF_UNSPEC))
                if not msg["state"] & NUD_NOARP
            )
        )
    return ContainerState(
        links=tuple(
            f"{link.name} {link.kind or 'device'} {'up' if link.up else 'down'} "
            + ",".join(sorted(str(a) for a in link.addresses))
            for link in links(pid)
        ),
        routes=tuple(str(r) for r in (*routes(pid), *routes(pid, family=6))),
        neighbours=neighbours,
        hostname=hostname_of(pid),
        etc_hostname=Path(hostname_path).read_text(),
        etc_hosts=Path(hosts_path).read_text(),
        processes=processes_of(pid),
        connections=tracked_connections(pid),
        files=tuple(sorted(files)),
    )


def hostname_of(pid: int) -> str:
    """``uname -n`` in the UTS namespace of host process ``pid``.

    Example::

        hostname_of(container.init_pid)  # 'web'
    """
    with inside(pid, "uts"):
        return socket.gethostname()


def processes_of(pid: int) -> int:
    """How many processes share the PID namespace of host process ``pid``.

    Example::

        processes_of(container.init_pid)  # 1: its init alone
    """
    namespace = os.readlink(netns_path(pid, "pid"))
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                count += os.readlink(f"/proc/{entry.name}/ns/pid") == namespace
            except OSError:  # gone meanwhile
                continue
    return count


def tracked_connections(pid: int) -> int:
    """Entries in the connection tracking table of ``pid``'s network namespace (0 where the
    kernel tracks nothing).

    Example::

        tracked_connections(container.init_pid)  # 0 in a fresh container
    """
    with inside(pid):  # /proc/sys/net shows the namespace of the thread that opens it
        try:
            return int(Path(CONNTRACK_COUNT).read_text())
        except FileNotFoundError:  # no nf_conntrack: nothing is tracked anywhere
            return 0
