"""Static routes inside a container, added from the host over netlink: no ``ip`` in the image,
no NET_ADMIN in the container."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from .. import addressing
from ..addressing import DEFAULT_ROUTE, DEFAULT_ROUTE6
from ..engine.netns import dumped, iproute
from ..model import Container, Network, Upstream
from ..model.arguments import ViaArg, gateway_of, parse_destination
from .existing import check_may_change


def plan_route(
    who: str, on: Sequence[Network], dst: object, via: ViaArg
) -> tuple[addressing.IPNetwork, addressing.IPAddress]:
    """Check a route before anything is created: its destination, and a gateway on ``on``.
    The route is IPv6's when ``dst`` or the ``via`` address is (``"::/0"`` is IPv6's default).
    """
    six = isinstance(via, (str, ipaddress.IPv6Address)) and ":" in str(via)
    network = parse_destination(dst, 6 if six else 4)
    gateway = gateway_of(via, on, who, network.version)
    if gateway.version != network.version:
        raise ValueError(
            f"route {dst} for {who} via {gateway}: the destination is IPv{network.version} and "
            f"the gateway IPv{gateway.version}: give both of one family"
        )
    subnets = [s for n in on for s in (n.subnet, n.subnet6) if s is not None]
    if not any(gateway in s for s in subnets):
        raise ValueError(
            f"route {dst} for {who} via {gateway}: the gateway is on none of its networks "
            f"({', '.join(f'{n.alias} {n.subnets}' for n in on)}): a gateway must be directly "
            "reachable"
        )
    return network, gateway


def add_route(
    container: Container | Upstream,
    dst: str,
    via: ViaArg | None = None,
    *,
    dev: str | None = None,
    allow_existing: bool = False,
) -> None:
    """Add a static route in ``container`` from the host (``ip route add`` without ``ip``).

    ``via`` is an address or a Container, whose address on a network shared with
    ``container`` is used. ``dst`` "default" replaces the default route. An Upstream
    takes routes too (say, to a routed-mode network), via the host's address on its link.
    A container the plugin did not create is changed only with ``allow_existing=True``
    (the route then stays after the test).

    Example::

        dockernet.add_route(client, "10.99.0.0/16", via=router)
        dockernet.add_route(client, "fd64:6e65:7400:9::/64", via=router)  # its IPv6 address
        dockernet.add_route(internet, "default", dev="eth0")
        dockernet.add_route(internet, str(lan.subnet6), via=internet.host_address6)
    """
    if isinstance(container, Container):
        check_may_change(container, "add_route", allow_existing)
    if isinstance(container, Upstream):
        where = container.container
        if via is not None:
            on_link = addressing.parse_any_address(via, "via")
            link, host = (
                (container.subnet, f"host_address {container.host_address}")
                if on_link.version == 4
                else (container.subnet6, f"host_address6 {container.host_address6}")
            )
            if link is None or on_link not in link:
                raise ValueError(
                    f"route {dst} for {container} via {on_link}: the gateway is not on its "
                    f"link {link}: use its {host}"
                )
            destination = parse_destination(dst, on_link.version)  # "default" per the gateway
            if destination.version != on_link.version:
                raise ValueError(
                    f"route {dst} for {container} via {on_link}: an IPv{destination.version} "
                    f"destination needs an IPv{destination.version} gateway: use its "
                    f"host_address{'' if destination.version == 4 else '6'}"
                )
            add_in_namespace(str(where), where.pid, destination, on_link, dev=dev)
            return
    elif isinstance(container, Container):
        container.check_own_namespace()  # before a plan that would look for its networks
        where = container
    else:
        raise TypeError(f"add_route() takes a Container or an Upstream, got {container!r}")
    if via is None and dev is None:
        raise ValueError("add_route() needs via= (a gateway) or dev= (a link route)")
    if via is not None:
        destination, gateway = plan_route(str(where), where.networks, dst, via)
        add_in_namespace(str(where), where.pid, destination, gateway, dev=dev)
    else:
        add_in_namespace(str(where), where.pid, parse_destination(dst), None, dev=dev)


def add_in_namespace(
    who: str,
    pid: int,
    dst: addressing.IPNetwork,
    gateway: addressing.IPAddress | None,
    dev: str | None = None,
) -> None:
    """``ip route add`` (``ip -6 route add`` for an IPv6 ``dst``) in the namespace of ``pid``
    (``who``'s); a default route replaces the default route."""
    with iproute(pid) as ipr:
        kwargs: dict[str, Any] = {"dst": str(dst), "family": 2 if dst.version == 4 else 10}
        if gateway is not None:
            kwargs["gateway"] = str(gateway)
        if dev is not None:
            found = ipr.link_lookup(ifname=dev)
            if not found:
                names = [link.get_attr("IFLA_IFNAME") for link in dumped(ipr.get_links)]
                raise ValueError(f"{who} has no interface {dev!r} (it has {names})")
            kwargs["oif"] = found[0]
        ipr.route("replace" if dst in (DEFAULT_ROUTE, DEFAULT_ROUTE6) else "add", **kwargs)
