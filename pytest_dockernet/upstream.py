"""An upstream host of our own: the seed's "outside world" (example.org), kept on this machine.

It is a container on Docker's network "none", so it is labelled, tracked and removed like any
other container. The host gives it one veth pair holding a /30 of the pool: the host's end takes
the first address, the upstream the second. The host reaches it through the link route the
kernel adds; the upstream knows nothing but its own link (no default route), so it answers only
what arrives from the host's address, exactly as a far host answers a masqueraded packet.
When its container goes, its namespace goes, and the veth pair with it.
"""

from __future__ import annotations

import errno
import ipaddress
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from . import addressing, images, labels
from .errors import DockernetError, PrivilegeError
from .netns import PRIVILEGE_HINT, iproute, netns_path
from .observe.capture import Point, echo_and_capture

if TYPE_CHECKING:
    from .topology import Container, DockerNet

PREFIX = 30
INTERFACE = "eth0"
"""The upstream's end of the veth pair, inside its namespace."""
HOST_INTERFACE_PREFIX = "dnu"
"""The host's end is ``dnu`` and 8 hex digits: 11 characters, within IFNAMSIZ."""


@dataclass(frozen=True)
class Upstream:
    """A host outside every Docker network, reached from the host's routing table only."""

    name: str
    address: ipaddress.IPv4Address
    """The upstream's own address, in its namespace."""
    host_address: ipaddress.IPv4Address
    """The host's address on the link facing the upstream: what SNAT must rewrite sources to."""
    subnet: ipaddress.IPv4Network
    host_interface: str
    container: Container

    @property
    def pid(self) -> int:
        return self.container.pid

    def __repr__(self) -> str:
        return (
            f"<Upstream {self.name} {self.address} host={self.host_interface} {self.host_address}>"
        )

    def __str__(self) -> str:
        return f"upstream {self.name!r} ({self.address}, via host {self.host_interface})"


def create_upstream(dn: DockerNet, name: str, image: str | None) -> Upstream:
    """Start the upstream's container with no network, then wire it to the host by a veth pair.

    The container is recorded by ``_launch`` before the veth exists, and the veth's far end is
    created directly inside the container's namespace, so a failure at any step leaves nothing
    that ``close()`` does not remove.
    """
    labels.check_name(name, "upstream")
    if name in dn.upstreams or name in dn.containers:
        kind = "an upstream" if name in dn.upstreams else "a container"
        raise ValueError(f"upstream {name!r}: {kind} of this test has that name: pick another")
    image = images.check_image(dn.client, image) if image is not None else dn.image
    container = dn._launch(name, image, None, None, (), None, [])
    host_interface = HOST_INTERFACE_PREFIX + secrets.token_hex(4)
    with IPRoute() as ipr:
        try:
            ipr.link(
                "add",
                ifname=host_interface,
                kind="veth",
                peer={"ifname": INTERFACE, "net_ns_fd": netns_path(container.pid)},
            )
        except PermissionError as exc:
            raise PrivilegeError(f"upstream {name!r}: {PRIVILEGE_HINT}") from exc
        except NetlinkError as exc:
            if exc.code == errno.EPERM:
                raise PrivilegeError(f"upstream {name!r}: {PRIVILEGE_HINT}") from exc
            raise DockernetError(
                f"upstream {name!r}: cannot create the veth pair {host_interface}/{INTERFACE}: "
                f"{exc}"
            ) from exc
        index = ipr.link_lookup(ifname=host_interface)[0]
        ipr.link("set", index=index, state="up")
        subnet = _claim_subnet(dn, ipr, index, host_interface)
    host_address, address = subnet.hosts()
    with iproute(container.pid) as ipr:
        inner = ipr.link_lookup(ifname=INTERFACE)[0]
        ipr.addr("add", index=inner, address=str(address), prefixlen=subnet.prefixlen)
        ipr.link("set", index=inner, state="up")
    return Upstream(name, address, host_address, subnet, host_interface, container)


def _claim_subnet(
    dn: DockerNet, ipr: Any, index: int, host_interface: str
) -> ipaddress.IPv4Network:
    """Give the host's end the first address of a free /30 of the pool, and return the /30.

    Free as networks are free: no Docker network and no host route overlaps it. Another process
    may take an overlapping subnet between our look and our claim, so we look again once our
    own link route exists, and move on when someone else's overlaps.
    """
    used = addressing.occupied(dn.client)
    for subnet in addressing.candidates(dn.pool, PREFIX):
        if addressing.clash(subnet, used) is not None:
            continue
        host = str(next(subnet.hosts()))
        ipr.addr("add", index=index, address=host, prefixlen=PREFIX)
        # Our own link route names our interface; everything else is someone else's.
        used = [o for o in addressing.occupied(dn.client) if host_interface not in o.owner]
        if addressing.clash(subnet, used) is None:
            return subnet
        ipr.addr("del", index=index, address=host, prefixlen=PREFIX)
    raise DockernetError(
        f"no free /{PREFIX} left in the pool {dn.pool} for an upstream: every one overlaps a "
        "Docker network or a host route; widen --dockernet-pool"
    )


@dataclass(frozen=True)
class Arrival:
    """What an upstream saw of one echo request a container sent it."""

    sources: tuple[ipaddress.IPv4Address, ...]
    """The source address of each echo request that arrived on the upstream's link."""
    ended: str
    send_error: str | None


def arrival(src: Container, upstream: Upstream, *, timeout: float) -> Arrival:
    """Ping ``upstream`` once from ``src`` and capture inside the upstream's namespace.

    The capture ends as soon as the request arrives: the question is its source address,
    and the reply may never come (the upstream has no route back to a container's address).
    """
    captured = echo_and_capture(
        src.pid,
        upstream.address,
        [Point(upstream.pid, INTERFACE)],
        timeout=timeout,
        until=lambda s: s.echo.is_request and not s.outgoing,
    )
    sources = tuple(s.echo.src for s in captured.seen if s.echo.is_request and not s.outgoing)
    return Arrival(sources, captured.ended, captured.send_error)
