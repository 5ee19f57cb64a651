"""A ping from a container, and what an upstream saw arrive of one.

Example::

    result, label = probe(h1, "h2", count=1, timeout=1.0)
    arrival(h1, upstream, timeout=1.0).sources   # the source address the upstream saw
"""

from __future__ import annotations

from dataclasses import dataclass

from ..addressing import IPAddress
from ..model import Container, Upstream
from ..model.arguments import Destination, check_count, check_family, check_timeout, need
from ..observe.capture import Point, echo_and_capture
from ..observe.ping import PingResult, ping
from .destinations import resolve, upstream_address, upstream_target
from .steady import steady

UPSTREAM_INTERFACE = "eth0"
"""The upstream's end of its veth pair, inside its namespace."""


def probe(
    src: Container, dst: Destination, count: int, timeout: float, family: int = 4
) -> tuple[PingResult | None, str]:
    """Ping ``dst`` from ``src``'s namespace (over IPv6 with ``family=6``, or when ``dst`` is an
    IPv6 address); None when the name did not resolve."""
    check_count(count)
    check_timeout(timeout)
    target = resolve(src, dst, family=family)
    address = target.address
    if address is None:
        return None, target.label
    result = steady(
        src,
        target,
        lambda: ping(src.pid, address, count=count, timeout=timeout, source=src.alias),
        lambda found: found.received > 0,
    )
    return result, target.label


@dataclass(frozen=True)
class Arrival:
    """What an upstream saw of one echo request a container sent it."""

    sources: tuple[IPAddress, ...]
    """The source address of each echo request that arrived on the upstream's link."""
    ended: str
    send_error: str | None


def arrival(src: Container, upstream: Upstream, *, timeout: float, family: int = 4) -> Arrival:
    """Ping ``upstream`` once from ``src`` and capture inside the upstream's namespace (over
    IPv6, to its IPv6 address, with ``family=6``).

    The capture ends as soon as the request arrives: the question is its source address,
    and the reply may never come (the upstream has no route back to a container's address).
    """
    need(src, Container, "src")
    need(upstream, Upstream, "upstream")
    if src.registry.upstreams.get(upstream.name) is not upstream:
        raise ValueError(f"{upstream} was not created by the DockerNet of {src}")
    check_timeout(timeout)
    address = upstream_address(upstream, check_family(family))
    target = upstream_target(upstream, family)
    captured = steady(
        src,
        target,
        lambda: echo_and_capture(
            src.pid,
            address,
            [Point(upstream.pid, UPSTREAM_INTERFACE)],
            timeout=timeout,
            until=lambda s: s.echo.is_request and not s.outgoing,
        ),
        lambda found: bool(found.seen),
    )
    sources = tuple(s.echo.src for s in captured.seen if s.echo.is_request and not s.outgoing)
    return Arrival(sources, captured.ended, captured.send_error)
