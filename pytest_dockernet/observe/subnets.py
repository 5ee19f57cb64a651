"""The subnets already in use on this machine: every Docker network's and every host route's.

Example::

    used = occupied(client)
    clash(ipaddress.IPv4Network("10.0.0.0/24"), used)   # the Occupant it overlaps, or None
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

import docker

from ..addressing import IPNetwork
from .routes import routes

_LINK_LOCAL6 = ipaddress.IPv6Network("fe80::/10")
_MULTICAST6 = ipaddress.IPv6Network("ff00::/8")


@dataclass(frozen=True)
class Occupant:
    """A subnet already in use on this machine, and who uses it (for the error message)."""

    subnet: IPNetwork
    owner: str


def docker_subnets(client: docker.DockerClient, family: int = 4) -> list[Occupant]:
    """The subnets of one family (IPv4, or IPv6 with ``family=6``) of every Docker network on
    the engine."""
    found: list[Occupant] = []
    for net in client.api.networks():
        for config in (net.get("IPAM") or {}).get("Config") or []:
            subnet = config.get("Subnet", "")
            if subnet and (":" in subnet) == (family == 6):
                owner = f"Docker network {net['Name']!r}"
                found.append(Occupant(ipaddress.ip_network(subnet), owner))
    return found


def occupied(client: docker.DockerClient, family: int = 4) -> list[Occupant]:
    """Subnets of one family of every Docker network on the engine and every host route but
    the default (and, over IPv6, the link-local and multicast ones every interface has)."""
    found = docker_subnets(client, family)
    for route in routes(None, family=family):
        if route.is_default or (
            isinstance(route.dst, ipaddress.IPv6Network)
            and any(route.dst.subnet_of(s) for s in (_LINK_LOCAL6, _MULTICAST6))
        ):
            continue
        found.append(Occupant(route.dst, f"host route '{route}'"))
    return found


def clash(subnet: IPNetwork, used: Iterable[Occupant]) -> Occupant | None:
    """The first of ``used`` that overlaps ``subnet`` (of the same family), or None."""
    return next(
        (o for o in used if o.subnet.version == subnet.version and o.subnet.overlaps(subnet)),
        None,
    )
