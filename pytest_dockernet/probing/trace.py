"""The hop-by-hop walk of one ping: what tcpdump on every interface on the way would show.

One echo request is sent from a container while every interface of the DockerNet listens:
each container's veths, their host ends, every bridge, and each upstream's link. The hops are
then put in the order the routes make the packet take (read back from the kernel with route
lookups, hop by hop), keeping the points that really saw it; a point off that path that saw it
anyway (a flooding bridge, a stray route) is reported apart. Capture timestamps cannot order
the hops: a frame crossing a veth keeps the timestamp it was given when it was first sent.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, TypeAlias

from pyroute2.netlink.exceptions import NetlinkError

from ..addressing import IPAddress
from ..engine.netns import iproute
from ..model import Container, Registry, Upstream
from ..model.arguments import Destination, check_timeout, probe_source
from ..observe.capture import Capture, Point, Seen, echo_and_capture
from ..observe.links import Link, by_index, by_name, holding, links
from .destinations import resolve
from .steady import steady

Where: TypeAlias = "Container | Literal['host']"
Key: TypeAlias = "tuple[Container | Literal['host'], str]"
"""A capture point as a hop names it: where, and which interface there."""
MAX_NODES = 16
"""Namespaces a walk may cross before it is taken for a routing loop."""


@dataclass(frozen=True)
class Hop:
    """The echo seen on one interface: where, which way, and its IP header there.

    Attributes:
        where: the ``Container`` whose namespace the interface is in, or ``"host"``.
        interface: the interface's name there (``eth0``, a host veth, a bridge).
        src: the packet's source address as seen there (after any NAT on the way).
        dst: its destination address as seen there.
        ttl: its TTL there: one less after each router.

    Example:
        ```python
        trace = dockernet.trace(c1, c2)
        first = trace.request[0]
        first.where, first.interface, first.direction  # (<Container c1 …>, 'eth0', 'out')
        first.src, first.dst, first.ttl  # as seen on that interface
        ```
    """

    where: Where
    interface: str
    direction: Literal["in", "out"]
    """``out`` when the interface sent the frame (PACKET_OUTGOING), else ``in``."""
    src: IPAddress
    dst: IPAddress
    ttl: int

    def __str__(self) -> str:
        where = "host" if self.where == "host" else self.where.alias
        return (
            f"{where:<14} {self.interface:<16} {self.direction:<3} "
            f"{self.src} > {self.dst} ttl {self.ttl}"
        )


def _where(hop: Hop) -> str:
    return "the host" if hop.where == "host" else str(hop.where)


@dataclass(frozen=True)
class Trace:
    """One echo request and its reply, hop by hop, in the order the routes make them go.

    ``dockernet.trace(src, dst)`` returns it; ``assert_path`` asserts on one.

    Attributes:
        src: the container the echo request was sent from.
        ident: the ICMP identifier of the echo, which the capture filter passes.
        request: the request's hops, from ``src`` to the destination.
        reply: the reply's hops, back to ``src``.
        send_error: why the request could not be sent, when it could not.

    Example:
        ```python
        trace = dockernet.trace(h1, h2)
        assert trace.request_arrived and trace.reply_arrived
        assert r in [hop.where for hop in trace.request]  # through the router
        print(trace)  # the walk, one hop a line
        ```
    """

    src: Container
    target: str
    """The destination as the test named it, with its address."""
    address: IPAddress | None
    """Where the request was sent; None when ``dst`` was a name that does not resolve in
    ``src`` (then nothing was sent)."""
    ident: int
    request: tuple[Hop, ...]
    reply: tuple[Hop, ...]
    request_arrived: bool
    """The request was seen arriving on the destination's interface."""
    reply_arrived: bool
    """The reply was seen arriving back on the interface of ``src`` it left by."""
    elsewhere: tuple[tuple[Literal["request", "reply"], Hop], ...]
    """Frames seen at points off the routed path."""
    ended: str
    """Why the capture stopped."""
    send_error: str | None = None

    def last_seen(self) -> str:
        """Where the exchange was seen last, for failure messages."""
        if self.address is None:
            return "no request was sent, since the name does not resolve"
        for kind, hops in (("reply", self.reply), ("request", self.request)):
            if hops:
                last = hops[-1]
                return (
                    f"the {kind} was last seen on {last.interface} of {_where(last)} "
                    f"({last.direction}, ttl {last.ttl})"
                )
        return "the request was not seen at all" + (
            f" ({self.send_error})" if self.send_error else ""
        )

    def __str__(self) -> str:
        lines = [
            f"trace from {self.src} to {self.target}, icmp id {self.ident:#06x} "
            f"(capture ended: {self.ended})"
        ]
        for kind, hops, arrived in (
            ("request", self.request, self.request_arrived),
            ("reply", self.reply, self.reply_arrived),
        ):
            state = "arrived" if arrived else "did not arrive"
            lines.append(f"  {kind} ({len(hops)} hops, {state}):")
            lines += [f"    {i:>2}. {hop}" for i, hop in enumerate(hops, 1)] or ["    (none)"]
        if self.elsewhere:
            lines.append("  seen off the routed path:")
            lines += [f"    {kind:<7} {hop}" for kind, hop in self.elsewhere]
        if self.send_error:
            lines.append(f"  {self.send_error}")
        return "\n".join(lines)


class _Map:
    """The links of the host and of every namespace of one DockerNet, read once per trace."""

    def __init__(self, registry: Registry) -> None:
        registry.await_starts()  # the host's ends of their veths exist once they run
        self.host = links(None)
        self.bridges = {net.bridge for net in registry.networks.values()}
        members = [  # one in another's namespace (or the host's) has no veth of its own
            *(c for c in registry.containers.values() if not c.network_mode),
            *(u.container for u in registry.upstreams.values()),
        ]
        self.inside = {
            c: tuple(link for link in links(c.pid) if link.kind == "veth") for c in members
        }

    def points(self) -> dict[Point, Key]:
        """Every interface to listen on: veths at both ends, and the bridges."""
        found: dict[Point, Key] = {}
        for container, veths in self.inside.items():
            for link in veths:
                found[Point(container.pid, link.name)] = (container, link.name)
                host_end = self.host_end(link)
                if host_end is not None:
                    found[Point(None, host_end.name)] = ("host", host_end.name)
        for bridge in self.bridges:
            if by_name(self.host, bridge) is not None:
                found[Point(None, bridge, promiscuous=True)] = ("host", bridge)
        return found

    def host_end(self, link: Link) -> Link | None:
        return by_index(self.host, link.peer_index) if link.peer_index else None

    def inner_end(self, host_link: Link) -> tuple[Container, Link] | None:
        for container, veths in self.inside.items():
            for link in veths:
                if link.peer_index == host_link.index:
                    return container, link
        return None

    def holds(self, node: Container | None, ip: IPAddress) -> bool:
        table = self.host if node is None else self.inside.get(node, ())
        return holding(table, ip) is not None

    def port_holding(self, bridge: Link, ip: IPAddress) -> tuple[Link, Container, Link] | None:
        """The port of ``bridge`` a frame to ``ip`` leaves by, and the container end behind it."""
        for container, veths in self.inside.items():
            for link in veths:
                host_end = self.host_end(link)
                if host_end and host_end.master == bridge.index and holding((link,), ip):
                    return host_end, container, link
        return None

    def walk(
        self,
        start: Container,
        dst: IPAddress,
        nat: dict[IPAddress, IPAddress],
    ) -> tuple[list[Key], bool]:
        """The points a packet from ``start`` to ``dst`` crosses, and whether it gets there.

        Each namespace's own route lookup decides its next hop. ``nat`` maps an address the
        host holds to the one it translates it back to (the reply to a masqueraded request).
        """
        path: list[Key] = []
        node: Container | None = start
        for _ in range(MAX_NODES):
            if self.holds(node, dst):
                if node is not None or dst not in nat:
                    return path, True
                dst = nat[dst]
            route = _route(node, dst)
            if route is None:
                return path, False
            oif, gateway = route
            table = self.host if node is None else self.inside[node]
            out = by_index(table, oif)
            if out is None:
                return path, False
            path.append((node or "host", out.name))
            if node is not None:
                host_end = self.host_end(out)
                if host_end is None:
                    return path, False
                path.append(("host", host_end.name))
                if host_end.master is None:  # a point-to-point link: the host itself is next
                    node = None
                    continue
                bridge = by_index(self.host, host_end.master)
                if bridge is None:
                    return path, False
                path.append(("host", bridge.name))
            elif out.kind == "bridge":
                bridge = out
            else:  # the host's end of an upstream's link
                inner = self.inner_end(out)
                if inner is None:
                    return path, False
                node = inner[0]
                path.append((node, inner[1].name))
                continue
            next_hop = gateway or dst
            if holding((bridge,), next_hop):
                node = None
                continue
            port = self.port_holding(bridge, next_hop)
            if port is None:
                return path, False
            host_end, node, inner_link = port
            path += [("host", host_end.name), (node, inner_link.name)]
        return path, False


def _route(node: Container | None, dst: IPAddress) -> tuple[int, IPAddress | None] | None:
    """``ip route get dst`` (``ip -6`` for IPv6) in ``node``'s namespace: out interface index
    and gateway."""
    family = socket.AF_INET if dst.version == 4 else socket.AF_INET6
    with iproute(None if node is None else node.pid) as ipr:
        try:
            msg = ipr.route("get", dst=str(dst), family=family)[0]
        except NetlinkError:
            return None
    gateway = msg.get_attr("RTA_GATEWAY")
    return msg.get_attr("RTA_OIF"), ipaddress.ip_address(gateway) if gateway else None


def _hops(
    path: Iterable[Key], seen: list[Seen], keys: dict[Point, Key]
) -> tuple[tuple[Hop, ...], list[Seen]]:
    """The frames seen on ``path``, in its order; and the frames seen anywhere else."""
    waiting = sorted(seen, key=lambda s: s.order)
    hops = []
    for key in path:
        found = next((s for s in waiting if keys[s.point] == key), None)
        if found is not None:
            waiting.remove(found)
            hops.append(_hop(key, found))
    return tuple(hops), waiting


def _arrived(path: list[Key], routed: bool, hops: tuple[Hop, ...]) -> bool:
    """The routes lead to the destination, and its end of the path saw the frame."""
    return routed and bool(hops) and (hops[-1].where, hops[-1].interface) == path[-1]


def _hop(key: Key, seen: Seen) -> Hop:
    return Hop(
        where=key[0],
        interface=key[1],
        direction="out" if seen.outgoing else "in",
        src=seen.echo.src,
        dst=seen.echo.dst,
        ttl=seen.echo.ttl,
    )


def trace(
    registry: Registry,
    src: Container | Upstream,
    dst: Destination,
    *,
    timeout: float = 1.0,
    family: int = 4,
) -> Trace:
    """Ping ``dst`` once from ``src``, a container or upstream of ``registry`` (one
    DockerNet's), while listening on every interface of that DockerNet; over IPv6 with
    ``family=6`` (or an IPv6 address as ``dst``), where the hop limit stands for the TTL.

    Returns the request's and the reply's hops in the order the routes make them go.
    ``dst`` is a container or upstream of the same DockerNet, a name ``src`` resolves to one
    of them (the test's own names are taken from the test), or an address one of them holds:
    only their interfaces are listened on. A name that does not resolve in ``src`` gives a
    Trace with no address and no hops: nothing was sent.

    Example::

        print(dockernet.trace(client, server))  # the hops, or where the ping was last seen
        print(dockernet.trace(client, server, family=6))  # the same over IPv6
    """
    src = probe_source(src)
    ours = (*registry.containers.values(), *(u.container for u in registry.upstreams.values()))
    if src not in ours:
        raise ValueError(f"src {src} was not created by this DockerNet")
    check_timeout(timeout)
    if isinstance(dst, Container) and dst not in (
        *registry.containers.values(),
        *(u.container for u in registry.upstreams.values()),
    ):
        raise ValueError(f"dst {dst} was not created by this DockerNet")
    target = resolve(src, dst, dns=False, family=family)
    if target.address is None:  # a name that does not resolve in src: nothing was sent
        return Trace(src, target.label, None, 0, (), (), False, False, (), "nothing sent")
    if target.holder is None:
        raise ValueError(
            f"dst {target.label} is held by no container or upstream of this DockerNet, so no "
            "capture point could see the request arrive: trace to a container or upstream the "
            "test created"
        )
    if target.holder is src:
        raise ValueError(
            f"a ping from {src} to itself never leaves its namespace (it goes over lo): "
            "trace to another container or an upstream"
        )
    address = target.address
    topology = _Map(registry)
    keys = topology.points()

    def back_at_src(seen: Seen) -> bool:
        return keys[seen.point][0] is src and not seen.outgoing and not seen.echo.is_request

    captured: Capture = steady(
        src,
        target,
        lambda: echo_and_capture(
            src.pid,
            address,
            keys,
            timeout=timeout,
            until=back_at_src,
        ),
        # Rewritten rules only let more through: an exchange that did not complete fails
        # whatever changed meanwhile; only a reply back at src can come from such a gap.
        lambda found: any(back_at_src(s) for s in found.seen),
    )
    requests = [s for s in captured.seen if s.echo.is_request]
    replies = [s for s in captured.seen if not s.echo.is_request]
    path, routed = topology.walk(src, address, {})
    request, off_request = _hops(path, requests, keys)
    request_arrived = _arrived(path, routed, request)
    reply_path: list[Key] = []
    reply_routed = False
    if request_arrived:
        sent_from, seen_from = request[0].src, request[-1].src
        nat = {seen_from: sent_from} if seen_from != sent_from else {}
        reply_path, reply_routed = topology.walk(target.holder, seen_from, nat)
    reply, off_reply = _hops(reply_path, replies, keys)
    off: list[tuple[Literal["request", "reply"], Seen]] = [("request", s) for s in off_request]
    off += [("reply", s) for s in off_reply]
    off.sort(key=lambda pair: pair[1].order)
    return Trace(
        src=src,
        target=target.label,
        address=address,
        ident=captured.ident,
        request=request,
        reply=reply,
        request_arrived=request_arrived,
        reply_arrived=_arrived(reply_path, reply_routed, reply),
        elsewhere=tuple((kind, _hop(keys[s.point], s)) for kind, s in off),
        ended=captured.ended,
        send_error=captured.send_error,
    )
