"""Routes in a container's and in the host's main table (``route -ne``)."""

from __future__ import annotations

import ipaddress

from ..model import Container, Registry
from ..model.arguments import ViaArg, gateway_of, need, parse_destination
from ..observe.routes import Route, format_table, routes
from ..record import observations as recording

# -- routes ---------------------------------------------------------------------------------


def _match_route(
    table: tuple[Route, ...],
    dst: str | ipaddress.IPv4Network,
    via: ViaArg | None,
    dev: str | None,
    where: Container | None,
    label: str,
    kind: str,
    registry: Registry | None,
) -> None:
    __tracebackhide__ = True
    network = parse_destination(dst)
    if dev is not None:
        need(dev, str, "dev")
    # A via container sharing no network with ``where`` holds no address a route could name.
    apart = isinstance(via, Container) and where is not None and not where.shared_networks(via)
    on = None if where is None else where.networks
    gateway = gateway_of(via, on, label) if via is not None and not apart else None
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
    raise AssertionError(
        f"no route '{wanted}' in {label}{why}; its routes (main table):\n{format_table(table)}"
    )


def assert_route(
    container: Container,
    dst: str | ipaddress.IPv4Network,
    *,
    via: ViaArg | None = None,
    dev: str | None = None,
) -> None:
    """``container`` has a route to ``dst`` ("default" or a CIDR), via ``via``, out of ``dev``.

    A ``via`` container sharing no network with ``container`` fails the assertion: no route
    can go through it.

    Example:
        ```python
        net = dockernet.network("lan")
        c = dockernet.container("c", [net])
        assert_route(c, "default", via=net.gateway)
        assert_route(c, net.subnet, dev="eth0")  # the link route to its own subnet
        ```
    """
    __tracebackhide__ = True
    need(container, Container, "container")
    _match_route(
        routes(container.pid),
        dst,
        via,
        dev,
        container,
        str(container),
        "assert_route",
        container.registry,
    )


def assert_host_route(
    dst: str | ipaddress.IPv4Network, *, dev: str | None = None, via: ViaArg | None = None
) -> None:
    """The host has a route to ``dst`` (e.g. a bridge's subnet ``dev=net.bridge``).

    Example:
        ```python
        net = dockernet.network("lan")
        assert_host_route(net.subnet, dev=net.bridge)  # route -ne on the host
        ```
    """
    __tracebackhide__ = True
    registry = via.registry if isinstance(via, Container) else None
    _match_route(routes(None), dst, via, dev, None, "the host", "assert_host_route", registry)
