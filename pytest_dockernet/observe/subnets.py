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

from .routes import DEFAULT, routes


@dataclass(frozen=True)
class Occupant:
    """A subnet already in use on this machine, and who uses it (for the error message)."""

    subnet: ipaddress.IPv4Network
    owner: str


def docker_subnets(client: docker.DockerClient) -> list[Occupant]:
    """The IPv4 subnets of every Docker network on the engine."""
    found: list[Occupant] = []
    for net in client.api.networks():
        for config in (net.get("IPAM") or {}).get("Config") or []:
            subnet = config.get("Subnet", "")
            if subnet and ":" not in subnet:
                owner = f"Docker network {net['Name']!r}"
                found.append(Occupant(ipaddress.IPv4Network(subnet), owner))
    return found


def occupied(client: docker.DockerClient) -> list[Occupant]:
    """Subnets of every Docker network on the engine and every non-default host route."""
    found = docker_subnets(client)
    for route in routes(None):
        if route.dst != DEFAULT:
            found.append(Occupant(route.dst, f"host route '{route}'"))
    return found


def clash(subnet: ipaddress.IPv4Network, used: Iterable[Occupant]) -> Occupant | None:
    return next((o for o in used if o.subnet.overlaps(subnet)), None)
