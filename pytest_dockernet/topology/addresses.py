"""The addresses a container gets on each network: the ones the test asked for, checked, else
the lowest free ones, so that they are known before Docker starts it.

On a dual-stack network a container gets an address of each family; without a static IPv6
address it takes the one that mirrors its IPv4 address (``10.199.3.5`` and ``…::5``), so a
reader sees at once which belong together. Example::

    plan = plan_addresses(ctx, "h1", {lan: ("10.199.3.5", "fd64:6e65:7400:1::5")})
    plan.v4   # [(lan, IPv4Address('10.199.3.5'))]
    plan.v6   # {lan: IPv6Address('fd64:6e65:7400:1::5')}
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from .. import addressing
from ..errors import DockernetError
from ..model import Container, Network
from ..model.arguments import AddressArg
from ..observe.links import tentative
from ..retry import NotYet, wait_until
from .context import BuildContext


@dataclass
class AddressPlan:
    """Each network with the container's IPv4 address (None where Docker picks it: a network
    the plugin did not create; and on an IPv6-only network), in order, and its IPv6 address on
    each network with IPv6."""

    v4: list[tuple[Network, ipaddress.IPv4Address | None]] = field(default_factory=list)
    v6: dict[Network, ipaddress.IPv6Address] = field(default_factory=dict)


def _split(value: AddressArg, what: str) -> tuple[object | None, object | None]:
    """A static address as (IPv4, IPv6): one str of either family, or a pair (IPv4, IPv6)."""
    if isinstance(value, tuple):
        if len(value) != 2:
            raise ValueError(
                f"{what}: {value!r} must be a pair (IPv4 address, IPv6 address), e.g. "
                "('10.199.3.5', 'fd64:6e65:7400:1::5')"
            )
        return value[0], value[1]
    if isinstance(value, ipaddress.IPv6Address) or (isinstance(value, str) and ":" in value):
        return None, value
    return value, None


def plan_addresses(
    ctx: BuildContext, name: str, wanted: Mapping[Network, AddressArg]
) -> AddressPlan:
    """Each network with its addresses: those asked for, checked (inside the subnet, not the
    gateway, free); else the lowest free ones, as Docker would pick. On a network the plugin
    did not create, Docker picks them."""
    plan = AddressPlan()
    containers = list(ctx.registry.containers.values())
    for net, value in wanted.items():
        if ctx.registry.networks.get(net.alias) is not net:
            raise ValueError(
                f"container {name!r}: {net} belongs to another DockerNet (the session's, a "
                f"Compose stack's): join it as dockernet.existing_network({net.name!r})"
            )
        what = f"address of {name!r} on {net.alias!r}"
        v4, v6 = _split(value, what)
        if v6 is not None and net.subnet6 is None:
            raise ValueError(
                f"{what}: {v6} is an IPv6 address, and {net} has no IPv6: create it with "
                "ipv6=True (or subnet6=...)"
            )
        if net.subnet is None:  # IPv6-only
            if v4 is not None:
                raise ValueError(
                    f"{what}: {v4} is an IPv4 address, and {net} is IPv6-only: give an IPv6 address"
                )
            ip = None
        elif v4 is None:
            taken = {c.addresses.get(net) for c in containers}
            ip = None if net.existing else _first_free(net, net.subnet.hosts(), net.gateway, taken)
        else:
            ip = _static(addressing.parse_address(v4, what), net, net.subnet, net.gateway, what)
            _check_free(ip, net, {c: c.addresses.get(net) for c in containers})
        plan.v4.append((net, ip))
        if net.subnet6 is None or net.gateway6 is None or (net.existing and v6 is None):
            continue
        taken6 = {c: c.addresses6.get(net) for c in containers}
        if v6 is None:
            mirrored = (
                None if ip is None or net.subnet is None else _mirror(ip, net.subnet, net.subnet6)
            )
            free = mirrored not in taken6.values() and mirrored != net.gateway6
            ip6 = (
                mirrored
                if mirrored is not None and free
                else _first_free(net, net.subnet6.hosts(), net.gateway6, set(taken6.values()))
            )
        else:
            ip6 = _static(addressing.parse_address6(v6, what), net, net.subnet6, net.gateway6, what)
            _check_free(ip6, net, taken6)
        plan.v6[net] = ip6
    return plan


DAD_TIMEOUT = 5.0
"""Seconds an IPv6 address may stay tentative before the container or upstream is refused."""


def wait_for_dad(pid: int | None, who: str, ifname: str | None = None) -> None:
    """Until no IPv6 address of ``who`` (the namespace of ``pid``; only ``ifname``'s, when
    given) is tentative: Docker leaves a container's link-local address in duplicate address
    detection for about 2 s, during which nothing is routed to or from it, and a verdict
    would be about that moment rather than the topology.

    E.g. ``wait_for_dad(c.pid, str(c))`` right after a container on an IPv6 network started.
    """

    def settled() -> bool | NotYet:
        left = tentative(pid, ifname)
        return not left or NotYet(f"tentative: {', '.join(left)}")

    wait_until(settled, DAD_TIMEOUT, f"the IPv6 addresses of {who} to leave DAD", interval=0.05)


def _static(
    ip: addressing.A, net: Network, subnet: addressing.IPNetwork, gateway: object, what: str
) -> addressing.A:
    addressing.check_host_address(ip, subnet, what)
    if ip == gateway:
        raise ValueError(f"{what}: {ip} is the network's gateway: pick another")
    return ip


def _check_free(
    ip: addressing.IPAddress, net: Network, held: Mapping[Container, addressing.IPAddress | None]
) -> None:
    holder = next((c for c, address in held.items() if address == ip), None)
    if holder is not None:
        raise ValueError(
            f"address {ip} on {net.alias!r} is already taken by {holder}: pick another"
        )


def _mirror(
    ip: ipaddress.IPv4Address, subnet: ipaddress.IPv4Network, subnet6: ipaddress.IPv6Network
) -> ipaddress.IPv6Address:
    """The IPv6 address with the host part of ``ip``: 10.199.3.5 on a /24 is ``…::5``."""
    return subnet6.network_address + (int(ip) - int(subnet.network_address))


def _first_free(
    net: Network,
    hosts: Iterable[addressing.A],
    gateway: object,
    taken: Collection[addressing.IPAddress | None],
) -> addressing.A:
    """The first of a subnet's ``hosts`` that is neither the gateway nor taken."""
    for host in hosts:
        if host != gateway and host not in taken:
            return host
    raise DockernetError(
        f"network {net.alias!r} ({net.subnets}) has no free address left: give it a larger subnet"
    )
