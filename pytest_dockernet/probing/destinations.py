"""Where a probe goes: one resolver of destinations and the outside-traffic guard.

The assertions, the trace and the matrix all name their target through ``resolve``, so a
destination means the same thing everywhere. Example::

    target = resolve(client, "web")   # as the client's namespace resolves it
    target.address, target.holder     # 10.x.y.z, the container holding it
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from .. import addressing
from ..model import Container, Registry, Upstream
from ..model.arguments import Destination, check_family, need
from ..observe import forwarding, names, subnets
from ..observe.names import check_name


@dataclass(frozen=True)
class Target:
    """A probe's destination as resolved from its source."""

    address: addressing.IPAddress | None
    """None when a name did not resolve in the source's namespace."""
    label: str
    """How failure messages name it: what the test passed, and the address it became."""
    holder: Container | None
    """The container of the source's DockerNet holding the address (an upstream's included)."""


def check_local_target(
    registry: Registry, ip: addressing.IPAddress, subject: str | None = None
) -> None:
    """Refuse to probe an address that would take traffic off this machine.

    Allowed: loopback, any subnet of a Docker network on this engine, and the link of an
    upstream of ``registry``. Anything else only with ``allow_external``
    (``--dockernet-allow-external``). ``subject`` says where the address came from (a name
    that resolved to it), in the message.

    Example::

        dockernet.check_local_target(ipaddress.IPv4Address("8.8.8.8"))  # raises ValueError
    """
    if registry.allow_external or ip.is_loopback:
        return
    if any(ip in s for net in registry.networks.values() for s in (net.subnet, net.subnet6) if s):
        return
    if any(
        ip in s for u in registry.upstreams.values() for s in (u.subnet, u.subnet6) if s is not None
    ):
        return
    if any(ip in o.subnet for o in subnets.docker_subnets(registry.client, ip.version)):
        return
    raise ValueError(
        f"{subject or ip} lies outside every Docker network on this engine, so probing it "
        "would send traffic off this machine; pytest-dockernet refuses that unless you pass "
        "--dockernet-allow-external (or probe an address of a network the test created)"
    )


def upstream_address(upstream: Upstream, family: int) -> addressing.IPAddress:
    """``upstream``'s address of ``family``."""
    address = upstream.address if family == 4 else upstream.address6
    if address is None:
        raise ValueError(f"dst {upstream} has no IPv6 address")
    return address


def upstream_target(upstream: Upstream, family: int) -> Target:
    """Where a probe to ``upstream`` goes: its address of ``family``."""
    address = upstream_address(upstream, family)
    return Target(
        address, f"{upstream} at {address}" if family == 6 else str(upstream), upstream.container
    )


def _container_target(src: Container, dst: Container, family: int = 4) -> Target:
    """Its address on a network shared with ``src``, else on its first network; over IPv6,
    among the networks where it has an IPv6 address."""
    dst.wait_started()
    dst.check_own_namespace()  # it holds no address of its own to probe
    held = dst.addresses if family == 4 else dst.addresses6
    on = [n for n in dst.networks if n in held]
    if not on:
        joined = ", ".join(n.shown for n in dst.networks)
        raise ValueError(
            f"dst {dst} has no IPv6 address: it is on {joined}, none with IPv6; create one "
            "with ipv6=True (or pass family=4)"
            if family == 6
            else f"dst {dst} has no IPv4 address: it is on {joined}, all IPv6-only; pass family=6"
        )
    common = [n for n in src.shared_networks(dst) if n in held]
    net = common[0] if common else on[0]
    address = held[net]
    return Target(address, f"{dst} at {address} on {net.shown}", dst)


def _address(dst: str | addressing.IPAddress) -> addressing.IPAddress | None:
    """``dst`` as an address; None when it is a name (a ValueError when it is a dotted quad
    that is no address, such as 10.0.0.300, or a str with a colon that is no IPv6 address)."""
    if isinstance(dst, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return dst
    if ":" in dst:
        return addressing.parse_address6(dst, "dst")  # raises, saying what is wrong
    try:
        return ipaddress.IPv4Address(dst)
    except ipaddress.AddressValueError:
        if dst.replace(".", "").isdigit():
            return addressing.parse_address(dst, "dst")  # raises, saying what is wrong
        return None


def by_name(src: Container, name: str, family: int = 4) -> Target:
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
        found = names.resolve(src.pid, name, conf=conf, family=family)
    except LookupError as exc:
        return Target(None, f"{name!r} (did not resolve in {src}: {exc})", None)
    address = found[0]
    holder = registry.holder_of(address)
    if holder is None:
        check_local_target(registry, address, f"{name!r} resolved in {src} to {address}, which")
    held = f", {holder}" if holder is not None else ""
    label = f"{name!r} at {address}{held} (resolved by Docker's DNS in {src})"
    return Target(address, label, holder)


def resolve(src: Container, dst: Destination, *, dns: bool = True, family: int = 4) -> Target:
    """Where a probe from ``src`` to ``dst`` goes, over IPv4 or (``family=6``) IPv6; an
    address is probed over its own family, and ``family=6`` with an IPv4 one is a ValueError.

    A Container: its address on a network shared with ``src``, else on its first network. An
    Upstream (or its name): its address. An address: itself, once the guard allows it. Any
    other name (a compose service, a network alias, a container's name): resolved by
    :func:`by_name`, as ``src`` would resolve it. ``dns=False`` takes the names of this test's
    containers from the test instead (and, from an upstream, which has no resolver, only them).

    >>> resolve(client, "web").address  # doctest: +SKIP
    IPv4Address('172.22.0.3')
    """
    need(src, Container, "src")
    check_family(family)
    registry = src.registry
    if isinstance(dst, str) and registry.name_taken(dst) == "upstream":
        dst = registry.upstreams[dst]
    if isinstance(dst, Container):
        dst = registry.upstream_of(dst) or dst
    if isinstance(dst, Upstream):
        if registry.upstreams.get(dst.name) is not dst:
            raise ValueError(f"dst {dst} was not created by the DockerNet of {src}")
        return upstream_target(dst, family)
    if isinstance(dst, Container):
        return _container_target(src, dst, family)
    if not isinstance(dst, (str, ipaddress.IPv4Address, ipaddress.IPv6Address)):
        raise TypeError(f"dst must be a Container, an Upstream, a name or an address, got {dst!r}")
    ip = _address(dst)
    if ip is not None and ip.version == 4 and family == 6:
        raise ValueError(f"dst {ip} is an IPv4 address, and family=6 was asked: drop family=6")
    if ip is not None:
        holder = registry.holder_of(ip)
        if holder is None:
            check_local_target(registry, ip)
        return Target(ip, f"{holder} at {ip}" if holder else str(ip), holder)
    name = check_name(dst, "dst")
    container = registry.containers.get(name)
    if container is not None and not dns:
        return _container_target(src, container, family)
    upstream = registry.upstream_of(src)
    if upstream is not None:
        known = ", ".join([*registry.containers, *registry.upstreams]) or "none"
        raise ValueError(
            f"dst {name!r} is a name, and {upstream} has no resolver to ask: from an upstream, "
            f"pass a Container, an address, or a name of this test's containers and upstreams "
            f"({known})"
        )
    return by_name(src, name, family)


def path_interfaces(src: Container, target: Target) -> set[str] | None:
    """The bridges (and upstream links) a probe from ``src`` to ``target`` may cross, when it
    crosses networks; None when both ends share a network, where the host firewall's
    inter-network rules decide nothing."""
    holder = target.holder
    if holder is not None and src.shared_networks(holder):
        return None
    address = target.address
    if (
        holder is None
        and address is not None
        and any(address in s for n in src.networks for s in (n.subnet, n.subnet6) if s)
    ):
        return None
    found = {n.bridge for n in src.networks}
    if holder is not None:
        found |= {n.bridge for n in holder.networks}
        upstream = src.registry.upstream_of(holder)
        if upstream is not None:
            found.add(upstream.host_interface)
    return found
