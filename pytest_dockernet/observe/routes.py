"""Routing tables as the kernel reports them over netlink (what ``route -ne`` shows)."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

from ..addressing import DEFAULT_ROUTE
from ..engine.netns import dumped, iproute

MAIN_TABLE = 254
DEFAULT = DEFAULT_ROUTE


@dataclass(frozen=True)
class Route:
    dst: ipaddress.IPv4Network
    gateway: ipaddress.IPv4Address | None
    dev: str | None

    def __str__(self) -> str:
        text = "default" if self.dst == DEFAULT else str(self.dst)
        if self.gateway is not None:
            text += f" via {self.gateway}"
        if self.dev is not None:
            text += f" dev {self.dev}"
        return text


def routes(pid: int | None = None, table: int = MAIN_TABLE) -> tuple[Route, ...]:
    """The IPv4 unicast routes of one table in the namespace of ``pid`` (host when None)."""
    with iproute(pid) as ipr:
        names = {link["index"]: link.get_attr("IFLA_IFNAME") for link in dumped(ipr.get_links)}
        found = []
        # Every table, filtered here: a filter in the call would drop a flagged message.
        for msg in dumped(lambda: ipr.get_routes(family=socket.AF_INET)):
            if (msg.get_attr("RTA_TABLE") or msg["table"]) != table:
                continue
            if msg["type"] != 1:  # RTN_UNICAST: skip local, broadcast, blackhole
                continue
            dst = msg.get_attr("RTA_DST") or "0.0.0.0"
            gateway = msg.get_attr("RTA_GATEWAY")
            oif = msg.get_attr("RTA_OIF")
            found.append(
                Route(
                    dst=ipaddress.IPv4Network(f"{dst}/{msg['dst_len']}"),
                    gateway=ipaddress.IPv4Address(gateway) if gateway else None,
                    dev=names.get(oif) if oif is not None else None,
                )
            )
        return tuple(found)


def format_table(table: tuple[Route, ...]) -> str:
    return "\n".join(f"    {route}" for route in table) or "    (no routes)"
