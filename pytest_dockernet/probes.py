"""Where a probe goes and what it saw: one resolver of destinations, the outside-traffic guard,
the ping and the upstream's view of an arrival, and the host end of a container's veth.

The assertions, the trace and the matrix all name their target through ``resolve``, so a
destination means the same thing everywhere.
"""

from __future__ import annotations

import functools
import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from . import addressing
from .errors import FirewallChurnError
from .firewall_lock import machine_lock
from .model import (
    Container,
    Destination,
    Network,
    Registry,
    Upstream,
    check_count,
    check_timeout,
    need,
)
from .observe import forwarding, names
from .observe.capture import Point, echo_and_capture
from .observe.firewall import churn
from .observe.links import Link, by_index, holding, links
from .observe.names import check_name
from .observe.ping import PingResult, ping

UPSTREAM_INTERFACE = "eth0"
"""The upstream's end of its veth pair, inside its namespace."""
CHURN_ATTEMPTS = 5
"""How often a probe is tried while rules it depends on keep being deleted under it."""
T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    """A probe's destination as resolved from its source."""

    address: ipaddress.IPv4Address | None
    """None when a name did not resolve in the source's namespace."""
    label: str
    """How failure messages name it: what the test passed, and the address it became."""
    holder: Container | None
    """The container of the source's DockerNet holding the address (an upstream's included)."""


def check_local_target(
    registry: Registry, ip: ipaddress.IPv4Address, subject: str | None = None
) -> None:
    """Refuse to probe an address that would take traffic off this machine.

    Allowed: loopback, any subnet of a Docker network on this engine, and the link of an
    upstream of ``registry``. Anything else only with ``allow_external``
    (``--dockernet-allow-external``). ``subject`` says where the address came from (a name
    that resolved to it), in the message.
    """
    if registry.allow_external or ip.is_loopback:
        return
    if any(ip in net.subnet for net in registry.networks.values()):
        return
    if any(ip in upstream.subnet for upstream in registry.upstreams.values()):
        return
    if any(ip in o.subnet for o in addressing.docker_subnets(registry.client)):
        return
    raise ValueError(
        f"{subject or ip} lies outside every Docker network on this engine, so probing it "
        "would send traffic off this machine; pytest-dockernet refuses that unless you pass "
        "--dockernet-allow-external (or probe an address of a network the test created)"
    )


def _container_target(src: Container, dst: Container) -> Target:
    dst.wait_started()
    dst.check_own_namespace()  # it holds no address of its own to probe
    common = src.shared_networks(dst)
    net = common[0] if common else dst.networks[0]
    address = dst.ip(net)
    return Target(address, f"{dst} at {address} on {net.shown}", dst)


def _address(dst: str | ipaddress.IPv4Address) -> ipaddress.IPv4Address | None:
    """``dst`` as an address; None when it is a name (a ValueError when it is a dotted quad
    that is no address, such as 10.0.0.300)."""
    try:
        return ipaddress.IPv4Address(dst)
    except ipaddress.AddressValueError:
        if str(dst).replace(".", "").isdigit():
            return addressing.parse_address(dst, "dst")  # raises, saying what is wrong
        return None


def by_name(src: Container, name: str) -> Target:
    """``name`` resolved as ``src`` resolves it: Docker's embedded DNS (through ``src``'s own
    resolv.conf), asked inside its namespace. A name that does not resolve is a Target without
    an address; one that resolves off this machine, or whose query could leave it, a
    ValueError before any packet is sent.

    In a compose stack: ``by_name(client, "web")`` is where ``client`` sends a request to
    ``web``, whatever Docker named its container.
    """
    registry = src.registry
    conf = forwarding.guard(  # before any query: a ValueError if one could leave this machine
        registry.client,
        src.id,
        src.pid,
        name,
        registry.holder_of,
        who=str(src),
        fix=forwarding.PASS_THE_CONTAINER,
    )
    try:
        found = names.resolve(src.pid, name, conf=conf)
    except LookupError as exc:
        return Target(None, f"{name!r} (did not resolve in {src}: {exc})", None)
    address = found[0]
    holder = registry.holder_of(address)
    if holder is None:
        check_local_target(registry, address, f"{name!r} resolved in {src} to {address}, which")
    held = f", {holder}" if holder is not None else ""
    label = f"{name!r} at {address}{held} (resolved by Docker's DNS in {src})"
    return Target(address, label, holder)


def resolve(src: Container, dst: Destination, *, dns: bool = True) -> Target:
    """Where a probe from ``src`` to ``dst`` goes.

    A Container: its address on a network shared with ``src``, else on its first network. An
    Upstream (or its name): its address. An address: itself, once the guard allows it. Any
    other name (a compose service, a network alias, a container's name): resolved by
    :func:`by_name`, as ``src`` would resolve it. ``dns=False`` takes the names of this test's
    containers from the test instead (and, from an upstream, which has no resolver, only them).

    >>> resolve(client, "web").address  # doctest: +SKIP
    IPv4Address('172.22.0.3')
    """
    need(src, Container, "src")
    registry = src.registry
    if isinstance(dst, str) and registry.name_taken(dst) == "upstream":
        dst = registry.upstreams[dst]
    if isinstance(dst, Container):
        dst = registry.upstream_of(dst) or dst
    if isinstance(dst, Upstream):
        if registry.upstreams.get(dst.name) is not dst:
            raise ValueError(f"dst {dst} was not created by the DockerNet of {src}")
        return Target(dst.address, str(dst), dst.container)
    if isinstance(dst, Container):
        return _container_target(src, dst)
    if not isinstance(dst, (str, ipaddress.IPv4Address)):
        raise TypeError(f"dst must be a Container, an Upstream, a name or an address, got {dst!r}")
    ip = _address(dst)
    if ip is not None:
        holder = registry.holder_of(ip)
        if holder is None:
            check_local_target(registry, ip)
        return Target(ip, f"{holder} at {ip}" if holder else str(ip), holder)
    name = check_name(dst, "dst")
    container = registry.containers.get(name)
    if container is not None and not dns:
        return _container_target(src, container)
    upstream = registry.upstream_of(src)
    if upstream is not None:
        known = ", ".join([*registry.containers, *registry.upstreams]) or "none"
        raise ValueError(
            f"dst {name!r} is a name, and {upstream} has no resolver to ask: from an upstream, "
            f"pass a Container, an address, or a name of this test's containers and upstreams "
            f"({known})"
        )
    return by_name(src, name)


def path_interfaces(src: Container, target: Target) -> set[str] | None:
    """The bridges (and upstream links) a probe from ``src`` to ``target`` may cross, when it
    crosses networks; None when both ends share a network, where the host firewall's
    inter-network rules decide nothing."""
    holder = target.holder
    if holder is not None and src.shared_networks(holder):
        return None
    address = target.address
    if holder is None and address is not None and any(address in n.subnet for n in src.networks):
        return None
    found = {n.bridge for n in src.networks}
    if holder is not None:
        found |= {n.bridge for n in holder.networks}
        upstream = src.registry.upstream_of(holder)
        if upstream is not None:
            found.add(upstream.host_interface)
    return found


def steady(
    src: Container,
    target: Target,
    observe: Callable[[], T],
    answered: Callable[[T], bool],
    *,
    read_rules: Callable[[], dict[tuple[str, str, int], churn.RuleRef]] = churn.rules,
    read_events: Callable[[float, float], list[churn.NetworkEvent] | None] | None = None,
) -> T:
    """``observe()`` once no firewall rule its packets depend on was rewritten while it ran.

    A network created or removed makes Docker rewrite its rules (20.10 deletes and re-inserts
    FORWARD's jump to its isolation chain on every create), and a packet that meets the gap
    passes where it should not. Only an answer can come from such a gap (Docker's rules drop;
    a missing rule lets through), so an observation that got none stands; one that got answers
    is repeated while rules that could decide its path changed under it, and is never reported
    as a verdict. The repeats hold the machine's firewall lock shared (``firewall_lock``):
    every process of the plugin waits with its network changes meanwhile, so what still
    changes comes from outside, and ``read_events(since, until)`` (Docker's network events;
    ``churn.network_events`` by default) names where.
    """
    interfaces = path_interfaces(src, target)
    if interfaces is None:
        return observe()
    endpoints = [*src.addresses.values(), *([target.address] if target.address else [])]
    changed: list[churn.Change] = []
    # The first attempt holds nothing: what observe() waits for (a container's start, which
    # may itself wait to write) is done before any attempt holds the lock.
    for attempt in range(CHURN_ATTEMPTS):
        with machine_lock().reading(f"probing {target.label} from {src}", when=attempt > 0):
            started = time.time()
            before = read_rules()
            result = observe()
            if not answered(result):
                return result
            changed = churn.changes_between(before, read_rules(), interfaces, endpoints)
        if not changed:
            return result
        src.registry.repeated_probes += 1
    events = (read_events or functools.partial(churn.network_events, src.registry.client))(
        started, time.time()
    )
    rules = "\n".join(f"    {change}" for change in changed)
    where = "\n".join(f"    {source}" for source in churn.sources(changed, events))
    raise FirewallChurnError(
        f"the engine's firewall changed while probing {target.label} from {src}, in each of "
        f"{CHURN_ATTEMPTS} attempts, and the last {CHURN_ATTEMPTS - 1} held the firewall lock "
        f"that every process of pytest-dockernet on this machine takes to change networks: "
        f"something outside them rewrote rules that decide this path while the probe ran, so "
        f"its answer cannot be trusted as a verdict. Seen in the last attempt:\n{rules}\n"
        f"Where it came from:\n{where}\n"
        "Stop that while isolation is checked, or make its networks through pytest-dockernet "
        "(which takes the lock)."
    )


def probe(
    src: Container, dst: Destination, count: int, timeout: float
) -> tuple[PingResult | None, str]:
    """Ping ``dst`` from ``src``'s namespace; None when the name did not resolve."""
    check_count(count)
    check_timeout(timeout)
    target = resolve(src, dst)
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


def host_port(
    container: Container, network: Network, host_links: tuple[Link, ...] | None = None
) -> Link | None:
    """The host end of ``container``'s veth on ``network``: its eth peer's index in the host."""
    inside = holding(links(container.pid), container.ip(network))
    if inside is None or inside.peer_index is None:
        return None
    return by_index(links(None) if host_links is None else host_links, inside.peer_index)


def host_veth(container: Container, network: Network) -> str:
    """The host's end of ``container``'s veth on ``network`` (what ``brctl show`` lists)."""
    port = host_port(container, network)
    if port is None:
        raise ValueError(f"{container} has no veth holding {container.ip(network)}")
    return port.name


@dataclass(frozen=True)
class Arrival:
    """What an upstream saw of one echo request a container sent it."""

    sources: tuple[ipaddress.IPv4Address, ...]
    """The source address of each echo request that arrived on the upstream's link."""
    ended: str
    send_error: str | None


def arrival(src: Container, upstream: Upstream, *, timeout: float) -> Arrival:
    """Ping ``upstream`` once from ``src`` and capture inside the upstream's namespace.

    The capture ends as soon as the request arrives: the question is its source address,
    and the reply may never come (the upstream has no route back to a container's address).
    """
    need(src, Container, "src")
    need(upstream, Upstream, "upstream")
    if src.registry.upstreams.get(upstream.name) is not upstream:
        raise ValueError(f"{upstream} was not created by the DockerNet of {src}")
    check_timeout(timeout)
    target = Target(upstream.address, str(upstream), upstream.container)
    captured = steady(
        src,
        target,
        lambda: echo_and_capture(
            src.pid,
            upstream.address,
            [Point(upstream.pid, UPSTREAM_INTERFACE)],
            timeout=timeout,
            until=lambda s: s.echo.is_request and not s.outgoing,
        ),
        lambda found: bool(found.seen),
    )
    sources = tuple(s.echo.src for s in captured.seen if s.echo.is_request and not s.outgoing)
    return Arrival(sources, captured.ended, captured.send_error)
