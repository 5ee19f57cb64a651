"""Static routes inside a container, added from the host over netlink: no ``ip`` in the image,
no NET_ADMIN in the container."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from ..addressing import DEFAULT_ROUTE
from ..engine.netns import dumped, iproute
from ..model import Network, ViaArg, gateway_of, parse_destination


def plan_route(
    who: str, on: Sequence[Network], dst: object, via: ViaArg
) -> tuple[ipaddress.IPv4Network, ipaddress.IPv4Address]:
    """Check a route before anything is created: its destination, and a gateway on ``on``."""
    network = parse_destination(dst)
    gateway = gateway_of(via, on, who)
    if not any(gateway in n.subnet for n in on):
        raise ValueError(
            f"route {dst} for {who} via {gateway}: the gateway is on none of its networks "
            f"({', '.join(f'{n.alias} {n.subnet}' for n in on)}): a gateway must be directly "
            "reachable"
        )
    return network, gateway


def add_route(
    who: str,
    pid: int,
    dst: ipaddress.IPv4Network,
    gateway: ipaddress.IPv4Address | None,
    dev: str | None = None,
) -> None:
    """``ip route add`` in the namespace of ``pid`` (``who``'s); "default" replaces the default
    route."""
    with iproute(pid) as ipr:
        kwargs: dict[str, Any] = {"dst": str(dst)}
        if gateway is not None:
            kwargs["gateway"] = str(gateway)
        if dev is not None:
            found = ipr.link_lookup(ifname=dev)
            if not found:
                names = [link.get_attr("IFLA_IFNAME") for link in dumped(ipr.get_links)]
                raise ValueError(f"{who} has no interface {dev!r} (it has {names})")
            kwargs["oif"] = found[0]
        ipr.route("replace" if dst == DEFAULT_ROUTE else "add", **kwargs)
