"""One connection as the kernel's connection tracking holds it: where the client sent it, and
where its replies come from, after any NAT.

A connection to a published port that Docker's DNAT rule sent on gets its replies from the
container's address; one that the host accepted itself (docker-proxy) from the address it was
sent to. The kernel writes that down with the connection's first packet, answered or not, so
the entry tells which path a connection really took, where the rules only say which path it
should take.

Example::

    entry = tracked("tcp", (client_ip, client_port), (host_ip, 8080))
    entry.translated  # True: DNAT sent it on to entry.reply_from
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from dataclasses import dataclass

from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.nfnetlink.nfctsocket import NFCTAttrTuple

from ..addressing import IPAddress
from ..engine.netns import conntrack_socket
from ..errors import PrivilegeError
from .ports import IPPROTO

Endpoint = tuple[IPAddress, int]
NEEDS_ROOT = "reading connection tracking needs CAP_NET_ADMIN: run pytest as root"
_FAMILIES = {4: (socket.AF_INET, "CTA_IP_V4_SRC"), 6: (socket.AF_INET6, "CTA_IP_V6_SRC")}


@dataclass(frozen=True)
class Tracked:
    """A tracked connection: ``client`` sent to ``sent_to``; replies come from ``reply_from``.

    Example::

        str(entry)  # "tcp 10.199.3.2:41234 -> 10.199.3.1:32768, DNAT to 172.18.0.2:8080"
    """

    proto: str
    client: Endpoint
    sent_to: Endpoint
    reply_from: Endpoint

    @property
    def translated(self) -> bool:
        """Destination NAT sent it elsewhere: replies come from another address or port."""
        return self.reply_from != self.sent_to

    def __str__(self) -> str:
        def text(end: Endpoint) -> str:
            ip, port = end
            return f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"

        nat = f"DNAT to {text(self.reply_from)}" if self.translated else "not translated"
        return f"{self.proto} {text(self.client)} -> {text(self.sent_to)}, {nat}"


def tracked(
    proto: str, client: Endpoint, sent_to: Endpoint, pid: int | None = None
) -> Tracked | None:
    """The entry of the connection from ``client`` to ``sent_to`` in the table of ``pid``'s
    network namespace (the host's own when None); None when the kernel tracks no such
    connection (never made, or expired).

    Example::

        tracked("tcp", (ipaddress.ip_address("10.199.3.2"), 41234),
                (ipaddress.ip_address("10.199.3.1"), 32768))
    """
    family, source_attr = _FAMILIES[client[0].version]
    query = NFCTAttrTuple(
        family=family,
        saddr=str(client[0]),
        daddr=str(sent_to[0]),
        proto=IPPROTO[proto],
        sport=client[1],
        dport=sent_to[1],
    )
    nfct = conntrack_socket(pid, family)
    try:
        found = nfct.entry("get", tuple_orig=query)
    except PermissionError as exc:
        raise PrivilegeError(NEEDS_ROOT) from exc
    except NetlinkError as exc:
        if exc.code == errno.ENOENT:
            return None
        if exc.code == errno.EPERM:
            raise PrivilegeError(NEEDS_ROOT) from exc
        raise
    finally:
        nfct.close()
    reply = found[0].get_attr("CTA_TUPLE_REPLY")
    address = reply.get_attr("CTA_TUPLE_IP").get_attr(source_attr)
    port = reply.get_attr("CTA_TUPLE_PROTO").get_attr("CTA_PROTO_SRC_PORT")
    return Tracked(proto, client, sent_to, (ipaddress.ip_address(address), port))
