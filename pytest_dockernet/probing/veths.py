"""The host end of a container's veth on a network (what ``brctl show`` lists).

Example::

    host_veth(h1, net_a)   # 'veth3f2a1b0'
"""

from __future__ import annotations

from ..addressing import IPAddress
from ..model import Container, Network
from ..observe.links import Link, by_index, holding, links


def _address_on(container: Container, network: Network) -> IPAddress:
    """What identifies ``container``'s interface on ``network``: its IPv4 address there, or
    its IPv6 one on an IPv6-only network."""
    return container.addresses.get(network) or container.ip6(network)


def container_link(container: Container, network: Network) -> Link | None:
    """``container``'s own interface on ``network``, in its namespace: the one holding its
    address there; None when no interface holds it.

    Example:
        ```python
        container_link(h1, lan).name  # 'eth0'
        ```
    """
    return holding(links(container.pid), _address_on(container, network))


def host_port(
    container: Container, network: Network, host_links: tuple[Link, ...] | None = None
) -> Link | None:
    """The host end of ``container``'s veth on ``network``: its eth peer's index in the host."""
    inside = container_link(container, network)
    if inside is None or inside.peer_index is None:
        return None
    return by_index(links(None) if host_links is None else host_links, inside.peer_index)


def host_veth(container: Container, network: Network) -> str:
    """The host's end of ``container``'s veth on ``network`` (what ``brctl show`` lists).

    A ValueError when the container has no veth holding its address on ``network``.

    Example:
        ```python
        trace = dockernet.trace(c1, c2)
        assert [hop.interface for hop in trace.request][:2] == ["eth0", host_veth(c1, net)]
        ```
    """
    port = host_port(container, network)
    if port is None:
        raise ValueError(f"{container} has no veth holding {_address_on(container, network)}")
    return port.name
