"""Links as the kernel reports them over netlink: names, bridge masters, veth peers, addresses."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Any, TypeAlias

from ..addressing import IPAddress
from ..engine.netns import dumped, iproute

Interface: TypeAlias = "ipaddress.IPv4Interface | ipaddress.IPv6Interface"


@dataclass(frozen=True)
class Link:
    """One network interface in one namespace."""

    index: int
    name: str
    kind: str | None
    master: int | None
    """ifindex of the bridge this link is a port of (IFLA_MASTER), in the same namespace."""
    peer_index: int | None
    """IFLA_LINK: for a container's veth end, the ifindex of its peer in the host namespace."""
    up: bool
    addresses: tuple[Interface, ...]
    mtu: int = 0
    """IFLA_MTU: the largest packet the interface sends, in bytes."""

    def __str__(self) -> str:
        addrs = ",".join(str(a) for a in self.addresses) or "-"
        master = f" master={self.master}" if self.master else ""
        return f"{self.index}: {self.name} ({self.kind or 'device'}{master}) {addrs}"


def _link(msg: Any, addresses: tuple[Interface, ...]) -> Link:
    info = msg.get_attr("IFLA_LINKINFO")
    kind = info.get_attr("IFLA_INFO_KIND") if info is not None else None
    return Link(
        index=msg["index"],
        name=msg.get_attr("IFLA_IFNAME"),
        kind=kind,
        master=msg.get_attr("IFLA_MASTER"),
        peer_index=msg.get_attr("IFLA_LINK"),
        up=msg.get_attr("IFLA_OPERSTATE") in ("UP", "UNKNOWN"),
        addresses=addresses,
        mtu=msg.get_attr("IFLA_MTU") or 0,
    )


def links(pid: int | None = None) -> tuple[Link, ...]:
    """All links of the namespace of ``pid`` (the host's when None), with their IPv4 and IPv6
    addresses (the link-local ones included)."""
    with iproute(pid) as ipr:
        by_index: dict[int, list[Interface]] = {}
        for addr in dumped(lambda: ipr.get_addr(family=socket.AF_UNSPEC)):
            iface = ipaddress.ip_interface(f"{addr.get_attr('IFA_ADDRESS')}/{addr['prefixlen']}")
            by_index.setdefault(addr["index"], []).append(iface)
        return tuple(
            _link(msg, tuple(by_index.get(msg["index"], ()))) for msg in dumped(ipr.get_links)
        )


IFA_F_TENTATIVE = 0x40
"""An IPv6 address still in duplicate address detection: unusable, about 2 s after it appears."""


def tentative(pid: int | None, ifname: str | None = None) -> tuple[str, ...]:
    """The IPv6 addresses of the namespace of ``pid`` (of its interface ``ifname`` only, when
    given) that are still tentative, e.g. ``('fe80::42:aff:fe00:2 on eth0',)`` in the first
    two seconds of a container on a network with IPv6: until its link-local address is
    usable, neighbour discovery fails and nothing is routed to or from it."""
    with iproute(pid) as ipr:
        names = {link["index"]: link.get_attr("IFLA_IFNAME") for link in dumped(ipr.get_links)}
        found = []
        for addr in dumped(lambda: ipr.get_addr(family=socket.AF_INET6)):
            name = names.get(addr["index"], "?")
            flags = addr.get_attr("IFA_FLAGS") or addr["flags"]
            if flags & IFA_F_TENTATIVE and ifname in (None, name):
                found.append(f"{addr.get_attr('IFA_ADDRESS')} on {name}")
        return tuple(found)


def by_name(all_links: tuple[Link, ...], name: str) -> Link | None:
    return next((link for link in all_links if link.name == name), None)


def by_index(all_links: tuple[Link, ...], index: int) -> Link | None:
    return next((link for link in all_links if link.index == index), None)


def holding(all_links: tuple[Link, ...], ip: IPAddress) -> Link | None:
    """The link that holds address ``ip``."""
    return next((link for link in all_links if any(a.ip == ip for a in link.addresses)), None)


def ports_of(all_links: tuple[Link, ...], bridge: Link) -> tuple[Link, ...]:
    """The links enslaved to ``bridge`` (what ``brctl show`` lists)."""
    return tuple(link for link in all_links if link.master == bridge.index)
