"""Routes in a container's and in the host's main table (``route -ne``)."""

from __future__ import annotations

import ipaddress

from .. import addressing
from ..model import Container, Registry
from ..model.arguments import ViaArg, check_family, gateway_of, need, parse_destination
from ..observe.routes import Route, format_table, routes
from ..record import observations as recording

# -- routes ---------------------------------------------------------------------------------


def _match_route(
    dst: str | addressing.IPNetwork,
    via: ViaArg | None,
    dev: str | None,
    where: Container | None,
    label: str,
    kind: str,
    registry: Registry | None,
    family: int,
) -> None:
    """Read the table of ``dst``'s family in ``where`` (the host when None) and match."""
    __tracebackhide__ = True
    six = isinstance(via, (str, ipaddress.IPv6Address)) and ":" in str(via)
    network = parse_destination(dst, 6 if six else check_family(family))
    if dev is not None:
        need(dev, str, "dev")
    table = routes(None if where is None else where.pid, family=network.version)
    # A via container sharing no network with ``where`` holds no address a route could name.
    apart = isinstance(via, Container) and where is not None and not where.shared_networks(via)
    on = None if where is None else where.networks
    gateway = gateway_of(via, on, label, network.version) if via is not None and not apart else None
    wanted = str(Route(network, gateway, dev))
    if apart:
        wanted = f"{network} via {via}" + (f" dev {dev}" if dev is not None else "")
    found = not apart and any(
        route.dst == network
        and (gateway is None or route.gateway == gateway)
        and (dev is None or route.dev == dev)
        for route in table
    )
    # The host's table holds other tests' routes: only those to the same place are recorded.
    local = recording.interface_names(where) if where is not None else {}
    shown = [
        recording.rename_interfaces(str(r), local)
        for r in table
        if where is not None or r.dst == network
    ]
    recording.observe(kind, registry, f"{label} {wanted}", found, {"routes": shown})
    if found:
        return
    why = ""
    if apart and isinstance(via, Container) and where is not None:
        why = (
            f": {via} shares no network with it ({label} is on "
            f"{', '.join(n.shown for n in where.networks) or 'none'}; {via} on "
            f"{', '.join(n.shown for n in via.networks) or 'none'})"
        )
    which = "main table" if network.version == 4 else "main IPv6 table"
    raise AssertionError(
        f"no route '{wanted}' in {label}{why}; its routes ({which}):\n{format_table(table)}"
    )


def assert_route(
    container: Container,
    dst: str | addressing.IPNetwork,
    *,
    via: ViaArg | None = None,
    dev: str | None = None,
    family: int = 4,
) -> None:
    """``container`` has a route to ``dst`` ("default" or a CIDR), via ``via``, out of ``dev``.
    An IPv6 CIDR (or ``"default"`` with ``family=6``) is looked up in the IPv6 table.

    A ``via`` container sharing no network with ``container`` fails the assertion: no route
    can go through it.

    Example:
        ```python
        net = dockernet.network("lan")
        c = dockernet.container("c", [net])
        assert_route(c, "default", via=net.gateway)
        assert_route(c, net.subnet, dev="eth0")  # the link route to its own subnet
        assert_route(c, "default", via=net.gateway6, family=6)  # on a network with ipv6=True
        ```
    """
    __tracebackhide__ = True
    need(container, Container, "container")
    _match_route(
        dst, via, dev, container, str(container), "assert_route", container.registry, family
    )


def assert_host_route(
    dst: str | addressing.IPNetwork,
    *,
    dev: str | None = None,
    via: ViaArg | None = None,
    family: int = 4,
) -> None:
    """The host has a route to ``dst`` (e.g. a bridge's subnet ``dev=net.bridge``; an IPv6
    subnet, or ``"default"`` with ``family=6``, in the IPv6 table).

    Example:
        ```python
        net = dockernet.network("lan")
        assert_host_route(net.subnet, dev=net.bridge)  # route -ne on the host
        assert_host_route(net.subnet6, dev=net.bridge)  # ip -6 route, with ipv6=True
        ```
    """
    __tracebackhide__ = True
    registry = via.registry if isinstance(via, Container) else None
    _match_route(dst, via, dev, None, "the host", "assert_host_route", registry, family)
