"""What the host still holds of a bridge network's past containers: neighbour entries on its
bridge, forwarding entries the bridge learned, and tracked connections of its addresses.

A network whose containers have all left holds none of these on Docker 28 (measured on 28.5
with bridge-nf-call-iptables 1, after pings between two containers and to the gateway and a
TCP connection: Docker deleted the host's tracked connections of each address as it left, the
bridge's neighbour entries went with its ports, and its forwarding table kept only its own
permanent entries). A network that holds any of them could be told from a fresh one, so it is
not used again (``kept_networks``).

Example::

    leftovers("br-0a1b2c3d4e5f", ipaddress.ip_network("10.199.3.0/24"), gateway)  # []
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

from pyroute2.netlink.rtnl import ndmsg

from ..addressing import IPAddress, IPNetwork
from ..engine.netns import conntrack_socket, dumped, iproute

_ADDRESSES = ("CTA_IP_V4_SRC", "CTA_IP_V4_DST", "CTA_IP_V6_SRC", "CTA_IP_V6_DST")


def leftovers(bridge: str, subnet: IPNetwork, gateway: IPAddress | None) -> list[str]:
    """What the host holds of the network's past containers, one line each (empty: nothing,
    as for a fresh network): neighbour entries on ``bridge`` (any address but multicast ones,
    which are computed, not learned, and go when the last port leaves), forwarding entries
    the bridge learned (not its own permanent ones), and tracked connections with an address
    in ``subnet`` other than the ``gateway`` (the bridge's own multicast reports).

    Example::

        leftovers(net.bridge, net.subnet, net.gateway)
        # ['neighbour 10.199.3.2 on br-0a1b2c3d4e5f',
        #  'tracked proto 1 10.199.3.2 -> 10.199.3.3, replies 10.199.3.3 -> 10.199.3.2']
    """
    found: list[str] = []
    with iproute(None) as ipr:
        index = ipr.link_lookup(ifname=bridge)
        if not index:
            return [f"no bridge {bridge} on the host"]
        found += [
            f"neighbour {msg.get_attr('NDA_DST')} on {bridge}"
            for msg in dumped(lambda: ipr.get_neighbours(family=socket.AF_UNSPEC))
            if msg["ifindex"] == index[0] and not msg["state"] & ndmsg.NUD_NOARP
        ]
        found += [
            f"learned forwarding entry {msg.get_attr('NDA_LLADDR')} on {bridge}"
            for msg in dumped(lambda: ipr.fdb("dump"))
            if msg.get_attr("NDA_MASTER") == index[0] and not msg["state"] & ndmsg.NUD_PERMANENT
        ]
    family = socket.AF_INET if subnet.version == 4 else socket.AF_INET6
    nfct = conntrack_socket(None, family)
    try:
        found += [f"tracked {line}" for line in _tracked(dumped(nfct.dump), subnet, gateway)]
    finally:
        nfct.close()
    return found


def _tracked(entries: list[Any], subnet: IPNetwork, gateway: IPAddress | None) -> Iterator[str]:
    """Each entry with an address in ``subnet`` (original or reply direction) but the gateway."""
    for entry in entries:
        ends = []
        for direction in ("CTA_TUPLE_ORIG", "CTA_TUPLE_REPLY"):
            ips = entry.get_attr(direction).get_attr("CTA_TUPLE_IP")
            ends += [ipaddress.ip_address(a) for a in (ips.get_attr(k) for k in _ADDRESSES) if a]
        if any(ip in subnet and ip != gateway for ip in ends):
            orig = entry.get_attr("CTA_TUPLE_ORIG")
            number = orig.get_attr("CTA_TUPLE_PROTO").get_attr("CTA_PROTO_NUM")
            yield f"proto {number} {ends[0]} -> {ends[1]}, replies {ends[2]} -> {ends[3]}"
