"""Routing tables as the kernel reports them over netlink (what ``route -ne`` shows)."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from pathlib import Path

from ..addressing import DEFAULT_ROUTE, DEFAULT_ROUTE6, IPAddress, IPNetwork
from ..engine.netns import dumped, iproute

MAIN_TABLE = 254
DEFAULT = DEFAULT_ROUTE
DEFAULTS = (DEFAULT_ROUTE, DEFAULT_ROUTE6)
"""The destination of a default route, per family."""
_FAMILIES = {4: socket.AF_INET, 6: socket.AF_INET6}


@dataclass(frozen=True)
class Route:
    dst: IPNetwork
    gateway: IPAddress | None
    dev: str | None

    @property
    def is_default(self) -> bool:
        return self.dst in DEFAULTS

    def __str__(self) -> str:
        text = "default" if self.is_default else str(self.dst)
        if self.gateway is not None:
            text += f" via {self.gateway}"
        if self.dev is not None:
            text += f" dev {self.dev}"
        return text


def routes(pid: int | None = None, table: int = MAIN_TABLE, family: int = 4) -> tuple[Route, ...]:
    """The unicast routes of one table in the namespace of ``pid`` (host when None), of IPv4
    or (``family=6``) IPv6.

    Example::

        routes(None, family=6)  # (Route(dst=IPv6Network('fd64:...::/64'), ..., dev='br-...'),)
    """
    any_address = "0.0.0.0" if family == 4 else "::"
    with iproute(pid) as ipr:
        names = {link["index"]: link.get_attr("IFLA_IFNAME") for link in dumped(ipr.get_links)}
        found = []
        # Every table, filtered here: a filter in the call would drop a flagged message.
        for msg in dumped(lambda: ipr.get_routes(family=_FAMILIES[family])):
            if (msg.get_attr("RTA_TABLE") or msg["table"]) != table:
                continue
            if msg["type"] != 1:  # RTN_UNICAST: skip local, broadcast, blackhole
                continue
            dst = msg.get_attr("RTA_DST") or any_address
            gateway = msg.get_attr("RTA_GATEWAY")
            oif = msg.get_attr("RTA_OIF")
            found.append(
                Route(
                    dst=ipaddress.ip_network(f"{dst}/{msg['dst_len']}"),
                    gateway=ipaddress.ip_address(gateway) if gateway else None,
                    dev=names.get(oif) if oif is not None else None,
                )
            )
        return tuple(found)


def format_table(table: tuple[Route, ...]) -> str:
    return "\n".join(f"    {route}" for route in table) or "    (no routes)"


_FORWARDING = {
    4: Path("/proc/sys/net/ipv4/ip_forward"),
    6: Path("/proc/sys/net/ipv6/conf/all/forwarding"),
}


def forwarding(family: int = 4) -> bool:
    """Whether the host forwards packets of ``family`` between its interfaces
    (``net.ipv4.ip_forward``, ``net.ipv6.conf.all.forwarding``): Docker turns IPv4's on; IPv6's
    only where it writes IPv6 rules (Docker >= 27 by default), so on an older engine a packet
    between two IPv6 networks, or out to the world, is not forwarded at all.

    E.g. ``forwarding(6)`` is False on a host where nothing turned IPv6 forwarding on.
    """
    return _FORWARDING[family].read_text().strip() == "1"
