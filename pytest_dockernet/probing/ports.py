"""Where a port probe starts and where it goes: a container, an upstream, or the host itself.

A port check is asked from wherever a client would stand: a container of the topology, an
upstream (standing for a remote client: it reaches the host's own address from outside), or
the host (``"host"``: published ports through loopback). Destinations mean what they mean for
ping (:func:`pytest_dockernet.probing.destinations.resolve`); from the host, only this
DockerNet's containers and upstreams, loopback and the host's own addresses, so nothing
leaves the machine.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal, TypeAlias

from ..addressing import IPAddress
from ..engine.netns import dumped, iproute
from ..model import Container, Registry, Upstream
from ..model.arguments import Destination, check_family, check_timeout
from ..observe.ports import NO_ANSWER, PAYLOAD, PortResult, check_port, check_proto, connect
from .destinations import Target, resolve, upstream_target
from .steady import steady

HOST = "host"
Source: TypeAlias = "Container | Upstream | Literal['host']"
"""Where a port probe may start: a container, an upstream, or the host's own namespace."""


@dataclass(frozen=True)
class Origin:
    """A probe's source: the namespace it runs in and how messages name it."""

    pid: int | None
    """None for the host's own namespace."""
    label: str
    registry: Registry | None
    """The DockerNet's names, where the source belongs to one (not the host)."""
    container: Container | None
    """The container whose namespace it is (an upstream's own), for the churn guard."""


def origin_of(src: object) -> Origin:
    if src == HOST:
        return Origin(None, "the host", None, None)
    if isinstance(src, Upstream):
        return Origin(src.pid, str(src), src.container.registry, src.container)
    if isinstance(src, Container):
        return Origin(src.pid, str(src), src.registry, src)
    raise TypeError(f"src must be a Container, an Upstream or 'host', got {src!r}")


def host_addresses(family: int = 4) -> set[IPAddress]:
    """Every address of one family of the host's own interfaces."""
    with iproute(None) as ipr:
        return {
            ipaddress.ip_address(a.get_attr("IFA_ADDRESS"))
            for a in dumped(lambda: ipr.get_addr(family=2 if family == 4 else 10))
            if a.get_attr("IFA_ADDRESS")
        }


def _from_host(dst: Destination, family: int) -> Target:
    if isinstance(dst, Upstream):
        return upstream_target(dst, family)
    if isinstance(dst, Container):
        dst.wait_started()
        held = dst.addresses if family == 4 else dst.addresses6
        net = next((n for n in dst.networks if n in held), dst.networks[0])
        address = dst.ip(net) if family == 4 else dst.ip6(net)
        return Target(address, f"{dst} at {address} on {net.shown}", dst)
    try:
        ip = ipaddress.ip_address(dst)
    except (ipaddress.AddressValueError, ValueError):
        raise ValueError(
            f"from the host, dst must be a Container, an Upstream, loopback or one of the "
            f"host's own addresses; {dst!r} is none: pass the Container instead of its name"
        ) from None
    if not ip.is_loopback and ip not in host_addresses(ip.version):
        raise ValueError(
            f"from the host, dst {ip} is neither loopback nor one of the host's own addresses: "
            "probing it could leave this machine; pass the Container or Upstream that holds it"
        )
    return Target(ip, f"the host's {ip}", None)


def target_of(origin: Origin, dst: Destination, family: int = 4) -> Target:
    """Where a port probe from ``origin`` goes (over IPv6 with ``family=6``)."""
    if origin.container is None or origin.registry is None:
        return _from_host(dst, check_family(family))
    # An upstream has no Docker DNS: there, a name means this DockerNet's container.
    upstream = origin.registry.upstream_of(origin.container)
    return resolve(origin.container, dst, dns=upstream is None, family=family)


def probe_port(
    src: Source,
    dst: Destination,
    port: int,
    *,
    proto: str = "tcp",
    timeout: float = 1.0,
    payload: bytes = PAYLOAD,
    family: int = 4,
) -> tuple[PortResult | None, Target, Origin]:
    """One connection (TCP) or datagram (UDP) from ``src`` to ``dst:port``; the result is None
    when ``dst`` is a name that did not resolve in ``src``."""
    check_port(port)
    check_proto(proto)
    check_timeout(timeout)
    origin = origin_of(src)
    target = target_of(origin, dst, family)
    address = target.address
    if address is None:
        return None, target, origin

    def once() -> PortResult:
        return connect(
            origin.pid,
            address,
            port,
            proto=proto,
            timeout=timeout,
            payload=payload,
            source=origin.label,
        )

    if origin.container is None or target.holder is None:
        return once(), target, origin  # to the host itself: no forwarding rule decides it
    result = steady(origin.container, target, once, lambda r: r.outcome != NO_ANSWER)
    return result, target, origin
