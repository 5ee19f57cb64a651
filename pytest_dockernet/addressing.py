"""Subnets and addresses as values: parsing the test's input, and the candidates of a pool.

What is already in use on this machine is read by ``observe.subnets``: every subnet the plugin
uses is checked against it before Docker sees it, so a clash is reported with both names
instead of a Docker error. Example::

    parse_subnet("10.231.1.0/24")          # IPv4Network('10.231.1.0/24')
    next(candidates(parse_subnet(DEFAULT_POOL), DEFAULT_PREFIX))
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterator

DEFAULT_POOL = "10.199.0.0/16"
DEFAULT_ROUTE = ipaddress.IPv4Network("0.0.0.0/0")
"""The destination of a default route."""
DEFAULT_PREFIX = 24


def parse_subnet(value: object, what: str = "subnet") -> ipaddress.IPv4Network:
    if isinstance(value, ipaddress.IPv4Network):
        return value
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str like '10.231.1.0/24', got {type(value).__name__}")
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(
            f"{what} {value!r} is not an IPv4 network: {exc}; write it as address/prefix with "
            "no host bits set, e.g. '10.231.1.0/24'"
        ) from None


def parse_address(value: object, what: str = "address") -> ipaddress.IPv4Address:
    if isinstance(value, ipaddress.IPv4Address):
        return value
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str like '10.231.1.4', got {type(value).__name__}")
    try:
        return ipaddress.IPv4Address(value)
    except ValueError:
        raise ValueError(f"{what} {value!r} is not an IPv4 address, e.g. '10.231.1.4'") from None


def check_host_address(
    ip: ipaddress.IPv4Address, subnet: ipaddress.IPv4Network, what: str
) -> ipaddress.IPv4Address:
    """``ip`` must be a usable host address of ``subnet`` (not its network or broadcast)."""
    if ip not in subnet:
        raise ValueError(f"{what} {ip} is outside the subnet {subnet}: pick one inside it")
    if subnet.prefixlen < 31 and ip in (subnet.network_address, subnet.broadcast_address):
        raise ValueError(
            f"{what} {ip} is the network or broadcast address of {subnet}: pick a host address"
        )
    return ip


def candidates(pool: ipaddress.IPv4Network, prefix: int) -> Iterator[ipaddress.IPv4Network]:
    """The pool's subnets of ``prefix`` length, from a random start so parallel runs spread out."""
    if prefix < pool.prefixlen:
        raise ValueError(f"subnet prefix /{prefix} is larger than the pool {pool}")
    subnets = list(pool.subnets(new_prefix=prefix))
    start = random.randrange(len(subnets))
    yield from subnets[start:] + subnets[:start]
