"""The arguments a test passes, as types, and their checks: the factory and the assertions read
a destination, a gateway or a list of networks the same way.

Example::

    check_timeout(1.0)              # 1.0
    parse_destination("default")    # IPv4Network('0.0.0.0/0')
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping, Sequence
from typing import TypeAlias

from .. import addressing
from . import Container, Network, Upstream

AddressArg: TypeAlias = (
    "str | ipaddress.IPv4Address | ipaddress.IPv6Address | tuple[str | ipaddress.IPv4Address, "
    "str | ipaddress.IPv6Address] | None"
)
"""A static address on one network: IPv4, IPv6, or a pair (IPv4, IPv6) on a dual-stack one;
None lets the plugin pick."""
NetworksArg: TypeAlias = "Network | Sequence[Network] | Mapping[Network, AddressArg]"
ViaArg: TypeAlias = "str | ipaddress.IPv4Address | ipaddress.IPv6Address | Container"
HostBinding: TypeAlias = (
    "int | tuple[str | ipaddress.IPv4Address | ipaddress.IPv6Address, int | None]"
)
PortsArg: TypeAlias = "Mapping[int | str, HostBinding | None]"
"""``ports=``: container port (an int is TCP, or Docker's ``"8080/udp"``) to the host port
(None: Docker picks one), or to ``(host_ip, host_port or None)``; ``host_ip`` is an address of
either family (``"::1"`` binds IPv6 loopback only)."""
AliasesArg: TypeAlias = "Sequence[str] | Mapping[Network, Sequence[str]]"
"""``aliases=``: more names a container answers to in Docker's DNS, on every network (a list)
or on some (``{net: [names]}``)."""
Destination: TypeAlias = (
    "Container | Upstream | str | ipaddress.IPv4Address | ipaddress.IPv6Address"
)
"""What a probe may target: a container, an upstream, a name, or an address."""


def need(value: object, kind: type, what: str) -> None:
    """A TypeError naming ``what`` when ``value`` is not a ``kind``."""
    if not isinstance(value, kind):
        raise TypeError(f"{what} must be a {kind.__name__}, got {type(value).__name__}: {value!r}")


def probe_source(src: object) -> Container:
    """The container a probe from ``src`` runs in: a Container, or an Upstream's own (a
    neighbour on the host's LAN, with routes the test gave it); a TypeError for anything else.

    Example::

        probe_source(internet) is internet.container  # True
    """
    if isinstance(src, Upstream):
        return src.container
    if not isinstance(src, Container):
        raise TypeError(
            f"src must be a Container or an Upstream, got {type(src).__name__}: {src!r}"
        )
    return src


def check_timeout(timeout: object) -> float:
    """A finite, positive number of seconds (nan would end a wait at once: a false verdict)."""
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return float(timeout)


def check_family(family: object) -> int:
    """``family=``: 4 or 6, the IP version of a probe (``check_family(6)`` is 6)."""
    if isinstance(family, int) and not isinstance(family, bool) and family in (4, 6):
        return family
    raise ValueError(f"family must be 4 or 6, got {family!r}")


MTU_RANGE = (68, 65535)
"""IPv4's smallest MTU and the largest a Linux bridge takes."""


def check_mtu(mtu: object, what: str = "mtu") -> int:
    """An MTU in bytes: an int in :data:`MTU_RANGE` (``check_mtu(1400)`` is 1400)."""
    if isinstance(mtu, bool) or not isinstance(mtu, int):
        raise TypeError(f"{what} must be an int, got {mtu!r}")
    low, high = MTU_RANGE
    if not low <= mtu <= high:
        raise ValueError(f"{what}={mtu} is outside {low}..{high}: pick an MTU in that range")
    return mtu


def check_count(count: object) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive int, got {count!r}")
    return count


def parse_destination(dst: object, family: int = 4) -> addressing.IPNetwork:
    """A route destination: "default" (IPv6's ``::/0`` with ``family=6``) or a CIDR of either
    family (a bare address means a /32, or a /128)."""
    if isinstance(dst, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return dst
    if isinstance(dst, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return ipaddress.ip_network(dst)
    if dst == "default":
        return addressing.DEFAULT_ROUTE if check_family(family) == 4 else addressing.DEFAULT_ROUTE6
    if not isinstance(dst, str):
        raise TypeError(f"route destination must be 'default' or a CIDR str, got {dst!r}")
    if ":" in dst:
        return addressing.parse_subnet6(dst, "route destination")
    return addressing.parse_subnet(dst, "route destination")


def gateway_of(
    via: ViaArg, on: Sequence[Network] | None, who: str, family: int = 4
) -> addressing.IPAddress:
    """The address ``via`` names as a gateway for ``who``, which is on networks ``on``.

    A Container means its address (``family=6``: its IPv6 address) on the first of ``on``
    that it shares; for the host (``on`` None), its only address.
    """
    if not isinstance(via, Container):
        return addressing.parse_any_address(via, "via")
    held: Mapping[Network, addressing.IPAddress] = via.addresses if family == 4 else via.addresses6
    if on is None:
        addresses = list(held.values())
        if len(addresses) != 1:
            raise ValueError(
                f"via={via} is ambiguous for {who}: it has {len(addresses)} addresses; "
                "pass the address"
            )
        return addresses[0]
    shared = [n for n in on if n in held]
    if not shared:
        with_ipv6 = "" if family == 4 else " with IPv6"
        raise ValueError(
            f"via={via} shares no network{with_ipv6} with {who} ({who} is on "
            f"{', '.join(n.alias for n in on) or 'none'}; {via.alias!r} on "
            f"{', '.join(n.alias for n in via.addresses) or 'none'}): put them on a common "
            "network, or pass an address"
        )
    return held[shared[0]]


def normalise_networks(networks: NetworksArg, what: str) -> dict[Network, AddressArg]:
    """``networks=`` as ``{Network: static address or None}``, in the order given."""
    if isinstance(networks, Network):
        return {networks: None}
    if isinstance(networks, Mapping):
        result: dict[Network, AddressArg] = dict(networks)
    elif isinstance(networks, (list, tuple)):
        result = dict.fromkeys(networks)
        if len(result) != len(networks):
            raise ValueError(f"{what}: a network is listed twice in networks={networks!r}")
    else:
        raise TypeError(
            f"{what}: networks= takes a Network, a list of them or a dict "
            f"{{Network: ip or None}}, got {type(networks).__name__}"
        )
    for net in result:
        if not isinstance(net, Network):
            raise TypeError(f"{what}: networks= holds {net!r}, which is not a Network")
    if not result:
        raise ValueError(f"{what}: networks= is empty; give at least one Network")
    return result


_ALIAS = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,252}")


def normalise_aliases(
    aliases: object, networks: Sequence[Network], what: str
) -> dict[Network, tuple[str, ...]]:
    """``aliases=`` as names per network: a list holds on every one of ``networks``; a mapping
    names networks the container is on.

    Example:
        ```python
        normalise_aliases(["db"], [lan, admin], "container 'db'")
        # {lan: ('db',), admin: ('db',)}
        ```
    """
    if aliases is None:
        return {}
    if isinstance(aliases, Mapping):
        wanted = dict(aliases)
    elif isinstance(aliases, Sequence) and not isinstance(aliases, (str, bytes)):
        wanted = dict.fromkeys(networks, aliases)
    else:
        raise TypeError(
            f"{what}: aliases must be a list of names or {{network: [names]}}, got {aliases!r}"
        )
    named: dict[Network, tuple[str, ...]] = {}
    for net, names in wanted.items():
        need(net, Network, f"{what}: each key of aliases")
        if net not in networks:
            on = ", ".join(repr(n.alias) for n in networks) or "no network"
            raise ValueError(
                f"{what}: aliases name network {net.alias!r}, which it is not on (it is on "
                f"{on}): add the network to its networks, or drop it from aliases"
            )
        if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
            raise TypeError(f"{what}: the aliases on {net.alias!r} must be a list, got {names!r}")
        for name in names:
            if not isinstance(name, str) or not _ALIAS.fullmatch(name):
                raise ValueError(
                    f"{what}: alias {name!r} is not a name Docker's DNS answers: 1-253 letters, "
                    "digits, '_', '.' or '-', starting with a letter or digit"
                )
        named[net] = tuple(names)
    return named
