"""An upstream host of our own: the seed's "outside world" (example.org), kept on this machine.

It is a container on Docker's network "none", so it is labelled, tracked and removed like any
other container. The host gives it one veth pair holding a /30 of the pool and a /64 of the
IPv6 pool: the host's end takes the first address of each, the upstream the second. The host
reaches it through the link routes the kernel adds; the upstream knows nothing but its own link
(no default route), so it answers only what arrives from the host's address, exactly as a far
host answers a masqueraded packet.
When its container goes, its namespace goes, and the veth pair with it.
"""

from __future__ import annotations

import errno
import secrets
from collections.abc import Iterable
from typing import Any, TypeAlias

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.rtnl.ifaddrmsg import IFA_F_NODAD

from .. import addressing
from ..engine import labels
from ..engine.netns import PRIVILEGE_HINT, enable_ipv6, iproute, netns_path
from ..errors import DockernetError, PrivilegeError
from ..model import Network, Upstream
from ..model.arguments import parse_destination
from ..observe import subnets
from ..probing.ping import UPSTREAM_INTERFACE
from ..retry import NotYet, wait_until
from .addresses import wait_for_dad
from .containers import ContainerSpec, launch
from .context import BuildContext
from .routes import add_in_namespace

RouteTo: TypeAlias = "str | addressing.IPNetwork | Network"
"""A route of ``upstream(routes=...)``: a subnet, or a Network for its subnets."""
PREFIX = 30
PREFIX6 = 64
HOST_INTERFACE_PREFIX = "dnu"
"""The host's end is ``dnu`` and 8 hex digits: 11 characters, within IFNAMSIZ."""
LINK_UP_TIMEOUT = 3.0
"""Seconds a new veth pair may take to come up before the upstream is refused."""


def create_upstream(
    ctx: BuildContext,
    name: str = "internet",
    *,
    image: str | None = None,
    routes: Iterable[RouteTo] = (),
) -> Upstream:
    """A host of our own standing for "the outside world": the only outside target needed.

    It is on no Docker network: one veth pair to the host holds a /30 of the pool.
    Its container starts with no network, then the veth pair wires it to the host.

    ``routes`` make it a neighbour on the host's LAN that routes to container subnets through
    the host (its ``host_address``, or ``host_address6`` for an IPv6 subnet), as moby's tests
    do with a second namespace: each is a subnet (a str or an ``ipaddress`` network), or a
    Network, which stands for its subnets (IPv4, and IPv6 where it has one). What Docker then
    lets in from outside is what the upstream's probes see.

    The container is in the ledger before the veth exists, and the veth's far end is created
    directly inside the container's namespace, so a failure at any step leaves nothing that
    ``close()`` does not remove.

    Example::

        internet = dockernet.upstream()
        assert_reachable(client, internet)
        lan_neighbour = dockernet.upstream("neighbour", routes=[lan])
        assert_unreachable(lan_neighbour, web.ip(lan))  # Docker >= 28: nat drops it
    """
    labels.check_name(name, "upstream")
    destinations = [each for dst in _listed(routes) for each in _subnets_of(dst)]
    taken = ctx.registry.name_taken(name)
    if taken is not None:
        article = "an" if taken == "upstream" else "a"
        raise ValueError(
            f"upstream {name!r}: {article} {taken} of this test has that name: pick another"
        )
    container = launch(ctx, ContainerSpec(name, ctx.image(image)))
    host_interface = HOST_INTERFACE_PREFIX + secrets.token_hex(4)
    with IPRoute() as ipr:
        try:
            ipr.link(  # the far end is made in the upstream's namespace: nothing to move
                "add",
                ifname=host_interface,
                kind="veth",
                peer={"ifname": UPSTREAM_INTERFACE, "net_ns_fd": netns_path(container.pid)},
            )
        except PermissionError as exc:
            raise PrivilegeError(f"upstream {name!r}: {PRIVILEGE_HINT}") from exc
        except NetlinkError as exc:
            if exc.code == errno.EPERM:
                raise PrivilegeError(f"upstream {name!r}: {PRIVILEGE_HINT}") from exc
            raise DockernetError(
                f"upstream {name!r}: cannot create the veth pair "
                f"{host_interface}/{UPSTREAM_INTERFACE}: {exc}"
            ) from exc
        index = ipr.link_lookup(ifname=host_interface)[0]
        ipr.link("set", index=index, state="up")
        subnet = _claim_subnet(ctx, ipr, index, host_interface, ctx.pool, PREFIX)
        subnet6 = _claim_subnet(ctx, ipr, index, host_interface, ctx.pool6, PREFIX6)
    host_address, address = subnet.hosts()
    host_address6 = subnet6.network_address + 1
    address6 = subnet6.network_address + 2
    enable_ipv6(container.pid, UPSTREAM_INTERFACE)
    with iproute(container.pid) as ipr:
        inner = ipr.link_lookup(ifname=UPSTREAM_INTERFACE)[0]
        ipr.addr("add", index=inner, address=str(address), prefixlen=subnet.prefixlen)
        ipr.addr("add", index=inner, address=str(address6), prefixlen=PREFIX6, flags=IFA_F_NODAD)
        ipr.link("set", index=inner, state="up")
    _wait_until_up(container.pid, host_interface)
    wait_for_dad(container.pid, f"upstream {name!r}")
    wait_for_dad(None, f"the host's end of upstream {name!r}", host_interface)
    upstream = Upstream(
        name,
        address,
        host_address,
        subnet,
        host_interface,
        container,
        address6=address6,
        host_address6=host_address6,
        subnet6=subnet6,
    )
    ctx.registry.upstreams[name] = upstream
    for destination in destinations:
        via = host_address if destination.version == 4 else host_address6
        add_in_namespace(str(upstream), container.pid, destination, via)
    return upstream


def _listed(routes: object) -> list[object]:
    if isinstance(routes, (str, Network)) or not isinstance(routes, Iterable):
        raise TypeError(
            f"routes must be a list of subnets or Networks, e.g. routes=[lan], got {routes!r}"
        )
    return list(routes)


def _subnets_of(dst: object) -> list[addressing.IPNetwork]:
    """The subnets a route of ``routes=`` stands for."""
    if isinstance(dst, Network):
        return [net for net in (dst.subnet, dst.subnet6) if net is not None]
    return [parse_destination(dst)]


def _operstate(pid: int | None, ifname: str) -> str:
    """One link's state, asked by name (a get, not a dump: nothing to interrupt)."""
    with iproute(pid) as ipr:
        try:
            found = ipr.link("get", ifname=ifname)
        except NetlinkError as exc:
            if exc.code == errno.ENODEV:
                return "gone"
            raise
        return str(found[0].get_attr("IFLA_OPERSTATE"))


def _wait_until_up(pid: int, host_interface: str) -> None:
    """Until both ends of the veth are operationally up: the kernel turns a link's queue on
    (linkwatch) up to a second after it is set up, and drops what is sent before."""

    def up() -> bool | NotYet:
        states = (_operstate(None, host_interface), _operstate(pid, UPSTREAM_INTERFACE))
        return states == ("UP", "UP") or NotYet(f"operstate {states[0]}/{states[1]}")

    wait_until(
        up,
        LINK_UP_TIMEOUT,
        f"the upstream's veth pair {host_interface}/{UPSTREAM_INTERFACE} to be up at both ends",
        interval=0.01,
    )


def _claim_subnet(
    ctx: BuildContext, ipr: Any, index: int, host_interface: str, pool: addressing.N, prefix: int
) -> addressing.N:
    """Give the host's end the first address of a free subnet of ``prefix`` from ``pool`` (the
    /30 of the IPv4 pool, the /64 of the IPv6 one), and return the subnet.

    Free as networks are free: no Docker network and no host route overlaps it. Another process
    may take an overlapping subnet between our look and our claim, so we look again once our
    own link route exists, and move on when someone else's overlaps. An IPv6 address is used at
    once (no duplicate address detection: the link is ours alone).
    """
    family = pool.version
    used = subnets.occupied(ctx.client, family)
    for subnet in addressing.candidates(pool, prefix):
        if subnets.clash(subnet, used) is not None:
            continue
        host = str(subnet.network_address + 1)
        flags: dict[str, int] = {"flags": IFA_F_NODAD} if family == 6 else {}
        ipr.addr("add", index=index, address=host, prefixlen=prefix, **flags)
        # Our own link route names our interface; everything else is someone else's.
        used = [o for o in subnets.occupied(ctx.client, family) if host_interface not in o.owner]
        if subnets.clash(subnet, used) is None:
            return subnet
        ipr.addr("del", index=index, address=host, prefixlen=prefix)
    option = "--dockernet-pool" if family == 4 else "--dockernet-pool6"
    raise DockernetError(
        f"no free /{prefix} left in the pool {pool} for an upstream: every one overlaps a "
        f"Docker network or a host route; widen {option}"
    )
