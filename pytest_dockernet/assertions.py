"""Assertions on what Docker and the kernel really did, each explaining itself when it fails.

Every helper reads the live state (netlink, the nat table, ICMP), compares it with what the test
expects, and raises ``AssertionError`` with the observed state next to the expectation. A call
that cannot mean anything (a wrong type, an unknown name) raises ``TypeError``/``ValueError``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Literal

from .diagnosis import dropped_by, why_unanswered
from .model import (
    Container,
    Destination,
    Network,
    Upstream,
    ViaArg,
    gateway_of,
    need,
    parse_destination,
)
from .observe import firewall
from .observe.links import Link, by_index, by_name, links, ports_of
from .observe.routes import Route, format_table, routes
from .probes import arrival, host_port, probe, resolve
from .trace import Hop, trace

__all__ = [
    "assert_bridge_members",
    "assert_host_route",
    "assert_masquerade",
    "assert_no_masquerade",
    "assert_no_snat",
    "assert_path",
    "assert_reachable",
    "assert_route",
    "assert_snat",
    "assert_unreachable",
]


# -- bridge membership ----------------------------------------------------------------------


def _veths_of(container: Container, host_links: tuple[Link, ...]) -> str:
    """Where each of ``container``'s host veths is: which bridge, of which network."""
    places = []
    for n in container.networks:
        port = host_port(container, n, host_links)
        if port is None:
            places.append(f"no host veth found for network {n.alias!r}")
            continue
        master = by_index(host_links, port.master) if port.master else None
        places.append(
            f"its host veth {port.name} is a port of {master.name if master else 'no bridge'} "
            f"(network {n.alias!r})"
        )
    return "; ".join(places) or "it is on no network"


def assert_bridge_members(
    net: Network, containers: Iterable[Container], *, exact: bool = False
) -> None:
    """The host veth of each container is a port of ``net``'s bridge (``brctl show``).

    With ``exact=True`` the bridge has no other ports. A container that is not on ``net`` at
    all fails the assertion, which then says where its veths are.
    """
    __tracebackhide__ = True
    need(net, Network, "net")
    expected = list(containers)
    for c in expected:
        need(c, Container, "each member")
        c.require_started()
    host_links = links(None)
    bridge = by_name(host_links, net.bridge)
    if bridge is None:
        bridges = [link.name for link in host_links if link.kind == "bridge"]
        raise AssertionError(
            f"{net}: the host has no interface {net.bridge!r}; host bridges: {bridges}"
        )
    ports = ports_of(host_links, bridge)
    known = {}  # host ifindex -> container alias, for every container of the factory on net
    for c in net.registry.containers.values():
        if net in c.addresses:
            port = host_port(c, net, host_links)
            if port is not None:
                known[port.index] = c.alias
    observed = [f"{p.name} ({known.get(p.index, 'not a container of this test')})" for p in ports]
    port_indexes = {p.index for p in ports}
    missing = []
    for c in expected:
        if net not in c.addresses:
            missing.append(f"{c.alias} (not on {net.alias!r}: {_veths_of(c, host_links)})")
            continue
        port = host_port(c, net, host_links)
        if port is None or port.index not in port_indexes:
            where = "no host veth found" if port is None else f"its host veth {port.name} "
            if port is not None:
                master = by_index(host_links, port.master) if port.master else None
                where += f"is on {master.name if master else 'no bridge'}"
            missing.append(f"{c.alias} ({where})")
    expected_names = {c.alias for c in expected}
    extra = [
        o for p, o in zip(ports, observed, strict=True) if known.get(p.index) not in expected_names
    ]
    if missing or (exact and extra):
        lines = [
            f"bridge {net.bridge} of {net}:",
            f"  expected {'exactly' if exact else 'at least'}: "
            + (", ".join(sorted(expected_names)) or "(no members)"),
            "  observed ports: " + (", ".join(observed) or "(none)"),
        ]
        if missing:
            lines.append("  missing: " + ", ".join(missing))
        if exact and extra:
            lines.append("  unexpected: " + ", ".join(extra))
        raise AssertionError("\n".join(lines))


# -- routes ---------------------------------------------------------------------------------


def _match_route(
    table: tuple[Route, ...],
    dst: str | ipaddress.IPv4Network,
    via: ViaArg | None,
    dev: str | None,
    where: Container | None,
    label: str,
) -> None:
    __tracebackhide__ = True
    network = parse_destination(dst)
    on = None if where is None else where.networks
    gateway = gateway_of(via, on, label) if via is not None else None
    if dev is not None:
        need(dev, str, "dev")
    wanted = Route(network, gateway, dev)
    for route in table:
        if route.dst != network:
            continue
        if gateway is not None and route.gateway != gateway:
            continue
        if dev is not None and route.dev != dev:
            continue
        return
    raise AssertionError(
        f"no route '{wanted}' in {label}; its routes (main table):\n{format_table(table)}"
    )


def assert_route(
    container: Container,
    dst: str | ipaddress.IPv4Network,
    *,
    via: ViaArg | None = None,
    dev: str | None = None,
) -> None:
    """``container`` has a route to ``dst`` ("default" or a CIDR), via ``via``, out of ``dev``."""
    __tracebackhide__ = True
    need(container, Container, "container")
    _match_route(routes(container.pid), dst, via, dev, container, str(container))


def assert_host_route(
    dst: str | ipaddress.IPv4Network, *, dev: str | None = None, via: ViaArg | None = None
) -> None:
    """The host has a route to ``dst`` (e.g. a bridge's subnet ``dev=net.bridge``)."""
    __tracebackhide__ = True
    _match_route(routes(None), dst, via, dev, None, "the host")


# -- reachability ---------------------------------------------------------------------------


def assert_reachable(
    src: Container,
    dst: Destination,
    *,
    count: int = 1,
    timeout: float = 1.0,
    reply_ttl: int | None = None,
) -> None:
    """Every one of ``count`` echo requests from ``src`` to ``dst`` is answered in time.

    ``reply_ttl`` also checks the TTL the replies arrive with: 64 from the same bridge, one
    less for each router on the way back (the seed's ttl=63 through its router).
    """
    __tracebackhide__ = True
    result, label = probe(src, dst, count, timeout)
    if result is None:
        raise AssertionError(f"{src} cannot reach {label}")
    if result.received < count:
        why = why_unanswered(src, dst, result.destination, count, timeout)
        raise AssertionError(f"{src} cannot reach {label}:\n{result}\n{why}")
    if reply_ttl is not None and any(r.ttl != reply_ttl for r in result.replies):
        raise AssertionError(
            f"{src} reaches {label}, but replies arrive with ttl "
            f"{sorted({r.ttl for r in result.replies})}, expected {reply_ttl}:\n{result}"
        )


def assert_unreachable(
    src: Container,
    dst: Destination,
    *,
    count: int = 1,
    timeout: float = 1.0,
) -> None:
    """No echo request from ``src`` to ``dst`` is answered within ``timeout`` seconds."""
    __tracebackhide__ = True
    result, label = probe(src, dst, count, timeout)
    if result is not None and result.received:
        raise AssertionError(f"{src} can reach {label}, expected it not to:\n{result}")


# -- NAT ------------------------------------------------------------------------------------


def _nat_report(net: Network, table: firewall.NatTable) -> str:
    mentioning = table.rules_mentioning(net.subnet, net.bridge)
    rules = "\n".join(f"    {r.text}" for r in mentioning) or "    (none)"
    note = f"\n  note: {table.note}" if table.note else ""
    return (
        f"  expected: MASQUERADE of {net.subnet} leaving by any interface but {net.bridge}\n"
        f"  firewall: {table.backend.value}, read with {table.source}{note}\n"
        f"  nat rules mentioning {net.subnet} or {net.bridge}:\n{rules}"
    )


def assert_masquerade(net: Network) -> None:
    """The nat table masquerades ``net``'s subnet when it leaves by another interface."""
    __tracebackhide__ = True
    need(net, Network, "net")
    table = firewall.read_nat_table(net.registry.engine_info)
    if not table.masquerade_rules(net.subnet, net.bridge):
        raise AssertionError(f"no masquerade rule for {net}\n{_nat_report(net, table)}")


def assert_no_masquerade(net: Network) -> None:
    """No nat rule masquerades ``net``'s subnet (e.g. ``masquerade=False``)."""
    __tracebackhide__ = True
    need(net, Network, "net")
    table = firewall.read_nat_table(net.registry.engine_info)
    found = table.masquerade_rules(net.subnet, net.bridge)
    if found:
        rules = "\n".join(f"    {r.text}" for r in found)
        raise AssertionError(f"{net} is masqueraded, expected it not to be:\n{rules}")


# -- packet paths ---------------------------------------------------------------------------


def _passed(hops: tuple[Hop, ...]) -> list[Container]:
    """The containers a packet crossed, in order, each once per visit."""
    crossed: list[Container] = []
    for hop in hops:
        if hop.where != "host" and (not crossed or crossed[-1] is not hop.where):
            crossed.append(hop.where)
    return crossed


def _in_order(wanted: list[Container], crossed: list[Container]) -> bool:
    rest = iter(crossed)
    return all(any(c is w for c in rest) for w in wanted)


def assert_path(
    src: Container,
    dst: Destination,
    *,
    via: Container | Iterable[Container] | None = None,
    timeout: float = 1.0,
) -> None:
    """One echo request from ``src`` reaches ``dst`` and its reply comes back to ``src``.

    With ``via``, the request passes those containers in that order, and the reply passes
    them in the reverse order (a symmetric route, as the seed's router gives).
    """
    __tracebackhide__ = True
    need(src, Container, "src")
    routers = [via] if isinstance(via, Container) else list(via or ())
    for router in routers:
        need(router, Container, "each via")
    walked = trace(src, dst, timeout=timeout)
    problems = []
    if not walked.request_arrived:
        problems.append(f"the request never reached {walked.target}: {walked.last_seen()}")
    elif not walked.reply_arrived:
        problems.append(f"the reply never came back to {src}: {walked.last_seen()}")
    for kind, hops, arrived, order in (
        ("request", walked.request, walked.request_arrived, routers),
        ("reply", walked.reply, walked.reply_arrived, routers[::-1]),
    ):
        crossed = _passed(hops)
        if routers and arrived and not _in_order(order, crossed):
            problems.append(
                f"the {kind} passed {', '.join(c.alias for c in crossed)}; expected it to pass "
                f"{', '.join(c.alias for c in order)} in that order"
            )
    address = resolve(src, dst).address
    if problems and not walked.reply_arrived and address is not None:
        problems.append(dropped_by(src, address, 1, timeout))
    if problems:
        raise AssertionError("\n".join(problems) + "\n" + str(walked))


# -- source NAT seen from an upstream -------------------------------------------------------


def _arrival_report(
    src: Container, upstream: Upstream, timeout: float
) -> tuple[Literal["host", "container", "other", "none"], str]:
    """Ping the upstream from ``src``: whose address the request arrived with, and a report."""
    seen = arrival(src, upstream, timeout=timeout)
    own = set(src.addresses.values())
    kind: Literal["host", "container", "other", "none"]
    if not seen.sources:
        kind, verdict = "none", "not seen at all"
        verdict += f" ({seen.send_error})" if seen.send_error else ""
    elif seen.sources[0] == upstream.host_address:
        kind, verdict = "host", f"seen with host address {upstream.host_address}"
    elif seen.sources[0] in own:
        kind, verdict = "container", f"seen with container address {seen.sources[0]}"
    else:
        kind = "other"
        verdict = f"seen with address {seen.sources[0]}, neither the host's nor the container's"
    return kind, (
        f"{src} -> {upstream}: the request was {verdict}\n"
        f"  container addresses: {', '.join(str(ip) for ip in sorted(own))}\n"
        f"  host address facing the upstream: {upstream.host_address} ({upstream.host_interface})\n"
        f"  capture on the upstream's eth0 ended: {seen.ended}"
    )


def assert_snat(src: Container, upstream: Upstream, *, timeout: float = 1.0) -> None:
    """``src``'s echo request reaches ``upstream`` from the host's address (MASQUERADE acted).

    The request is captured inside the upstream: its source must be the host's address on the
    link facing the upstream, not the container's own.
    """
    __tracebackhide__ = True
    kind, report = _arrival_report(src, upstream, timeout)
    if kind != "host":
        raise AssertionError(
            f"expected the request to arrive from the host's address {upstream.host_address} "
            f"(source NAT)\n{report}"
        )


def assert_no_snat(src: Container, upstream: Upstream, *, timeout: float = 1.0) -> None:
    """``src``'s echo request reaches ``upstream`` with the container's own address.

    For a network with ``masquerade=False``: nothing rewrites the source. No reply comes back
    (the upstream has no route to a container's address), so only the arrival is checked.
    """
    __tracebackhide__ = True
    kind, report = _arrival_report(src, upstream, timeout)
    if kind != "container":
        raise AssertionError(
            f"expected the request to arrive from the container's own address (no source NAT)"
            f"\n{report}"
        )
