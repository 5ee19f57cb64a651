"""Subnets and addresses as values: parsing the test's input, and the candidates of a pool.

What is already in use on this machine is read by ``observe.subnets``: every subnet the plugin
uses is checked against it before Docker sees it, so a clash is reported with both names
instead of a Docker error. Example::

    parse_subnet("10.231.1.0/24")          # IPv4Network('10.231.1.0/24')
    parse_subnet6("fd64:6e65:7400:1::/64")   # IPv6Network('fd64:6e65:7400:1::/64')
    next(candidates(parse_subnet(DEFAULT_POOL), DEFAULT_PREFIX))
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterator
from typing import TypeAlias, TypeVar

N = TypeVar("N", ipaddress.IPv4Network, ipaddress.IPv6Network)
A = TypeVar("A", ipaddress.IPv4Address, ipaddress.IPv6Address)

DEFAULT_POOL = "10.199.0.0/16"
DEFAULT_ROUTE = ipaddress.IPv4Network("0.0.0.0/0")
"""The destination of a default route."""
DEFAULT_PREFIX = 24
DEFAULT_POOL6 = "fd64:6e65:7400::/48"
"""The IPv6 pool (``--dockernet-pool6``): a ULA /48, so nothing of it is routed off the host."""
DEFAULT_PREFIX6 = 64
"""Each IPv6 subnet from the pool is a /64, the size SLAAC and Docker's own pools use."""
DEFAULT_ROUTE6 = ipaddress.IPv6Network("::/0")
"""The destination of an IPv6 default route."""
IPAddress: TypeAlias = "ipaddress.IPv4Address | ipaddress.IPv6Address"
IPNetwork: TypeAlias = "ipaddress.IPv4Network | ipaddress.IPv6Network"


V = TypeVar(
    "V", ipaddress.IPv4Network, ipaddress.IPv6Network, ipaddress.IPv4Address, ipaddress.IPv6Address
)
_EXAMPLES = {
    ipaddress.IPv4Network: ("an IPv4 network", "10.231.1.0/24"),
    ipaddress.IPv6Network: ("an IPv6 network", "fd64:6e65:7400:1::/64"),
    ipaddress.IPv4Address: ("an IPv4 address", "10.231.1.4"),
    ipaddress.IPv6Address: ("an IPv6 address", "fd64:6e65:7400:1::4"),
}


def _parsed(value: object, what: str, kind: type[V]) -> V:
    """``value`` as a ``kind``: passed through when it is one, read when it is a str; a
    TypeError or ValueError naming ``what``, the value and the form it takes otherwise."""
    if isinstance(value, kind):
        return value
    noun, example = _EXAMPLES[kind]
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str like {example!r}, got {type(value).__name__}")
    try:
        return kind(value)  # a network is read strictly: host bits set are an error
    except ValueError as exc:
        if kind in (ipaddress.IPv4Network, ipaddress.IPv6Network):
            raise ValueError(
                f"{what} {value!r} is not {noun}: {exc}; write it as address/prefix with no "
                f"host bits set, e.g. {example!r}"
            ) from None
        raise ValueError(f"{what} {value!r} is not {noun}, e.g. {example!r}") from None


def parse_subnet(value: object, what: str = "subnet") -> ipaddress.IPv4Network:
    """An IPv4 subnet, e.g. ``parse_subnet("10.231.1.0/24")``."""
    return _parsed(value, what, ipaddress.IPv4Network)


def parse_address(value: object, what: str = "address") -> ipaddress.IPv4Address:
    """An IPv4 address, e.g. ``parse_address("10.231.1.4")``."""
    return _parsed(value, what, ipaddress.IPv4Address)


def parse_subnet6(value: object, what: str = "subnet6") -> ipaddress.IPv6Network:
    """An IPv6 subnet, e.g. ``parse_subnet6("fd64:6e65:7400:1::/64")``."""
    return _parsed(value, what, ipaddress.IPv6Network)


def parse_address6(value: object, what: str = "address") -> ipaddress.IPv6Address:
    """An IPv6 address, e.g. ``parse_address6("fd64:6e65:7400:1::4")``."""
    return _parsed(value, what, ipaddress.IPv6Address)


def parse_any_address(value: object, what: str = "address") -> IPAddress:
    """An IPv4 or IPv6 address: a str with a colon is read as IPv6.

    >>> parse_any_address("fd64:6e65:7400:1::4")
    IPv6Address('fd64:6e65:7400:1::4')
    """
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return value
    if isinstance(value, str) and ":" in value:
        return parse_address6(value, what)
    return parse_address(value, what)


def check_host_address(ip: A, subnet: IPNetwork, what: str) -> A:
    """``ip`` must be a usable host address of ``subnet`` (not its network or broadcast)."""
    if ip.version != subnet.version or ip not in subnet:
        raise ValueError(f"{what} {ip} is outside the subnet {subnet}: pick one inside it")
    if ip.version == 6:
        if ip == subnet.network_address:
            raise ValueError(
                f"{what} {ip} is the subnet-router anycast address of {subnet}: pick a host address"
            )
        return ip
    if subnet.prefixlen < 31 and ip in (subnet.network_address, subnet.broadcast_address):
        raise ValueError(
            f"{what} {ip} is the network or broadcast address of {subnet}: pick a host address"
        )
    return ip


def candidates(pool: N, prefix: int) -> Iterator[N]:
    """The pool's subnets of ``prefix`` length, from a random start so parallel runs spread out
    (IPv4 or IPv6: a /48 holds 65536 /64s, computed one at a time)."""
    if prefix < pool.prefixlen:
        raise ValueError(f"subnet prefix /{prefix} is larger than the pool {pool}")
    count = 1 << (prefix - pool.prefixlen)
    size = 1 << (pool.max_prefixlen - prefix)
    start = random.randrange(count)
    base = int(pool.network_address)
    for i in range(count):
        index = (start + i) % count
        yield type(pool)((base + index * size, prefix))
