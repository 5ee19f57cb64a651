"""Bridge membership: which host veths are ports of a network's bridge (``brctl show``)."""

from __future__ import annotations

from collections.abc import Iterable

from ..model import Container, Network
from ..model.arguments import need
from ..observe.links import Link, by_index, by_name, links, ports_of
from ..probing.veths import host_port
from ..record import observations as recording

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
    mode = f" (network_mode {container.network_mode!r})" if container.network_mode else ""
    return "; ".join(places) or f"it is on no network{mode}"


def assert_bridge_members(
    net: Network, containers: Iterable[Container], *, exact: bool = False
) -> None:
    """The host veth of each container is a port of ``net``'s bridge (``brctl show``).

    With ``exact=True`` the bridge has no other ports. A container that is not on ``net`` at
    all fails the assertion, which then says where its veths are.

    Example:
        ```python
        net = dockernet.network("lan")
        a = dockernet.container("a", [net])
        b = dockernet.container("b", [net])
        assert_bridge_members(net, [a, b], exact=True)  # brctl show: a's and b's veths, no other
        ```
    """
    __tracebackhide__ = True
    need(net, Network, "net")
    expected = list(containers)
    for c in expected:
        need(c, Container, "each member")
        c.wait_started()
    # Every container of the DockerNet declared on net may become a port of its bridge: the
    # bridge is read once none is still starting, so a member still attaching is not missed
    # (nor an exact check passed without it).
    net.registry.await_starts()
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
        if net in c.networks:
            port = host_port(c, net, host_links)
            if port is not None:
                known[port.index] = c.alias
    observed = [f"{p.name} ({known.get(p.index, 'not a container of this test')})" for p in ports]
    port_indexes = {p.index for p in ports}
    missing = []
    for c in expected:
        if net not in c.networks:
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
    failed = bool(missing or (exact and extra))
    recording.observe(
        "assert_bridge_members",
        net.registry,
        net.alias,
        not failed,
        # who each port is, not its veth name: sorted before names are made stable
        {
            "expected": sorted(expected_names),
            "exact": exact,
            "ports": sorted(known.get(p.index, "not a container of this test") for p in ports),
        },
    )
    if failed:
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
